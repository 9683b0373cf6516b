"""URL state without Streamlit: resolve a query-parameter value against what the database has.

Every filter lives in the URL so a link reproduces a view. A link can be old or mistyped, so
each value is checked against the options; an unknown one falls back to a sensible default and
the page says so in words (never a traceback).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlencode


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


# --- Browser history ----------------------------------------------------------------------------
#
# Streamlit 1.67 pushes a history entry for every `st.query_params` write (and one more when the
# page changes), so a page that wrote its controls one by one left a trail of half-built URLs and
# Back peeled them off one at a time. Each run now writes the URL once, at its end, and decides
# here whether that write is a new entry or a correction of the current one.

Params = Mapping[str, str | Sequence[str]]
HistoryAction = Literal["none", "push", "replace"]
LANG_PARAM = "taal"


def as_lists(params: Params) -> dict[str, list[str]]:
    """Every value as a list, so one value and a repeated parameter compare alike."""
    return {k: [v] if isinstance(v, str) else list(v) for k, v in params.items()}


def url_query(params: Params) -> str:
    """The query string as Streamlit writes it (`urlencode`, repeated keys kept)."""
    return urlencode([(k, v) for k, vs in as_lists(params).items() for v in vs])


def history_action(current: Params, desired: Params, *, arrival: bool,
                   history_navigation: bool) -> HistoryAction:
    """What the end of a run does with the browser URL.

    - `arrival`: the first run of a page (first load, sidebar, a link in the app). The browser
      already made the entry for it; the page's own values correct that entry, never add one.
    - `history_navigation`: Back or Forward; the browser is on the entry it restores, and the
      page only fills in what that entry lacks (Streamlit replaces during such runs).
    - otherwise a control changed: one new entry, unless only the language changed (a reader's
      preference, not a place to go back to) or nothing did.
    """
    now, want = as_lists(current), as_lists(desired)
    if arrival and not history_navigation:
        return "replace"
    if now == want:
        return "none"
    if history_navigation:
        return "push"  # Streamlit turns writes during a Back/Forward run into replaceState
    without_lang = {k: v for k, v in now.items() if k != LANG_PARAM}
    if without_lang == {k: v for k, v in want.items() if k != LANG_PARAM}:
        return "replace"
    return "push"


# --- Gemeente links -----------------------------------------------------------------------------

@dataclass(frozen=True)
class GemeenteMatch:
    """A `?gemeente=` value read as a code or a name. `candidates` holds the codes of an
    ambiguous name (never guessed between); both empty: nothing matched."""

    code: str | None
    candidates: tuple[str, ...] = ()


def _name_key(text: str) -> str:
    # Typed links use a plain apostrophe ('s-Gravenhage); registers may use the typographic one.
    return " ".join(text.replace("\u2019", "'").casefold().split())


def match_gemeente(raw: str | None, names: Mapping[str, str]) -> GemeenteMatch:
    """`raw` as a code (GM0363, gm0363) or a name of any gemeente in `names` (code → name, every
    code ever used), case-insensitively. A name carried by several codes is not resolved."""
    if raw is None or not raw.strip():
        return GemeenteMatch(None)
    code = normalise_code(raw)
    if code in names:
        return GemeenteMatch(code)
    key = _name_key(raw)
    hits = tuple(sorted(c for c, n in names.items() if _name_key(n) == key))
    if len(hits) == 1:
        return GemeenteMatch(hits[0])
    return GemeenteMatch(None, hits)
