"""`wmo import statline-csv`: turn a CSV a user downloaded from StatLine into a raw snapshot.

The CSV holds titles, not codes, so the table's v3 metadata travels with it (docs/design.md,
raw layout). The new snapshot is staged and validated with the real parser before it replaces
the old one: a bad CSV leaves the previous snapshot untouched.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from etl.errors import InputError, display_path
from etl.settings import Settings
from etl.snapshot import CBS_LICENCE, CBS_PRODUCER, staged_folder, write_sidecar
from etl.sources.cbs.parse import load_cbs_snapshot
from etl.sources.cbs.tables import TABLES, spec_for

# Data sets are not needed beside a CSV (and may be hundreds of megabytes).
SKIPPED_RESOURCES = frozenset({"TypedDataSet", "UntypedDataSet"})
STATLINE_URL = "https://opendata.cbs.nl/statline/#/CBS/nl/dataset/{table_id}/table"

Progress = Callable[[str], None]


def import_statline_csv(
    csv_path: Path,
    table_id: str,
    out_root: Path,
    settings: Settings,
    progress: Progress | None = None,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Stage `<out_root>/cbs/<ID>/` with the CSV and the table's v3 metadata; returns the folder.

    `extra` adds fields to `_source.json` (`wmo import cbs` records the import form there).
    """
    say = progress or (lambda _message: None)
    spec = spec_for(table_id)
    if spec is None:
        raise InputError(display_path(csv_path), None, "table",
                         f"unknown CBS table {table_id!r}; known tables: "
                         f"{', '.join(sorted(TABLES))}")
    if not Path(csv_path).is_file():
        raise InputError(display_path(csv_path), None, None, "file not found")
    dest = Path(out_root) / "cbs" / spec.table_id
    with staged_folder(dest) as staged:
        (staged / "csv").mkdir()
        shutil.copyfile(csv_path, staged / "csv" / Path(csv_path).name)
        existing = dest / "v3"
        if (existing / "DataProperties").is_dir():
            say(f"metadata: copying from the existing snapshot {display_path(existing)}")
            copy_v3_metadata(existing, staged / "v3")
        else:
            say(f"metadata: downloading the v3 metadata of {spec.table_id}")
            _fetch_v3_metadata(spec.table_id, staged / "v3", settings)
        say(f"checking {Path(csv_path).name}")
        table = load_cbs_snapshot(staged, spec.measures)
        write_sidecar(staged, {
            "source_id": f"cbs-{spec.table_id}",
            "title": table.title or spec.title,
            "producer": CBS_PRODUCER,
            "url": STATLINE_URL.format(table_id=spec.table_id),
            "licence": CBS_LICENCE,
            "format": "statline-csv",
            "table_id": spec.table_id,
            "synthetic": False,
            **(extra or {}),
        })
        say(f"imported {table.observations.height} values into {display_path(dest)}")
    return dest


def copy_v3_metadata(source: Path, target: Path) -> None:
    """Copy every v3 resource except the data sets (TableInfos, DataProperties,
    CategoryGroups and all dimension lists)."""
    target.mkdir(parents=True, exist_ok=True)
    for resource in sorted(source.iterdir()):
        if resource.is_dir() and resource.name not in SKIPPED_RESOURCES:
            shutil.copytree(resource, target / resource.name)


def _fetch_v3_metadata(table_id: str, target: Path, settings: Settings) -> None:
    # Imported here: the fetch module pulls in the HTTP stack, which a parse-only run avoids.
    from etl.sources.cbs.fetch import fetch_cbs_table

    with tempfile.TemporaryDirectory(prefix="wmo-statline-") as tmp:
        fetch_cbs_table(table_id, "v3", Path(tmp), settings, metadata_only=True)
        copy_v3_metadata(Path(tmp) / "cbs" / table_id / "v3", target)
