"""Tables as a reader sees them: every cell written by dashboard/fmt.py, unknown as "–".

Streamlit's grid formats numbers in the browser: its printf formats have no Dutch decimal comma
and "localized" follows the browser's language, not our language switch. So a table on a page is
shown as text cells written by `fmt` (numbers right-aligned by the page helper), while every
download keeps the real values. One function for every page, so a value reads the same in a
card, a chart label and a table.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl

from dashboard import fmt
from dashboard.i18n import tr

# Integer columns written as they are (no thousands separator): years and line numbers are
# labels, "2.024" would read as a count.
PLAIN_WORDS = frozenset({"jaar", "year", "halfjaar", "regel", "line", "indeling", "versie",
                         "version"})
AUTO_MAX_DECIMALS = 3


@functools.cache
def stored_decimals() -> dict[str, int]:
    """Stored measure columns (clienten_per_1000, ...) with their measure's rounding, so the
    Data preview and the SQL grid round them as the cards and charts do."""
    from dashboard.measures import MEASURES  # measures → catalog → db: only when a table shows
    return {m.column: m.decimals for m in MEASURES.values() if m.column and not m.change}


@dataclass(frozen=True)
class Table:
    frame: pl.DataFrame  # every column text (or as it was, for types fmt does not write)
    numeric: tuple[str, ...]  # columns that held numbers: right-aligned on the page


def auto_decimals(values: pl.Series, cap: int = AUTO_MAX_DECIMALS) -> int:
    """The fewest decimals (at most `cap`) that write every value of a float column as it is:
    a column rounded to 1 place shows 1, whole numbers stored as floats show none."""
    most = 0
    for v in values.drop_nulls().unique().to_list():
        most = max(most, fmt.places(float(v), cap))
        if most >= cap:
            break
    return most


def _is_plain(name: str, plain: Collection[str]) -> bool:
    """Named plain, or a name with one of PLAIN_WORDS ('jaar', 'Eerste jaar', 'regel')."""
    return name in plain or not PLAIN_WORDS.isdisjoint(re.split(r"[\W_]+", name.lower()))


def _writer(s: pl.Series, lang: str, decimals: int | Mapping[str, int] | None,
            plain: Collection[str], max_decimals: int) -> Callable[[Any], str] | None:
    """How one column's cells are written; None for columns kept as they are."""
    dtype = s.dtype
    if dtype.is_integer():
        if _is_plain(s.name, plain):
            return lambda v: fmt.UNKNOWN if v is None else str(v)
        return lambda v: fmt.integer(v, lang)
    if dtype.is_float() or dtype.is_decimal():
        places = decimals.get(s.name) if isinstance(decimals, Mapping) else decimals
        if places is None:
            places = stored_decimals().get(s.name)
        if places is None:
            places = auto_decimals(s.cast(pl.Float64), max_decimals)
        return lambda v: fmt.number(v, lang, places)
    if dtype == pl.Date:
        return lambda v: fmt.date(v, lang)
    if isinstance(dtype, pl.Datetime):
        return lambda v: fmt.date_time(v, lang)
    if dtype == pl.Boolean:
        yes, no = tr("yes_value", lang), tr("no_value", lang)
        return lambda v: fmt.UNKNOWN if v is None else (yes if v else no)
    return None


def display(frame: pl.DataFrame, lang: str,
            decimals: int | Mapping[str, int] | None = None,
            plain: Collection[str] = (), max_decimals: int = AUTO_MAX_DECIMALS,
            links: Collection[str] = ()) -> Table:
    """`frame` with numbers, dates and booleans written for `lang` and nulls as "–" (not in
    `links`: a URL column stays a URL, or empty, for the page's link column).

    decimals: one number for every float column, or per column name; a float column not
    named gets its measure's rounding when it is a stored measure column, else the fewest
    places that show its values (at most `max_decimals`). `plain`
    integer columns (and years, line numbers by name) are written without separators.
    """
    columns: list[pl.Series] = []
    numeric: list[str] = []
    for s in frame.get_columns():
        write = _writer(s, lang, decimals, plain, max_decimals)
        if s.name in links:
            columns.append(s)
        elif write is not None:
            if s.dtype.is_numeric():
                numeric.append(s.name)
            columns.append(pl.Series(s.name, [write(v) for v in s.to_list()], dtype=pl.String))
        elif s.dtype in (pl.String, pl.Categorical, pl.Null):
            columns.append(s.cast(pl.String).fill_null(fmt.UNKNOWN))
        else:  # lists, structs, binary: shown by the grid as they are
            columns.append(s)
    return Table(pl.DataFrame(columns) if columns else frame, tuple(numeric))


def display_frame(frame: pl.DataFrame, lang: str,
                  decimals: int | Mapping[str, int] | None = None,
                  plain: Collection[str] = (), links: Collection[str] = ()) -> pl.DataFrame:
    """Only the written frame (for text that is not shown as a table)."""
    return display(frame, lang, decimals, plain, links=links).frame
