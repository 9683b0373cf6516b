"""Every example query of the SQL console gives the right answer.

Each example runs the way the console runs it (a sandboxed worker, `sql_console.run_readonly`),
in Dutch and in English, and its result is compared with the same figure computed
independently in polars from the rows of the tables it reads (or from the register file and
etl/metadata.yaml). The pitfalls the examples must avoid: out.gemeente_periode holds half-year
rows (halfjaar 1/2) beside whole-year rows (halfjaar NULL) and one row per voorziening
including the Totaal T001024; rates are recomputed from sums, never averaged; suppressed cells
are NULL. A new example without a check here fails `test_every_example_has_a_check`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from dashboard import sql_console
from dashboard.db import Database
from dashboard.sql_console import EXAMPLES, ConsoleResult, Example, Lang
from dashboard.sql_limits import Limits
from dashboard.sql_sandbox import Pool
from etl.metadata import load_metadata

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
# `wmo demo` copies the project's registers into the demo snapshot unchanged.
HERINDELINGEN_CSV = ROOT / "data" / "raw" / "registers" / "herindelingen.csv"
TOTAAL, HBH = "T001024", "A019507"


@dataclass(frozen=True)
class Source:
    """The database read directly (not through the console), for the independent side."""

    path: Path

    def table(self, qualified: str) -> pl.DataFrame:
        con = duckdb.connect(str(self.path), read_only=True)
        try:
            return con.sql(f"SELECT * FROM {qualified}").pl()
        finally:
            con.close()

    def scalar(self, sql: str) -> object:
        con = duckdb.connect(str(self.path), read_only=True)
        try:
            row = con.execute(sql).fetchone()
            assert row is not None
            return row[0]
        finally:
            con.close()

    def whole_years(self, voorziening_code: str) -> pl.DataFrame:
        return self.table("out.gemeente_periode").filter(
            pl.col("halfjaar").is_null() & (pl.col("voorziening_code") == voorziening_code))


Check = Callable[[Source, pl.DataFrame, Lang], None]


def _sum_or_null(column: str) -> pl.Expr:
    # SQL's sum() of only NULLs is NULL (unknown); polars' sum would say 0.
    return pl.when(pl.col(column).count() > 0).then(pl.col(column).sum()).otherwise(None)


def check_provincie_jaar(src: Source, result: pl.DataFrame, lang: Lang) -> None:
    rows = src.whole_years(TOTAAL)
    expected = (rows.group_by("provincie_naam", "jaar")
                .agg(_sum_or_null("clienten").alias("clienten"),
                     pl.col("clienten").count().alias("gemeenten_bekend"),
                     pl.len().alias("gemeenten_totaal"))
                .sort("provincie_naam", "jaar"))
    assert_frame_equal(result, expected, check_dtypes=False)
    # The issue's own figure: Utrecht 2022 is the whole-year Totaal summed over its gemeenten,
    # not the two half-years and the year added up.
    utrecht = rows.filter((pl.col("provincie_naam") == "Utrecht") & (pl.col("jaar") == 2022))
    got = result.filter((pl.col("provincie_naam") == "Utrecht") & (pl.col("jaar") == 2022))
    assert got["clienten"].to_list() == [utrecht["clienten"].sum()]
    assert got["gemeenten_totaal"].to_list() == [utrecht.height]


def check_top10(src: Source, result: pl.DataFrame, lang: Lang) -> None:
    rows = src.whole_years(TOTAAL)
    latest = rows.filter(pl.col("clienten").is_not_null())["jaar"].max()
    expected = (rows.filter((pl.col("jaar") == latest) & pl.col("clienten_per_1000").is_not_null())
                .sort(["clienten_per_1000", "gemeente_code"], descending=[True, False])
                .head(10)
                .select("gemeente_code", "gemeente_naam", "jaar", "clienten", "inwoners",
                        "clienten_per_1000", "status"))
    assert result.height == 10
    assert_frame_equal(result, expected, check_dtypes=False)
    # The rate is the recomputed one: 1000 · clienten / inwoners of the same row.
    recomputed = (1000 * result["clienten"] / result["inwoners"]).to_list()
    assert result["clienten_per_1000"].to_list() == pytest.approx(recomputed)


def check_werkwijze(src: Source, result: pl.DataFrame, lang: Lang) -> None:
    rows = src.whole_years(HBH).filter(
        pl.col("werkwijze_hbh").is_not_null() & pl.col("clienten").is_not_null()
        & (pl.col("inwoners") > 0))
    expected = (rows.group_by("jaar", "werkwijze_hbh")
                .agg(pl.len().alias("gemeenten"), pl.col("clienten").sum(),
                     pl.col("inwoners").sum())
                .sort("jaar", "werkwijze_hbh"))
    assert set(expected["werkwijze_hbh"]) == {"resultaatgericht", "uren"}
    assert_frame_equal(result.drop("clienten_per_1000"), expected, check_dtypes=False)
    # Pooled, not averaged: the rate of the sums, rounded to one decimal (either way at .x5).
    pooled = (1000 * expected["clienten"] / expected["inwoners"]).to_list()
    for got, exact in zip(result["clienten_per_1000"].to_list(), pooled, strict=True):
        assert abs(got - exact) <= 0.05 + 1e-9


def check_herindelingen(src: Source, result: pl.DataFrame, lang: Lang) -> None:
    register = pl.read_csv(HERINDELINGEN_CSV, try_parse_dates=True)
    expected = register.sort("datum_ingang", "oude_code", "nieuwe_code")
    assert result.columns == register.columns
    assert_frame_equal(result, expected, check_dtypes=False)


def check_bronnen(src: Source, result: pl.DataFrame, lang: Lang) -> None:
    expected = (src.table("meta.bron")
                .select("bron_id", "titel", "opgehaald_op", "licentie", "is_synthetisch")
                .sort("bron_id"))
    assert_frame_equal(result, expected)
    # A demo build says so: its CBS snapshots are flagged, as meta.build is.
    assert src.scalar("SELECT is_synthetisch FROM meta.build") is True
    assert result.filter(pl.col("bron_id").str.starts_with("cbs-"))["is_synthetisch"].all()


def check_woordenboek(src: Source, result: pl.DataFrame, lang: Lang) -> None:
    table = load_metadata().tables["out.gemeente_periode"]
    text = "omschrijving_en" if lang == "en" else "omschrijving"
    expected = pl.DataFrame(
        [(c.name, c.type, c.unit, c.text(lang)) for c in table.columns], orient="row",
        schema={"kolom": pl.String, "type": pl.String, "eenheid": pl.String, text: pl.String})
    assert_frame_equal(result, expected)


def check_tabellen(src: Source, result: pl.DataFrame, lang: Lang) -> None:
    meta = load_metadata()
    expected = pl.DataFrame(
        [(t.schema, t.name, src.table(key).height, len(t.columns))
         for key, t in meta.tables.items()], orient="row",
        schema={"schema_name": pl.String, "table_name": pl.String, "rijen_geschat": pl.Int64,
                "kolommen": pl.Int64}).sort("schema_name", "table_name")
    # A freshly built file has exact estimates; a drift here would make the note a lie.
    assert_frame_equal(result, expected, check_dtypes=False)


CHECKS: dict[str, Check] = {
    "provincie_jaar": check_provincie_jaar,
    "top10": check_top10,
    "werkwijze": check_werkwijze,
    "herindelingen": check_herindelingen,
    "bronnen": check_bronnen,
    "woordenboek": check_woordenboek,
    "tabellen": check_tabellen,
}

# The mistakes of the examples before issue 12 (half-years counted, every voorziening mixed,
# rates over rows without clients), in the shape of the fixed queries: each must fail its
# check, which shows the checks can fail.
BROKEN: dict[str, str] = {
    "provincie_jaar": "SELECT provincie_naam, jaar, sum(clienten) AS clienten, "
                      "count(clienten) AS gemeenten_bekend, count(*) AS gemeenten_totaal "
                      "FROM out.gemeente_periode WHERE voorziening_code = 'T001024' "
                      "GROUP BY ALL ORDER BY provincie_naam, jaar",
    "top10": "WITH laatste AS (SELECT max(periode_code) AS p FROM out.gemeente_periode) "
             "SELECT gemeente_code, gemeente_naam, jaar, clienten, inwoners, "
             "clienten_per_1000, status FROM out.gemeente_periode, laatste "
             "WHERE periode_code = laatste.p AND clienten_per_1000 IS NOT NULL "
             "ORDER BY clienten_per_1000 DESC LIMIT 10",
    "werkwijze": "SELECT jaar, werkwijze_hbh, count(DISTINCT gemeente_code) AS gemeenten, "
                 "sum(clienten) AS clienten, sum(inwoners) AS inwoners, "
                 "round(sum(clienten) * 1000 / sum(inwoners), 1) AS clienten_per_1000 "
                 "FROM out.gemeente_periode WHERE werkwijze_hbh IS NOT NULL AND inwoners > 0 "
                 "GROUP BY ALL ORDER BY jaar, werkwijze_hbh",
}


@pytest.fixture(scope="module")
def pool() -> Iterator[Pool]:
    sandbox = Pool(Limits())
    yield sandbox
    sandbox.close()


@pytest.fixture(scope="module")
def database(demo_db: Path) -> Database:
    return Database(demo_db)


def run(database: Database, pool: Pool, sql: str, lang: Lang) -> ConsoleResult:
    result = sql_console.run_readonly(database, sql, lang=lang, pool=pool)
    assert result.error is None, result.error
    assert not result.truncated and result.frame.height > 0
    return result


def test_every_example_has_a_check() -> None:
    keys = [e.key for e in EXAMPLES]
    assert len(set(keys)) == len(keys), "example keys must be unique"
    assert set(keys) == set(CHECKS), "add a checker to CHECKS for every new example"


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.key for e in EXAMPLES])
def test_example_is_explained_in_both_languages(example: Example) -> None:
    for lang in ("nl", "en"):
        title, note = example.title[lang].strip(), example.note[lang].strip()
        assert title and note and "\n" not in note
        assert example.sql(lang).startswith(f"-- {note}\n")
    assert example.title["nl"] != example.title["en"]
    assert example.note["nl"] != example.note["en"]


@pytest.mark.parametrize("lang", ["nl", "en"])
@pytest.mark.parametrize("example", EXAMPLES, ids=[e.key for e in EXAMPLES])
def test_example_matches_an_independent_computation(database: Database, pool: Pool,
                                                    demo_db: Path, example: Example,
                                                    lang: Lang) -> None:
    result = run(database, pool, example.sql(lang), lang)
    CHECKS[example.key](Source(demo_db), result.frame, lang)


@pytest.mark.parametrize("key", sorted(BROKEN))
def test_the_old_wrong_examples_fail_their_checks(database: Database, pool: Pool,
                                                  demo_db: Path, key: str) -> None:
    result = run(database, pool, BROKEN[key], "nl")
    with pytest.raises(AssertionError):
        CHECKS[key](Source(demo_db), result.frame, "nl")


def test_examples_the_page_offers_are_the_checked_ones() -> None:
    from dashboard.views import sql as view

    for lang in ("nl", "en"):
        offered = view.examples(lang)
        assert list(offered) == [e.title[lang] for e in EXAMPLES]
        assert list(offered.values()) == [e.sql(lang) for e in EXAMPLES]
