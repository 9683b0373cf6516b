"""Court rulings in `out`: counts per reference gemeente and year, out.uitspraak, and the
national out.uitspraak_jaar, checked against core.uitspraak in real built databases."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest

from etl.cli import main
from etl.settings import load_settings
from etl.sources.rechtspraak.fetch import Politeness, fetch_rechtspraak
from etl.transform.uitspraak import covered_years, periode_frame
from tests.dashboard_fixtures import SNAPSHOT
from tests.rechtspraak_server import RBDHA, RechtspraakServer, content_xml, ruling

TOTAAL = "T001024"
COUNT_SQL = {
    "uitspraken_wmo": "count(*)",
    "uitspraken_client_gelijk": "count(*) FILTER (client_in_het_gelijk)",
    "uitspraken_hbh": "count(*) FILTER (is_hbh)",
    "uitspraken_resultaatgericht": "count(*) FILTER (is_resultaatgericht)",
}
# Every code chained through core.herindeling to the reference classification, shares
# multiplied: written in SQL here so that the test does not reuse the build's own mapping.
MAPPED_SQL = """
WITH RECURSIVE chain(bron, doel, aandeel) AS (
    SELECT gemeente_code, gemeente_code, 1.0 FROM core.gemeente
    UNION ALL
    SELECT c.bron, h.nieuwe_code, c.aandeel * h.aandeel FROM chain c
    JOIN core.herindeling h ON h.oude_code = c.doel
    WHERE h.datum_ingang <= make_date((SELECT referentie_indeling FROM meta.build), 1, 1)
),
final AS (
    SELECT * FROM chain c WHERE NOT EXISTS (
        SELECT 1 FROM core.herindeling h WHERE h.oude_code = c.doel
        AND h.datum_ingang <= make_date((SELECT referentie_indeling FROM meta.build), 1, 1))
)
SELECT f.doel AS gemeente_code, year(u.uitspraakdatum) AS jaar, f.aandeel, u.*
    EXCLUDE (gemeente_code)
FROM core.uitspraak u JOIN final f ON f.bron = u.gemeente_code
WHERE u.is_wmo2015
"""


def _query(db: Path, sql: str) -> pl.DataFrame:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.sql(sql).pl()


def _jaar_rows(db: Path) -> pl.DataFrame:
    return _query(db, "SELECT * FROM out.gemeente_periode WHERE halfjaar IS NULL "
                      f"AND voorziening_code = '{TOTAAL}'")


# --- the demo build -------------------------------------------------------------------------


def test_counts_equal_an_independent_count_from_core(demo_db: Path) -> None:
    aggs = ", ".join(f"sum(aandeel) {sql.removeprefix('count(*)')} AS {name}"
                     for name, sql in COUNT_SQL.items())
    expected = _query(demo_db, f"SELECT gemeente_code, jaar, {aggs} FROM ({MAPPED_SQL}) "
                               "GROUP BY ALL")
    got = _jaar_rows(demo_db)
    joined = got.join(expected.with_columns(pl.col("jaar").cast(pl.Int32)),
                      on=["gemeente_code", "jaar"], how="left", suffix="_sql")
    assert joined.height > 3000 and joined["uitspraken_wmo"].sum() > 800
    for name in COUNT_SQL:
        want = joined[f"{name}_sql"].fill_null(0).round(0).cast(pl.Int64)
        assert joined[name].null_count() == 0  # the demo covers 2015-2025 completely
        assert (joined[name] == want).all(), name
    # A merged gemeente carries its predecessors' rulings (Appingedam, Delfzijl, Loppersum).
    merged = joined.filter(pl.col("is_geharmoniseerd") & (pl.col("uitspraken_wmo") > 0))
    assert merged.height > 10


def test_yearly_columns_on_whole_year_rows_the_same_on_every_voorziening(
        demo_db: Path) -> None:
    rows = _query(demo_db, "SELECT * FROM out.gemeente_periode")
    half = rows.filter(pl.col("halfjaar").is_not_null())
    assert half.height > 0 and half["uitspraken_wmo"].null_count() == half.height
    per = rows.filter(pl.col("halfjaar").is_null()).group_by("gemeente_code", "jaar").agg(
        pl.col("uitspraken_wmo").n_unique().alias("n"), pl.len().alias("rows"))
    assert per["rows"].max() > 1 and per["n"].max() == 1


def test_rate_is_numerator_over_denominator(demo_db: Path) -> None:
    rows = _jaar_rows(demo_db).filter(pl.col("uitspraken_per_10000_clienten").is_not_null())
    assert rows.height > 3000 and (rows["uitspraken_per_10000_clienten"] > 0).any()
    # From the unrounded count: rounding the back-computed count gives the stored one.
    back = rows["uitspraken_per_10000_clienten"] * rows["clienten"] / 10000
    assert ((back - rows["uitspraken_wmo"]).abs() <= 0.5 + 1e-9).all()
    whole = rows.filter(~pl.col("is_geharmoniseerd"))
    assert (whole["uitspraken_per_10000_clienten"]
            - 10000 * whole["uitspraken_wmo"] / whole["clienten"]).abs().max() < 1e-9
    unknown = _jaar_rows(demo_db).filter(pl.col("clienten").is_null()
                                         & pl.col("uitspraken_wmo").is_not_null())
    assert unknown.height > 0 and unknown["uitspraken_per_10000_clienten"].null_count() == \
        unknown.height


def test_out_uitspraak_has_one_row_per_wmo2015_ruling_and_never_links_a_synthetic_one(
        demo_db: Path) -> None:
    core = _query(demo_db, "SELECT * FROM core.uitspraak WHERE is_wmo2015")
    out = _query(demo_db, "SELECT * FROM out.uitspraak")
    assert out.height == core.height > 500 and out["ecli"].n_unique() == out.height
    assert sorted(out["ecli"]) == sorted(core["ecli"])
    assert out["is_synthetisch"].all() and out["url"].null_count() == out.height
    assert out["ecli"].str.contains(":DEMO").all()
    assert core["url"].null_count() == 0  # the core table keeps what the documents say
    # The reference gemeente and werkwijze are those of out.gemeente_periode.
    ref = _query(demo_db, "SELECT DISTINCT gemeente_code, jaar, werkwijze_hbh, gemeente_naam, "
                          "provincie_naam FROM out.gemeente_periode")
    check = out.join(ref, on=["gemeente_code", "jaar"], how="inner", suffix="_gp")
    assert check.height > 500 and check["werkwijze_hbh"].is_not_null().sum() > 0
    for col in ("werkwijze_hbh", "gemeente_naam", "provincie_naam"):
        assert check.filter(pl.col(col).ne_missing(pl.col(f"{col}_gp"))).height == 0, col
    moved = out.filter(pl.col("gemeente_code") != pl.col("gemeente_code_uitspraak"))
    assert moved.height > 0 and moved["gemeente_code"].is_not_null().all()


def test_national_totals_add_up(demo_db: Path) -> None:
    jaar = _query(demo_db, "SELECT * FROM out.uitspraak_jaar ORDER BY jaar")
    core = _query(demo_db, "SELECT year(uitspraakdatum)::INT AS jaar, count(*) AS n "
                           "FROM core.uitspraak WHERE is_wmo2015 GROUP BY 1 ORDER BY 1")
    assert jaar["jaar"].to_list() == core["jaar"].to_list() == list(range(2015, 2026))
    assert jaar["is_opgehaald"].all()
    assert jaar["uitspraken_wmo"].to_list() == core["n"].to_list()
    assert (jaar["uitspraken_toegerekend"] + jaar["uitspraken_niet_toegerekend"]
            == jaar["uitspraken_wmo"]).all()


# --- a real fetch of a handwritten year -----------------------------------------------------

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
RB_FIRST = "Eerste aanleg - enkelvoudig"


def _rechtbank(college: str, topic: str, decision: str) -> tuple[str, ...]:
    return ("RECHTBANK DEN HAAG", "Bestuursrecht", "uitspraak in de zaak tussen",
            "[eiser], te [woonplaats], eiser", "en", f"{college}, verweerder",
            "Procesverloop", "Eiser heeft beroep ingesteld.", "Overwegingen", topic,
            "Beslissing", "De rechtbank:", decision)


HBH = ("Het geschil gaat over een maatwerkvoorziening hulp bij het huishouden op grond van "
       "de Wet maatschappelijke ondersteuning 2015 (Wmo 2015). Het college heeft de hulp bij "
       "het huishouden toegekend met als resultaat een schoon en leefbaar huis, zonder te "
       "bepalen hoeveel uur hulp eiser krijgt.")


def _handwritten(server: RechtspraakServer) -> None:
    appingedam = "ECLI:NL:RBDHA:2019:101"  # Appingedam became part of Eemsdelta in 2021
    regionaal = "ECLI:NL:RBDHA:2019:102"  # a regional body: no single gemeente
    wmo2007 = "ECLI:NL:RBDHA:2019:103"  # mentions the Wmo, applies the Wmo 2007
    server.add(
        ruling(appingedam, date(2019, 5, 3), creator=RBDHA, body=content_xml(
            appingedam, date(2019, 5, 3), creator=RBDHA, procedure=RB_FIRST,
            inhoudsindicatie="Wmo 2015. Hulp bij het huishouden, schoon en leefbaar huis; "
                             "dat verdraagt zich niet met de rechtszekerheid.",
            paragraphs=_rechtbank("het college van burgemeester en wethouders van Appingedam",
                                  HBH, "- verklaart het beroep gegrond;"))),
        ruling(regionaal, date(2019, 8, 20), creator=RBDHA, body=content_xml(
            regionaal, date(2019, 8, 20), creator=RBDHA, procedure=RB_FIRST,
            inhoudsindicatie="Wmo 2015. Maatwerkvoorziening begeleiding.",
            paragraphs=_rechtbank(
                "het dagelijks bestuur van het openbaar lichaam Sociaal Domein Voorbeeld",
                "Het geschil gaat over een maatwerkvoorziening begeleiding op grond van de "
                "Wmo 2015.", "- verklaart het beroep ongegrond."))),
        ruling(wmo2007, date(2019, 10, 1), creator=RBDHA, body=content_xml(
            wmo2007, date(2019, 10, 1), creator=RBDHA, procedure=RB_FIRST,
            inhoudsindicatie="Wmo 2007, compensatieplicht.",
            paragraphs=_rechtbank(
                "het college van burgemeester en wethouders van Delfzijl",
                "Het geschil gaat over de compensatieplicht van de Wet maatschappelijke "
                "ondersteuning 2007 (Wmo 2007).", "- verklaart het beroep gegrond;"))),
    )


@pytest.fixture(scope="module")
def demo_raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    raw = tmp_path_factory.mktemp("uitspraak") / "raw"
    assert main(["demo", "--out", str(raw), "--snapshot", str(SNAPSHOT), "--seed", "3"]) == 0
    return raw


def _without_rulings(demo_raw: Path, tmp_path: Path) -> Path:
    """A raw folder with the demo's other sources and no rechtspraak/."""
    raw = tmp_path / "raw"
    raw.mkdir()
    for part in demo_raw.iterdir():
        if part.name != "rechtspraak":
            (raw / part.name).symlink_to(part, target_is_directory=True)
    return raw


def test_without_the_rulings_source_every_count_is_unknown(demo_raw: Path,
                                                          tmp_path: Path) -> None:
    db = tmp_path / "wmo.duckdb"
    raw = _without_rulings(demo_raw, tmp_path)
    assert main(["build", "--raw", str(raw), "--db", str(db), "--snapshot", str(SNAPSHOT)]) == 0
    rows = _query(db, "SELECT * FROM out.gemeente_periode")
    assert rows.height > 3000 and rows["clienten"].is_not_null().any()
    for name in [*COUNT_SQL, "uitspraken_per_10000_clienten"]:
        assert rows[name].null_count() == rows.height, name  # not fetched: NULL, never 0
    for table in ("out.uitspraak", "out.uitspraak_jaar", "meta.uitspraak_periode"):
        assert _query(db, f"SELECT count(*) AS n FROM {table}")["n"][0] == 0, table


def test_a_fetched_year_counts_under_the_reference_gemeente_and_other_years_are_null(
        rechtspraak_server: RechtspraakServer, demo_raw: Path, tmp_path: Path) -> None:
    _handwritten(rechtspraak_server)
    raw = _without_rulings(demo_raw, tmp_path)
    fetch_rechtspraak(raw, load_settings(), van=date(2019, 1, 1), tot=date(2019, 12, 31),
                      politeness=Politeness(workers=1, pause=0.0, page_size=10), now=NOW)
    db = tmp_path / "wmo.duckdb"
    assert main(["build", "--raw", str(raw), "--db", str(db), "--snapshot", str(SNAPSHOT)]) == 0

    core = _query(db, "SELECT * FROM core.uitspraak ORDER BY ecli")
    assert core["gemeente_code"].to_list() == ["GM0003", None, "GM0010"]
    assert core["is_wmo2015"].to_list() == [True, True, False]
    assert _query(db, "SELECT * FROM meta.uitspraak_periode").rows() == [
        (date(2019, 1, 1), date(2019, 12, 31))]

    rows = _jaar_rows(db)
    y2019 = rows.filter(pl.col("jaar") == 2019)
    eems = y2019.filter(pl.col("gemeente_code") == "GM1979").row(0, named=True)
    assert eems["is_geharmoniseerd"]
    assert (eems["uitspraken_wmo"], eems["uitspraken_client_gelijk"], eems["uitspraken_hbh"],
            eems["uitspraken_resultaatgericht"]) == (1, 1, 1, 1)
    assert eems["uitspraken_per_10000_clienten"] == pytest.approx(10000 / eems["clienten"])
    others = y2019.filter(pl.col("gemeente_code") != "GM1979")
    assert others.height > 300
    for name in COUNT_SQL:
        assert (others[name] == 0).all(), name  # fetched, no ruling: zero, not unknown
    # The Wmo 2007 ruling of Delfzijl (also Eemsdelta now) is not counted: 1, not 2.
    outside = rows.filter(pl.col("jaar") != 2019)
    assert outside.height > 3000
    for name in [*COUNT_SQL, "uitspraken_per_10000_clienten"]:
        assert outside[name].null_count() == outside.height, name

    out = _query(db, "SELECT * FROM out.uitspraak ORDER BY ecli")
    assert out["ecli"].to_list() == ["ECLI:NL:RBDHA:2019:101", "ECLI:NL:RBDHA:2019:102"]
    assert out["gemeente_code"].to_list() == ["GM1979", None]
    assert out["gemeente_code_uitspraak"].to_list() == ["GM0003", None]
    assert out["gemeente_naam"].to_list() == ["Eemsdelta", None]
    assert out["is_jaar_opgehaald"].all() and not out["is_synthetisch"].any()
    assert out["url"].to_list() == core["url"].to_list()[:2]  # real rulings may be linked
    assert out["url"].null_count() == 0

    jaar = _query(db, "SELECT * FROM out.uitspraak_jaar").rows(named=True)
    assert jaar == [{"jaar": 2019, "is_opgehaald": True, "uitspraken_wmo": 2,
                     "uitspraken_toegerekend": 1, "uitspraken_niet_toegerekend": 1,
                     "is_synthetisch": True}]  # the CBS figures of this build are synthetic


def test_a_year_is_known_only_when_the_windows_cover_all_of_it() -> None:
    assert covered_years(periode_frame([])) == []
    assert covered_years(periode_frame(["2019-01-01_2019-12-31"])) == [2019]
    # Two runs that meet make one window; a year cut at either end is not known.
    assert covered_years(periode_frame(["2018-03-01_2019-06-30", "2019-07-01_2021-11-30"])) \
        == [2019, 2020]
    assert covered_years(periode_frame(["2019-01-01_2019-06-30", "2019-07-02_2019-12-31"])) \
        == []
    with pytest.raises(ValueError):
        periode_frame(["2019-01-01"])
