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

from etl.errors import InputError, display_path

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
    return {relative: sha256_file(folder / relative) for relative in file_paths(folder)}


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
    """The sidecar of `folder`, None when it has none; an unreadable one is an InputError."""
    path = folder / SIDECAR
    if not path.exists():
        return None
    name = display_path(path)
    try:
        sidecar = json.loads(path.read_bytes())
    except json.JSONDecodeError as exc:
        raise InputError(name, f"line {exc.lineno}", None, f"invalid JSON: {exc.msg}") from exc
    except UnicodeDecodeError as exc:
        raise InputError(name, f"byte {exc.start}", None, "not UTF-8 text") from exc
    if not isinstance(sidecar, dict):
        raise InputError(name, None, None, "unexpected shape: expected a JSON object")
    return sidecar


def verify_files(folder: Path, sidecar: dict[str, Any]) -> list[InputError]:
    """Every file of the snapshot against the sha256 its sidecar lists for it.

    A changed, missing or unlisted file means the folder is no longer what the source
    delivered, and `meta.bron.sha256` would describe other bytes than the ones built from.
    """
    name = display_path(folder / SIDECAR)
    listed = sidecar.get("files")
    if not isinstance(listed, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in listed.items()):
        return [InputError(name, None, "files", "missing or not an object of path: sha256; "
                                                "fetch, import or generate the snapshot again")]
    errors = [*_listed_file_errors(folder, listed), *_unlisted_file_errors(folder, listed)]
    if sidecar.get("sha256") != combined_hash(listed):
        errors.append(InputError(name, None, "sha256", "does not match the files listed in "
                                                       "`files` (the sidecar was edited)"))
    return errors


def _listed_file_errors(folder: Path, listed: dict[str, str]) -> list[InputError]:
    errors = []
    root = folder.resolve()
    for relative, digest in sorted(listed.items()):
        path = folder / relative
        # A listed path must stay inside the snapshot: the check reads only what it vouches for.
        if ".." in Path(relative).parts or not path.resolve().is_relative_to(root):
            errors.append(InputError(display_path(folder / SIDECAR), None, "files",
                                     f"{relative!r} is not a path inside the snapshot"))
        elif not path.is_file():
            errors.append(InputError(display_path(path), None, None,
                                     f"listed in {SIDECAR} but missing from the snapshot"))
        elif sha256_file(path) != digest:
            errors.append(InputError(display_path(path), None, None,
                                     f"sha256 differs from the one in {SIDECAR}: the file was "
                                     "changed after the snapshot was taken"))
    return errors


def _unlisted_file_errors(folder: Path, listed: dict[str, str]) -> list[InputError]:
    return [InputError(display_path(folder / relative), None, None,
                       f"not listed in {SIDECAR}: a file added after the snapshot was taken")
            for relative in file_paths(folder) if relative not in listed]


def file_paths(folder: Path) -> list[str]:
    """Every file a sidecar lists: all but the sidecar itself, as posix paths."""
    return [p.relative_to(folder).as_posix() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name != SIDECAR]


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
