"""End labels of the trend charts: the placement rule on its own, and the labels as drawn in
the rendered SVG (the PNG/SVG download) of the Vergelijken/Werkwijze and Gemeente trends."""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import polars as pl
import pytest

from dashboard import catalog, charts, end_labels, ui
from dashboard.db import Database
from dashboard.end_labels import LINE_HEIGHT, nice_domain, place
from dashboard.views import gemeente, vergelijken

FONT = 11.0
SVG = "{http://www.w3.org/2000/svg}"


def to_px(y: float, domain: tuple[float, float], height: float) -> float:
    lo, hi = domain
    return (hi - y) / (hi - lo) * height


def gaps_px(placement: end_labels.Placement, domain: tuple[float, float],
            height: float) -> list[float]:
    ys = sorted(to_px(y, domain, height) for y in placement.y)
    return [b - a for a, b in itertools.pairwise(ys)]


# --- the rule -----------------------------------------------------------------------------------

def test_two_lines_ending_at_the_same_value_get_labels_that_do_not_overlap() -> None:
    domain = (20.0, 40.0)
    p = place([31.5, 31.5], domain, 300, FONT)
    assert p.show
    assert gaps_px(p, domain, 300)[0] >= FONT * LINE_HEIGHT - 1e-9
    # Nudged symmetrically around the shared end, not far away from it.
    centre = to_px(31.5, domain, 300)
    assert [abs(to_px(y, domain, 300) - centre) for y in p.y] == pytest.approx(
        [FONT * LINE_HEIGHT / 2] * 2)


def test_labels_far_apart_stay_exactly_at_their_line_ends() -> None:
    p = place([25.0, 35.0, 30.0], (20.0, 40.0), 300, FONT)
    assert p.show and p.y == (25.0, 35.0, 30.0)


def test_order_is_kept_and_labels_stay_inside_the_plot() -> None:
    domain, height = (0.0, 100.0), 200.0
    values = [100.0, 99.5, 0.0, 0.4, 50.0]
    p = place(values, domain, height, FONT)
    assert p.show
    px = [to_px(y, domain, height) for y in p.y]
    box = FONT * LINE_HEIGHT
    assert all(box / 2 - 1e-9 <= v <= height - box / 2 + 1e-9 for v in px)
    # The higher value keeps the higher label: a label never swaps with its neighbour's.
    assert px[0] < px[1] and px[3] < px[2]
    assert min(gaps_px(p, domain, height)) >= box - 1e-9


def test_many_lines_at_one_value_drop_the_labels_for_the_legend() -> None:
    assert not place([31.0] * 8, (20.0, 40.0), 300, FONT).show
    # Too many to fit the plot at all, even spread out.
    values = [float(v) for v in range(30)]
    assert not place(values, (0.0, 29.0), 300, FONT).show
    # The same lines with room enough keep their labels.
    assert place(values, (0.0, 29.0), 30 * FONT * LINE_HEIGHT * 1.5, FONT).show


def test_a_label_is_never_moved_further_than_max_shift_boxes() -> None:
    domain, height = (0.0, 10.0), 400.0
    # Five labels on one value would need the outer ones two boxes away: allowed at 2 ...
    assert place([5.0] * 5, domain, height, FONT, max_shift=2.0).show
    # ... not with a tighter limit.
    assert not place([5.0] * 5, domain, height, FONT, max_shift=1.5).show


def test_nice_domain_covers_the_values_on_round_steps() -> None:
    assert nice_domain([31.5, 32.5, 28.2]) == (27.0, 33.0)  # 5% margin, steps of 1
    assert nice_domain([31.5, 32.4, 28.5]) == (28.0, 33.0)
    lo, hi = nice_domain([0.12, 0.19, None])
    assert lo <= 0.12 and hi >= 0.19 and hi - lo <= 0.1
    assert nice_domain([None]) is None
    assert nice_domain([30.0, 30.0]) == (20.0, 40.0)  # one value: a step either side


# --- in the drawn chart ------------------------------------------------------------------------

def text_marks(svg: bytes) -> list[tuple[str, float, float, float]]:
    """(text, x, baseline y, font size) of every text mark (not axis or legend text)."""
    root = ET.fromstring(svg)
    found = []
    for el in root.iter(f"{SVG}text"):
        if el.get("aria-roledescription") != "text mark":
            continue
        x, y = map(float, re.match(r"translate\(([-\d.e]+),([-\d.e]+)\)",
                                   el.get("transform")).groups())
        found.append((el.text or "", x, y, float(el.get("font-size").rstrip("px"))))
    return found


def boxes_intersect(a: tuple[str, float, float, float],
                    b: tuple[str, float, float, float]) -> bool:
    """Text boxes from the baseline: DejaVu Sans rises 0.93 and falls 0.24 font sizes; width
    0.6 font sizes a character (generous for the proportional font)."""
    def box(t: tuple[str, float, float, float]) -> tuple[float, float, float, float]:
        text, x, y, size = t
        return x, x + 0.6 * size * len(text), y - 0.93 * size, y + 0.24 * size
    ax0, ax1, ay0, ay1 = box(a)
    bx0, bx1, by0, by1 = box(b)
    return ax0 < bx1 and bx0 < ax1 and ay0 < by1 and by0 < ay1


def series(ends: dict[str, list[float | None]]) -> pl.DataFrame:
    """A trend frame as compare_view makes it (columns of vergelijken.SERIES_COLUMNS)."""
    rows = []
    for name, values in ends.items():
        for i, v in enumerate(values):
            rows.append({"reeks": name, "periode_label": str(2020 + i), "volgorde": i,
                         "waarde": v, "waarde_label": "–" if v is None else f"{v}",
                         "n_bekend": 1, "n_totaal": 1})
    return pl.DataFrame(rows)


def trend_svg(frame: pl.DataFrame, export: bool) -> tuple[dict, bytes]:
    names = list(dict.fromkeys(frame["reeks"].to_list()))
    styles = vergelijken.series_styles(names, "Nederland", "lijst", "nl")
    order = frame["periode_label"].unique(maintain_order=True).to_list()
    spec = vergelijken.trend_chart(frame, order, styles, "titel", "bron", "sub", "eenheid",
                                   "nl", export=export)
    return spec, charts.to_svg(ui.export_spec(spec))


@pytest.mark.parametrize("export", [False, True])
def test_rendered_labels_of_lines_ending_together_do_not_intersect(export: bool) -> None:
    frame = series({"Groep resultaatgericht": [30.0, 31.0, 32.5],
                    "Groep in uren": [33.0, 32.0, 32.5],
                    "Nederland": [31.0, 31.8, 32.4]})
    spec, svg = trend_svg(frame, export)
    marks = text_marks(svg)
    assert sorted(m[0] for m in marks) == sorted(["Groep resultaatgericht", "Groep in uren",
                                                  "Nederland"])
    for a, b in itertools.combinations(marks, 2):
        assert not boxes_intersect(a, b), (a, b)
    # The drawn plot is as tall as the placement assumed: the height is the plot's own (fit-x
    # on the page, pad in the download, which grows around long names instead of cutting them).
    assert spec["autosize"]["type"] == ("pad" if export else "fit-x")
    svg_root = ET.fromstring(svg)
    right_edge = float(svg_root.get("width"))
    for text, x, _y, size in marks:  # no name runs off the image (generous width estimate)
        assert x + 0.55 * size * len(text) <= right_edge, text


def test_without_a_spread_the_labels_give_way_to_the_legend() -> None:
    frame = series({f"Gemeente {i}": [30.0, 31.0, 32.0] for i in range(9)})
    spec, svg = trend_svg(frame, export=True)
    assert text_marks(svg) == []
    assert spec["datasets"]["trend_eind"] == []
    legend = ET.fromstring(svg).iter(f"{SVG}text")
    assert {f"Gemeente {i}" for i in range(9)} <= {t.text for t in legend}


@pytest.fixture(scope="module")
def database(demo_db: Path) -> Database:
    return Database(demo_db)


def test_werkwijze_group_trend_labels_do_not_intersect_in_the_download(
        database: Database) -> None:
    view = vergelijken.compare_view(database, vergelijken.Choices(groep="werkwijze"), "nl")
    spec = vergelijken.trend_chart(view.series, view.order, view.styles, "titel", "bron", "sub",
                                   "eenheid", "nl", export=True)
    marks = text_marks(charts.to_svg(ui.export_spec(spec)))
    assert len(marks) == len(spec["datasets"]["trend_eind"]) >= 3
    for a, b in itertools.combinations(marks, 2):
        assert not boxes_intersect(a, b), (a, b)


def test_gemeente_trend_labels_do_not_intersect(database: Database) -> None:
    code = catalog.fallback_gemeente(database)
    tv = gemeente.trend_view(database, code, "per_1000", False, "nl", "bron")
    download = ui.export_spec(gemeente.trend_download(tv.chart))
    svg = charts.to_svg(download)
    marks = text_marks(svg)
    # The download keeps its 640 px plot (fit-x there squeezed it to nothing under the long
    # subtitle) and no name runs off the image.
    assert download["width"] == 640 and download["height"] == gemeente.TREND_HEIGHT
    width = float(ET.fromstring(svg).get("width"))
    years = [float(re.match(r"translate\(([-\d.e]+),", t.get("transform")).group(1))
             for t in ET.fromstring(svg).iter(f"{SVG}text")
             if re.fullmatch(r"\d{4}\**", t.text or "") and t.get("transform")]
    assert len(years) >= 5 and max(years) - min(years) > 500
    assert all(x + 0.55 * size * len(text) <= width for text, x, _y, size in marks)
    ends = [d for d in tv.chart["datasets"].values() if d and "label_y" in d[0]]
    assert len(ends) == 1 and len(marks) == len(ends[0]) == 3
    for a, b in itertools.combinations(marks, 2):
        assert not boxes_intersect(a, b), (a, b)
    # Placed on the chart's own fixed scale, in its own plot height.
    layer_y = tv.chart["layer"][0]["encoding"]["y"]["scale"]
    domain = tuple(layer_y["domain"])
    expected = place([r["waarde"] for r in ends[0]], domain, tv.chart["height"],
                     gemeente.END_LABEL_SIZE)
    assert tuple(r["label_y"] for r in ends[0]) == pytest.approx(expected.y)
