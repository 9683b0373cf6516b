"""CBS flow tables → core.wmo_stroom (86051NED, 85044NED, 83268NED: stand, instroom,
uitstroom of maatwerkvoorzieningen) and core.wmo_beeindiging (86061NED, 83266NED: clients
whose support ended, by reason).

Both are published per gemeente like the client tables; the breakdown dimension (type of
voorziening, reason) is found by its role, its categories are kept with CBS's own codes and
titles (whether 86061NED keeps 83266NED's reasons is not verified, so nothing maps them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import polars as pl

from etl.transform.wmo import REGION_DIM, breakdown_dimension, wide_measures

if TYPE_CHECKING:
    from etl.sources.cbs.tables import TableSpec

STROOM_MEASURES = {"stand": "Stand", "instroom": "Instroom", "uitstroom": "Uitstroom"}
PERIOD_RE = r"^\d{4}(JJ|HJ)\d{2}$"

STROOM_SCHEMA = {
    "gemeente_code": pl.Utf8, "periode_code": pl.Utf8, "jaar": pl.Int32, "halfjaar": pl.Int8,
    "voorziening_code": pl.Utf8, "voorziening": pl.Utf8, "stand": pl.Int64,
    "instroom": pl.Int64, "uitstroom": pl.Int64, "status": pl.Utf8, "bron_tabel": pl.Utf8,
}
STROOM_SORT = ("gemeente_code", "periode_code", "voorziening_code")
BEEINDIGING_SCHEMA = {
    "gemeente_code": pl.Utf8, "periode_code": pl.Utf8, "jaar": pl.Int32, "halfjaar": pl.Int8,
    "reden_code": pl.Utf8, "reden": pl.Utf8, "clienten": pl.Int64,
    "clienten_per_1000": pl.Int32, "status": pl.Utf8, "bron_tabel": pl.Utf8,
}
BEEINDIGING_SORT = ("gemeente_code", "periode_code", "reden_code")
# The reason the Kaart and out.gemeente_periode use, matched on the title of the table's own
# list (case- and space-insensitive), never on a key.
REDEN_GEMEENTE = "geïnitieerd door de gemeente"


def _gemeente_rows(spec: TableSpec, table: Any, measures: list[str], code: str,
                   title: str, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    dim = breakdown_dimension(table)
    obs = table.observations.filter(pl.col(REGION_DIM).str.starts_with("GM")
                                    & pl.col("periode_code").str.contains(PERIOD_RE))
    wide = wide_measures(obs, [REGION_DIM, dim, "periode_code", "jaar", "halfjaar", "status"],
                         measures)
    titles = table.dimensions[dim].select(pl.col("code").alias(dim), pl.col("title").alias(title))
    return (
        wide.join(titles, on=dim, how="left")
        .rename({REGION_DIM: "gemeente_code", dim: code})
        # Counts are whole numbers; rounding removes float noise of v4 before the cast.
        .with_columns(pl.col(measures).round(0), pl.lit(spec.table_id).alias("bron_tabel"))
        .select(list(schema))
        .cast(schema)  # type: ignore[arg-type]
    )


def stroom_rows(spec: TableSpec, table: Any) -> pl.DataFrame:
    """One stand/instroom/uitstroom table as core.wmo_stroom rows (gemeenten; JJ and HJ)."""
    return _gemeente_rows(spec, table, list(STROOM_MEASURES), "voorziening_code", "voorziening",
                          STROOM_SCHEMA)


def beeindiging_rows(spec: TableSpec, table: Any) -> pl.DataFrame:
    """One reden-beëindiging table as core.wmo_beeindiging rows (gemeenten; JJ and HJ)."""
    return _gemeente_rows(spec, table, ["clienten", "clienten_per_1000"], "reden_code", "reden",
                          BEEINDIGING_SCHEMA)


def is_reden_gemeente(reden: pl.Expr) -> pl.Expr:
    return reden.str.replace_all(r"\s+", " ").str.strip_chars().str.to_lowercase() \
        == REDEN_GEMEENTE
