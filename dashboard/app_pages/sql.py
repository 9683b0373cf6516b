"""Placeholder until the page is built."""

import streamlit as st

from dashboard.ui import page_context

ctx = page_context()
st.title(ctx.t("page_sql"))
