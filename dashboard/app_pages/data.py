"""Data (`/data`): filter a table, preview it, download exactly that selection, the whole DuckDB
file, and the data dictionary."""

import streamlit as st

from dashboard import catalog
from dashboard.fmt import integer as write_integer
from dashboard.safe import md_escape
from dashboard.ui import (
    footer,
    is_history_navigation,
    page_context,
    show_table,
    url_keep,
    url_multiselect,
    url_rewrite,
    url_selectbox,
    url_value,
)
from dashboard.views import data as view

ctx = page_context()
T = view.TEXTS
st.title(ctx.t("title", T))
st.caption(ctx.t("intro", T))

tables = view.tables(ctx.db, ctx.lang)
tabel = url_selectbox(ctx, ctx.t("tabel", T), "tabel", list(tables), view.DEFAULT_TABLE,
                      format_func=lambda k: view.table_label(tables[k]), key="data_tabel")
info = tables[tabel]
st.caption(ctx.t("about_this_table", text=info.description)
           + (" " + ctx.t("key", T, cols=", ".join(info.key)) if info.key else ""))

# Another table: the column choice is re-read from the URL and kept only if it fits the new
# table (a link may bring both); filters the table cannot apply leave the URL.
if st.session_state.get("_data_prev_tabel") not in (None, tabel):
    st.session_state.pop("data_kolommen", None)
    if not view.columns_fit(info, url_value("kolommen") or ""):
        url_rewrite("kolommen", None)
st.session_state["_data_prev_tabel"] = tabel
for param in view.stale_params(info):
    url_rewrite(param, None)
# `gemeente=GM0363` (as other pages link) means the one-item list `gemeenten=GM0363`.
single = url_value("gemeente")
if single is not None:
    url_rewrite("gemeente", None)
    if url_value("gemeenten") is None:
        url_rewrite("gemeenten", single)

applicable = view.applicable_filters(info)
filters: dict = {}
with st.container(border=True):
    st.markdown(f"**{ctx.t('filters', T)}**")
    if not applicable:
        st.caption(ctx.t("no_filters_here", T))
    c1, c2, c3 = st.columns(3)
    # Province first: it decides which gemeenten are offered.
    if "provincie" in applicable:
        provs = ["", *catalog.provincies(ctx.db)]
        filters["provincie"] = url_selectbox(
            ctx, ctx.t("provincie"), "provincie", provs, "",
            format_func=lambda p: p or ctx.t("all_provinces"), key="data_provincie",
            container=c1) or None
    if "gemeenten" in applicable:
        known = view.gemeente_choices(ctx.db, ctx.lang)
        gm = view.gemeente_choices(ctx.db, ctx.lang, filters.get("provincie"))
        # A link (or an earlier choice) may name gemeenten outside the chosen province: they
        # would empty the selection, so they are dropped with a message instead.
        from_url = ",".join(st.query_params.get_all("gemeenten")).split(",")
        chosen_before = [*from_url, *st.session_state.get("data_gemeenten", [])]
        if outside := view.outside_province(chosen_before, gm, known):
            st.warning(view.outside_message(outside, known, filters["provincie"], ctx.lang))
            kept = [c for c in from_url if c and c not in outside]
            if kept:
                st.query_params["gemeenten"] = ",".join(kept)
            else:
                st.query_params.pop("gemeenten", None)
            if "data_gemeenten" in st.session_state:
                st.session_state["data_gemeenten"] = [
                    c for c in st.session_state["data_gemeenten"] if c not in outside]
        filters["gemeenten"] = tuple(url_multiselect(
            ctx, ctx.t("gemeenten", T), "gemeenten", list(gm), [], format_func=gm.__getitem__,
            key="data_gemeenten", container=c1, placeholder=ctx.t("all_gemeenten", T)))
    if "periode" in applicable:
        periods = catalog.periods(ctx.db)
        filters["perioden"] = tuple(url_multiselect(
            ctx, ctx.t("periode"), "periode", periods["periode_code"].to_list(), [],
            format_func=lambda c: catalog.period_label(ctx.db, c, ctx.lang), key="data_periode",
            container=c2, placeholder=ctx.t("all_perioden", T)))
    if "voorziening" in applicable:
        voorz = catalog.voorzieningen(ctx.db)
        labels = dict(zip(voorz["voorziening_code"], voorz["voorziening"], strict=True))
        filters["voorzieningen"] = tuple(url_multiselect(
            ctx, ctx.t("voorziening"), "voorziening", list(labels), [],
            format_func=lambda c: labels[c], key="data_voorziening", container=c2,
            placeholder=ctx.t("all_voorzieningen", T)))
    if "jaar" in applicable and (choices := view.years(ctx.db, info)):
        texts = [str(y) for y in choices]
        y1, y2 = c3.columns(2)
        van = url_selectbox(ctx, ctx.t("jaar_van", T), "jaar_van", texts, texts[0],
                            key="data_jaar_van", container=y1)
        tot = url_selectbox(ctx, ctx.t("jaar_tot", T), "jaar_tot", texts, texts[-1],
                            key="data_jaar_tot", container=y2)
        low, high, swapped = view.year_bounds(choices, int(van), int(tot))
        if swapped:
            st.info(ctx.t("years_swapped", T))
        filters["jaar_van"], filters["jaar_tot"] = low, high
    if "werkwijze" in applicable:
        # werkwijze_hbh NULL = not in the register; in the register itself it is just a value.
        column = view.filter_column(info, "werkwijze") or "werkwijze"
        unknown = "werkwijze_onbekend_filter" if column == "werkwijze_hbh" else "onbekend"
        names = {"": ctx.t("werkwijze_alle", T), "resultaatgericht": ctx.t("resultaatgericht"),
                 "uren": ctx.t("uren"), "onbekend": ctx.t(unknown, T)}
        filters["werkwijze"] = url_selectbox(
            ctx, ctx.t(column, T), "werkwijze", list(names), "",
            format_func=names.__getitem__, key="data_werkwijze", container=c3) or None
    filters["kolommen"] = tuple(url_multiselect(
        ctx, ctx.t("kolommen", T), "kolommen", info.column_names, [], key="data_kolommen",
        placeholder=ctx.t("all_kolommen", T)))
    if heavy := view.heavy_columns(info):
        st.caption(ctx.t("heavy_note", T, cols=", ".join(heavy)))

chosen = view.Filters(**filters)
columns = view.selected_columns(info, chosen)
total = view.count_rows(ctx.db, info, chosen)
preview = view.fetch(ctx.db, info, chosen, limit=view.PREVIEW_ROWS)

m1, m2 = st.columns(2)
m1.metric(ctx.t("rows_total", T), write_integer(total, ctx.lang))
m2.metric(ctx.t("columns_total", T), write_integer(len(columns), ctx.lang))
if total > 0 and view.mixes_periods(ctx.db, info, chosen):
    st.warning(view.mixed_warning(ctx.lang))
if total == 0:
    st.info(view.empty_message(view.why_empty(ctx.db, info, chosen), info, chosen, ctx.lang))
else:
    helps = view.column_help(info)
    show_table(ctx, preview, key="data_preview",
               column_config={c: st.column_config.Column(help=helps.get(c) or None)
                              for c in preview.columns})
    shown = write_integer(preview.height, ctx.lang)
    key = ("preview_first" if total > preview.height
           else "preview_all" if total > 1 else "preview_all_one")
    st.caption(ctx.t(key, T, shown=shown, total=write_integer(total, ctx.lang)) + " "
               + ctx.t("null_note", T) + " " + ctx.t("status_legend"))

st.subheader(ctx.t("downloads", T))
st.caption(view.downloads_intro(total, columns, ctx.lang))
row = st.container(horizontal=True)
for fmt in ("csv", "xlsx", "parquet", "zip"):
    too_big = fmt == "xlsx" and not view.xlsx_fits(total)
    row.download_button(
        ctx.t(fmt, T), data=view.exporter(ctx.db, info, chosen, fmt, ctx.lang),
        file_name=view.export_name(info, chosen, ctx.info.is_synthetisch, fmt),
        mime=view.mime(fmt), on_click="ignore", key=f"data_download_{fmt}",
        disabled=total == 0 or too_big, help=ctx.t("zip_help", T) if fmt == "zip" else None)
if not view.xlsx_fits(total):
    st.warning(ctx.t("xlsx_too_big", T, max=write_integer(view.xlsx_max_rows(), ctx.lang),
                     total=write_integer(total, ctx.lang)))
with st.expander(ctx.t("whats_inside", T)):
    st.markdown(f"**{ctx.t('caveats', T)}**")
    # Escaped: '*' and '**' in the caveats are CBS marks, not emphasis.
    st.markdown("\n".join(f"- {md_escape(c, limit=1000)}"
                          for c in view.caveats(ctx.info, ctx.lang)))
    st.markdown(f"**{ctx.t('symbols', T)}**")
    show_table(ctx, view.symbols_frame(ctx.lang))
    st.markdown(f"**{ctx.t('citation', T)}**")
    st.code(view.citation(ctx.db, ctx.info, ctx.lang), language=None, wrap_lines=True)

st.subheader(ctx.t("database", T))
db_name = view.duckdb_filename(ctx.info)
st.markdown(ctx.t("database_intro", T, version=view.duckdb_version(ctx.db)))
st.code(view.open_snippet(db_name, ctx.lang), language="python")
st.download_button(ctx.t("database_button", T, size=view.human_size(ctx.db.path.stat().st_size,
                                                                      ctx.lang)),
                   data=view.file_reader(ctx.db.path), file_name=db_name,
                   mime="application/octet-stream", on_click="ignore", key="data_download_duckdb")

st.subheader(ctx.t("dictionary", T))
st.caption(ctx.t("dictionary_intro_described"))
# The search text lives in the URL like every filter; seeded from it on first render and on
# Back/Forward only.
if "data_zoek" not in st.session_state or is_history_navigation():
    st.session_state["data_zoek"] = url_value("zoek") or ""
zoek = st.text_input(ctx.t("zoek", T), key="data_zoek", placeholder=ctx.t("zoek_placeholder", T))
url_keep("zoek", zoek.strip() or None)
found_tables = view.search_tables(ctx.db, zoek, ctx.lang)
found = view.search_dictionary(ctx.db, zoek, ctx.lang)
st.caption(ctx.t("dictionary_count", T, n=write_integer(found.height, ctx.lang),
                 total=write_integer(view.dictionary(ctx.db, ctx.lang).height, ctx.lang)))
st.markdown(f"**{ctx.t('tables_heading', T)}**")
show_table(ctx, view.localise_headers(found_tables, ctx.lang), key="data_dict_tables")
st.markdown(f"**{ctx.t('columns_heading', T)}**")
show_table(ctx, view.localise_headers(found, ctx.lang), key="data_dict_columns")
footer(ctx)
