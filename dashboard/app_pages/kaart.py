"""Kaart (default page, `/`): choropleth of a measure per gemeente, with werkwijze outlines."""

import streamlit as st

from dashboard import catalog, fmt, geo
from dashboard.ui import footer, open_page, page_context, show_chart, url_selectbox, url_toggle
from dashboard.views import kaart as view

ctx = page_context()
T = view.TEXTS
st.title(ctx.t("title", T))
st.caption(ctx.t("intro", T))

period_labels = catalog.period_labels(ctx.db, ctx.lang)
voorz = catalog.voorzieningen(ctx.db)
voorz_labels = dict(zip(voorz["voorziening_code"], voorz["voorziening"], strict=True))
provs = ["", *catalog.provincies(ctx.db)]

c1, c2, c3, c4 = st.columns([3, 2, 3, 2])
maat = url_selectbox(ctx, ctx.t("maat"), "maat", list(view.MAATEN), view.DEFAULT_MAAT,
                     format_func=lambda k: view.MAATEN[k].label(ctx.lang), container=c1,
                     key="kaart_maat")
c1.caption(view.MAATEN[maat].uitleg(ctx.lang))  # what is divided by what, e.g. 75+
periode = url_selectbox(ctx, ctx.t("periode"), "periode", list(period_labels),
                        catalog.default_period(ctx.db),
                        format_func=period_labels.__getitem__,
                        container=c2, key="kaart_periode")
voorziening = url_selectbox(ctx, ctx.t("voorziening"), "voorziening", list(voorz_labels),
                            catalog.TOTAAL, format_func=lambda c: voorz_labels[c], container=c3,
                            key="kaart_voorziening",
                            disabled=view.MAATEN[maat].voorziening is not None)
provincie = url_selectbox(ctx, ctx.t("provincie"), "provincie", provs, "",
                          format_func=lambda p: p or ctx.t("all_provinces"), container=c4,
                          key="kaart_provincie")
show_werkwijze = url_toggle("werkwijze", ctx.t("show_werkwijze", T), True, key="kaart_werkwijze")

mv = view.map_view(ctx.db, maat, periode, voorziening, provincie or None, ctx.lang)
for note in mv.notes:
    st.info(note)

title = (f"{mv.maat.label(ctx.lang)}, {voorz_labels.get(mv.voorziening, mv.voorziening)}, "
         f"{catalog.period_label(ctx.db, mv.periode, ctx.lang)}"
         + (f", {provincie}" if provincie else ""))
unknown = mv.values["waarde"].null_count()
if st.get_option("server.enableStaticServing"):
    geometry: str | list = geo.static_url(ctx.db)
else:
    geometry = geo.features(ctx.db)
chart = view.map_chart(mv, geometry, title, ctx.source, ctx.lang, show_werkwijze)
export = view.with_inline_geometry(chart, geo.features(ctx.db))

# The ranking is a tab of its own, run only when chosen: drawn next to the map it doubled the
# browser's work on the first load and on every change (bench/browser.py).
map_tab, ranked_tab = st.tabs([ctx.t("page_kaart"), ctx.t("ranked_title", T)],
                              key="kaart_weergave", on_change="rerun")
event = None
if map_tab.open:
    with map_tab:
        event = show_chart(ctx, chart, name=f"kaart_{mv.maat.key}_{mv.periode}",
                           key="kaart_map", table=view.table(mv, ctx.lang), export_chart=export,
                           on_select="rerun", selection_mode="gm", lazy_table=True)
        st.caption(ctx.t("unknown_count", T, n=fmt.integer(unknown, ctx.lang),
                         total=fmt.integer(mv.values.height, ctx.lang)) + " "
                   + ctx.t("status_legend"))
if ranked_tab.open:
    with ranked_tab, st.container(height=760):
        show_chart(ctx, view.ranked_chart(mv, ctx.t("ranked_title", T) + ": " + title,
                                          ctx.source, ctx.lang),
                   name=f"rangorde_{mv.maat.key}_{mv.periode}", key="kaart_ranked")

code = view.selected_code(event)
if code:
    open_page("gemeente", {"gemeente": code})
footer(ctx)
