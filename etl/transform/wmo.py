"""CBS Wmo tables → core.wmo_clienten, core.voorziening, core.periode (as published).

Several CBS tables cover overlapping periods (83262NED → 84839NED → 86050NED, each a new
method); each period is taken from the highest-priority table that publishes it, and the row
says which (`bron_tabel`).

The same tables carry CBS's own figures for Nederland (NL01) and the provinces (PV20…PV31).
They are not sums of the gemeenten: CBS estimates the gemeenten that did not deliver. They go
to core.wmo_clienten_regio, so that the dashboard can show CBS's figure beside a pooled one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import polars as pl

from etl.errors import InputError
from etl.sources.cbs.parse import CbsCube

if TYPE_CHECKING:
    # tables.py declares which transform each table runs, so it imports this module.
    from etl.sources.cbs.tables import TableSpec

Parsed = list[tuple["TableSpec", Any]]

REGION_DIM = "RegioS"
CATEGORY_PREFIX = "TypeMaatwerk"
# Aggregates shared by all Wmo tables (format doc §9.2); everything else is a detail category.
GROUP_CODES = ["T001024", "A048188", "A019507", "A019506", "A019508", "A019509"]

WMO_SCHEMA = {
    "gemeente_code": pl.Utf8, "periode_code": pl.Utf8, "jaar": pl.Int32, "halfjaar": pl.Int8,
    "voorziening_code": pl.Utf8, "voorziening": pl.Utf8, "clienten": pl.Int64,
    "clienten_per_1000": pl.Int32, "status": pl.Utf8, "bron_tabel": pl.Utf8,
}


def category_dimension(table) -> str:
    for key in table.dimensions:
        if key.startswith(CATEGORY_PREFIX):
            return key
    raise InputError(table.table_id, None, "DataProperties",
                     f"no '{CATEGORY_PREFIX}…' dimension (found: {', '.join(table.dimensions)})")


def breakdown_dimension(table) -> str:
    """The one dimension that is neither the region nor the time: found by its role, because
    its key differs per table and is not known in advance (84580NED: "Maatwerkvoorzieningen:
    type", older "Maatwerkarrangementen: type"; 86061NED: "Reden beëindiging")."""
    others = [key for key in table.dimensions if key != REGION_DIM]
    if REGION_DIM not in table.dimensions or len(others) != 1:
        raise InputError(table.table_id, None, "DataProperties",
                         f"expected the dimensions {REGION_DIM}, Perioden and exactly one other; "
                         f"found: {', '.join(table.dimensions) or 'none'} besides Perioden")
    return others[0]


def total_code(table, dim: str) -> str:
    """The 'Totaal …' category of a dimension we do not break down by (Geslacht, leeftijd…)."""
    cats = table.dimensions[dim]
    totals = cats.filter(pl.col("title").str.to_lowercase().str.starts_with("totaal"))
    if totals.height == 0:
        raise InputError(table.table_id, None, dim,
                         "no 'Totaal …' category to take the total of this dimension from")
    return totals["code"][0]


def select_totals(table, keep: set[str]) -> pl.DataFrame:
    """Observations with every dimension outside `keep` fixed to its total category."""
    obs = table.observations
    for dim in table.dimensions:
        if dim in keep or dim not in obs.columns:
            continue
        obs = obs.filter(pl.col(dim) == total_code(table, dim))
    return obs


def wide_measures(obs: pl.DataFrame, index: list[str], measures: list[str]) -> pl.DataFrame:
    wide = obs.pivot(on="measure", index=index, values="value", aggregate_function=None)
    for m in measures:
        if m not in wide.columns:
            wide = wide.with_columns(pl.lit(None, pl.Float64).alias(m))
    return wide


def _wide_rows(spec: TableSpec, table, regions: pl.Expr) -> pl.DataFrame:
    """The regions matching `regions`, JJ and HJ periods, one column per measure (rounded)."""
    cat = category_dimension(table)
    obs = select_totals(table, {REGION_DIM, cat})
    obs = obs.filter(regions & pl.col("periode_code").str.contains(r"^\d{4}(JJ|HJ)\d{2}$"))
    wide = wide_measures(
        obs, [REGION_DIM, cat, "periode_code", "jaar", "halfjaar", "status"],
        ["clienten", "clienten_per_1000"],
    )
    titles = table.dimensions[cat].select(pl.col("code").alias(cat),
                                          pl.col("title").alias("voorziening"))
    return (
        wide.join(titles, on=cat, how="left")
        .rename({cat: "voorziening_code"})
        .with_columns(pl.lit(spec.table_id).alias("bron_tabel"),
                      pl.col("clienten").round(0), pl.col("clienten_per_1000").round(0))
    )


def table_rows(spec: TableSpec, table) -> pl.DataFrame:
    """One Wmo table as core.wmo_clienten rows (gemeenten only; JJ and HJ periods)."""
    return (
        _wide_rows(spec, table, pl.col(REGION_DIM).str.starts_with("GM"))
        .rename({REGION_DIM: "gemeente_code"})
        .select(list(WMO_SCHEMA))
        .cast(WMO_SCHEMA)  # type: ignore[arg-type]
    )


REGIO_SCHEMA = {
    "regio_code": pl.Utf8, "regio_naam": pl.Utf8, "regio_type": pl.Utf8,
    "periode_code": pl.Utf8, "jaar": pl.Int32, "halfjaar": pl.Int8,
    "voorziening_code": pl.Utf8, "clienten": pl.Int64, "clienten_per_1000": pl.Int32,
    "status": pl.Utf8, "bron_tabel": pl.Utf8,
}
# Only the country and the provinces: landsdelen (LD..) and COROP areas would need their own
# presentation and no page asks for them.
REGIO_PATTERN = r"^(NL01|PV\d{2})$"


def regio_type(code: pl.Expr) -> pl.Expr:
    return pl.when(code.str.starts_with("NL")).then(pl.lit("land")).otherwise(pl.lit("provincie"))


def regio_table_rows(spec: TableSpec, table) -> pl.DataFrame:
    """One Wmo table as core.wmo_clienten_regio rows: CBS's NL01 and PV cells, as published."""
    names = table.dimensions[REGION_DIM].select(
        pl.col("code").alias(REGION_DIM), pl.col("title").str.strip_chars().alias("regio_naam"))
    return (
        _wide_rows(spec, table, pl.col(REGION_DIM).str.contains(REGIO_PATTERN))
        .join(names, on=REGION_DIM, how="left")
        .rename({REGION_DIM: "regio_code"})
        .with_columns(regio_type(pl.col("regio_code")).alias("regio_type"))
        .select(list(REGIO_SCHEMA))
        .cast(REGIO_SCHEMA)  # type: ignore[arg-type]
    )


def choose_periods(tables: Parsed) -> pl.DataFrame:
    """[periode_code, bron_tabel]: per period the highest-priority table that publishes it."""
    frames = [
        t.periods.select("periode_code").with_columns(
            pl.lit(spec.table_id).alias("bron_tabel"), pl.lit(spec.priority).alias("_prio"))
        for spec, t in tables
    ]
    if not frames:
        return pl.DataFrame(schema={"periode_code": pl.Utf8, "bron_tabel": pl.Utf8})
    return (
        pl.concat(frames).sort("_prio", descending=True)
        .unique("periode_code", keep="first").drop("_prio").sort("periode_code")
    )


YEAR_RE = r"^\d{4}JJ00$"


def newest_table_wins(tables: Parsed, rows: Callable[[TableSpec, Any], pl.DataFrame],
                      schema: dict[str, pl.DataType], sort: Sequence[str]) -> pl.DataFrame:
    """Every table's rows, each period from the highest-priority table that publishes it.

    The rule of all CBS series that were restarted under a new id: the newest method wins and
    the row names it in `bron_tabel`. Rows keyed by `jaar` only (spending, population) are
    matched on the whole-year periods (YYYYJJ00) of `choose_periods`.
    """
    chosen = choose_periods(tables)
    parts = [rows(spec, t) for spec, t in tables]
    if not parts:
        return pl.DataFrame(schema=schema)
    frame = pl.concat(parts)
    if "periode_code" in frame.columns:
        keep = chosen
    else:
        keep = chosen.filter(pl.col("periode_code").str.contains(YEAR_RE)).select(
            pl.col("periode_code").str.slice(0, 4).cast(pl.Int32).alias("jaar"), "bron_tabel")
    return frame.join(keep, on=keep.columns, how="semi").sort(list(sort))


WMO_SORT = ("gemeente_code", "periode_code", "voorziening_code")
REGIO_SORT = ("regio_code", "periode_code", "voorziening_code")


def wmo_clienten(tables: Parsed) -> pl.DataFrame:
    """core.wmo_clienten from all Wmo tables, each period from one table only."""
    return newest_table_wins(tables, table_rows, WMO_SCHEMA, WMO_SORT)


def wmo_clienten_regio(tables: Parsed) -> pl.DataFrame:
    """core.wmo_clienten_regio: each period from the same table as core.wmo_clienten."""
    return newest_table_wins(tables, regio_table_rows, REGIO_SCHEMA, REGIO_SORT)


def periode(tables: Parsed) -> pl.DataFrame:
    chosen = choose_periods(tables)
    frames = [
        t.periods.with_columns(pl.lit(spec.table_id).alias("bron_tabel")) for spec, t in tables
    ]
    if not frames:
        return pl.DataFrame(schema={"periode_code": pl.Utf8, "jaar": pl.Int32,
                                    "halfjaar": pl.Int8, "titel": pl.Utf8, "status": pl.Utf8,
                                    "bron_tabel": pl.Utf8})
    return (
        pl.concat(frames, how="diagonal_relaxed")
        .join(chosen, on=["periode_code", "bron_tabel"], how="semi")
        .filter(pl.col("periode_code").str.contains(r"^\d{4}(JJ|HJ)\d{2}$"))
        .select("periode_code", pl.col("jaar").cast(pl.Int32), pl.col("halfjaar").cast(pl.Int8),
                pl.col("title").alias("titel"), "status", "bron_tabel")
        .sort("periode_code")
    )


def voorziening(tables: Parsed) -> pl.DataFrame:
    """core.voorziening: every category of every Wmo table, in the order of the newest table's
    CBS list (a category only older tables have follows, in their list order). CBS lists a
    group before its details, so the order reads as a tree."""
    seen: dict[str, str] = {}
    for _, t in sorted(tables, key=lambda st: -st[0].priority):
        cats = t.dimensions[category_dimension(t)]
        for code, title in cats.select("code", "title").iter_rows():
            seen.setdefault(code, title)
    order = list(seen)
    return pl.DataFrame(
        {
            "voorziening_code": order,
            "voorziening": [seen[c] for c in order],
            "niveau": ["totaal" if c == "T001024" else "groep" if c in GROUP_CODES else "detail"
                       for c in order],
            "volgorde": list(range(1, len(order) + 1)),
        },
        schema={"voorziening_code": pl.Utf8, "voorziening": pl.Utf8, "niveau": pl.Utf8,
                "volgorde": pl.Int32},
    )


KENMERKEN_SCHEMA = {
    "gemeente_code": pl.Utf8, "periode_code": pl.Utf8, "jaar": pl.Int32, "halfjaar": pl.Int8,
    "voorziening_code": pl.Utf8, "geslacht_code": pl.Utf8, "geslacht": pl.Utf8,
    "kenmerk_code": pl.Utf8, "kenmerk": pl.Utf8, "clienten": pl.Int64,
    "clienten_per_1000": pl.Int32, "status": pl.Utf8, "bron_tabel": pl.Utf8,
}


def wmo_kenmerken(spec: TableSpec, cube: CbsCube) -> pl.DataFrame:
    """core.wmo_clienten_kenmerken: the persoonskenmerken table, every breakdown kept.

    Built from the compact cube and kept compact: code, title and status columns stay Enums
    (the database columns are VARCHAR; DuckDB decodes while inserting). As text the 5 M rows of
    85896NED would take over a gigabyte. Rows keep the cube's order (sorted by the codes).
    """
    cat = category_dimension(cube)
    periods = cube.periods.select(
        pl.col("periode_code").cast(cube.cells.schema["periode_code"]), "jaar", "halfjaar",
        pl.col("status").cast(pl.Enum(sorted(set(cube.periods["status"])))))
    # Lazy, so that polars materialises the result once rather than every intermediate frame.
    return (
        cube.cells.lazy()
        .filter(pl.col(REGION_DIM).cat.starts_with("GM"))
        .join(periods.lazy(), on="periode_code", how="left", maintain_order="left")
        .rename({REGION_DIM: "gemeente_code", cat: "voorziening_code",
                 "Geslacht": "geslacht_code", "KenmerkenVanPersonen": "kenmerk_code"})
        .with_columns(
            _title_of(cube, "Geslacht", "geslacht_code").alias("geslacht"),
            _title_of(cube, "KenmerkenVanPersonen", "kenmerk_code").alias("kenmerk"),
            pl.lit(spec.table_id, pl.Enum([spec.table_id])).alias("bron_tabel"),
        )
        .select(list(KENMERKEN_SCHEMA))
        .cast({name: dtype for name, dtype in KENMERKEN_SCHEMA.items() if dtype != pl.Utf8})
        .collect()
    )


def _title_of(cube: CbsCube, dim: str, column: str) -> pl.Expr:
    """Enum code column -> Enum title column, without a text column in between."""
    titles = dict(cube.dimensions[dim].select("code", "title").iter_rows())
    return pl.col(column).replace_strict(
        titles, return_dtype=pl.Enum(sorted(set(titles.values()))))


def wmo_clienten_kenmerken(tables: Parsed) -> pl.DataFrame:
    """core.wmo_clienten_kenmerken: every persoonskenmerken table, kept compact.

    No period choice: only one such table exists (85896NED)."""
    if not tables:
        return pl.DataFrame(schema=KENMERKEN_SCHEMA)
    return concat_compact([wmo_kenmerken(spec, cube) for spec, cube in tables])


def concat_compact(frames: list[pl.DataFrame]) -> pl.DataFrame:
    """Concatenate frames whose Enums may differ (one per source table) by falling back to
    text; a single frame, the usual case, stays compact."""
    if len(frames) == 1:
        return frames[0]
    return pl.concat([f.with_columns(pl.col(pl.Enum).cast(pl.Utf8)) for f in frames])
