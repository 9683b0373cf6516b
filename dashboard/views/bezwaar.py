"""The Bezwaar page without Streamlit: objections per 1 000 clients by werkwijze, outcomes,
coverage, and every figure with its source.

Two sources, each for what it can do:
- Rates come from out.gemeente_periode: bezwaren_ontvangen (domein 'wmo' only, harmonised to
  the reference gemeenten) over clienten of the Totaal voorziening, pooled as sum / sum over
  the gemeenten with both known, grouped by werkwijze_hbh (NULL = onbekend, never 'uren').
- Outcomes, coverage and the source table come from core.bezwaar per domein, because only the
  register has outcomes and sources. Domains are never mixed: 'wmo', household help only and
  the whole social domain count different decisions.
Where a real and a synthetic row exist for the same gemeente, year and domein, the real one
counts (as in the out table) and the synthetic one is shown but marked as not used.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import altair as alt
import polars as pl

from dashboard import catalog, exports
from dashboard.charts import CATEGORICAL, WERKWIJZE_COLOURS, configure, fmt_number, titled
from dashboard.db import Database
from dashboard.i18n import section, tr
from dashboard.views import gemeente as gemeente_view

DOMEINEN = ("wmo", "wmo_huishoudelijke_ondersteuning", "sociaal_domein")
DEFAULT_DOMEIN = "wmo"
GROUPS = ("resultaatgericht", "uren", "onbekend")
ALLE = "alle"
OUTCOMES = ("gegrond", "deels_gegrond", "ongegrond", "niet_ontvankelijk", "ingetrokken")
COUNT_COLUMNS = ("bezwaren_ontvangen", "bezwaren_afgehandeld", *OUTCOMES, "beroep")

TEXTS = section("bezwaar")


def spec(chart: alt.TopLevelMixin) -> dict[str, Any]:
    """The finished Vega-Lite dict (configured, validated once) that show_chart accepts.

    fit-x: the page stretches the width, but the height stays the plot's own height; with
    Streamlit's default 'fit' the title, legend and axes would eat into the bars.
    """
    out = configure(chart).to_dict()
    out["autosize"] = {"type": "fit-x", "contains": "padding"}
    return out


def domein_label(domein: str, lang: str) -> str:
    return tr(f"domein_{domein}", lang, TEXTS) if domein in DOMEINEN else domein


def group_label(groep: str, lang: str) -> str:
    if groep == ALLE:
        return tr(ALLE, lang, TEXTS)
    return tr(groep, lang) if groep in GROUPS else groep


def year_label(db: Database, jaar: int, lang: str) -> str:
    """'2024*' when the client figures of that year are provisional; plain otherwise."""
    return catalog.period_label(db, f"{jaar}JJ00", lang).replace(f"{jaar}JJ00", str(jaar))


# --- rates from the out table -----------------------------------------------------------------

def pooled_rates(db: Database) -> pl.DataFrame:
    """Per year and werkwijze group (plus 'alle'): summed bezwaren and clienten over gemeenten
    with both known, the pooled rate per 1 000 clients and n."""
    def compute() -> pl.DataFrame:
        frame = db.query(
            "SELECT jaar, coalesce(werkwijze_hbh, 'onbekend') AS groep, "
            "CAST(bezwaren_ontvangen AS DOUBLE) AS b, clienten AS c "
            "FROM out.gemeente_periode WHERE voorziening_code = ? AND halfjaar IS NULL "
            "AND bezwaren_ontvangen IS NOT NULL AND clienten > 0", [catalog.TOTAAL])
        per_group = frame.group_by("jaar", "groep").agg(
            bezwaren=pl.col("b").sum(), clienten=pl.col("c").sum(), n=pl.len())
        total = frame.group_by("jaar").agg(
            bezwaren=pl.col("b").sum(), clienten=pl.col("c").sum(), n=pl.len()
        ).with_columns(groep=pl.lit(ALLE)).select(per_group.columns)
        order = {g: i for i, g in enumerate((ALLE, *GROUPS))}
        return pl.concat([total, per_group]).with_columns(
            waarde=1000.0 * pl.col("bezwaren") / pl.col("clienten"),
            n=pl.col("n").cast(pl.Int64),
            volg=pl.col("groep").replace_strict(order, default=99, return_dtype=pl.Int32),
        ).sort("jaar", "volg")
    return db.memo("bezwaar_pooled", compute)


def rate_frame(db: Database, lang: str) -> pl.DataFrame:
    """pooled_rates with display labels (year with status mark, group with n)."""
    frame = pooled_rates(db)
    years = {j: year_label(db, j, lang) for j in frame["jaar"].unique().to_list()}
    return frame.with_columns(
        jaar_label=pl.col("jaar").replace_strict(years, return_dtype=pl.String),
        groep_label=pl.col("groep").map_elements(lambda g: group_label(g, lang),
                                                 return_dtype=pl.String),
        label=pl.col("waarde").map_elements(lambda v: fmt_number(v, lang, 1),
                                            return_dtype=pl.String),
    )


def _group_style(groups: list[str]) -> tuple[list[str], list[list[int]], list[str]]:
    colours = {ALLE: "#000000", **WERKWIJZE_COLOURS}
    dashes = {ALLE: [1, 0], "resultaatgericht": [6, 2], "uren": [2, 2], "onbekend": [8, 3, 2, 3]}
    shapes = {ALLE: "circle", "resultaatgericht": "square", "uren": "triangle-up",
              "onbekend": "diamond"}
    return ([colours.get(g, "#666666") for g in groups], [dashes.get(g, [1, 0]) for g in groups],
            [shapes.get(g, "circle") for g in groups])


def rate_chart(frame: pl.DataFrame, title: str, subtitle: str, source: str,
               lang: str) -> alt.LayerChart:
    """Lines per werkwijze group, told apart by colour, dash and point shape, named (with the
    latest n) at their last point."""
    groups = [g for g in (ALLE, *GROUPS) if g in set(frame["groep"].to_list())]
    names = [group_label(g, lang) for g in groups]
    colours, dashes, shapes = _group_style(groups)
    order = frame.sort("jaar")["jaar_label"].unique(maintain_order=True).to_list()
    x = alt.X("jaar_label:O", sort=order, title=None)
    y = alt.Y("waarde:Q", title=tr("waarde", lang, TEXTS), scale=alt.Scale(zero=False))
    colour_scale = alt.Scale(domain=names, range=colours)
    colour = alt.Color("groep_label:N", title=tr("groep", lang, TEXTS), scale=colour_scale,
                       legend=alt.Legend(orient="bottom"))
    tooltip = [alt.Tooltip("groep_label:N", title=tr("groep", lang, TEXTS)),
               alt.Tooltip("jaar_label:N", title=tr("jaar_col", lang, TEXTS)),
               alt.Tooltip("label:N", title=tr("waarde", lang, TEXTS)),
               alt.Tooltip("n:Q", title=tr("n", lang, TEXTS)),
               alt.Tooltip("bezwaren:Q", title=tr("bezwaren", lang, TEXTS), format=",.0f"),
               alt.Tooltip("clienten:Q", title=tr("clienten", lang, TEXTS), format=",.0f")]
    data = frame.select("jaar", "jaar_label", "groep_label", "waarde", "label", "n", "bezwaren",
                        "clienten")
    base = alt.Chart(data).encode(x=x, y=y, color=colour)
    lines = base.mark_line(strokeWidth=2).encode(strokeDash=alt.StrokeDash(
        "groep_label:N", scale=alt.Scale(domain=names, range=dashes), legend=None))
    points = base.mark_point(filled=True, size=60).encode(
        shape=alt.Shape("groep_label:N", scale=alt.Scale(domain=names, range=shapes),
                        legend=None), tooltip=tooltip)
    last = data.sort("jaar").group_by("groep_label", maintain_order=True).last().with_columns(
        end=pl.col("groep_label") + " (n=" + pl.col("n").cast(pl.String) + ")")
    ends = alt.Chart(last).mark_text(align="right", dy=-12, fontSize=11).encode(
        x=x, y=y, text="end:N", color=alt.Color("groep_label:N", scale=colour_scale,
                                                legend=None))
    chart = alt.layer(lines, points, ends).properties(width=640, height=340)
    return titled(chart, title, source, subtitle)


def rate_table(frame: pl.DataFrame, lang: str) -> pl.DataFrame:
    return frame.select(
        pl.col("jaar_label").alias(tr("jaar_col", lang, TEXTS)),
        pl.col("groep_label").alias(tr("groep", lang, TEXTS)),
        pl.col("waarde").round(3).alias(tr("waarde", lang, TEXTS)),
        pl.col("bezwaren").alias(tr("bezwaren", lang, TEXTS)),
        pl.col("clienten").alias(tr("clienten", lang, TEXTS)),
        pl.col("n").alias(tr("n", lang, TEXTS)))


def distribution(db: Database, jaar: int, lang: str) -> pl.DataFrame:
    """One row per gemeente with a rate in `jaar`, its werkwijze group and a label with n."""
    def compute() -> pl.DataFrame:
        frame = db.query(
            "SELECT gemeente_code, gemeente_naam, coalesce(werkwijze_hbh, 'onbekend') AS groep, "
            "CAST(bezwaren_ontvangen AS DOUBLE) AS bezwaren, clienten, "
            "bezwaren_per_1000_clienten AS waarde FROM out.gemeente_periode "
            "WHERE voorziening_code = ? AND halfjaar IS NULL AND jaar = ? "
            "AND bezwaren_per_1000_clienten IS NOT NULL ORDER BY gemeente_code",
            [catalog.TOTAAL, jaar])
        counts = dict(frame.group_by("groep").len().iter_rows())
        labels = {g: f"{group_label(g, lang)} (n={counts.get(g, 0)})" for g in GROUPS}
        # A fixed jitter from the code, so the picture (and its PNG) is the same on every run.
        return frame.with_columns(
            groep_label=pl.col("groep").replace_strict(labels, default=pl.col("groep"),
                                                       return_dtype=pl.String),
            jitter=(pl.col("gemeente_code").hash(7) % 1000).cast(pl.Float64) / 1000.0 - 0.5,
            label=pl.col("waarde").map_elements(lambda v: fmt_number(v, lang, 1),
                                                return_dtype=pl.String))
    return db.memo(("bezwaar_distribution", jaar, lang), compute)


def distribution_chart(frame: pl.DataFrame, title: str, subtitle: str, source: str,
                       lang: str) -> alt.LayerChart:
    """Box per werkwijze group with every gemeente as a dot and the median written out."""
    groups = [g for g in GROUPS if g in set(frame["groep"].to_list())]
    names = [frame.filter(pl.col("groep") == g)["groep_label"][0] for g in groups]
    colours, _, shapes = _group_style(groups)
    y = alt.Y("groep_label:N", sort=names, title=None, axis=alt.Axis(labelLimit=240))
    x = alt.X("waarde:Q", title=tr("waarde", lang, TEXTS))
    colour = alt.Color("groep_label:N", scale=alt.Scale(domain=names, range=colours),
                       legend=None)
    box = alt.Chart(frame).mark_boxplot(extent="min-max", size=34, opacity=0.35,
                                        median={"color": "#000000", "strokeWidth": 2}).encode(
        x=x, y=y, color=colour)
    dots = alt.Chart(frame).mark_point(filled=True, size=28, opacity=0.8).encode(
        x=x, y=y, yOffset=alt.YOffset("jitter:Q", scale=alt.Scale(domain=[-1.5, 1.5])),
        color=colour,
        shape=alt.Shape("groep_label:N", scale=alt.Scale(domain=names, range=shapes),
                        legend=None),
        tooltip=[alt.Tooltip("gemeente_naam:N", title=tr("gemeente", lang)),
                 alt.Tooltip("groep_label:N", title=tr("groep", lang, TEXTS)),
                 alt.Tooltip("label:N", title=tr("waarde", lang, TEXTS)),
                 alt.Tooltip("bezwaren:Q", title=tr("bezwaren", lang, TEXTS), format=",.0f"),
                 alt.Tooltip("clienten:Q", title=tr("clienten", lang, TEXTS), format=",.0f")])
    medians = frame.group_by("groep_label").agg(mediaan=pl.col("waarde").median()).with_columns(
        text=pl.lit(tr("mediaan", lang, TEXTS) + " ") + pl.col("mediaan").map_elements(
            lambda v: fmt_number(v, lang, 1), return_dtype=pl.String))
    text = alt.Chart(medians).mark_text(dy=-24, fontSize=11, fontWeight="bold").encode(
        x=alt.X("mediaan:Q"), y=y, text="text:N")
    chart = alt.layer(box, dots, text).properties(width=640,
                                                  height=max(150, 90 * len(groups)))
    return titled(chart, title, source, subtitle)


def distribution_table(frame: pl.DataFrame, lang: str) -> pl.DataFrame:
    return frame.sort("waarde", descending=True).select(
        "gemeente_code",
        pl.col("gemeente_naam").alias(tr("gemeente", lang)),
        pl.col("groep_label").alias(tr("groep", lang, TEXTS)),
        pl.col("waarde").round(3).alias(tr("waarde", lang, TEXTS)),
        pl.col("bezwaren").alias(tr("bezwaren", lang, TEXTS)),
        pl.col("clienten").alias(tr("clienten", lang, TEXTS)))


# --- the register: rows, outcomes, coverage ---------------------------------------------------

def domain_options(db: Database) -> list[str]:
    """The known domains in fixed order, plus any new one the register may add later."""
    found = db.memo("bezwaar_domains", lambda: db.query(
        "SELECT DISTINCT domein FROM core.bezwaar ORDER BY domein")["domein"].to_list())
    return [*DOMEINEN, *(d for d in found if d not in DOMEINEN)]


def year_options(db: Database, domein: str) -> list[int]:
    """Years with any figure in this domain, newest first."""
    years = set(register_rows(db, domein)["jaar"].to_list())
    if domein == "wmo":
        years |= set(pooled_rates(db)["jaar"].to_list())
    return sorted(years, reverse=True)


def _werkwijze_by_year(db: Database) -> pl.DataFrame:
    return db.memo("bezwaar_werkwijze_year", lambda: db.query(
        "SELECT gemeente_code AS ref_code, jaar, werkwijze_hbh FROM out.gemeente_periode "
        "WHERE voorziening_code = ? AND halfjaar IS NULL", [catalog.TOTAAL]))


def _reference_map(db: Database, codes: list[str]) -> dict[str, str | None]:
    """Register code → reference gemeente holding (most of) it today."""
    ref = set(gemeente_view.reference_codes(db))
    out: dict[str, str | None] = {}
    for code in codes:
        if code in ref:
            out[code] = code
        else:
            succ = gemeente_view.successors(db, code)
            out[code] = succ[0].code if succ else None
    return out


def register_rows(db: Database, domein: str) -> pl.DataFrame:
    """core.bezwaar rows of one domain with names, the reference gemeente, its werkwijze in that
    year (onbekend when not known for all parts) and whether the row is used.

    Werkwijze via the reference gemeente is exact for a dissolved code: the out table only
    gives a harmonised gemeente a werkwijze when all its parts agree.
    """
    def compute() -> pl.DataFrame:
        frame = db.query(
            "SELECT b.gemeente_code, g.gemeente_naam, b.jaar, b.domein, "
            + ", ".join(f"b.{c}" for c in COUNT_COLUMNS)
            + ", b.bron_url, b.bron_omschrijving, b.peildatum, b.is_synthetisch "
            "FROM core.bezwaar b LEFT JOIN core.gemeente g USING (gemeente_code) "
            "WHERE b.domein = ? ORDER BY b.jaar, b.gemeente_code, b.is_synthetisch", [domein])
        mapping = _reference_map(db, frame["gemeente_code"].unique().to_list())
        frame = frame.with_columns(ref_code=pl.col("gemeente_code").replace_strict(
            mapping, return_dtype=pl.String))
        frame = frame.join(_werkwijze_by_year(db), on=["ref_code", "jaar"], how="left")
        return frame.with_columns(
            groep=pl.col("werkwijze_hbh").fill_null("onbekend"),
            # A real figure beats a synthetic one for the same gemeente, year and domein.
            gebruikt=~pl.col("is_synthetisch") | ~pl.col("is_synthetisch").not_().any().over(
                "gemeente_code", "jaar", "domein"),
        ).drop("werkwijze_hbh")
    return db.memo(("bezwaar_rows", domein), compute)


def outcome_shares(rows: pl.DataFrame, by: str) -> pl.DataFrame:
    """Long frame per `by` value and outcome: count, share of the five outcomes together, and
    n (gemeenten). Only used rows that give all five outcomes count, so shares add up to 1."""
    complete = rows.filter(pl.col("gebruikt"), *[pl.col(o).is_not_null() for o in OUTCOMES])
    if complete.is_empty():
        return pl.DataFrame(schema={by: rows.schema[by], "uitkomst": pl.String,
                                    "aantal": pl.Float64, "aandeel": pl.Float64,
                                    "n": pl.Int64, "totaal": pl.Float64})
    sums = complete.group_by(by).agg(
        *[pl.col(o).sum().cast(pl.Float64) for o in OUTCOMES],
        n=pl.col("gemeente_code").n_unique().cast(pl.Int64))
    long = sums.unpivot(index=[by, "n"], on=list(OUTCOMES), variable_name="uitkomst",
                        value_name="aantal")
    return long.with_columns(
        totaal=pl.col("aantal").sum().over(by),
    ).with_columns(
        aandeel=pl.when(pl.col("totaal") > 0).then(pl.col("aantal") / pl.col("totaal")),
    ).select(by, "uitkomst", "aantal", "aandeel", "n", "totaal").sort(by, "uitkomst")


def outcome_chart(shares: pl.DataFrame, by: str, labels: dict[object, str], title: str,
                  subtitle: str, source: str, lang: str) -> alt.LayerChart:
    """100 % bars per `by` value; each segment carries its percentage as text, the outcomes
    keep one order, and the row label carries n."""
    names = [tr(o, lang, TEXTS) for o in OUTCOMES]
    order = {o: i for i, o in enumerate(OUTCOMES)}
    data = shares.with_columns(
        rij=pl.col(by).replace_strict(labels, return_dtype=pl.String) + " (n="
        + pl.col("n").cast(pl.String) + ")",
        uitkomst_label=pl.col("uitkomst").replace_strict(
            dict(zip(OUTCOMES, names, strict=True)), return_dtype=pl.String),
        volg=pl.col("uitkomst").replace_strict(order, return_dtype=pl.Int32),
        pct=pl.col("aandeel").map_elements(lambda v: fmt_number(100 * v, lang, 0) + "%",
                                           return_dtype=pl.String),
        # werkwijze groups in their fixed order, years in time order
        rang=pl.col(by).replace_strict({g: i for i, g in enumerate(GROUPS)}, default=99,
                                       return_dtype=pl.Int32) if by == "groep" else pl.col(by),
    ).sort("rang", "volg")
    rows = data["rij"].unique(maintain_order=True).to_list()
    y = alt.Y("rij:N", sort=rows, title=None, axis=alt.Axis(labelLimit=260))
    x = alt.X("aandeel:Q", stack="zero", title=tr("aandeel", lang, TEXTS),
              axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1]))
    palette = [CATEGORICAL[i] for i in (2, 4, 5, 1, 3)]
    bars = alt.Chart(data).mark_bar(stroke="#ffffff", strokeWidth=1).encode(
        x=x, y=y, order=alt.Order("volg:Q"),
        color=alt.Color("uitkomst_label:N", title=tr("uitkomst", lang, TEXTS),
                        scale=alt.Scale(domain=names, range=palette),
                        legend=alt.Legend(orient="bottom")),
        tooltip=[alt.Tooltip("rij:N", title=by),
                 alt.Tooltip("uitkomst_label:N", title=tr("uitkomst", lang, TEXTS)),
                 alt.Tooltip("pct:N", title=tr("aandeel", lang, TEXTS)),
                 alt.Tooltip("aantal:Q", title=tr("aantal", lang, TEXTS), format=",.0f")])
    text = alt.Chart(data).mark_text(color="#000000", fontSize=10).encode(
        x=alt.X("mid:Q"), y=y, text="pct:N",
    ).transform_filter("datum.aandeel >= 0.06").transform_window(
        cum="sum(aandeel)", sort=[alt.SortField("volg")], groupby=["rij"],
    ).transform_calculate(mid="datum.cum - datum.aandeel / 2")
    chart = alt.layer(bars, text).properties(width=640, height=max(80, 26 * len(rows)))
    return titled(chart, title, source, subtitle)


def outcome_table(shares: pl.DataFrame, by: str, labels: dict[object, str],
                  lang: str) -> pl.DataFrame:
    return shares.select(
        pl.col(by).replace_strict(labels, return_dtype=pl.String).alias(
            tr("jaar_col" if by == "jaar" else "groep", lang, TEXTS)),
        pl.col("uitkomst").replace_strict({o: tr(o, lang, TEXTS) for o in OUTCOMES},
                                          return_dtype=pl.String)
        .alias(tr("uitkomst", lang, TEXTS)),
        pl.col("aantal").alias(tr("aantal", lang, TEXTS)),
        (100 * pl.col("aandeel")).round(1).alias(tr("aandeel", lang, TEXTS)),
        pl.col("n").alias(tr("n", lang, TEXTS)))


def gemeenten_per_year(db: Database, years: list[int]) -> dict[int, int]:
    """How many gemeente codes were valid on 1 January of each year (the coverage base)."""
    frame = gemeente_view.all_gemeenten(db)
    out: dict[int, int] = {}
    for jaar in years:
        day = pl.date(jaar, 1, 1)
        out[jaar] = frame.filter(
            (pl.col("geldig_vanaf").is_null() | (pl.col("geldig_vanaf") <= day))
            & (pl.col("geldig_tot").is_null() | (pl.col("geldig_tot") > day))).height
    return out


def coverage(db: Database, domein: str) -> pl.DataFrame:
    """Per year and origin (echt / synthetisch): gemeenten with bezwaren_ontvangen known, among
    the rows that count, and how many gemeenten existed that year."""
    rows = register_rows(db, domein).filter(pl.col("gebruikt"),
                                            pl.col("bezwaren_ontvangen").is_not_null())
    counts = rows.group_by("jaar", "is_synthetisch").agg(
        gemeenten=pl.col("gemeente_code").n_unique().cast(pl.Int64))
    years = sorted(set(register_rows(db, domein)["jaar"].to_list()))
    grid = pl.DataFrame({"jaar": years}, schema={"jaar": pl.Int32}).join(
        pl.DataFrame({"is_synthetisch": [False, True]}), how="cross")
    totals = gemeenten_per_year(db, years)
    return grid.join(counts, on=["jaar", "is_synthetisch"], how="left").with_columns(
        gemeenten=pl.col("gemeenten").fill_null(0),  # a count of gemeenten: none is truly 0
        totaal=pl.col("jaar").replace_strict(totals, return_dtype=pl.Int64),
    ).sort("jaar", "is_synthetisch")


def coverage_chart(frame: pl.DataFrame, db: Database, title: str, subtitle: str, source: str,
                   lang: str) -> alt.LayerChart:
    """Bars per year side by side for real and synthetic figures, each with its count written
    out ('12 van 355'), so nothing depends on colour."""
    herkomst = {False: tr("echt", lang, TEXTS), True: tr("synthetisch_plain", lang, TEXTS)}
    data = frame.with_columns(
        jaar_label=pl.col("jaar").map_elements(lambda j: year_label(db, j, lang),
                                               return_dtype=pl.String),
        herkomst=pl.col("is_synthetisch").replace_strict(herkomst, return_dtype=pl.String),
    ).with_columns(
        text=pl.col("gemeenten").cast(pl.String) + " " + pl.col("herkomst") + " ("
        + pl.col("totaal").map_elements(lambda n: tr("van", lang, TEXTS, n=n),
                                        return_dtype=pl.String) + ")")
    names = [herkomst[False], herkomst[True]]
    y = alt.Y("jaar_label:N", sort=data["jaar_label"].unique(maintain_order=True).to_list(),
              title=None)
    x = alt.X("gemeenten:Q", title=tr("gemeenten", lang, TEXTS))
    offset = alt.YOffset("herkomst:N", sort=names)
    bars = alt.Chart(data).mark_bar().encode(
        x=x, y=y, yOffset=offset,
        color=alt.Color("herkomst:N", title=tr("herkomst", lang, TEXTS),
                        scale=alt.Scale(domain=names, range=[CATEGORICAL[0], "#bdbdbd"]),
                        legend=alt.Legend(orient="bottom")),
        tooltip=[alt.Tooltip("jaar_label:N", title=tr("jaar_col", lang, TEXTS)),
                 alt.Tooltip("text:N", title=tr("gemeenten", lang, TEXTS))])
    text = alt.Chart(data).mark_text(align="left", dx=4, fontSize=10).encode(
        x=x, y=y, yOffset=offset, text="text:N")
    chart = alt.layer(bars, text).properties(width=640,
                                            height=max(120, 34 * data["jaar"].n_unique()))
    return titled(chart, title, source, subtitle)


def coverage_table(frame: pl.DataFrame, lang: str) -> pl.DataFrame:
    return frame.select(
        pl.col("jaar").alias(tr("jaar_col", lang, TEXTS)),
        pl.col("is_synthetisch").replace_strict(
            {False: tr("echt", lang, TEXTS), True: tr("synthetisch_plain", lang, TEXTS)},
            return_dtype=pl.String).alias(tr("herkomst", lang, TEXTS)),
        pl.col("gemeenten").alias(tr("gemeenten", lang, TEXTS)),
        pl.col("totaal").alias("totaal"))


@dataclass(frozen=True)
class FigureTable:
    frame: pl.DataFrame  # display column names; bron_url/bron_omschrijving/peildatum kept
    export: pl.DataFrame  # database column names, for the CSV with provenance


def figure_table(db: Database, domein: str, lang: str) -> FigureTable:
    """Every register row of the domain, synthetic ones marked, with its source columns."""
    rows = register_rows(db, domein)
    ref_names = {c: catalog.gemeente_name(db, c) for c in rows["ref_code"].drop_nulls().unique()}
    display = rows.with_columns(
        gemeente=pl.col("gemeente_code") + " " + pl.col("gemeente_naam").fill_null(""),
        huidig=pl.col("ref_code").replace_strict(ref_names, default=None,
                                                 return_dtype=pl.String),
        herkomst=pl.when(pl.col("is_synthetisch")).then(pl.lit(tr("synthetisch", lang, TEXTS)))
        .otherwise(pl.lit(tr("echt", lang, TEXTS))),
        werkwijze=pl.col("groep").replace_strict({g: group_label(g, lang) for g in GROUPS},
                                                 default=pl.col("groep"),
                                                 return_dtype=pl.String),
    )
    names = {"jaar": tr("jaar_col", lang, TEXTS), "gemeente": tr("gemeente_col", lang, TEXTS),
             "herkomst": tr("herkomst", lang, TEXTS), "gebruikt": tr("gebruikt", lang, TEXTS),
             "huidig": tr("huidig_col", lang, TEXTS), "werkwijze": tr("groep", lang, TEXTS),
             **{c: tr(c, lang, TEXTS) for c in COUNT_COLUMNS},
             "bron_url": "bron_url", "bron_omschrijving": "bron_omschrijving",
             "peildatum": "peildatum"}
    export = rows.with_columns(werkwijze_hbh=pl.col("groep")).select(figure_table_columns())
    return FigureTable(display.select(list(names)).rename(names), export)


def export_context(db: Database, domein: str, title: str,
                   lang: str = "nl") -> exports.ExportContext:
    """Provenance for the CSV of the figure table (sources, caveats, synthetic flag inside),
    in the reader's language."""
    columns = figure_table_columns()
    return db.memo(("bezwaar_export_context", domein, title, lang),
                   lambda: exports.context_from_db(
                       db, f"{title} ({domein})", {"domein": domein},
                       columns,  # type: ignore[arg-type]
                       table="core.bezwaar", lang=lang))


def figure_table_columns() -> list[str]:
    return ["gemeente_code", "gemeente_naam", "jaar", "domein", *COUNT_COLUMNS, "bron_url",
            "bron_omschrijving", "peildatum", "is_synthetisch", "werkwijze_hbh", "gebruikt"]


# --- the whole page, built once per build and choice ------------------------------------------

@dataclass(frozen=True)
class ChartBlock:
    name: str
    chart: dict[str, Any] | None  # finished Vega-Lite spec; None: nothing to draw, say `note`
    table: pl.DataFrame
    note: str | None = None


@dataclass(frozen=True)
class PageView:
    domein: str
    jaar: int
    rates: ChartBlock | None  # None: no denominator for this domain
    distribution: ChartBlock | None
    outcomes_year: ChartBlock
    outcomes_werkwijze: ChartBlock
    coverage: ChartBlock
    figures: FigureTable
    rows: int
    synthetic: int


def page_view(db: Database, domein: str, jaar: int, lang: str, source: str) -> PageView:
    """Every chart (as a finished Vega-Lite spec) and table of the page. Memoised per build,
    because building and validating five Altair specs is most of a rerun's cost."""
    return db.memo(("bezwaar_page", domein, jaar, lang, source),
                   lambda: _page_view(db, domein, jaar, lang, source))


def _page_view(db: Database, domein: str, jaar: int, lang: str, source: str) -> PageView:
    def t(key: str, **fields: object) -> str:
        return tr(key, lang, TEXTS, **fields)

    dlabel, jlabel = domein_label(domein, lang), year_label(db, jaar, lang)
    rows = register_rows(db, domein)
    rates = dist = None
    if domein == "wmo":
        frame = rate_frame(db, lang)
        rates = ChartBlock("bezwaren_per_1000_werkwijze",
                           spec(rate_chart(frame, t("rate_title"), t("rate_subtitle"), source,
                                           lang)),
                           rate_table(frame, lang))
        d = distribution(db, jaar, lang)
        dist = ChartBlock(
            f"bezwaren_spreiding_{jaar}",
            None if d.is_empty() else spec(distribution_chart(
                d, t("dist_title", jaar=jlabel), t("dist_subtitle"), source, lang)),
            distribution_table(d, lang), t("dist_empty", jaar=jlabel))

    def outcomes(frame: pl.DataFrame, by: str, labels: dict[object, str], title: str,
                 name: str) -> ChartBlock:
        shares = outcome_shares(frame, by)
        chart = None if shares.is_empty() else spec(outcome_chart(
            shares, by, labels, title, t("outcome_subtitle"), source, lang))
        return ChartBlock(name, chart, outcome_table(shares, by, labels, lang),
                          t("outcome_none"))

    years = {j: year_label(db, j, lang) for j in rows["jaar"].unique().to_list()}
    groups: dict[object, str] = {g: group_label(g, lang) for g in GROUPS}
    cov = coverage(db, domein)
    return PageView(
        domein, jaar, rates, dist,
        outcomes(rows, "jaar", dict(years), t("outcome_time_title", domein=dlabel),
                 f"bezwaar_uitkomsten_{domein}"),
        outcomes(rows.filter(pl.col("jaar") == jaar), "groep", groups,
                 t("outcome_ww_title", jaar=jlabel, domein=dlabel),
                 f"bezwaar_uitkomsten_{domein}_{jaar}"),
        ChartBlock(f"bezwaar_dekking_{domein}",
                   spec(coverage_chart(cov, db, t("coverage_title", domein=dlabel),
                                       t("coverage_subtitle"), source, lang)),
                   coverage_table(cov, lang)),
        figure_table(db, domein, lang), rows.height, int(rows["is_synthetisch"].sum()))
