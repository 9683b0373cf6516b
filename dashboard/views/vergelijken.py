"""The Vergelijken page without Streamlit: measures per gemeente, pooled group series over
years or half-years, and the small multiples 'gemeente tegenover vergelijkbare gemeenten'.

Pooling rule (also used by the Werkwijze page): a group's figure for a period is
1000 * sum(teller) / sum(noemer) over the gemeenten whose teller *and* noemer are known, never
an average of their rates; every group point carries how many gemeenten contributed (n of N).
A gemeente's own figure is the same ratio over one gemeente.

The country line is CBS's own figure (core.wmo_clienten_regio, NL01) where CBS publishes the
measure: clients per 1 000 inhabitants. That figure includes CBS's estimates for gemeenten
without figures, so it is not the pooled sum. Other measures get the pooled country, named
as pooled, with its n of N.

The SQL text is fixed; the user's choices are bound parameters or checked against the
database's own lists before they get here.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import altair as alt
import polars as pl

from dashboard import catalog, end_labels, fmt, measures, tables
from dashboard.catalog import werkwijze_label
from dashboard.charts import (
    CATEGORICAL,
    WERKWIJZE_COLOURS,
    configure,
    line_label_expr,
    titled,
    wrap_title,
)
from dashboard.db import Database
from dashboard.i18n import section, tr
from dashboard.measures import Measure
from dashboard.views import peers as peer_logic

TEXTS = section("vergelijken")

MAAT_KEYS: tuple[str, ...] = ("per_1000", "hbh_per_1000", "per_1000_75plus", "bezwaren_per_1000")
# Defined in dashboard/measures.py; pooled here as PER * sum(teller) / sum(noemer).
MAATEN: dict[str, Measure] = measures.pick(*MAAT_KEYS)
DEFAULT_MAAT = "per_1000"
GROEPEN: tuple[str, ...] = ("peers", "provincie", "werkwijze", "lijst")
ALLE = "alle"  # the provincie value meaning 'every province' (or 'no province filter')
DEFAULT_GROEP = "peers"
INTERVALS: tuple[str, ...] = ("jaar", "halfjaar")
WERKWIJZEN: tuple[str, ...] = ("resultaatgericht", "uren", "onbekend")
# Which register rows make up the werkwijze groups: all of them, or only the stronger sources
# (etl.bron_type.STERKE_BRON_TYPES, as out.gemeente_periode.werkwijze_hbh_sterke_bron).
BRONNEN: tuple[str, ...] = ("alle", "sterk")
MAX_PANELS = 12
PER = 1000.0  # every measure of MAAT_KEYS is 'per 1 000' (tests/test_measures.py)
# Downloads need a fixed width ('container' has no container outside the page).
EXPORT_SIZE: dict[str, int] = {"width": 760, "height": 360}
# px of a legend label line: long series names go on two lines, which a phone fits. Broken
# for 14 px (Streamlit's theme draws labels larger than Vega's 10 px); cut only far beyond.
LEGEND_LABEL_WIDTH = 200
LEGEND_LABEL_LIMIT = 300
NEDERLAND_COLOUR = "#000000"
DASHES: list[list[float]] = [[1, 0], [6, 3], [2, 2], [8, 3, 2, 3], [4, 4], [1, 3]]
SHAPES: list[str] = ["circle", "square", "triangle-up", "diamond", "cross", "triangle-down",
                     "wedge", "stroke"]


@dataclass(frozen=True)
class Choices:
    """What the page asked for, already checked against the database's lists."""

    groep: str = DEFAULT_GROEP
    gemeente: str = ""
    gemeenten: tuple[str, ...] = ()
    provincie: str | None = None
    maat: str = DEFAULT_MAAT
    voorziening: str = catalog.TOTAAL
    interval: str = "jaar"
    bronnen: str = "alle"


@dataclass(frozen=True)
class Style:
    colour: str
    dash: list[float]
    shape: str


@dataclass
class CompareView:
    choices: Choices
    maat: Measure
    voorziening: str
    interval: str
    notes: list[str]
    series: pl.DataFrame  # one row per reeks and periode, see SERIES_COLUMNS
    order: list[str]  # period labels in time order (x axis)
    styles: dict[str, Style]
    panels: pl.DataFrame  # the small multiples, same columns plus `paneel`
    panel_order: list[str]
    capped: bool = False
    peer_codes: list[str] = field(default_factory=list)
    nederland: str = ""  # the country series' name: CBS's figure or the pooled one
    nederland_note: str = ""  # what that series is, in one sentence


def provincie_of(db: Database, code: str) -> str | None:
    frame = catalog.gemeenten(db).filter(pl.col("gemeente_code") == code)
    return None if frame.is_empty() else frame["provincie_naam"][0]


def effective(maat_key: str, voorziening: str, interval: str, db: Database,
              lang: str) -> tuple[str, str, list[str]]:
    """Apply the measure's own constraints (fixed voorziening, whole years only) with a note."""
    maat = MAATEN[maat_key]
    notes: list[str] = []
    if maat.voorziening is not None and voorziening != maat.voorziening:
        voorziening = maat.voorziening
        notes.append(tr("fixed_voorziening", lang, TEXTS,
                        voorziening=catalog.voorziening_label(db, voorziening)))
    if maat.year_only and interval != "jaar":
        interval = "jaar"
        notes.append(tr("year_only", lang, TEXTS))
    return voorziening, interval, notes


def base_frame(db: Database, voorziening: str) -> pl.DataFrame:
    """Every gemeente and period of one voorziening with the columns the measures need."""
    return db.memo(("vergelijken_base", voorziening), lambda: db.query(
        "SELECT gemeente_code AS code, gemeente_naam AS naam, provincie_naam AS provincie, "
        "periode_code AS periode, jaar, halfjaar, "
        "CAST(clienten AS DOUBLE) AS clienten, CAST(inwoners AS DOUBLE) AS inwoners, "
        "CAST(inwoners_75plus AS DOUBLE) AS inwoners_75plus, aandeel_75plus, "
        # The stored count of a harmonised gemeente is rounded to a whole number while its
        # rate uses the unrounded share; recovering the count from the rate keeps this page
        # equal to the Kaart page (and to bezwaren_per_1000_clienten) to the last digit.
        "bezwaren_per_1000_clienten * clienten / 1000.0 AS bezwaren_ontvangen, "
        "coalesce(werkwijze_hbh, 'onbekend') AS werkwijze, "
        "coalesce(werkwijze_hbh_sterke_bron, 'onbekend') AS werkwijze_sterk, status "
        "FROM out.gemeente_periode WHERE voorziening_code = ? "
        "ORDER BY gemeente_code, jaar, halfjaar NULLS FIRST", [voorziening]))


def measure_frame(db: Database, maat_key: str, voorziening: str, interval: str) -> pl.DataFrame:
    """One row per gemeente and period of the interval with teller, noemer and waarde.

    waarde = PER * teller / noemer when both are known and noemer > 0, else NULL (unknown
    stays unknown)."""
    ratio = MAATEN[maat_key]

    def compute() -> pl.DataFrame:
        frame = base_frame(db, voorziening)
        frame = frame.filter(pl.col("halfjaar").is_null() if interval == "jaar"
                             else pl.col("halfjaar").is_not_null())
        teller, noemer = pl.col(ratio.teller), pl.col(ratio.noemer)
        known = teller.is_not_null() & noemer.is_not_null() & (noemer > 0)
        return frame.with_columns(
            teller=teller, noemer=noemer,
            waarde=pl.when(known).then(PER * teller / noemer).otherwise(None))
    return db.memo(("vergelijken_measure", maat_key, voorziening, interval), compute)


def with_bronnen(frame: pl.DataFrame, bronnen: str) -> pl.DataFrame:
    """`frame` (from base_frame) whose `werkwijze` is the one documented by `bronnen`: with
    'sterk' a gemeente that only weaker sources document counts as 'onbekend'."""
    if bronnen == "sterk":
        return frame.with_columns(werkwijze=pl.col("werkwijze_sterk"))
    return frame


def period_order(db: Database, interval: str, lang: str) -> pl.DataFrame:
    """periode, label (short, with status mark) and volgorde, oldest first."""
    frame = catalog.periods(db).filter(
        pl.col("halfjaar").is_null() if interval == "jaar" else pl.col("halfjaar").is_not_null()
    ).sort(["jaar", "halfjaar"])
    marks = [catalog.STATUS_MARK.get(s or "", "") for s in frame["status"]]
    labels = [_short_label(j, h, m, lang) for j, h, m in
              zip(frame["jaar"], frame["halfjaar"], marks, strict=True)]
    return pl.DataFrame({"periode": frame["periode_code"], "periode_label": labels,
                         "volgorde": list(range(frame.height)), "status": frame["status"]})


def _short_label(jaar: int, halfjaar: int | None, mark: str, lang: str) -> str:
    if halfjaar is None:
        return f"{jaar}{mark}"
    return f"H{halfjaar} {jaar}{mark}" if lang == "en" else f"{halfjaar}e hj {jaar}{mark}"


def pool(frame: pl.DataFrame, by: list[str] | None = None) -> pl.DataFrame:
    """Pooled figure per periode (and `by`): PER * sum(teller) / sum(noemer) over the rows
    with both known; n_bekend of n_totaal rows contributed. `frame` comes from measure_frame,
    so waarde is known exactly when teller and noemer are (and noemer > 0)."""
    keys = ["periode", *(by or [])]
    known = pl.col("waarde").is_not_null()
    pooled = frame.group_by(keys, maintain_order=True).agg(
        teller=pl.col("teller").filter(known).sum(),
        noemer=pl.col("noemer").filter(known).sum(),
        n_bekend=known.sum().cast(pl.Int64),
        n_totaal=pl.len().cast(pl.Int64),
    )
    some = pl.col("n_bekend") > 0
    return pooled.with_columns(
        teller=pl.when(some).then(pl.col("teller")),
        noemer=pl.when(some).then(pl.col("noemer")),
        waarde=pl.when(some).then(PER * pl.col("teller") / pl.col("noemer")),
    )


SERIES_COLUMNS = ["reeks", "soort", "periode", "periode_label", "volgorde", "status", "waarde",
                  "waarde_label", "teller", "noemer", "n_bekend", "n_totaal"]


def _series(frame: pl.DataFrame, periods: pl.DataFrame, name: str, soort: str,
            lang: str) -> pl.DataFrame:
    """One pooled series over every period (a period without members shows as unknown)."""
    pooled = pool(frame) if not frame.is_empty() else pl.DataFrame(schema={
        "periode": pl.String, "teller": pl.Float64, "noemer": pl.Float64,
        "n_bekend": pl.Int64, "n_totaal": pl.Int64, "waarde": pl.Float64})
    out = periods.join(pooled, on="periode", how="left").with_columns(
        reeks=pl.lit(name), soort=pl.lit(soort),
        n_bekend=pl.col("n_bekend").fill_null(0), n_totaal=pl.col("n_totaal").fill_null(0))
    return _with_value_label(out, lang).select(SERIES_COLUMNS)


def cbs_publishes(maat_key: str) -> bool:
    """CBS publishes clients per 1 000 inhabitants for NL01; the other measures (per 1 000
    aged 75+, objections) exist only as sums over the gemeenten."""
    maat = MAATEN[maat_key]
    return (maat.teller, maat.noemer) == ("clienten", "inwoners")


def _cbs_series(cbs: pl.DataFrame, periods: pl.DataFrame, name: str, soort: str,
                lang: str) -> pl.DataFrame:
    """CBS's NL01 figure as a series: waarde is CBS's published rate, teller its count; no
    noemer and no n of N, because CBS's figure is not a sum over the gemeenten here."""
    figures = cbs.select(periode="periode_code",
                         waarde=pl.col("clienten_per_1000").cast(pl.Float64),
                         teller=pl.col("clienten").cast(pl.Float64))
    out = periods.join(figures, on="periode", how="left").with_columns(
        reeks=pl.lit(name), soort=pl.lit(soort), noemer=pl.lit(None, pl.Float64),
        n_bekend=pl.lit(None, pl.Int64), n_totaal=pl.lit(None, pl.Int64))
    return _with_value_label(out, lang).select(SERIES_COLUMNS)


def nederland_series(db: Database, maat_key: str, voorziening: str, frame: pl.DataFrame,
                     periods: pl.DataFrame, lang: str) -> pl.DataFrame:
    """The country line: CBS's own figure where CBS publishes the measure (and the build holds
    it), else the pooled sum over the gemeenten with figures, named as pooled."""
    if cbs_publishes(maat_key) and catalog.has_cbs_nederland(db, voorziening):
        name = catalog.nederland_cbs_label(catalog.build_info(db), lang)
        return _cbs_series(catalog.cbs_nederland(db, voorziening), periods, name,
                           tr("soort_cbs", lang, TEXTS), lang)
    return _series(frame, periods, catalog.nederland_pooled_label(lang),
                   tr("soort_referentie", lang, TEXTS), lang)


def nederland_note(series: pl.DataFrame, name: str, lang: str) -> str:
    """One sentence on what the country line is; for a pooled one, its n of N in the newest
    period with members."""
    own = series.filter(pl.col("reeks") == name).sort("volgorde")
    if own["n_totaal"].is_null().all():
        return tr("nederland_cbs_note", lang, label=name)
    last = own.filter(pl.col("n_totaal") > 0).tail(1)
    if last.is_empty():
        return ""
    row = last.row(0, named=True)
    return tr("nederland_pooled_note", lang, label=name, periode=row["periode_label"],
              counts=catalog.met_cijfers(row["n_bekend"], row["n_totaal"], lang))


def _with_value_label(frame: pl.DataFrame, lang: str, decimals: int = 1) -> pl.DataFrame:
    """'80,3*': written by dashboard/fmt.py with the measure's places, as on Kaart."""
    labels = [(fmt.UNKNOWN if v is None
               else fmt.number(v, lang, decimals) + catalog.STATUS_MARK.get(s or "", ""))
              for v, s in zip(frame["waarde"], frame["status"], strict=True)]
    return frame.with_columns(waarde_label=pl.Series(labels, dtype=pl.String))


def compare_view(db: Database, choices: Choices, lang: str) -> CompareView:
    """The series for the trend chart and the panels for the small multiples (memoised per
    build: reruns with the same choices cost nothing)."""
    return db.recent(("vergelijken_view", choices, lang),
                   lambda: _compare_view(db, choices, lang))


def _compare_view(db: Database, choices: Choices, lang: str) -> CompareView:
    maat = MAATEN[choices.maat]
    voorziening, interval, notes = effective(choices.maat, choices.voorziening,
                                             choices.interval, db, lang)
    frame = with_bronnen(measure_frame(db, choices.maat, voorziening, interval),
                         choices.bronnen)
    periods = period_order(db, interval, lang)
    focus = choices.gemeente
    focus_name = catalog.gemeente_name(db, focus)
    parts: list[pl.DataFrame] = []
    peer_codes: list[str] = []
    soort_g, soort_grp = tr("soort_gemeente", lang, TEXTS), tr("soort_groep", lang, TEXTS)

    if focus:
        parts.append(_series(frame.filter(pl.col("code") == focus), periods, focus_name,
                             soort_g, lang))
    if choices.groep == "peers" and focus:
        peer_codes = peer_logic.peers(db, focus)
        parts.append(_series(frame.filter(pl.col("code").is_in(peer_codes)), periods,
                             tr("peer_group", lang, TEXTS, naam=focus_name), soort_grp, lang))
    elif choices.groep == "provincie":
        names = [choices.provincie] if choices.provincie else catalog.provincies(db)
        for name in names:
            parts.append(_series(frame.filter(pl.col("provincie") == name), periods,
                                 tr("provincie_group", lang, TEXTS, naam=name), soort_grp, lang))
    elif choices.groep == "werkwijze":
        members = frame if not choices.provincie else frame.filter(
            pl.col("provincie") == choices.provincie)
        for werkwijze in WERKWIJZEN:
            label = werkwijze_label(werkwijze, lang)
            name = tr("werkwijze_group", lang, TEXTS, werkwijze=label)
            parts.append(_series(members.filter(pl.col("werkwijze") == werkwijze), periods,
                                 name, soort_grp, lang))
    elif choices.groep == "lijst":
        for code in choices.gemeenten:
            if code != focus:
                parts.append(_series(frame.filter(pl.col("code") == code), periods,
                                     catalog.gemeente_name(db, code), soort_g, lang))
    parts.append(nederland_series(db, choices.maat, voorziening, frame, periods, lang))
    series = _with_value_label(pl.concat(parts), lang, maat.decimals)
    nederland = str(parts[-1]["reeks"][0])
    names = list(dict.fromkeys(series["reeks"].to_list()))
    styles = series_styles(names, nederland, choices.groep, lang)

    members = [focus] if focus else []
    if choices.groep == "lijst":
        members += [c for c in choices.gemeenten if c != focus]
    elif choices.groep == "peers":
        members += peer_codes
    capped = len(members) > MAX_PANELS
    panels, panel_order = small_multiples(db, frame, periods, members[:MAX_PANELS], lang)
    panels = _with_value_label(panels, lang, maat.decimals)
    return CompareView(choices, maat, voorziening, interval, notes, series,
                       periods["periode_label"].to_list(), styles, panels, panel_order, capped,
                       peer_codes, nederland, nederland_note(series, nederland, lang))


def series_styles(names: list[str], nederland: str, groep: str, lang: str) -> dict[str, Style]:
    """Colour, dash and point shape per series, so no series is told apart by colour alone;
    Nederland is always black and dashed, the werkwijze groups keep their site-wide colours."""
    werkwijze_colour = {tr("werkwijze_group", lang, TEXTS, werkwijze=werkwijze_label(w, lang)):
                        WERKWIJZE_COLOURS[w] for w in WERKWIJZEN}
    palette = itertools.cycle([c for c in CATEGORICAL if c != NEDERLAND_COLOUR])
    styles: dict[str, Style] = {}
    others = [n for n in names if n != nederland]
    for i, name in enumerate(others):
        colour = werkwijze_colour.get(name) if groep == "werkwijze" else None
        styles[name] = Style(colour or next(palette), DASHES[i % len(DASHES)],
                             SHAPES[i % len(SHAPES)])
    if nederland in names:
        styles[nederland] = Style(NEDERLAND_COLOUR, [3, 3], "stroke")
    return styles


def small_multiples(db: Database, frame: pl.DataFrame, periods: pl.DataFrame,
                    members: list[str], lang: str) -> tuple[pl.DataFrame, list[str]]:
    """Per member: its own series and its own peers pooled (the member itself never counts).

    All panels in one join and one group-by: a rerun with a new gemeente must stay cheap."""
    own_label, peer_label = tr("gemeente", lang), tr("peer_short", lang, TEXTS)
    order = [f"{catalog.gemeente_name(db, c)} ({c})" for c in members]
    rows = [(panel, code, own_label, code) for panel, code in zip(order, members, strict=True)]
    rows += [(panel, code, peer_label, peer) for panel, code in zip(order, members, strict=True)
             for peer in peer_logic.peers(db, code)]
    if not rows:
        return pl.DataFrame(schema={c: pl.String for c in [*SERIES_COLUMNS, "paneel"]}), order
    keys = ["paneel", "gemeente_code", "reeks"]
    mapping = pl.DataFrame(rows, schema=[*keys, "code"], orient="row")
    pooled = pool(mapping.join(frame.select("code", "periode", "teller", "noemer", "waarde"),
                               on="code"), by=keys)
    soort = {own_label: tr("soort_gemeente", lang, TEXTS),
             peer_label: tr("soort_groep", lang, TEXTS)}
    panels = (mapping.select(keys).unique(maintain_order=True).join(periods, how="cross")
              .join(pooled, on=[*keys, "periode"], how="left")
              .with_columns(soort=pl.col("reeks").replace_strict(soort),
                            n_bekend=pl.col("n_bekend").fill_null(0),
                            n_totaal=pl.col("n_totaal").fill_null(0)))
    return _with_value_label(panels, lang).select(*SERIES_COLUMNS, "paneel", "gemeente_code"), \
        order


def latest_counts(view: CompareView, lang: str) -> str:
    """'Naam: gemeenten met cijfers: n van N; ...' for the pooled series in the newest period
    (CBS's own country figure is no sum over gemeenten and has no n of N)."""
    last = view.order[-1] if view.order else ""
    rows = view.series.filter((pl.col("periode_label") == last)
                              & (pl.col("soort") != tr("soort_gemeente", lang, TEXTS))
                              & pl.col("n_totaal").is_not_null())
    return "; ".join(f"{r['reeks']}: " + catalog.met_cijfers(r["n_bekend"], r["n_totaal"], lang)
                     for r in rows.to_dicts())


# --- charts as templates ---------------------------------------------------------------------
#
# Altair checks every chart it builds against the Vega-Lite schema, at 15-90 ms a chart, which
# a rerun cannot afford. So each chart is built once per (language, layout) with Altair, on
# named datasets and with '@name' placeholders for the parts that vary (titles, units, scale
# domains, sort orders); a rerun copies that checked template, fills in the placeholders and
# attaches the rows.

Spec = dict[str, Any]


def fill(template: Any, values: Mapping[str, Any]) -> Any:
    """A copy of `template` with each placeholder string, or a list holding just one
    placeholder, replaced by its value from `values`."""
    if isinstance(template, dict):
        return {k: fill(v, values) for k, v in template.items()}
    if isinstance(template, list):
        if len(template) == 1 and isinstance(template[0], str) and template[0] in values:
            return values[template[0]]
        return [fill(v, values) for v in template]
    if isinstance(template, str) and template in values:
        return values[template]
    return template


def finish(template: Spec, values: Mapping[str, Any], datasets: Mapping[str, pl.DataFrame],
           **top: Any) -> Spec:
    """The filled template with its rows (and top-level overrides such as height)."""
    spec = wrap_title(drop_empty_lines(fill(template, values)))
    spec.update(top)
    spec["datasets"] = {name: frame.to_dicts() for name, frame in datasets.items()}
    return spec


def template_of(chart: alt.TopLevelMixin) -> Spec:
    return configure(chart).to_dict()


def chart_size(export: bool, page_height: int, export_height: int) -> dict[str, Any]:
    """Both heights are the plot's own: in the page the width stretches (fit-x) and title,
    axes and legend come on top, so a phone's longer title and legend do not squeeze the plot;
    a downloaded image has a fixed width (there is no container)."""
    if export:
        return {"width": EXPORT_SIZE["width"], "height": export_height}
    return {"width": "container", "height": page_height,
            "autosize": alt.AutoSizeParams(type="fit-x", contains="padding")}


END_LABEL_SIZE = 11  # px, the names at the line ends (dashboard/end_labels.py)
# The trend plot's own height on the page: with autosize fit-x the title and legend come on
# top, so the end labels can be placed in pixels that are the plot's.
TREND_PAGE_HEIGHT = 340
TREND_EXPORT_HEIGHT = 360


def trend_chart(series: pl.DataFrame, order: list[str], styles: dict[str, Style], title: str,
                source: str, subtitle: str, unit: str, lang: str,
                export: bool = False, basis: str = "") -> Spec:
    """Lines with points and a label at each line's end; a gap where a figure is unknown.

    The y axis starts near the data, not at 0: the point is the gap between the lines.
    End labels are nudged apart or left out (the legend names the lines), see end_labels.
    `basis` is an optional subtitle line on what is counted (gemeenten or inhabitants).
    `export=True` gives the fixed size for the PNG/SVG download."""
    names = list(styles)
    data = series.select("reeks", "periode_label", "waarde", "waarde_label",
                         # CBS's own country figure has no n of N.
                         n_tekst=pl.format("{} / {}", "n_bekend", "n_totaal").fill_null("–"))
    last = (series.drop_nulls("waarde").sort("volgorde").group_by("reeks", maintain_order=True)
            .last().select("reeks", "periode_label", "waarde"))
    template = _trend_template(lang, len(order) > 12, export)
    domain = end_labels.nice_domain(series["waarde"].to_list()) or (0.0, 1.0)
    placement = end_labels.place(last["waarde"].to_list(), domain, float(template["height"]),
                                 END_LABEL_SIZE)
    ends = (last.with_columns(label_y=pl.Series(placement.y, dtype=pl.Float64))
            if placement.show else last.clear().with_columns(label_y=pl.lit(None, pl.Float64)))
    return finish(template, {
        "@title": title, "@subtitle": subtitle, "@basis": basis, "@source": source,
        "@unit": unit, "@order": order, "@names": names,
        "@colours": [styles[n].colour for n in names],
        "@dashes": [styles[n].dash for n in names], "@shapes": [styles[n].shape for n in names],
        "@ydomain": list(domain),
        "@legend_labels": line_label_expr(names, LEGEND_LABEL_WIDTH, 14),
    }, {"trend": data, "trend_eind": ends})


def with_basis_line(template: Spec) -> Spec:
    """The template with an '@basis' subtitle line before the source line (left out when the
    value is empty)."""
    subtitle = template["title"]["subtitle"]
    template["title"]["subtitle"] = [*subtitle[:-1], "@basis", subtitle[-1]]
    return template


def drop_empty_lines(spec: Spec) -> Spec:
    """Subtitle lines filled with an empty text are left out rather than drawn as a gap."""
    title = spec.get("title")
    if isinstance(title, dict) and isinstance(title.get("subtitle"), list):
        title["subtitle"] = [line for line in title["subtitle"] if line]
    return spec


@functools.lru_cache(maxsize=32)
def _trend_template(lang: str, long_axis: bool, export: bool) -> Spec:
    legend_title = tr("reeks", lang, TEXTS)
    scale_colour = alt.Scale(domain=["@names"], range=["@colours"])
    scale_dash = alt.Scale(domain=["@names"], range=["@dashes"])
    scale_shape = alt.Scale(domain=["@names"], range=["@shapes"])
    x = alt.X("periode_label:O", sort=["@order"], title=None,
              axis=alt.Axis(labelAngle=-45 if long_axis else 0, labelOverlap=True))
    # A fixed domain (end_labels.nice_domain): the end labels are placed on this very scale.
    y = alt.Y("waarde:Q", title="@unit",
              scale=alt.Scale(zero=False, nice=False, domain=["@ydomain"]))
    tooltip = [alt.Tooltip("reeks:N", title=legend_title),
               alt.Tooltip("periode_label:N", title=tr("periode", lang)),
               alt.Tooltip("waarde_label:N", title=tr("waarde", lang, TEXTS)),
               alt.Tooltip("n_tekst:N", title=tr("n_bekend", lang, TEXTS))]
    base = alt.Chart(alt.NamedData("trend")).encode(x=x, y=y)
    lines = base.mark_line(strokeWidth=2).encode(
        color=alt.Color("reeks:N", scale=scale_colour, title=legend_title,
                        legend=alt.Legend(orient="bottom", symbolStrokeWidth=2,
                                          labelLimit=LEGEND_LABEL_LIMIT,
                                          labelExpr="@legend_labels")),
        strokeDash=alt.StrokeDash("reeks:N", scale=scale_dash, title=legend_title),
        detail="reeks:N")
    points = base.mark_point(filled=True, size=45).encode(
        color=alt.Color("reeks:N", scale=scale_colour, title=legend_title),
        shape=alt.Shape("reeks:N", scale=scale_shape, title=legend_title),
        tooltip=tooltip)
    # Inside the plot, left of the last point, at the height end_labels chose: a label right of
    # it made Vega shrink the plot (to ~80 px on a phone with a long name).
    labels = alt.Chart(alt.NamedData("trend_eind")).mark_text(
        align="right", baseline="middle", dx=-8, fontSize=END_LABEL_SIZE).encode(
        x=x, y=alt.Y("label_y:Q"), text="reeks:N",
        color=alt.Color("reeks:N", scale=scale_colour, legend=None))
    height = TREND_EXPORT_HEIGHT if export else TREND_PAGE_HEIGHT
    chart = alt.layer(lines, points, labels).properties(**chart_size(export, height, height))
    spec = with_basis_line(template_of(titled(chart, "@title", "@source", "@subtitle")))
    # The height is the plot's, not the plot's plus title and legend (see above): fit-x on the
    # page, where the width is the column's; the download grows around its fixed plot instead
    # (pad), so a long name at a line's end is never cut off at the image's edge.
    spec["autosize"] = {"type": "pad" if export else "fit-x", "contains": "padding"}
    return spec


def multiples_chart(panels: pl.DataFrame, panel_order: list[str], order: list[str], title: str,
                    source: str, subtitle: str, unit: str, lang: str) -> Spec:
    """One small panel per gemeente: solid line for the gemeente, dashed for its peers."""
    data = panels.select("paneel", "reeks", "periode_label", "waarde", "waarde_label",
                         n_tekst=pl.format("{} / {}", "n_bekend", "n_totaal"))
    return finish(_multiples_template(lang), {
        "@title": title, "@subtitle": subtitle, "@source": source, "@unit": unit,
        "@order": order, "@panels": panel_order}, {"panelen": data})


@functools.lru_cache(maxsize=8)
def _multiples_template(lang: str) -> Spec:
    own, group = tr("gemeente", lang), tr("peer_short", lang, TEXTS)
    domain = [own, group]
    legend_title = tr("reeks", lang, TEXTS)
    colour = alt.Scale(domain=domain, range=["#0072B2", "#E69F00"])
    x = alt.X("periode_label:O", sort=["@order"], title=None,
              axis=alt.Axis(labelAngle=-90, labelOverlap=True, labelFontSize=9))
    y = alt.Y("waarde:Q", title="@unit", scale=alt.Scale(zero=False))
    base = alt.Chart().encode(x=x, y=y)
    lines = base.mark_line(strokeWidth=2).encode(
        color=alt.Color("reeks:N", scale=colour, title=legend_title,
                        legend=alt.Legend(orient="bottom", labelLimit=320)),
        strokeDash=alt.StrokeDash("reeks:N", scale=alt.Scale(domain=domain,
                                  range=[[1, 0], [6, 3]]), title=legend_title))
    points = base.mark_point(filled=True, size=22).encode(
        color=alt.Color("reeks:N", scale=colour, title=legend_title),
        shape=alt.Shape("reeks:N", scale=alt.Scale(domain=domain, range=["circle", "square"]),
                        title=legend_title),
        tooltip=[alt.Tooltip("paneel:N", title=tr("gemeente", lang)),
                 alt.Tooltip("reeks:N", title=legend_title),
                 alt.Tooltip("periode_label:N", title=tr("periode", lang)),
                 alt.Tooltip("waarde_label:N", title=tr("waarde", lang, TEXTS)),
                 alt.Tooltip("n_tekst:N", title=tr("n_bekend", lang, TEXTS))])
    chart = alt.layer(lines, points, data=alt.NamedData("panelen")).properties(
        width=230, height=150).facet(
        facet=alt.Facet("paneel:N", sort=["@panels"], title=None,
                        header=alt.Header(labelFontSize=12, labelFontWeight="bold",
                                          labelLimit=260)),
        columns=3)
    return template_of(titled(chart, "@title", "@source", "@subtitle"))


def table(series: pl.DataFrame, lang: str, decimals: int = 1,
          panel: str | None = None) -> tables.Table:
    """The trend chart as a table, in the UI language, in time order per series, values with
    the measure's places (`panel`: the small multiples' panel column under that name)."""
    names = {"reeks": tr("reeks", lang, TEXTS), "soort": tr("soort", lang, TEXTS),
             "periode_label": tr("periode", lang), "waarde": tr("waarde", lang, TEXTS),
             "teller": tr("teller", lang, TEXTS), "noemer": tr("noemer", lang, TEXTS),
             "n_bekend": tr("n_bekend", lang, TEXTS), "n_totaal": tr("n_totaal", lang, TEXTS),
             "status": tr("status", lang, TEXTS)}
    status = {s: tr(f"status_{s}", lang, TEXTS) for s in catalog.STATUS_MARK}
    frame = series.with_columns(pl.col("status").replace(status)).select(list(names)) \
        .rename(names)
    if panel is not None:
        frame = frame.with_columns(series["paneel"].alias(panel))
    # Counts recovered from harmonised rates are fractional: shown whole, as counts are.
    return tables.display(frame, lang, {names["waarde"]: decimals, names["teller"]: 0,
                                        names["noemer"]: 0})


def export_frame(series: pl.DataFrame, maat: Measure, voorziening: str) -> pl.DataFrame:
    """Machine-readable column names for the CSV download (the same rows as the table)."""
    return series.select(
        "reeks", "soort", pl.col("periode").alias("periode_code"),
        pl.col("periode_label").alias("periode"), pl.lit(maat.key).alias("maat"),
        pl.lit(voorziening).alias("voorziening_code"), "waarde", "teller", "noemer",
        pl.col("n_bekend").alias("gemeenten_bekend"),
        pl.col("n_totaal").alias("gemeenten_totaal"), "status")
