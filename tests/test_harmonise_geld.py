"""Spending and flows in out.gemeente_periode: harmonised like the client counts, rates
recomputed, unknown parts unknown, known national totals kept (tiny inline frames)."""

from __future__ import annotations

import polars as pl
import pytest

from etl.gemeenten import gemeente_history, harmonisation_map
from etl.transform import harmonise
from etl.transform.stroom import BEEINDIGING_SCHEMA, STROOM_SCHEMA
from etl.transform.uitgaven import UITGAVEN_SCHEMA
from tests.test_harmonise import CURRENT, HERINDELINGEN, PER_JAAR

GEMEENTE = gemeente_history(CURRENT, HERINDELINGEN)
WMO_SCHEMA = {"gemeente_code": pl.Utf8, "periode_code": pl.Utf8, "jaar": pl.Int32,
              "halfjaar": pl.Int8, "voorziening_code": pl.Utf8, "voorziening": pl.Utf8,
              "clienten": pl.Float64, "status": pl.Utf8, "bron_tabel": pl.Utf8}
BEV_SCHEMA = {"gemeente_code": pl.Utf8, "jaar": pl.Int32, "inwoners": pl.Int64,
              "inwoners_75plus": pl.Int64}


def clients(rows: list[tuple[str, int, float | None, float | None]]) -> pl.DataFrame:
    """(code, jaar, totaal, hbh) -> whole-year and first-half rows of both voorzieningen."""
    out = []
    for code, jaar, totaal, hbh in rows:
        for periode, half in ((f"{jaar}JJ00", None), (f"{jaar}HJ01", 1)):
            out.append((code, periode, jaar, half, "T001024", "Totaal", totaal, "definitief", "X"))
            out.append((code, periode, jaar, half, "A019507", "Hulp bij het huishouden", hbh,
                        "definitief", "X"))
    return pl.DataFrame(out, schema=WMO_SCHEMA, orient="row")


def spending(rows: list[tuple[str, int, int | None, int | None]]) -> pl.DataFrame:
    """(code, jaar, totaal euro, hbh euro); the 84580NED keys are unknown, titles decide."""
    out = []
    for code, jaar, totaal, hbh in rows:
        out.append((code, jaar, "X1", "Totaal", None, totaal, None, None, "definitief",
                    "84580NED"))
        out.append((code, jaar, "X2", "Hulp bij het huishouden", None, hbh, None, None,
                    "definitief", "84580NED"))
        out.append((code, jaar, "X3", "Totaal exclusief verblijf en opvang", None, 1, None,
                    None, "definitief", "84580NED"))
    return pl.DataFrame(out, schema=UITGAVEN_SCHEMA, orient="row")


def flows(rows: list[tuple[str, int, int | None, int | None]]) -> pl.DataFrame:
    """(code, jaar, hbh instroom, hbh uitstroom), whole years, plus a half-year decoy."""
    out = []
    for code, jaar, instroom, uitstroom in rows:
        out.append((code, f"{jaar}JJ00", jaar, None, "A019507", "Hulp bij het huishouden",
                    None, instroom, uitstroom, "definitief", "86051NED"))
        out.append((code, f"{jaar}HJ01", jaar, 1, "A019507", "Hulp bij het huishouden",
                    None, 999_999, 999_999, "definitief", "86051NED"))
        out.append((code, f"{jaar}JJ00", jaar, None, "T001024", "Totaal", None, 777_777,
                    777_777, "definitief", "86051NED"))
    return pl.DataFrame(out, schema=STROOM_SCHEMA, orient="row")


def reasons(rows: list[tuple[str, int, int | None]]) -> pl.DataFrame:
    out = []
    for code, jaar, gemeente in rows:
        out.append((code, f"{jaar}JJ00", jaar, None, "R16", "Geïnitieerd  door de gemeente",
                    gemeente, None, "definitief", "86061NED"))
        out.append((code, f"{jaar}JJ00", jaar, None, "T001019", "Totaal", 50_000, None,
                    "definitief", "86061NED"))
    return pl.DataFrame(out, schema=BEEINDIGING_SCHEMA, orient="row")


def run(wmo: pl.DataFrame, bev: list[tuple[str, int, int]] | None = None,
        uitgaven: pl.DataFrame | None = None, stroom: pl.DataFrame | None = None,
        beeindiging: pl.DataFrame | None = None) -> pl.DataFrame:
    bevolking = pl.DataFrame([(c, j, n, None) for c, j, n in bev or []], schema=BEV_SCHEMA,
                             orient="row")
    bezwaar = pl.DataFrame(schema={"gemeente_code": pl.Utf8, "jaar": pl.Int32,
                                   "domein": pl.Utf8, "bezwaren_ontvangen": pl.Int64,
                                   "is_synthetisch": pl.Boolean})
    return harmonise.gemeente_periode(
        wmo=wmo, bevolking=bevolking, gemeente=GEMEENTE,
        mapping=harmonisation_map(HERINDELINGEN), reference_year=2026,
        werkwijze_jaar=pl.DataFrame(schema=PER_JAAR),
        werkwijze_jaar_sterk=pl.DataFrame(schema=PER_JAAR), bezwaar=bezwaar,
        is_synthetisch=True, uitgaven=uitgaven, stroom=stroom, beeindiging=beeindiging)


def year_row(out: pl.DataFrame, code: str, jaar: int, voorziening: str = "T001024") -> dict:
    found = out.filter(pl.col("gemeente_code") == code, pl.col("jaar") == jaar,
                       pl.col("halfjaar").is_null(), pl.col("voorziening_code") == voorziening)
    assert found.height == 1
    return found.row(0, named=True)


def test_merged_gemeenten_sum_spending_and_rates_are_recomputed() -> None:
    out = run(clients([("GM0010", 2018, 300, 100), ("GM0011", 2018, 200, 60)]),
              [("GM0010", 2018, 1000), ("GM0011", 2018, 4000)],
              spending([("GM0010", 2018, 900_000, 300_000), ("GM0011", 2018, 600_000, 100_000)]))
    row = year_row(out, "GM0001", 2018)
    assert row["uitgaven_gerealiseerd"] == 1_500_000
    assert row["uitgaven_gerealiseerd_hbh"] == 400_000
    assert row["uitgaven_per_inwoner"] == pytest.approx(1_500_000 / 5000)
    assert row["uitgaven_hbh_per_inwoner"] == pytest.approx(400_000 / 5000)
    # Per client from the summed parts (2 500), not the mean of 3 000 and 1 667.
    assert row["uitgaven_hbh_per_client"] == pytest.approx(400_000 / 160)
    # The yearly figures are on every voorziening row of the year and on no half-year row.
    assert year_row(out, "GM0001", 2018, "A019507")["uitgaven_hbh_per_client"] == \
        row["uitgaven_hbh_per_client"]
    halves = out.filter(pl.col("halfjaar").is_not_null())
    assert halves.height > 0 and halves["uitgaven_gerealiseerd"].null_count() == halves.height


def test_an_unknown_part_makes_the_harmonised_spending_unknown() -> None:
    out = run(clients([("GM0010", 2018, 300, 100), ("GM0011", 2018, 200, 60)]),
              [("GM0010", 2018, 1000), ("GM0011", 2018, 4000)],
              spending([("GM0010", 2018, 900_000, 300_000), ("GM0011", 2018, 600_000, None)]))
    row = year_row(out, "GM0001", 2018)
    assert row["uitgaven_gerealiseerd"] == 1_500_000
    assert row["uitgaven_gerealiseerd_hbh"] is None
    assert row["uitgaven_hbh_per_inwoner"] is None and row["uitgaven_hbh_per_client"] is None


def test_per_client_is_null_when_the_clients_are_unknown() -> None:
    out = run(clients([("GM0003", 2022, 400, None)]), [("GM0003", 2022, 9000)],
              spending([("GM0003", 2022, 800_000, 200_000)]))
    row = year_row(out, "GM0003", 2022)
    assert row["uitgaven_hbh_per_inwoner"] == pytest.approx(200_000 / 9000)
    assert row["uitgaven_hbh_per_client"] is None
    # And no spending row at all: every spending column unknown, never 0.
    none = run(clients([("GM0003", 2022, 400, 100)]), [("GM0003", 2022, 9000)])
    row = year_row(none, "GM0003", 2022)
    assert row["uitgaven_gerealiseerd"] is None and row["uitgaven_hbh_per_client"] is None


def test_split_keeps_the_national_total_of_the_known_parts() -> None:
    published = [("GM0012", 2020, 400_000, 40_000), ("GM0003", 2020, 100_000, 10_000),
                 ("GM0004", 2020, 200_000, 20_000), ("GM0001", 2020, 110_000, None),
                 ("GM0010", 2020, None, None)]   # dissolved: a structural empty row
    out = run(clients([("GM0012", 2020, 40, 10), ("GM0003", 2020, 10, 5),
                       ("GM0004", 2020, 20, 5), ("GM0001", 2020, 11, 2)]),
              uitgaven=spending(published))
    totals = {r["gemeente_code"]: r["uitgaven_gerealiseerd"]
              for r in out.filter(pl.col("voorziening_code") == "T001024").to_dicts()}
    assert totals == {"GM0001": 110_000, "GM0003": 200_000, "GM0004": 500_000}
    assert sum(totals.values()) == pytest.approx(
        sum(t for c, _, t, _ in published if t is not None))
    hbh = {r["gemeente_code"]: r["uitgaven_gerealiseerd_hbh"]
           for r in out.filter(pl.col("voorziening_code") == "T001024").to_dicts()}
    assert hbh["GM0001"] is None
    assert hbh["GM0003"] + hbh["GM0004"] == pytest.approx(70_000)


def test_flows_per_1000_inwoners_from_whole_year_household_help() -> None:
    out = run(clients([("GM0010", 2018, 300, 100), ("GM0011", 2018, 200, 60)]),
              [("GM0010", 2018, 1000), ("GM0011", 2018, 4000)],
              stroom=flows([("GM0010", 2018, 20, 15), ("GM0011", 2018, 30, None)]))
    row = year_row(out, "GM0001", 2018)
    assert row["hbh_instroom"] == 50
    assert row["hbh_instroom_per_1000"] == pytest.approx(1000 * 50 / 5000)
    assert row["hbh_uitstroom"] is None and row["hbh_uitstroom_per_1000"] is None


def test_ended_by_the_gemeente_per_1000_clients() -> None:
    out = run(clients([("GM0010", 2018, 300, 100), ("GM0011", 2018, 200, 60),
                       ("GM0003", 2018, 400, 90)]),
              beeindiging=reasons([("GM0010", 2018, 10), ("GM0011", 2018, 5),
                                   ("GM0003", 2018, None)]))
    row = year_row(out, "GM0001", 2018)
    assert row["beeindigd_door_gemeente"] == 15
    assert row["beeindigd_door_gemeente_per_1000_clienten"] == pytest.approx(1000 * 15 / 500)
    blijf = year_row(out, "GM0003", 2018)
    assert blijf["beeindigd_door_gemeente"] is None
    assert blijf["beeindigd_door_gemeente_per_1000_clienten"] is None
