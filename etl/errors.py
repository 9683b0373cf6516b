"""Errors a user can act on: every one names the file, the record and the field."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


# Not frozen: Python sets __traceback__ and __context__ on an exception that passes through a
# `with` block, and a frozen dataclass refuses that with a FrozenInstanceError traceback.
@dataclass(unsafe_hash=True)
class InputError(Exception):
    """One problem in one input record.

    `record` is a 1-based line number for CSV files (the header is line 1) or a short
    description such as ``"page-0002.json value[17]"`` for JSON.
    """

    file: str
    record: int | str | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = self.file if self.record is None else f"{self.file}:{self.record}"
        field = f" {self.field}:" if self.field else ""
        return f"{where}:{field} {self.message}"


class InputErrors(Exception):
    """Several input problems at once, so that `wmo validate` can list them all."""

    def __init__(self, errors: list[InputError]) -> None:
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


class FetchError(Exception):
    """A download failed for good (after the retries), with the URL and the reason."""


def display_path(path: Path | str) -> str:
    """Paths in messages relative to the working directory when possible (shorter, clickable)."""
    p = Path(path)
    try:
        return str(p.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(p)
