"""SQL console figure: a typical researcher query through the guarded console, end to end.

The timed call is `run_readonly` on a `dashboard.db.Database` (statement check, cursor, row
limit, polars frame), which is what a click on "run" costs the app. The baseline is a plain
read-only DuckDB connection answering the same query with `.pl()`: the ratio shows what the
guard costs (below 1 means the guarded path is slower), not a speed-up.
"""

from __future__ import annotations

import duckdb

from bench.context import Run
from bench.harness import Baseline, Figure, Repeats, figure, measure
from dashboard.db import Database
from dashboard.sql_console import DEFAULT_MAX_ROWS, ConsoleResult, run_readonly

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

REPEATS = Repeats(min_runs=50, max_runs=400, target_s=4.0, warmup=3)
REPEATS_QUICK = Repeats(min_runs=20, max_runs=50, target_s=1.0, warmup=2)


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


def console_times(path: str, repeats: Repeats) -> tuple[list[float], int]:
    db = Database(path)
    try:
        rows = checked(run_readonly(db, TYPICAL_QUERY)).frame.height
        return to_ms(measure(lambda: checked(run_readonly(db, TYPICAL_QUERY)), repeats)), rows
    finally:
        db.close()


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
    repeats = bench.repeats(REPEATS, REPEATS_QUICK)
    times, rows = console_times(path, repeats)
    base = plain_times(path, repeats, rows)
    return [figure(
        "sql_console_typical_query_ms", "ms", times, 50.0,
        f"run_readonly on dashboard.db.Database: GROUP BY over out.gemeente_periode "
        f"({rows} result rows)",
        baseline=Baseline("plain duckdb.connect(read_only=True).sql(q).pl(), no guard", base))]
