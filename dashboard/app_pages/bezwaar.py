"""Bezwaar (`/bezwaar?domein=wmo&jaar=2023`): objections per 1 000 clients by werkwijze, their
outcomes, coverage and the source of every figure."""

import streamlit as st

from dashboard import exports, fmt
from dashboard.ui import PageContext, footer, page_context, show_chart, show_table, url_selectbox
from dashboard.views import bezwaar as view

ctx = page_context()
T = view.TEXTS
STATUS_LEGEND = ctx.t("status_legend")  # the marks are code spans: literal, not markdown
st.title(ctx.t("title", T))
st.caption(ctx.t("intro", T))

c1, c2 = st.columns([3, 2])
domein = url_selectbox(ctx, ctx.t("domein", T), "domein", view.domain_options(ctx.db),
                       view.DEFAULT_DOMEIN, format_func=lambda d: view.domein_label(d, ctx.lang),
                       container=c1, key="bezwaar_domein")
years = [str(j) for j in view.year_options(ctx.db, domein)]
st.markdown(ctx.t("domein_explain", T))
if not years:
    st.info(ctx.t("no_years", T))
    footer(ctx)
    st.stop()
jaar = url_selectbox(ctx, ctx.t("jaar", T), "jaar", years, years[0],
                     format_func=lambda j: view.year_label(ctx.db, int(j), ctx.lang),
                     container=c2, key="bezwaar_jaar")
pv = view.page_view(ctx.db, domein, int(jaar), ctx.lang, ctx.source)


def block(ctx: PageContext, b: view.ChartBlock, key: str) -> None:
    if b.chart is None:
        st.info(b.note or "–")
    else:
        show_chart(ctx, b.chart, name=b.name, key=key, table=b.table)


# Rates: only the Wmo domain has a matching denominator (clients of the same decisions).
if pv.rates is None:
    st.info(ctx.t("no_rate", T))
else:
    block(ctx, pv.rates, "bezwaar_rates")
    st.caption(STATUS_LEGEND)
if pv.distribution is not None:
    block(ctx, pv.distribution, "bezwaar_distribution")

block(ctx, pv.outcomes_year, "bezwaar_outcomes_year")
block(ctx, pv.outcomes_werkwijze, "bezwaar_outcomes_ww")

block(ctx, pv.coverage, "bezwaar_coverage")
st.caption(ctx.t("coverage_caption", T))

st.subheader(ctx.t("table_title", T))
note = ctx.t("table_caption", T, n=fmt.integer(pv.rows, ctx.lang),
             s=fmt.integer(pv.synthetic, ctx.lang))
if pv.synthetic:
    st.warning(note, icon="⚠️")
else:
    st.caption(note)
show_table(ctx, pv.figures.frame, links=("bron_url",), key="bezwaar_table", column_config={
    "bron_url": st.column_config.LinkColumn("bron_url"),
    "bron_omschrijving": st.column_config.TextColumn("bron_omschrijving", width="large"),
    "peildatum": st.column_config.TextColumn("peildatum")})
context = view.export_context(ctx.db, domein, ctx.t("title", T), ctx.lang)
st.download_button(ctx.t("download_csv", T),
                   data=lambda: exports.to_csv(pv.figures.export, context),
                   file_name=exports.filename(context, "csv"), mime="text/csv",
                   on_click="ignore", key="bezwaar_csv")
footer(ctx)
