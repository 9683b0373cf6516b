"""Gemeente (`/gemeente?gemeente=GM0363`): profile of one gemeente with sources for every figure."""

import streamlit as st

from dashboard import catalog
from dashboard.safe import md_escape
from dashboard.ui import (
    footer,
    gemeente_from_link,
    open_page,
    page_context,
    page_path,
    show_chart,
    show_table,
    url_rewrite,
    url_selectbox,
    url_toggle,
    url_value,
)
from dashboard.views import gemeente as view
from dashboard.views import rechtspraak as rechtspraak_view

ctx = page_context()
T = view.TEXTS
STATUS_LEGEND = ctx.t("status_legend")  # the marks are code spans: literal, not markdown
st.title(ctx.t("title", T))
st.caption(ctx.t("intro", T))


def open_gemeente(code: str) -> None:
    open_page("gemeente", {"gemeente": code})


# A link may name the gemeente; a map click or an old link may name a merged or split one: show
# the successor instead.
gemeente_from_link(ctx)
link = view.resolve_link(ctx.db, url_value("gemeente"))
if link.dissolved_code:
    url_rewrite("gemeente", link.code)
    # Remembered so the explanation and the other successors stay until the user moves on.
    st.session_state["_gemeente_dissolved"] = (link.dissolved_code, link.code)

options = catalog.gemeente_options(ctx.db)
c1, c2, c3 = st.columns([4, 3, 2], vertical_alignment="bottom")
code = url_selectbox(ctx, ctx.t("choose", T), "gemeente", list(options),
                     catalog.fallback_gemeente(ctx.db), format_func=lambda c: options.get(c, c),
                     container=c1, key="gemeente_gemeente")
maat = url_selectbox(ctx, ctx.t("trend_maat", T), "maat", list(view.MAATEN), view.DEFAULT_MAAT,
                     format_func=lambda k: view.MAATEN[k].label(ctx.lang), container=c2,
                     key="gemeente_maat")
with c3:
    halfjaar = url_toggle("halfjaar", ctx.t("halfjaar", T), False, key="gemeente_halfjaar")
naam = catalog.gemeente_name(ctx.db, code)
# Names come from the registers too (dissolved gemeenten): text, never markdown.
naam_md = md_escape(naam, limit=200)

dissolved = st.session_state.get("_gemeente_dissolved")
if dissolved and dissolved[1] in (code, None):
    link = view.resolve_link(ctx.db, dissolved[0])
    st.info(view.dissolved_message(ctx.db, link, ctx.lang))
    row = st.container(horizontal=True)
    for succ in link.successors[1:]:
        if row.button(ctx.t("open", T, naam=md_escape(f"{succ.naam} ({succ.code})", 200)),
                      key=f"gemeente_succ_{succ.code}"):
            open_gemeente(succ.code)
    if dissolved[1] is None:
        st.session_state["_gemeente_dissolved"] = (dissolved[0], code)
elif dissolved:
    del st.session_state["_gemeente_dissolved"]
st.header(f"{naam_md} ({md_escape(code)})")

# Key figures
st.subheader(ctx.t("key_figures", T))
figures = view.key_figures(ctx.db, code, ctx.lang)
for start in range(0, len(figures), 3):
    for col, kf in zip(st.columns(3), figures[start:start + 3], strict=False):
        col.metric(kf.label, kf.value, kf.delta, delta_color="off", help=kf.help,
                   chart_data=kf.history or None, border=True)
st.caption(ctx.t("key_caption", T, period=catalog.period_label(
    ctx.db, catalog.default_period(ctx.db), ctx.lang)) + " " + STATUS_LEGEND)

# Trend against peers and the country
peers = view.peer_codes(ctx.db, code)
m = view.MAATEN[maat]
if halfjaar and m.year_only:
    st.info(ctx.t("year_only", T))
if m.caveat(ctx.lang) is not None:
    st.info(f"{m.caveat(ctx.lang)} {ctx.t('gepoold', T)}")
st.subheader(ctx.t("trend", T))
st.caption(m.uitleg(ctx.lang))  # what is divided by what, e.g. all clients over the 75+
tv = view.trend_view(ctx.db, code, maat, halfjaar, ctx.lang, ctx.source)
show_chart(ctx, tv.chart, name=f"gemeente_{code}_{maat}", key="gemeente_trend", table=tv.table,
           export_chart=lambda: view.trend_download(tv.chart))
st.caption(STATUS_LEGEND)

# Peers
st.subheader(ctx.t("peers", T))
if peers:
    st.markdown(view.peer_rule(ctx.db, code, ctx.lang, len(peers)))
    st.caption(ctx.t("peers_click", T))
    row = st.container(horizontal=True)
    for peer in peers:
        if row.button(catalog.gemeente_name(ctx.db, peer), key=f"gemeente_peer_{peer}"):
            open_gemeente(peer)
    show_table(ctx, view.peer_table(ctx.db, code, peers, ctx.lang), key="gemeente_peers_table")
else:
    st.info(ctx.t("peers_none", T))

# Werkwijze history
st.subheader(ctx.t("werkwijze", T))
st.caption(ctx.t("werkwijze_caption", T))
left, right = st.columns([3, 1])
with left:
    sources = view.werkwijze_table(ctx.db, code, ctx.lang)
    if sources.is_empty():
        st.markdown(ctx.t("werkwijze_none", T))
    else:
        # A table keeps register text as text (no markdown); the kind of source sits beside it.
        labels = view.werkwijze_column_labels(ctx.lang)
        config = {c: st.column_config.TextColumn(label) for c, label in labels.items()}
        config["bron_omschrijving"] = st.column_config.TextColumn(labels["bron_omschrijving"],
                                                                  width="large")
        config["bron_url"] = st.column_config.LinkColumn(labels["bron_url"])
        config["regel"] = st.column_config.TextColumn(labels["regel"])
        # A court ruling as source: linked to rechtspraak.nl, and to its row here when known.
        sources = rechtspraak_view.with_ruling_links(ctx.db, sources)
        config["uitspraak_url"] = st.column_config.LinkColumn(ctx.t("col_uitspraak_url", T))
        config["uitspraak_pagina"] = st.column_config.LinkColumn(
            ctx.t("col_uitspraak_pagina", T))
        show_table(ctx, sources, links=("bron_url", "uitspraak_url"),
                   page_links=("uitspraak_pagina",), key="gemeente_werkwijze_bronnen",
                   column_config=config)
        st.caption(ctx.t("werkwijze_sources_note", T))
with right:
    st.caption(ctx.t("werkwijze_per_jaar", T))
    show_table(ctx, view.werkwijze_years(ctx.db, code, ctx.lang), key="gemeente_werkwijze_jaar")

# Bezwaar figures with their sources
st.subheader(ctx.t("bezwaar", T))
st.caption(ctx.t("bezwaar_caption", T))
rows = view.bezwaar_rows(ctx.db, code)
if rows.is_empty():
    st.info(ctx.t("bezwaar_none", T))
else:
    synthetic = int(rows["is_synthetisch"].sum())
    if synthetic:
        st.warning(ctx.t("synthetic_rows", T, n=synthetic), icon="⚠️")
    show_table(ctx, view.bezwaar_table(rows, ctx.lang), links=("bron_url",),
               key="gemeente_bezwaar",
               column_config={
                   "bron_url": st.column_config.LinkColumn(ctx.t("col_bron", T)),
                   "bron_omschrijving": st.column_config.TextColumn(
                       ctx.t("col_omschrijving", T), width="large"),
                   "peildatum": st.column_config.TextColumn(ctx.t("col_peildatum", T))})
    years = view.bezwaar_years(ctx.db, code, ctx.lang)
    if not years.frame.is_empty():
        st.caption(ctx.t("bezwaar_per_jaar", T))
        show_table(ctx, years, key="gemeente_bezwaar_jaar")

# Published court rulings with this gemeente as a party
st.subheader(ctx.t("uitspraken", T))
st.caption(ctx.t("uitspraken_caption", T))
rulings = view.uitspraken_table(ctx.db, code, ctx.lang)
if rulings.is_empty():
    st.info(ctx.t("uitspraken_none", T) + " " + ctx.t("caveat", rechtspraak_view.TEXTS))
else:
    st.caption(view.uitspraken_count(rulings.height, ctx.lang))
    r_labels = view.uitspraken_column_labels(ctx.lang)
    r_config = {c: st.column_config.TextColumn(label) for c, label in r_labels.items()}
    r_config["samenvatting"] = st.column_config.TextColumn(r_labels["samenvatting"],
                                                           width="large")
    r_config["url"] = st.column_config.LinkColumn(r_labels["url"])
    show_table(ctx, rulings, links=("url",), key="gemeente_uitspraken", column_config=r_config)
st.page_link(page_path("rechtspraak"), label=ctx.t("uitspraken_open", T),
             query_params={"gemeente": code, **({"taal": "en"} if ctx.lang == "en" else {})})

# Herindeling history
st.subheader(ctx.t("herindeling", T))
st.caption(view.code_validity(ctx.db, code, ctx.lang))
history = view.herindeling_table(ctx.db, code, ctx.lang)
if history.frame.is_empty():
    st.markdown(ctx.t("herindeling_none", T, naam=naam_md))
else:
    st.caption(ctx.t("herindeling_caption", T, naam=naam_md))
    show_table(ctx, history, links=("bron",), key="gemeente_herindeling",
               column_config={"bron": st.column_config.LinkColumn(ctx.t("col_bron", T))})
footer(ctx)
