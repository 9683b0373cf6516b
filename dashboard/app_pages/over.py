"""Over (`/over`): sources, method, CBS symbols, build record and how to cite."""

import streamlit as st

from dashboard.ui import footer, page_context, page_path, show_table
from dashboard.views import over as view

ctx = page_context()
T = view.TEXTS
st.title(ctx.t("title", T))
st.markdown(ctx.t("intro", T))

if ctx.info.is_synthetisch:
    st.subheader(ctx.t("synthetic_title", T))
    st.error(ctx.t("synthetic_text", T, sources=", ".join(view.synthetic_sources(ctx.db))))
else:
    st.success(ctx.t("real_text", T))

st.subheader(ctx.t("sources", T))
st.caption(ctx.t("sources_intro", T))
src = view.sources(ctx.db, ctx.lang)
url_col = view.source_headers(ctx.lang)["url"]
show_table(ctx, src, links=(url_col,), key="over_sources",
           column_config={url_col: st.column_config.LinkColumn(url_col)})

st.subheader(ctx.t("method", T))
for heading, body in view.method(ctx.db, ctx.lang):
    st.markdown(f"**{heading}**")
    st.markdown(body)

st.subheader(ctx.t("symbols", T))
st.caption(ctx.t("symbols_intro", T))
show_table(ctx, view.symbols(ctx.lang), key="over_symbols")

st.subheader(ctx.t("build", T))
show_table(ctx, view.build_rows(ctx.db, ctx.lang), key="over_build")

st.subheader(ctx.t("cite", T))
st.caption(ctx.t("cite_intro", T))
st.code(view.citation(ctx.db), language=None, wrap_lines=True)

st.subheader(ctx.t("docs", T))
st.markdown(ctx.t("docs_text", T))
links = st.container(horizontal=True)
links.page_link(page_path("data"), label=ctx.t("link_data", T),
                query_params={"taal": ctx.lang} if ctx.lang == "en" else None)
links.page_link(page_path("sql"), label=ctx.t("link_sql", T),
                query_params={"taal": ctx.lang} if ctx.lang == "en" else None)
footer(ctx)
