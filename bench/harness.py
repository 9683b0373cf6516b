"""Timing helpers: repeated runs, medians and p95, peak memory of child processes."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import time
from dataclasses import asdict, dataclass
from importlib.metadata import version
from pathlib import Path


@dataclass(frozen=True)
class Figure:
    name: str
    unit: str
    median: float
    p95: float
    budget: float | None
    within: bool | None
    runs: int
    note: str = ""


def p95(values: list[float]) -> float:
    """Nearest-rank 95th percentile (with few runs this is the maximum, as it should be)."""
    ordered = sorted(values)
    rank = max(1, round(0.95 * len(ordered) + 0.499999))
    return ordered[min(rank, len(ordered)) - 1]


def figure(name: str, unit: str, values: list[float], budget: float | None,
           note: str = "", use: str = "p95") -> Figure:
    med, high = statistics.median(values), p95(values)
    judged = high if use == "p95" else med
    return Figure(name, unit, round(med, 4), round(high, 4), budget,
                  None if budget is None else judged <= budget, len(values), note)


def run_child(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one child process; raises if it fails."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env={**os.environ, **(env or {})},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err[-2000:]}")
    return elapsed, usage.ru_maxrss / 1024  # ru_maxrss is KiB on Linux


def machine() -> dict:
    mem_kb = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    return {
        "name": "machine",
        "cores": os.cpu_count(),
        "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": {p: version(p) for p in ("duckdb", "polars", "streamlit", "altair",
                                             "geopandas", "pyarrow")},
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def write_results(path: Path, figures: list[Figure]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps([asdict(f) for f in figures] + [machine()], indent=2) + "\n")
    tmp.replace(path)


def print_table(figures: list[Figure]) -> None:
    print(f"{'figure':34} {'median':>10} {'p95':>10} {'budget':>10}  result")
    for f in figures:
        verdict = "-" if f.within is None else ("within" if f.within else "OVER")
        budget = "-" if f.budget is None else f"{f.budget:g}"
        print(f"{f.name:34} {f.median:>10.3f} {f.p95:>10.3f} {budget:>10}  {verdict}"
              f"  [{f.unit}, n={f.runs}]")
