"""Spending and flows on the reference classification: the yearly `out.gemeente_periode`
columns from core.wmo_uitgaven, core.wmo_stroom and core.wmo_beeindiging.

Harmonised as the client counts are (`harmonise.harmonise_counts`): summed over merged
gemeenten, split by share, NULL when any part is unknown. Every rate is recomputed from the
harmonised numerator and denominator, never taken from CBS's per-inwoner figures (those are on
the old classification and CBS's own population). Types and reasons are picked by their CBS
*title*: the keys of 84580NED and 86061NED are not known in advance.
"""

from __future__ import annotations

import polars as pl

from etl.transform import stroom, uitgaven

HBH = "hulp bij het huishouden"
TOTAAL = "totaal"
TOTAAL_CODE, HBH_CODE = "T001024", "A019507"  # core.wmo_clienten keys (core.voorziening)

COUNTS = ["uitgaven_gerealiseerd", "uitgaven_gerealiseerd_hbh", "hbh_instroom",
          "hbh_uitstroom", "beeindigd_door_gemeente"]
RATES = ["uitgaven_per_inwoner", "uitgaven_hbh_per_inwoner", "uitgaven_hbh_per_client",
         "hbh_instroom_per_1000", "hbh_uitstroom_per_1000",
         "beeindigd_door_gemeente_per_1000_clienten"]
GELD_COLUMNS = ["uitgaven_gerealiseerd", "uitgaven_gerealiseerd_hbh", "uitgaven_per_inwoner",
                "uitgaven_hbh_per_inwoner", "uitgaven_hbh_per_client", "hbh_instroom",
                "hbh_uitstroom", "hbh_instroom_per_1000", "hbh_uitstroom_per_1000",
                "beeindigd_door_gemeente", "beeindigd_door_gemeente_per_1000_clienten"]
KEY = ["gemeente_code", "jaar"]
YEAR_SCHEMA = {"gemeente_code": pl.Utf8, "jaar": pl.Int32}


def _title(column: str) -> pl.Expr:
    return pl.col(column).str.replace_all(r"\s+", " ").str.strip_chars().str.to_lowercase()


def _yearly(frame: pl.DataFrame, keep: pl.Expr, value: str, name: str) -> pl.DataFrame:
    """[gemeente_code, jaar, name]: one value per gemeente-year (whole years only)."""
    if "halfjaar" in frame.columns:
        keep = keep & pl.col("halfjaar").is_null()
    return frame.filter(keep).select(*KEY, pl.col(value).cast(pl.Float64).alias(name))


def published_parts(uitgaven_rows: pl.DataFrame, stroom_rows: pl.DataFrame,
                    beeindiging_rows: pl.DataFrame) -> list[pl.DataFrame]:
    """The counts to harmonise, each [gemeente_code, jaar, <count>], as published."""
    return [
        _yearly(uitgaven_rows, _title("voorziening") == TOTAAL, "uitgaven_gerealiseerd",
                "uitgaven_gerealiseerd"),
        _yearly(uitgaven_rows, _title("voorziening") == HBH, "uitgaven_gerealiseerd",
                "uitgaven_gerealiseerd_hbh"),
        _yearly(stroom_rows, _title("voorziening") == HBH, "instroom", "hbh_instroom"),
        _yearly(stroom_rows, _title("voorziening") == HBH, "uitstroom", "hbh_uitstroom"),
        _yearly(beeindiging_rows, stroom.is_reden_gemeente(pl.col("reden")), "clienten",
                "beeindigd_door_gemeente"),
    ]


def ratio(numerator: str, denominator: str, scale: float = 1.0) -> pl.Expr:
    # NULL when either side is unknown; a zero denominator has no rate either.
    return (pl.when(pl.col(denominator) > 0)
            .then(scale * pl.col(numerator) / pl.col(denominator)))


def geld_jaar(harmonised: list[pl.DataFrame], inwoners: pl.DataFrame,
              clienten: pl.DataFrame) -> pl.DataFrame:
    """[gemeente_code, jaar, GELD_COLUMNS] on the reference classification.

    `harmonised` are the outputs of harmonise_counts on `published_parts`; `inwoners` is
    [gemeente_code, jaar, inwoners] and `clienten` [gemeente_code, jaar, clienten_totaal,
    clienten_hbh] (whole years), both harmonised the same way.
    """
    frame = pl.DataFrame(schema=YEAR_SCHEMA)
    for part in harmonised:
        frame = frame.join(part.select(*KEY, *[c for c in part.columns if c in COUNTS]),
                           on=KEY, how="full", coalesce=True)
    return (
        frame.join(inwoners, on=KEY, how="left").join(clienten, on=KEY, how="left")
        .with_columns(
            ratio("uitgaven_gerealiseerd", "inwoners").alias("uitgaven_per_inwoner"),
            ratio("uitgaven_gerealiseerd_hbh", "inwoners").alias("uitgaven_hbh_per_inwoner"),
            ratio("uitgaven_gerealiseerd_hbh", "clienten_hbh").alias("uitgaven_hbh_per_client"),
            ratio("hbh_instroom", "inwoners", 1000).alias("hbh_instroom_per_1000"),
            ratio("hbh_uitstroom", "inwoners", 1000).alias("hbh_uitstroom_per_1000"),
            ratio("beeindigd_door_gemeente", "clienten_totaal", 1000)
            .alias("beeindigd_door_gemeente_per_1000_clienten"),
        )
        .select(*KEY, *GELD_COLUMNS)
    )


def empty_uitgaven() -> pl.DataFrame:
    return pl.DataFrame(schema=uitgaven.UITGAVEN_SCHEMA)


def empty_stroom() -> pl.DataFrame:
    return pl.DataFrame(schema=stroom.STROOM_SCHEMA)


def empty_beeindiging() -> pl.DataFrame:
    return pl.DataFrame(schema=stroom.BEEINDIGING_SCHEMA)
