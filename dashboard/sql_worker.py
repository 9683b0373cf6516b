"""The SQL console's worker process: runs ONE job under OS limits, then exits.

`sql_sandbox` starts it as `python -m dashboard.sql_worker` (a fresh interpreter: a threaded
Streamlit server must not fork). Protocol, one job per process:

- stdout: JSON lines to the server. `{"event": "ready"}` once the imports are done, then the
  job's events, then `{"event": "done"}`. JSON, never pickle: nothing a query makes the
  worker say can make the server run code. Bulk data goes through Arrow IPC or export files
  in the job's private folder, which the server reads (size-checked) and deletes.
- stdin: one pickled `Job` from the server (trusted: the server wrote it).

The limits are applied after the imports and before DuckDB starts (`apply_limits`); nothing
the query does can raise them again (the hard limits are lowered too). Every message the
worker sends has server paths scrubbed; the server log (stderr) keeps the detail.
"""

from __future__ import annotations

import json
import logging
import os
import pickle
import resource
import shutil
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal

import duckdb

from dashboard.sql_limits import MB, Limits, human_bytes

if TYPE_CHECKING:
    import pyarrow as pa

JobKind = Literal["query", "export"]
RESULT_FILE = "result.arrow"
EXPORT_FILE = "export.bin"
LOG = logging.getLogger("wmo.sql.worker")

# DuckDB types (DuckDBPyType.id) that the page, CSV and Parquet all carry as they are; any
# other type becomes text in DuckDB's own spelling (INTERVAL, UNION, BLOB, BIT, STRUCT,
# LIST, ARRAY, MAP, HUGEINT, BIGNUM/VARINT, UUID, ENUM, TIME WITH TIME ZONE, …).
KEEP_TYPES = frozenset({
    "boolean", "tinyint", "smallint", "integer", "bigint", "utinyint", "usmallint",
    "uinteger", "ubigint", "float", "double", "decimal", "varchar", "time",
    "date", "timestamp", "timestamp_s", "timestamp_ms", "timestamp_ns",
    "timestamp with time zone",
})
DATE_TYPES = frozenset({"date", "timestamp", "timestamp_s", "timestamp_ms", "timestamp_ns",
                        "timestamp with time zone"})
# Python (and so the page and the CSV writer) can show years 1-9999 only; DuckDB goes to
# 5 881 580 and has ±infinity. Outside this range a date column becomes text.
MIN_DAY, MAX_DAY = -719_162, 2_932_896  # 0001-01-01 and 9999-12-31 in days since 1970
MIN_SECOND, MAX_SECOND = -62_135_596_800, 253_402_300_799
_PER_SECOND = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}


@dataclass(frozen=True)
class Job:
    kind: JobKind
    db_path: str
    sql: str
    lang: Literal["nl", "en"]
    limits: Limits
    job_dir: str
    max_rows: int = 0  # query: rows shown (one more is fetched to know there are more)
    fmt: str = "arrow"  # export: "csv", "parquet" or "arrow" (the rows, for a frame)
    context: Any = None  # export: dashboard.exports.ExportContext for csv/parquet


class Refused(Exception):
    """A limit was reached; the text is the researcher's message."""


# --- limits -----------------------------------------------------------------------------------

def vm_size_bytes() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmSize in /proc/self/status")


def apply_limits(limits: Limits, timeout_s: float) -> None:
    """OS limits for the rest of this process's life: soft = hard, so they cannot be raised."""
    address_space = vm_size_bytes() + limits.memory_mb * MB
    resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_bytes, limits.file_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # no multi-GB core files
    # A second clock the worker carries itself: CPU seconds, in case the server that should
    # kill it is gone. One DuckDB thread plus polars' writer fit well within 2 × the wall time.
    used = resource.getrusage(resource.RUSAGE_SELF)
    cpu = int(used.ru_utime + used.ru_stime + 2 * timeout_s + 5)
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
    # Over RLIMIT_FSIZE a write then fails with EFBIG instead of killing us without a word.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


# --- the query ---------------------------------------------------------------------------------

def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def unique_names(names: list[str]) -> list[str]:
    """`a, a` → `a, a_2`: Arrow allows repeats, polars and CSV readers do not."""
    seen: set[str] = set()
    out: list[str] = []
    for name in names:
        candidate, n = name, 1
        while candidate in seen:
            n += 1
            candidate = f"{name}_{n}"
        seen.add(candidate)
        out.append(candidate)
    return out


@dataclass(frozen=True)
class Plan:
    names: list[str]
    type_ids: list[str]
    as_text: frozenset[int]  # column positions DuckDB casts to VARCHAR

    def with_text(self, positions: set[int]) -> Plan:
        return Plan(self.names, self.type_ids, self.as_text | positions)

    @property
    def converted(self) -> list[str]:
        return [self.names[i] for i in sorted(self.as_text)]


def plan_for(names: list[str], type_ids: list[str]) -> Plan:
    as_text = frozenset(i for i, t in enumerate(type_ids) if t not in KEEP_TYPES)
    return Plan(unique_names(names), type_ids, as_text)


def wrapped_sql(statement: str, plan: Plan) -> str:
    """The statement under a projection that renames by position (so repeated names cannot
    be ambiguous) and casts what cannot be carried to text. The newline before `)` keeps a
    trailing `-- comment` from swallowing it."""
    aliases = ", ".join(f"c{i}" for i in range(len(plan.names)))
    columns = ", ".join(
        (f"CAST(c{i} AS VARCHAR)" if i in plan.as_text else f"c{i}") + f" AS {quote(name)}"
        for i, name in enumerate(plan.names))
    return f"SELECT {columns} FROM (\n{statement}\n) AS _wmo_console({aliases})"


def fetch(con: duckdb.DuckDBPyConnection, sql: str, rows: int, max_bytes: int,
          too_big: str) -> pa.Table:
    """At most `rows` rows, streamed in batches so a huge result stops at `max_bytes`."""
    import pyarrow as pa

    reader = con.sql(sql).limit(rows).to_arrow_reader(2048)
    batches: list[pa.RecordBatch] = []
    size = 0
    for batch in reader:
        size += batch.nbytes
        if size > max_bytes:
            raise Refused(too_big)
        batches.append(batch)
    return pa.Table.from_batches(batches, schema=reader.schema)


def out_of_range_dates(table: pa.Table, plan: Plan) -> set[int]:
    """Date/timestamp columns holding a value Python cannot show (year 0, > 9999, infinity)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    bad: set[int] = set()
    for i, type_id in enumerate(plan.type_ids):
        if i in plan.as_text or type_id not in DATE_TYPES:
            continue
        column = table.column(i)
        if column.null_count == len(column):
            continue
        if pa.types.is_date32(column.type):
            low, high = MIN_DAY, MAX_DAY
            ints = column.cast(pa.int32())
        else:
            per = _PER_SECOND[column.type.unit]
            low, high = MIN_SECOND * per, MAX_SECOND * per
            ints = column.cast(pa.int64())
        extremes = pc.min_max(ints).as_py()
        if extremes["min"] < low or extremes["max"] > high:
            bad.add(i)
    return bad


def check_cells(table: pa.Table, max_cell_bytes: int, lang: str) -> None:
    import pyarrow as pa
    import pyarrow.compute as pc

    from dashboard.sql_console import message

    for name, column in zip(table.column_names, table.columns, strict=True):
        kind = column.type
        if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)
                or pa.types.is_binary(kind) or pa.types.is_large_binary(kind)):
            continue
        longest = pc.max(pc.binary_length(column)).as_py() or 0
        if longest > max_cell_bytes:
            raise Refused(message("cell_too_big", lang, column=name, size=human_bytes(longest),
                                  max=human_bytes(max_cell_bytes)))


def redact(table: pa.Table, secrets: tuple[str, ...]) -> tuple[pa.Table, int]:
    """Replace every server path in text cells by '…'; (table, cells changed)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    changed = 0
    for i, column in enumerate(table.columns):
        if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
            continue
        hit = None
        for secret in sorted(secrets, key=len, reverse=True):
            found = pc.match_substring(column, secret)
            if not pc.any(found).as_py():
                continue
            hit = found if hit is None else pc.or_(hit, found)
            column = pc.replace_substring(column, secret, "…")
        if hit is not None:
            changed += pc.sum(pc.cast(pc.fill_null(hit, False), pa.int64())).as_py() or 0
            table = table.set_column(i, table.field(i), column)
    return table, changed


def write_ipc(table: pa.Table, path: Path) -> None:
    import pyarrow as pa

    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)


def count_rows(con: duckdb.DuckDBPyConnection, statement: str) -> int | None:
    import duckdb

    try:
        row = con.sql(f"SELECT count(*) FROM (\n{statement}\n) AS _wmo_count").fetchall()
        return int(row[0][0])
    except duckdb.Error:
        return None  # counting is a courtesy: the rows are already on their way


class Emitter:
    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream

    def __call__(self, event: str, **data: Any) -> None:
        self.stream.write(json.dumps({"event": event, **data}) + "\n")
        self.stream.flush()


def open_database(db_path: str, limits: Limits, job_dir: str) -> duckdb.DuckDBPyConnection:
    """The guarded connection, not yet locked: `lock_for_job` finishes it."""
    from dashboard.db import guarded_connection

    return guarded_connection(
        Path(db_path), max_execution_ms=int(limits.download_timeout_s * 1000),
        memory_limit=f"{limits.duckdb_memory_mb}MB", threads=1,
        temp_directory=str(Path(job_dir) / "spill"),
        max_temp_directory_size=f"{limits.memory_mb}MB", lock=False)


def lock_for_job(con: duckdb.DuckDBPyConnection, timeout_s: float) -> None:
    """The job's own DuckDB time limit, then the lock: after this nothing can be changed."""
    con.execute(f"SET max_execution_time = {int(timeout_s * 1000)}")
    con.execute("SET lock_configuration = true")


def warm_up(con: duckdb.DuckDBPyConnection, limits: Limits) -> None:
    """Run the console's own steps once on a trivial query, so the first real one does not
    pay for first-use initialisation (JSON serialiser, Arrow export, IPC writer)."""
    from dashboard.sql_console import validate

    statement = validate(con, "SELECT 1 AS x", "nl", limits.max_query_chars)
    rel = con.sql(statement)
    plan = plan_for(list(rel.columns), [t.id for t in rel.types])
    fetch(con, wrapped_sql(statement, plan), 2, limits.max_result_bytes, "")


def run_job(job: Job, con: duckdb.DuckDBPyConnection, emit: Emitter,
            secrets: tuple[str, ...]) -> None:
    from dashboard.sql_console import message, validate

    limits = job.limits
    job_dir = Path(job.job_dir)
    statement = validate(con, job.sql, job.lang, limits.max_query_chars)
    emit("validated", sql=statement)
    rel = con.sql(statement)  # binds only: names and types, nothing runs yet
    plan = plan_for(list(rel.columns), [t.id for t in rel.types])
    if job.kind == "query":
        rows, max_bytes = job.max_rows + 1, limits.max_result_bytes
        too_big = message("result_too_big", job.lang, max=human_bytes(max_bytes))
    else:
        rows, max_bytes = limits.max_download_rows + 1, limits.max_download_bytes
        too_big = message("download_too_big", job.lang, max=human_bytes(max_bytes))
    table = fetch(con, wrapped_sql(statement, plan), rows, max_bytes, too_big)
    bad_dates = out_of_range_dates(table, plan)
    if bad_dates:  # rare: fetch again with those columns as text, rather than fail later
        plan = plan.with_text(bad_dates)
        table = fetch(con, wrapped_sql(statement, plan), rows, max_bytes, too_big)
    check_cells(table, limits.max_cell_bytes, job.lang)
    more = table.num_rows > rows - 1
    table = table.slice(0, rows - 1)
    table, redacted = redact(table, secrets)
    if job.kind == "query":
        write_ipc(table, job_dir / RESULT_FILE)
        emit("rows", file=RESULT_FILE, rows=table.num_rows, truncated=more,
             converted=plan.converted, redacted=redacted)
        if more:
            emit("count", total=count_rows(con, statement))
        return
    write_export(job, table, more, job_dir / EXPORT_FILE)
    emit("file", file=EXPORT_FILE, rows=table.num_rows, capped=more,
         converted=plan.converted, redacted=redacted)


def write_export(job: Job, table: pa.Table, capped: bool, path: Path) -> None:
    import dataclasses

    import polars as pl

    from dashboard import exports
    from dashboard.sql_console import format_int, message

    if job.fmt == "arrow":
        write_ipc(table, path)
        return
    context = job.context
    if capped:
        # The file says it is cut, in the filters line (CSV header, Parquet metadata).
        note = message("download_capped_unknown", job.lang,
                       shown=format_int(job.limits.max_download_rows, job.lang))
        context = dataclasses.replace(context, filters={**context.filters, "limiet": note},
                                      caveats=[*context.caveats, note])
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    writer = exports.to_csv if job.fmt == "csv" else exports.to_parquet
    data = writer(frame, context)
    if len(data) > job.limits.max_download_bytes:
        raise Refused(message("download_too_big", job.lang,
                              max=human_bytes(job.limits.max_download_bytes)))
    path.write_bytes(data)


def explain(exc: BaseException, job: Job) -> str:
    """The researcher's message for anything the job raised."""
    import duckdb

    from dashboard.sql_console import ConsoleRefusal, explain_error, message

    limits = job.limits
    timeout_s = limits.timeout_s if job.kind == "query" else limits.download_timeout_s
    if isinstance(exc, ConsoleRefusal | Refused):
        return str(exc)
    if isinstance(exc, duckdb.Error):
        return explain_error(exc, timeout_s, limits.memory_mb, job.lang)
    if isinstance(exc, MemoryError):
        return message("worker_memory", job.lang, mb=limits.memory_mb)
    if isinstance(exc, OSError) and exc.errno == 27:  # EFBIG: over RLIMIT_FSIZE
        return message("download_too_big", job.lang,
                       max=human_bytes(limits.max_download_bytes))
    return f"{message('query', job.lang)}\nDuckDB: {type(exc).__name__}: {exc}"


CONFIG_ENV = "WMO_SQL_WORKER_CONFIG"


@dataclass
class Opened:
    """The database as this worker opened it before its job arrived."""

    path: str
    signature: tuple[int, int]
    con: duckdb.DuckDBPyConnection


def preopen(config: dict[str, Any], limits: Limits) -> Opened | None:
    """Open (and warm up) the database the pool expects the next job to use; None when there
    is none yet or it cannot be opened (the job then opens it and reports any error)."""
    from dashboard.db import file_signature

    path = config.get("db")
    if not path:
        return None
    try:
        signature = file_signature(path)
        con = open_database(path, limits, config["job_dir"])
        warm_up(con, limits)
    except Exception:
        LOG.warning("could not open %s in advance", path, exc_info=True)
        return None
    return Opened(path, signature, con)


def connection_for(job: Job, opened: Opened | None) -> duckdb.DuckDBPyConnection:
    """The pre-opened connection when it is the job's file and build, else a fresh one (a
    rebuild swapped in with os.replace has a new signature)."""
    from dashboard.db import file_signature

    if opened is not None:
        if opened.path == job.db_path and file_signature(job.db_path) == opened.signature:
            return opened.con
        opened.con.close()
    return open_database(job.db_path, job.limits, job.job_dir)


def main() -> int:
    # The protocol gets its own copy of stdout; anything else printed (a library, a Rust
    # panic message) goes to stderr, the server log, and cannot corrupt the protocol.
    protocol = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    logging.basicConfig(stream=sys.stderr, level=logging.INFO,
                        format="%(asctime)s wmo-sql-worker[%(process)d] %(levelname)s %(message)s")
    emit = Emitter(protocol)
    # Import everything a job needs before it arrives: that is what a warm worker saves.
    import polars  # noqa: F401
    import pyarrow.compute
    import pyarrow.ipc  # noqa: F401

    from dashboard import exports  # noqa: F401
    from dashboard.sql_console import ConsoleRefusal, scrub_paths, server_paths

    # The pool's limits and job folder come with the process, so the OS limits are in place
    # before DuckDB starts, even when it starts before the job arrives.
    config = json.loads(os.environ.get(CONFIG_ENV) or "{}")
    limits = Limits(**config["limits"]) if config.get("limits") else None
    if limits is not None:
        apply_limits(limits, max(limits.timeout_s, limits.download_timeout_s))
    opened = preopen(config, limits) if limits is not None else None
    try:
        emit("ready")
        job = pickle.load(sys.stdin.buffer)
    except (EOFError, BrokenPipeError):
        # The server closed us while we were idle (shut down, or the pool closed): nobody
        # will remove our folder, so we do.
        if config.get("job_dir"):
            shutil.rmtree(config["job_dir"], ignore_errors=True)
        return 0
    started = time.perf_counter()
    secrets = server_paths(job.db_path, job.job_dir)
    timeout_s = job.limits.timeout_s if job.kind == "query" else job.limits.download_timeout_s
    try:
        if limits is None:  # started without a configuration: limits before DuckDB starts
            apply_limits(job.limits, timeout_s)
        con = connection_for(job, opened)
        lock_for_job(con, timeout_s)
        run_job(job, con, emit, secrets)
    except BaseException as exc:  # everything becomes a message; the log keeps the detail
        # A refusal or a DuckDB error is the researcher's; one line is enough. Anything else
        # is ours, and the log gets its traceback.
        expected = isinstance(exc, ConsoleRefusal | Refused | duckdb.Error)
        LOG.log(logging.INFO if expected else logging.WARNING,
                "job %s failed after %.2f s: %r; sql=%.500r", job.kind,
                time.perf_counter() - started, exc, job.sql, exc_info=not expected)
        try:
            emit("error", message=scrub_paths(explain(exc, job), secrets))
        except BaseException:
            return 3  # even the message failed (out of memory): the server explains
        return 1
    LOG.info("job %s done in %.2f s", job.kind, time.perf_counter() - started)
    emit("done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
