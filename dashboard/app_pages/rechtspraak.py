"""Rechtspraak (`/rechtspraak?jaar=2023&provincie=Utrecht`): published Wmo 2015 court rulings,
filtered in the URL, with counts per werkwijze and downloads of exactly the filtered rows."""

import dataclasses

import streamlit as st

from dashboard import catalog, fmt
from dashboard.ui import footer, page_context, show_chart, show_table, url_selectbox, url_toggle
from dashboard.views import rechtspraak as view

ctx = page_context()
T = view.TEXTS
st.title(ctx.t("title", T))
st.caption(ctx.t("intro", T))
CAVEAT = ctx.t("caveat", T)

gemeenten = catalog.gemeente_options(ctx.db)
years = [str(j) for j in view.year_options(ctx.db)]
courts = view.court_options(ctx.db)
with st.container(border=True):
    st.markdown(f"**{ctx.t('filters', T)}**")
    c1, c2, c3 = st.columns(3)
    gemeente = url_selectbox(
        ctx, ctx.t("gemeente"), "gemeente", ["", *gemeenten], "",
        format_func=lambda c: gemeenten.get(c, c) if c else ctx.t("gemeente_alle", T),
        key="rs_gemeente", container=c1)
    provincie = url_selectbox(
        ctx, ctx.t("provincie"), "provincie", ["", *catalog.provincies(ctx.db)], "",
        format_func=lambda p: p or ctx.t("all_provinces"), key="rs_provincie", container=c1)
    jaar = url_selectbox(ctx, ctx.t("jaar", T), "jaar", ["", *years], "",
                         format_func=lambda j: j or ctx.t("jaar_alle", T), key="rs_jaar",
                         container=c2)
    instantie = url_selectbox(ctx, ctx.t("instantie", T), "instantie", ["", *courts], "",
                              format_func=lambda c: c or ctx.t("instantie_alle", T),
                              key="rs_instantie", container=c2)
    uitkomst = url_selectbox(
        ctx, ctx.t("uitkomst", T), "uitkomst", ["", *view.UITKOMSTEN], "",
        format_func=lambda u: view.uitkomst_label(u, ctx.lang) if u else ctx.t("uitkomst_alle", T),
        key="rs_uitkomst", container=c3)
    hbh = url_toggle("hbh", ctx.t("hbh", T), False, key="rs_hbh", container=c3)
    resultaat = url_toggle("resultaatgericht", ctx.t("resultaatgericht_filter", T), False,
                           key="rs_resultaatgericht", container=c3)
    eclis = sorted(view.known_eclis(ctx.db))
    ecli = url_selectbox(ctx, ctx.t("ecli", T), "ecli", ["", *eclis], "",
                         format_func=lambda e: e or ctx.t("ecli_alle", T), key="rs_ecli")

filters = view.Filters(gemeente=gemeente or None, provincie=provincie or None,
                       jaar=int(jaar) if jaar else None, instantie=instantie or None, hbh=hbh,
                       resultaatgericht=resultaat, uitkomst=uitkomst or None, ecli=ecli or None)
rows = view.filtered(ctx.db, filters)
count = view.counted(rows.height, ctx.lang)
st.metric(ctx.t("metric", T), fmt.integer(rows.height, ctx.lang))
st.caption(f"{ctx.t('count', T, count=count)} {CAVEAT}")

st.subheader(ctx.t("table_title", T))
if rows.is_empty():
    st.info(ctx.t("empty", T))
else:
    st.caption(ctx.t("table_caption", T))
    labels = view.column_labels(ctx.lang)
    # Court text stays text: plain cells, never markdown; only http(s) urls become links.
    config = {c: st.column_config.TextColumn(label) for c, label in labels.items()}
    config["samenvatting"] = st.column_config.TextColumn(labels["samenvatting"], width="large")
    config["url"] = st.column_config.LinkColumn(labels["url"])
    show_table(ctx, view.display_table(rows, ctx.lang), links=("url",), key="rs_table",
               column_config=config)

per_year = view.year_counts(view.filtered(ctx.db, dataclasses.replace(filters, jaar=None)))
if per_year.is_empty():
    st.info(ctx.t("empty", T))
else:
    show_chart(ctx, view.count_chart(per_year, ctx.t("counts_title", T),
                                     ctx.t("counts_subtitle", T),
                                     view.source_line(ctx.info, ctx.lang), ctx.lang),
               name="uitspraken_per_jaar", key="rs_counts",
               table=view.count_table(per_year, ctx.lang))
st.caption(f"{ctx.t('counts_caption', T)} {CAVEAT}")

st.subheader(ctx.t("rates_title", T))
rates = view.pooled_rates(ctx.db, filters.provincie, filters.gemeente)
if rates.is_empty():
    st.info(ctx.t("rates_none", T))
else:
    show_table(ctx, view.rate_table(rates, ctx.lang), key="rs_rates")
st.caption(f"{ctx.t('rates_caption', T)} {CAVEAT}")

st.subheader(ctx.t("downloads", T))
st.caption(ctx.t("downloads_intro", T, count=count) + " " + CAVEAT)
row = st.container(horizontal=True)
for kind in ("csv", "xlsx", "parquet"):
    row.download_button(
        ctx.t(kind, T), data=view.exporter(ctx.db, ctx.info, filters, kind, ctx.lang),
        file_name=view.export_name(filters, ctx.info.is_synthetisch, kind),
        mime=view.mime(kind), on_click="ignore", key=f"rs_download_{kind}",
        disabled=rows.is_empty())
footer(ctx)
