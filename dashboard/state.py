"""URL state without Streamlit: resolve a query-parameter value against what the database has.

Every filter lives in the URL so a link reproduces a view. A link can be old or mistyped, so
each value is checked against the options; an unknown one falls back to a sensible default and
the page says so in words (never a traceback).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Resolved:
    """The value to show and, when the link asked for something that does not exist, what."""

    value: str
    rejected: str | None = None


@dataclass(frozen=True)
class ResolvedMany:
    values: list[str]
    rejected: list[str] = field(default_factory=list)


def normalise_code(raw: str) -> str:
    """Codes arrive hand-typed in links: 'gm0363 ' means GM0363."""
    return raw.strip().upper() if raw.strip()[:2].upper() in ("GM", "PV") else raw.strip()


def resolve(raw: str | None, options: Sequence[str], default: str) -> Resolved:
    """`raw` if it is one of `options` (case-insensitively for codes), else `default`."""
    if raw is None or raw.strip() == "":
        return Resolved(default)
    if raw in options:
        return Resolved(raw)
    lowered = {o.lower(): o for o in options}
    match = lowered.get(normalise_code(raw).lower())
    if match is not None:
        return Resolved(match)
    return Resolved(default, rejected=raw)


def resolve_many(raw: Sequence[str] | None, options: Sequence[str],
                 default: Sequence[str] = ()) -> ResolvedMany:
    """Each value of a repeated or comma-separated parameter resolved; unknown ones reported."""
    if not raw:
        return ResolvedMany(list(default))
    items = [part for value in raw for part in value.split(",") if part.strip()]
    kept: list[str] = []
    rejected: list[str] = []
    for item in items:
        found = resolve(item, options, "")
        if found.rejected is None and found.value and found.value not in kept:
            kept.append(found.value)
        elif found.rejected is not None:
            rejected.append(item)
    return ResolvedMany(kept or list(default), rejected)
