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


# Vega does not wrap titles: a line wider than the chart is cut with "…". So titles travel as
# lines. The title (15 px bold) is laid out once per width step and the browser picks the
# lines for its container (`containerSize()`; off-screen, as in a PNG export, there is no
# container and the export width applies). Subtitles cannot be expressions in Vega-Lite, so
# they are broken for the narrowest step: a phone.
TITLE_SIZE, SUBTITLE_SIZE = 15, 11
WIDTH_STEPS = (300, 380, 480, 640, 800)  # px of text the lines are laid out for
EXPORT_TEXT_WIDTH = 800  # the export is 820 px wide (ui.EXPORT_WIDTH)
_NARROW, _SEMI, _WIDE, _UPPER = set("iljI'.,;:!|"), set("frt()-/[] "), set("mwMW%"), set("&+")


def text_width(text: str, size: float, bold: bool = False) -> float:
    """Pixel width of `text` in DejaVu Sans (the chart font), rounded up per character class:
    an estimate on the safe side, and most phone fonts are narrower still."""
    em = 0.0
    for ch in text:
        if ch in _NARROW:
            em += 0.32
        elif ch in _SEMI:
            em += 0.42
        elif ch in _WIDE:
            em += 1.0
        elif ch.isupper() or ch in _UPPER:
            em += 0.78
        else:
            em += 0.64
    return em * size * (1.13 if bold else 1.0)


def wrap_lines(text: str, width: float, size: float, bold: bool = False) -> list[str]:
    """`text` broken at spaces into lines no wider than `width` px; a word wider than a line
    is split so that nothing needs cutting. Joining the lines with spaces gives `text` back
    unless a word had to be split."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        candidate = f"{line} {word}" if line else word
        if text_width(candidate, size, bold) <= width:
            line = candidate
            continue
        if line:
            lines.append(line)
        *whole, line = _split_word(word, width, size, bold)
        lines.extend(whole)
    if line:
        lines.append(line)
    return lines or [""]


def _split_word(word: str, width: float, size: float, bold: bool) -> list[str]:
    parts: list[str] = []
    while len(word) > 1 and text_width(word, size, bold) > width:
        cut = 1
        while cut < len(word) and text_width(word[:cut + 1], size, bold) <= width:
            cut += 1
        parts.append(word[:cut])
        word = word[cut:]
    return [*parts, word]


# Vega pads the chart and may start the title left of the plot: 20 px to spare.
_CONTAINER = f"(containerSize()[0] || {EXPORT_TEXT_WIDTH + 20})"


def title_expr(text: str) -> str:
    """A Vega expression giving `text` as the lines that fit the chart's container."""
    previous = wrap_lines(text, WIDTH_STEPS[0], TITLE_SIZE, bold=True)
    expr = _literal(previous)
    for step in WIDTH_STEPS[1:]:
        lines = wrap_lines(text, step, TITLE_SIZE, bold=True)
        if lines != previous:
            expr = f"{_CONTAINER} >= {step + 20} ? {_literal(lines)} : {expr}"
        previous = lines
    return expr


def title_variants(text: str) -> dict[str, str]:
    """`titel_<step>`: the title's lines for each width step, joined by newlines; for a chart
    whose title travels as data (data_title_expr)."""
    return {f"titel_{step}": "\n".join(wrap_lines(text, step, TITLE_SIZE, bold=True))
            for step in WIDTH_STEPS}


def data_title_expr(row: str) -> str:
    """The title lines from the title_variants fields of `row` (a Vega expression)."""
    expr = f"split({row}.titel_{WIDTH_STEPS[0]}, '\\n')"
    for step in WIDTH_STEPS[1:]:
        expr = f"{_CONTAINER} >= {step + 20} ? split({row}.titel_{step}, '\\n') : {expr}"
    return expr


def _literal(lines: list[str]) -> str:
    # JSON strings are valid Vega expression strings (quotes and backslashes escaped).
    return json.dumps(lines, ensure_ascii=False)


TITLE_STYLE: dict[str, Any] = {"anchor": "start", "fontSize": TITLE_SIZE,
                               "subtitleFontSize": SUBTITLE_SIZE, "subtitleColor": "#444444"}


def subtitle_lines(lines: Sequence[str]) -> list[str]:
    """Each subtitle line broken into lines that fit a phone (subtitles are fixed text)."""
    return [part for line in lines if line
            for part in wrap_lines(line, WIDTH_STEPS[0], SUBTITLE_SIZE)]


def titled(chart: alt.TopLevelMixin, title: str, source: str,
           subtitle: str | None = None) -> alt.TopLevelMixin:
    """Title on top, subtitle (what is measured) and the source line under it, in lines that
    fit a phone; the plain texts stay in `usermeta` (see title_of) and the title is the
    chart's description for screen readers.

    Placeholder texts ('@title', see views/vergelijken.py) are left for wrap_title."""
    lines = [line for line in (subtitle, source) if line]
    if title.startswith("@"):
        return chart.properties(title=alt.TitleParams(
            text=title, subtitle=lines, **TITLE_STYLE))
    return chart.properties(
        title=alt.TitleParams(text=alt.ExprRef(title_expr(title)),
                              subtitle=subtitle_lines(lines), **TITLE_STYLE),
        description=title, usermeta={"title": title, "subtitle": lines})


def wrap_title(spec: dict[str, Any]) -> dict[str, Any]:
    """What titled() does, for a spec whose texts were filled in after it was built."""
    title = spec.get("title")
    if not isinstance(title, dict) or not isinstance(title.get("text"), str):
        return spec
    text, lines = title["text"], [s for s in title.get("subtitle", []) if s]
    spec["title"] = {**title, "text": {"expr": title_expr(text)},
                     "subtitle": subtitle_lines(lines)}
    spec["description"] = text
    spec["usermeta"] = {**spec.get("usermeta", {}), "title": text, "subtitle": lines}
    return spec


def title_of(spec: dict[str, Any]) -> str:
    """The plain title of a spec made with titled() or wrap_title()."""
    return str(spec.get("usermeta", {}).get("title", ""))


def subtitles_of(spec: dict[str, Any]) -> list[str]:
    """The subtitle and source line as given, before breaking them into lines."""
    return list(spec.get("usermeta", {}).get("subtitle", []))


def configure(chart: alt.TopLevelMixin, lang: str = "nl") -> alt.TopLevelMixin:
    """The shared finish: font, no frame, the language's number and date locale (axes,
    legends and tooltips write "0,5" and "1.000" in Dutch; vl-convert honours it too), and
    legends that list their entries downwards: Vega does not wrap a horizontal legend, so on
    a phone a row of entries below the chart would be cut at the edge."""
    return chart.configure(font=FONT, locale=fmt.vega_locale(lang)).configure_view(
        stroke=None).configure_legend(direction="vertical")


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


def facet_panels(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """The panels of a finished facet spec as separate full-width charts, in facet order.

    A facet has a fixed number of columns and a fixed panel width, which no phone fits; the
    page lays these out in a grid that reflows instead. Each panel still draws every panel's
    rows invisibly, so that all panels keep the facet's shared axes; only the last panel
    carries the legend, and a panel's title is its facet value."""
    facet = spec["facet"]
    field_def = next((facet[k] for k in ("facet", "column", "row") if k in facet), facet)
    field = field_def["field"]
    rows = spec["datasets"][spec["data"]["name"]]
    order = field_def.get("sort")
    values = order if isinstance(order, list) else list(dict.fromkeys(r[field] for r in rows))
    present = {r[field] for r in rows}
    values = [v for v in values if v in present]
    inner = spec["spec"]
    layers = inner["layer"] if "layer" in inner else [
        {k: v for k, v in inner.items() if k not in ("width", "height")}]
    panels = []
    for i, value in enumerate(values):
        last = i == len(values) - 1
        shown = [{**(layer if last else _without_legends(layer)),
                  "transform": [{"filter": {"field": field, "equal": value}},
                                *layer.get("transform", [])]} for layer in layers]
        panels.append({
            "$schema": spec.get("$schema"), "config": spec.get("config", {}), "data": spec["data"],
            "datasets": spec["datasets"], "description": str(value),
            # The group's plain title, and which panel this is (see title_of).
            "usermeta": {**spec.get("usermeta", {}), "panel": value},
            "title": {"text": {"expr": title_expr(str(value))}, "anchor": "start",
                      "fontSize": 12},
            # fit-x: the height is the plot's, as in the facet, not title and axes included.
            "width": "container", "height": inner.get("height", 150),
            "autosize": {"type": "fit-x", "contains": "padding"},
            "layer": [*(_ghost(layer, last) for layer in layers), *shown]})
    return panels


def _without_legends(layer: dict[str, Any]) -> dict[str, Any]:
    encoding = {k: {**v, "legend": None} if isinstance(v, dict) and "field" in v else v
                for k, v in layer.get("encoding", {}).items()}
    return {**layer, "encoding": encoding}


def _ghost(layer: dict[str, Any], legend: bool) -> dict[str, Any]:
    # Invisible, without tooltips: only there so that every panel's scales see all rows.
    # (A layer without the legend would take it away from the other layers too.)
    mark = layer["mark"] if isinstance(layer["mark"], dict) else {"type": layer["mark"]}
    encoding = {k: v for k, v in (layer if legend else _without_legends(layer))
                .get("encoding", {}).items() if k != "tooltip"}
    return {**layer, "mark": {**mark, "opacity": 0, "tooltip": False}, "encoding": encoding}


def line_label_expr(labels: Sequence[str], width: float, size: float = 11) -> str:
    """A Vega labelExpr that puts each of `labels` wider than `width` px on several lines
    (for legend and axis labels, which Vega cuts rather than wraps)."""
    expr = "datum.label"
    for label in labels:
        lines = wrap_lines(label, width, size)
        if len(lines) > 1:
            name = json.dumps(label, ensure_ascii=False)
            expr = f"datum.label == {name} ? {_literal(lines)} : {expr}"
    return expr
