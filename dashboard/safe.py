"""Untrusted text stays text: URL parameters and data never become markdown, HTML or links.

Streamlit renders markdown in st.info, st.caption, st.header and friends; a value such as
`[Sessie verlopen](https://evil.example)` from a link or a register cell would become a
working link there. Everything from outside goes through `md_escape` before it reaches such an
element, and a URL becomes a link only when it is a plain http(s) address.
"""

from __future__ import annotations

import re

import polars as pl

# Characters that make markup wherever they stand (links and images need `[`, emphasis `*` and
# `_`, code `` ` ``, HTML `<`, strike `~`, maths `$`, tables `|`, autolinks `:`); `#`, `-`, `+`,
# `.` and `>` only at the start of a line or word. Parentheses and the rest stay as they are,
# so that "Bergen (L.)" or "Sint-Michielsgestel" read unchanged in the page source.
_ANYWHERE = re.compile(r"([\\`*_\[\]<>~$|:])")
_AT_START = re.compile(r"(^|\s)([#\-+.])")
MAX_ECHOED_CHARS = 80


def md_escape(text: object, limit: int = MAX_ECHOED_CHARS) -> str:
    """Untrusted text (a URL parameter, a register cell) for a markdown-rendering element:
    shown literally, on one line, cut to `limit` characters. A link, an image or a heading in
    the text stays visible text and never becomes markup."""
    flat = " ".join(str(text).split())
    if len(flat) > limit:
        flat = flat[:limit] + "…"
    return _AT_START.sub(r"\1\\\2", _ANYWHERE.sub(r"\\\1", flat))


_HTTP_URL = r"^https?://[A-Za-z0-9][A-Za-z0-9.-]*(?::\d+)?(?:[/?#][^\s<>\"'`]*)?$"


def is_http_url(text: object) -> bool:
    return isinstance(text, str) and re.match(_HTTP_URL, text) is not None


def http_only(column: str) -> pl.Expr:
    """The column with every value that is not a plain http(s) URL set to NULL, for a
    LinkColumn: `javascript:`, relative paths and anything with spaces or quotes never link."""
    col = pl.col(column)
    return pl.when(col.str.contains(_HTTP_URL)).then(col).otherwise(None).alias(column)


def safe_links(frame: pl.DataFrame, *columns: str) -> pl.DataFrame:
    """`frame` with `http_only` applied to those of `columns` it has."""
    present = [c for c in columns if c in frame.columns]
    return frame.with_columns(http_only(c) for c in present) if present else frame
