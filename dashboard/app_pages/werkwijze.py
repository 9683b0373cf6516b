"""Werkwijze (`/werkwijze`): resultaatgericht against uren for household help — coverage,
distributions, pooled trends, an adjusted comparison with intervals, before/after a change,
and the register's sources; `?bronnen=sterk` limits all of it to the stronger sources."""

import streamlit as st

from dashboard import catalog
from dashboard.safe import md_escape, safe_links
from dashboard.ui import footer, page_context, show_chart, show_panels, url_selectbox
from dashboard.views import rechtspraak as rechtspraak_view
from dashboard.views import uitgaven, vergelijken
from dashboard.views import werkwijze as view

ctx = page_context()
T = view.TEXTS
st.title(ctx.t("title", T))
st.caption(ctx.t("intro", T))

with st.container(border=True):
    st.markdown(f"**{ctx.t('caveats_heading', T)}**")
    st.markdown("\n".join(f"- {c}" for c in view.caveats(ctx.lang, ctx.info.is_synthetisch)))

voorz = catalog.voorzieningen(ctx.db)
voorz_labels = dict(zip(voorz["voorziening_code"], voorz["voorziening"], strict=True))
years = view.year_options(ctx.db)

c1, c2, c3, c4 = st.columns([3, 3, 1, 3])
maat_key = url_selectbox(ctx, ctx.t("maat"), "maat", list(view.MAAT_KEYS), view.DEFAULT_MAAT,
                         format_func=lambda k: view.MAATEN[k].label(ctx.lang), container=c1,
                         key="werkwijze_maat")
maat = view.MAATEN[maat_key]
c1.caption(maat.uitleg(ctx.lang))
voorziening = url_selectbox(ctx, ctx.t("voorziening"), "voorziening", list(voorz_labels),
                            view.DEFAULT_VOORZIENING, format_func=lambda c: voorz_labels[c],
                            container=c2, key="werkwijze_voorziening",
                            disabled=maat.voorziening is not None)
jaar = url_selectbox(ctx, ctx.t("jaar", T), "jaar", years, years[0],
                     format_func=lambda j: view.year_label(ctx.db, j), container=c3,
                     key="werkwijze_jaar")
bronnen = url_selectbox(ctx, ctx.t("bronnen", T), "bronnen", list(view.BRONNEN),
                        view.DEFAULT_BRONNEN, format_func=lambda b: view.bronnen_label(b, ctx.lang),
                        container=c4, key="werkwijze_bronnen")
voorziening = view.effective_voorziening(maat, voorziening)
if maat.voorziening is not None:
    st.info(ctx.t("voorziening_fixed", T, voorziening=voorz_labels.get(voorziening, voorziening)))
voorz_name = voorz_labels.get(voorziening, voorziening)
unit = maat.unit(ctx.lang)
# A measure about one voorziening already names it; don't say it twice.
what = maat.label(ctx.lang) + ("" if maat.voorziening else f", {voorz_name}")
slug = f"{maat.key}_{voorziening}_{bronnen}"
jaar_label = view.year_label(ctx.db, jaar)
jaar_md = md_escape(jaar_label)  # '2024*': the mark stays a mark in a markdown box
# Said before any figure: every section below follows this selection.
st.info(view.selection_text(ctx.db, int(jaar), jaar_label, bronnen, ctx.lang))

# Coverage first: it says how much the rest of the page can bear.
st.subheader(ctx.t("coverage_heading", T))
cov, reg = view.coverage(ctx.db, bronnen), view.register_counts(ctx.db, bronnen)
cov_args = (cov, reg, ctx.t("coverage_title", T), ctx.source, ctx.t("coverage_sub", T), ctx.lang)
show_chart(ctx, view.coverage_chart(*cov_args), name=f"werkwijze_dekking_{bronnen}",
           table=view.coverage_table(cov, reg, ctx.lang), key="werkwijze_coverage",
           export_chart=lambda: view.coverage_chart(*cov_args, export=True))
rows, codes = view.register_totals(ctx.db, bronnen)
st.caption(ctx.t("coverage_register", T, rows=rows, gemeenten=codes) + " "
           + ctx.t("status_legend"))

st.subheader(ctx.t("adjusted_heading", T))
cmp = view.comparison(ctx.db, maat.key, voorziening, int(jaar), bronnen)
ways = view.two_ways(ctx.db, maat, voorziening, int(jaar), bronnen)
if cmp.raw is None and cmp.adjusted is None:
    st.warning(ctx.t("not_estimable", T, jaar=jaar_label,
                     reason=ctx.t(f"reason_{cmp.reason or 'few'}", T)))
else:
    if cmp.small:
        st.warning(ctx.t("small_n", T, jaar=jaar_label, n_res=cmp.n_res, n_uren=cmp.n_uren,
                         min=view.SMALL_N), icon="⚠️")
    if cmp.adjusted is None:
        st.warning(ctx.t("not_estimable", T, jaar=jaar_label,
                         reason=ctx.t(f"reason_{cmp.reason or 'few'}", T)))
    est_args = (cmp, ctx.t("adjusted_title", T, jaar=jaar_label), ctx.source,
                ctx.t("adjusted_sub", T, maat=what, n_res=cmp.n_res, n_uren=cmp.n_uren), unit,
                ctx.lang)
    show_chart(ctx, view.estimate_chart(*est_args, ways=ways),
               name=f"werkwijze_verschil_{slug}_{jaar}",
               table=view.estimate_table(cmp, ctx.lang, ways=ways), key="werkwijze_estimate",
               export_chart=lambda: view.estimate_chart(*est_args, export=True, ways=ways))
    # Beside the chart, not in a box higher up: the two counts and why they can disagree.
    if ways is not None:
        st.info(view.two_ways_text(ways, cmp, jaar_md, ctx.lang))
st.caption(ctx.t("adjusted_explain", T, jaar=jaar_label, n_missing=cmp.n_missing))
st.caption(view.robustness_text(ctx.db, maat.key, voorziening, int(jaar), jaar_label, ctx.lang))
by_year = view.comparisons_by_year(ctx.db, maat.key, voorziening, bronnen)
if not by_year.is_empty():
    years_args = (by_year, ctx.t("years_title", T), ctx.source,
                  ctx.t("years_sub", T, maat=what, min=view.SMALL_N), unit, ctx.lang)
    show_chart(ctx, view.years_chart(*years_args), name=f"werkwijze_verschil_jaren_{slug}",
               table=view.years_table(by_year, ctx.lang), key="werkwijze_years",
               export_chart=lambda: view.years_chart(*years_args, export=True))

# Spending: the same adjusted comparison, on household help only (84580NED has no detail).
st.subheader(ctx.t("heading", uitgaven.TEXTS))
st.info(ctx.t("caveat", uitgaven.TEXTS))
if not uitgaven.has_spending(ctx.db, int(jaar)):
    st.caption(ctx.t("no_spending", uitgaven.TEXTS, jaar=jaar_label))
else:
    geld_key = url_selectbox(ctx, ctx.t("measure", uitgaven.TEXTS), "uitgaven",
                             list(uitgaven.SPENDING), uitgaven.DEFAULT_SPENDING,
                             format_func=lambda k: uitgaven.SPENDING[k].label(ctx.lang),
                             key="werkwijze_uitgaven")
    geld = uitgaven.SPENDING[geld_key]
    geld_cmp = uitgaven.comparison(ctx.db, geld_key, int(jaar), bronnen)
    geld_ways = uitgaven.two_ways(ctx.db, geld_key, int(jaar), bronnen)
    st.caption(geld.uitleg(ctx.lang))
    if geld_cmp.raw is None and geld_cmp.adjusted is None:
        st.warning(ctx.t("not_estimable", T, jaar=jaar_label,
                         reason=ctx.t(f"reason_{geld_cmp.reason or 'few'}", T)))
    else:
        if geld_cmp.small:
            st.warning(ctx.t("small_n", T, jaar=jaar_label, n_res=geld_cmp.n_res,
                             n_uren=geld_cmp.n_uren, min=view.SMALL_N), icon="⚠️")
        geld_args = (geld_cmp, uitgaven.title(jaar_label, ctx.lang), ctx.source,
                     ctx.t("adjusted_sub", T, maat=geld.label(ctx.lang), n_res=geld_cmp.n_res,
                           n_uren=geld_cmp.n_uren), geld.unit(ctx.lang), ctx.lang)
        show_chart(ctx, view.estimate_chart(*geld_args, ways=geld_ways, decimals=0),
                   name=f"werkwijze_uitgaven_{geld_key}_{bronnen}_{jaar}",
                   table=view.estimate_table(geld_cmp, ctx.lang, decimals=0, ways=geld_ways),
                   key="werkwijze_uitgaven_estimate",
                   export_chart=lambda: view.estimate_chart(*geld_args, export=True,
                                                            ways=geld_ways, decimals=0))
        if geld_ways is not None:
            st.info(view.two_ways_text(geld_ways, geld_cmp, jaar_md, ctx.lang, decimals=0))
        st.caption(ctx.t("adjusted_explain", T, jaar=jaar_label, n_missing=geld_cmp.n_missing))

st.subheader(ctx.t("distribution_heading", T))
stats = view.distribution_for(ctx.db, maat.key, voorziening, bronnen)
show_panels(ctx, view.distribution_chart(
    stats, ctx.t("distribution_title", T, maat=maat.label(ctx.lang)), ctx.source,
    ctx.t("distribution_sub", T, voorziening=voorz_name), unit, ctx.lang),
    name=f"werkwijze_verdeling_{slug}", columns=3, table=view.distribution_table(stats, ctx.lang),
    key="werkwijze_distribution")

st.subheader(ctx.t("trend_heading", T))
tv = view.trend_view(ctx.db, maat.key, voorziening, ctx.lang, bronnen)
trend_args = (tv.series, tv.order, tv.styles, ctx.t("trend_title", T, maat=maat.label(ctx.lang)),
              ctx.source, f"{voorz_name}; {ctx.t('status_plain', vergelijken.TEXTS)}", unit,
              ctx.lang)
trend_basis = ctx.t("basis_trend", T)
show_chart(ctx, vergelijken.trend_chart(*trend_args, basis=trend_basis),
           name=f"werkwijze_trend_{slug}",
           table=vergelijken.table(tv.series, ctx.lang), key="werkwijze_trend",
           export_chart=lambda: vergelijken.trend_chart(*trend_args, export=True,
                                                        basis=trend_basis))
if ways is not None:  # the per-gemeente figures of the same year beside the pooled lines
    st.info(view.two_ways_text(ways, cmp, jaar_md, ctx.lang))
st.caption(ctx.t("werkwijze_membership", vergelijken.TEXTS) + " "
           + ctx.t("pooling_note", vergelijken.TEXTS, periode=tv.order[-1] if tv.order else "–",
                   counts=vergelijken.latest_counts(tv, ctx.lang)))
st.caption(tv.nederland_note)

st.subheader(ctx.t("before_after_heading", T))
panels, summary, order = view.before_after(ctx.db, maat.key, voorziening, ctx.lang, bronnen)
if summary.is_empty():
    st.info(ctx.t("no_switches", T))
else:
    st.caption(ctx.t("before_after_explain", T) + " "
               + view.before_after_note(ctx.db, maat.key, voorziening, ctx.lang))
    switches = view.summary_table(summary, ctx.lang,
                                  view.nederland_label(ctx.db, maat.key, voorziening, ctx.lang))
    show_panels(ctx, view.before_after_chart(
        panels, order, ctx.t("before_after_title", T), ctx.source,
        ctx.t("before_after_sub", T, maat=what), unit, ctx.lang),
        name=f"werkwijze_voor_na_{slug}", columns=2, table=switches, key="werkwijze_before_after")
    st.dataframe(switches, hide_index=True)

st.subheader(ctx.t("sources_heading", T))
st.caption(ctx.t("sources_caption", T))
sources = view.register_sources(ctx.db, bronnen)
st.caption(ctx.t("sources_by_type", T))
st.dataframe(view.bron_type_summary(sources, ctx.lang), hide_index=True,
             key="werkwijze_bron_types")
labels = view.source_column_labels(ctx.lang)
# Register text is shown as plain cells and a link column, never as markdown.
config = {c: st.column_config.TextColumn(label) for c, label in labels.items()}
config["bron_omschrijving"] = st.column_config.TextColumn(labels["bron_omschrijving"],
                                                          width="large")
config["bron_url"] = st.column_config.LinkColumn(labels["bron_url"])
config["regel"] = st.column_config.NumberColumn(labels["regel"], format="%d")
# A court ruling as source: linked to rechtspraak.nl, and to its row there when known.
config["uitspraak_url"] = st.column_config.LinkColumn(ctx.t("col_uitspraak_url", T))
config["uitspraak_pagina"] = st.column_config.LinkColumn(ctx.t("col_uitspraak_pagina", T))
shown = rechtspraak_view.with_ruling_links(ctx.db, view.sources_table(sources, ctx.lang))
st.dataframe(safe_links(shown, "bron_url", "uitspraak_url"), hide_index=True,
             column_config=config,
             key="werkwijze_sources")
footer(ctx)
