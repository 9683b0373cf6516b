"""Read-only access to the wmo-atlas DuckDB file for the dashboard (no Streamlit here).

One guarded DuckDB instance per database file per process; every query gets its own cursor,
so Streamlit's script threads can query at the same time. The same guarded instance serves the
app's own queries and the researcher SQL console (see `sql_console.py`).

Why `:memory:` + `ATTACH ... (READ_ONLY)` rather than `duckdb.connect(path, read_only=True)`:
DuckDB's Python instance cache is keyed by the path, so after the ETL `os.replace`s a new build
over the file, a second `connect(path)` made while the old connection is alive is handed the
*old* instance and keeps serving the old data (checked with duckdb 2.0.0). An in-memory
instance is never shared, so attaching the path again opens the new inode while readers that
still hold the old `Database` keep their old, consistent snapshot.

Why one config with `max_execution_time` = 2000 ms for app and console alike: a file can only
have one configuration per process and the configuration is locked, so the console limit
necessarily applies to app queries too. At demo scale the app's heaviest queries (GROUP BY over
all of out.gemeente_periode, the full table into polars) take well under 0.2 s, so 2 s is a
runaway guard, not a constraint. Pass `max_execution_ms` if a bigger build ever needs more.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import polars as pl

CATALOG = "wmo"  # the attached file's catalog name; same as a researcher gets for wmo.duckdb
DEFAULT_MAX_EXECUTION_MS = 2000
# Views per combination of user choices kept per build: a few hundred kB each at most.
RECENT_SIZE = 256

FileSignature = tuple[int, int]
T = TypeVar("T")


def file_signature(path: str | os.PathLike[str]) -> FileSignature:
    """(inode, mtime in ns): changes when a new build is swapped in with os.replace."""
    st = os.stat(path)
    return st.st_ino, st.st_mtime_ns


def guarded_connection(path: Path, *, max_execution_ms: int, memory_limit: str,
                       threads: int, temp_directory: str | None = None,
                       max_temp_directory_size: str | None = None, lock: bool = True
                       ) -> duckdb.DuckDBPyConnection:
    """The locked, read-only connection; the app and the console's workers both use it.

    `lock=False` is for a console worker that opens the file before its job arrives (so a
    query does not wait for the attach): it sets its time limit and then `lock_configuration`
    itself (`sql_worker.lock_for_job`) before it runs any researcher SQL."""
    con = duckdb.connect(":memory:", config={
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
        "allow_community_extensions": False,
        "python_enable_replacements": False,  # SQL must not see the caller's Python variables
        "memory_limit": memory_limit,
        "threads": threads,
        "max_execution_time": max_execution_ms,
    })
    try:
        con.execute(f"ATTACH ? AS {CATALOG} (READ_ONLY)", [str(path)])
        con.execute(f"USE {CATALOG}")
        # Spill next to the database like a direct open would, not into the app's cwd; a
        # console worker spills into its own job folder, bounded in size.
        con.execute("SET temp_directory = ?", [temp_directory or f"{path}.tmp"])
        if max_temp_directory_size is not None:
            con.execute("SET max_temp_directory_size = ?", [max_temp_directory_size])
        # Only after ATTACH: with external access off the file could not be opened any more.
        con.execute("SET enable_external_access = false")
        if lock:
            con.execute("SET lock_configuration = true")  # last: nothing can be loosened after it
    except BaseException:
        con.close()
        raise
    return con


class Database:
    """A guarded, read-only view of one build of the database file."""

    def __init__(self, path: str | os.PathLike[str], *,
                 max_execution_ms: int = DEFAULT_MAX_EXECUTION_MS,
                 memory_limit: str = "512MB", threads: int = 2) -> None:
        self.path = Path(path).resolve()
        self.max_execution_ms = max_execution_ms
        # Stat before opening: if a swap races the open we would rather reopen once too often.
        self.signature: FileSignature = file_signature(self.path)
        self._con = guarded_connection(self.path, max_execution_ms=max_execution_ms,
                                       memory_limit=memory_limit, threads=threads)
        self._lock = threading.Lock()
        self._memo: dict[Hashable, Any] = {}
        self._recent: OrderedDict[Hashable, Any] = OrderedDict()
        self._recent_lock = threading.Lock()

    def memo(self, key: Hashable, compute: Callable[[], T]) -> T:
        """`compute()` once per build: the cache lives and dies with this attached build, so a
        rebuilt file can never be answered from a stale cache."""
        try:
            return self._memo[key]
        except KeyError:
            value = compute()
            self._memo[key] = value  # a race computes twice; both results are equal
            return value

    def recent(self, key: Hashable, compute: Callable[[], T], size: int = RECENT_SIZE) -> T:
        """As `memo`, for keys made of user choices, which have too many combinations to keep
        them all: keeps the `size` most recently used, per build."""
        with self._recent_lock:
            if key in self._recent:
                self._recent.move_to_end(key)
                return self._recent[key]
        value = compute()  # outside the lock: other sessions' hits need not wait for this
        with self._recent_lock:
            self._recent[key] = value
            self._recent.move_to_end(key)
            while len(self._recent) > size:
                self._recent.popitem(last=False)
        return value

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A new cursor on the attached build; the caller closes it."""
        with self._lock:  # connections are not thread-safe; creating cursors is cheap
            cur = self._con.cursor()
        # USE is per connection and cursors start in the in-memory catalog.
        cur.execute(f"USE {CATALOG}")
        return cur

    def query(self, sql: str, params: list[Any] | None = None) -> pl.DataFrame:
        """Run one SELECT with bound parameters on its own cursor; never format values into SQL."""
        cur = self.cursor()
        try:
            return cur.sql(sql, params=params).pl()
        finally:
            cur.close()

    def extract_statements(self, sql: str) -> list[Any]:
        cur = self.cursor()
        try:
            return cur.extract_statements(sql)
        finally:
            cur.close()

    def is_stale(self) -> bool:
        """True when the file on disk is no longer the build this instance attached."""
        try:
            return file_signature(self.path) != self.signature
        except FileNotFoundError:
            return False  # mid-swap or removed: keep serving what we have

    def close(self) -> None:
        with self._lock:
            self._con.close()


_cache: dict[Path, Database] = {}
_cache_lock = threading.Lock()


def current(path: str | os.PathLike[str]) -> Database:
    """The cached Database for `path`, reopened when a new build has replaced the file.

    The superseded instance is not closed: a page that still holds it finishes its queries on
    the old build and the instance goes away with its last reference.
    """
    key = Path(path).resolve()
    with _cache_lock:
        db = _cache.get(key)
        if db is None or db.is_stale():
            db = Database(key)
            _cache[key] = db
        return db
