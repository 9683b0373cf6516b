"""dashboard.db against a real demo database: binding, threads, guards, reload after a swap."""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import pytest

from dashboard import db as dbmod
from dashboard.db import Database, current, file_signature
from etl.cli import main

pytestmark = pytest.mark.slow

SNAPSHOT = Path(os.environ.get("WMO_SNAPSHOT_DIR", "/work/shared/snapshot"))


def build(root: Path, db: Path, seed: int) -> Path:
    raw = root / f"raw-{seed}"
    assert main(["demo", "--out", str(raw), "--snapshot", str(SNAPSHOT), "--seed", str(seed)]) == 0
    assert main(["build", "--raw", str(raw), "--db", str(db), "--snapshot", str(SNAPSHOT)]) == 0
    return db


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("dashdb")


@pytest.fixture(scope="module")
def db_path(root: Path) -> Path:
    return build(root, root / "wmo.duckdb", seed=11)


@pytest.fixture(scope="module")
def database(db_path: Path) -> Database:
    return Database(db_path)


def total_clients(database: Database) -> float:
    return database.query("SELECT sum(clienten) AS s FROM out.gemeente_periode")["s"][0]


def test_query_returns_polars_with_bound_parameter(database: Database) -> None:
    code = database.query("SELECT min(gemeente_code) AS c FROM core.gemeente")["c"][0]
    frame = database.query("SELECT gemeente_code FROM core.gemeente WHERE gemeente_code = ?",
                           [code])
    assert frame["gemeente_code"].to_list() == [code]


def test_value_with_quote_is_bound_not_spliced(database: Database) -> None:
    nasty = "'s-Hertogenbosch'; DROP TABLE core.gemeente; --"
    assert database.query("SELECT ? AS v", [nasty])["v"][0] == nasty
    assert database.query("SELECT count(*) AS n FROM core.gemeente WHERE gemeente_naam = ?",
                          [nasty])["n"][0] == 0
    assert database.query("SELECT count(*) AS n FROM core.gemeente")["n"][0] > 0


def test_cursor_per_query_from_eight_threads(database: Database) -> None:
    codes = database.query(
        "SELECT gemeente_code, count(*) AS n FROM out.gemeente_periode GROUP BY 1 ORDER BY 1"
    ).head(8)
    expected = dict(zip(codes["gemeente_code"], codes["n"], strict=True))

    def work(code: str) -> list[int]:
        return [database.query("SELECT count(*) AS n FROM out.gemeente_periode "
                               "WHERE gemeente_code = ?", [code])["n"][0] for _ in range(20)]

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = dict(zip(expected, pool.map(work, expected), strict=True))
    assert len(expected) == 8
    for code, counts in results.items():
        assert counts == [expected[code]] * 20


@pytest.mark.parametrize("sql", [
    "CREATE TABLE core.x AS SELECT 1",
    "DELETE FROM core.gemeente",
    "SELECT * FROM read_csv('/etc/passwd')",
    "COPY (SELECT 1) TO '/tmp/wmo-atlas-should-not-exist.csv'",
    "SET threads = 8",
    "SET enable_external_access = true",
    "SET lock_configuration = false",
])
def test_connection_itself_refuses_writes_files_and_settings(database: Database,
                                                             sql: str) -> None:
    cur = database.cursor()
    try:
        with pytest.raises(duckdb.Error):
            cur.execute(sql)
    finally:
        cur.close()
    assert not Path("/tmp/wmo-atlas-should-not-exist.csv").exists()


def test_guarded_settings_are_in_force(database: Database) -> None:
    row = database.query(
        "SELECT current_setting('enable_external_access') AS ext, "
        "current_setting('lock_configuration') AS locked, "
        "current_setting('max_execution_time') AS ms, current_setting('threads') AS threads"
    ).row(0, named=True)
    assert row == {"ext": False, "locked": True, "ms": 2000, "threads": 2}


def test_current_is_cached_and_reopens_after_os_replace(root: Path, db_path: Path) -> None:
    target = root / "swap.duckdb"
    target.write_bytes(db_path.read_bytes())
    first = current(target)
    assert current(target) is first
    before = total_clients(first)
    old_cursor = first.cursor()

    # The ETL pattern: build next to the file, then swap it in atomically.
    build(root, root / "swap.duckdb.new", seed=99)
    os.replace(root / "swap.duckdb.new", target)

    assert first.is_stale()
    second = current(target)
    assert second is not first
    assert second.signature == file_signature(target)
    assert total_clients(second) != before
    # Readers holding the old build keep working on it, without errors.
    assert total_clients(first) == pytest.approx(before, rel=1e-12)
    # Parallel float sums differ in the last digit from run to run.
    assert old_cursor.sql("SELECT sum(clienten) FROM out.gemeente_periode").fetchall()[0][0] \
        == pytest.approx(before, rel=1e-12)
    old_cursor.close()
    assert current(target) is second


def test_current_survives_a_missing_file_mid_swap(root: Path, db_path: Path) -> None:
    target = root / "gone.duckdb"
    target.write_bytes(db_path.read_bytes())
    first = current(target)
    target.unlink()
    assert current(target) is first
    assert total_clients(first) > 0
    dbmod._cache.pop(target.resolve(), None)


def test_recent_keeps_the_most_recently_used_views_per_build(database: Database) -> None:
    calls: list[str] = []

    def compute(key: str) -> Callable[[], str]:
        def run() -> str:
            calls.append(key)
            return key
        return run

    for key in ("a", "b", "c"):
        assert database.recent(("t", key), compute(key), size=2) == key
    assert calls == ["a", "b", "c"]  # "a" was evicted by "c" (size 2)
    assert database.recent(("t", "b"), compute("b"), size=2) == "b"  # hit: "b" now newest
    assert calls == ["a", "b", "c"]
    database.recent(("t", "d"), compute("d"), size=2)  # evicts "c", the least recent
    database.recent(("t", "b"), compute("b"), size=2)
    database.recent(("t", "c"), compute("c"), size=2)
    assert calls == ["a", "b", "c", "d", "c"]


def test_recent_is_not_shared_with_a_new_build(db_path: Path) -> None:
    first, second = Database(db_path), Database(db_path)
    try:
        first.recent("k", lambda: "old")
        assert second.recent("k", lambda: "new") == "new"
    finally:
        first.close()
        second.close()
