"""The SQL console's sandbox against issue 13's battery: every statement that escaped a limit,
gave a traceback or showed a path, run against the real console (worker processes on a demo
database). Limits are asserted by their effect (the worker is gone, the value was refused,
the server did not grow), never by speed; the only times are generous upper bounds."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import duckdb
import polars as pl
import pyarrow.parquet as pq
import pytest

from dashboard import exports, fmt, sql_console, sql_limits
from dashboard.db import Database
from dashboard.sql_console import ConsoleError, ConsoleResult, message
from dashboard.sql_limits import MB, Limits
from dashboard.sql_sandbox import Pool
from dashboard.sql_worker import lock_for_job, open_database, plan_for, unique_names, wrapped_sql
from dashboard.views import sql as view
from tests.dashboard_fixtures import ROOT

pytestmark = pytest.mark.slow

TIMEOUT_S = 2
# One expression DuckDB never interrupts: 33 s on the battery's machine.
LEVENSHTEIN = "SELECT levenshtein(repeat('a',150000), repeat('b',150000))"


@pytest.fixture(scope="module")
def database(demo_db: Path) -> Database:
    return Database(demo_db)


@pytest.fixture(scope="module")
def pool() -> Iterator[Pool]:
    sandbox = Pool(Limits(timeout_s=TIMEOUT_S, download_timeout_s=20))
    yield sandbox
    sandbox.close()


def run(pool: Pool, db: Database, sql: str, lang: sql_console.Lang = "nl") -> ConsoleResult:
    return sql_console.run_readonly(db, sql, lang=lang, pool=pool)


def pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(field)


def reset_peak_rss() -> None:
    Path("/proc/self/clear_refs").write_text("5")  # Linux: VmHWM starts again from VmRSS


def context(db: Database, sql: str, frame: pl.DataFrame) -> exports.ExportContext:
    return view.export_context(db, sql, frame)


# --- 1. limits that were bypassed ---------------------------------------------------------

def test_uninterruptible_expression_is_killed_at_the_wall_time(pool: Pool,
                                                              database: Database) -> None:
    result = run(pool, database, LEVENSHTEIN)
    assert result.error == message("killed", seconds=fmt.seconds(TIMEOUT_S))
    assert result.worker_pid is not None and not pid_exists(result.worker_pid)
    assert result.elapsed_ms < (TIMEOUT_S + 10) * 1000
    # The killed worker is replaced: the console answers the next query.
    assert run(pool, database, "SELECT 1 AS x").frame["x"].to_list() == [1]


@pytest.mark.parametrize("sql", [
    "SELECT repeat('x', 300000000)",
    "SELECT repeat('x', 1000000000)",
    "SELECT range(1000000000)",
])
def test_huge_values_are_refused_and_the_server_does_not_grow(pool: Pool, database: Database,
                                                              sql: str) -> None:
    reset_peak_rss()
    before = status_kb("VmHWM")
    result = run(pool, database, sql)
    assert result.error is not None and not result.frame.height
    memory = message("worker_memory", mb=fmt.integer(pool.limits.memory_mb))
    assert result.error.startswith(memory + "\nDuckDB: Out of Memory Error"), result.error
    assert "SET threads" not in result.error  # DuckDB's tuning advice does not apply here
    assert status_kb("VmHWM") - before < 200 * 1024  # the value never reached the server
    assert not pid_exists(result.worker_pid or 0)


def test_a_value_over_the_cell_limit_is_refused_by_name(pool: Pool, database: Database) -> None:
    result = run(pool, database, "SELECT 1 AS id, repeat('x', 2000000) AS groot")
    assert result.error == ("Geweigerd: een waarde in kolom groot is 1,91 MB; de console toont "
                            "en downloadt waarden tot 1 MB.")


def test_a_result_over_the_byte_limit_is_refused(database: Database) -> None:
    small = Pool(Limits(max_result_bytes=1 * MB, warm_workers=0))
    try:
        result = run(small, database, "SELECT repeat('x', 500000) AS t FROM range(10)")
    finally:
        small.close()
    assert result.error == message("result_too_big", max="1 MB")


def test_big_download_is_capped_with_a_note_in_file_and_page(database: Database) -> None:
    capped = Pool(Limits(max_download_rows=100_000, warm_workers=0))
    sql = "SELECT * FROM range(50000000)"
    try:
        result = run(capped, database, sql)
        assert result.ok and result.truncated and result.total_rows == 50_000_000
        assert sql_console.download_notice(result, 100_000) == (
            "De download bevat de eerste 100.000 van 50.000.000 rijen (limiet van de console).")
        data = capped.export(database.path, result.sql, "csv",
                             context(database, sql, result.frame))
        parquet = capped.export(database.path, result.sql, "parquet",
                                context(database, sql, result.frame))
    finally:
        capped.close()
    text = data.decode("utf-8-sig")
    assert "De download bevat hoogstens 100.000 rijen (limiet van de console)" in text
    assert pl.read_csv(io.BytesIO(data), comment_prefix="#").height == 100_000
    table = pq.read_table(io.BytesIO(parquet))
    assert table.num_rows == 100_000
    assert b"limiet" in table.schema.metadata[exports.PARQUET_KEY.encode()]


def test_download_over_the_byte_limit_is_refused(database: Database) -> None:
    tight = Pool(Limits(max_download_bytes=1 * MB, warm_workers=0))
    sql = "SELECT * FROM range(50000000)"
    try:
        with pytest.raises(ConsoleError) as refused:
            tight.export(database.path, sql, "csv", context(database, sql, pl.DataFrame()))
    finally:
        tight.close()
    assert str(refused.value).startswith("De download is groter dan 1 MB en is niet gemaakt")


def test_concurrency_is_bounded_and_the_extra_query_is_told_busy(database: Database) -> None:
    limits = Limits(timeout_s=3, concurrency=2, queue_wait_s=0.5, warm_workers=0)
    busy_pool = Pool(limits)
    results: list[ConsoleResult] = []
    start = threading.Barrier(limits.concurrency + 1)

    def one() -> None:
        start.wait()
        results.append(run(busy_pool, database, LEVENSHTEIN))

    threads = [threading.Thread(target=one) for _ in range(limits.concurrency + 1)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    finally:
        busy_pool.close()
    errors = sorted(r.error or "" for r in results)
    killed = message("killed", seconds=fmt.seconds(3))
    assert errors == sorted([message("busy", n=2)] + [killed] * 2)


# --- 4. every type renders or explains -----------------------------------------------------

@pytest.mark.parametrize(("sql", "text"), [
    ("SELECT INTERVAL 1 DAY AS v", "1 day"),
    ("SELECT union_value(k := 1) AS v", "1"),
    ("SELECT 'ab'::BLOB AS v", "ab"),
    ("SELECT '101'::BIT AS v", "101"),
    ("SELECT {'a': 1, 'b': 'x'} AS v", "{'a': 1, 'b': x}"),
    ("SELECT [1, 2]::INTEGER[2] AS v", "[1, 2]"),
    ("SELECT [1, 2] AS v", "[1, 2]"),
    ("SELECT MAP {'a': 1} AS v", "{a=1}"),
    ("SELECT 170141183460469231731687303715884105727::HUGEINT AS v",
     "170141183460469231731687303715884105727"),
    ("SELECT 1::VARINT AS v", "1"),
    ("SELECT DATE '5877642-06-25' AS v", "5877642-06-25"),
    ("SELECT 'infinity'::TIMESTAMP AS v", "infinity"),
    ("SELECT '00000000-0000-0000-0000-000000000001'::UUID AS v",
     "00000000-0000-0000-0000-000000000001"),
])
def test_types_the_page_cannot_carry_become_text_and_download(pool: Pool, database: Database,
                                                              sql: str, text: str) -> None:
    result = run(pool, database, sql)
    assert result.ok, result.error
    assert result.frame["v"].to_list() == [text]
    assert result.converted == ("v",)
    assert view.result_notes(result, "nl") == [message("converted", columns="v")]
    ctx = context(database, sql, result.frame)
    csv = pool.export(database.path, result.sql, "csv", ctx)
    assert pl.read_csv(io.BytesIO(csv), comment_prefix="#")["v"].cast(pl.String).to_list() == [
        text]
    parquet = pool.export(database.path, result.sql, "parquet", ctx)
    assert pq.read_table(io.BytesIO(parquet)).column("v").to_pylist() == [text]


def test_types_that_fit_keep_their_type(pool: Pool, database: Database) -> None:
    result = run(pool, database, "SELECT 1.5::DECIMAL(38, 10) AS d, DATE '2024-07-01' AS dag, "
                                 "TIMESTAMP '2024-07-01 12:00' AS ts, 7::UBIGINT AS u, "
                                 "1 AS a, 2 AS a")
    assert result.ok and result.converted == ()
    frame = result.frame
    assert frame.columns == ["d", "dag", "ts", "u", "a", "a_2"]  # repeated names made unique
    assert frame.schema["dag"] == pl.Date and frame.schema["u"] == pl.UInt64
    assert isinstance(frame.schema["d"], pl.Decimal)


# --- 5. no paths to visitors -----------------------------------------------------------------

@pytest.mark.parametrize("sql", [
    "SELECT * FROM duckdb_databases()",
    "SELECT * FROM duckdb_databases",
    "SELECT path FROM pragma_database_list",
    "SELECT * FROM duckdb_settings()",
    "SELECT current_setting('temp_directory')",
    "SELECT CURRENT_SETTING('home_directory')",
    "SELECT \"current_setting\"('temp_directory')",
    "SELECT * FROM duckdb_extensions()",
    "SELECT * FROM duckdb_temporary_files()",
    "SELECT getenv('HOME')",
    "SELECT * FROM pg_catalog.pg_settings",
    "SHOW DATABASES",
    "SELECT * FROM query('SELECT * FROM duckdb_settings()')",
    "WITH s AS (SELECT * FROM duckdb_settings()) SELECT value FROM s",
    "SELECT 1 WHERE EXISTS (SELECT 1 FROM duckdb_databases())",
])
def test_path_revealing_functions_are_refused(pool: Pool, database: Database, sql: str) -> None:
    result = run(pool, database, sql)
    assert result.error is not None and result.error.startswith("Geweigerd: ")
    assert "is in de console niet beschikbaar" in result.error


ALLOWED = [
    "SELECT * FROM duckdb_tables()",
    "SELECT * FROM duckdb_columns()",
    "SELECT * FROM duckdb_views()",
    "SELECT * FROM meta.bron",
    "SELECT * FROM meta.build",
    "SELECT * FROM information_schema.tables",
    "SELECT current_database(), current_schema(), version()",
    "SELECT * FROM read_csv('{db}')",
    "SELECT * FROM '{db}'",
    "ATTACH '{db}' AS x",
    "SELECT * FROM nope.{db_name}",
    "SELECT '{db}' AS echoed",
    "SELEC * FROM '{db}'",
]


@pytest.mark.parametrize("template", ALLOWED)
def test_no_output_holds_a_server_path(pool: Pool, database: Database, template: str) -> None:
    sql = template.format(db=database.path, db_name=database.path.stem)
    result = run(pool, database, sql)
    shown = (result.error or "") + result.frame.write_csv()
    for secret in (str(database.path.parent), str(ROOT), str(Path.home())):
        assert secret not in shown, (secret, shown[:500])


def test_scrub_paths_keeps_the_last_part_only() -> None:
    assert sql_console.scrub_paths('Cannot open "/srv/x/wmo.duckdb": no', ("/srv/x",)) == (
        'Cannot open "…/wmo.duckdb": no')
    assert sql_console.scrub_paths("file /etc/passwd denied") == "file …/passwd denied"
    assert sql_console.scrub_paths("a/b and 3/4 and https://x.nl/a/b") == (
        "a/b and 3/4 and https://x.nl/a/b")


def test_hidden_names_come_from_the_parse_tree() -> None:
    tree = {"node": {"select_list": [{"function_name": "Current_Setting"}],
                     "from_table": {"type": "SHOW_REF", "table_name": '"databases"'}}}
    assert sql_console.hidden_names(tree) == ["current_setting", "show databases"]
    assert sql_console.hidden_names({"function_name": "levenshtein"}) == []


# --- the pieces the worker is made of --------------------------------------------------------

def test_wrapped_sql_survives_a_trailing_comment_and_repeated_names() -> None:
    plan = plan_for(["a", "a", "i"], ["integer", "integer", "interval"])
    assert plan.names == ["a", "a_2", "i"] and plan.converted == ["i"]
    assert wrapped_sql("SELECT 1, 2, INTERVAL 1 DAY -- x", plan) == (
        'SELECT c0 AS "a", c1 AS "a_2", CAST(c2 AS VARCHAR) AS "i" FROM (\n'
        "SELECT 1, 2, INTERVAL 1 DAY -- x\n) AS _wmo_console(c0, c1, c2)")
    assert unique_names(["x", "x", "x_2"]) == ["x", "x_2", "x_2_2"]


def test_limits_come_from_the_environment() -> None:
    limits = sql_limits.limits_from_env({"WMO_SQL_TIMEOUT_S": "1.5", "WMO_SQL_MAX_ROWS": "50",
                                         "WMO_SQL_WARM_WORKERS": "0"})
    assert (limits.timeout_s, limits.max_rows, limits.warm_workers) == (1.5, 50, 0)
    assert limits.memory_mb == 1024 and limits.duckdb_memory_mb == 512
    with pytest.raises(ValueError, match="WMO_SQL_CONCURRENCY"):
        sql_limits.limits_from_env({"WMO_SQL_CONCURRENCY": "veel"})
    with pytest.raises(ValueError, match="WMO_SQL_TIMEOUT_S"):
        sql_limits.limits_from_env({"WMO_SQL_TIMEOUT_S": "0"})


def test_every_limit_is_documented_in_readme_and_on_the_page() -> None:
    readme = (ROOT / "README.md").read_text()
    table = view.limits_table(Limits(), "nl")
    assert table.height == len(sql_limits.SETTINGS)
    for setting in sql_limits.SETTINGS:
        assert f"`{setting.env}`" in readme, setting.env
        assert setting.env in table["Instelling"].to_list()
    assert sql_limits.settings_markdown() in readme  # the table is the generated one
    assert set(view.LIMIT_LABELS) == {s.field for s in sql_limits.SETTINGS}


def test_worker_limits_cannot_be_raised_again(tmp_path: Path) -> None:
    # In a child process: the limits are for the rest of that process's life.
    code = (
        "import resource\n"
        "from dashboard.sql_worker import apply_limits\n"
        "from dashboard.sql_limits import Limits\n"
        "apply_limits(Limits(memory_mb=100), 5)\n"
        "try:\n"
        "    resource.setrlimit(resource.RLIMIT_AS, (resource.RLIM_INFINITY,) * 2)\n"
        "    print('raised')\n"
        "except ValueError:\n"
        "    print('kept')\n"
        "try:\n"
        "    block = bytearray(300 * 1024 * 1024)\n"
        "    print('allocated')\n"
        "except MemoryError:\n"
        "    print('refused')\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, timeout=60, check=True).stdout.split()
    assert out == ["kept", "refused"]


def test_job_connection_is_locked_read_only_and_offline(demo_db: Path, tmp_path: Path) -> None:
    con = open_database(str(demo_db), Limits(), str(tmp_path))
    try:
        lock_for_job(con, 2)
        for statement in ("SET memory_limit = '8GB'", "SET enable_external_access = true",
                          "SET max_execution_time = 999999"):
            with pytest.raises(duckdb.Error, match="configuration has been locked"):
                con.execute(statement)
        with pytest.raises(duckdb.Error, match="read-only"):
            con.execute("CREATE TABLE core.x AS SELECT 1")
        with pytest.raises(duckdb.PermissionException):
            con.execute("SELECT * FROM read_text('/etc/hostname')")
    finally:
        con.close()


def test_a_warm_worker_sees_a_rebuild_swapped_in_after_it_started(tmp_path: Path) -> None:
    path = tmp_path / "swap.duckdb"

    def build(value: int) -> None:
        new = tmp_path / f"new-{value}.duckdb"
        with duckdb.connect(str(new)) as con:
            con.execute(f"CREATE TABLE t AS SELECT {value} AS x")
        os.replace(new, path)

    build(1)
    warm = Pool(Limits(warm_workers=1))
    try:
        assert warm.wait_warm(path)  # this worker opened build 1 in advance
        build(2)
        result = warm.query(path, "SELECT x FROM t")
    finally:
        warm.close()
    assert result.ok and result.frame["x"].to_list() == [2]


def test_a_server_path_in_a_value_is_replaced_and_counted(pool: Pool, database: Database) -> None:
    folder = str(database.path.parent)
    result = run(pool, database, f"SELECT '{folder}/x.csv' AS p, 'gewoon' AS q UNION ALL "
                                 f"SELECT 'niets', '{folder}' ORDER BY 1")
    assert result.ok and result.redacted_cells == 2
    assert result.frame.rows() == [("…/x.csv", "gewoon"), ("niets", "…")]  # "/" < "n"
    assert view.result_notes(result, "nl") == [message("redacted", n="2")]
