"""The Werkwijze page without Streamlit: resultaatgericht against uren for household help.

What it shows and how it is computed:
- Coverage: per year how many gemeenten have a known method in out.gemeente_periode
  (werkwijze_hbh on 1 July; NULL = onbekend, never 'uren') and how many register rows of
  core.werkwijze vouch for that 1 July.
- Distributions per year and pooled trends per method group (pooling as on Vergelijken:
  sum of numerators over sum of denominators, with n of N).
- Adjusted comparison for one year: OLS of the gemeente's figure on a resultaatgericht dummy
  (uren = 0; onbekend left out), aandeel_75plus and log(inwoners), with heteroskedasticity-
  robust HC1 standard errors and a 95% interval from Student's t with n - k degrees of freedom.
  The raw difference is the same model without the two controls. Every gemeente counts once
  (unweighted): the question is about gemeenten' policies, not about clients.
- Before/after: gemeenten whose known method changed from one known year to the next; their
  figure in the years before against the years after, with the national figure beside it:
  CBS's own count (core.wmo_clienten_regio, NL01) over all inhabitants where CBS publishes the
  measure, else the pooled sum over the gemeenten with figures, named as pooled.
- Sources: every register row with its kind of source (bron_type). With bronnen='sterk' every
  section above uses werkwijze_hbh_sterke_bron instead (only court rulings and regulations;
  a gemeente documented only by weaker sources counts as onbekend), so a reader can see
  whether a result depends on news-based rows.

No statsmodels/scipy: the estimator and the t quantile are small numpy/stdlib functions here,
tested against closed forms.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import altair as alt
import numpy as np
import polars as pl

from dashboard import catalog, fmt, tables
from dashboard.charts import WERKWIJZE_COLOURS, fmt_number, line_label_expr, titled
from dashboard.db import Database
from dashboard.i18n import section, tr
from dashboard.measures import Measure
from dashboard.views import vergelijken
from dashboard.views.vergelijken import Spec, chart_size, finish, template_of, with_basis_line
from etl import bron_type

TEXTS = section("werkwijze")

MAAT_KEYS = vergelijken.MAAT_KEYS
MAATEN = vergelijken.MAATEN
BRONNEN = vergelijken.BRONNEN
DEFAULT_MAAT = "hbh_per_1000"
DEFAULT_VOORZIENING = catalog.HBH
SMALL_N = 10
LEVEL = 0.95
GROUPS: tuple[str, str] = ("resultaatgericht", "uren")
DEFAULT_BRONNEN = "alle"
# The column of out.gemeente_periode each selection reads; SQL text only ever comes from here.
WERKWIJZE_KOLOM: dict[str, str] = {"alle": "werkwijze_hbh", "sterk": "werkwijze_hbh_sterke_bron"}
HO = "huishoudelijke_ondersteuning"
MODEL_LABEL_WIDTH = 120  # px of a line of the model names beside the estimate chart


# --- estimator ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class OlsFit:
    """Coefficients with HC1 standard errors; df = n - k for the t interval."""

    coef: np.ndarray
    se: np.ndarray
    n: int
    k: int

    @property
    def df(self) -> int:
        return self.n - self.k

    def interval(self, index: int, level: float = LEVEL) -> tuple[float, float]:
        half = t_quantile(0.5 + level / 2, self.df) * float(self.se[index])
        return float(self.coef[index]) - half, float(self.coef[index]) + half


class NotEstimable(ValueError):
    """The design matrix cannot give an estimate (too few rows or collinear columns)."""


def ols_hc1(x: np.ndarray, y: np.ndarray) -> OlsFit:
    """Least squares of y on the columns of x (include the constant yourself) with
    heteroskedasticity-robust HC1 covariance: n/(n-k) (X'X)^-1 X' diag(e^2) X (X'X)^-1."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    n, k = x.shape
    if n <= k:
        raise NotEstimable("few")
    if np.linalg.matrix_rank(x) < k:
        raise NotEstimable("collinear")
    xtx_inv = np.linalg.inv(x.T @ x)
    coef = xtx_inv @ (x.T @ y)
    resid = y - x @ coef
    meat = (x * resid[:, None] ** 2).T @ x
    cov = n / (n - k) * xtx_inv @ meat @ xtx_inv
    return OlsFit(coef, np.sqrt(np.clip(np.diag(cov), 0.0, None)), n, k)


@lru_cache(maxsize=256)
def t_quantile(p: float, df: int) -> float:
    """Quantile of Student's t with `df` degrees of freedom (bisection on the exact CDF)."""
    if df <= 0:
        return math.nan
    if p == 0.5:
        return 0.0
    if p < 0.5:
        return -t_quantile(1 - p, df)
    lo, hi = 0.0, 1.0
    while t_cdf(hi, df) < p:
        hi *= 2
    for _ in range(200):
        mid = (lo + hi) / 2
        if t_cdf(mid, df) < p:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-12 * max(1.0, hi):
            break
    return (lo + hi) / 2


def t_cdf(t: float, df: int) -> float:
    """P(T <= t) via the regularised incomplete beta function."""
    tail = 0.5 * _betainc(df / 2, 0.5, df / (df + t * t))
    return 1 - tail if t >= 0 else tail


def _betainc(a: float, b: float, x: float) -> float:
    """Regularised incomplete beta I_x(a, b) by its continued fraction (Numerical Recipes)."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                     + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1) / (a + b + 2):
        return front * _betacf(a, b, x) / a
    return 1 - front * _betacf(b, a, 1 - x) / b


def _betacf(a: float, b: float, x: float) -> float:
    tiny, eps = 1e-300, 1e-15
    qab, qap, qam = a + b, a + 1, a - 1
    c, d = 1.0, 1 - qab * x / qap
    d = 1 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 500):
        m2 = 2 * m
        for num in (m * (b - m) * x / ((qam + m2) * (a + m2)),
                    -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))):
            d = 1 + num * d
            d = 1 / (d if abs(d) > tiny else tiny)
            c = 1 + num / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1) < eps:
            break
    return h


# --- adjusted comparison -----------------------------------------------------------------------

@dataclass(frozen=True)
class Estimate:
    verschil: float
    se: float
    lo: float
    hi: float


@dataclass(frozen=True)
class Comparison:
    n_res: int
    n_uren: int
    n_missing: int  # known method but no figure (or no size figures)
    raw: Estimate | None
    adjusted: Estimate | None
    reason: str | None = None  # why there is no estimate: 'group', 'few', 'collinear'

    @property
    def small(self) -> bool:
        return min(self.n_res, self.n_uren) < SMALL_N


def usable_rows(frame: pl.DataFrame) -> pl.DataFrame:
    """Rows with a known method group and a figure, share 75+ and population to model."""
    return frame.filter(pl.col("werkwijze").is_in(GROUPS) & pl.col("waarde").is_not_null()
                        & pl.col("aandeel_75plus").is_not_null()
                        & pl.col("inwoners").is_not_null() & (pl.col("inwoners") > 0))


def compare_groups(frame: pl.DataFrame) -> Comparison:
    """Raw and adjusted difference resultaatgericht - uren over one year's gemeenten.

    `frame` needs werkwijze, waarde, aandeel_75plus and inwoners; rows with onbekend werkwijze
    are ignored, rows with an unknown figure or size are counted in n_missing."""
    known = frame.filter(pl.col("werkwijze").is_in(GROUPS))
    usable = usable_rows(known)
    d = (usable["werkwijze"] == "resultaatgericht").cast(pl.Float64).to_numpy()
    n_res, n_uren = int(d.sum()), int(len(d) - d.sum())
    missing = known.height - usable.height
    if n_res == 0 or n_uren == 0:
        return Comparison(n_res, n_uren, missing, None, None, "group")
    y = usable["waarde"].to_numpy().astype(float)
    ones = np.ones_like(d)
    designs = {
        "raw": np.column_stack([ones, d]),
        "adjusted": np.column_stack([ones, d, usable["aandeel_75plus"].to_numpy(),
                                     np.log(usable["inwoners"].to_numpy().astype(float))]),
    }
    estimates: dict[str, Estimate | None] = {}
    reason = None
    for name, x in designs.items():
        try:
            fit = ols_hc1(x, y)
        except NotEstimable as exc:
            estimates[name], reason = None, str(exc)
            continue
        lo, hi = fit.interval(1)
        estimates[name] = Estimate(float(fit.coef[1]), float(fit.se[1]), lo, hi)
    return Comparison(n_res, n_uren, missing, estimates["raw"], estimates["adjusted"], reason)


def year_frame(db: Database, maat: str, voorziening: str,
               bronnen: str = DEFAULT_BRONNEN) -> pl.DataFrame:
    """One row per gemeente and whole year with waarde, werkwijze (as documented by
    `bronnen`) and the size figures."""
    return vergelijken.with_bronnen(vergelijken.measure_frame(db, maat, voorziening, "jaar"),
                                    bronnen)


def comparison(db: Database, maat: str, voorziening: str, jaar: int,
               bronnen: str = DEFAULT_BRONNEN) -> Comparison:
    return db.memo(("werkwijze_cmp", maat, voorziening, jaar, bronnen), lambda: compare_groups(
        year_frame(db, maat, voorziening, bronnen).filter(pl.col("jaar") == jaar)))


def comparison_members(db: Database, maat: str, voorziening: str, jaar: int,
                       bronnen: str = DEFAULT_BRONNEN) -> pl.DataFrame:
    """code, werkwijze of the gemeenten the comparison of `jaar` uses (the same filter as
    compare_groups): who is in each group under a selection of sources."""
    frame = year_frame(db, maat, voorziening, bronnen).filter(pl.col("jaar") == jaar)
    return usable_rows(frame).select("code", "werkwijze").sort("code")


def comparisons_by_year(db: Database, maat: str, voorziening: str,
                        bronnen: str = DEFAULT_BRONNEN) -> pl.DataFrame:
    """jaar, verschil, lo, hi, n_res, n_uren, klein for every year with an adjusted estimate,
    and gepoold: the same year's difference per inhabitant over the same gemeenten (TwoWays)."""
    def compute() -> pl.DataFrame:
        rows = []
        for jaar in sorted(year_frame(db, maat, voorziening, bronnen)["jaar"].unique().to_list()):
            cmp = comparison(db, maat, voorziening, int(jaar), bronnen)
            if cmp.adjusted is not None:
                ways = two_ways(db, MAATEN[maat], voorziening, int(jaar), bronnen)
                rows.append({"jaar": int(jaar), "verschil": cmp.adjusted.verschil,
                             "lo": cmp.adjusted.lo, "hi": cmp.adjusted.hi,
                             "n_res": cmp.n_res, "n_uren": cmp.n_uren, "klein": cmp.small,
                             "gepoold": None if ways is None else ways.per_inwoner})
        return pl.DataFrame(rows, schema={"jaar": pl.Int64, "verschil": pl.Float64,
                                          "lo": pl.Float64, "hi": pl.Float64,
                                          "n_res": pl.Int64, "n_uren": pl.Int64,
                                          "klein": pl.Boolean, "gepoold": pl.Float64})
    return db.memo(("werkwijze_years", maat, voorziening, bronnen), compute)


@dataclass(frozen=True)
class TwoWays:
    """One year's two groups counted two ways, over the very gemeenten the comparison uses.

    Per gemeente every gemeente counts once: the mean of their figures (whose difference is the
    raw difference of the comparison). Per inhabitant the group's clients and inhabitants are
    added up first: per × sum(teller) / sum(noemer), in which a large gemeente weighs more.
    The two can differ, even in sign, when large and small gemeenten of a group differ."""

    n_res: int
    n_uren: int
    gemeente_res: float
    gemeente_uren: float
    inwoner_res: float | None
    inwoner_uren: float | None
    # What the group's figure is per: the measure's denominator (inwoners, clienten, ...).
    per_what: str = "inwoners"

    @property
    def per_gemeente(self) -> float:
        return self.gemeente_res - self.gemeente_uren

    @property
    def per_inwoner(self) -> float | None:
        if self.inwoner_res is None or self.inwoner_uren is None:
            return None
        return self.inwoner_res - self.inwoner_uren


def counted_two_ways(frame: pl.DataFrame, per: float, per_what: str = "inwoners"
                     ) -> TwoWays | None:
    """TwoWays over usable_rows(frame) (werkwijze, waarde, teller, noemer, aandeel_75plus,
    inwoners); None when a group has no gemeente."""
    usable = usable_rows(frame)
    groups = {}
    for group in GROUPS:
        rows = usable.filter(pl.col("werkwijze") == group)
        if rows.is_empty():
            return None
        both = rows.filter(pl.col("teller").is_not_null() & pl.col("noemer").is_not_null())
        total = float(both["noemer"].sum()) if both.height else 0.0
        pooled = per * float(both["teller"].sum()) / total if total > 0 else None
        groups[group] = (rows.height, float(rows["waarde"].mean()), pooled)
    (n_res, g_res, i_res), (n_uren, g_uren, i_uren) = groups["resultaatgericht"], groups["uren"]
    return TwoWays(n_res, n_uren, g_res, g_uren, i_res, i_uren, per_what)


def two_ways(db: Database, maat: Measure, voorziening: str, jaar: int,
             bronnen: str = DEFAULT_BRONNEN) -> TwoWays | None:
    return db.memo(("werkwijze_two_ways", maat.key, voorziening, jaar, bronnen),
                   lambda: counted_two_ways(year_frame(db, maat.key, voorziening, bronnen)
                                            .filter(pl.col("jaar") == jaar), maat.per,
                                            maat.noemer))


def signed(value: float | None, lang: str, decimals: int = 2) -> str:
    """'+4,15', '-1,00', '–' when unknown: a difference reads with its sign."""
    text = fmt_number(value, lang, decimals)
    return f"+{text}" if value is not None and value > 0 and text[0].isdigit() else text


def two_ways_text(ways: TwoWays | None, cmp: Comparison, jaar_label: str, lang: str,
                  decimals: int = 2) -> str:
    """Both differences side by side, with why they can disagree (one sentence)."""
    if ways is None:
        return ""
    def f(value: float | None) -> str:
        return fmt_number(value, lang, decimals)
    adjusted = signed(cmp.adjusted.verschil if cmp.adjusted else None, lang, decimals)
    return tr("two_ways", lang, TEXTS, jaar=jaar_label, n_res=ways.n_res, n_uren=ways.n_uren,
              g_res=f(ways.gemeente_res), g_uren=f(ways.gemeente_uren),
              g_verschil=signed(ways.per_gemeente, lang, decimals), gecorrigeerd=adjusted,
              i_res=f(ways.inwoner_res), i_uren=f(ways.inwoner_uren),
              i_verschil=signed(ways.per_inwoner, lang, decimals),
              samen=tr(f"samen_{ways.per_what}", lang, TEXTS)) + " " + tr(
        "two_ways_why", lang, TEXTS)


def estimate_table(cmp: Comparison, lang: str, decimals: int = 2,
                   ways: TwoWays | None = None) -> pl.DataFrame:
    """Raw and adjusted difference per gemeente with their intervals and, given `ways`, the
    difference per inhabitant (pooled; no interval) beside them; `telt` says which."""
    rows = []
    gemeenten, inwoners = tr("telt_gemeenten", lang, TEXTS), tr("telt_groep", lang, TEXTS)
    for key, est in (("raw", cmp.raw), ("adjusted", cmp.adjusted)):
        if est is not None:
            rows.append({"model": tr(key, lang, TEXTS), "verschil": est.verschil, "lo": est.lo,
                         "hi": est.hi, "telt": gemeenten,
                         "label": f"{fmt_number(est.verschil, lang, decimals)} "
                                  f"({fmt_number(est.lo, lang, decimals)} – "
                                  f"{fmt_number(est.hi, lang, decimals)})"})
    if ways is not None and ways.per_inwoner is not None:
        rows.append({"model": tr("pooled_row", lang, TEXTS), "verschil": ways.per_inwoner,
                     "lo": None, "hi": None, "telt": inwoners,
                     "label": fmt_number(ways.per_inwoner, lang, decimals)})
    return pl.DataFrame(rows, schema={"model": pl.String, "verschil": pl.Float64,
                                      "lo": pl.Float64, "hi": pl.Float64, "telt": pl.String,
                                      "label": pl.String})


def estimate_display(cmp: Comparison, lang: str, decimals: int = 2,
                     ways: TwoWays | None = None) -> tables.Table:
    """estimate_table as the chart's table alternative: the numbers with the label's places."""
    return tables.display(estimate_table(cmp, lang, decimals, ways), lang, decimals)


def estimate_chart(cmp: Comparison, title: str, source: str, subtitle: str, unit: str,
                   lang: str, export: bool = False, ways: TwoWays | None = None,
                   decimals: int = 2) -> Spec:
    """Point-range: raw and adjusted difference with their 95% intervals (each gemeente once)
    and the pooled difference per inhabitant beside them, zero marked; a subtitle line says
    which row counts what, so the PNG carries it too."""
    rows = estimate_table(cmp, lang, decimals, ways)
    return finish(_estimate_template(lang, export), {
        "@title": title, "@subtitle": subtitle, "@source": source,
        "@basis": tr("basis_estimate" if ways is not None else "basis_gemeenten", lang, TEXTS),
        "@xtitle": f"{tr('verschil', lang, TEXTS)} ({unit})"},
        {"schatting": rows.drop("lo", "hi"),
         "interval": rows.filter(pl.col("lo").is_not_null()),
         "nul": pl.DataFrame({"x": [0.0]})})


@lru_cache(maxsize=8)
def _estimate_template(lang: str, export: bool) -> Spec:
    order = [tr("raw", lang, TEXTS), tr("adjusted", lang, TEXTS), tr("pooled_row", lang, TEXTS)]
    # The model names on lines of a phone's third, so that the plot keeps its width.
    y = alt.Y("model:N", sort=order, title=None, axis=alt.Axis(
        labelLimit=2 * MODEL_LABEL_WIDTH,
        labelExpr=line_label_expr(order, MODEL_LABEL_WIDTH, 14)))
    telt = [tr("telt_gemeenten", lang, TEXTS), tr("telt_groep", lang, TEXTS)]
    # Told apart by shape as well as colour: a diamond per gemeente, a square per inhabitant.
    colour = alt.Color("telt:N", title=tr("telt", lang, TEXTS), scale=alt.Scale(
        domain=telt, range=["#0072B2", "#444444"]), legend=alt.Legend(
            orient="bottom", direction="vertical", labelLimit=vergelijken.LEGEND_LABEL_LIMIT,
            labelExpr=line_label_expr(telt, vergelijken.LEGEND_LABEL_WIDTH, 11)))
    shape = alt.Shape("telt:N", title=tr("telt", lang, TEXTS), scale=alt.Scale(
        domain=telt, range=["diamond", "square"]))
    data = alt.NamedData("schatting")
    ranges = alt.Chart(alt.NamedData("interval")).mark_rule(
        strokeWidth=3, color="#0072B2").encode(y=y, x=alt.X("lo:Q", title="@xtitle"), x2="hi:Q")
    points = alt.Chart(data).mark_point(filled=True, size=120, opacity=1).encode(
        y=y, x=alt.X("verschil:Q", title="@xtitle"), color=colour, shape=shape,
        tooltip=[alt.Tooltip("model:N", title=tr("model", lang, TEXTS)),
                 alt.Tooltip("telt:N", title=tr("telt", lang, TEXTS)),
                 alt.Tooltip("label:N", title=tr("schatting", lang, TEXTS))])
    labels = alt.Chart(data).mark_text(dy=-14, fontSize=11).encode(
        y=y, x="verschil:Q", text="label:N")
    zero = alt.Chart(alt.NamedData("nul")).mark_rule(
        strokeDash=[4, 3], color="#444444").encode(x="x:Q")
    chart = alt.layer(zero, ranges, points, labels).properties(**chart_size(export, 240, 220))
    return with_basis_line(template_of(titled(chart, "@title", "@source", "@subtitle")))


def years_chart(frame: pl.DataFrame, title: str, source: str, subtitle: str, unit: str,
                lang: str, export: bool = False) -> Spec:
    """Adjusted difference per year with intervals; small-n years drawn differently."""
    ok, small = (tr("voldoende", lang, TEXTS, min=SMALL_N), tr("klein", lang, TEXTS, min=SMALL_N))
    labels = [f"{fmt_number(v, lang, 2)} ({fmt_number(lo, lang, 2)} – {fmt_number(hi, lang, 2)})"
              for v, lo, hi in frame.select("verschil", "lo", "hi").iter_rows()]
    data = frame.with_columns(
        groepsgrootte=pl.when(pl.col("klein")).then(pl.lit(small)).otherwise(pl.lit(ok)),
        jaar=pl.col("jaar").cast(pl.String),
        label=pl.Series(labels, dtype=pl.String)).drop("klein")
    return finish(_years_template(lang, export), {
        "@title": title, "@subtitle": subtitle, "@source": source,
        "@basis": tr("basis_years", lang, TEXTS),
        "@ytitle": f"{tr('verschil', lang, TEXTS)} ({unit})"},
        {"jaren": data, "nul": pl.DataFrame({"y": [0.0]})})


@lru_cache(maxsize=8)
def _years_template(lang: str, export: bool) -> Spec:
    ok, small = (tr("voldoende", lang, TEXTS, min=SMALL_N), tr("klein", lang, TEXTS, min=SMALL_N))
    x = alt.X("jaar:O", title=None, axis=alt.Axis(labelAngle=0))
    legend_title = tr("betrouwbaarheid", lang, TEXTS)
    shape = alt.Shape("groepsgrootte:N", title=legend_title,
                      scale=alt.Scale(domain=[ok, small], range=["circle", "triangle-up"]))
    fill_ = alt.Fill("groepsgrootte:N", title=legend_title,
                     scale=alt.Scale(domain=[ok, small], range=["#0072B2", "#ffffff"]))
    data = alt.NamedData("jaren")
    ranges = alt.Chart(data).mark_rule(strokeWidth=2, color="#0072B2").encode(
        x=x, y=alt.Y("lo:Q", title="@ytitle"), y2="hi:Q")
    points = alt.Chart(data).mark_point(size=90, stroke="#0072B2", strokeWidth=1.5,
                                        opacity=1).encode(
        x=x, y="verschil:Q", shape=shape, fill=fill_,
        tooltip=[alt.Tooltip("jaar:N", title=tr("jaar", lang, TEXTS)),
                 alt.Tooltip("label:N", title=tr("schatting", lang, TEXTS)),
                 alt.Tooltip("n_res:Q", title=tr("n_res", lang, TEXTS)),
                 alt.Tooltip("n_uren:Q", title=tr("n_uren", lang, TEXTS))])
    zero = alt.Chart(alt.NamedData("nul")).mark_rule(
        strokeDash=[4, 3], color="#444444").encode(y="y:Q")
    # Beside each year's estimate: the same gemeenten counted per inhabitant (no interval).
    pooled = alt.Chart(data).mark_point(shape="square", filled=True, size=45, color="#444444",
                                        xOffset=12, opacity=1).encode(
        x=x, y="gepoold:Q",
        tooltip=[alt.Tooltip("jaar:N", title=tr("jaar", lang, TEXTS)),
                 alt.Tooltip("gepoold:Q", title=tr("gepoold", lang, TEXTS), format=".2f")])
    chart = alt.layer(zero, ranges, points, pooled).properties(
        **chart_size(export, 280, 260))
    return with_basis_line(template_of(titled(chart, "@title", "@source", "@subtitle")))


def years_table(frame: pl.DataFrame, lang: str) -> tables.Table:
    """The years chart as a table, with the places of its labels."""
    return tables.display(frame.select(
        pl.col("jaar").alias(tr("jaar", lang, TEXTS)),
        pl.col("verschil").alias(tr("schatting", lang, TEXTS)),
        pl.col("lo").alias(tr("ondergrens", lang, TEXTS)),
        pl.col("hi").alias(tr("bovengrens", lang, TEXTS)),
        pl.col("n_res").alias(tr("n_res", lang, TEXTS)),
        pl.col("n_uren").alias(tr("n_uren", lang, TEXTS)),
        pl.col("gepoold").alias(tr("gepoold", lang, TEXTS))), lang, 2)


# --- coverage ----------------------------------------------------------------------------------

def coverage(db: Database, bronnen: str = DEFAULT_BRONNEN) -> pl.DataFrame:
    """jaar, werkwijze (incl. onbekend), gemeenten: counts per whole year, every method listed,
    with the werkwijze column of `bronnen`."""
    kolom = WERKWIJZE_KOLOM[bronnen]

    def compute() -> pl.DataFrame:
        counts = db.query(
            f"SELECT jaar, coalesce({kolom}, 'onbekend') AS werkwijze, "
            "count(*) AS gemeenten FROM out.gemeente_periode "
            "WHERE voorziening_code = ? AND halfjaar IS NULL GROUP BY ALL", [catalog.TOTAAL])
        grid = counts.select("jaar").unique().join(
            pl.DataFrame({"werkwijze": list(vergelijken.WERKWIJZEN)}), how="cross")
        return grid.join(counts, on=["jaar", "werkwijze"], how="left").with_columns(
            pl.col("gemeenten").fill_null(0)).sort(
            "jaar", pl.col("werkwijze").replace_strict(
                {w: i for i, w in enumerate(vergelijken.WERKWIJZEN)}, default=9))
    return db.memo(("werkwijze_coverage", bronnen), compute)


def bron_types_of(bronnen: str) -> list[str]:
    """The bron_type codes a selection admits."""
    return list(bron_type.STERKE_BRON_TYPES if bronnen == "sterk" else bron_type.BRON_TYPES)


def register_counts(db: Database, bronnen: str = DEFAULT_BRONNEN) -> pl.DataFrame:
    """jaar, bronregels: household-help rows of core.werkwijze in the selection that vouch for
    1 July of jaar (the same reference day as werkwijze_hbh)."""
    def compute() -> pl.DataFrame:
        return db.query(
            "SELECT p.jaar, count(w.regel) AS bronregels, "
            "count(DISTINCT w.gemeente_code) AS register_gemeenten "
            "FROM (SELECT DISTINCT jaar FROM core.periode WHERE halfjaar IS NULL) p "
            "LEFT JOIN core.werkwijze w ON w.voorziening = 'huishoudelijke_ondersteuning' "
            "AND list_contains(?, w.bron_type) "
            "AND w.ingang_effectief <= make_date(p.jaar, 7, 1) "
            "AND (w.einde_effectief IS NULL OR w.einde_effectief > make_date(p.jaar, 7, 1)) "
            "GROUP BY p.jaar ORDER BY p.jaar", [bron_types_of(bronnen)])
    return db.memo(("werkwijze_register_counts", bronnen), compute)


def register_totals(db: Database, bronnen: str = DEFAULT_BRONNEN) -> tuple[int, int]:
    """(rows, distinct gemeente codes) of the register for household help in the selection."""
    def compute() -> tuple[int, int]:
        row = db.query("SELECT count(*) AS n, count(DISTINCT gemeente_code) AS g "
                       "FROM core.werkwijze WHERE voorziening = 'huishoudelijke_ondersteuning' "
                       "AND list_contains(?, bron_type)", [bron_types_of(bronnen)]).row(0)
        return int(row[0]), int(row[1])
    return db.memo(("werkwijze_register_totals", bronnen), compute)


def group_counts(db: Database, jaar: int, bronnen: str) -> tuple[int, int]:
    """(resultaatgericht, uren): gemeenten with that known method in `jaar` (coverage)."""
    cov = coverage(db, bronnen).filter(pl.col("jaar") == jaar)
    counts = dict(zip(cov["werkwijze"], cov["gemeenten"], strict=True))
    return int(counts.get("resultaatgericht", 0)), int(counts.get("uren", 0))


def selection_text(db: Database, jaar: int, jaar_label: str, bronnen: str, lang: str) -> str:
    """Which selection is active and how many gemeenten each group has, beside the other
    selection's counts so the difference is visible at once."""
    n_res, n_uren = group_counts(db, jaar, bronnen)
    other = "alle" if bronnen == "sterk" else "sterk"
    ander_res, ander_uren = group_counts(db, jaar, other)
    return tr(f"selection_{bronnen}", lang, TEXTS, jaar=jaar_label, n_res=n_res, n_uren=n_uren,
              ander_res=ander_res, ander_uren=ander_uren)


def robustness_text(db: Database, maat: str, voorziening: str, jaar: int, jaar_label: str,
                    lang: str) -> str:
    """The adjusted difference of `jaar` under both selections side by side, so the reader
    sees at once whether the result leans on the weaker sources."""
    parts = {b: _estimate_words(comparison(db, maat, voorziening, jaar, b), lang)
             for b in BRONNEN}
    return tr("robustness", lang, TEXTS, jaar=jaar_label, **parts)


def _estimate_words(cmp: Comparison, lang: str) -> str:
    if cmp.adjusted is None:
        return tr("robustness_none", lang, TEXTS, n_res=cmp.n_res, n_uren=cmp.n_uren)
    est = cmp.adjusted
    return tr("robustness_value", lang, TEXTS, schatting=fmt_number(est.verschil, lang, 2),
              lo=fmt_number(est.lo, lang, 2), hi=fmt_number(est.hi, lang, 2),
              n_res=cmp.n_res, n_uren=cmp.n_uren)


def bronnen_label(bronnen: str, lang: str) -> str:
    return tr(f"bronnen_{bronnen}", lang, TEXTS)


# --- sources -----------------------------------------------------------------------------------

def register_sources(db: Database, bronnen: str = DEFAULT_BRONNEN) -> pl.DataFrame:
    """Household-help rows of core.werkwijze in the selection, with the name of the code."""
    return db.memo(("werkwijze_sources", bronnen), lambda: db.query(
        "SELECT w.gemeente_code, g.gemeente_naam, w.werkwijze, w.geldig_vanaf, w.geldig_tot, "
        "w.peildatum, w.bron_type, w.bron_omschrijving, w.bron_url, w.regel "
        "FROM core.werkwijze w LEFT JOIN core.gemeente g USING (gemeente_code) "
        "WHERE w.voorziening = ? AND list_contains(?, w.bron_type) "
        "ORDER BY g.gemeente_naam, w.gemeente_code, w.regel", [HO, bron_types_of(bronnen)]))


def sources_table(rows: pl.DataFrame, lang: str) -> pl.DataFrame:
    """Register rows for display: the bron_type label sits beside the source. Descriptions
    and URLs stay plain values (shown as text and as a link column, never as markdown);
    bron_omschrijving and bron_url keep their names for the page's column config."""
    werkwijzen = {w: vergelijken.werkwijze_label(w, lang) for w in vergelijken.WERKWIJZEN}
    return rows.select(
        gemeente=pl.coalesce("gemeente_naam", "gemeente_code") + " (" + pl.col("gemeente_code")
        + ")",
        werkwijze=pl.col("werkwijze").replace_strict(werkwijzen, default=pl.col("werkwijze")),
        geldig_vanaf=pl.col("geldig_vanaf"),  # dates: written by tables.display
        geldig_tot=pl.col("geldig_tot"),
        peildatum=pl.col("peildatum").map_elements(lambda v: fmt.date(v, lang),
                                                   return_dtype=pl.String),
        bron_type=pl.col("bron_type").replace_strict(bron_type_labels(lang),
                                                     default=pl.col("bron_type")),
        bron_omschrijving=pl.col("bron_omschrijving"),
        bron_url=pl.col("bron_url"),
        regel=pl.col("regel"),
    )


def bron_type_labels(lang: str) -> dict[str, str]:
    return {code: bron_type.label(code, lang) for code in bron_type.BRON_TYPES}


def source_column_labels(lang: str) -> dict[str, str]:
    """Column headers of sources_table for the page's column config."""
    keys = {"gemeente": "col_gemeente", "werkwijze": "werkwijze", "geldig_vanaf": "col_vanaf",
            "geldig_tot": "col_tot", "peildatum": "col_peildatum", "bron_type": "col_bron_type",
            "bron_omschrijving": "col_omschrijving", "bron_url": "col_bron",
            "regel": "col_regel"}
    return {c: tr(k, lang, TEXTS) for c, k in keys.items()}


def bron_type_summary(rows: pl.DataFrame, lang: str) -> pl.DataFrame:
    """Rows and gemeente codes per kind of source, in the order of etl.bron_type, with the
    stronger ones marked; kinds without rows are left out."""
    order = {code: i for i, code in enumerate(bron_type.BRON_TYPES)}
    counts = rows.group_by("bron_type").agg(regels=pl.len(),
                                            gemeenten=pl.col("gemeente_code").n_unique())
    counts = counts.sort(pl.col("bron_type").replace_strict(order, default=len(order)))
    return pl.DataFrame({
        tr("col_bron_type", lang, TEXTS): [bron_type.label(c, lang) for c in counts["bron_type"]],
        tr("col_sterk", lang, TEXTS): [tr("ja" if bron_type.is_sterk(c) else "nee", lang, TEXTS)
                                       for c in counts["bron_type"]],
        tr("col_regels", lang, TEXTS): counts["regels"],
        tr("col_gemeenten", lang, TEXTS): counts["gemeenten"],
    })


def coverage_chart(cov: pl.DataFrame, reg: pl.DataFrame, title: str, source: str,
                   subtitle: str, lang: str, export: bool = False) -> Spec:
    """Stacked horizontal bars per year with counts inside and register rows at the end."""
    labels = {w: vergelijken.werkwijze_label(w, lang) for w in vergelijken.WERKWIJZEN}
    data = cov.with_columns(
        jaar=pl.col("jaar").cast(pl.String),
        werkwijze_label=pl.col("werkwijze").replace_strict(labels),
        volg=pl.col("werkwijze").replace_strict(
            {w: i for i, w in enumerate(vergelijken.WERKWIJZEN)}),
    ).with_columns(
        eind=pl.col("gemeenten").cum_sum().over("jaar", order_by="volg"),
    ).with_columns(start=pl.col("eind") - pl.col("gemeenten"),
                   midden=pl.col("eind") - pl.col("gemeenten") / 2)
    total = int(data.group_by("jaar").agg(pl.col("gemeenten").sum())["gemeenten"].max() or 0)
    reg_data = reg.select(jaar=pl.col("jaar").cast(pl.String), tekst=pl.format(
        "{} {}", "bronregels", pl.lit(tr("bronregels", lang, TEXTS))), x=pl.lit(total))
    years = data["jaar"].n_unique()
    # Streamlit fits title, axis and legend inside the height, hence the fixed extra.
    height = 26 * years if export else 220 + 30 * years
    # Small segments are too narrow for a number; the table and tooltip still carry them.
    return finish(_coverage_template(lang, export), {
        "@title": title, "@subtitle": subtitle, "@source": source,
        "@basis": tr("basis_coverage", lang, TEXTS)},
        {"dekking": data, "dekking_tekst": data.filter(pl.col("gemeenten") >= 8),
         "bronregels": reg_data}, height=height)


@lru_cache(maxsize=8)
def _coverage_template(lang: str, export: bool) -> Spec:
    labels = {w: vergelijken.werkwijze_label(w, lang) for w in vergelijken.WERKWIJZEN}
    domain = [labels[w] for w in vergelijken.WERKWIJZEN]
    y = alt.Y("jaar:O", title=None, sort="descending")
    colour = alt.Color("werkwijze_label:N", title=tr("werkwijze", lang, TEXTS),
                       scale=alt.Scale(domain=domain,
                                       range=[WERKWIJZE_COLOURS[w] for w in
                                              vergelijken.WERKWIJZEN]),
                       legend=alt.Legend(orient="bottom"))
    bars = alt.Chart(alt.NamedData("dekking")).mark_bar(stroke="#ffffff", strokeWidth=1).encode(
        y=y, x=alt.X("eind:Q", title=tr("aantal", lang, TEXTS)),
        x2=alt.X2("start:Q"), color=colour,
        tooltip=[alt.Tooltip("jaar:N", title=tr("jaar", lang, TEXTS)),
                 alt.Tooltip("werkwijze_label:N", title=tr("werkwijze", lang, TEXTS)),
                 alt.Tooltip("gemeenten:Q", title=tr("aantal", lang, TEXTS))])
    inside = alt.Chart(alt.NamedData("dekking_tekst")).mark_text(
        fontSize=10, color="#000000").encode(y=y, x="midden:Q", text="gemeenten:Q")
    right = alt.Chart(alt.NamedData("bronregels")).mark_text(
        align="left", dx=6, fontSize=10, color="#444444").encode(y=y, x="x:Q", text="tekst:N")
    chart = alt.layer(bars, inside, right).properties(**chart_size(export, 280, 260))
    return with_basis_line(template_of(titled(chart, "@title", "@source", "@subtitle")))


def coverage_table(cov: pl.DataFrame, reg: pl.DataFrame, lang: str) -> pl.DataFrame:
    wide = cov.pivot(on="werkwijze", index="jaar", values="gemeenten").select(
        "jaar", *vergelijken.WERKWIJZEN)
    return wide.join(reg.select("jaar", "bronregels"), on="jaar", how="left").sort("jaar").rename(
        {"jaar": tr("jaar", lang, TEXTS),
         **{w: vergelijken.werkwijze_label(w, lang) for w in vergelijken.WERKWIJZEN},
         "bronregels": tr("bronregels", lang, TEXTS)})


# --- distributions -----------------------------------------------------------------------------

def distribution_stats(frame: pl.DataFrame) -> pl.DataFrame:
    """jaar, werkwijze, n, laagste, q1, mediaan, q3, hoogste over the gemeenten with a figure,
    and gepoold: the same gemeenten counted per inhabitant (PER * sum teller / sum noemer),
    which can lie far from the median when large gemeenten differ from small ones.

    The chart is drawn from these few numbers rather than from every gemeente, so a rerun
    ships 30 rows instead of 3 400."""
    return (frame.drop_nulls("waarde").group_by("jaar", "werkwijze").agg(
        n=pl.len(), laagste=pl.col("waarde").min(),
        q1=pl.col("waarde").quantile(0.25, "linear"), mediaan=pl.col("waarde").median(),
        q3=pl.col("waarde").quantile(0.75, "linear"), hoogste=pl.col("waarde").max(),
        gepoold=vergelijken.PER * pl.col("teller").sum() / pl.col("noemer").sum())
        .sort("jaar", pl.col("werkwijze").replace_strict(
            {w: i for i, w in enumerate(vergelijken.WERKWIJZEN)})))


def distribution_for(db: Database, maat: str, voorziening: str,
                     bronnen: str = DEFAULT_BRONNEN) -> pl.DataFrame:
    return db.memo(("werkwijze_distribution", maat, voorziening, bronnen),
                   lambda: distribution_stats(year_frame(db, maat, voorziening, bronnen)))


def distribution_chart(stats: pl.DataFrame, title: str, source: str, subtitle: str, unit: str,
                       lang: str) -> Spec:
    """Per year a line from lowest to highest, a box for the middle half and a tick for the
    median; one panel per method (the panel title names it, not the colour)."""
    labels = {w: vergelijken.werkwijze_label(w, lang) for w in vergelijken.WERKWIJZEN}
    data = stats.with_columns(jaar=pl.col("jaar").cast(pl.String),
                              werkwijze=pl.col("werkwijze").replace_strict(labels))
    return finish(_distribution_template(lang), {
        "@title": title, "@subtitle": subtitle, "@source": source, "@unit": unit,
        "@basis": tr("basis_distribution", lang, TEXTS)},
        {"verdeling": data})


@lru_cache(maxsize=8)
def _distribution_template(lang: str) -> Spec:
    labels = {w: vergelijken.werkwijze_label(w, lang) for w in vergelijken.WERKWIJZEN}
    domain = [labels[w] for w in vergelijken.WERKWIJZEN]
    colour = alt.Color("werkwijze:N", scale=alt.Scale(
        domain=domain, range=[WERKWIJZE_COLOURS[w] for w in vergelijken.WERKWIJZEN]),
        legend=None)
    x = alt.X("jaar:O", title=None)
    tooltip = [alt.Tooltip("jaar:N", title=tr("jaar", lang, TEXTS)),
               alt.Tooltip("n:Q", title=tr("n_gemeenten", lang, TEXTS)),
               *[alt.Tooltip(f"{f}:Q", title=tr(f, lang, TEXTS), format=fmt.vega_number_format(1))
                 for f in ("laagste", "q1", "mediaan", "q3", "hoogste", "gepoold")]]
    whisker = alt.Chart().mark_rule(color="#444444").encode(
        x=x, y=alt.Y("laagste:Q", title="@unit"), y2="hoogste:Q")
    box = alt.Chart().mark_bar(size=12, stroke="#444444", strokeWidth=0.5).encode(
        x=x, y="q1:Q", y2="q3:Q", color=colour, tooltip=tooltip)
    median = alt.Chart().mark_tick(color="#000000", thickness=2, size=12).encode(
        x=x, y="mediaan:Q")
    n_text = alt.Chart().mark_text(fontSize=9, color="#444444", baseline="top").encode(
        x=x, y=alt.value(2), text="n:Q")
    # Beside the box, so it never hides the median: the group counted per inhabitant.
    pooled = alt.Chart().mark_point(shape="diamond", filled=False, size=50, strokeWidth=1.5,
                                    color="#000000", xOffset=10).encode(
        x=x, y="gepoold:Q", tooltip=tooltip)
    chart = alt.layer(whisker, box, median, pooled, n_text,
                      data=alt.NamedData("verdeling")).properties(
        width=230, height=260).facet(
        column=alt.Column("werkwijze:N", sort=domain, title=None,
                          header=alt.Header(labelFontSize=12, labelFontWeight="bold")))
    return with_basis_line(template_of(titled(chart, "@title", "@source", "@subtitle")))


def distribution_table(stats: pl.DataFrame, lang: str) -> tables.Table:
    """What the distribution chart shows, as numbers (two places)."""
    return tables.display(stats.with_columns(
        pl.col("werkwijze").replace_strict(
            {w: vergelijken.werkwijze_label(w, lang) for w in vergelijken.WERKWIJZEN}),
    ).rename({c: tr(c, lang, TEXTS) for c in
              ("jaar", "werkwijze", "laagste", "q1", "mediaan", "q3", "hoogste", "gepoold")}
             | {"n": tr("n_gemeenten", lang, TEXTS)}), lang, 2)


# --- before / after ----------------------------------------------------------------------------

def switches(db: Database, bronnen: str = DEFAULT_BRONNEN) -> pl.DataFrame:
    """Every change of method in the database (as documented by `bronnen`); see
    `find_switches`."""
    return db.memo(("werkwijze_switches", bronnen), lambda: find_switches(
        vergelijken.with_bronnen(vergelijken.base_frame(db, catalog.TOTAAL), bronnen)
        .filter(pl.col("halfjaar").is_null())))


def find_switches(frame: pl.DataFrame) -> pl.DataFrame:
    """code, naam, jaar (first year of the new method), van, naar, vorig_jaar (last year of the
    old one) for every change between consecutive years with a known method; years with an
    unknown method in between are skipped, not read as a change."""
    known = frame.filter(pl.col("werkwijze").is_in(GROUPS)).sort("code", "jaar")
    return known.with_columns(
        van=pl.col("werkwijze").shift().over("code"),
        vorig_jaar=pl.col("jaar").shift().over("code"),
    ).filter(pl.col("van").is_not_null() & (pl.col("van") != pl.col("werkwijze"))).select(
        "code", "naam", "jaar", "van", naar="werkwijze", vorig_jaar="vorig_jaar")


def before_after(db: Database, maat: str, voorziening: str, lang: str,
                 bronnen: str = DEFAULT_BRONNEN
                 ) -> tuple[pl.DataFrame, pl.DataFrame, list[str]]:
    """(panel rows, summary per switch, panel order). A switch's 'voor' runs from the previous
    switch of the same gemeente (or the start), its 'na' up to the next switch (or the end)."""
    return db.memo(("werkwijze_before_after", maat, voorziening, lang, bronnen),
                   lambda: _before_after(db, maat, voorziening, lang, bronnen))


def _before_after(db: Database, maat: str, voorziening: str, lang: str,
                  bronnen: str = DEFAULT_BRONNEN
                  ) -> tuple[pl.DataFrame, pl.DataFrame, list[str]]:
    sw = switches(db, bronnen).sort("code", "jaar").with_columns(
        vanaf=pl.col("jaar").shift().over("code"),
        tot=pl.col("jaar").shift(-1).over("code"))
    frame = year_frame(db, maat, voorziening, bronnen)
    # Nederland covers every gemeente whatever its method: the selection does not change it.
    national = national_years(db, maat, voorziening)
    panels: list[pl.DataFrame] = []
    summary: list[dict[str, object]] = []
    order: list[str] = []
    for s in sw.to_dicts():
        lo = s["vanaf"] if s["vanaf"] is not None else -10_000
        hi = s["tot"] if s["tot"] is not None else 10_000
        wissel = tr("wissel", lang, TEXTS, van=vergelijken.werkwijze_label(s["van"], lang),
                    naar=vergelijken.werkwijze_label(s["naar"], lang), jaar=s["jaar"])
        panel = f"{s['naam']}: {wissel}"
        order.append(panel)
        rows = frame.filter((pl.col("code") == s["code"]) & (pl.col("jaar") >= lo)
                            & (pl.col("jaar") < hi)).with_columns(
            fase=pl.when(pl.col("jaar") < s["jaar"]).then(pl.lit("voor")).otherwise(pl.lit("na")))
        panels.append(rows.select(
            "code", "jaar", "waarde", "werkwijze", "fase", paneel=pl.lit(panel),
            wissel_jaar=pl.lit(s["jaar"])))
        voor, na = rows.filter(pl.col("fase") == "voor"), rows.filter(pl.col("fase") == "na")
        nat = national.filter((pl.col("jaar") >= lo) & (pl.col("jaar") < hi))
        summary.append({
            "code": s["code"], "naam": s["naam"], "van": s["van"], "naar": s["naar"],
            "eerste_jaar": s["jaar"],
            "voor": _pooled(voor), "na": _pooled(na),
            "jaren_voor": voor.drop_nulls("waarde").height,
            "jaren_na": na.drop_nulls("waarde").height,
            "nl_voor": _pooled(nat.filter(pl.col("jaar") < s["jaar"])),
            "nl_na": _pooled(nat.filter(pl.col("jaar") >= s["jaar"])),
        })
    panel_frame = pl.concat(panels) if panels else pl.DataFrame()
    summary_frame = pl.DataFrame(summary, schema={
        "code": pl.String, "naam": pl.String, "van": pl.String, "naar": pl.String,
        "eerste_jaar": pl.Int64, "voor": pl.Float64, "na": pl.Float64,
        "jaren_voor": pl.Int64, "jaren_na": pl.Int64, "nl_voor": pl.Float64,
        "nl_na": pl.Float64})
    return panel_frame, summary_frame, order


def uses_cbs(db: Database, maat: str, voorziening: str) -> bool:
    return vergelijken.cbs_publishes(maat) and catalog.has_cbs_nederland(db, voorziening)


def national_years(db: Database, maat: str, voorziening: str) -> pl.DataFrame:
    """periode, jaar, teller, noemer, waarde, n_bekend, n_totaal of the country per whole year.

    Where CBS publishes the measure: CBS's own NL01 count over the inhabitants of every
    gemeente (NULL in a year where one is unknown), so that several years pool as sums. Else
    the pooled sum over the gemeenten with figures (vergelijken.pool)."""
    frame = year_frame(db, maat, voorziening)
    if not uses_cbs(db, maat, voorziening):
        return vergelijken.pool(frame).join(frame.select("periode", "jaar").unique(),
                                            on="periode").sort("jaar")
    inwoners = frame.group_by("periode", "jaar").agg(
        noemer=pl.when(pl.col("inwoners").is_not_null().all()).then(pl.col("inwoners").sum()))
    cbs = catalog.cbs_nederland(db, voorziening).filter(pl.col("halfjaar").is_null()).select(
        periode="periode_code", teller=pl.col("clienten").cast(pl.Float64))
    known = pl.col("teller").is_not_null() & (pl.col("noemer") > 0)
    return inwoners.join(cbs, on="periode", how="left").with_columns(
        waarde=pl.when(known).then(vergelijken.PER * pl.col("teller") / pl.col("noemer")),
        n_bekend=pl.lit(None, pl.Int64), n_totaal=pl.lit(None, pl.Int64)).sort("jaar")


def nederland_label(db: Database, maat: str, voorziening: str, lang: str) -> str:
    if uses_cbs(db, maat, voorziening):
        return catalog.nederland_cbs_label(catalog.build_info(db), lang)
    return catalog.nederland_pooled_label(lang)


def before_after_note(db: Database, maat: str, voorziening: str, lang: str) -> str:
    """What 'Nederland voor/na' is: CBS's count over all inhabitants, or a pooled sum with the
    n of m of its newest year."""
    label = nederland_label(db, maat, voorziening, lang)
    if uses_cbs(db, maat, voorziening):
        return tr("nl_voor_na_cbs", lang, TEXTS, label=label)
    last = national_years(db, maat, voorziening).filter(pl.col("n_totaal") > 0).tail(1)
    if last.is_empty():
        return ""
    row = last.row(0, named=True)
    return tr("nl_voor_na_pooled", lang, TEXTS, label=label,
              periode=catalog.period_label(db, row["periode"], lang),
              counts=catalog.met_cijfers(row["n_bekend"], row["n_totaal"], lang))


def _pooled(rows: pl.DataFrame) -> float | None:
    """PER * sum(teller) / sum(noemer) over the rows with a known figure; None if none."""
    known = rows.filter(pl.col("waarde").is_not_null())
    if known.is_empty() or not known["noemer"].sum():
        return None
    return vergelijken.PER * float(known["teller"].sum()) / float(known["noemer"].sum())


def before_after_chart(panels: pl.DataFrame, order: list[str], title: str, source: str,
                       subtitle: str, unit: str, lang: str) -> Spec:
    labels = {w: vergelijken.werkwijze_label(w, lang) for w in vergelijken.WERKWIJZEN}
    data = panels.select(
        "paneel", "waarde", jaar=pl.col("jaar").cast(pl.String),
        werkwijze=pl.col("werkwijze").replace_strict(labels),
        wissel=pl.col("wissel_jaar").cast(pl.String))
    return finish(_before_after_template(lang), {
        "@title": title, "@subtitle": subtitle, "@source": source, "@unit": unit,
        "@basis": tr("basis_before_after", lang, TEXTS),
        "@panels": order}, {"wissels": data})


@lru_cache(maxsize=8)
def _before_after_template(lang: str) -> Spec:
    labels = {w: vergelijken.werkwijze_label(w, lang) for w in vergelijken.WERKWIJZEN}
    domain = [labels[w] for w in vergelijken.WERKWIJZEN]
    x = alt.X("jaar:O", title=None, axis=alt.Axis(labelAngle=-90, labelFontSize=9))
    legend_title = tr("werkwijze", lang, TEXTS)
    line = alt.Chart().mark_line(color="#666666", strokeWidth=1.5).encode(
        x=x, y=alt.Y("waarde:Q", title="@unit"))
    points = alt.Chart().mark_point(filled=True, size=60).encode(
        x=x, y="waarde:Q",
        color=alt.Color("werkwijze:N", title=legend_title, scale=alt.Scale(
            domain=domain, range=[WERKWIJZE_COLOURS[w] for w in vergelijken.WERKWIJZEN]),
            legend=alt.Legend(orient="bottom")),
        shape=alt.Shape("werkwijze:N", title=legend_title, scale=alt.Scale(
            domain=domain, range=["circle", "square", "cross"])),
        tooltip=[alt.Tooltip("jaar:N", title=tr("jaar", lang, TEXTS)),
                 alt.Tooltip("waarde:Q", title=tr("waarde", lang, TEXTS),
                             format=fmt.vega_number_format(1)),
                 alt.Tooltip("werkwijze:N", title=legend_title)])
    rule = alt.Chart().mark_rule(strokeDash=[4, 3], color="#000000").encode(
        x=alt.X("wissel:O"))
    chart = alt.layer(line, points, rule, data=alt.NamedData("wissels")).properties(
        width=340, height=160).facet(
        facet=alt.Facet("paneel:N", sort=["@panels"], title=None,
                        header=alt.Header(labelFontSize=10, labelFontWeight="bold",
                                          labelLimit=440)), columns=2)
    return with_basis_line(template_of(titled(chart, "@title", "@source", "@subtitle")))


def summary_table(summary: pl.DataFrame, lang: str, nederland: str) -> tables.Table:
    """The switches as a table; `nederland` names the country columns (nederland_label)."""
    labels = {w: vergelijken.werkwijze_label(w, lang) for w in vergelijken.WERKWIJZEN}
    return tables.display(summary.select(
        "code", pl.col("naam").alias(tr("gemeente", lang)),
        pl.col("van").replace_strict(labels).alias(tr("van", lang, TEXTS)),
        pl.col("naar").replace_strict(labels).alias(tr("naar", lang, TEXTS)),
        pl.col("eerste_jaar").alias(tr("eerste_jaar", lang, TEXTS)),
        pl.col("voor").alias(tr("voor", lang, TEXTS)),
        pl.col("na").alias(tr("na", lang, TEXTS)),
        pl.col("jaren_voor").alias(tr("jaren_voor", lang, TEXTS)),
        pl.col("jaren_na").alias(tr("jaren_na", lang, TEXTS)),
        pl.col("nl_voor").alias(tr("nl_voor", lang, TEXTS, label=nederland)),
        pl.col("nl_na").alias(tr("nl_na", lang, TEXTS, label=nederland))), lang, 2,
        plain=(tr("eerste_jaar", lang, TEXTS),))


# --- page helpers ------------------------------------------------------------------------------

def year_options(db: Database) -> list[str]:
    """Whole years with figures, newest first, as the URL writes them ('2024')."""
    return db.memo("werkwijze_years_options", lambda: [
        str(j) for j in catalog.year_periods(db)["jaar"].to_list()])


def year_labels(db: Database) -> dict[str, str]:
    """'2024' → '2024*': a dict, because a selectbox formats every option on every rerun."""
    return db.memo("werkwijze_year_labels", lambda: {
        j: catalog.period_label(db, f"{j}JJ00") for j in year_options(db)})


def year_label(db: Database, jaar: str) -> str:
    return year_labels(db).get(jaar, jaar)


def caveats(lang: str, is_synthetisch: bool) -> list[str]:
    keys = ["caveat_observational", "caveat_register", "caveat_sources", "caveat_provisional",
            "caveat_unweighted"]
    if is_synthetisch:
        keys.insert(0, "caveat_synthetic")
    return [tr(k, lang, TEXTS) for k in keys]


def effective_voorziening(maat: Measure, voorziening: str) -> str:
    return maat.voorziening if maat.voorziening is not None else voorziening


def trend_view(db: Database, maat: str, voorziening: str, lang: str,
               bronnen: str = DEFAULT_BRONNEN) -> vergelijken.CompareView:
    """The pooled werkwijze groups over the years, without a focus gemeente."""
    return vergelijken.compare_view(db, vergelijken.Choices(
        groep="werkwijze", gemeente="", maat=maat, voorziening=voorziening, interval="jaar",
        bronnen=bronnen), lang)

