"""The sources a build reads, one module each, in one shape.

A source declares what it reads from the raw folder, how it gets there and which core tables
come from it, and reads its part into the build's `Inputs` (problems collected, not raised).
`etl/build.py` runs the registered sources in order (`SOURCES` there) and then transforms and
assembles. The CBS tables are a source whose parsed tables are further declared per table in
etl/sources/cbs/tables.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from etl.inputs import Inputs, Progress
    from etl.metadata import SourceMeta


@dataclass(frozen=True)
class SourceContext:
    """What every source may need besides the Inputs it fills."""

    raw_dir: Path
    snapshot_dir: Path | None
    reference_year: int | None
    sources: dict[str, SourceMeta]     # metadata.yaml `sources:` (titles, licences, urls)
    progress: Progress


@dataclass(frozen=True)
class Source:
    name: str
    reads: str                         # what it reads from the raw folder, for people
    fetch: str                         # how the files get there
    returns: tuple[str, ...]           # core tables made from it
    read: Callable[[Inputs, SourceContext], None]
