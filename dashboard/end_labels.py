"""Names at the ends of lines that never overlap (no Streamlit, no Altair).

Vega draws a text mark where it is told and does not move labels out of each other's way, so
two lines ending at the same value print their names on top of each other, on screen and in
the PNG that goes into a memo. The trend charts therefore fix their y scale (`nice_domain`) and
plot height, and `place` works out in pixels where each name goes: at its line's end, nudged
apart where names would touch, or nowhere when they cannot be kept apart close to their lines
(then the legend, which every trend chart has, names the lines).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

# A label's box in font sizes: cap height plus descenders plus a little air.
LINE_HEIGHT = 1.3
# Further than this (in label boxes) from its line's end a name reads as another line's.
MAX_SHIFT = 2.0
PAD = 0.05  # share of the data's range left free above and below it


@dataclass(frozen=True)
class Placement:
    """Where the end labels go: `y` in data units (centre of each label, in the order the
    values were given), or show=False and no labels at all."""

    show: bool
    y: tuple[float, ...] = ()


def nice_domain(values: Sequence[float | None], ticks: int = 5) -> tuple[float, float] | None:
    """[lo, hi] around the known values on a round step (about `ticks` steps), not from 0:
    the trend charts are about the gap between lines. A margin of PAD of the range on either
    side keeps lines that end at the extremes away from the edge, where their names could
    not spread. None without a known value."""
    known = [v for v in values if v is not None and math.isfinite(v)]
    if not known:
        return None
    lo, hi = min(known), max(known)
    span = hi - lo or abs(hi) or 1.0
    raw = span / ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    lo_n = math.floor((lo - PAD * span) / step) * step
    hi_n = math.ceil((hi + PAD * span) / step) * step
    if hi_n == lo_n:  # one value on a step: a step either side
        lo_n, hi_n = lo_n - step, hi_n + step
    return float(lo_n), float(hi_n)


def place(values: Sequence[float], domain: tuple[float, float], height: float,
          font_size: float, max_shift: float = MAX_SHIFT) -> Placement:
    """Label centres for lines ending at `values` on a y scale `domain` drawn `height` px tall.

    Labels keep the order of their values. Names that would touch form a stack centred on
    the mean of their line ends (so two lines ending together get one name just above and one
    just below), boxes font_size * LINE_HEIGHT tall, all inside the plot. When they do not fit,
    or one would end up more than `max_shift` boxes from its line, there are no labels."""
    if not values:
        return Placement(True, ())
    lo, hi = domain
    if not hi > lo or height <= 0:
        return Placement(False)
    box = font_size * LINE_HEIGHT
    if len(values) * box > height:
        return Placement(False)
    px = [(hi - v) / (hi - lo) * height for v in values]  # 0 at the top, as Vega draws
    order = sorted(range(len(px)), key=lambda i: (px[i], i))
    placed = _stack([px[i] for i in order], box, height)
    if any(abs(p - px[i]) > max_shift * box + 1e-9 for p, i in zip(placed, order, strict=True)):
        return Placement(False)
    y = [0.0] * len(values)
    for p, i in zip(placed, order, strict=True):
        y[i] = hi - p / height * (hi - lo)
    return Placement(True, tuple(y))


def _stack(targets: list[float], box: float, height: float) -> list[float]:
    """Centres for sorted `targets`: clusters of touching labels merge until none touch."""
    clusters = [[t] for t in targets]

    def top(cluster: list[float]) -> float:
        centre = sum(cluster) / len(cluster)
        first = centre - (len(cluster) - 1) * box / 2
        return min(max(first, box / 2), height - box / 2 - (len(cluster) - 1) * box)

    merged = True
    while merged:
        merged = False
        for k in range(len(clusters) - 1):
            if top(clusters[k]) + len(clusters[k]) * box > top(clusters[k + 1]) + 1e-9:
                clusters[k:k + 2] = [clusters[k] + clusters[k + 1]]
                merged = True
                break
    return [top(c) + j * box for c in clusters for j in range(len(c))]

