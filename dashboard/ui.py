"""Streamlit glue shared by the pages: database, language, banner, URL-bound controls, charts.

Pages stay thin: they call `page_context()` first, then these helpers and the plain view
modules in `dashboard/views/`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import altair as alt
import polars as pl
import streamlit as st

from dashboard import catalog, charts, db
from dashboard.i18n import Lang, parse_lang, tr
from dashboard.safe import md_escape
from dashboard.state import resolve, resolve_many


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
    """`taal` from the URL, else what this session chose before (sidebar links drop params)."""
    raw = st.query_params.get("taal")
    lang = parse_lang(raw) if raw is not None else st.session_state.get("_taal", "nl")
    st.session_state["_taal"] = lang
    return lang


def language_switch(lang: Lang) -> Lang:
    choice = st.sidebar.radio(tr("language", lang), ["nl", "en"], index=0 if lang == "nl" else 1,
                              format_func=lambda x: {"nl": "Nederlands", "en": "English"}[x],
                              horizontal=True, key="taal_switch")
    if choice != lang:
        st.session_state["_taal"] = choice
    if choice == "en":
        st.query_params["taal"] = "en"
    elif "taal" in st.query_params:
        del st.query_params["taal"]
    return choice


# Streamlit draws its own icons (the expander arrow, the sidebar buttons) as Material Symbols
# ligatures: the icon is its name as text ("keyboard_arrow_right"), which copy-paste and
# innerText pick up. The name is hidden and the same glyph drawn from CSS, which is no text.
_ICON = '[data-testid="stIconMaterial"]'
_ICONS = {
    f'[data-testid="stExpander"] details > summary {_ICON}': "keyboard_arrow_right",
    f'[data-testid="stExpander"] details[open] > summary {_ICON}': "keyboard_arrow_down",
    f'[data-testid="stExpandSidebarButton"] {_ICON}': "keyboard_double_arrow_right",
    f'[data-testid="stSidebar"] [data-testid="stBaseButton-headerNoPadding"] {_ICON}':
        "keyboard_double_arrow_left",
}
# A metric's label is cut to one line by default; on a phone that hides what it measures.
METRIC_CSS = ('[data-testid="stMetricLabel"] [data-testid="stMarkdownContainer"] p '
              "{white-space: normal; overflow: visible; text-overflow: clip}")
ICON_CSS = "".join(
    f"{selector} {{visibility: hidden; position: relative}}"
    f"{selector}::before {{content: '{name}'; visibility: visible; position: absolute; inset: 0}}"
    for selector, name in _ICONS.items())


def page_context() -> PageContext:
    """Language, database and the synthetic banner; stops the page if there is no database."""
    st.html(f"<style>{ICON_CSS}{METRIC_CSS}</style>")
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
    st.caption(ctx.t("built", built_at=ctx.info.built_at + " UTC",
                     ref=ctx.info.referentie_indeling, versie=ctx.info.versie))


def _sync_url(key: str, raw: str | None, resolved: Any) -> None:
    """Seed a widget from the URL on first render, or when the URL changed under it (a link to
    the same page with another value); otherwise the widget's own state wins."""
    seen_key = f"_url_{key}"
    if key not in st.session_state or (raw is not None and raw != st.session_state.get(seen_key)
                                       and resolved != st.session_state[key]):
        st.session_state[key] = resolved


def _write_url(param: str, key: str, text: str | None) -> None:
    # The URL is what the next run compares with, so remember exactly what was written.
    if text is None:
        st.query_params.pop(param, None)
    elif st.query_params.get(param) != text:
        st.query_params[param] = text
    st.session_state[f"_url_{key}"] = text


def url_selectbox(ctx: PageContext, label: str, param: str, options: Sequence[str],
                  default: str, format_func: Callable[[str], str] = str, key: str | None = None,
                  container: Any = None, **kwargs: Any) -> str:
    """A selectbox whose value lives in the URL as `param`; an unknown value gets a message."""
    key = key or f"w_{param}"
    raw = st.query_params.get(param)
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
    raw_list = st.query_params.get_all(param)
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
    raw = st.query_params.get(param)
    resolved = default if raw not in ("0", "1") else raw == "1"
    _sync_url(key, raw, resolved)
    target = container if container is not None else st
    value = bool(target.checkbox(label, key=key))
    _write_url(param, key, "1" if value else "0")
    return value


Chartish = alt.TopLevelMixin | dict[str, Any]
# The export version may be given as a function: built only when someone downloads.
ExportChart = Chartish | Callable[[], Chartish]


def _as_spec(chart: Chartish) -> dict[str, Any]:
    return chart if isinstance(chart, dict) else charts.configure(chart).to_dict()


def show_chart(ctx: PageContext, chart: Chartish, *, name: str,
               table: pl.DataFrame | None = None, key: str | None = None,
               export_chart: ExportChart | None = None,
               on_select: str = "ignore", selection_mode: str | None = None) -> Any:
    """The chart (Altair or a finished Vega-Lite dict), PNG/SVG rendered on the server on
    click, and its table alternative."""
    shown = _as_spec(chart)
    # vega_lite_chart mutates the dict (moves datasets out), so it gets its own copy.
    event = st.vega_lite_chart(dict(shown), width="stretch", key=key, on_select=on_select,
                               selection_mode=selection_mode)
    spec = export_chart if export_chart is not None else chart
    row = st.container(horizontal=True)
    # Deferred: rendering a map PNG takes a moment and most reruns never download it.
    row.download_button(ctx.t("download_png"), data=_renderer(spec, "png"),
                            file_name=f"{name}.png", mime="image/png", on_click="ignore",
                            key=f"png_{key or name}")
    row.download_button(ctx.t("download_svg"), data=_renderer(spec, "svg"),
                            file_name=f"{name}.svg", mime="image/svg+xml", on_click="ignore",
                            key=f"svg_{key or name}")
    if table is not None:
        with st.expander(ctx.t("table_alternative")):
            # Arrow goes to the browser as is; a polars frame would pass through pandas.
            st.dataframe(table.to_arrow(), hide_index=True)
    return event


EXPORT_WIDTH = 820  # px of the plot in a PNG/SVG: about a memo page


def export_spec(chart: Chartish) -> dict[str, Any]:
    """The spec as rendered off-screen: a 'container' width is 0 without a page around it, and
    datasets given as frames (sent to the browser as Arrow) become JSON records."""
    spec = _as_spec(chart)
    if spec.get("width") == "container":
        spec = {**spec, "width": EXPORT_WIDTH}
    datasets = spec.get("datasets", {})
    if any(isinstance(d, pl.DataFrame) for d in datasets.values()):
        spec = {**spec, "datasets": {k: d.to_dicts() if isinstance(d, pl.DataFrame) else d
                                     for k, d in datasets.items()}}
    return spec


def _renderer(chart: ExportChart, kind: str) -> Callable[[], bytes]:
    def render() -> bytes:
        spec = export_spec(chart if isinstance(chart, alt.TopLevelMixin | dict) else chart())
        return charts.to_png(spec) if kind == "png" else charts.to_svg(spec)
    return render


def page_path(name: str) -> str:
    """Path for st.switch_page, relative to the entry script like st.navigation's pages."""
    return f"app_pages/{name}.py"


def show_panels(ctx: PageContext, spec: dict[str, Any], *, name: str, columns: int,
                table: pl.DataFrame | None = None, key: str | None = None,
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
                st.vega_lite_chart(panel, width="stretch")
    export = export_chart if export_chart is not None else spec
    row = st.container(horizontal=True)
    row.download_button(ctx.t("download_png"), data=_renderer(export, "png"),
                        file_name=f"{name}.png", mime="image/png", on_click="ignore",
                        key=f"png_{key or name}")
    row.download_button(ctx.t("download_svg"), data=_renderer(export, "svg"),
                        file_name=f"{name}.svg", mime="image/svg+xml", on_click="ignore",
                        key=f"svg_{key or name}")
    if table is not None:
        with st.expander(ctx.t("table_alternative")):
            st.dataframe(table.to_arrow(), hide_index=True)
