"""Raw snapshots: a folder of files exactly as a source delivered them, plus `_source.json`.

Writers stage into a sibling folder and swap it in only when complete, so an interrupted
fetch or demo leaves the previous snapshot untouched.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

SIDECAR = "_source.json"
CBS_LICENCE = "CC BY 4.0"
CBS_PRODUCER = "Centraal Bureau voor de Statistiek (CBS)"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def file_hashes(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): sha256_file(p)
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != SIDECAR
    }


def combined_hash(files: dict[str, str]) -> str:
    lines = "".join(f"{path}  {digest}\n" for path, digest in sorted(files.items()))
    return hashlib.sha256(lines.encode()).hexdigest()


def now_utc() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def write_sidecar(folder: Path, meta: dict[str, Any]) -> dict[str, Any]:
    """Write `_source.json` for everything currently in `folder`; returns what was written."""
    files = file_hashes(folder)
    sidecar = {
        "retrieved_at": now_utc(),
        "synthetic": False,
        **meta,
        "files": files,
        "sha256": combined_hash(files),
    }
    (folder / SIDECAR).write_text(json.dumps(sidecar, indent=2, ensure_ascii=False) + "\n",
                                  encoding="utf-8")
    return sidecar


def read_sidecar(folder: Path) -> dict[str, Any] | None:
    path = folder / SIDECAR
    if not path.exists():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def swap_in(staged: Path, dest: Path) -> None:
    """Replace `dest` by `staged`; the old folder is removed only after the new one is in place."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    old = dest.with_name(f"{dest.name}.old-{os.getpid()}")
    if dest.exists():
        os.replace(dest, old)
    os.replace(staged, dest)
    if old.exists():
        shutil.rmtree(old)


def missing_parents(folder: Path) -> list[Path]:
    """The ancestors of `folder` (itself included) that do not exist yet, deepest first."""
    missing = []
    for candidate in [folder, *folder.parents]:
        if candidate.exists():
            break
        missing.append(candidate)
    return missing


def remove_if_empty(folders: list[Path]) -> None:
    """Remove folders a failed writer created, deepest first, as long as they are empty."""
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            return


@contextlib.contextmanager
def staged_folder(dest: Path) -> Iterator[Path]:
    """Yield an empty staging folder next to `dest`; swap it in if the block succeeds.

    On failure nothing is left behind, not even the parent folders this call created: an empty
    `data/raw/cbs/` would read as "the user has CBS data" and stop `./dev run` using the demo.
    """
    created = missing_parents(dest.parent)
    dest.parent.mkdir(parents=True, exist_ok=True)
    staged = dest.with_name(f"{dest.name}.partial-{os.getpid()}")
    if staged.exists():
        shutil.rmtree(staged)
    staged.mkdir()
    try:
        yield staged
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        remove_if_empty(created)
        raise
    swap_in(staged, dest)
