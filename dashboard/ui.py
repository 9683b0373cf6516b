"""Streamlit glue shared by the pages: database, language, banner, URL-bound controls, charts.

Pages stay thin: they call `page_context()` first, then these helpers and the plain view
modules in `dashboard/views/`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import altair as alt
import polars as pl
import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from dashboard import catalog, charts, db, fmt, tables
from dashboard.i18n import Lang, parse_lang, tr
from dashboard.safe import md_escape, safe_links
from dashboard.state import (
    LANG_PARAM,
    as_lists,
    history_action,
    match_gemeente,
    resolve,
    resolve_many,
    url_query,
)


@dataclass(frozen=True)
class PageContext:
    db: db.Database
    lang: Lang
    info: catalog.BuildInfo

    def t(self, key: str, texts: Any = None, **fields: object) -> str:
        return tr(key, self.lang, texts, **fields)

    @property
    def source(self) -> str:
        return catalog.source_line(self.info, self.lang)


def db_path() -> Path:
    return Path(os.environ.get("WMO_DB", "data/processed/wmo.duckdb"))


def current_lang() -> Lang:
    """The session's language: `taal` from the URL on its first run, afterwards what the reader
    chose. A later URL without `taal` (sidebar links drop it) or an older entry (Back) keeps it:
    the language is a preference, not part of a view."""
    if "_taal" not in st.session_state:
        st.session_state["_taal"] = parse_lang(st.query_params.get(LANG_PARAM))
    return st.session_state["_taal"]


def _on_language() -> None:
    # Callbacks run before the script, so app.py's page titles are already in the new language.
    st.session_state["_taal"] = parse_lang(st.session_state.get("taal_switch"))


def language_switch(lang: Lang) -> Lang:
    # Every run: on another page Streamlit may have dropped the radio's state, and the radio
    # would fall back to its first option while the session reads English.
    st.session_state["taal_switch"] = lang
    choice = st.sidebar.radio(tr("language", lang), ["nl", "en"],
                              # Each language is named in itself, whatever the page's language.
                              format_func=lambda x: tr(f"language_{x}", x),
                              horizontal=True, key="taal_switch", on_change=_on_language)
    return parse_lang(choice)


def page_context() -> PageContext:
    """Language, database and the synthetic banner; stops the page if there is no database."""
    lang = current_lang()
    lang = language_switch(lang)
    path = db_path()
    try:
        database = db.current(path)
        info = catalog.build_info(database)
    except Exception:  # a missing or half-written file must read as a message, not a trace
        # The file name only: the absolute path of the server is nobody's business.
        st.error(tr("no_database", lang, path=md_escape(Path(path).name)))
        st.stop()
        raise  # unreachable; st.stop raises
    if info.is_synthetisch:
        st.warning(tr("synthetic_banner", lang), icon="⚠️")
    return PageContext(database, lang, info)


def footer(ctx: PageContext) -> None:
    st.caption(ctx.t("built", built_at=fmt.date_time(ctx.info.built_at, ctx.lang) + " UTC",
                     ref=ctx.info.referentie_indeling, versie=ctx.info.versie))


# --- URL and browser history ------------------------------------------------------------------
#
# A run reads the URL it started with (`UrlRun.incoming`) and writes the page's own values once,
# at its end (`commit_url`, called by app.py): one write means at most one history entry per
# change, and parameters no control of this page claimed (another page's) leave the URL.

@dataclass
class UrlRun:
    """The URL as one run of a page reads it, and what the page wants it to say afterwards."""

    page: str
    incoming: dict[str, list[str]]
    arrival: bool
    history_navigation: bool
    reported: dict[str, list[str]] = field(default_factory=dict)  # as Streamlit's frontend sent it
    out: dict[str, str] = field(default_factory=dict)

    def get(self, param: str) -> str | None:
        values = self.incoming.get(param)
        return values[-1] if values else None

    def get_all(self, param: str) -> list[str]:
        return list(self.incoming.get(param, []))

    def set(self, param: str, value: str | None) -> None:
        """What this run's controls read for `param`: an old link or a rule rewrote it."""
        if value is None:
            self.incoming.pop(param, None)
        else:
            self.incoming[param] = [value]

    def keep(self, param: str, text: str | None) -> None:
        """`param` in the URL after this run; None leaves it out."""
        if text is None:
            self.out.pop(param, None)
        else:
            self.out[param] = text


_RUN = "_url_run"


def is_history_navigation() -> bool:
    """True while a run restores a Back/Forward entry (the frontend tells Streamlit so)."""
    ctx = get_script_run_ctx()
    return bool(ctx is not None and ctx.is_history_navigation)


def _url_now() -> dict[str, list[str]]:
    return {k: st.query_params.get_all(k) for k in st.query_params}


def _set_url_silently(params: Mapping[str, list[str]]) -> None:
    """The run's idea of the URL without a message to the browser: Streamlit would answer each
    message with a history entry. Streamlit has no public call for this."""
    ctx = get_script_run_ctx()
    if ctx is None:
        return
    with ctx.session_state.query_params() as qp:
        qp.clear_with_no_forward_msg(preserve_embed=True)
        for key, values in params.items():
            qp.set_with_no_forward_msg(key, values[0] if len(values) == 1 else list(values))
    ctx.query_string = url_query(params)  # what st.switch_page, st.rerun and AppTest read


def begin_url_run(page: str) -> UrlRun:
    """Called by app.py before the page runs: what the URL says for this page."""
    history = is_history_navigation()
    arrival = st.session_state.get("_url_page") != page
    nav = st.session_state.pop("_url_nav", None)
    reported = _url_now()
    incoming = reported
    if nav is not None and nav[0] == page and not history:
        # `open_page` left the address bar alone; the values for the page it opens are here.
        incoming = as_lists(nav[1])
        _set_url_silently(incoming)
    elif not arrival and not history and reported == st.session_state.get("_url_echo"):
        # Streamlit's frontend repeats the URL it last heard of, which may predate a correction
        # made in the browser (_url_replacer); the address bar shows what the last run wrote.
        incoming = as_lists(st.session_state.get("_url_last", {}))
    run = UrlRun(page, incoming, arrival=arrival, history_navigation=history, reported=reported)
    st.session_state[_RUN] = run
    return run


def url_run() -> UrlRun:
    run = st.session_state.get(_RUN)
    return run if isinstance(run, UrlRun) else begin_url_run(st.session_state.get("_url_page", ""))


_REPLACE_JS = """
export default function ({ data }) {
  const want = data && data.search;
  if (typeof want !== "string" || window.location.search === want) return;
  const url = new URL(window.location.href);
  url.search = want;
  window.history.replaceState(window.history.state, "", url);
}
"""
_url_replacer = st.components.v2.component("wmo_url_replace", js=_REPLACE_JS)


def commit_url() -> None:
    """Called by app.py after the page ran: the URL says exactly this page's values (plus `taal`
    for English), as a new history entry only when a control changed."""
    run = url_run()
    desired = dict(run.out)
    if current_lang() == "en":
        desired[LANG_PARAM] = "en"
    # On a rerun of the same page the address bar shows what the last run wrote (see
    # begin_url_run for why Streamlit's own copy may be older).
    shown = st.session_state.get("_url_last")
    now = _url_now() if run.arrival or run.history_navigation or shown is None else shown
    action = history_action(now, desired, arrival=run.arrival,
                            history_navigation=run.history_navigation)
    if action == "push":
        st.query_params.from_dict(desired)  # one message: one entry
    elif action == "replace":
        _set_url_silently(as_lists(desired))
        query = url_query(desired)
        st.session_state["_url_replaces"] = st.session_state.get("_url_replaces", 0) + 1
        # Runs in the page (not an iframe): corrects the entry the browser is on.
        _url_replacer(data={"search": f"?{query}" if query else "",
                            "n": st.session_state["_url_replaces"]},
                      key="wmo_url_replace", height=0)
    st.session_state["_url_page"] = run.page
    st.session_state["_url_last"] = desired
    # What Streamlit's frontend believes the URL is: it hears of a push, not of a replace.
    st.session_state["_url_echo"] = as_lists(desired) if action == "push" else run.reported


def open_page(name: str, params: Mapping[str, str]) -> NoReturn:
    """Open page `name` (or this page with other values) as one new history entry; Back returns
    here with these filters."""
    st.session_state["_url_nav"] = (name, dict(params))
    # st.switch_page writes its parameters to the address bar at once, which is a history entry
    # of this page with the other page's values unless they are what the bar already shows.
    st.switch_page(page_path(name), query_params=st.session_state.get("_url_last", {}))
    raise AssertionError("unreachable: st.switch_page raises")


def url_value(param: str) -> str | None:
    """A parameter as this run's URL has it (after any rewrite by the page)."""
    return url_run().get(param)


def url_rewrite(param: str, value: str | None) -> None:
    """Rewrite what this run's controls read for `param` (an old code, another page's name)."""
    url_run().set(param, value)


def url_keep(param: str, text: str | None) -> None:
    """A parameter without a control of its own (a search text, a query) for the URL."""
    url_run().keep(param, text)


def gemeente_from_link(ctx: PageContext, param: str = "gemeente") -> None:
    """`?gemeente=` as a code (any case) or a name ('Amsterdam', "'s-Gravenhage"), before the
    page's controls read it. A name that several gemeenten carried is said, never guessed."""
    raw = url_value(param)
    found = match_gemeente(raw, catalog.gemeente_names_ever(ctx.db))
    if found.code is not None:
        url_rewrite(param, found.code)
    elif found.candidates:
        names = catalog.gemeente_names_ever(ctx.db)
        st.info(ctx.t("gemeente_ambiguous", value=md_escape(raw or "", limit=100),
                      codes=md_escape(", ".join(f"{names[c]} ({c})" for c in found.candidates),
                                      limit=300)))
        url_rewrite(param, None)


def _sync_url(key: str, raw: str | None, resolved: Any) -> None:
    """Seed a widget from the URL on first render, on Back/Forward (the entry's values, or the
    defaults where it has none), or when the URL changed under it (a link to the same page with
    another value); otherwise the widget's own state wins."""
    seen_key = f"_url_{key}"
    if (key not in st.session_state or url_run().history_navigation
            or (raw is not None and raw != st.session_state.get(seen_key)
                and resolved != st.session_state[key])):
        st.session_state[key] = resolved


def _write_url(param: str, key: str, text: str | None) -> None:
    # The URL is what the next run compares with, so remember exactly what was written.
    url_keep(param, text)
    st.session_state[f"_url_{key}"] = text


def url_selectbox(ctx: PageContext, label: str, param: str, options: Sequence[str],
                  default: str, format_func: Callable[[str], str] = str, key: str | None = None,
                  container: Any = None, **kwargs: Any) -> str:
    """A selectbox whose value lives in the URL as `param`; an unknown value gets a message."""
    key = key or f"w_{param}"
    raw = url_value(param)
    found = resolve(raw, options, default)
    if found.rejected is not None:
        st.info(ctx.t("unknown_param", name=md_escape(param), value=md_escape(found.rejected),
                      fallback=md_escape(format_func(found.value))))
    _sync_url(key, raw, found.value)
    if st.session_state[key] not in options:
        st.session_state[key] = found.value
    target = container if container is not None else st
    value = target.selectbox(label, list(options), format_func=format_func, key=key, **kwargs)
    _write_url(param, key, value)
    return value


def url_multiselect(ctx: PageContext, label: str, param: str, options: Sequence[str],
                    default: Sequence[str], format_func: Callable[[str], str] = str,
                    key: str | None = None, container: Any = None, **kwargs: Any) -> list[str]:
    """A multiselect stored in the URL as one comma-separated `param` (readable and short)."""
    key = key or f"w_{param}"
    raw_list = url_run().get_all(param)
    raw = ",".join(raw_list) if raw_list else None
    found = resolve_many(raw_list, options, default)
    for rejected in found.rejected:
        st.info(ctx.t("unknown_param", name=md_escape(param), value=md_escape(rejected),
                      fallback=md_escape(", ".join(format_func(v) for v in found.values) or "–",
                                         limit=200)))
    _sync_url(key, raw, found.values)
    target = container if container is not None else st
    values = target.multiselect(label, list(options), format_func=format_func, key=key, **kwargs)
    _write_url(param, key, ",".join(values) or None)
    return values


def url_toggle(param: str, label: str, default: bool, key: str | None = None,
               container: Any = None) -> bool:
    """A checkbox stored as `param=1|0`."""
    key = key or f"w_{param}"
    raw = url_value(param)
    resolved = default if raw not in ("0", "1") else raw == "1"
    _sync_url(key, raw, resolved)
    target = container if container is not None else st
    value = bool(target.checkbox(label, key=key))
    _write_url(param, key, "1" if value else "0")
    return value


Chartish = alt.TopLevelMixin | dict[str, Any]
# The export version may be given as a function: built only when someone downloads.
ExportChart = Chartish | Callable[[], Chartish]


def _as_spec(chart: Chartish, lang: str) -> dict[str, Any]:
    if isinstance(chart, dict):
        return charts.localised(chart, lang)
    return charts.configure(chart, lang).to_dict()


def show_table(ctx: PageContext, frame: pl.DataFrame | tables.Table, *,
               decimals: int | Mapping[str, int] | None = None, plain: Collection[str] = (),
               links: Collection[str] = (), page_links: Collection[str] = (),
               column_config: Mapping[str, Any] | None = None, **kwargs: Any) -> Any:
    """st.dataframe of a table as written by dashboard/fmt.py (tables.display): Dutch or
    English numbers and dates, "–" for unknown, number columns right-aligned; `links` are
    URL columns, made safe (http(s) only) and left as URLs; `page_links` are our own page
    addresses, left as they are. Downloads are made from the real frame, never from this one."""
    if isinstance(frame, tables.Table):
        shown = tables.Table(safe_links(frame.frame, *links), frame.numeric)
    else:
        shown = tables.display(safe_links(frame, *links), ctx.lang, decimals, plain,
                               links=(*links, *page_links))
    # A missing link is an empty cell: the grid would write "None", and "–" would be a link.
    present = [c for c in (*links, *page_links) if c in shown.frame.columns]
    if present:
        shown = tables.Table(shown.frame.with_columns(pl.col(present).fill_null("")),
                             shown.numeric)
    config: dict[str, Any] = dict(column_config or {})
    for name in shown.numeric:
        cell = dict(config.get(name) or {})
        if cell.get("type_config", {}).get("type") == "number":  # the cells are text now
            cell["type_config"] = {"type": "text"}
        if cell.get("alignment") is None:
            cell["alignment"] = "right"
        config[name] = cell
    kwargs.setdefault("hide_index", True)
    # Arrow goes to the browser as is; a polars frame would pass through pandas.
    return st.dataframe(shown.frame.to_arrow(), column_config=config or None, **kwargs)


def show_chart(ctx: PageContext, chart: Chartish, *, name: str,
               table: pl.DataFrame | tables.Table | None = None, key: str | None = None,
               export_chart: ExportChart | None = None,
               on_select: str = "ignore", selection_mode: str | None = None,
               lazy_table: bool = False) -> Any:
    """The chart (Altair or a finished Vega-Lite dict), PNG/SVG rendered on the server on
    click, and its table alternative.

    `lazy_table`: the table is sent only while its expander is open (opening it reruns the
    page). A closed expander otherwise still carries the rows on every rerun, and the first
    one makes the browser load the whole data-grid code before the page settles.
    """
    shown = _as_spec(chart, ctx.lang)
    # vega_lite_chart mutates the dict (moves datasets out), so it gets its own copy.
    event = st.vega_lite_chart(dict(shown), width="stretch", key=key, on_select=on_select,
                               selection_mode=selection_mode)
    _downloads_and_table(ctx, export_chart if export_chart is not None else chart, name=name,
                         key=key, table=table, lazy_table=lazy_table)
    return event


def _downloads_and_table(ctx: PageContext, spec: ExportChart, *, name: str, key: str | None,
                         table: pl.DataFrame | None, lazy_table: bool = False) -> None:
    """PNG and SVG of `spec` (rendered on the server on click) and the table alternative."""
    row = st.container(horizontal=True)
    # Deferred: rendering a map PNG takes a moment and most reruns never download it.
    row.download_button(ctx.t("download_png"), data=_renderer(spec, "png", ctx.lang),
                        file_name=f"{name}.png", mime="image/png", on_click="ignore",
                        key=f"png_{key or name}")
    row.download_button(ctx.t("download_svg"), data=_renderer(spec, "svg", ctx.lang),
                        file_name=f"{name}.svg", mime="image/svg+xml", on_click="ignore",
                        key=f"svg_{key or name}")
    if table is None:
        return
    box = (st.expander(ctx.t("table_alternative"), key=f"table_{key or name}",
                       on_change="rerun") if lazy_table
           else st.expander(ctx.t("table_alternative")))
    if box.open is not False:  # None: an expander that does not track its state
        with box:
            show_table(ctx, table)


EXPORT_WIDTH = 820  # px of the plot in a PNG/SVG: about a memo page


def export_spec(chart: Chartish, lang: str = "nl") -> dict[str, Any]:
    """The spec as rendered off-screen: a 'container' width is 0 without a page around it, and
    datasets given as frames (sent to the browser as Arrow) become JSON records."""
    spec = _as_spec(chart, lang)
    if spec.get("width") == "container":
        spec = {**spec, "width": EXPORT_WIDTH}
    datasets = spec.get("datasets", {})
    if any(isinstance(d, pl.DataFrame) for d in datasets.values()):
        spec = {**spec, "datasets": {k: d.to_dicts() if isinstance(d, pl.DataFrame) else d
                                     for k, d in datasets.items()}}
    return spec


def _renderer(chart: ExportChart, kind: str, lang: str = "nl") -> Callable[[], bytes]:
    def render() -> bytes:
        spec = export_spec(chart if isinstance(chart, alt.TopLevelMixin | dict) else chart(),
                           lang)
        return charts.to_png(spec) if kind == "png" else charts.to_svg(spec)
    return render


def page_path(name: str) -> str:
    """Path for st.switch_page, relative to the entry script like st.navigation's pages."""
    return f"app_pages/{name}.py"


def show_panels(ctx: PageContext, spec: dict[str, Any], *, name: str, columns: int,
                table: pl.DataFrame | tables.Table | None = None, key: str | None = None,
                export_chart: ExportChart | None = None) -> None:
    """Small multiples (a finished facet spec) as a grid of full-width panels: rows of
    `columns`, which Streamlit stacks into one column on a phone. The download is the facet
    itself, with its title and source inside the image."""
    title, subtitles = charts.title_of(spec), charts.subtitles_of(spec)
    if title:
        st.markdown(f"**{md_escape(title, 400)}**")
    if subtitles:
        st.caption("  \n".join(md_escape(line, 400) for line in subtitles))
    panels = charts.facet_panels(spec)
    for start in range(0, len(panels), columns):
        # One row at a time: stacked on a phone, the panels keep their reading order.
        for cell, panel in zip(st.columns(columns), panels[start:start + columns], strict=False):
            with cell:
                st.vega_lite_chart(charts.localised(panel, ctx.lang), width="stretch")
    _downloads_and_table(ctx, export_chart if export_chart is not None else spec, name=name,
                         key=key, table=table)
