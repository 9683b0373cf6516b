"""Vergelijken (`/vergelijken`): a gemeente beside peers, its province, werkwijze groups or a
list, over years or half-years; small multiples 'gemeente vs its peers'; the table behind it."""

import streamlit as st

from dashboard import catalog, exports
from dashboard.safe import md_escape
from dashboard.ui import (
    footer,
    gemeente_from_link,
    page_context,
    show_chart,
    show_panels,
    show_table,
    url_multiselect,
    url_selectbox,
)
from dashboard.views import peers
from dashboard.views import vergelijken as view

ctx = page_context()
T = view.TEXTS
st.title(ctx.t("title", T))
st.caption(ctx.t("intro", T))

gem_options = catalog.gemeente_options(ctx.db)
voorz = catalog.voorzieningen(ctx.db)
voorz_labels = dict(zip(voorz["voorziening_code"], voorz["voorziening"], strict=True))

gemeente_from_link(ctx)
c1, c2, c3, c4, c5 = st.columns([3, 3, 3, 3, 2])
groep = url_selectbox(ctx, ctx.t("groep", T), "groep", list(view.GROEPEN), view.DEFAULT_GROEP,
                      format_func=lambda g: ctx.t(f"groep_{g}", T), container=c1,
                      key="vergelijken_groep")
gemeente = url_selectbox(ctx, ctx.t("focus", T), "gemeente", list(gem_options),
                         catalog.fallback_gemeente(ctx.db), format_func=lambda c: gem_options[c],
                         container=c2, key="vergelijken_gemeente")
maat = url_selectbox(ctx, ctx.t("maat"), "maat", list(view.MAAT_KEYS), view.DEFAULT_MAAT,
                     format_func=lambda k: view.MAATEN[k].label(ctx.lang), container=c3,
                     key="vergelijken_maat")
c3.caption(view.MAATEN[maat].uitleg(ctx.lang))  # what is divided by what, e.g. 75+
voorziening = url_selectbox(ctx, ctx.t("voorziening"), "voorziening", list(voorz_labels),
                            catalog.TOTAAL, format_func=lambda c: voorz_labels[c], container=c4,
                            key="vergelijken_voorziening",
                            disabled=view.MAATEN[maat].voorziening is not None)
interval = url_selectbox(ctx, ctx.t("interval", T), "interval", list(view.INTERVALS), "jaar",
                         format_func=lambda i: ctx.t(f"interval_{i}", T), container=c5,
                         key="vergelijken_interval", disabled=view.MAATEN[maat].year_only)

provincie: str | None = None
gemeenten: list[str] = []
if groep in ("provincie", "werkwijze"):
    # Provincie groups start at the gemeente's own province; werkwijze groups at the country.
    # 'alle' rather than '' so that a link can ask for every province explicitly.
    start = (view.provincie_of(ctx.db, gemeente) or view.ALLE) if groep == "provincie" \
        else view.ALLE
    everything = ctx.t("all_provinces_lines", T) if groep == "provincie" else ctx.t(
        "all_provinces")
    chosen = url_selectbox(ctx, ctx.t("provincie"), "provincie",
                           [view.ALLE, *catalog.provincies(ctx.db)], start,
                           format_func=lambda p: everything if p == view.ALLE else p,
                           key="vergelijken_provincie")
    provincie = None if chosen == view.ALLE else chosen
elif groep == "lijst":
    gemeenten = url_multiselect(ctx, ctx.t("lijst", T), "gemeenten", list(gem_options), [],
                                format_func=lambda c: gem_options[c],
                                key="vergelijken_gemeenten")

choices = view.Choices(groep=groep, gemeente=gemeente, gemeenten=tuple(gemeenten),
                       provincie=provincie, maat=maat, voorziening=voorziening,
                       interval=interval)
cv = view.compare_view(ctx.db, choices, ctx.lang)
for note in cv.notes:
    st.info(note)
naam = catalog.gemeente_name(ctx.db, gemeente)
if groep == "lijst" and not gemeenten:
    st.info(ctx.t("lijst_empty", T, naam=md_escape(naam, 200)))
if groep == "peers":
    st.markdown(peers.rule_text(ctx.db, gemeente, ctx.lang))
if groep == "werkwijze":
    st.caption(ctx.t("werkwijze_membership", T))

voorz_name = voorz_labels.get(cv.voorziening, cv.voorziening)
# A measure about one voorziening already names it; don't say it twice.
what = cv.maat.label(ctx.lang) + ("" if cv.maat.voorziening else f", {voorz_name}")
group_name = {
    "peers": ctx.t("peer_short", T).lower(),
    "provincie": (ctx.t("provincie_group", T, naam=provincie) if provincie
                  else ctx.t("all_provinces_lines", T).lower()),
    "werkwijze": ctx.t("groep_werkwijze", T).lower(),
    "lijst": ", ".join(catalog.gemeente_name(ctx.db, c) for c in gemeenten if c != gemeente),
}[groep]
title = ctx.t("trend_title" if group_name else "trend_title_plain", T,
              maat=cv.maat.label(ctx.lang), naam=naam, groep=group_name or naam)
subtitle = f"{voorz_name}, {ctx.t('interval_' + cv.interval, T)}; {ctx.t('status_plain', T)}"
unit = cv.maat.unit(ctx.lang)
slug = f"{cv.maat.key}_{gemeente}_{groep}_{cv.interval}"

trend_args = (cv.series, cv.order, cv.styles, title, ctx.source, subtitle, unit, ctx.lang)
series_table = view.table(cv.series, ctx.lang, cv.maat.decimals)  # under the chart and at the foot
show_chart(ctx, view.trend_chart(*trend_args), name=f"vergelijken_{slug}",
           table=series_table, key="vergelijken_trend",
           export_chart=lambda: view.trend_chart(*trend_args, export=True))
counts = view.latest_counts(cv, ctx.lang)
# Without a pooled series (a list of gemeenten beside CBS's country figure) there is nothing
# to count.
pooling = ctx.t("pooling_note", T, periode=cv.order[-1] if cv.order else "–",
                counts=counts) + " " if counts else ""
st.caption(pooling + ctx.t("unknown_gaps", T))
st.caption(cv.nederland_note)

st.subheader(ctx.t("multiples_title", T))
if groep != "peers":  # otherwise the rule is already stated above the first chart
    st.markdown(peers.rule_text(ctx.db, gemeente, ctx.lang))
if cv.capped:
    st.caption(ctx.t("multiples_capped", T, max=view.MAX_PANELS))
if not cv.panels.is_empty():
    show_panels(ctx, view.multiples_chart(
        cv.panels, cv.panel_order, cv.order,
        ctx.t("multiples_chart_title", T, maat=what), ctx.source,
        ctx.t("multiples_sub", T, n=peers.DEFAULT_N), unit, ctx.lang),
        name=f"vergelijkbaar_{slug}", columns=3,
        table=view.table(cv.panels, ctx.lang, cv.maat.decimals, panel=ctx.t("panel", T)),
        key="vergelijken_multiples")
with st.expander(ctx.t("peers_heading", T)):
    show_table(ctx, peers.display_table(ctx.db, gemeente, ctx.lang))

st.subheader(ctx.t("table_heading", T))
show_table(ctx, series_table)
export = view.export_frame(cv.series, cv.maat, cv.voorziening)
filters = {"groep": groep, "gemeente": gemeente, "gemeenten": gemeenten,
           "provincie": provincie or "", "maat": cv.maat.key, "voorziening": cv.voorziening,
           "interval": cv.interval}
st.download_button(
    ctx.t("download_table", T),
    data=lambda: exports.to_csv(export, exports.context_from_db(
        ctx.db, title, filters, columns=export.columns, lang=ctx.lang)),
    file_name=f"vergelijken_{slug}{'_SYNTHETISCH' * ctx.info.is_synthetisch}.csv",
    mime="text/csv", on_click="ignore",
    key="vergelijken_csv")
footer(ctx)
