"""Municipal and provincial boundaries (CBS gebiedsindelingen via PDOK / cartomap).

Reads TopoJSON, GeoJSON or GeoPackage; sets the CRS, repairs geometries, orients rings
clockwise (what Vega/d3 expect, the opposite of RFC 7946) and computes areas in RD New.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import geopandas as gpd
import polars as pl
import shapely

from etl.errors import InputError, display_path
from etl.inputs import Inputs, Progress, bron_row, verified_sidecar
from etl.metadata import load_metadata
from etl.sources import Source, SourceContext

GEO_SUFFIXES = (".topojson", ".geojson", ".json", ".gpkg")
NAME_RE = re.compile(r"^(gemeente|provincie)_(\d{4})$")
RD_NEW = 28992
WGS84 = 4326
# ~1 m at Dutch latitudes: enough for a national choropleth, keeps the payload small.
COORD_DECIMALS = 5


def boundary_files(geo_dir: Path) -> dict[tuple[str, int], Path]:
    """`{("gemeente", 2026): path, ("provincie", 2026): path, …}` found in a geo folder."""
    found: dict[tuple[str, int], Path] = {}
    for path in sorted(geo_dir.iterdir()) if geo_dir.is_dir() else []:
        if path.suffix.lower() not in GEO_SUFFIXES:
            continue
        m = NAME_RE.match(path.stem)
        if m:
            found[(m.group(1), int(m.group(2)))] = path
    return found


def read_boundaries(path: Path, level: str) -> gpd.GeoDataFrame:
    """Read one boundary file into [code, naam, geometry] in EPSG:4326, valid and clockwise."""
    name = display_path(path)
    try:
        gdf = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several types; the message is what the user needs
        raise InputError(name, None, None, f"cannot read boundary file: {exc}") from exc
    for column in ("statcode", "statnaam"):
        if column not in gdf.columns:
            raise InputError(name, None, column, f"missing property {column!r} on the features")
    kinds = set(gdf.geometry.geom_type.dropna())
    if not kinds or not kinds <= {"Polygon", "MultiPolygon"}:
        raise InputError(
            name, None, "geometry",
            f"not a polygon layer (geometry types: {', '.join(sorted(kinds)) or 'none'})",
        )
    prefix = "GM" if level == "gemeente" else "PV"
    bad = gdf.loc[~gdf["statcode"].astype(str).str.match(rf"^{prefix}\d+$"), "statcode"]
    if len(bad):
        raise InputError(name, f"feature {int(bad.index[0]) + 1}", "statcode",
                         f"expected a {prefix} code, got {bad.iloc[0]!r}")
    if gdf.crs is None:
        gdf = gdf.set_crs(WGS84)  # TopoJSON carries no CRS; CBS/cartomap wgs84 files are lon/lat
    gdf = gdf.to_crs(WGS84)
    geom = shapely.make_valid(gdf.geometry.values)
    geom = shapely.orient_polygons(_polygonal(geom), exterior_cw=True)
    out = gpd.GeoDataFrame(
        {"code": gdf["statcode"].astype(str).str.strip(), "naam": gdf["statnaam"].astype(str)},
        geometry=geom, crs=WGS84,
    )
    if out["code"].duplicated().any():
        dup = out.loc[out["code"].duplicated(), "code"].iloc[0]
        raise InputError(name, None, "statcode", f"duplicate code {dup}")
    return out


def _polygonal(geoms):
    """make_valid can return GeometryCollections with stray lines; keep the polygon parts."""
    parts = []
    for g in geoms:
        if g.geom_type == "GeometryCollection":
            polys = [p for p in g.geoms if p.geom_type in ("Polygon", "MultiPolygon")]
            g = shapely.union_all(polys)
        parts.append(g)
    return parts


def geometry_table(gdf: gpd.GeoDataFrame, indeling_jaar: int) -> pl.DataFrame:
    """Rows for core.gemeente_geometrie: GeoJSON text (rounded, clockwise), WKB and area."""
    rounded = shapely.set_precision(gdf.geometry.values, 10**-COORD_DECIMALS)
    rounded = shapely.orient_polygons(rounded, exterior_cw=True)
    area = gdf.to_crs(RD_NEW).geometry.area / 1e6
    return pl.DataFrame(
        {
            "indeling_jaar": [indeling_jaar] * len(gdf),
            "gemeente_code": gdf["code"].tolist(),
            "geojson": [json.dumps(shapely.geometry.mapping(g), separators=(",", ":"))
                        for g in rounded],
            "wkb": [shapely.to_wkb(g) for g in gdf.geometry.values],
            "oppervlakte_km2": area.round(3).tolist(),
        },
        schema={"indeling_jaar": pl.Int32, "gemeente_code": pl.Utf8, "geojson": pl.Utf8,
                "wkb": pl.Binary, "oppervlakte_km2": pl.Float64},
    )


def province_of_gemeenten(gemeenten: gpd.GeoDataFrame,
                          provincies: gpd.GeoDataFrame) -> pl.DataFrame:
    """[gemeente_code, gemeente_naam, provincie_code, provincie_naam] by point-in-polygon (RD)."""
    points = gemeenten.to_crs(RD_NEW).copy()
    points["geometry"] = points.geometry.representative_point()
    joined = gpd.sjoin(points, provincies.to_crs(RD_NEW), how="left", predicate="within",
                       lsuffix="gm", rsuffix="pv")
    joined = joined[~joined.index.duplicated()]
    return pl.DataFrame({
        "gemeente_code": joined["code_gm"].tolist(),
        "gemeente_naam": joined["naam_gm"].tolist(),
        "provincie_code": joined["code_pv"].tolist(),
        "provincie_naam": joined["naam_pv"].tolist(),
    }).sort("gemeente_code")


# --------------------------------------------------------------------------- the source


def geo_dir_for(raw_dir: Path, snapshot_dir: Path | None) -> Path:
    if snapshot_dir is not None:
        return snapshot_dir / "geo"
    return raw_dir / "geo"


def read_geo(inputs: Inputs, geo_dir: Path, reference_year: int | None,
             progress: Progress) -> None:
    sidecar = verified_sidecar(inputs, geo_dir, required=False) if geo_dir.is_dir() else None
    files = boundary_files(geo_dir)
    gemeente_years = sorted(y for kind, y in files if kind == "gemeente")
    provincie_years = sorted(y for kind, y in files if kind == "provincie")
    if not gemeente_years or not provincie_years:
        inputs.errors.append(InputError(display_path(geo_dir), None, None,
                                        "no gemeente_YYYY and provincie_YYYY boundary files found "
                                        "(pass --snapshot DIR or set WMO_SNAPSHOT_DIR)"))
        return
    ref = reference_year or gemeente_years[-1]
    if ref not in gemeente_years:
        inputs.errors.append(InputError(display_path(geo_dir), None, "--reference-year",
                                        f"no gemeente_{ref} boundary file (have "
                                        f"{', '.join(map(str, gemeente_years))})"))
        return
    inputs.reference_year = ref
    try:
        gemeenten = {y: read_boundaries(files[("gemeente", y)], "gemeente")
                     for y in gemeente_years}
        prov_year = max(y for y in provincie_years if y <= ref) if min(provincie_years) <= ref \
            else provincie_years[0]
        provincies = read_boundaries(files[("provincie", prov_year)], "provincie")
    except InputError as exc:
        inputs.errors.append(exc)
        return
    progress(f"boundaries: gemeente {', '.join(map(str, gemeente_years))}; "
             f"provincie {prov_year}; reference classification {ref}")
    inputs.frames["core.gemeente_geometrie"] = pl.concat(
        [geometry_table(g, y) for y, g in gemeenten.items()])
    prov_geom = geometry_table(provincies, prov_year).rename(
        {"gemeente_code": "provincie_code"}).with_columns(
        pl.Series("provincie_naam", provincies["naam"].tolist()))
    inputs.frames["core.provincie_geometrie"] = prov_geom
    inputs.frames["_current"] = province_of_gemeenten(gemeenten[ref], provincies)
    # Without a sidecar the boundary files are described by metadata.yaml (never by the local
    # folder: its absolute path would travel inside the database).
    documented = load_metadata().sources["geo"]
    sidecar = sidecar or {
        "source_id": documented.source_id, "title": documented.title,
        "producer": documented.producer, "format": "topojson", "synthetic": False,
        "licence": documented.licence, "url": documented.url}
    inputs.bronnen.append(bron_row(geo_dir, sidecar))




def read(inputs: Inputs, ctx: SourceContext) -> None:
    read_geo(inputs, geo_dir_for(ctx.raw_dir, ctx.snapshot_dir), ctx.reference_year,
             ctx.progress)


SOURCE = Source(
    "geo", reads="<snapshot>/geo/ (--snapshot) or <raw>/geo/: gemeente_YYYY and provincie_YYYY "
                 "boundary files, optional _source.json",
    fetch="none: the boundary snapshot is shared (../shared/snapshot/geo), `wmo demo` copies it",
    returns=("core.gemeente_geometrie", "core.provincie_geometrie"), read=read)
