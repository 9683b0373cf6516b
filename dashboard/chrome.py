"""Streamlit's own chrome that readers should not get, switched off once for every page.

`client.toolbarMode = "minimal"` (.streamlit/config.toml) removes the Deploy button and the
developer menu. The hover toolbar of a chart has no setting: it offers an English "Show data"
view of the chart's internal columns (class keys, Vega fields), a second PNG download without
our title and source line, and "Copy Vega-Lite spec". Every chart on these pages has its own
PNG, SVG and table alternative with the source line, so that toolbar is hidden with one fixed
stylesheet (our constant, never data).
"""

from __future__ import annotations

import streamlit as st

CSS = """<style>
div:has(> [data-testid="stVegaLiteChart"]) > [data-testid="stElementToolbar"] {
  display: none !important;
}
</style>"""


def hide_chart_toolbars() -> None:
    st.html(CSS)
