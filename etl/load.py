"""Frames → one DuckDB file, written beside the target and swapped in with os.replace.

A failed build leaves the previous database byte-identical; a reader that has the old file
open keeps reading it (the inode stays alive until it closes).

Frames may hold text columns as polars Enums (the big kenmerken table does, to stay small in
memory); they reach DuckDB as Arrow dictionaries and are stored as the documented VARCHAR.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Mapping
from pathlib import Path

import duckdb
import polars as pl

from etl.metadata import Metadata, comment_statements, create_table_sql, tabel_rows, veld_rows

SCHEMAS = ("core", "out", "meta")


def temp_path_for(db_path: Path) -> Path:
    return db_path.with_name(f"{db_path.name}.tmp-{os.getpid()}")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    return True


def remove_orphans(db_path: Path) -> list[Path]:
    """Delete temp files of builds that were killed (their process is gone); a build that is
    still running keeps its own. A killed full build would otherwise leave GBs behind."""
    removed: list[Path] = []
    for path in db_path.parent.glob(f"{db_path.name}.tmp-*"):
        pid_text = path.name.removeprefix(f"{db_path.name}.tmp-").removesuffix(".wal")
        if pid_text.isdigit() and int(pid_text) != os.getpid() and not _pid_alive(int(pid_text)):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def _insert(con: duckdb.DuckDBPyConnection, qualified: str, columns: list[str],
            frame: pl.DataFrame) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{qualified}: frame lacks columns {missing}")
    con.register("_frame", frame.select(columns).to_arrow())
    try:
        con.execute(f"INSERT INTO {qualified} SELECT * FROM _frame")
    finally:
        con.unregister("_frame")


def _fill(con: duckdb.DuckDBPyConnection, qualified: str, columns: list[str],
          frame: pl.DataFrame | None, progress: Callable[[str], None] | None) -> None:
    if frame is not None and frame.height:
        _insert(con, qualified, columns, frame)
    if progress:
        progress(f"  {qualified}: {0 if frame is None else frame.height} rows")


def write_database(
    db_path: Path,
    frames: dict[str, pl.DataFrame],
    meta: Metadata,
    *,
    progress: Callable[[str], None] | None = None,
    deferred: Mapping[str, Callable[[], pl.DataFrame]] | None = None,
) -> None:
    """Create every table of the metadata, fill those given in `frames`, comment, swap in.

    `frames` is keyed `schema.table`; meta.veld and meta.tabel come from the metadata itself.
    `deferred` tables are computed and filled only after everything else is written and
    checkpointed, just before the swap (meta.build, whose duration should cover the writing).
    """
    deferred = deferred or {}
    db_path.parent.mkdir(parents=True, exist_ok=True)
    remove_orphans(db_path)
    tmp = temp_path_for(db_path)
    for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
        leftover.unlink(missing_ok=True)
    try:
        con = duckdb.connect(str(tmp))
        try:
            for schema in SCHEMAS:
                con.execute(f"CREATE SCHEMA {schema}")
            for qualified, table in meta.tables.items():
                con.execute(create_table_sql(table))
                if qualified == "meta.veld":
                    frame = pl.DataFrame(veld_rows(meta), orient="row",
                                         schema=[c.name for c in table.columns])
                elif qualified == "meta.tabel":
                    frame = pl.DataFrame(tabel_rows(meta), orient="row",
                                         schema=[c.name for c in table.columns])
                elif qualified in deferred:
                    continue
                else:
                    frame = frames.get(qualified)
                _fill(con, qualified, [c.name for c in table.columns], frame, progress)
            unknown = (set(frames) | set(deferred)) - set(meta.tables)
            if unknown:
                raise ValueError(f"frames without metadata: {sorted(unknown)}")
            for statement in comment_statements(meta):
                con.execute(statement)
            con.execute("CHECKPOINT")
            for qualified, make_frame in deferred.items():
                columns = [c.name for c in meta.tables[qualified].columns]
                _fill(con, qualified, columns, make_frame(), progress)
            con.execute("CHECKPOINT")
        finally:
            con.close()
        os.replace(tmp, db_path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        with contextlib.suppress(FileNotFoundError):
            tmp.with_name(tmp.name + ".wal").unlink()
