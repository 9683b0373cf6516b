"""What the sources hand to the build: the parsed, checked inputs and the problems found.

Every source (etl/sources/…) reads its part of the raw folder into one `Inputs`; the build
then transforms and assembles. Problems are collected, not raised, so that `wmo validate`
lists all of them at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import polars as pl

from etl import snapshot
from etl.errors import InputError, InputErrors
from etl.metadata import SourceMeta

Progress = Callable[[str], None]


@dataclass
class Inputs:
    """Everything a build needs, parsed and checked, plus the problems and warnings found."""

    errors: list[InputError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    bronnen: list[dict] = field(default_factory=list)
    frames: dict[str, pl.DataFrame] = field(default_factory=dict)
    # role name -> [(TableSpec, parsed table)], in folder order (tables.py declares the roles)
    cbs: dict[str, list] = field(default_factory=dict)
    werkwijze: pl.DataFrame | None = None
    bezwaar: pl.DataFrame | None = None
    herindelingen: pl.DataFrame | None = None
    gemeente: pl.DataFrame | None = None
    reference_year: int | None = None
    raw_dir: Path | None = None
    snapshot_dir: Path | None = None

    @property
    def wmo_tables(self) -> list:
        return self.cbs.get("wmo_clienten", [])

    @property
    def is_synthetisch(self) -> bool:
        return any(b["is_synthetisch"] for b in self.bronnen)


def bron_row(folder: Path, sidecar: dict) -> dict:
    return {
        "bron_id": sidecar.get("source_id") or folder.name,
        "titel": sidecar.get("title"),
        "producent": sidecar.get("producer"),
        "url": sidecar.get("url"),
        "opgehaald_op": sidecar.get("retrieved_at"),
        "licentie": sidecar.get("licence"),
        "formaat": sidecar.get("format"),
        "sha256": sidecar.get("sha256"),
        "is_synthetisch": bool(sidecar.get("synthetic", False)),
        # Absolute here, only inside the build: assemble() turns it into a portable place.
        "map": str(folder.resolve()),
    }


def register_bron(path: Path, sources: dict[str, SourceMeta]) -> dict:
    # Titles, producers and licences of the registers are documented once, in metadata.yaml.
    source = sources[f"register-{path.stem}"]
    return {
        "bron_id": source.source_id,
        "titel": source.title,
        "producent": source.producer,
        "url": source.url,
        "opgehaald_op": None,
        "licentie": source.licence,
        "formaat": "csv",
        "sha256": snapshot.sha256_file(path),
        "is_synthetisch": False,
        # The file itself: with the project fallback it is not inside the raw folder.
        "map": str(path.resolve()),
    }


def verified_sidecar(inputs: Inputs, folder: Path, *, required: bool) -> dict | None:
    """The sidecar of a snapshot folder, after checking every file against it.

    CBS snapshots always carry `files` (fetch, import and demo write them); the boundary
    folder and the demo's bezwaar are checked when their sidecar lists files.
    """
    try:
        sidecar = snapshot.read_sidecar(folder)
    except InputError as exc:
        inputs.errors.append(exc)
        return None
    if sidecar is not None and (required or "files" in sidecar):
        inputs.errors += snapshot.verify_files(folder, sidecar)
    return sidecar


T = TypeVar("T")


def attempt(errors: list[InputError], step: Callable[[], T]) -> T | None:
    """Run one step; its input problems join `errors` instead of stopping the run, so that
    validate and build report every source's and table's problems at once."""
    try:
        return step()
    except InputErrors as exc:
        errors.extend(exc.errors)
    except InputError as exc:
        errors.append(exc)
    return None
