"""Where things are, said without the build machine's absolute paths.

`meta.bron.map` and `meta.build.raw_map` travel inside the database to every reader (and the
SQL console shows them to every visitor), so they name a place relative to a base the reader
knows: the raw folder, the boundary snapshot folder or the project.
"""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def _relative(path: Path, base: Path | None) -> str | None:
    if base is None:
        return None
    try:
        rel = path.relative_to(base.resolve())
    except ValueError:
        return None
    return rel.as_posix()


def portable_path(path: Path | str, raw_dir: Path | None = None,
                  snapshot_dir: Path | None = None) -> str:
    """`raw:cbs/86050NED`, `snapshot:geo`, `project:data/raw/registers/werkwijze.csv`, or
    `extern:<name>` for a place outside all three (its name only)."""
    resolved = Path(path).resolve()
    for prefix, base in (("raw", raw_dir), ("snapshot", snapshot_dir),
                         ("project", PROJECT_ROOT)):
        rel = _relative(resolved, base)
        if rel is not None and rel != ".":
            return f"{prefix}:{rel}"
    return f"extern:{resolved.name}"
