"""SQL (`/sql`): a sandboxed read-only console for one SELECT/WITH, with the schema browser."""

import streamlit as st

from dashboard.sql_console import truncation_notice
from dashboard.ui import footer, page_context, show_table, url_keep, url_selectbox, url_value
from dashboard.views import sql as view

ctx = page_context()
T = view.TEXTS
limits = view.limits()
view.prewarm(ctx.db)  # a worker starts while the visitor reads and types
st.title(ctx.t("title", T))
st.caption(view.intro(limits, ctx.lang))
with st.expander(ctx.t("limits", T)):
    st.caption(ctx.t("limits_intro", T))
    show_table(ctx, view.limits_table(limits, ctx.lang), key="sql_limits")

examples = view.examples(ctx.lang)


def use_example() -> None:
    # A callback runs before the widgets are built, so it may still set the editor's text.
    sql = view.example_for(st.session_state.get("sql_voorbeeld") or "", ctx.lang)
    if sql is not None:
        st.session_state["sql_query"] = sql
    st.session_state["sql_voorbeeld"] = ""  # so the same example can be chosen again


def insert_select(table: str) -> None:
    st.session_state["sql_query"] = view.select_template(table)


# `q` seeds the editor on the first render only (afterwards the editor wins) but never runs by
# itself: a link must not start work for whoever opens it, so it waits for one click on
# Uitvoeren (which then runs in the sandbox like any query). Back on the page without `q`
# (sidebar links drop it), the editor shows the query of the result this session still holds.
url_query = url_value("q")
stored = st.session_state.get("sql_result")
first_render = "sql_query" not in st.session_state
if first_render:
    st.session_state["sql_query"] = (url_query if url_query is not None
                                     else stored[0] if stored else "")

left, right = st.columns([3, 2], gap="large")
with left:
    st.selectbox(ctx.t("voorbeeld", T), ["", *examples],
                 format_func=lambda t: t or ctx.t("voorbeeld_none", T), key="sql_voorbeeld",
                 on_change=use_example)
    query = st.text_area(ctx.t("sql", T), key="sql_query", height=220,
                         placeholder=ctx.t("placeholder", T))
    clicked = st.button(ctx.t("run", T), key="sql_run", type="primary")
    if clicked:
        stored = (query, view.run(ctx.db, query, ctx.lang))
        st.session_state["sql_result"] = stored
    # The link reproduces the result on screen, not the text being edited; a link that has
    # not been run yet keeps its `q`, so reloading it shows the same query.
    if stored is not None and stored[0].strip():
        url_keep("q", stored[0])
    elif stored is None and url_query and query == url_query:
        url_keep("q", url_query)

    if stored is None:
        if url_query and query == url_query:
            st.info(ctx.t("link_pending", T))
        else:
            st.caption(ctx.t("not_run", T))
    else:
        ran, result = stored
        if ran != query:
            st.caption(ctx.t("edited", T))
        if result.error is not None:
            st.error(view.error_markdown(result.error))
        else:
            notice = truncation_notice(result, ctx.lang)
            if notice:
                st.warning(notice)
            st.caption(view.summary(result, ctx.lang) + " · " + ctx.t("null_note", T))
            for note in view.result_notes(result, ctx.lang):
                st.caption(note)
            # Shown as written for the reader; the downloads run the query for real values.
            show_table(ctx, view.display_result(result, ctx.lang), key="sql_result_table")
            capped = view.download_warning(result, ctx.lang)
            if capped:
                st.warning(capped)
            row = st.container(horizontal=True)
            for fmt, mime in (("csv", "text/csv"), ("parquet", "application/vnd.apache.parquet")):
                row.download_button(ctx.t(f"download_{fmt}", T),
                                    data=view.exporter(ctx.db, result, ran, fmt, ctx.lang),
                                    file_name=view.export_name(ctx.info.is_synthetisch, fmt),
                                    mime=mime, on_click="ignore", key=f"sql_download_{fmt}")
            st.caption(view.download_note(limits, ctx.lang))

with right:
    st.subheader(ctx.t("schema", T))
    st.caption(ctx.t("schema_intro_described"))
    tables = view.schema_tables(ctx.db)
    table = url_selectbox(ctx, ctx.t("schema_table", T), "tabel", tables,
                          "out.gemeente_periode", key="sql_tabel")
    description, key = view.table_description(ctx.db, table, ctx.lang)
    st.caption(description + (" " + ctx.t("key", T, cols=key) if key else ""))
    show_table(ctx, view.table_columns(ctx.db, table, ctx.lang), key="sql_schema_columns")
    st.button(ctx.t("insert_select", T), key="sql_insert", on_click=insert_select,
              args=(table,))
footer(ctx)
