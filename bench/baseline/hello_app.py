"""Calibration page: the smallest Streamlit page with a selectbox and one Altair chart.

Timed by bench/browser.py exactly like the Kaart page, to show what Streamlit and Chromium
cost on this machine before wmo-atlas does anything (the floor under the browser figures).
"""

import altair as alt
import polars as pl
import streamlit as st

labels = [str(y) for y in range(2024, 2014, -1)]
label = st.selectbox("Periode", labels, key="kaart_periode")
frame = pl.DataFrame({"a": list(range(10)), "b": [(i * 7 + len(label)) % 10 for i in range(10)]})
st.altair_chart(alt.Chart(frame).mark_bar().encode(x="a:O", y="b:Q").properties(
    title=f"Kalibratie, {label}"))
