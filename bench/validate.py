"""`wmo validate` on a raw folder whose werkwijze register has 200 000 rows (issue 13 §3).

The committed register has a few hundred rows; this one is generated so that the register
checks, not the CBS tables, dominate: every current gemeente, both voorzieningen, consecutive
periods of ten days with the method switching every ten rows. It is valid throughout (no
conflicts), so validate runs to the end, as it would on a large, sound register.
"""

from __future__ import annotations

import csv
import shutil
from datetime import date, timedelta
from pathlib import Path

import duckdb

from bench.context import Run, snapshot_dir, wmo_command
from bench.harness import Figure, figure, run_child
from etl.sources.registers import VOORZIENINGEN, WERKWIJZE_COLUMNS

REGISTER_ROWS = 200_000
RUNS, RUNS_QUICK = 3, 1
FIRST_DAY = date(2015, 1, 1)
PERIOD_DAYS = 10
METHODS = ("resultaatgericht", "uren")


def werkwijze_rows(codes: list[str], rows: int) -> list[dict[str, str]]:
    """`rows` valid register rows spread evenly over the codes and both voorzieningen."""
    subjects = [(code, voorziening) for code in codes for voorziening in VOORZIENINGEN]
    out = []
    for i in range(rows):
        code, voorziening = subjects[i % len(subjects)]
        k = i // len(subjects)  # the k-th period of this gemeente and voorziening
        vanaf = FIRST_DAY + timedelta(days=k * PERIOD_DAYS)
        out.append({
            "gemeente_code": code, "gemeente_naam": f"Gemeente {code}",
            "voorziening": voorziening, "werkwijze": METHODS[(k // 10) % 2],
            "geldig_vanaf": vanaf.isoformat(),
            "geldig_tot": (vanaf + timedelta(days=PERIOD_DAYS)).isoformat(),
            "bron_url": f"https://example.nl/bron/{i}", "bron_type": "regelgeving",
            "bron_omschrijving": "gegenereerd voor de benchmark", "peildatum": vanaf.isoformat(),
        })
    return out


def write_register(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=WERKWIJZE_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def lasting_codes(db: Path) -> list[str]:
    """Gemeenten that exist from before 2015 until now: valid for every generated period."""
    with duckdb.connect(str(db), read_only=True) as con:
        found = con.execute("SELECT gemeente_code FROM core.gemeente WHERE geldig_vanaf IS NULL "
                            "AND geldig_tot IS NULL ORDER BY gemeente_code").fetchall()
    return [code for (code,) in found]


def run(bench: Run) -> list[Figure]:
    raw = bench.work / "raw-big-register"
    if not raw.exists():
        shutil.copytree(bench.demo_raw("default"), raw)
        write_register(raw / "registers" / "werkwijze.csv",
                       werkwijze_rows(lasting_codes(bench.demo_db()), REGISTER_ROWS))
    times = []
    for _ in range(RUNS_QUICK if bench.quick else RUNS):
        elapsed, _ = run_child([*wmo_command(), "validate", "--raw", str(raw),
                                "--snapshot", snapshot_dir()])
        times.append(elapsed)
    return [figure("etl_validate_200k_register_s", "s", times, 30.0,
                   "wall time of `wmo validate` on the default demo with a 200 000-row "
                   "werkwijze register")]
