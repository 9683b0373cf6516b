"""Run the benchmark suite, print the table and write bench/results.json."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

from bench.harness import Figure, figure, print_table, run_child, write_results

ROOT = Path(__file__).resolve().parents[1]
WMO = str(ROOT / ".venv" / "bin" / "wmo")


def snapshot_dir() -> str:
    return os.environ.get("WMO_SNAPSHOT_DIR", str(ROOT.parent / "shared" / "snapshot"))


def bench_build(work: Path, scale: str, repeats: int) -> tuple[list[float], list[float], Path]:
    raw, db = work / f"raw-{scale}", work / f"wmo-{scale}.duckdb"
    run_child([WMO, "demo", "--out", str(raw), "--scale", scale, "--snapshot", snapshot_dir()])
    times, rss = [], []
    for _ in range(repeats):
        elapsed, peak = run_child([WMO, "build", "--raw", str(raw), "--db", str(db),
                                   "--snapshot", snapshot_dir()])
        times.append(elapsed)
        rss.append(peak)
    return times, rss, db


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--full-repeats", type=int, default=3)
    parser.add_argument("--skip-full", action="store_true", help="only the default scale")
    args = parser.parse_args()
    figures: list[Figure] = []
    work = Path(tempfile.mkdtemp(prefix="wmo-bench-"))
    try:
        times, _, db = bench_build(work, "default", args.repeats)
        figures.append(figure("etl_build_default_s", "s", times, 10.0,
                              "wall time of `wmo build`, process start to exit"))
        size = db.stat().st_size / 1e6
        figures.append(figure("db_size_default_mb", "MB", [size], 50.0))
        if not args.skip_full:
            times, rss, _ = bench_build(work, "full", args.full_repeats)
            figures.append(figure("etl_build_full_s", "s", times, 60.0))
            figures.append(figure("etl_build_full_peak_rss_mb", "MB", rss, 1500.0,
                                  "peak resident memory of the build process"))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print_table(figures)
    write_results(ROOT / "bench" / "results.json", figures)
    return 0 if all(f.within is not False for f in figures) else 1


if __name__ == "__main__":
    sys.exit(main())
