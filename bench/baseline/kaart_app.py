"""Baseline map page: the plain way a first version would build the Kaart page.

Every rerun reads the period's rows from DuckDB into pandas, merges them with a GeoDataFrame
and serialises the result as GeoJSON into an Altair chart (geometry inline in every rerun).
The GeoDataFrame itself is loaded once per process (st.cache_resource), which is already
kinder than many first versions. Timed by bench/kaart.py with AppTest, exactly like the real
page, on the same database.
"""

import json
import os

import altair as alt
import duckdb
import geopandas as gpd
import shapely
import streamlit as st

DB = os.environ["WMO_DB"]


@st.cache_resource
def shapes() -> gpd.GeoDataFrame:
    con = duckdb.connect(DB, read_only=True)
    frame = con.execute(
        "SELECT gemeente_code, wkb FROM core.gemeente_geometrie "
        "WHERE indeling_jaar = (SELECT referentie_indeling FROM meta.build)").df()
    con.close()
    geometry = shapely.from_wkb(frame["wkb"].map(bytes))
    geometry = shapely.orient_polygons(geometry, exterior_cw=True)
    return gpd.GeoDataFrame({"gemeente_code": frame["gemeente_code"]}, geometry=geometry,
                            crs=4326)


con = duckdb.connect(DB, read_only=True)
periods = [r[0] for r in con.execute(
    "SELECT periode_code FROM core.periode ORDER BY periode_code DESC").fetchall()]
periode = st.selectbox("Periode", periods, key="kaart_periode")
values = con.execute(
    "SELECT gemeente_code, gemeente_naam, provincie_naam, clienten_per_1000, status, "
    "werkwijze_hbh FROM out.gemeente_periode WHERE periode_code = ? AND voorziening_code = ?",
    [periode, "T001024"]).df()
con.close()
merged = shapes().merge(values, on="gemeente_code", how="left")
features = json.loads(merged.to_json())["features"]
select = alt.selection_point(fields=["properties.gemeente_code"], name="gm")
chart = alt.Chart(alt.Data(values=features)).mark_geoshape().encode(
    color=alt.Color("properties.clienten_per_1000:Q"),
    tooltip=["properties.gemeente_naam:N", "properties.clienten_per_1000:Q"],
).add_params(select).project("mercator").properties(
    title=f"Wmo-cliënten per 1 000 inwoners, {periode}")
st.altair_chart(chart, on_select="rerun", key="kaart_map")
st.dataframe(values)
