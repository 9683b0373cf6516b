"""wmo-atlas dashboard (shell): reads only the DuckDB file named by WMO_DB.

The full pages (Kaart, Vergelijken, Werkwijze, Bezwaar, Gemeente, Data, SQL, Over) are the
dashboard issue; this shell shows what the database holds and the synthetic-data banner.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import streamlit as st

DB_PATH = Path(os.environ.get("WMO_DB", "data/processed/wmo.duckdb"))

st.set_page_config(page_title="wmo-atlas", layout="wide")
st.title("wmo-atlas")

if not DB_PATH.exists():
    st.error(f"Database {DB_PATH} ontbreekt: voer eerst `./dev build` uit.")
    st.stop()

con = duckdb.connect(str(DB_PATH), read_only=True)
try:
    built_at, synthetic, ref = con.execute(
        "SELECT built_at, is_synthetisch, referentie_indeling FROM meta.build").fetchone()
    if synthetic:
        st.warning("SYNTHETISCHE DEMODATA: deze cijfers zijn gegenereerd en zijn géén CBS-cijfers.")
    st.caption(f"Database gebouwd op {built_at:%Y-%m-%d %H:%M} UTC · gemeentelijke indeling {ref}")
    st.subheader("Bronnen")
    st.dataframe(con.sql("SELECT bron_id, titel, opgehaald_op, licentie, is_synthetisch "
                         "FROM meta.bron ORDER BY bron_id").pl(), hide_index=True)
    st.subheader("Gegevenswoordenboek")
    st.dataframe(con.sql("SELECT * FROM meta.veld").pl(), hide_index=True)
finally:
    con.close()
