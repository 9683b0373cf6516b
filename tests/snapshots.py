"""Test helper: re-seal a snapshot that a test damaged on purpose.

The build checks every raw file against the sha256 in its sidecar, so a test that edits a page
to provoke some *other* error (a bad code, a truncated page, a removed page for the chain
check) re-seals the folder first: the sidecar then vouches for the damaged files, and the test
still reaches the check it is about.
"""

from __future__ import annotations

import json
from pathlib import Path

from etl.snapshot import SIDECAR, combined_hash, file_hashes


def reseal(folder: Path) -> dict:
    """Rewrite `files` and `sha256` of `folder/_source.json` for the files now present, keeping
    every other field (as `etl.snapshot.write_sidecar` would have written them)."""
    path = folder / SIDECAR
    sidecar = json.loads(path.read_text(encoding="utf-8"))
    files = file_hashes(folder)
    sidecar |= {"files": files, "sha256": combined_hash(files)}
    path.write_text(json.dumps(sidecar, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return sidecar
