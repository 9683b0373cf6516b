"""Build figures: each build is a fresh `wmo build` process, timed from start to exit.

Two groups, so the heavy full-scale one can be left out (`--only build,...`) without losing the
default-scale figures.
"""

from __future__ import annotations

from pathlib import Path

from bench.context import Run, snapshot_dir, wmo_command
from bench.harness import Figure, figure, run_child

DEFAULT_RUNS, DEFAULT_RUNS_QUICK = 5, 3
FULL_RUNS, FULL_RUNS_QUICK = 3, 2


def timed_builds(raw: Path, db: Path, runs: int) -> tuple[list[float], list[float]]:
    """Wall seconds and peak RSS (MB) of `runs` builds of `raw` into `db`."""
    times, rss = [], []
    for _ in range(runs):
        elapsed, peak = run_child([*wmo_command(), "build", "--raw", str(raw), "--db", str(db),
                                   "--snapshot", snapshot_dir()])
        times.append(elapsed)
        rss.append(peak)
    return times, rss


def default_scale(run: Run) -> list[Figure]:
    db = run.default_db_path()  # left behind for the groups that read a demo database
    times, _ = timed_builds(run.demo_raw("default"), db,
                            DEFAULT_RUNS_QUICK if run.quick else DEFAULT_RUNS)
    size_mb = db.stat().st_size / 1e6
    return [
        figure("etl_build_default_s", "s", times, 10.0,
               "wall time of `wmo build`, process start to exit"),
        # A size, not a timing: one measurement is exact.
        figure("db_size_default_mb", "MB", [size_mb], 50.0,
               "size of the default-scale database file"),
    ]


def full_scale(run: Run) -> list[Figure]:
    db = run.work / "wmo-full.duckdb"
    times, rss = timed_builds(run.demo_raw("full"), db, FULL_RUNS_QUICK if run.quick else FULL_RUNS)
    # Left for the kaart_full group, which deletes it (hundreds of MB of scratch).
    return [
        figure("etl_build_full_s", "s", times, 60.0,
               "wall time of `wmo build` on the full-scale demo (5.9 M fact rows)"),
        figure("etl_build_full_peak_rss_mb", "MB", rss, 1500.0,
               "peak resident memory of the build process"),
    ]
