"""What the benchmark groups share within one run: work folder, mode and the demo database."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.harness import Figure, Repeats, run_child

ROOT = Path(__file__).resolve().parents[1]


def wmo_command() -> list[str]:
    # The installed console script is what users run, so its start-up belongs in the figures.
    script = ROOT / ".venv" / "bin" / "wmo"
    return [str(script)] if script.exists() else [sys.executable, "-m", "etl.cli"]


def snapshot_dir() -> str:
    return os.environ.get("WMO_SNAPSHOT_DIR", str(ROOT.parent / "shared" / "snapshot"))


@dataclass
class Run:
    """One invocation of the suite. `db`: a database to benchmark against instead of a fresh
    default-scale demo build (a developer shortcut; such runs never count as full runs)."""

    work: Path
    quick: bool = False
    db: Path | None = None

    def repeats(self, normal: Repeats, quick: Repeats) -> Repeats:
        return quick if self.quick else normal

    def demo_raw(self, scale: str) -> Path:
        """A synthetic raw folder at `scale`, generated once per run."""
        raw = self.work / f"raw-{scale}"
        if not raw.exists():
            run_child([*wmo_command(), "demo", "--out", str(raw), "--scale", scale,
                       "--snapshot", snapshot_dir()])
        return raw

    def default_db_path(self) -> Path:
        return self.work / "wmo-default.duckdb"

    def demo_db(self) -> Path:
        """The database the in-process groups read: --db, else the default-scale demo build
        (the build group leaves one behind; otherwise it is built here, once)."""
        if self.db is not None:
            return self.db
        db = self.default_db_path()
        if not db.exists():
            run_child([*wmo_command(), "build", "--raw", str(self.demo_raw("default")),
                       "--db", str(db), "--snapshot", snapshot_dir()])
        return db


GroupRun = Callable[[Run], list[Figure]]


@dataclass(frozen=True)
class Group:
    name: str
    run: GroupRun
    description: str
