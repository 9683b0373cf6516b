"""The one place that writes numbers, sizes, durations and dates for a reader.

Dutch: `1.284.680`, `72,3`, `72,3%`, `7,8 MB`, `1,8 s`, `1 juli 2024`; English: `1,284,680`,
`72.3`, `72.3%`, `7.8 MB`, `1.8 s`, `1 July 2024`. Unknown is "–" everywhere, never "None".

One rounding rule: half away from zero on the decimal value as written (80,25 → 80,3), the
rule of polars' `round` and of what a reader does by hand, so a card, a table and a text never
disagree. Binary floats are rounded through their shortest decimal representation (`repr`), so
80.25 and 1.005 round up as they read. (Vega's d3-format rounds the binary value: the same for
80.25, one digit lower for a value such as 1.005 whose binary value lies just below.)
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

UNKNOWN = "–"

MONTHS = {
    "nl": ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus",
           "september", "oktober", "november", "december"),
    "en": ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"),
}
SEPARATORS = {"nl": (".", ","), "en": (",", ".")}  # (thousands, decimal)


def is_unknown(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def rounded(value: float | int, decimals: int = 0) -> Decimal:
    """`value` rounded half away from zero to `decimals` places, as a Decimal."""
    exact = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    return exact.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def number(value: float | int | None, lang: str = "nl", decimals: int = 0) -> str:
    """1.284.680 / 72,3 in Dutch; 1,284,680 / 72.3 in English; '–' when unknown."""
    if is_unknown(value):
        return UNKNOWN
    if isinstance(value, float) and math.isinf(value):
        return "∞" if value > 0 else "-∞"
    q = rounded(value, decimals)
    if q == 0:
        q = abs(q)  # no '-0,0'
    text = f"{q:,.{decimals}f}"
    thousands, decimal = SEPARATORS.get(lang, SEPARATORS["nl"])
    return text.replace(",", "\x00").replace(".", decimal).replace("\x00", thousands)


def places(value: float | int, cap: int = 3) -> int:
    """The fewest decimals (at most `cap`) that write `value` as it is: 2.5 → 1, 3.0 → 0."""
    if isinstance(value, int) or not math.isfinite(value):
        return 0
    text = repr(float(value))
    if "e" in text:
        return cap
    return min(cap, len(text.partition(".")[2].rstrip("0")))


def integer(value: int | float | None, lang: str = "nl") -> str:
    return number(value, lang, 0)


def percent(share: float | None, lang: str = "nl", decimals: int = 1) -> str:
    """A share (0.723) as '72,3%' / '72.3%'."""
    if is_unknown(share):
        return UNKNOWN
    return number(100 * share, lang, decimals) + "%"  # type: ignore[operator]


def size(n_bytes: float | None, lang: str = "nl") -> str:
    """'7,8 MB', '512 kB', '12 bytes' (decimal units, as file managers show them)."""
    if is_unknown(n_bytes):
        return UNKNOWN
    n = float(n_bytes)  # type: ignore[arg-type]
    if abs(n) < 1000:
        # The same word in Dutch and English.
        return f"{number(n, lang, 0)} {'byte' if n == 1 else 'bytes'}"
    for unit in ("kB", "MB", "GB", "TB"):
        n /= 1000
        if abs(n) < 1000 or unit == "TB":
            return f"{number(n, lang, 1 if abs(n) < 100 else 0)} {unit}"
    raise AssertionError("unreachable")


def duration(seconds: float | None, lang: str = "nl") -> str:
    """'1,8 s', '240 ms', '2 min 5 s'."""
    if is_unknown(seconds):
        return UNKNOWN
    s = float(seconds)  # type: ignore[arg-type]
    if abs(s) < 1:
        return f"{number(1000 * s, lang, 0)} ms"
    if abs(s) < 60:
        return f"{number(s, lang, 1)} s"
    minutes, rest = divmod(int(rounded(s, 0)), 60)
    return f"{minutes} min {rest} s" if rest else f"{minutes} min"


def seconds(value: float | None, lang: str = "nl") -> str:
    """A time limit as set: '10 s', '2,5 s' (no rounding to a duration's one place)."""
    if is_unknown(value):
        return UNKNOWN
    return f"{number(value, lang, places(value))} s"  # type: ignore[arg-type]


def date(value: dt.date | dt.datetime | str | None, lang: str = "nl") -> str:
    """'1 juli 2024' / '1 July 2024'; an ISO text is read first; '–' when unknown."""
    if value is None or value == "":
        return UNKNOWN
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value[:10])
        except ValueError:
            return value  # not a date: shown as it is (it is text, not ours to reinterpret)
    months = MONTHS.get(lang, MONTHS["nl"])
    return f"{value.day} {months[value.month - 1]} {value.year}"


def date_time(value: dt.datetime | str | None, lang: str = "nl") -> str:
    """'1 juli 2024 14:05' (the clock as stored; the caller says which zone)."""
    if value is None or value == "":
        return UNKNOWN
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    return f"{date(value, lang)} {value:%H:%M}"


def vega_locale(lang: str = "nl") -> dict[str, Any]:
    """The d3 number and time locale for a Vega-Lite `config.locale`, so axes, legends and
    tooltips write numbers and dates the way `number` and `date` do."""
    thousands, decimal = SEPARATORS.get(lang, SEPARATORS["nl"])
    months = list(MONTHS.get(lang, MONTHS["nl"]))
    if lang == "en":
        days = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
    else:
        days = ["zondag", "maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag"]
    return {
        "number": {"decimal": decimal, "thousands": thousands, "grouping": [3],
                   "currency": ["€\u00a0", ""] if lang != "en" else ["€", ""],
                   "minus": "-"},
        "time": {"dateTime": "%a %e %B %Y %X", "date": "%d-%m-%Y" if lang != "en" else
                 "%Y-%m-%d", "time": "%H:%M:%S", "periods": ["AM", "PM"], "days": days,
                 "shortDays": [d[:2] if lang != "en" else d[:3] for d in days],
                 "months": months,
                 "shortMonths": [m[:3] for m in months]},
    }


def vega_number_format(decimals: int) -> str:
    """The d3 format string that writes like `number(v, lang, decimals)` under vega_locale."""
    return f",.{decimals}f"
