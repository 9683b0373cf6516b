"""SQL console figures: a typical researcher query through the sandboxed console, end to end,
and what starting a worker process costs.

`sql_console_typical_query_ms` times `run_readonly` on a `dashboard.db.Database`, which is what
a click on "Uitvoeren" costs: a warm worker process takes the job (statement checks, a locked
read-only connection, the query, Arrow IPC back to the server, a polars frame). Before each
timed run the benchmark waits, untimed, until the replacement worker is warm, as it is for a
visitor who reads the result before the next click. The baseline is a plain read-only DuckDB
connection answering the same query with `.pl()` in the server process: the ratio shows what
the sandbox costs (below 1 means the sandboxed path is slower), not a speed-up.

`sql_worker_start_ms` is the cost that the warm pool hides: from starting
`python -m dashboard.sql_worker` to its "ready" (imports done). A query only pays it when
more queries arrive than there are warm workers.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from pathlib import Path

import duckdb

from bench.context import Run
from bench.harness import Baseline, Figure, Repeats, figure, measure
from dashboard.db import Database
from dashboard.sql_console import DEFAULT_MAX_ROWS, ConsoleResult, run_readonly
from dashboard.sql_limits import limits_from_env
from dashboard.sql_sandbox import START_TIMEOUT_S, Pool, Worker

# Yearly figures per provincie and werkwijze: a GROUP BY over the whole of out.gemeente_periode
# whose answer (a few hundred rows) fits on one console page, so no count query is added.
TYPICAL_QUERY = """
SELECT provincie_naam, jaar, werkwijze_hbh,
       count(DISTINCT gemeente_code) AS gemeenten,
       sum(clienten) AS clienten,
       round(1000 * sum(clienten) / sum(inwoners), 1) AS clienten_per_1000
FROM out.gemeente_periode
WHERE halfjaar IS NULL
GROUP BY ALL
ORDER BY ALL
"""

# Each sandboxed run also starts a replacement worker (about 1 s of CPU on 2 cores), so the
# console gets fewer runs than the in-process baseline.
REPEATS = Repeats(min_runs=30, max_runs=60, target_s=3.0, warmup=2)
REPEATS_QUICK = Repeats(min_runs=10, max_runs=15, target_s=1.0, warmup=1)
BASE_REPEATS = Repeats(min_runs=50, max_runs=400, target_s=4.0, warmup=3)
BASE_REPEATS_QUICK = Repeats(min_runs=20, max_runs=50, target_s=1.0, warmup=2)
START_REPEATS = Repeats(min_runs=5, max_runs=10, target_s=5.0, warmup=1)
START_REPEATS_QUICK = Repeats(min_runs=3, max_runs=3, target_s=0.0, warmup=0)


def checked(result: ConsoleResult) -> ConsoleResult:
    # Checked on every run: an error answer is fast, and must never pass for a quick query.
    if result.error is not None:
        raise RuntimeError(f"the benchmark query failed in the console:\n{result.error}")
    if result.truncated or result.frame.height == 0:
        raise RuntimeError(f"the benchmark query gave {result.frame.height} rows (truncated: "
                           f"{result.truncated}); it should give 1 to {DEFAULT_MAX_ROWS}")
    return result


def to_ms(seconds: list[float]) -> list[float]:
    return [s * 1000 for s in seconds]


def timed_after(prepare: Callable[[], None], call: Callable[[], object],
                repeats: Repeats) -> list[float]:
    """Seconds per `call`, with an untimed `prepare` before each (warm-up runs included)."""
    for _ in range(repeats.warmup):
        prepare()
        call()
    times: list[float] = []
    while len(times) < repeats.min_runs or (
            len(times) < repeats.max_runs and sum(times) < repeats.target_s):
        prepare()
        gc.collect()
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return times


def console_times(path: str, repeats: Repeats) -> tuple[list[float], int]:
    db = Database(path)
    pool = Pool(limits_from_env())
    try:
        def warm() -> None:
            if not pool.wait_warm(db.path):
                raise RuntimeError("no SQL console worker became ready")

        warm()
        rows = checked(run_readonly(db, TYPICAL_QUERY, pool=pool)).frame.height
        return to_ms(timed_after(warm, lambda: checked(run_readonly(db, TYPICAL_QUERY,
                                                                      pool=pool)),
                                 repeats)), rows
    finally:
        pool.close()
        db.close()


def start_times(path: str, repeats: Repeats) -> list[float]:
    def start() -> None:
        worker = Worker(limits_from_env(), Path(path))
        try:
            if not worker.wait_ready(time.monotonic() + START_TIMEOUT_S):
                raise RuntimeError("the SQL console worker did not start")
        finally:
            worker.kill()

    return to_ms(timed_after(lambda: None, start, repeats))


def plain_times(path: str, repeats: Repeats, rows: int) -> list[float]:
    con = duckdb.connect(path, read_only=True)

    def check(height: int) -> None:
        if height != rows:
            raise RuntimeError(f"plain DuckDB gave {height} rows, the console {rows}")

    try:
        return to_ms(measure(lambda: con.sql(TYPICAL_QUERY).pl().height, repeats, check))
    finally:
        con.close()


def run(bench: Run) -> list[Figure]:
    path = str(bench.demo_db())
    times, rows = console_times(path, bench.repeats(REPEATS, REPEATS_QUICK))
    base = plain_times(path, bench.repeats(BASE_REPEATS, BASE_REPEATS_QUICK), rows)
    starts = start_times(path, bench.repeats(START_REPEATS, START_REPEATS_QUICK))
    return [
        # 100 ms, not the 50 ms of the in-process console: the sandbox adds a process hand-off
        # and a fresh worker per query (~25-40 ms on 2 cores), which buys the hard limits.
        figure("sql_console_typical_query_ms", "ms", times, 100.0,
               f"run_readonly through a warm sandbox worker: GROUP BY over "
               f"out.gemeente_periode ({rows} result rows)",
               baseline=Baseline("plain duckdb.connect(read_only=True).sql(q).pl() in the "
                                 "server process, no sandbox", base)),
        figure("sql_worker_start_ms", "ms", starts, 3000.0,
               "python -m dashboard.sql_worker to 'ready' (imports, database opened and warmed "
               "up); hidden by the warm pool unless queries outnumber warm workers"),
    ]
