"""The Kaart page without Streamlit: measures, the values per gemeente, classes and charts.

The SQL text only ever comes from the measure catalogue (dashboard/measures.py); the user's
choices (period, voorziening, province) are bound parameters or checked against the database's
own lists.
"""

from __future__ import annotations

import copy
import functools
from dataclasses import dataclass
from typing import Any

import altair as alt
import polars as pl

from dashboard import catalog, fmt, measures, tables
from dashboard.charts import (
    DIVERGING_5,
    SEQUENTIAL_5,
    UNKNOWN_COLOUR,
    class_labels,
    configure,
    data_title_expr,
    quantile_breaks,
    symmetric_breaks,
    title_variants,
    titled,
)
from dashboard.db import Database
from dashboard.i18n import section, tr
from dashboard.measures import Measure

TEXTS = section("kaart")


# The Kaart's measures, in the order it offers them; defined in dashboard/measures.py.
MAATEN: dict[str, Measure] = measures.pick(
    "per_1000", "hbh_per_1000", "per_1000_75plus", "bezwaren_per_1000", "uitgaven_per_inwoner",
    "hbh_uitgaven_per_client", "beeindigd_gemeente", "uitspraken_per_10000", "verandering")
DEFAULT_MAAT = "per_1000"


@dataclass(frozen=True)
class MapView:
    maat: Measure
    periode: str
    voorziening: str
    provincie: str | None
    values: pl.DataFrame  # code, naam, provincie, waarde, status, werkwijze, klasse, label
    classes: tuple[str, ...]  # tuples: a view is shared by every session that asks for it
    colours: tuple[str, ...]
    notes: tuple[str, ...]


def effective_choices(db: Database, maat: Measure, periode: str, voorziening: str,
                      lang: str) -> tuple[str, str, list[str]]:
    """Apply the measure's own constraints (fixed voorziening, whole years only) with a note."""
    notes: list[str] = []
    if maat.voorziening is not None and voorziening != maat.voorziening:
        voorziening = maat.voorziening
        # Only a household-help measure says so: the yearly totals need no explanation.
        if maat.voorziening == catalog.HBH:
            notes.append(tr("fixed_voorziening", lang, TEXTS))
    if maat.year_only and not periode.endswith("JJ00"):
        periode = f"{periode[:4]}JJ00"
        if catalog.year_periods(db).filter(pl.col("periode_code") == periode).is_empty():
            periode = catalog.default_period(db)
        notes.append(tr("year_only", lang, TEXTS,
                        period=catalog.period_label(db, periode, lang)))
    caveat = maat.caveat(lang)
    if caveat is not None:
        notes.append(caveat)
    if maat.change and catalog.periods(db).filter(
            pl.col("periode_code") == catalog.previous_year_code(periode)).is_empty():
        notes.append(tr("no_previous", lang, TEXTS))
    return periode, voorziening, notes


def raw_values(db: Database, maat: Measure, periode: str, voorziening: str) -> pl.DataFrame:
    """One row per gemeente of the reference classification; waarde NULL when unknown."""
    sql = (
        "SELECT g.gemeente_code AS code, g.gemeente_naam AS naam, g.provincie_naam AS provincie, "
        f"CAST({maat.value_sql()} AS DOUBLE) AS waarde, g.status, "
        "coalesce(g.werkwijze_hbh, 'onbekend') AS werkwijze "
        "FROM out.gemeente_periode g LEFT JOIN out.gemeente_periode p "
        "  ON p.gemeente_code = g.gemeente_code AND p.voorziening_code = g.voorziening_code "
        "  AND p.periode_code = ? "
        "WHERE g.periode_code = ? AND g.voorziening_code = ? ORDER BY g.gemeente_code")
    key = ("kaart_values", maat.key, periode, voorziening)
    return db.memo(key, lambda: db.query(
        sql, [catalog.previous_year_code(periode), periode, voorziening]))


def map_view(db: Database, maat_key: str, periode: str, voorziening: str,
             provincie: str | None, lang: str) -> MapView:
    """The values, classes and notes for one choice; recent choices are kept per build."""
    key = ("kaart_view", maat_key, periode, voorziening, provincie, lang)
    return db.recent(key, lambda: _map_view(db, maat_key, periode, voorziening, provincie, lang))


def _map_view(db: Database, maat_key: str, periode: str, voorziening: str,
              provincie: str | None, lang: str) -> MapView:
    maat = MAATEN[maat_key]
    periode, voorziening, notes = effective_choices(db, maat, periode, voorziening, lang)
    values = raw_values(db, maat, periode, voorziening)
    if provincie:
        values = values.filter(pl.col("provincie") == provincie)
    known = values["waarde"].drop_nulls().to_list()
    breaks = symmetric_breaks(known) if maat.diverging else sparse_breaks(known)
    labels = class_labels(breaks, lang, maat.decimals)
    unknown = tr("unknown_class", lang, TEXTS)
    palette = DIVERGING_5 if maat.diverging else SEQUENTIAL_5
    colours = _palette(palette, len(labels))
    values = values.with_columns(
        klasse=class_expr(pl.col("waarde"), breaks, labels, unknown),
        label=label_expr(pl.col("waarde"), pl.col("status"), lang, maat.decimals),
        werkwijze_label=pl.col("werkwijze").replace_strict(
            catalog.werkwijze_labels(lang), default=pl.col("werkwijze")),
    )
    return MapView(maat, periode, voorziening, provincie, values, (*labels, unknown),
                   (*colours, UNKNOWN_COLOUR), tuple(notes))


def sparse_breaks(known: list[float]) -> list[float]:
    """Quantile breaks; when most values are the lowest one (court rulings: most gemeenten have
    none in a year) the quantiles collapse, so the lowest value gets a class of its own and
    the rest are split at their own quantiles."""
    breaks = quantile_breaks(known)
    low = min(known, default=None)
    if breaks or low is None or max(known) == low:
        return breaks
    above = [v for v in known if v > low]
    return sorted({min(above), *quantile_breaks(above, 4)})


def _palette(palette: list[str], n: int) -> list[str]:
    if n >= len(palette):
        return palette[:n]
    step = (len(palette) - 1) / max(n - 1, 1)
    return [palette[round(i * step)] for i in range(n)]


def class_expr(value: pl.Expr, breaks: list[float], labels: list[str], unknown: str) -> pl.Expr:
    """The class of each value: [b(i-1), b(i)) intervals, NULL → the unknown class."""
    if not breaks:
        return pl.when(value.is_null()).then(pl.lit(unknown)).otherwise(pl.lit(labels[0]))
    return (value.bin_intervals(breaks, labels=labels).cast(pl.String)
            .fill_null(unknown))


def label_expr(value: pl.Expr, status: pl.Expr, lang: str, decimals: int) -> pl.Expr:
    """'80,3*' (Dutch) or '80.3*' with the status mark; '–' when unknown. Written by
    dashboard/fmt.py, so the map, the cards and Vergelijken round 80,25 alike (to 80,3)."""
    text = value.map_elements(lambda v: fmt.number(v, lang, decimals), return_dtype=pl.String,
                              skip_nulls=False)
    mark = status.replace_strict(catalog.STATUS_MARK, default="")
    return pl.when(value.is_null()).then(pl.lit(fmt.UNKNOWN)).otherwise(text + mark)


VALUES = "waarden"  # name of the per-rerun values dataset in the map spec
GEO = "geo"
KLASSEN = "klassen"  # per-rerun classes, colours and title of a chart
MAX_CLASSES = 6  # five value classes and the unknown class
MAP_HEIGHT = 560  # px of the map itself; the Netherlands fill it at about 490 px wide

# Everything that changes with the user's choices travels as data, never in the spec text:
# with an unchanged spec Streamlit swaps the datasets into the live Vega view, where a changed
# spec makes the browser parse, compile and draw the whole chart again (the bulk of the
# interaction time). So title, class domain and colours are expressions over `klassen`.
_ROWS = f"data('{KLASSEN}')"
# The title's lines per container width ride along as titel_<step> (charts.title_variants).
TITLE_EXPR = f"length({_ROWS}) ? {data_title_expr(_ROWS + '[0]')} : ''"
DOMAIN_EXPR = f"pluck({_ROWS}, 'klasse')"


def _colour_range() -> list[dict[str, str]]:
    return [{"expr": f"length({_ROWS}) > {i} ? {_ROWS}[{i}].kleur : '#ffffff'"}
            for i in range(MAX_CLASSES)]


def class_records(view: MapView, title: str) -> pl.DataFrame:
    """The `klassen` dataset: classes in legend order with their colour; the title rides along
    so that it can change without changing the spec."""
    if len(view.classes) > MAX_CLASSES:  # the colour range has MAX_CLASSES slots
        raise ValueError(f"{len(view.classes)} classes; the map has room for {MAX_CLASSES}")
    lines = title_variants(title)
    return pl.DataFrame({"klasse": list(view.classes), "kleur": list(view.colours),
                         "titel": [title] * len(view.classes),
                         **{k: [v] * len(view.classes) for k, v in lines.items()}})


def map_chart(view: MapView, geometry: str | list[dict[str, Any]], title: str, source: str,
              lang: str, show_werkwijze: bool) -> dict[str, Any]:
    """Choropleth spec: shapes from `geometry` (URL or inline features), values joined by code.

    Altair validates every object it builds against the Vega-Lite schema, which cost ~200 ms
    per rerun, so the chart is built once per (unit, language, outline, source) as a template
    and a rerun only supplies the datasets (see TITLE_EXPR for why the spec stays fixed).
    One layer only: an outline layer on top would swallow the clicks meant for the shapes;
    the werkwijze is the outline of the same shapes, drawn last so neighbours do not cover it.
    """
    url = geometry if isinstance(geometry, str) else None
    records = view.values.with_columns(
        rang=(pl.col("werkwijze") != "onbekend").cast(pl.Int8)).select(
        "code", *MAP_FIELDS).with_columns(_dictionary(FEW_VALUES))
    # Frames, not records: Streamlit sends a polars frame to the browser as Arrow directly,
    # where records would go through pandas first.
    datasets: dict[str, Any] = {VALUES: records, KLASSEN: class_records(view, title)}
    if url is None:
        datasets[GEO] = geometry
    # A copy: Streamlit may patch the spec it is given, and the template is shared.
    spec = copy.deepcopy(_map_template(view.maat.unit(lang), lang, show_werkwijze, source, url))
    return {**spec, "datasets": datasets}


MAP_FIELDS = ["naam", "provincie", "label", "klasse", "werkwijze_label", "werkwijze", "rang"]
# Columns with a handful of distinct values (classes, werkwijze, provinces) travel as Arrow
# dictionaries: a small index per row instead of the text, about half of every rerun's bytes.
FEW_VALUES = ("provincie", "klasse", "werkwijze_label", "werkwijze")


def _dictionary(columns: tuple[str, ...]) -> pl.Expr:
    return pl.col(columns).cast(pl.Categorical)


@functools.lru_cache(maxsize=64)
def _map_template(unit: str, lang: str, show_werkwijze: bool, source: str,
                  url: str | None) -> dict[str, Any]:
    select = alt.selection_point(fields=["code"], name="gm", on="click")
    klasse = alt.Color("klasse:N", title=unit, scale=_class_scale(),
                       legend=alt.Legend(orient="bottom", direction="vertical",
                                         symbolType="square", symbolStrokeColor="#666666"))
    tooltip = [alt.Tooltip("naam:N", title=tr("gemeente", lang)),
               alt.Tooltip("label:N", title=tr("waarde", lang, TEXTS)),
               alt.Tooltip("klasse:N", title=tr("klasse", lang, TEXTS)),
               alt.Tooltip("werkwijze_label:N", title=tr("werkwijze_legend", lang, TEXTS))]
    encoding: dict[str, Any] = {
        "color": klasse, "tooltip": tooltip,
        "opacity": alt.condition(select, alt.value(1.0), alt.value(0.55)),
    }
    if show_werkwijze:
        encoding.update(_werkwijze_encoding(lang))
    data = (alt.Data(url=url, format=alt.DataFormat(type="json")) if url is not None
            else alt.NamedData(name=GEO))
    chart = alt.Chart(data).mark_geoshape(stroke="#ffffff", strokeWidth=0.4).encode(
        **encoding).add_params(select).transform_lookup(
        lookup="code", from_=alt.LookupData(data=alt.NamedData(name=VALUES), key="code",
                                           fields=MAP_FIELDS),
    ).transform_filter("isValid(datum.naam)").transform_lookup(
        lookup="klasse", from_=_klassen_lookup(),
    ).project("mercator").properties(
        # fit-x: the height is the map's own, the legends below come on top of it; with
        # Streamlit's 'fit' they would take the map's height, and so its width on a phone.
        width="container", height=MAP_HEIGHT,
        autosize=alt.AutoSizeParams(type="fit-x", contains="padding"))
    return _data_titled(chart, source)


def _class_scale() -> alt.Scale:
    return alt.Scale(domain=alt.ExprRef(DOMAIN_EXPR), range=_colour_range())


def _klassen_lookup() -> alt.LookupData:
    # Vega-Lite only emits a named dataset that a view reads; this lookup makes `klassen`
    # exist in the compiled spec, so that the expressions above can reach it.
    return alt.LookupData(data=alt.NamedData(name=KLASSEN), key="klasse", fields=["kleur"])


def _data_titled(chart: alt.Chart, source: str) -> dict[str, Any]:
    spec = configure(titled(chart, "", source)).to_dict()
    spec["title"]["text"] = {"expr": TITLE_EXPR}
    # The title changes with the data; the description and usermeta would fix it in the spec.
    spec.pop("description", None)
    spec["usermeta"].pop("title", None)
    return spec


def with_inline_geometry(spec: dict[str, Any], features: list[dict[str, Any]]) -> dict[str, Any]:
    """The same map with the shapes inside the spec, for PNG/SVG rendering off the browser."""
    return {**spec, "data": {"name": GEO}, "datasets": {**spec.get("datasets", {}), GEO: features}}


def _werkwijze_encoding(lang: str) -> dict[str, Any]:
    # Solid for resultaatgericht, dashed for uren: told apart by line, not by colour alone.
    domain = ["resultaatgericht", "uren", "onbekend"]
    shown = domain[:2]
    title = tr("werkwijze_legend", lang, TEXTS)
    legend = alt.Legend(orient="bottom", direction="vertical", values=shown, symbolType="square",
                        symbolFillColor="#ffffff",
                        labelExpr=_label_expr({w: tr(w, lang) for w in shown}))
    return {
        "stroke": alt.Stroke("werkwijze:N", title=title, legend=legend,
                             scale=alt.Scale(domain=domain,
                                             range=["#000000", "#7a0177", "#ffffff"])),
        "strokeDash": alt.StrokeDash("werkwijze:N", title=title, legend=legend,
                                     scale=alt.Scale(domain=domain,
                                                     range=[[1, 0], [4, 2], [1, 0]])),
        "strokeWidth": alt.StrokeWidth("werkwijze:N", legend=None,
                                       scale=alt.Scale(domain=domain, range=[1.8, 1.8, 0.4])),
        "order": alt.Order("rang:Q"),
    }


def _label_expr(labels: dict[str, str]) -> str:
    cases = " : ".join(f"datum.label == '{k}' ? '{v}'" for k, v in labels.items())
    return f"{cases} : datum.label"


def ranked_chart(view: MapView, title: str, source: str, lang: str) -> dict[str, Any]:
    """Horizontal bars, highest first: the readable alternative to the map."""
    known = view.values.filter(pl.col("waarde").is_not_null()).select(
        "naam", "waarde", "label", "klasse").with_columns(_dictionary(("klasse",)))
    return {**copy.deepcopy(_ranked_template(view.maat.unit(lang), lang, source)),
            "datasets": {"rangorde": known, KLASSEN: class_records(view, title)}}


RANKED_LABEL_SIZE = 10  # px, the gemeente names on the ranking's y axis
# px per bar: a name (font size plus ascenders and descenders) fits in its own band, so every
# bar can carry its name.
RANKED_STEP = 14


@functools.lru_cache(maxsize=64)
def _ranked_template(unit: str, lang: str, source: str) -> dict[str, Any]:
    # labelOverlap off: Streamlit's theme turns it on for every axis, which then drops every
    # other name of 342 to make room; with RANKED_STEP every name has room of its own.
    axis = alt.Axis(labelLimit=160, labelFontSize=RANKED_LABEL_SIZE, labelOverlap=False,
                    labelSeparation=0)
    chart = alt.Chart(alt.NamedData(name="rangorde")).mark_bar().encode(
        y=alt.Y("naam:N", sort="-x", title=None, axis=axis),
        x=alt.X("waarde:Q", title=unit),
        color=alt.Color("klasse:N", scale=_class_scale(), legend=None),
        tooltip=[alt.Tooltip("naam:N", title=tr("gemeente", lang)),
                 alt.Tooltip("label:N", title=tr("waarde", lang, TEXTS))],
    ).transform_lookup(lookup="klasse", from_=_klassen_lookup()).properties(
        width="container", height=alt.Step(RANKED_STEP))  # a band per gemeente, however many
    return _data_titled(chart, source)


def table(view: MapView, lang: str) -> tables.Table:
    """The map as a table, highest first, unknown last; the column names in the UI language;
    values rounded as the map's labels are."""
    frame = view.values.sort("waarde", descending=True, nulls_last=True)
    names = {"code": "gemeente_code", "naam": tr("gemeente", lang),
             "provincie": tr("provincie", lang), "waarde": view.maat.label(lang),
             "status": tr("status", lang, TEXTS), "klasse": tr("klasse", lang, TEXTS),
             "werkwijze_label": tr("werkwijze_legend", lang, TEXTS)}
    return tables.display(frame.select(list(names)).rename(names), lang, view.maat.decimals)


def selected_code(event: Any) -> str | None:
    """The gemeente code from a map selection event, if the user clicked one."""
    try:
        points = event["selection"]["gm"]
    except (KeyError, TypeError):
        return None
    if isinstance(points, list) and points and isinstance(points[0], dict):
        code = points[0].get("code")
        return str(code) if code else None
    return None
