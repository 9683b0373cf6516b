"""Chart helpers shared by the pages (no Streamlit): titles with the source line, colour-blind-safe
palettes, number formatting and server-side PNG/SVG rendering with vl-convert.

Every chart carries its title and source line *inside* the image, because staff paste the PNG
into a memo where the surrounding page is lost.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Sequence
from typing import Any

import altair as alt
import vl_convert as vlc

from dashboard import fmt

# ColorBrewer schemes that stay distinguishable for the common colour-vision deficiencies.
SEQUENTIAL_5 = ["#ffffcc", "#a1dab4", "#41b6c4", "#2c7fb8", "#253494"]  # YlGnBu
DIVERGING_5 = ["#e66101", "#fdb863", "#f7f7f7", "#b2abd2", "#5e3c99"]  # PuOr
UNKNOWN_COLOUR = "#bdbdbd"
# Categorical (Okabe-Ito): werkwijze and group comparisons.
CATEGORICAL = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
               "#000000"]
WERKWIJZE_COLOURS = {"resultaatgericht": "#D55E00", "uren": "#0072B2", "onbekend": "#999999"}
FONT = "DejaVu Sans"  # present on Debian, so the server-side PNG matches the screen


def titled(chart: alt.TopLevelMixin, title: str, source: str,
           subtitle: str | None = None) -> alt.TopLevelMixin:
    """Title on top, subtitle (what is measured) and the source line under it."""
    lines = [line for line in (subtitle, source) if line]
    return chart.properties(title=alt.TitleParams(
        text=title, subtitle=lines, anchor="start", fontSize=15, subtitleFontSize=11,
        subtitleColor="#444444"))


def configure(chart: alt.TopLevelMixin, lang: str = "nl") -> alt.TopLevelMixin:
    """The shared finish: font, no frame, and the language's number and date locale, so axes,
    legends and tooltips write "0,5" and "1.000" in Dutch (vl-convert honours it too)."""
    return chart.configure(font=FONT, locale=fmt.vega_locale(lang)).configure_view(stroke=None)


def localised(spec: dict[str, Any], lang: str) -> dict[str, Any]:
    """A finished Vega-Lite dict with `config.locale` for `lang` (a copy; the input is kept):
    the page's language wins over whatever a view configured."""
    config = {**spec.get("config", {}), "locale": fmt.vega_locale(lang)}
    return {**spec, "config": config}


def fmt_number(value: float | int | None, lang: str = "nl", decimals: int = 1) -> str:
    """'1.234,5' in Dutch, '1,234.5' in English; None/NaN → '–' (dashboard/fmt.py's rule)."""
    return fmt.number(value, lang, decimals)


def quantile_breaks(values: Sequence[float], classes: int = 5) -> list[float]:
    """Inner class boundaries at quantiles, rounded to 3 significant digits and de-duplicated."""
    known = sorted(v for v in values if v is not None and not math.isnan(v))
    if len(known) < 2:
        return []
    breaks: list[float] = []
    for i in range(1, classes):
        pos = (len(known) - 1) * i / classes
        lo, hi = known[math.floor(pos)], known[math.ceil(pos)]
        value = _round_sig(lo + (hi - lo) * (pos - math.floor(pos)))
        if value > known[0] and value <= known[-1] and value not in breaks:
            breaks.append(value)
    return breaks


def symmetric_breaks(values: Sequence[float]) -> list[float]:
    """Four boundaries around 0 for a change measure, so the middle class means 'about equal'."""
    known = [abs(v) for v in values if v is not None and not math.isnan(v)]
    if not known:
        return []
    top = sorted(known)[int(0.9 * (len(known) - 1))] or max(known) or 1.0
    step = _round_sig(top / 2.5)
    return [-1.5 * step, -0.5 * step, 0.5 * step, 1.5 * step]


def _round_sig(value: float, digits: int = 3) -> float:
    if value == 0:
        return 0.0
    return round(value, digits - 1 - math.floor(math.log10(abs(value))))


def class_labels(breaks: Sequence[float], lang: str = "nl", decimals: int = 1) -> list[str]:
    """Readable labels for the classes that `breaks` make: '< 12', '12 – 18', '≥ 30'."""
    if not breaks:
        return ["alle" if lang == "nl" else "all"]
    f = [fmt_number(b, lang, decimals) for b in breaks]
    labels = [f"< {f[0]}"]
    labels += [f"{a} – {b}" for a, b in itertools.pairwise(f)]
    labels.append(f"≥ {f[-1]}")
    return labels


def to_png(spec: dict[str, Any], scale: float = 2.0) -> bytes:
    """Rendered on the server (vl-convert), so the PNG is the same in any browser or none."""
    return vlc.vegalite_to_png(json.dumps(spec), scale=scale)


def to_svg(spec: dict[str, Any]) -> bytes:
    return vlc.vegalite_to_svg(json.dumps(spec)).encode("utf-8")
