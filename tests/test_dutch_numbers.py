"""One number formatter everywhere: every page in Dutch and in English, on a real demo database.

All text a reader sees (titles, prose, captions, notes, cards, table cells, chart labels) is
collected from AppTest and checked: no "None" or "nan" anywhere, and in Dutch no English-style
numbers ("1,234,567", "7.8"); every chart carries the page language's Vega locale. Register
text (descriptions, URLs, licence names typed by people) is data, not ours to reformat, and is
left out of the number-style check only. A single comma group ("0,066") is a Dutch number with
three decimals as much as an English thousand, so only unambiguous English forms are flagged;
the exact cells are checked where the value is known (the SQL grid, the Data page).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import charts, fmt, tables
from dashboard.views import kaart, vergelijken
from tests.dashboard_fixtures import AppFactory, chart_specs

PAGES = ("kaart", "vergelijken", "werkwijze", "bezwaar", "rechtspraak", "gemeente", "data", "sql",
         "over")
# Columns holding register or source text as people typed it (shown as is, never rewritten).
VERBATIM = {"bron_omschrijving", "bron_url", "url", "bron", "omschrijving", "description",
            "beschrijving", "titel", "title", "licentie", "licence"}
ENGLISH_THOUSANDS = re.compile(r"\b\d{1,3}(,\d{3}){2,}\b|\b\d{1,3},\d{3}\.\d")
ENGLISH_DECIMAL = re.compile(r"\d\.\d{1,2}\b")
DUTCH_DECIMAL = re.compile(r"\d,\d{1,2}\b")
VERSION = re.compile(r"\bv?\d+\.\d+\.\d+\b")  # 0.1.0, DuckDB v2.0.0: versions, not numbers
MISSING = re.compile(r"\b(None|nan|NaN|null)\b")


def _texts(at: AppTest) -> Iterator[tuple[str, str]]:
    """(where, text) for every visible text of the page."""
    for kind in ("title", "header", "subheader", "markdown", "caption", "info", "warning",
                 "error", "success"):
        for el in getattr(at, kind):
            yield kind, str(el.value)
    for m in at.metric:
        yield "metric", f"{m.label} {m.value} {m.delta or ''} {m.proto.help}"
    for el in at.get("expander"):
        yield "expander", str(el.proto.label)
    for spec in chart_specs(at):
        title = spec.get("title", {})
        if isinstance(title, dict):
            for line in [title.get("text"), *(title.get("subtitle") or [])]:
                if isinstance(line, str):
                    yield "chart title", line
        for row in spec["_rows"]:
            for key, value in row.items():
                if isinstance(value, str) and key not in VERBATIM:
                    yield f"chart data {key}", value


def _cells(at: AppTest) -> Iterator[tuple[str, object]]:
    """(column, cell) of every table on the page, as sent to the browser."""
    for el in at.dataframe:
        frame = el.value
        for column in frame.columns:
            for cell in frame[column].tolist():
                yield str(column), cell


def _problems(at: AppTest, lang: str) -> list[str]:
    found = []
    for where, text in _texts(at):
        if MISSING.search(text):
            found.append(f"{where}: {text[:160]!r}")
        found += _style_problems(where, text, lang)
    for column, cell in _cells(at):
        if cell is None or (isinstance(cell, float) and cell != cell):
            found.append(f"cell {column}: empty value shown as None")
        elif not isinstance(cell, str):
            found.append(f"cell {column}: {cell!r} is not written by fmt")
        elif column not in VERBATIM and column.lower() not in VERBATIM:
            if MISSING.fullmatch(cell.strip()):
                found.append(f"cell {column}: {cell!r}")
            found += _style_problems(f"cell {column}", cell, lang)
    return found


def _style_problems(where: str, text: str, lang: str) -> list[str]:
    plain = VERSION.sub("", text)
    patterns = (ENGLISH_THOUSANDS, ENGLISH_DECIMAL) if lang == "nl" else (DUTCH_DECIMAL,)
    return [f"{where}: {m.group(0)!r} in {text[:160]!r}" for p in patterns
            for m in p.finditer(plain)]


def _open(make_app: AppFactory, page: str, lang: str) -> AppTest:
    params = {"taal": "en"} if lang == "en" else {}
    at = make_app(None if page == "kaart" else page, **params)
    assert not at.exception, at.exception
    return at


@pytest.mark.parametrize("lang", ["nl", "en"])
@pytest.mark.parametrize("page", PAGES)
def test_every_page_writes_numbers_for_its_language(make_app: AppFactory, page: str,
                                                    lang: str) -> None:
    at = _open(make_app, page, lang)
    assert list(_texts(at)), "the page shows text"
    assert _problems(at, lang) == []
    decimal = "," if lang == "nl" else "."
    for spec in chart_specs(at):
        assert spec["config"]["locale"]["number"]["decimal"] == decimal, spec.get("title")
    for el in at.dataframe:  # number columns are written as text, so align them as numbers
        config = json.loads(el.proto.columns or "{}")
        numeric = [c for c, cfg in config.items() if cfg.get("alignment") == "right"]
        assert all(c in el.value.columns for c in numeric)


def test_dutch_pages_show_dutch_numbers_in_tables_and_cards(make_app: AppFactory) -> None:
    at = _open(make_app, "data", "nl")
    total = at.metric[0].value
    assert re.fullmatch(r"\d{1,3}(\.\d{3})+", total), total  # e.g. '141.588'
    cells = [c for _, c in _cells(at) if isinstance(c, str)]
    assert any(re.fullmatch(r"\d+,\d", c) for c in cells)  # a rate: '90,3'
    assert "–" in cells  # unknown, not None
    footer = at.caption[-1].value
    assert re.search(r"gebouwd op \d{1,2} [a-z]+ \d{4} \d{2}:\d{2} UTC", footer), footer


def test_sql_result_grid_is_written_for_the_reader(make_app: AppFactory) -> None:
    at = _open(make_app, "sql", "nl")
    at.text_area(key="sql_query").input(
        "SELECT 1284680 AS aantal, 72.25 AS aandeel, CAST(NULL AS DOUBLE) AS leeg, "
        "2024 AS jaar, DATE '2024-07-01' AS datum")
    at.button(key="sql_run").click().run()
    assert not at.exception
    grid = next(d.value for d in at.dataframe if "aantal" in d.value.columns)
    assert grid.iloc[0].tolist() == ["1.284.680", "72,25", "–", "2024", "1 juli 2024"]
    assert _problems(at, "nl") == []


def test_charts_export_with_the_locale() -> None:
    """vl-convert honours config.locale: the PNG/SVG axes read as the page does."""
    frame = pl.DataFrame({"x": [0.0, 0.5, 1.0, 1.5], "y": [1000.0, 2000.0, 3000.0, 4000.0]})
    import altair as alt
    chart = alt.Chart(frame).mark_point().encode(x="x:Q", y="y:Q")
    for lang, half, thousand in (("nl", "1,0", "1.000"), ("en", "1.0", "1,000")):
        spec = charts.configure(chart, lang).to_dict()
        spec["datasets"] = {k: v.to_dicts() if isinstance(v, pl.DataFrame) else v
                            for k, v in spec.get("datasets", {}).items()}
        labels = re.findall(r">([^<]*)</text>", charts.to_svg(spec).decode())
        assert half in labels and thousand in labels, labels
    # A finished dict spec (Kaart, Vergelijken, Werkwijze) gets the page's locale too.
    done = charts.localised({"mark": "point", "config": {"font": "x"}}, "en")
    assert done["config"] == {"font": "x", "locale": fmt.vega_locale("en")}


def test_one_rounding_rule_on_kaart_vergelijken_and_tables() -> None:
    values = [80.25, 1.005, -1.25, None]
    frame = pl.DataFrame({"waarde": values, "status": ["definitief"] * 4})
    on_kaart = frame.select(kaart.label_expr(pl.col("waarde"), pl.col("status"), "nl", 1)
                            .alias("x"))["x"].to_list()
    on_vergelijken = vergelijken._with_value_label(frame, "nl", 1)["waarde_label"].to_list()
    in_table = tables.display(frame.select("waarde"), "nl", 1).frame["waarde"].to_list()
    assert on_kaart == on_vergelijken == in_table == ["80,3", "1,0", "-1,3", "–"]
    assert fmt.number(80.25, "nl", 1) == "80,3"


def test_table_writer_rules() -> None:
    frame = pl.DataFrame({
        "inwoners": [1284680, None], "jaar": [2024, 2025], "Eerste jaar": [2019, None],
        "aandeel": [0.1234, 0.5], "rond": [3.0, 4.0], "naam": ["a", None],
        "gebruikt": [True, False]})
    shown = tables.display(frame, "nl")
    assert shown.frame.rows() == [
        ("1.284.680", "2024", "2019", "0,123", "3", "a", "ja"),
        ("–", "2025", "–", "0,500", "4", "–", "nee")]
    assert shown.numeric == ("inwoners", "jaar", "Eerste jaar", "aandeel", "rond")
    english = tables.display(frame, "en", {"aandeel": 1}).frame
    assert english.row(0) == ("1,284,680", "2024", "2019", "0.1", "3", "a", "yes")
    # A stored measure column takes its measure's places (clienten_per_1000: 1).
    rate = tables.display(pl.DataFrame({"clienten_per_1000": [90.2665]}), "nl").frame
    assert rate.item() == "90,3"


def test_sizes_limits_and_durations_for_readers() -> None:
    from dashboard.sql_limits import MB, human_bytes
    from dashboard.views import data

    assert data.human_size(7_800_000, "nl") == "7,8 MB"
    assert data.human_size(7_800_000, "en") == "7.8 MB"
    assert human_bytes(64 * MB, "nl") == "64 MB"
    assert human_bytes(int(1.91 * MB), "nl") == "1,91 MB"
    assert human_bytes(1536, "en") == "1.5 kB"
    assert fmt.duration(1.84, "nl") == "1,8 s"
    assert fmt.seconds(2.5, "nl") == "2,5 s" and fmt.seconds(20, "nl") == "20 s"
    assert [fmt.places(v) for v in (3.0, 2.5, 0.125, 1e-9)] == [0, 1, 3, 3]
