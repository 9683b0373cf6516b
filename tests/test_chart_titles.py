"""Chart titles in lines that fit (dashboard/charts.py): Vega cuts a title wider than the chart
with "…", so titles, subtitles and long labels are broken into lines on the server."""

from __future__ import annotations

import itertools
import json

import altair as alt
import pytest

from dashboard import charts

TITLE = "Wmo-cliënten per 1 000 inwoners, Huishoudelijke hulp, 1e halfjaar 2024*, Noord-Brabant"


def test_text_width_grows_with_text_size_and_weight() -> None:
    assert charts.text_width("", 15) == 0
    assert charts.text_width("iii", 15) < charts.text_width("mmm", 15)
    assert charts.text_width("abc", 15) == pytest.approx(1.5 * charts.text_width("abc", 10))
    assert charts.text_width("abc", 15, bold=True) > charts.text_width("abc", 15)


@pytest.mark.parametrize("width", [200, 300, 480, 800])
def test_wrapped_lines_fit_and_keep_every_word(width: int) -> None:
    lines = charts.wrap_lines(TITLE, width, 15, bold=True)
    assert all(charts.text_width(line, 15, bold=True) <= width for line in lines)
    assert " ".join(lines) == TITLE
    # Greedy: the next line's first word would not have fitted on the line before.
    for line, after in itertools.pairwise(lines):
        assert charts.text_width(f"{line} {after.split()[0]}", 15, bold=True) > width


def test_a_word_wider_than_the_line_is_split_not_cut() -> None:
    word = "Wmo-cliëntenregistratiesysteemoverzicht"
    lines = charts.wrap_lines(word, 100, 15)
    assert len(lines) > 1 and "".join(lines) == word
    assert all(charts.text_width(line, 15) <= 100 for line in lines)


def test_short_text_stays_one_line() -> None:
    assert charts.wrap_lines("Kaart", 300, 15) == ["Kaart"]
    assert charts.wrap_lines("", 300, 15) == [""]


def test_title_expression_offers_the_narrow_and_wide_layouts() -> None:
    expr = charts.title_expr(TITLE)
    narrow = charts.wrap_lines(TITLE, charts.WIDTH_STEPS[0], charts.TITLE_SIZE, bold=True)
    wide = charts.wrap_lines(TITLE, charts.WIDTH_STEPS[-1], charts.TITLE_SIZE, bold=True)
    assert len(narrow) > len(wide)
    assert expr.endswith(json.dumps(narrow, ensure_ascii=False))  # the last resort
    assert json.dumps(wide, ensure_ascii=False) in expr
    assert "containerSize()[0]" in expr


def test_quotes_in_a_title_stay_inside_their_string() -> None:
    expr = charts.title_expr("'s-Gravenhage \"centrum\"")
    assert "\"'s-Gravenhage \\\"centrum\\\"\"" in expr


def test_titled_chart_keeps_the_plain_texts_and_renders_them() -> None:
    chart = alt.Chart(alt.Data(values=[{"x": 1}])).mark_point().encode(x="x:Q")
    source = "Bron: SYNTHETISCHE DEMODATA (geen CBS-cijfers); bewerking wmo-atlas"
    spec = charts.configure(charts.titled(chart, TITLE, source, "per 1 000 inwoners")).to_dict()
    assert charts.title_of(spec) == TITLE
    assert charts.subtitles_of(spec) == ["per 1 000 inwoners", source]
    assert spec["description"] == TITLE
    lines = spec["title"]["subtitle"]
    assert all(charts.text_width(line, charts.SUBTITLE_SIZE) <= charts.WIDTH_STEPS[0]
               for line in lines)
    assert " ".join(lines) == f"per 1 000 inwoners {source}"
    # Off-screen (a PNG) there is no container: the export width's lines, nothing cut.
    svg = charts.to_svg(spec).decode()
    assert "…" not in svg and "SYNTHETISCHE" in svg


def test_wrap_title_after_placeholders_are_filled() -> None:
    spec = {"title": {"text": TITLE, "subtitle": ["sub", "Bron: x"]}}
    out = charts.wrap_title(spec)
    assert out["title"]["text"] == {"expr": charts.title_expr(TITLE)}
    assert charts.title_of(out) == TITLE and charts.subtitles_of(out) == ["sub", "Bron: x"]


def test_data_title_variants_match_the_expression_steps() -> None:
    variants = charts.title_variants(TITLE)
    assert set(variants) == {f"titel_{w}" for w in charts.WIDTH_STEPS}
    assert variants[f"titel_{charts.WIDTH_STEPS[0]}"].split("\n") == charts.wrap_lines(
        TITLE, charts.WIDTH_STEPS[0], charts.TITLE_SIZE, bold=True)
    expr = charts.data_title_expr("row")
    assert all(f"row.titel_{w}" in expr for w in charts.WIDTH_STEPS)


def test_line_label_expression_breaks_only_long_labels() -> None:
    expr = charts.line_label_expr(["Amsterdam", "Vergelijkbare gemeenten van 's-Hertogenbosch"],
                                  150, 14)
    assert "Amsterdam" not in expr
    assert "\"Vergelijkbare gemeenten van 's-Hertogenbosch\" ? [" in expr
    assert expr.endswith("datum.label")


def _facet() -> dict:
    rows = [{"paneel": p, "jaar": str(j), "waarde": v}
            for p, base in (("B", 10.0), ("A", 50.0)) for j, v in ((2020, base), (2021, base + 1))]
    chart = alt.Chart().mark_line().encode(
        x="jaar:O", y="waarde:Q", color=alt.Color("paneel:N", legend=alt.Legend()),
        tooltip=["waarde:Q"]).properties(width=200, height=120).facet(
        facet=alt.Facet("paneel:N", sort=["A", "B", "C"]), columns=3, data=alt.NamedData("d"))
    spec = charts.wrap_title(charts.configure(
        charts.titled(chart, "@title", "bron")).to_dict())
    return {**spec, "datasets": {"d": rows}}


def test_facet_panels_in_facet_order_with_shared_scales() -> None:
    facet = _facet()
    facet["title"]["text"] = "Groep"
    panels = charts.facet_panels(charts.wrap_title(facet))
    assert [p["usermeta"]["panel"] for p in panels] == ["A", "B"]  # C has no rows
    assert all(charts.title_of(p) == "Groep" for p in panels)
    for panel in panels:
        assert panel["width"] == "container" and panel["height"] == 120
        ghosts, shown = panel["layer"][:1], panel["layer"][1:]
        # The invisible copy draws every panel's rows, so the y axes match across panels.
        assert ghosts[0]["mark"]["opacity"] == 0 and "transform" not in ghosts[0]
        assert "tooltip" not in ghosts[0]["encoding"]
        assert shown[0]["transform"][0] == {"filter": {"field": "paneel",
                                                       "equal": panel["usermeta"]["panel"]}}
    # One legend for the grid, on its last panel.
    assert panels[0]["layer"][1]["encoding"]["color"]["legend"] is None
    assert panels[-1]["layer"][1]["encoding"]["color"]["legend"] == {}
    svg = charts.to_svg(panels[0]).decode()
    assert "A" in svg and "<svg" in svg
