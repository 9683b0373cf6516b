"""CBS period codes (`2024HJ01`) and period status."""

from __future__ import annotations

import re
from dataclasses import dataclass

PERIOD_RE = re.compile(r"^(\d{4})(JJ|HJ|KW|MM)(\d{2})$")

STATUS_BY_CBS_TEXT = {
    "definitief": "definitief",
    "voorlopig": "voorlopig",
    "nader voorlopig": "nader_voorlopig",
}
STATUS_BY_MARKER = {"": "definitief", "*": "voorlopig", "**": "nader_voorlopig"}
MARKER_BY_STATUS = {v: k for k, v in STATUS_BY_MARKER.items()}


@dataclass(frozen=True)
class Period:
    code: str
    jaar: int
    kind: str  # JJ, HJ, KW, MM
    number: int

    @property
    def halfjaar(self) -> int | None:
        return self.number if self.kind == "HJ" else None


def parse_period(code: str) -> Period:
    """Decode a CBS period code; anything else is rejected loudly (week/day codes included)."""
    m = PERIOD_RE.match(code.strip())
    if not m:
        raise ValueError(f"not a CBS period code (expected YYYYJJ00/HJnn/KWnn/MMnn): {code!r}")
    year, kind, number = int(m.group(1)), m.group(2), int(m.group(3))
    valid = {"JJ": (0, 0), "HJ": (1, 2), "KW": (1, 4), "MM": (1, 12)}[kind]
    if not valid[0] <= number <= valid[1]:
        raise ValueError(f"period number out of range in {code!r}")
    return Period(code.strip(), year, kind, number)


def normalise_status(text: str | None) -> str:
    """CBS writes `Definitief`, `Voorlopig`, `Nader voorlopig`; unknown text is an error."""
    key = (text or "definitief").strip().lower()
    if key not in STATUS_BY_CBS_TEXT:
        raise ValueError(f"unknown period status {text!r}")
    return STATUS_BY_CBS_TEXT[key]


def period_title(code: str) -> str:
    """The Dutch StatLine title of a period code (`1e halfjaar 2024`, `2024`)."""
    p = parse_period(code)
    if p.kind == "JJ":
        return str(p.jaar)
    if p.kind == "HJ":
        return f"{p.number}e halfjaar {p.jaar}"
    if p.kind == "KW":
        return f"{p.jaar} {p.number}e kwartaal"
    months = ["januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus",
              "september", "oktober", "november", "december"]
    return f"{p.jaar} {months[p.number - 1]}"
