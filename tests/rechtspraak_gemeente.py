"""core.gemeente for the Rechtspraak tests, made as etl/build.py makes it: the newest boundary
file of the snapshot (WMO_SNAPSHOT_DIR) plus the project's herindelingen register."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import polars as pl

from etl.gemeenten import gemeente_history
from etl.sources import geo, registers

ROOT = Path(__file__).resolve().parents[1]


@lru_cache(maxsize=1)
def core_gemeente() -> pl.DataFrame:
    geo_dir = Path(os.environ.get("WMO_SNAPSHOT_DIR", ROOT.parent / "shared" / "snapshot")) / "geo"
    files = geo.boundary_files(geo_dir)
    gemeente_year = max(y for kind, y in files if kind == "gemeente")
    provincie_year = max(y for kind, y in files if kind == "provincie")
    current = geo.province_of_gemeenten(
        geo.read_boundaries(files[("gemeente", gemeente_year)], "gemeente"),
        geo.read_boundaries(files[("provincie", provincie_year)], "provincie"))
    her, errors = registers.read_herindelingen(ROOT / "data" / "raw" / "registers" /
                                               "herindelingen.csv")
    if errors:
        raise AssertionError(f"herindelingen register has errors: {errors}")
    return gemeente_history(current, her)
