"""Harmonisation over municipal mergers, on tiny inline frames."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from etl.gemeenten import HERINDELING_SCHEMA, gemeente_history, harmonisation_map
from etl.transform import harmonise

CURRENT = pl.DataFrame({
    "gemeente_code": ["GM0001", "GM0003", "GM0004"],
    "gemeente_naam": ["Nieuwstad", "Blijfdorp", "Deelstad"],
    "provincie_code": ["PV20", "PV20", "PV21"],
    "provincie_naam": ["Groningen", "Groningen", "Fryslân"],
})
HERINDELINGEN = pl.DataFrame(
    [
        (date(2019, 1, 1), "GM0010", "Oudstad", "GM0001", "Nieuwstad", "samenvoeging", 1.0, "u"),
        (date(2019, 1, 1), "GM0011", "Dorp", "GM0001", "Nieuwstad", "samenvoeging", 1.0, "u"),
        (date(2021, 1, 1), "GM0012", "Splitdorp", "GM0003", "Blijfdorp", "splitsing", 0.25, "u"),
        (date(2021, 1, 1), "GM0012", "Splitdorp", "GM0004", "Deelstad", "splitsing", 0.75, "u"),
    ],
    schema=HERINDELING_SCHEMA, orient="row",
)


@pytest.fixture()
def gemeente() -> pl.DataFrame:
    return gemeente_history(CURRENT, HERINDELINGEN)


def wmo_rows(rows: list[tuple[str, int, float | None]]) -> pl.DataFrame:
    return pl.DataFrame(
        [(code, f"{jaar}JJ00", jaar, None, "T001024", "Totaal", value, "definitief", "X")
         for code, jaar, value in rows],
        schema={"gemeente_code": pl.Utf8, "periode_code": pl.Utf8, "jaar": pl.Int32,
                "halfjaar": pl.Int8, "voorziening_code": pl.Utf8, "voorziening": pl.Utf8,
                "clienten": pl.Float64, "status": pl.Utf8, "bron_tabel": pl.Utf8},
        orient="row",
    )


PER_JAAR = {"gemeente_code": pl.Utf8, "jaar": pl.Int32, "werkwijze": pl.Utf8}


def run(gemeente: pl.DataFrame, wmo: pl.DataFrame, bev: pl.DataFrame | None = None,
        werkwijze: pl.DataFrame | None = None,
        werkwijze_sterk: pl.DataFrame | None = None) -> pl.DataFrame:
    bev = bev if bev is not None else pl.DataFrame(
        schema={"gemeente_code": pl.Utf8, "jaar": pl.Int32, "inwoners": pl.Int64,
                "inwoners_75plus": pl.Int64})
    werkwijze = werkwijze if werkwijze is not None else pl.DataFrame(schema=PER_JAAR)
    werkwijze_sterk = werkwijze_sterk if werkwijze_sterk is not None else pl.DataFrame(
        schema=PER_JAAR)
    bezwaar = pl.DataFrame(schema={"gemeente_code": pl.Utf8, "jaar": pl.Int32,
                                   "domein": pl.Utf8, "bezwaren_ontvangen": pl.Int64,
                                   "is_synthetisch": pl.Boolean})
    return harmonise.gemeente_periode(
        wmo=wmo, bevolking=bev, gemeente=gemeente, mapping=harmonisation_map(HERINDELINGEN),
        reference_year=2026, werkwijze_jaar=werkwijze, werkwijze_jaar_sterk=werkwijze_sterk,
        bezwaar=bezwaar, is_synthetisch=True)


def test_merger_sums_parts_and_flags_the_row(gemeente: pl.DataFrame) -> None:
    out = run(gemeente, wmo_rows([("GM0010", 2018, 100), ("GM0011", 2018, 50),
                                  ("GM0001", 2018, None), ("GM0001", 2019, 160)]))
    by_year = {r["jaar"]: r for r in out.filter(pl.col("gemeente_code") == "GM0001").to_dicts()}
    assert by_year[2018]["clienten"] == 150
    assert by_year[2018]["is_geharmoniseerd"] is True
    assert by_year[2019]["clienten"] == 160
    assert by_year[2019]["is_geharmoniseerd"] is False


def test_unknown_part_makes_the_sum_unknown(gemeente: pl.DataFrame) -> None:
    out = run(gemeente, wmo_rows([("GM0010", 2018, 100), ("GM0011", 2018, None)]))
    row = out.filter((pl.col("gemeente_code") == "GM0001") & (pl.col("jaar") == 2018))
    assert row["clienten"].to_list() == [None]


def test_missing_part_row_makes_the_sum_unknown(gemeente: pl.DataFrame) -> None:
    # GM0011 existed in 2018 but the table has no row for it: a partial sum would mislead.
    out = run(gemeente, wmo_rows([("GM0010", 2018, 100)]))
    row = out.filter((pl.col("gemeente_code") == "GM0001") & (pl.col("jaar") == 2018))
    assert row["clienten"].to_list() == [None]


def test_split_uses_shares_and_keeps_the_national_total(gemeente: pl.DataFrame) -> None:
    rows = [("GM0012", 2020, 400), ("GM0003", 2020, 100), ("GM0004", 2020, 200),
            ("GM0010", 2020, 7), ("GM0011", 2020, 3), ("GM0001", 2020, 11)]
    out = run(gemeente, wmo_rows(rows))
    values = dict(zip(out["gemeente_code"], out["clienten"], strict=True))
    assert values == {"GM0001": 11, "GM0003": 200.0, "GM0004": 500.0}
    # Only gemeenten of the 2020 classification count: GM0010/11 were gone by then.
    published = sum(v for c, _, v in rows if c not in ("GM0010", "GM0011"))
    assert sum(values.values()) == pytest.approx(published)


def test_dissolved_gemeente_rows_after_its_end_do_not_reach_the_sum(gemeente) -> None:
    # CBS lists GM0010 with NULL for 2019 (dissolved): that structural NULL must not blank GM0001.
    out = run(gemeente, wmo_rows([("GM0010", 2019, None), ("GM0001", 2019, 160)]))
    assert out.filter(pl.col("jaar") == 2019)["clienten"].to_list() == [160]


def test_rates_are_recomputed_from_harmonised_numerator_and_denominator(gemeente) -> None:
    wmo = wmo_rows([("GM0010", 2018, 100), ("GM0011", 2018, 50)])
    bev = pl.DataFrame({"gemeente_code": ["GM0010", "GM0011"], "jaar": [2018, 2018],
                        "inwoners": [1000, 4000], "inwoners_75plus": [100, 300]},
                       schema_overrides={"jaar": pl.Int32})
    row = run(gemeente, wmo, bev).row(0, named=True)
    # 150 clients on 5 000 inwoners = 30 per 1 000; averaging 100 and 12.5 would give 56.25
    assert row["clienten_per_1000"] == pytest.approx(30.0)
    assert row["aandeel_75plus"] == pytest.approx(400 / 5000)


def test_werkwijze_of_a_merged_gemeente_needs_all_parts_to_agree(gemeente) -> None:
    wmo = wmo_rows([("GM0010", 2018, 100), ("GM0011", 2018, 50), ("GM0010", 2017, 90),
                    ("GM0011", 2017, 40)])
    ww = pl.DataFrame({"gemeente_code": ["GM0010", "GM0011", "GM0010"],
                       "jaar": [2018, 2018, 2017], "werkwijze": ["uren", "uren", "uren"]},
                      schema_overrides={"jaar": pl.Int32})
    out = run(gemeente, wmo, werkwijze=ww)
    by_year = dict(zip(out["jaar"], out["werkwijze_hbh"], strict=True))
    assert by_year == {2018: "uren", 2017: None}


def test_strict_werkwijze_is_its_own_column_with_the_same_merger_rule(gemeente) -> None:
    # GM0001 in 2018 is GM0010 + GM0011: strict only when both parts have a strong source.
    # GM0003 stands alone: 2021 has a strong source; in 2022 only a weaker one documents the
    # method, so the strict column stays NULL (unknown) while werkwijze_hbh is known.
    wmo = wmo_rows([("GM0010", 2018, 100), ("GM0011", 2018, 50), ("GM0003", 2021, 10),
                    ("GM0003", 2022, 12)])
    ww = pl.DataFrame({"gemeente_code": ["GM0010", "GM0011", "GM0003", "GM0003"],
                       "jaar": [2018, 2018, 2021, 2022],
                       "werkwijze": ["uren", "uren", "uren", "resultaatgericht"]},
                      schema_overrides={"jaar": pl.Int32})
    sterk = pl.DataFrame({"gemeente_code": ["GM0010", "GM0003"], "jaar": [2018, 2021],
                          "werkwijze": ["uren", "uren"]}, schema_overrides={"jaar": pl.Int32})
    out = run(gemeente, wmo, werkwijze=ww, werkwijze_sterk=sterk)
    got = {(r["gemeente_code"], r["jaar"]): (r["werkwijze_hbh"], r["werkwijze_hbh_sterke_bron"])
           for r in out.to_dicts()}
    assert got == {("GM0001", 2018): ("uren", None), ("GM0003", 2021): ("uren", "uren"),
                   ("GM0003", 2022): ("resultaatgericht", None)}
    assert out.columns.index("werkwijze_hbh_sterke_bron") == out.columns.index(
        "werkwijze_hbh") + 1


def test_least_final_status_wins() -> None:
    frame = pl.DataFrame({"gemeente_code": ["A", "B"], "jaar": [2024, 2024],
                          "clienten": [1.0, 2.0], "status": ["definitief", "voorlopig"]},
                         schema_overrides={"jaar": pl.Int32})
    comp = pl.DataFrame({"jaar": [2024, 2024], "bron_code": ["A", "B"], "doel_code": ["C", "C"],
                         "aandeel": [1.0, 1.0]}, schema_overrides={"jaar": pl.Int32})
    out = harmonise.harmonise_counts(frame, comp, ["jaar"], ["clienten"])
    assert out.to_dicts()[0]["status"] == "voorlopig"
    assert out.to_dicts()[0]["clienten"] == 3.0
