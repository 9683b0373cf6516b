"""Export figures: dashboard/exports.py against the plain pandas approach, same rows, same run.

Input: out.gemeente_periode of the demo database, repeated to the figure's row count (same
columns and types as a real view). Both sides start from a frame in memory and end with the
bytes a download button would serve; reading the database is not part of either timing.
wmo-atlas writes provenance into every file and the baseline does not, so the comparison, if
anything, favours the baseline.
"""

from __future__ import annotations

import io
import math
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass

import duckdb
import pandas as pd
import polars as pl
import pyarrow.parquet as pq

from bench.context import Run
from bench.harness import Baseline, Figure, Repeats, figure, measure
from dashboard import exports
from dashboard.exports import ExportContext

SOURCE_QUERY = "SELECT * FROM out.gemeente_periode"
MILLION, HUNDRED_K = 1_000_000, 100_000

# wmo-atlas side: about a second per call. At least 20 runs, so that the p95 the budget is
# judged on is not simply the slowest run (one hiccup on a shared machine).
REPEATS = Repeats(min_runs=20, max_runs=25, target_s=15.0)
REPEATS_QUICK = Repeats(min_runs=3, max_runs=3)
# The pandas baselines take 15-45 s per call for CSV and XLSX here, so those stop after two
# runs (enough for the ratio's median; their p95 is not judged); parquet gets five.
BASELINE_REPEATS = Repeats(min_runs=2, max_runs=5, target_s=30.0, warmup=0)
BASELINE_REPEATS_QUICK = Repeats(min_runs=2, max_runs=2, warmup=0)


def repeat_rows(frame: pl.DataFrame, rows: int) -> pl.DataFrame:
    """`frame` stacked onto itself and cut at exactly `rows` rows (columns and types kept)."""
    if frame.height == 0:
        raise ValueError("cannot build benchmark rows from an empty frame")
    return pl.concat([frame] * math.ceil(rows / frame.height)).head(rows)


def repeat_rows_pandas(frame: pd.DataFrame, rows: int) -> pd.DataFrame:
    if len(frame) == 0:
        raise ValueError("cannot build benchmark rows from an empty frame")
    copies = math.ceil(rows / len(frame))
    return pd.concat([frame] * copies, ignore_index=True).head(rows)


# --- output checks (run once per figure, outside the timing) --------------------------------

def csv_rows(data: bytes) -> int:
    return pl.read_csv(io.BytesIO(data), comment_prefix="#", infer_schema=False).height


def parquet_rows(data: bytes) -> int:
    return pq.read_metadata(io.BytesIO(data)).num_rows


def xlsx_rows(data: bytes) -> int:
    """Data rows of the first sheet: the highest row number minus the rows up to the header
    (row 1 for pandas; ours has a notice row above it, and its autofilter names the header)."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        sheet = z.read("xl/worksheets/sheet1.xml")
    last = sheet.rfind(b'<row r="')
    if last < 0:
        return 0
    start = last + len(b'<row r="')
    header = re.search(rb'<autoFilter ref="[A-Z]+(\d+)', sheet)
    return int(sheet[start:sheet.index(b'"', start)]) - (int(header.group(1)) if header else 1)


def expect_rows(count: Callable[[bytes], int], rows: int) -> Callable[[bytes], None]:
    def check(data: bytes) -> None:
        got = count(data)
        if got != rows:
            raise AssertionError(f"export holds {got} data rows, expected {rows}")
    return check


# --- the plain approach ---------------------------------------------------------------------

def pandas_csv(df: pd.DataFrame) -> bytes:
    return df.to_csv(index=False).encode("utf-8")


def pandas_xlsx(df: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    df.to_excel(buf, index=False, engine="xlsxwriter")  # openpyxl is not installed
    return buf.getvalue()


def pandas_parquet(df: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    df.to_parquet(buf, index=False)
    return buf.getvalue()


@dataclass(frozen=True)
class ExportCase:
    name: str
    rows: int
    budget_s: float
    ours: Callable[[pl.DataFrame, ExportContext], bytes]
    baseline: Callable[[pd.DataFrame], bytes]
    baseline_text: str
    count: Callable[[bytes], int]


CASES = (
    ExportCase("export_csv_1m_rows_s", MILLION, 2.0, exports.to_csv, pandas_csv,
               "pandas DataFrame.to_csv(index=False), encoded UTF-8", csv_rows),
    ExportCase("export_xlsx_100k_rows_s", HUNDRED_K, 5.0, exports.to_xlsx, pandas_xlsx,
               "pandas DataFrame.to_excel(engine='xlsxwriter')", xlsx_rows),
    ExportCase("export_parquet_1m_rows_s", MILLION, 1.0, exports.to_parquet, pandas_parquet,
               "pandas DataFrame.to_parquet(index=False) (pyarrow, snappy)", parquet_rows),
)


def load_source(db_path: str) -> tuple[pl.DataFrame, pd.DataFrame, ExportContext]:
    """The view as polars (wmo-atlas) and as pandas via DuckDB's .df() (the plain approach)."""
    con = duckdb.connect(db_path, read_only=True)
    try:
        frame = con.sql(SOURCE_QUERY).pl()
        df = con.sql(SOURCE_QUERY).df()
        ctx = exports.context_from_db(con, "benchmark: out.gemeente_periode", {})
    finally:
        con.close()
    return frame, df, ctx


def time_ours(case: ExportCase, frame: pl.DataFrame, ctx: ExportContext,
              repeats: Repeats) -> list[float]:
    rows = repeat_rows(frame, case.rows)  # lives only in this call: 1 M rows is ~140 MB
    return measure(lambda: case.ours(rows, ctx), repeats, expect_rows(case.count, case.rows))


def time_baseline(case: ExportCase, df: pd.DataFrame, repeats: Repeats) -> list[float]:
    rows = repeat_rows_pandas(df, case.rows)
    return measure(lambda: case.baseline(rows), repeats, expect_rows(case.count, case.rows))


def time_case(case: ExportCase, frame: pl.DataFrame, df: pd.DataFrame, ctx: ExportContext,
              repeats: Repeats, baseline_repeats: Repeats) -> Figure:
    times = time_ours(case, frame, ctx, repeats)
    base_times = time_baseline(case, df, baseline_repeats)
    return figure(case.name, "s", times, case.budget_s,
                  f"dashboard/exports.py, {case.rows:,} rows of out.gemeente_periode "
                  "(repeated), provenance included",
                  baseline=Baseline(case.baseline_text, base_times))


def run(bench: Run) -> list[Figure]:
    frame, df, ctx = load_source(str(bench.demo_db()))
    repeats = bench.repeats(REPEATS, REPEATS_QUICK)
    baseline_repeats = bench.repeats(BASELINE_REPEATS, BASELINE_REPEATS_QUICK)
    return [time_case(case, frame, df, ctx, repeats, baseline_repeats) for case in CASES]
