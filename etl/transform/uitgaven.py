"""CBS 84580NED (Wmo spending per gemeente) → core.wmo_uitgaven, in euro.

CBS publishes thousands of euro and "thousands of euro per 1 000 inwoners"; the first is
multiplied by 1 000, the second already is euro per inhabitant (as CBS computes it, on its
own population figure). Spending excludes uitvoeringskosten (the gemeente's own access team).
A `.` stays NULL: the national budget is unknown in several years while the realised total is
known, and a gemeente that did not deliver (Altena 2023) has empty cells.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import polars as pl

from etl.transform.wmo import (
    REGIO_PATTERN,
    REGION_DIM,
    YEAR_RE,
    breakdown_dimension,
    regio_type,
    wide_measures,
)

if TYPE_CHECKING:
    from etl.sources.cbs.tables import TableSpec

# Titles as StatLine shows them, unit in parentheses (the parser ignores a trailing unit).
MEASURES = {
    "begroot": "Begrote uitgaven (1 000 euro)",
    "begroot_per_1000": "Begrote uitgaven per 1000 inwoners (1 000 euro)",
    "gerealiseerd": "Gerealiseerde uitgaven (1 000 euro)",
    "gerealiseerd_per_1000": "Gerealiseerde uitgaven per 1000 inwoners (1 000 euro)",
}
EURO_PER_UNIT = 1000

UITGAVEN_SCHEMA = {
    "gemeente_code": pl.Utf8, "jaar": pl.Int32, "voorziening_code": pl.Utf8,
    "voorziening": pl.Utf8, "uitgaven_begroot": pl.Int64, "uitgaven_gerealiseerd": pl.Int64,
    "uitgaven_begroot_per_inwoner": pl.Float64, "uitgaven_gerealiseerd_per_inwoner": pl.Float64,
    "status": pl.Utf8, "bron_tabel": pl.Utf8,
}
SORT = ("gemeente_code", "jaar", "voorziening_code")
REGIO_SCHEMA = {
    "regio_code": pl.Utf8, "regio_naam": pl.Utf8, "regio_type": pl.Utf8, "jaar": pl.Int32,
    **{k: v for k, v in UITGAVEN_SCHEMA.items() if k not in ("gemeente_code", "jaar")},
}
REGIO_SORT = ("regio_code", "jaar", "voorziening_code")


def thousands_to_euro(column: str) -> pl.Expr:
    # Rounded: a published 6 748 (thousand) is exactly 6 748 000 euro, not 6747999.999….
    return (pl.col(column) * EURO_PER_UNIT).round(0)


def _rows(spec: TableSpec, table: Any, regions: pl.Expr) -> pl.DataFrame:
    """The regions matching `regions`, whole years, amounts in euro."""
    dim = breakdown_dimension(table)
    obs = table.observations.filter(regions & pl.col("periode_code").str.contains(YEAR_RE))
    wide = wide_measures(obs, [REGION_DIM, dim, "jaar", "status"], list(MEASURES))
    titles = table.dimensions[dim].select(pl.col("code").alias(dim),
                                          pl.col("title").alias("voorziening"))
    return wide.join(titles, on=dim, how="left").select(
        REGION_DIM, "jaar", pl.col(dim).alias("voorziening_code"), "voorziening",
        thousands_to_euro("begroot").alias("uitgaven_begroot"),
        thousands_to_euro("gerealiseerd").alias("uitgaven_gerealiseerd"),
        # 1 000 euro per 1 000 inwoners is euro per inwoner: no conversion.
        pl.col("begroot_per_1000").alias("uitgaven_begroot_per_inwoner"),
        pl.col("gerealiseerd_per_1000").alias("uitgaven_gerealiseerd_per_inwoner"),
        "status", pl.lit(spec.table_id).alias("bron_tabel"),
    )


def table_rows(spec: TableSpec, table: Any) -> pl.DataFrame:
    """One spending table as core.wmo_uitgaven rows: gemeenten only, whole years only."""
    return (_rows(spec, table, pl.col(REGION_DIM).str.starts_with("GM"))
            .rename({REGION_DIM: "gemeente_code"})
            .cast(UITGAVEN_SCHEMA))  # type: ignore[arg-type]


def regio_rows(spec: TableSpec, table: Any) -> pl.DataFrame:
    """core.wmo_uitgaven_regio: CBS's own NL01 (and province) cells, as published. CBS's
    national total includes its estimate for gemeenten that did not deliver, so it is not the
    sum of core.wmo_uitgaven; a national budget can be unknown while the realised total is
    known."""
    names = table.dimensions[REGION_DIM].select(
        pl.col("code").alias(REGION_DIM), pl.col("title").str.strip_chars().alias("regio_naam"))
    return (
        _rows(spec, table, pl.col(REGION_DIM).str.contains(REGIO_PATTERN))
        .join(names, on=REGION_DIM, how="left")
        .rename({REGION_DIM: "regio_code"})
        .with_columns(regio_type(pl.col("regio_code")).alias("regio_type"))
        .select(list(REGIO_SCHEMA))
        .cast(REGIO_SCHEMA)  # type: ignore[arg-type]
    )
