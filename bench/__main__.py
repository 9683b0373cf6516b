"""Run the benchmark suite, print the table and write the results file.

    python -m bench                        every group; writes bench/results.json
    python -m bench --only exports,sql     some groups; writes a partial file under /tmp
    python -m bench --quick                fewer repeats; also partial

Only a full run (every group, normal repeats, fresh demo database) writes bench/results.json,
so a quick or partial run can never replace the published figures.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench import browser, build, exports, kaart, rechtspraak, sql, validate
from bench.context import ROOT, Group, Run
from bench.harness import Figure, format_table, machine, results_document, write_results

# One line per group; order is run order (the full-scale build last: it is the heaviest).
GROUPS: dict[str, Group] = {g.name: g for g in (
    Group("build", build.default_scale, "default-scale `wmo build`: time and database size"),
    Group("validate", validate.run, "`wmo validate` with a 200 000-row werkwijze register"),
    Group("exports", exports.run, "CSV/XLSX/Parquet exports vs pandas"),
    Group("sql", sql.run, "SQL console: a typical GROUP BY through run_readonly"),
    Group("rechtspraak", rechtspraak.run, "court rulings: fetch 10 000 documents from a "
          "loopback server, then uitspraak_rows"),
    Group("kaart", kaart.run, "Kaart page rerun after a period change vs a pandas+GeoJSON page"),
    Group("browser", browser.run, "real server + Chromium: first map, interactions, payload, "
          "20 concurrent sessions"),
    Group("build_full", build.full_scale, "full-scale `wmo build`: time and peak memory"),
    Group("kaart_full", kaart.run_full, "Kaart page rerun on a full-scale database"),
)}

RESULTS = ROOT / "bench" / "results.json"
PARTIAL = Path(tempfile.gettempdir()) / "wmo-bench" / "results.partial.json"

EXIT_OK, EXIT_OVER_BUDGET, EXIT_GROUP_FAILED = 0, 1, 2


@dataclass(frozen=True)
class Plan:
    groups: list[str]
    quick: bool
    db: Path | None
    out: Path

    @property
    def full(self) -> bool:
        return is_full_run(self.groups, self.quick, self.db)


def parse_groups(text: str | None, skip_full: bool = False,
                 known: Sequence[str] = tuple(GROUPS)) -> list[str]:
    """Selected group names in run order; raises ValueError naming any unknown group."""
    wanted = list(known) if text is None else [g.strip() for g in text.split(",") if g.strip()]
    unknown = [g for g in wanted if g not in known]
    if unknown:
        raise ValueError(f"unknown group(s) {', '.join(unknown)}; groups: {', '.join(known)}")
    selected = [g for g in known if g in wanted and not (skip_full and g == "build_full")]
    if not selected:
        raise ValueError(f"no group selected; groups: {', '.join(known)}")
    return selected


def is_full_run(groups: Sequence[str], quick: bool, db: Path | None,
                known: Sequence[str] = tuple(GROUPS)) -> bool:
    return list(groups) == list(known) and not quick and db is None


def results_path(full: bool, out: Path | None) -> Path:
    """bench/results.json for a full run, a scratch file otherwise; a partial run may not be
    pointed at bench/results.json."""
    if out is None:
        return RESULTS if full else PARTIAL
    if not full and out.resolve() == RESULTS.resolve():
        raise ValueError(f"only a full run writes {RESULTS}; this run is partial")
    return out


def parse_args(argv: Sequence[str] | None) -> Plan:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="groups: " + "; ".join(f"{g.name} ({g.description})" for g in GROUPS.values()))
    parser.add_argument("--only", metavar="GROUP[,GROUP]", help="run only these groups")
    parser.add_argument("--quick", action="store_true", help="fewer repeats (a partial run)")
    parser.add_argument("--skip-full", action="store_true", help="leave out build_full")
    parser.add_argument("--db", type=Path,
                        help="benchmark against this database instead of a fresh demo build")
    parser.add_argument("--out", type=Path, help=f"results file (default: {RESULTS} for a full "
                        f"run, {PARTIAL} otherwise)")
    parser.add_argument("--list", action="store_true", help="list the groups and exit")
    args = parser.parse_args(argv)
    if args.list:
        for g in GROUPS.values():
            print(f"{g.name:12} {g.description}")
        parser.exit()
    try:
        groups = parse_groups(args.only, args.skip_full)
        full = is_full_run(groups, args.quick, args.db)
        out = results_path(full, args.out)
    except ValueError as exc:
        parser.error(str(exc))
    return Plan(groups, args.quick, args.db, out)


def run_groups(plan: Plan, bench: Run) -> tuple[list[Figure], list[str]]:
    figures: list[Figure] = []
    failed: list[str] = []
    for name in plan.groups:
        started = time.perf_counter()
        print(f"== {name}: {GROUPS[name].description}", file=sys.stderr, flush=True)
        try:
            figures += GROUPS[name].run(bench)
        except Exception:
            # The other groups still run; the failure is shown and the run counts as partial.
            traceback.print_exc()
            failed.append(name)
        print(f"   {name} took {time.perf_counter() - started:.0f} s", file=sys.stderr,
              flush=True)
    return figures, failed


def main(argv: Sequence[str] | None = None) -> int:
    plan = parse_args(argv)
    started = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="wmo-bench-"))
    load_before = machine()["load_average_1m"]
    try:
        figures, failed = run_groups(plan, Run(work=work, quick=plan.quick, db=plan.db))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    out = plan.out if not failed or plan.out != RESULTS else PARTIAL
    info = {"groups": plan.groups, "failed_groups": failed, "quick": plan.quick,
            "full": plan.full and not failed, "database": str(plan.db) if plan.db else "demo",
            "duration_s": round(time.perf_counter() - started, 1),
            "load_average_1m_at_start": load_before}
    print(format_table(figures))
    write_results(out, results_document(figures, machine(info)))
    print(f"\nwrote {out} ({'full' if info['full'] else 'partial'} run, "
          f"{info['duration_s']:.0f} s)", file=sys.stderr)
    if failed:
        print(f"failed groups: {', '.join(failed)}", file=sys.stderr)
        return EXIT_GROUP_FAILED
    return EXIT_OK if all(f.within is not False for f in figures) else EXIT_OVER_BUDGET


if __name__ == "__main__":
    sys.exit(main())
