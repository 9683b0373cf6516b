"""The Gemeente page without Streamlit: deep-link resolution, key figures, trend against peers
and the country, werkwijze and bezwaar history with sources, herindeling history.

Codes reach this page from map clicks and from hand-typed or years-old links, so a link may
name a code that has since merged or been split. `resolve_link` follows core.herindeling to the
gemeente that now holds the territory instead of failing. The SQL text only ever comes from the
fixed MAATEN table; every value from the user is a bound parameter.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import altair as alt
import polars as pl

from dashboard import catalog, end_labels, fmt, measures, tables
from dashboard.charts import CATEGORICAL, configure, fmt_number, titled
from dashboard.db import Database
from dashboard.i18n import section, tr
from dashboard.measures import Measure
from dashboard.safe import md_escape
from dashboard.state import normalise_code
from dashboard.views import peers as peer_model
from dashboard.views import rechtspraak
from etl import bron_type

NAME_CHARS = 200  # a gemeente name echoed into a message is cut only when absurdly long

TEXTS = section("gemeente")


# The profile's measures, in the order it offers them; defined in dashboard/measures.py. A
# measure without a fixed voorziening is shown for the total of all voorzieningen here.
MAATEN: dict[str, Measure] = measures.pick(
    "per_1000", "hbh_per_1000", "per_1000_75plus", "bezwaren_per_1000", "uitgaven_per_inwoner",
    "hbh_uitgaven_per_client", "hbh_instroom_per_1000", "hbh_uitstroom_per_1000",
    "beeindigd_gemeente", "uitspraken_per_10000")


def voorziening_of(m: Measure) -> str:
    return m.voorziening_or(catalog.TOTAAL)
DEFAULT_MAAT = "per_1000"
WERKWIJZE = ("resultaatgericht", "uren")


# --- codes, successors and predecessors ---------------------------------------------------------

def reference_codes(db: Database) -> list[str]:
    """The gemeenten of the reference classification, by name (the selector's order)."""
    return catalog.gemeenten(db)["gemeente_code"].to_list()


def all_gemeenten(db: Database) -> pl.DataFrame:
    """core.gemeente: every code since 2015 with validity and successor."""
    return db.memo("gemeente_all", lambda: db.query(
        "SELECT gemeente_code, gemeente_naam, provincie_naam, geldig_vanaf, geldig_tot, "
        "opgegaan_in FROM core.gemeente ORDER BY gemeente_code"))


def herindelingen(db: Database) -> pl.DataFrame:
    return db.memo("herindeling_all", lambda: db.query(
        "SELECT datum_ingang, oude_code, oude_naam, nieuwe_code, nieuwe_naam, type, aandeel, "
        "bron FROM core.herindeling ORDER BY datum_ingang, oude_code, nieuwe_code"))


def any_name(db: Database, code: str) -> str:
    """Name of a current or former code (core.gemeente keeps dissolved ones)."""
    frame = all_gemeenten(db).filter(pl.col("gemeente_code") == code)
    return code if frame.is_empty() else str(frame["gemeente_naam"][0])


@dataclass(frozen=True)
class Step:
    datum: date
    oude_code: str
    nieuwe_code: str
    nieuwe_naam: str
    type: str
    aandeel: float


@dataclass(frozen=True)
class Successor:
    code: str
    naam: str
    aandeel: float  # cumulative share of the old population that ended up here
    steps: tuple[Step, ...]


def _edges(db: Database) -> dict[str, list[Step]]:
    def compute() -> dict[str, list[Step]]:
        out: dict[str, list[Step]] = {}
        for r in herindelingen(db).iter_rows(named=True):
            out.setdefault(r["oude_code"], []).append(Step(
                r["datum_ingang"], r["oude_code"], r["nieuwe_code"], r["nieuwe_naam"],
                r["type"], float(r["aandeel"] if r["aandeel"] is not None else 1.0)))
        return out
    return db.memo("herindeling_edges", compute)


def successors(db: Database, code: str) -> list[Successor]:
    """Reference gemeenten that now hold (part of) `code`, largest share first.

    Follows chains (Millingen aan de Rijn → Groesbeek → Berg en Dal) and multiplies split
    shares along the way; a cycle in a broken register cannot loop forever.
    """
    ref = set(reference_codes(db))
    edges = _edges(db)
    found: dict[str, Successor] = {}

    def walk(current: str, share: float, path: tuple[Step, ...], seen: frozenset[str]) -> None:
        if current in ref and path:
            prev = found.get(current)
            total = share + (prev.aandeel if prev else 0.0)
            best = prev.steps if prev and prev.aandeel >= share else path
            found[current] = Successor(current, catalog.gemeente_name(db, current), total, best)
            return
        for step in edges.get(current, []):
            if step.nieuwe_code not in seen:
                walk(step.nieuwe_code, share * step.aandeel, (*path, step),
                     seen | {step.nieuwe_code})

    walk(code, 1.0, (), frozenset({code}))
    return sorted(found.values(), key=lambda s: (-s.aandeel, s.code))


def predecessors(db: Database, code: str) -> pl.DataFrame:
    """Every herindeling row through which territory reached `code`, directly or in a chain.

    Columns as core.herindeling plus `aandeel_hier` (share of the old population that ended up
    in `code`) and `stap` (1 = joined `code` itself, 2 = joined a gemeente that later joined).
    """
    def compute() -> pl.DataFrame:
        rows = herindelingen(db)
        targets = {code: 1.0}
        parts: list[pl.DataFrame] = []
        level = 0
        seen = {code}
        while targets and level < 10:
            level += 1
            hit = rows.filter(pl.col("nieuwe_code").is_in(list(targets)))
            if hit.is_empty():
                break
            hit = hit.with_columns(
                aandeel_hier=pl.col("aandeel").fill_null(1.0)
                * pl.col("nieuwe_code").replace_strict(targets, return_dtype=pl.Float64),
                stap=pl.lit(level, dtype=pl.Int32))
            parts.append(hit)
            targets = {}
            for r in hit.iter_rows(named=True):
                if r["oude_code"] not in seen:
                    seen.add(r["oude_code"])
                    targets[r["oude_code"]] = r["aandeel_hier"]
        if not parts:
            return rows.head(0).with_columns(aandeel_hier=pl.lit(None, dtype=pl.Float64),
                                             stap=pl.lit(None, dtype=pl.Int32))
        return pl.concat(parts).sort("datum_ingang", "oude_code")
    return db.memo(("gemeente_predecessors", code), compute)


def predecessor_codes(db: Database, code: str) -> list[str]:
    return sorted(set(predecessors(db, code)["oude_code"].to_list()) - {code})


@dataclass(frozen=True)
class LinkResolution:
    """What a `gemeente` URL value means. `code` None: let the selector fall back (unknown)."""

    raw: str | None
    code: str | None
    dissolved_code: str | None = None
    successors: tuple[Successor, ...] = ()


def resolve_link(db: Database, raw: str | None) -> LinkResolution:
    """A reference code as typed (any case), a dissolved code → its main successor, else None."""
    if raw is None or not raw.strip():
        return LinkResolution(raw, None)
    code = normalise_code(raw)
    if code in set(reference_codes(db)):
        return LinkResolution(raw, code)
    known = all_gemeenten(db).filter(pl.col("gemeente_code") == code)
    if known.is_empty():
        return LinkResolution(raw, None)
    succ = tuple(successors(db, code))
    if not succ:
        opgegaan = known["opgegaan_in"][0]
        if opgegaan and opgegaan in set(reference_codes(db)):
            succ = (Successor(opgegaan, catalog.gemeente_name(db, opgegaan), 1.0, ()),)
    return LinkResolution(raw, succ[0].code if succ else None, code, succ)


def _fmt_date(value: date | None, lang: str) -> str:
    """'1 juli 2024' (dashboard/fmt.py, as every page writes dates); in a sentence an unknown
    date says 'onbekend'."""
    return tr("onbekend", lang) if value is None else fmt.date(value, lang)


def _pct(value: float | None, lang: str, decimals: int = 0) -> str:
    return fmt.percent(value, lang, decimals)


def dissolved_message(db: Database, res: LinkResolution, lang: str) -> str:
    """A plain sentence: what became of the code and which gemeente is shown instead."""
    # The message is shown in a markdown element; names come from the herindelingen register.
    code = md_escape(res.dissolved_code or "")
    naam = md_escape(any_name(db, res.dissolved_code or ""), NAME_CHARS)
    if not res.successors:
        return tr("dissolved_none", lang, TEXTS, naam=naam, code=code)
    main = res.successors[0]
    steps = [tr(f"step_{s.type}", lang, TEXTS, datum=_fmt_date(s.datum, lang),
                naam=md_escape(s.nieuwe_naam, NAME_CHARS), code=md_escape(s.nieuwe_code),
                pct=_pct(s.aandeel, lang))
             for s in main.steps]
    end = all_gemeenten(db).filter(pl.col("gemeente_code") == res.dissolved_code)["geldig_tot"]
    datum = _fmt_date(end[0] if len(end) else None, lang)
    text = tr("dissolved", lang, TEXTS, naam=naam, code=code, datum=datum,
              steps=", ".join(steps) or "–",
              target=md_escape(f"{main.naam} ({main.code})", NAME_CHARS))
    if len(res.successors) > 1:
        parts = ", ".join(md_escape(f"{s.naam} ({s.code}, {_pct(s.aandeel, lang)})", NAME_CHARS)
                          for s in res.successors)
        text += " " + tr("dissolved_split", lang, TEXTS, parts=parts)
    return text


# --- figures per gemeente, peers and the country ----------------------------------------------

def _series_sql(m: Measure, where: str) -> str:
    both = f"{m.teller} IS NOT NULL AND {m.noemer} IS NOT NULL AND {m.noemer} > 0"
    return (
        f"SELECT periode_code, any_value(jaar) AS jaar, any_value(halfjaar) AS halfjaar, "
        f"CAST(sum({m.teller}) FILTER (WHERE {both}) AS DOUBLE) AS teller, "
        f"CAST(sum({m.noemer}) FILTER (WHERE {both}) AS DOUBLE) AS noemer, "
        f"count(*) FILTER (WHERE {both}) AS n, count(*) AS n_totaal, "
        # least final status of the rows that count, so a pooled '2024' still says '*'
        "CASE WHEN bool_or(status = 'voorlopig') THEN 'voorlopig' "
        "WHEN bool_or(status = 'nader_voorlopig') THEN 'nader_voorlopig' "
        "ELSE 'definitief' END AS status "
        f"FROM out.gemeente_periode WHERE voorziening_code = ? AND {where} "
        "GROUP BY periode_code")


def pooled(db: Database, maat: str, codes: Sequence[str] | None) -> pl.DataFrame:
    """Per period: summed numerator and denominator over `codes` (None = all gemeenten) where
    both are known, the pooled rate and how many gemeenten count (n)."""
    m = MAATEN[maat]
    key = ("gemeente_pooled", maat, None if codes is None else tuple(sorted(codes)))

    def compute() -> pl.DataFrame:
        if codes is None:
            frame = db.query(_series_sql(m, "TRUE"), [voorziening_of(m)])
        else:
            frame = db.query(_series_sql(m, "list_contains(?, gemeente_code)"),
                             [voorziening_of(m), list(codes)])
        if m.year_only:
            frame = frame.filter(pl.col("halfjaar").is_null())
        return frame.with_columns(
            waarde=pl.when(pl.col("n") > 0).then(m.per * pl.col("teller") / pl.col("noemer"))
        ).sort("jaar", pl.col("halfjaar").fill_null(0))
    return db.recent(key, compute)  # keyed by a list of codes: bounded


def cbs_publishes(maat: str) -> bool:
    """CBS publishes clients per 1 000 inhabitants for NL01; per 1 000 aged 75+ and objections
    exist only as sums over the gemeenten."""
    m = MAATEN[maat]
    return (m.teller, m.noemer) == ("clienten", "inwoners")


def uses_cbs_nederland(db: Database, maat: str) -> bool:
    return cbs_publishes(maat) and catalog.has_cbs_nederland(db, voorziening_of(MAATEN[maat]))


def nederland(db: Database, maat: str) -> pl.DataFrame:
    """The country series of a measure, columns as `pooled`: CBS's own NL01 figure where CBS
    publishes the measure (teller = CBS's count; no noemer and no n, as it is no sum over the
    gemeenten here), else the pooled sum over every gemeente with figures."""
    if not uses_cbs_nederland(db, maat):
        return pooled(db, maat, None)
    cbs = catalog.cbs_nederland(db, voorziening_of(MAATEN[maat]))
    return cbs.select(
        "periode_code", "jaar", "halfjaar", teller=pl.col("clienten").cast(pl.Float64),
        noemer=pl.lit(None, pl.Float64), n=pl.lit(None, pl.Int64),
        n_totaal=pl.lit(None, pl.Int64), status="status",
        waarde=pl.col("clienten_per_1000").cast(pl.Float64))


def nederland_name(db: Database, maat: str, lang: str) -> str:
    if uses_cbs_nederland(db, maat):
        return catalog.nederland_cbs_label(catalog.build_info(db), lang)
    return catalog.nederland_pooled_label(lang)


def nederland_text(db: Database, maat: str, periode: str, lang: str) -> str:
    """The country beside a key figure: 'Nederland (CBS) 2024: 73', or for a pooled measure
    its value with 'gemeenten met cijfers: n van m'."""
    m = MAATEN[maat]
    row = nederland(db, maat).filter(pl.col("periode_code") == periode)
    value = row["waarde"][0] if row.height else None
    label = nederland_name(db, maat, lang)
    plabel = catalog.period_label(db, periode, lang)
    if uses_cbs_nederland(db, maat):  # CBS's rate is a whole number
        return tr("kf_nederland", lang, TEXTS, label=label, periode=plabel,
                  value=fmt_number(value, lang, 0))
    counts = catalog.met_cijfers(int(row["n"][0]) if row.height else 0,
                                 int(row["n_totaal"][0]) if row.height else 0, lang)
    return tr("kf_nederland_pooled", lang, TEXTS, label=label, periode=plabel,
              value=fmt_number(value, lang, m.decimals), counts=counts)


def nederland_subtitle(db: Database, maat: str, frame: pl.DataFrame, lang: str) -> str:
    """What the country line in the trend is, for the chart's subtitle (plain text)."""
    label = nederland_name(db, maat, lang)
    if uses_cbs_nederland(db, maat):
        return tr("trend_nl_cbs", lang, TEXTS, label=label)
    own = frame.filter((pl.col("reeks_key") == "nederland") & (pl.col("n_totaal") > 0))
    if own.is_empty():
        return label
    last = own.tail(1).row(0, named=True)  # the frame is in time order per series
    return tr("trend_nl_pooled", lang, TEXTS, label=label, periode=last["periode"],
              counts=catalog.met_cijfers(last["n"], last["n_totaal"], lang))


def gemeente_rows(db: Database, code: str) -> pl.DataFrame:
    """All out.gemeente_periode rows of one gemeente (every period and voorziening)."""
    return db.memo(("gemeente_rows", code), lambda: db.query(
        "SELECT * FROM out.gemeente_periode WHERE gemeente_code = ? "
        "ORDER BY jaar, coalesce(halfjaar, 0), voorziening_code", [code]))


@dataclass(frozen=True)
class KeyFigure:
    key: str
    label: str
    value: str
    delta: str | None
    help: str
    history: list[float]
    raw: float | None
    raw_prev: float | None
    periode: str
    nederland: str = ""  # the country in the same period, said as CBS's or as pooled


def _year_values(db: Database, code: str, voorziening: str, expr: pl.Expr) -> pl.DataFrame:
    return (gemeente_rows(db, code)
            .filter(pl.col("voorziening_code") == voorziening, pl.col("halfjaar").is_null())
            .select("periode_code", "jaar", "status", waarde=expr).sort("jaar"))


def key_figures(db: Database, code: str, lang: str) -> list[KeyFigure]:
    return db.memo(("gemeente_key_figures", code, lang), lambda: _key_figures(db, code, lang))


def _key_figures(db: Database, code: str, lang: str) -> list[KeyFigure]:
    """The newest whole year per measure with its change from the year before.

    Objections are known for few gemeenten and years, so when the newest year is unknown the
    last known year is shown, with that year in the label.
    """
    latest = catalog.default_period(db)
    specs: list[tuple[str, str, str, pl.Expr, int, float, bool]] = [
        # key, label, voorziening, value expression, decimals, display factor, fallback
        ("per_1000", MAATEN["per_1000"].label(lang), catalog.TOTAAL,
         _rate("clienten", "inwoners"), 1, 1.0, False),
        ("hbh_per_1000", MAATEN["hbh_per_1000"].label(lang), catalog.HBH,
         _rate("clienten", "inwoners"), 1, 1.0, False),
        ("per_1000_75plus", MAATEN["per_1000_75plus"].label(lang), catalog.TOTAAL,
         _rate("clienten", "inwoners_75plus"), 1, 1.0, False),
        ("inwoners", tr("kf_inwoners", lang, TEXTS), catalog.TOTAAL,
         pl.col("inwoners"), 0, 1.0, False),
        ("aandeel_75plus", tr("kf_aandeel75", lang, TEXTS) + " (%)", catalog.TOTAAL,
         pl.col("aandeel_75plus"), 1, 100.0, False),
        ("bezwaren_per_1000", MAATEN["bezwaren_per_1000"].label(lang), catalog.TOTAAL,
         _rate("bezwaren_ontvangen", "clienten"), 1, 1.0, True),
    ]
    out: list[KeyFigure] = []
    for key, label, voorz, expr, decimals, factor, fallback in specs:
        series = _year_values(db, code, voorz, expr)
        periode = latest
        current = series.filter(pl.col("periode_code") == periode)
        value = current["waarde"][0] if current.height else None
        note = ""
        if value is None and fallback:
            known = series.filter(pl.col("waarde").is_not_null())
            if known.height:
                periode = str(known["periode_code"][-1])
                value = known["waarde"][-1]
                note = tr("older_year", lang, TEXTS) + " "
        prev_code = catalog.previous_year_code(periode)
        prev = series.filter(pl.col("periode_code") == prev_code)
        prev_value = prev["waarde"][0] if prev.height else None
        delta = None
        if value is not None and prev_value is not None:
            diff = factor * (value - prev_value)
            delta = ("+" if diff > 0 else "") + fmt_number(diff, lang, decimals)
        plabel = catalog.period_label(db, periode, lang)
        helptext = note + (tr("prev_value", lang, TEXTS,
                              period=catalog.period_label(db, prev_code, lang),
                              value=_fmt(prev_value, factor, lang, decimals))
                           if prev_value is not None else tr("no_prev", lang, TEXTS))
        history = [factor * v for v in series["waarde"].to_list()
                   if v is not None and not math.isnan(v)]
        country = nederland_text(db, key, periode, lang) if key in MAATEN else ""
        if country:  # help is markdown: the status marks of '2024*' must stay literal
            helptext += "\n\n" + country.replace("*", "\\*")
        # Period first: a narrow card cuts the label's end, and the status mark must stay visible.
        out.append(KeyFigure(key, f"{plabel} · {label}", _fmt(value, factor, lang, decimals),
                             delta, helptext, history, value, prev_value, periode, country))
    return out


def _rate(num: str, den: str) -> pl.Expr:
    return pl.when(pl.col(den) > 0).then(1000.0 * pl.col(num) / pl.col(den))


def _fmt(value: float | None, factor: float, lang: str, decimals: int) -> str:
    return fmt_number(None if value is None else factor * value, lang, decimals)


# --- peers ------------------------------------------------------------------------------------

def peer_codes(db: Database, code: str, n: int = 10) -> list[str]:
    """Vergelijkbare gemeenten by the shared rule in dashboard/views/peers.py."""
    return list(peer_model.peers(db, code, n))


def peer_rule(db: Database, code: str, lang: str, n: int) -> str:
    """The shared rule in plain words."""
    return str(peer_model.rule_text(db, code, lang, n))


def peer_table(db: Database, code: str, peers: Sequence[str], lang: str) -> tables.Table:
    """The gemeente itself first, then its peers: size, 75+ share, latest rate, werkwijze."""
    latest = catalog.default_period(db)
    codes = [code, *peers]
    frame = db.memo(("gemeente_peer_rows", latest), lambda: db.query(
        "SELECT gemeente_code, gemeente_naam, provincie_naam, inwoners, aandeel_75plus, "
        "clienten_per_1000, werkwijze_hbh, status FROM out.gemeente_periode "
        "WHERE periode_code = ? AND voorziening_code = ?", [latest, catalog.TOTAAL]))
    order = {c: i for i, c in enumerate(codes)}
    plabel = catalog.period_label(db, latest, lang)
    names = {
        "gemeente_naam": tr("col_gemeente", lang, TEXTS),
        "gemeente_code": "gemeente_code",
        "provincie_naam": tr("provincie", lang),
        "inwoners": tr("col_inwoners", lang, TEXTS),
        "aandeel_75plus_pct": tr("col_aandeel75", lang, TEXTS),
        "clienten_per_1000": f"{tr('col_per1000', lang, TEXTS)} ({plabel})",
        "werkwijze": tr("col_werkwijze", lang, TEXTS),
    }
    # Rounded once, when written (tables.display): the measure's places, half away from zero.
    shown = (frame.filter(pl.col("gemeente_code").is_in(codes))
             .with_columns(volg=pl.col("gemeente_code").replace_strict(order, default=999),
                           aandeel_75plus_pct=100 * pl.col("aandeel_75plus"),
                           werkwijze=_werkwijze_label(pl.col("werkwijze_hbh"), lang))
             .sort("volg").select(list(names)).rename(names))
    return tables.display(shown, lang, {names["aandeel_75plus_pct"]: 1, names["inwoners"]: 0,
                                        names["clienten_per_1000"]: MAATEN["per_1000"].decimals})


def _werkwijze_label(expr: pl.Expr, lang: str) -> pl.Expr:
    return expr.fill_null("onbekend").replace_strict(
        catalog.werkwijze_labels(lang), default=expr, return_dtype=pl.String)


# --- trend ------------------------------------------------------------------------------------

SERIES_ORDER = ("gemeente", "peers", "nederland")
TREND_HEIGHT = 360  # px of the plot itself: the chart is drawn with autosize fit-x
END_LABEL_SIZE = 11


def trend(db: Database, code: str, peers: Sequence[str], maat: str, halfjaar: bool,
          lang: str) -> pl.DataFrame:
    """Long frame: one row per period and series (gemeente, peers pooled, and the country:
    CBS's own figure where CBS publishes the measure, else pooled; see `nederland`)."""
    m = MAATEN[maat]
    want_half = halfjaar and not m.year_only
    naam = catalog.gemeente_name(db, code)
    labels = {"gemeente": naam,
              "peers": tr("peers_series", lang, TEXTS, n=len(peers)),
              "nederland": nederland_name(db, maat, lang)}
    parts = [pooled(db, maat, [code]).with_columns(reeks_key=pl.lit("gemeente")),
             pooled(db, maat, list(peers)).with_columns(reeks_key=pl.lit("peers")),
             nederland(db, maat).with_columns(reeks_key=pl.lit("nederland"))]
    if not peers:
        parts.pop(1)
    frame = pl.concat(parts, how="vertical_relaxed")
    frame = frame.filter(pl.col("halfjaar").is_not_null() if want_half
                         else pl.col("halfjaar").is_null())
    period_labels = {c: catalog.period_label(db, c, lang)
                     for c in frame["periode_code"].unique().to_list()}
    return frame.with_columns(
        periode=pl.col("periode_code").replace_strict(period_labels, return_dtype=pl.String),
        reeks=pl.col("reeks_key").replace_strict(labels, return_dtype=pl.String),
        label=pl.col("waarde").map_elements(lambda v: fmt_number(v, lang, m.decimals),
                                            return_dtype=pl.String, skip_nulls=False),
    ).sort("reeks_key", "jaar", pl.col("halfjaar").fill_null(0))


def trend_chart(frame: pl.DataFrame, title: str, subtitle: str, source: str,
                lang: str) -> alt.LayerChart:
    """Lines told apart by colour, dash and point shape, named at their last point."""
    order = frame.sort("jaar", pl.col("halfjaar").fill_null(0))["periode"].unique(
        maintain_order=True).to_list()
    keys = [k for k in SERIES_ORDER if k in set(frame["reeks_key"].to_list())]
    names = [frame.filter(pl.col("reeks_key") == k)["reeks"][0] for k in keys]
    colour = dict(zip(SERIES_ORDER, [CATEGORICAL[5], CATEGORICAL[0], "#000000"], strict=True))
    dash = dict(zip(SERIES_ORDER, [[1, 0], [6, 3], [2, 2]], strict=True))
    shape = dict(zip(SERIES_ORDER, ["circle", "square", "triangle-up"], strict=True))
    scale = alt.Scale(domain=names, range=[colour[k] for k in keys])
    enc_colour = alt.Color("reeks:N", title=tr("reeks", lang, TEXTS), scale=scale,
                           legend=alt.Legend(orient="bottom", labelLimit=300))
    x = alt.X("periode:O", sort=order, title=None, axis=alt.Axis(labelAngle=-40))
    # A fixed domain: the end labels are placed on this very scale (dashboard/end_labels.py).
    domain = end_labels.nice_domain(frame["waarde"].to_list()) or (0.0, 1.0)
    y = alt.Y("waarde:Q", title=None, scale=alt.Scale(zero=False, nice=False,
                                                      domain=list(domain)))
    tooltip = [alt.Tooltip("reeks:N", title=tr("reeks", lang, TEXTS)),
               alt.Tooltip("periode:N", title=tr("col_periode", lang, TEXTS)),
               alt.Tooltip("label:N", title=tr("col_waarde", lang, TEXTS)),
               alt.Tooltip("n:Q", title=tr("col_n", lang, TEXTS))]
    data = frame.filter(pl.col("waarde").is_not_null()).select(
        "periode", "reeks", "reeks_key", "waarde", "label", "n", "jaar", "halfjaar")
    base = alt.Chart(data).encode(x=x, y=y, color=enc_colour)
    lines = base.mark_line(strokeWidth=2.2).encode(
        strokeDash=alt.StrokeDash("reeks:N", scale=alt.Scale(domain=names,
                                  range=[dash[k] for k in keys]), legend=None))
    points = base.mark_point(filled=True, size=55).encode(
        shape=alt.Shape("reeks:N", scale=alt.Scale(domain=names, range=[shape[k] for k in keys]),
                        legend=None), tooltip=tooltip)
    last = data.sort("jaar", pl.col("halfjaar").fill_null(0)).group_by(
        "reeks", maintain_order=True).last().select("periode", "reeks", "waarde")
    # Nudged apart, or none at all when they cannot be (the legend names the lines).
    placement = end_labels.place(last["waarde"].to_list(), domain, TREND_HEIGHT,
                                 END_LABEL_SIZE)
    last = (last.with_columns(label_y=pl.Series(placement.y, dtype=pl.Float64))
            if placement.show else last.clear().with_columns(label_y=pl.lit(None, pl.Float64)))
    ends = alt.Chart(last).mark_text(align="left", baseline="middle", dx=7,
                                     fontSize=END_LABEL_SIZE).encode(
        x=x, y=alt.Y("label_y:Q"), color=alt.Color("reeks:N", scale=scale, legend=None),
        text="reeks:N")
    chart = alt.layer(lines, points, ends).properties(width=640, height=TREND_HEIGHT)
    return titled(chart, title, source, subtitle)


@dataclass(frozen=True)
class TrendView:
    frame: pl.DataFrame
    chart: dict[str, Any]  # finished Vega-Lite spec for show_chart
    table: pl.DataFrame


def trend_view(db: Database, code: str, maat: str, halfjaar: bool, lang: str,
               source: str) -> TrendView:
    """Frame, chart and table alternative, built once per build and choice: building the
    Altair spec is the slowest step of a rerun."""
    def compute() -> TrendView:
        m = MAATEN[maat]
        frame = trend(db, code, peer_codes(db, code), maat, halfjaar, lang)
        naam = catalog.gemeente_name(db, code)
        subtitle = tr("trend_subtitle", lang, TEXTS, unit=m.unit(lang),
                      nederland=nederland_subtitle(db, maat, frame, lang))
        chart = trend_chart(frame, f"{m.label(lang)}: {naam}", subtitle, source, lang)
        spec = configure(chart, lang).to_dict()
        # fit-x: stretch the width only, so the title and legend do not squeeze the plot.
        spec["autosize"] = {"type": "fit-x", "contains": "padding"}
        return TrendView(frame, spec, trend_table(frame, m, lang))
    return db.recent(("gemeente_trend", code, maat, halfjaar, lang, source), compute)


def trend_download(chart: dict[str, Any]) -> dict[str, Any]:
    """The trend for the PNG/SVG download: the same plot (its end labels are placed for its
    height), but the image grows around a long subtitle or name (pad) where fit-x, which has
    no page column to fill there, would squeeze the plot to make room for them."""
    return {**chart, "autosize": {"type": "pad", "contains": "padding"}}


def trend_table(frame: pl.DataFrame, m: Measure, lang: str) -> tables.Table:
    """The chart's table alternative, rounded as its labels and the cards are."""
    return tables.display(frame.select(
        pl.col("reeks").alias(tr("reeks", lang, TEXTS)),
        pl.col("periode").alias(tr("col_periode", lang, TEXTS)),
        pl.col("waarde").alias(m.label(lang)),
        pl.col("n").alias(tr("col_n", lang, TEXTS)),
        pl.col("status")), lang, m.decimals)


# --- werkwijze, bezwaar and herindeling history ----------------------------------------------

def werkwijze_history(db: Database, code: str) -> pl.DataFrame:
    """Register rows of the gemeente and of every former gemeente now part of it."""
    codes = [code, *predecessor_codes(db, code)]
    return db.memo(("gemeente_werkwijze", code), lambda: db.query(
        "SELECT w.gemeente_code, g.gemeente_naam AS naam_in_bron, w.voorziening, w.werkwijze, "
        "w.geldig_vanaf, w.geldig_tot, w.peildatum, w.bron_url, w.bron_type, "
        "w.bron_omschrijving, w.regel, "
        "w.ingang_effectief "
        "FROM core.werkwijze w LEFT JOIN core.gemeente g USING (gemeente_code) "
        "WHERE list_contains(?, w.gemeente_code) "
        "ORDER BY coalesce(w.ingang_effectief, DATE '1900-01-01'), w.voorziening, w.regel",
        [codes]))


WERKWIJZE_SOURCE_COLUMNS = ("werkwijze", "voorziening", "periode", "peildatum", "bron_type",
                            "bron_omschrijving", "bron_url", "regel", "via")


def werkwijze_table(db: Database, code: str, lang: str) -> pl.DataFrame:
    """One row per register row, the kind of source (its label) beside the source itself.

    A table, not markdown: descriptions and URLs are register text and must show as typed.
    bron_url, bron_omschrijving and peildatum keep their names for the page's column config.
    """
    rows = werkwijze_history(db, code)
    return pl.DataFrame([_werkwijze_source_row(r, code, lang) for r in rows.iter_rows(named=True)],
                        schema={c: pl.Int32 if c == "regel" else pl.String
                                for c in WERKWIJZE_SOURCE_COLUMNS}, orient="row")


def _werkwijze_source_row(r: dict[str, Any], code: str, lang: str) -> dict[str, Any]:
    werkwijze = catalog.werkwijze_label(r["werkwijze"] if r["werkwijze"] in WERKWIJZE else None,
                                        lang)
    span = (f"{tr('vanaf', lang, TEXTS)} {_fmt_date(r['geldig_vanaf'], lang)}"
            if r["geldig_vanaf"] else tr("start_unknown", lang, TEXTS))
    if r["geldig_tot"]:
        span += f" {tr('tot', lang, TEXTS)} {_fmt_date(r['geldig_tot'], lang)}"
    via = None if r["gemeente_code"] == code else tr(
        "via", lang, TEXTS, naam=r["naam_in_bron"] or r["gemeente_code"], code=r["gemeente_code"])
    return {"werkwijze": werkwijze, "voorziening": tr(r["voorziening"], lang, TEXTS),
            "periode": span,
            "peildatum": fmt.date(r["peildatum"], lang) if r["peildatum"] else tr("onbekend", lang),
            "bron_type": bron_type.label(r["bron_type"], lang),
            "bron_omschrijving": r["bron_omschrijving"], "bron_url": r["bron_url"],
            "regel": r["regel"], "via": via}


def werkwijze_column_labels(lang: str) -> dict[str, str]:
    """Column headers of werkwijze_table for the page's column config."""
    keys = {"werkwijze": "col_ww_werkwijze", "voorziening": "col_ww_voorziening",
            "periode": "col_ww_periode", "peildatum": "col_peildatum",
            "bron_type": "col_bron_type", "bron_omschrijving": "col_omschrijving",
            "bron_url": "col_bron", "regel": "col_regel", "via": "col_via"}
    return {c: tr(k, lang, TEXTS) for c, k in keys.items()}


def werkwijze_years(db: Database, code: str, lang: str) -> pl.DataFrame:
    """werkwijze_hbh per whole year from out.gemeente_periode; NULL shown as 'onbekend'."""
    frame = (gemeente_rows(db, code)
             .filter(pl.col("voorziening_code") == catalog.TOTAAL, pl.col("halfjaar").is_null())
             .select("jaar", "werkwijze_hbh").sort("jaar"))
    return frame.select(pl.col("jaar").cast(pl.String).alias(tr("col_jaar", lang, TEXTS)),
                        _werkwijze_label(pl.col("werkwijze_hbh"), lang)
                        .alias(tr("col_werkwijze", lang, TEXTS)))


BEZWAAR_COLUMNS = ("bezwaren_ontvangen", "bezwaren_afgehandeld", "gegrond", "deels_gegrond",
                   "ongegrond", "niet_ontvankelijk", "ingetrokken", "beroep")


def bezwaar_rows(db: Database, code: str) -> pl.DataFrame:
    """core.bezwaar rows of the gemeente and its former parts, every figure with its source."""
    codes = [code, *predecessor_codes(db, code)]
    return db.memo(("gemeente_bezwaar", code), lambda: db.query(
        "SELECT b.gemeente_code, g.gemeente_naam AS naam_in_bron, b.jaar, b.domein, "
        + ", ".join(f"b.{c}" for c in BEZWAAR_COLUMNS)
        + ", b.bron_url, b.bron_omschrijving, b.peildatum, b.is_synthetisch "
        "FROM core.bezwaar b LEFT JOIN core.gemeente g USING (gemeente_code) "
        "WHERE list_contains(?, b.gemeente_code) ORDER BY b.jaar, b.domein, b.is_synthetisch",
        [codes]))


def bezwaar_table(rows: pl.DataFrame, lang: str) -> pl.DataFrame:
    """Display names; the source URL column is kept as a URL for a link column."""
    names = {
        "jaar": tr("col_jaar", lang, TEXTS), "domein": tr("col_domein", lang, TEXTS),
        "code": tr("col_code", lang, TEXTS), "herkomst": tr("col_herkomst", lang, TEXTS),
        "bezwaren_ontvangen": tr("col_ontvangen", lang, TEXTS),
        "bezwaren_afgehandeld": tr("col_afgehandeld", lang, TEXTS),
        "gegrond": tr("col_gegrond", lang, TEXTS), "deels_gegrond": tr("col_deels", lang, TEXTS),
        "ongegrond": tr("col_ongegrond", lang, TEXTS),
        "niet_ontvankelijk": tr("col_nietontv", lang, TEXTS),
        "ingetrokken": tr("col_ingetrokken", lang, TEXTS),
        "beroep": tr("col_beroep", lang, TEXTS),
        "bron_url": "bron_url", "bron_omschrijving": "bron_omschrijving",
        "peildatum": "peildatum",
    }
    return rows.with_columns(
        code=pl.col("gemeente_code") + pl.when(pl.col("naam_in_bron").is_not_null())
        .then(pl.lit(" ") + pl.col("naam_in_bron")).otherwise(pl.lit("")),
        herkomst=pl.when(pl.col("is_synthetisch")).then(pl.lit(tr("synthetisch", lang, TEXTS)))
        .otherwise(pl.lit(tr("echt", lang, TEXTS))),
        peildatum=pl.col("peildatum").map_elements(lambda v: fmt.date(v, lang),
                                                   return_dtype=pl.String),
    ).select(list(names)).rename(names)


def bezwaar_years(db: Database, code: str, lang: str) -> tables.Table:
    """Harmonised objections per year (domein wmo) from out.gemeente_periode, status marked."""
    frame = (gemeente_rows(db, code)
             .filter(pl.col("voorziening_code") == catalog.TOTAAL, pl.col("halfjaar").is_null())
             .filter(pl.col("bezwaren_ontvangen").is_not_null()).sort("jaar"))
    labels = {c: catalog.period_label(db, c, lang) for c in frame["periode_code"].to_list()}
    return tables.display(frame.select(
        pl.col("periode_code").replace_strict(labels, return_dtype=pl.String)
        .alias(tr("col_jaar", lang, TEXTS)),
        pl.col("bezwaren_ontvangen").alias(tr("col_bezwaren", lang, TEXTS)),
        pl.col("clienten").alias(tr("col_clienten", lang, TEXTS)),
        pl.col("bezwaren_per_1000_clienten").alias(tr("col_bezw1000", lang, TEXTS))),
        lang, measures.measure("bezwaren_per_1000").decimals)


def uitspraken_table(db: Database, code: str, lang: str) -> pl.DataFrame:
    """The gemeente's published Wmo 2015 rulings (out.uitspraak, on the reference gemeente),
    newest first, in the Rechtspraak page's display columns; `url` NULL for a synthetic one."""
    return rechtspraak.gemeente_rulings(db, code, lang)


def uitspraken_column_labels(lang: str) -> dict[str, str]:
    return rechtspraak.column_labels(lang)


def uitspraken_count(n: int, lang: str) -> str:
    """'3 gepubliceerde uitspraken van deze gemeente. Alleen gepubliceerde …' (with caveat)."""
    return (tr("uitspraken_count", lang, TEXTS, count=rechtspraak.counted(n, lang))
            + " " + tr("caveat", lang, rechtspraak.TEXTS))


def herindeling_table(db: Database, code: str, lang: str) -> tables.Table:
    """Written for the reader (dates as '1 januari 2019', shares with one decimal); the URL
    column stays a URL for the page's link column."""
    frame = predecessors(db, code)
    return tables.display(frame.select(
        pl.col("datum_ingang").alias(tr("col_datum", lang, TEXTS)),
        (pl.col("oude_naam") + " (" + pl.col("oude_code") + ")").alias(tr("col_oud", lang, TEXTS)),
        (pl.col("nieuwe_naam") + " (" + pl.col("nieuwe_code") + ")")
        .alias(tr("col_nieuw", lang, TEXTS)),
        pl.col("type").replace_strict({t: tr(t, lang, TEXTS) for t in
                                       ("samenvoeging", "toevoeging", "splitsing",
                                        "naamswijziging")},
                                      default=pl.col("type"), return_dtype=pl.String)
        .alias(tr("col_type", lang, TEXTS)),
        (100 * pl.col("aandeel_hier")).alias(tr("col_aandeel", lang, TEXTS) + " (%)"),
        pl.col("bron").alias("bron")), lang, 1, links=("bron",))


def code_validity(db: Database, code: str, lang: str) -> str:
    row = all_gemeenten(db).filter(pl.col("gemeente_code") == code)
    since = row["geldig_vanaf"][0] if row.height else None
    if since is None:
        return tr("code_old", lang, TEXTS, code=code)
    return tr("code_since", lang, TEXTS, code=code, datum=_fmt_date(since, lang))

