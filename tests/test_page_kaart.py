"""Kaart page: AppTest on a real demo database, plus the view logic without Streamlit."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import polars as pl
import pytest

from dashboard import catalog, charts, geo
from dashboard.db import Database
from dashboard.views import kaart
from tests.dashboard_fixtures import AppFactory


def spec(at, index: int = 0) -> dict:
    return json.loads(at.get("vega_lite_chart")[index].proto.spec)


def dataset(at, name: str, index: int = 0) -> list[dict]:
    """A named dataset of a chart (sent as Arrow beside the spec)."""
    chart = at.get("vega_lite_chart")[index]
    for ds in chart.proto.datasets:
        if ds.name == name:
            return pl.read_ipc_stream(ds.data.data).to_dicts()
    raise AssertionError(f"no {name} dataset in chart {index}")


def lookup_values(at, index: int = 0) -> list[dict]:
    """The per-gemeente values the map joins to its shapes."""
    return dataset(at, kaart.VALUES, index)


def test_default_page_renders_map_with_every_gemeente_and_banner(make_app: AppFactory) -> None:
    at = make_app()
    assert not at.exception
    assert at.title[0].value == "Wmo in de gemeenten"
    assert any("Synthetische demodata" in w.value for w in at.warning)
    s = spec(at)
    values = lookup_values(at)
    assert len(values) == 342
    assert {"code", "naam", "klasse", "werkwijze"} <= set(values[0])
    assert "SYNTHETISCHE DEMODATA" in charts.subtitles_of(s)[-1]
    # Suppressed values form their own labelled class, outside the colour ramp.
    classes = dataset(at, kaart.KLASSEN)
    assert classes[-1]["klasse"] == "onbekend of geheim"
    assert classes[-1]["kleur"] not in [c["kleur"] for c in classes[:-1]]
    assert s["encoding"]["color"]["scale"]["domain"] == {"expr": kaart.DOMAIN_EXPR}
    unknown = [v for v in values if v["label"] == "–"]
    assert unknown and all(v["klasse"] == "onbekend of geheim" for v in unknown)


def test_changing_the_period_changes_values_and_url(make_app: AppFactory) -> None:
    at = make_app()
    before = lookup_values(at)
    specs_before = [c.proto.spec for c in at.get("vega_lite_chart")]
    at.selectbox(key="kaart_periode").select("2020").run()
    assert at.query_params["periode"] == "2020JJ00"
    assert "2020" in dataset(at, kaart.KLASSEN)[0]["titel"]
    assert lookup_values(at) != before
    # Only the data changed: the browser swaps it into the live chart instead of rebuilding.
    assert [c.proto.spec for c in at.get("vega_lite_chart")] == specs_before
    # The same for the ranking, in its own tab.
    at.session_state["kaart_weergave"] = "Rangorde"
    at.run()
    ranking_before = at.get("vega_lite_chart")[0].proto.spec
    at.selectbox(key="kaart_periode").select("2021").run()
    assert "2021" in dataset(at, kaart.KLASSEN)[0]["titel"]
    assert at.get("vega_lite_chart")[0].proto.spec == ranking_before


def test_deep_link_sets_controls(make_app: AppFactory) -> None:
    at = make_app(maat="per_1000_75plus", periode="2022JJ00", provincie="Utrecht", taal="en")
    assert not at.exception
    assert at.selectbox(key="kaart_maat").value == "per_1000_75plus"
    assert at.selectbox(key="kaart_periode").value == "2022JJ00"
    values = lookup_values(at)
    assert values and all(v["provincie"] == "Utrecht" for v in values)
    assert at.title[0].value == "The Wmo in Dutch municipalities"


def test_unknown_deep_link_gives_a_message_and_the_default(make_app: AppFactory) -> None:
    at = make_app(periode="1999JJ00", maat="nonsense")
    assert not at.exception
    messages = " ".join(i.value for i in at.info)
    assert "1999JJ00" in messages and "nonsense" in messages
    assert at.selectbox(key="kaart_maat").value == kaart.DEFAULT_MAAT


def test_map_selection_opens_the_profile(make_app: AppFactory) -> None:
    at = make_app()
    at.session_state["kaart_map"] = {"selection": {"gm": [{"code": "GM0363"}]}}
    at.run()
    assert not at.exception
    assert at.query_params["gemeente"] == "GM0363"


def test_werkwijze_outline_layer_toggles(make_app: AppFactory) -> None:
    at = make_app()
    assert spec(at)["encoding"]["strokeDash"]["field"] == "werkwijze"
    at.checkbox(key="kaart_werkwijze").uncheck().run()
    assert "strokeDash" not in spec(at)["encoding"]
    assert at.query_params["werkwijze"] == "0"


def test_ranking_and_table_are_run_only_when_asked_for(make_app: AppFactory) -> None:
    at = make_app()
    # First run: the map only; the ranking tab and the table expander are offered.
    assert [t.label for t in at.tabs] == ["Kaart", "Rangorde"]
    assert len(at.get("vega_lite_chart")) == 1
    known = [v for v in lookup_values(at) if v["label"] != "–"]
    assert "Tabel bij deze grafiek" in [e.label for e in at.expander]
    assert len(at.dataframe) == 0
    # The ranking tab: a bar for every known value, and no map behind it.
    at.session_state["kaart_weergave"] = "Rangorde"
    at.run()
    assert not at.exception
    charts = at.get("vega_lite_chart")
    assert len(charts) == 1 and "rangorde" in [ds.name for ds in charts[0].proto.datasets]
    assert len(dataset(at, "rangorde")) == len(known) > 300
    # Back on the map, the table: sent once opened, kept open across a period change.
    at.session_state["kaart_weergave"] = "Kaart"
    at.session_state["table_kaart_map"] = True
    at.run()
    assert not at.exception and len(at.dataframe) == 1
    table = at.dataframe[0].value
    assert len(table) == 342 and "Gemeente" in table.columns
    first = table.iloc[0].tolist()
    at.selectbox(key="kaart_periode").select("2020").run()
    assert len(at.dataframe) == 1 and at.dataframe[0].value.iloc[0].tolist() != first


def test_map_values_travel_as_arrow_dictionaries(make_app: AppFactory) -> None:
    at = make_app()
    chart = at.get("vega_lite_chart")[0]
    data = next(ds.data.data for ds in chart.proto.datasets if ds.name == kaart.VALUES)
    schema = pl.read_ipc_stream(data).schema
    assert all(schema[c] == pl.Categorical for c in kaart.FEW_VALUES)
    assert schema["code"] == pl.String and schema["naam"] == pl.String


@pytest.fixture(scope="module")
def database(demo_db: Path) -> Database:
    return Database(demo_db)


def test_values_match_the_out_table(database: Database) -> None:
    view = kaart.map_view(database, "per_1000", "2023JJ00", catalog.TOTAAL, None, "nl")
    direct = database.query(
        "SELECT gemeente_code AS code, clienten_per_1000 AS waarde FROM out.gemeente_periode "
        "WHERE periode_code = '2023JJ00' AND voorziening_code = 'T001024'")
    joined = view.values.select("code", "waarde").join(direct, on="code", suffix="_db")
    assert joined.height == 342
    assert joined.filter(pl.col("waarde").is_null() != pl.col("waarde_db").is_null()).is_empty()
    assert (joined["waarde"] - joined["waarde_db"]).abs().max() < 1e-9


def test_change_measure_is_difference_with_previous_year(database: Database) -> None:
    view = kaart.map_view(database, "verandering", "2023JJ00", catalog.TOTAAL, None, "nl")
    prev = kaart.map_view(database, "per_1000", "2022JJ00", catalog.TOTAAL, None, "nl")
    cur = kaart.map_view(database, "per_1000", "2023JJ00", catalog.TOTAAL, None, "nl")
    both = cur.values.select("code", "waarde").join(
        prev.values.select("code", "waarde"), on="code", suffix="_prev").join(
        view.values.select("code", pl.col("waarde").alias("delta")), on="code")
    expected = both["waarde"] - both["waarde_prev"]
    assert ((both["delta"] - expected).abs().fill_null(0) < 1e-9).all()
    assert both["delta"].null_count() == expected.null_count()


def test_bezwaar_measure_forces_whole_year_and_totaal(database: Database) -> None:
    view = kaart.map_view(database, "bezwaren_per_1000", "2023HJ01", "A019507", None, "nl")
    assert view.periode == "2023JJ00" and view.voorziening == catalog.TOTAAL
    assert view.notes


def test_geometry_file_is_written_once_per_build(database: Database, tmp_path: Path) -> None:
    url = geo.static_url(database, static_dir=tmp_path)
    name = url.rsplit("/", 1)[-1]
    body = json.loads((tmp_path / "geo" / name).read_text())
    assert len(body) == 342 and body[0]["type"] == "Feature" and "code" in body[0]
    written = (tmp_path / "geo" / name).stat()
    assert geo.static_url(database, static_dir=tmp_path) == url
    again = (tmp_path / "geo" / name).stat()
    # Not rewritten on later reruns: same file, same modification time.
    assert (again.st_ino, again.st_mtime_ns) == (written.st_ino, written.st_mtime_ns)


def test_selected_code_reads_only_a_real_selection() -> None:
    assert kaart.selected_code({"selection": {"gm": [{"code": "GM0014"}]}}) == "GM0014"
    assert kaart.selected_code({"selection": {"gm": []}}) is None
    assert kaart.selected_code(None) is None


def test_vectorised_classes_and_labels_agree_with_the_scalar_rules() -> None:
    from dashboard.charts import class_labels, fmt_number, quantile_breaks

    def classify(v: float | None, breaks: list[float], labels: list[str], unknown: str) -> str:
        # The documented rule, written out: [b(i-1), b(i)) intervals, unknown for NULL.
        if v is None:
            return unknown
        return next((lab for b, lab in zip(breaks, labels, strict=False) if v < b),
                    labels[len(breaks)])

    values = [None, 0.0, 3.21, 5.0, 7.43, 9.999, 10.0, 55.5, -1.27, 12.0, None]
    statuses = ["voorlopig", "definitief", "nader_voorlopig", *["definitief"] * 8]
    breaks = quantile_breaks([v for v in values if v is not None])
    labels = class_labels(breaks)
    frame = pl.DataFrame({"v": values, "s": statuses}).with_columns(
        k=kaart.class_expr(pl.col("v"), breaks, labels, "onbekend"),
        label=kaart.label_expr(pl.col("v"), pl.col("s"), "nl", 1))
    assert frame["k"].to_list() == [classify(v, breaks, labels, "onbekend") for v in values]
    expected = ["–" if v is None else fmt_number(v, "nl", 1) + catalog.STATUS_MARK[s]
                for v, s in zip(values, statuses, strict=True)]
    assert frame["label"].to_list() == expected
    halves = pl.DataFrame({"v": [7.45, -1.25], "s": ["definitief", "definitief"]})
    assert halves.select(kaart.label_expr(pl.col("v"), pl.col("s"), "en", 1).alias("x"))["x"] \
        .to_list() == ["7.5", "-1.3"]  # half away from zero, as CBS rounds


def test_png_export_of_the_map_is_memo_sized_with_title_and_source(database: Database) -> None:
    import struct

    from dashboard import charts, ui

    view = kaart.map_view(database, "per_1000", "2023JJ00", catalog.TOTAAL, None, "nl")
    shown = kaart.map_chart(view, "app/static/geo/x.json", "Kaarttitel", "Bron: test", "nl", True)
    spec = ui.export_spec(kaart.with_inline_geometry(shown, geo.features(database)))
    png = charts.to_png(spec, scale=1)
    width, height = struct.unpack(">II", png[16:24])  # IHDR: a 'container' width renders as 0
    assert width >= ui.EXPORT_WIDTH and height > 400
    svg = charts.to_svg(spec).decode()
    assert "Kaarttitel" in svg and "Bron: test" in svg
    assert svg.count('aria-roledescription="geoshape"') == 342


def test_classes_beyond_the_colour_slots_are_refused(database: Database) -> None:
    view = kaart.map_view(database, "per_1000", "2023JJ00", catalog.TOTAAL, None, "nl")
    assert len(view.classes) <= kaart.MAX_CLASSES
    assert kaart.class_records(view, "t")["kleur"].to_list() == list(view.colours)
    crowded = dataclasses.replace(view, classes=tuple("abcdefg"), colours=tuple("1234567"))
    with pytest.raises(ValueError, match="7 classes"):
        kaart.class_records(crowded, "t")


def test_an_export_chart_given_as_a_function_is_built_only_on_download() -> None:
    from dashboard import ui
    built: list[int] = []

    def build() -> dict:
        built.append(1)
        return {"data": {"values": [{"a": 1}]}, "mark": "bar",
                "encoding": {"x": {"field": "a", "type": "quantitative"}}, "width": "container"}

    render = ui._renderer(build, "svg")
    assert built == []  # a rerun that nobody downloads from builds nothing
    svg = render()
    assert built == [1] and svg.startswith(b"<svg")


@pytest.mark.parametrize("maat,column,voorziening", [
    ("uitgaven_per_inwoner", "uitgaven_per_inwoner", catalog.TOTAAL),
    ("hbh_uitgaven_per_client", "uitgaven_hbh_per_client", catalog.HBH),
    ("beeindigd_gemeente", "beeindigd_door_gemeente_per_1000_clienten", catalog.TOTAAL),
])
def test_money_and_flow_measures_are_the_out_columns_of_whole_years(
        database: Database, maat: str, column: str, voorziening: str) -> None:
    # Asked for a half-year of another voorziening: the measure's own year and voorziening win.
    view = kaart.map_view(database, maat, "2023HJ01", "A019506", None, "nl")
    assert view.periode == "2023JJ00" and view.voorziening == voorziening
    direct = database.query(
        f"SELECT gemeente_code AS code, {column} AS waarde FROM out.gemeente_periode "
        "WHERE periode_code = '2023JJ00' AND voorziening_code = ?", [voorziening])
    joined = view.values.select("code", "waarde").join(direct, on="code", suffix="_db")
    assert joined.height == 342
    assert joined.filter(pl.col("waarde").is_null() != pl.col("waarde_db").is_null()).is_empty()
    assert joined["waarde"].drop_nulls().len() > 100
    assert (joined["waarde"] - joined["waarde_db"]).abs().max() < 1e-9
    assert any("Niet van elke" in n or "uitvoeringskosten" in n for n in view.notes)


def test_spending_measure_on_the_page_has_its_caveat_and_euro_labels(make_app) -> None:
    at = make_app(maat="uitgaven_per_inwoner", periode="2023JJ00")
    assert not at.exception
    assert any("uitvoeringskosten" in i.value for i in at.info)
    assert dataset(at, kaart.KLASSEN)[0]["titel"].startswith("Wmo-uitgaven per inwoner, ")
    labels = [v["label"] for v in lookup_values(at) if v["label"] != "–"]
    assert labels and all("," not in label.split()[0] for label in labels)  # whole euros
    median = pl.Series([int(label.rstrip("*")) for label in labels]).median()
    assert median is not None and 150 <= median <= 500


# --- ranking labels and the measure's explanation -------------------------------------------------

# What Streamlit's own chart theme puts under every axis (its CustomTheme): label overlap
# removal on, larger labels, a separation. The ranking must label every bar regardless.
STREAMLIT_AXIS_THEME = {"labelOverlap": True, "labelSeparation": 4,  # twoXS = 0.25rem
                        "labelFontSize": 14,
                        "labelLimit": 100}


def test_every_bar_of_the_ranking_is_named_even_under_streamlits_theme(
        database: Database) -> None:
    from dashboard import charts, ui

    view = kaart.map_view(database, "per_1000", "2023JJ00", catalog.TOTAAL, None, "nl")
    shown = kaart.ranked_chart(view, "Rangorde", "Bron: test", "nl")
    axis = shown["encoding"]["y"]["axis"]
    assert axis["labelOverlap"] is False
    # A band per bar with room for one name: font plus ascenders and descenders.
    assert shown["height"]["step"] >= 1.3 * axis["labelFontSize"]
    spec = ui.export_spec(shown)
    spec["config"] = {**spec.get("config", {}), "axis": STREAMLIT_AXIS_THEME}
    texts = visible_texts(charts.to_svg(spec))
    names = view.values.filter(pl.col("waarde").is_not_null())["naam"].to_list()
    assert len(names) > 300
    assert sorted(named(texts, names)) == sorted(names)
    # The old ranking (13 px a bar, the theme's overlap rule) drew every other name only.
    bare = json.loads(json.dumps(spec))
    for key in ("labelOverlap", "labelSeparation"):
        bare["encoding"]["y"]["axis"].pop(key)
    bare["height"]["step"] = 13
    assert len(named(visible_texts(charts.to_svg(bare)), names)) < len(names)


def visible_texts(svg: bytes) -> list[str | None]:
    """Text the reader sees: Vega hides a label it drops for overlap with opacity 0."""
    import xml.etree.ElementTree as ET

    return [t.text for t in ET.fromstring(svg).iter("{http://www.w3.org/2000/svg}text")
            if t.get("opacity") not in ("0",)]


def named(texts: list[str | None], names: list[str]) -> list[str]:
    """The names drawn in full, or cut at the label limit with an ellipsis."""
    drawn = [t for t in texts if t]
    full = set(drawn)
    cut = [t[:-1] for t in drawn if t.endswith("…")]
    return [n for n in names if n in full or any(n.startswith(c) for c in cut)]


def test_ranking_spec_stays_the_same_across_choices(database: Database) -> None:
    a = kaart.ranked_chart(kaart.map_view(database, "per_1000", "2023JJ00", catalog.TOTAAL,
                                          None, "nl"), "A", "Bron", "nl")
    b = kaart.ranked_chart(kaart.map_view(database, "per_1000", "2022JJ00", catalog.TOTAAL,
                                          "Utrecht", "nl"), "B", "Bron", "nl")
    assert {k: v for k, v in a.items() if k != "datasets"} == \
        {k: v for k, v in b.items() if k != "datasets"}


def test_the_75plus_measure_is_explained_under_its_select(make_app: AppFactory) -> None:
    at = make_app(maat="per_1000_75plus")
    assert not at.exception
    captions = [c.value for c in at.caption]
    assert kaart.MAATEN["per_1000_75plus"].uitleg("nl") in captions
    assert any("géén aandeel van de 75-plussers" in c for c in captions)
    at = make_app(maat="per_1000_75plus", taal="en")
    assert kaart.MAATEN["per_1000_75plus"].uitleg("en") in [c.value for c in at.caption]
