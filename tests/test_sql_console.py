"""dashboard.sql_console against a real demo database: refusals, limits, honest truncation.

Every query runs in the sandbox's worker processes (a pool with a short wall time, so the
runaway case ends quickly); tests/test_sql_sandbox.py has the attack battery."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from dashboard import sql_console
from dashboard.db import Database
from dashboard.sql_console import (
    EXAMPLES,
    ConsoleResult,
    schema_browser,
    truncation_notice,
)
from dashboard.sql_limits import Limits
from dashboard.sql_sandbox import Pool
from etl.cli import main

pytestmark = pytest.mark.slow

SNAPSHOT = Path(os.environ.get("WMO_SNAPSHOT_DIR", "/work/shared/snapshot"))
# A cross join of 4·10^10 rows: minutes of work, so only the time limit can end it.
RUNAWAY = "SELECT sum(a.range * b.range) FROM range(200000) a, range(200000) b"


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Database:
    root = tmp_path_factory.mktemp("console")
    raw, db = root / "raw", root / "wmo.duckdb"
    assert main(["demo", "--out", str(raw), "--snapshot", str(SNAPSHOT), "--seed", "11"]) == 0
    assert main(["build", "--raw", str(raw), "--db", str(db), "--snapshot", str(SNAPSHOT)]) == 0
    return Database(db)


@pytest.fixture(scope="module")
def pool() -> Iterator[Pool]:
    sandbox = Pool(Limits(timeout_s=2))
    yield sandbox
    sandbox.close()


@pytest.fixture
def run_readonly(pool: Pool) -> Callable[..., ConsoleResult]:
    """The console's run_readonly, bound to the test pool."""
    def run(db: Database, sql: str, lang: sql_console.Lang = "nl") -> ConsoleResult:
        return sql_console.run_readonly(db, sql, lang=lang, pool=pool)
    return run


def refused(result: ConsoleResult) -> str:
    assert result.error is not None
    assert result.frame.is_empty() and not result.ok
    assert result.sql == ""  # nothing ran: there is no statement to download
    return result.error


@pytest.mark.parametrize(("sql", "expected"), [
    ("COPY (SELECT 1) TO '/tmp/wmo-atlas-x.csv'", "Geweigerd: COPY"),
    ("ATTACH '/tmp/wmo-atlas-x.duckdb'", "Geweigerd: ATTACH"),
    ("INSTALL spatial", "Geweigerd: INSTALL"),
    ("LOAD spatial", "Geweigerd: LOAD"),
    ("SET threads=8", "Geweigerd: SET"),
    ("PRAGMA memory_limit='4GB'", "Geweigerd: PRAGMA"),
    ("CREATE TEMP TABLE t AS SELECT 1", "Geweigerd: CREATE"),
    ("SELECT 1; SELECT 2", "Geweigerd: 2 statements"),
    ("", "Lege invoer"),
    ("  ;  -- niets", "Lege invoer"),
    ("SELEC 1", "syntaxfout"),
])
def test_refuses_everything_but_one_select(database: Database, run_readonly, sql: str,
                                           expected: str) -> None:
    assert expected in refused(run_readonly(database, sql))
    assert not Path("/tmp/wmo-atlas-x.csv").exists()
    assert not Path("/tmp/wmo-atlas-x.duckdb").exists()


def test_refusal_in_english(database: Database, run_readonly) -> None:
    error = refused(run_readonly(database, "SELECT 1; SELECT 2", lang="en"))
    assert error.startswith("Refused: 2 statements")


@pytest.mark.parametrize("sql", [
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM read_text('/etc/hostname')",
    "SELECT * FROM glob('/etc/*')",
])
def test_file_access_becomes_a_clear_message(database: Database, run_readonly, sql: str) -> None:
    error = refused(run_readonly(database, sql))
    assert error.startswith("Geen toegang")
    assert "Permission Error" in error  # DuckDB's own words follow ours


def test_runaway_query_is_stopped(database: Database, run_readonly) -> None:
    result = run_readonly(database, RUNAWAY)
    assert "De query duurde te lang (meer dan 2 s)" in refused(result)
    assert result.elapsed_ms < 2000 + 10_000  # a generous bound: speed belongs in bench
    # The next query gets a fresh worker and runs normally.
    assert run_readonly(database, "SELECT 42 AS x").frame["x"].to_list() == [42]


def test_group_by_over_gemeente_periode(database: Database, run_readonly) -> None:
    sql = ("WITH p AS (SELECT provincie_naam, sum(clienten) AS clienten "
           "FROM out.gemeente_periode GROUP BY provincie_naam) "
           "SELECT * FROM p ORDER BY provincie_naam;")
    result = run_readonly(database, sql)
    assert result.error is None
    expected = database.query(sql.rstrip(";"))
    # Parallel sums of doubles may differ in the last bits between runs.
    assert_frame_equal(result.frame, expected, rel_tol=1e-9)
    assert result.total_rows == expected.height and not result.truncated
    assert truncation_notice(result) is None


def test_truncates_at_max_rows_with_honest_total(database: Database, run_readonly,
                                                 pool: Pool) -> None:
    total = database.query("SELECT count(*) AS n FROM out.gemeente_periode")["n"][0]
    assert total > 1000
    result = run_readonly(database, "SELECT * FROM out.gemeente_periode -- alles")
    assert result.error is None
    assert result.truncated and result.frame.height == 1000 and result.total_rows == total
    shown_total = f"{total:,}".replace(",", " ")
    assert truncation_notice(result) == (
        f"{shown_total} rijen; getoond: de eerste 1 000. Download het volledige resultaat.")
    assert truncation_notice(result, "en").startswith(f"{total:,} rows; showing the first 1,000")
    full = sql_console.full_result(database, result.sql, pool=pool)
    assert full.height == total


def test_exactly_max_rows_is_not_truncated(database: Database, run_readonly) -> None:
    result = run_readonly(database, "SELECT * FROM range(1000)")
    assert result.frame.height == 1000 and not result.truncated and result.total_rows == 1000


def test_notice_without_total_says_so() -> None:
    result = ConsoleResult(frame=pl.DataFrame({"x": range(1000)}), total_rows=None,
                           truncated=True, elapsed_ms=1.0, error=None)
    assert truncation_notice(result) == ("Meer dan 1 000 rijen; getoond: 1 000. Het totaal kon "
                                         "niet binnen de tijdslimiet worden geteld.")


@pytest.mark.parametrize("lang", ["nl", "en"])
@pytest.mark.parametrize("example", EXAMPLES, ids=[e.key for e in EXAMPLES])
def test_every_example_runs(database: Database, run_readonly, example: sql_console.Example,
                            lang: sql_console.Lang) -> None:
    result = run_readonly(database, example.sql(lang), lang)
    assert result.error is None, result.error
    assert result.frame.height > 0


def test_schema_browser_describes_every_column(database: Database) -> None:
    browser = schema_browser(database)
    assert browser.columns == ["schema", "table", "column", "type", "description"]
    assert set(browser["schema"]) == {"core", "out", "meta"}
    assert browser.filter(pl.col("description").is_null()).is_empty()
    row = browser.filter((pl.col("table") == "gemeente_periode")
                         & (pl.col("column") == "clienten_per_1000"))
    assert row["schema"].to_list() == ["out"] and row["type"].to_list() == ["DOUBLE"]
