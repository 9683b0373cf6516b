"""Streamlit's own chrome that readers should not get, switched off once for every page.

`client.toolbarMode = "minimal"` (.streamlit/config.toml) removes the Deploy button and the
developer menu. The hover toolbar of a chart has no setting: it offers an English "Show data"
view of the chart's internal columns (class keys, Vega fields), a second PNG download without
our title and source line, and "Copy Vega-Lite spec". Every chart on these pages has its own
PNG, SVG and table alternative with the source line, so that toolbar is hidden with one fixed
stylesheet (our constant, never data).

Streamlit also draws its own icons (the expander arrow, the sidebar buttons) as Material
Symbols ligatures: the icon is its name as text ("keyboard_arrow_right"), which copy-paste
and innerText pick up. The stylesheet hides the name and draws the same glyph from CSS,
which is no text. A metric's label, cut to one line by default, wraps instead.
"""

from __future__ import annotations

import streamlit as st

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

CSS = """<style>
div:has(> [data-testid="stVegaLiteChart"]) > [data-testid="stElementToolbar"] {
  display: none !important;
}
""" + ICON_CSS + METRIC_CSS + "</style>"


def hide_chart_toolbars() -> None:
    st.html(CSS)
