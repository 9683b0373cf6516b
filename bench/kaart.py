"""Map page figures: a server-side rerun of the Kaart page after the period changes.

Timed with AppTest: the whole page script runs (URL state, queries, classes, chart spec,
Streamlit's serialisation), as a rerun on a server would. Every period is visited in turn, so
the first pass is cold (nothing memoised for that period) and later passes are warm; the
figure reports both together. The baseline is bench/baseline/kaart_app.py (pandas +
GeoDataFrame merge + GeoJSON inline on every rerun), timed the same way on the same database.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import polars as pl
from streamlit.testing.v1 import AppTest

from bench.context import ROOT, Run, snapshot_dir, wmo_command
from bench.harness import Baseline, Figure, figure, run_child
from dashboard.views.kaart import KLASSEN

APP = str(ROOT / "dashboard" / "app.py")
BASELINE_APP = str(ROOT / "bench" / "baseline" / "kaart_app.py")
PASSES, PASSES_QUICK = 2, 1
BASELINE_PASSES = 1  # 31 reruns of >1 s each are plenty for a stable median


@contextmanager
def database_env(db: Path) -> Iterator[None]:
    old = os.environ.get("WMO_DB")
    os.environ["WMO_DB"] = str(db)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("WMO_DB", None)
        else:
            os.environ["WMO_DB"] = old


def _check(at: AppTest, expect_in_title: str) -> None:
    if at.exception:
        raise RuntimeError(f"the page failed during the benchmark: {at.exception[0].value}")
    chart = at.get("vega_lite_chart")[0].proto
    spec = json.loads(chart.spec)
    title = spec["title"]["text"] if isinstance(spec.get("title"), dict) else spec.get("title")
    if isinstance(title, dict):  # wmo-atlas: an expression over the `klassen` dataset
        title = [pl.read_ipc_stream(d.data.data)["titel"][0] for d in chart.datasets
                 if d.name == KLASSEN]
    if expect_in_title not in str(title):
        raise RuntimeError(f"map title {title!r} does not show the chosen {expect_in_title!r}")


def rerun_times(app: str, db: Path, passes: int, options_are_labels: bool) -> list[float]:
    """Milliseconds per rerun after choosing each period of the selectbox in turn."""
    with database_env(db):
        at = AppTest.from_file(app, default_timeout=120).run()
        box = at.selectbox(key="kaart_periode")
        options = list(box.options)
        times: list[float] = []
        for _ in range(passes):
            for option in options[1:] + options[:1]:
                start = time.perf_counter()
                at.selectbox(key="kaart_periode").select(option).run()
                times.append((time.perf_counter() - start) * 1000)
                # '2024*' is shown as the label, the title carries it too
                _check(at, option if options_are_labels else option[:4])
    return times


def rerun_figures(db: Path, passes: int, name: str, budget: float,
                  with_baseline: bool) -> list[Figure]:
    ours = rerun_times(APP, db, passes, options_are_labels=True)
    base = None
    if with_baseline:
        base = Baseline("pandas read + GeoDataFrame merge + GeoJSON inline per rerun "
                        "(bench/baseline/kaart_app.py), same AppTest timing",
                        rerun_times(BASELINE_APP, db, BASELINE_PASSES,
                                    options_are_labels=False))
    return [figure(name, "ms", ours, budget,
                   f"AppTest rerun of the Kaart page after a period change, {passes} passes "
                   "over every period (first pass cold)", baseline=base)]


def run(bench: Run) -> list[Figure]:
    passes = PASSES_QUICK if bench.quick else PASSES
    return rerun_figures(bench.demo_db(), passes, "kaart_rerun_ms", 100.0, with_baseline=True)


def run_full(bench: Run) -> list[Figure]:
    """The same figure on a full-scale database (5.9 M fact rows), budget 150 ms."""
    db = bench.work / "wmo-full.duckdb"  # left by the build_full group when it ran
    if not db.exists():
        run_child([*wmo_command(), "build", "--raw", str(bench.demo_raw("full")), "--db",
                   str(db), "--snapshot", snapshot_dir()])
    try:
        # The baseline ratio is reported at default scale; here only the budget matters.
        return rerun_figures(db, PASSES_QUICK, "kaart_rerun_full_ms", 150.0,
                             with_baseline=False)
    finally:
        db.unlink(missing_ok=True)
