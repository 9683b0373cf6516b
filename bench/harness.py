"""Timing helpers: repeated runs, medians and p95, baselines and ratios, the results file.

Everything that decides a number (percentiles, ratios, verdicts, the shape of results.json,
the printed table) is a pure function here, so tests/test_bench.py can check it without
timing anything.
"""

from __future__ import annotations

import gc
import json
import os
import platform
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

COLLECT_ABOVE_S = 0.05
VERSIONED_PACKAGES = ("duckdb", "polars", "pyarrow", "pandas", "numpy", "xlsxwriter",
                      "streamlit", "altair", "geopandas")


@dataclass(frozen=True)
class Figure:
    """One benchmark figure; `ratio` = baseline median / median (> 1: wmo-atlas is faster)."""

    name: str
    unit: str
    median: float
    p95: float
    budget: float | None
    within: bool | None
    runs: int
    note: str = ""
    judged_on: str = "p95"
    baseline: str | None = None
    baseline_median: float | None = None
    baseline_p95: float | None = None
    baseline_runs: int | None = None
    ratio: float | None = None


@dataclass(frozen=True)
class Baseline:
    """The plain approach measured in the same run, and what it is."""

    description: str
    values: list[float]


@dataclass(frozen=True)
class Repeats:
    """How often to time a call: `warmup` untimed calls, then at least `min_runs` timed ones,
    continuing while under `max_runs` and under `target_s` seconds of timed work in total.

    The time target lets fast calls get many runs (a stable median) while slow ones stop
    after `min_runs`, which keeps the whole suite within its wall-time budget.
    """

    min_runs: int
    max_runs: int
    target_s: float = 0.0
    warmup: int = 1

    def __post_init__(self) -> None:
        # Medians and p95 of a single run are not figures; the suite never reports one.
        if self.min_runs < 2 or self.max_runs < self.min_runs or self.warmup < 0:
            raise ValueError(f"bad repeats: {self}")


def p95(values: Sequence[float]) -> float:
    """Nearest-rank 95th percentile: the smallest value with at least 95 % of runs at or below.

    With fewer than 20 runs this is the maximum, which is the honest answer for few runs.
    """
    if not values:
        raise ValueError("p95 of no values")
    ordered = sorted(values)
    rank = -(-95 * len(ordered) // 100)  # ceil(0.95 n) in integers: no floating-point edge
    return ordered[rank - 1]


def median(values: Sequence[float]) -> float:
    if not values:
        raise ValueError("median of no values")
    return statistics.median(values)


def ratio(baseline_median: float | None, value_median: float) -> float | None:
    """How many times faster than the baseline (baseline / wmo-atlas); None without one."""
    if baseline_median is None or value_median <= 0:
        return None
    return round(baseline_median / value_median, 2)


def judged(values: Sequence[float], judged_on: str) -> float:
    """The statistic a verdict compares with the budget: p95 or median."""
    if judged_on not in ("p95", "median"):
        raise ValueError(f"judged_on must be p95 or median, got {judged_on!r}")
    return p95(values) if judged_on == "p95" else median(values)


def relative_budget(floor: Sequence[float], margin: float, judged_on: str = "p95",
                    digits: int = 3) -> float:
    """A budget set by a calibration measured in the same run: the floor's `judged_on`
    statistic plus `margin`. On a shared machine both move with the load, so the verdict is
    about what the page adds, not about how busy the machine was."""
    return round(judged(floor, judged_on) + margin, digits)


def figure(name: str, unit: str, values: Sequence[float], budget: float | None,
           note: str = "", judged_on: str = "p95", baseline: Baseline | None = None) -> Figure:
    """Summarise runs into a Figure; the verdict compares `judged_on` (p95 or median)."""
    med, high = median(values), p95(values)
    judged_value = judged(values, judged_on)
    base_med = median(baseline.values) if baseline else None
    return Figure(
        name=name, unit=unit, median=round(med, 4), p95=round(high, 4), budget=budget,
        within=None if budget is None else judged_value <= budget, runs=len(values), note=note,
        judged_on=judged_on,
        baseline=baseline.description if baseline else None,
        baseline_median=None if base_med is None else round(base_med, 4),
        baseline_p95=round(p95(baseline.values), 4) if baseline else None,
        baseline_runs=len(baseline.values) if baseline else None,
        ratio=ratio(base_med, med),
    )


def measure(call: Callable[[], T], repeats: Repeats, check: Callable[[T], None] | None = None,
            clock: Callable[[], float] = time.perf_counter) -> list[float]:
    """Seconds per call. `check` sees the first result (warm-up or timed), outside the timing:
    a benchmark of a call that silently returns nothing useful must fail, not look fast."""
    checked = check is None
    for _ in range(repeats.warmup):
        result = call()
        if not checked:
            check(result)  # type: ignore[misc]
            checked = True
        del result  # large outputs (a 165 MB CSV) must not pile up between runs
    times: list[float] = []
    while len(times) < repeats.min_runs or (
            len(times) < repeats.max_runs and sum(times) < repeats.target_s):
        if not times or times[-1] >= COLLECT_ABOVE_S:
            # Garbage of the previous run should not be collected inside the next timed one.
            # Skipped between fast calls: a full collection (0.1 s here) would cost more wall
            # time than the calls themselves, and the app pays such pauses between reruns too.
            gc.collect()
        start = clock()
        result = call()
        times.append(clock() - start)
        if not checked:
            check(result)  # type: ignore[misc]
            checked = True
        del result
    return times


HWM_POLL_S = 0.01


def _vm_hwm_kib(pid: int) -> int | None:
    """The high-water mark of the process's own memory (VmHWM), or None once it has exited."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def _watch_hwm(pid: int, peak: list[int], done: threading.Event) -> None:
    while not done.is_set():
        kib = _vm_hwm_kib(pid)
        if kib is None:
            return
        peak[0] = max(peak[0], kib)
        done.wait(HWM_POLL_S)


def run_child(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one child process; raises if it fails.

    The peak is the child's own VmHWM, read while it runs. wait4's ru_maxrss is not: Linux
    carries the parent's high-water mark over fork and exec, so once the bench process itself
    had grown (a full run, after the export and browser groups) every child "peaked" at the
    parent's size (1 528 MB for a build whose own peak is about 1 250 MB).
    """
    # stderr goes to a file, not a pipe: nobody reads a pipe while wait4 blocks, and a chatty
    # child would stall on a full one.
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, env={**os.environ, **(env or {})},
                                stdout=subprocess.DEVNULL, stderr=err)
        peak, done = [0], threading.Event()
        watcher = threading.Thread(target=_watch_hwm, args=(proc.pid, peak, done), daemon=True)
        watcher.start()
        _, status, usage = os.wait4(proc.pid, 0)
        done.set()
        watcher.join()
        elapsed = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            err.seek(0)
            tail = err.read().decode(errors="replace")[-2000:]
            raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{tail}")
    # Both in KiB on Linux; ru_maxrss only when /proc could not be read at all.
    return elapsed, (peak[0] or usage.ru_maxrss) / 1024


def _package_version(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def _meminfo_gb() -> float | None:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def _cpu_model() -> str | None:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def machine(run_info: dict[str, Any] | None = None) -> dict[str, Any]:
    """The machine object of results.json. The load average is there because the machine is
    shared: figures measured next to other work are upper bounds."""
    return {
        "name": "machine",
        "cores": os.cpu_count(),
        "memory_gb": _meminfo_gb(),
        "cpu": _cpu_model(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": {p: _package_version(p) for p in VERSIONED_PACKAGES},
        "load_average_1m": round(os.getloadavg()[0], 2),
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "run": run_info or {},
    }


def results_document(figures: Sequence[Figure], machine_info: dict[str, Any]) -> list[dict]:
    """What results.json holds: one object per figure, then the machine object."""
    if machine_info.get("name") != "machine":
        raise ValueError("the machine object must be named 'machine'")
    names = [f.name for f in figures]
    if len(set(names)) != len(names):
        raise ValueError(f"duplicate figure names: {names}")
    return [asdict(f) for f in figures] + [machine_info]


def write_results(path: Path, document: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(document, indent=2) + "\n")
    tmp.replace(path)  # readers never see a half-written file


def _num(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.3f}" if abs(value) < 1000 else f"{value:,.0f}"


def verdict(f: Figure) -> str:
    return "-" if f.within is None else ("within" if f.within else "OVER")


def format_table(figures: Sequence[Figure]) -> str:
    head = (f"{'figure':32} {'median':>9} {'p95':>9} {'budget':>9} {'result':>7}  "
            f"{'baseline':>9} {'ratio':>7}  runs")
    lines = [head, "-" * len(head)]
    for f in figures:
        budget = "-" if f.budget is None else f"{f.budget:g}"
        ratio_text = "-" if f.ratio is None else f"{f.ratio:.2f}x"
        runs = f"n={f.runs}" + (f"/{f.baseline_runs}" if f.baseline_runs else "")
        lines.append(f"{f.name:32} {_num(f.median):>9} {_num(f.p95):>9} {budget:>9} "
                     f"{verdict(f):>7}  {_num(f.baseline_median):>9} {ratio_text:>7}  "
                     f"{runs} [{f.unit}, judged on {f.judged_on}]")
    return "\n".join(lines)
