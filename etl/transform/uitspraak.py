"""Court rulings in the `out` tables: counts per reference gemeente and year, and one row per
Wmo 2015 ruling for the dashboard.

A year is known only when the fetched windows (meta.uitspraak_periode) cover all of it: then a
gemeente without rulings has 0; any other year is NULL, because a partial search would look like
a real count. A ruling that names no single gemeente is never guessed onto one: it is counted in
out.uitspraak_jaar as not attributed. Counts are harmonised exactly like the objections
(harmonise_counts: summed over merged gemeenten, split by the documented shares).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import polars as pl

from etl.transform import harmonise

PERIODE_SCHEMA: dict[str, pl.DataType] = {"van": pl.Date(), "tot": pl.Date()}
COUNTS = ["uitspraken_wmo", "uitspraken_client_gelijk", "uitspraken_hbh",
          "uitspraken_resultaatgericht"]
RATE = "uitspraken_per_10000_clienten"
OUT_COLUMNS = [*COUNTS, RATE]
UITSPRAAK_COLUMNS = [
    "ecli", "uitspraakdatum", "jaar", "publicatiedatum", "instantie", "instantie_type",
    "zaaknummer", "procedure", "rechtsgebied", "gemeente_code", "gemeente_naam",
    "provincie_naam", "gemeente_code_uitspraak", "gemeente_naam_tekst", "werkwijze_hbh",
    "is_hbh", "is_resultaatgericht", "uitkomst", "client_in_het_gelijk", "inhoudsindicatie",
    "url", "is_jaar_opgehaald", "is_synthetisch",
]
JAAR_COLUMNS = ["jaar", "is_opgehaald", "uitspraken_wmo", "uitspraken_toegerekend",
                "uitspraken_niet_toegerekend", "is_synthetisch"]


def periode_frame(periodes: list[str]) -> pl.DataFrame:
    """meta.uitspraak_periode from the sidecar's `periodes` ('YYYY-MM-DD_YYYY-MM-DD', inclusive).

    ValueError when one is not two ISO dates joined by '_'."""
    rows = []
    for periode in periodes:
        van, tot = periode.split("_")  # ValueError unless exactly two parts
        rows.append((date.fromisoformat(van), date.fromisoformat(tot)))
    return pl.DataFrame(rows, schema=PERIODE_SCHEMA, orient="row").sort("van", "tot")


def covered_years(periode: pl.DataFrame) -> list[int]:
    """The calendar years that lie wholly inside the union of the fetched windows."""
    merged: list[tuple[date, date]] = []
    for van, tot in periode.sort("van").iter_rows():
        if merged and van <= merged[-1][1] + timedelta(days=1):
            merged[-1] = (merged[-1][0], max(merged[-1][1], tot))
        else:
            merged.append((van, tot))
    return sorted({jaar for van, tot in merged for jaar in range(van.year, tot.year + 1)
                   if van <= date(jaar, 1, 1) and date(jaar, 12, 31) <= tot})


def wmo2015(uitspraak: pl.DataFrame) -> pl.DataFrame:
    """The Wmo 2015 rulings of core.uitspraak, with the year of the uitspraakdatum."""
    return uitspraak.filter(pl.col("is_wmo2015")).with_columns(
        pl.col("uitspraakdatum").dt.year().cast(pl.Int32).alias("jaar"))


def published_counts(rulings: pl.DataFrame, comp: pl.DataFrame) -> pl.DataFrame:
    """[gemeente_code, jaar, COUNTS…] per gemeente as valid in the year, for the years of
    `comp`: 0 for a gemeente of that classification without rulings."""
    per = (
        rulings.filter(pl.col("gemeente_code").is_not_null())
        .group_by("gemeente_code", "jaar")
        .agg(pl.len().alias("uitspraken_wmo"),
             # A ruling whose outcome or appellant is unclear is not counted as won.
             pl.col("client_in_het_gelijk").fill_null(False).sum().alias(
                 "uitspraken_client_gelijk"),
             pl.col("is_hbh").fill_null(False).sum().alias("uitspraken_hbh"),
             pl.col("is_resultaatgericht").fill_null(False).sum().alias(
                 "uitspraken_resultaatgericht"))
    )
    return (
        comp.select(pl.col("bron_code").alias("gemeente_code"), "jaar").unique()
        .join(per, on=["gemeente_code", "jaar"], how="left")
        .with_columns(pl.col(c).fill_null(0).cast(pl.Float64) for c in COUNTS)
    )


def harmonised_counts(rulings: pl.DataFrame, comp: pl.DataFrame) -> pl.DataFrame:
    """[gemeente_code, jaar, COUNTS…] on the reference classification (unrounded)."""
    return harmonise.harmonise_counts(published_counts(rulings, comp), comp, ["jaar"],
                                      COUNTS).drop("is_geharmoniseerd")


def add_to_gemeente_periode(out: pl.DataFrame, counts: pl.DataFrame) -> pl.DataFrame:
    """The OUT_COLUMNS on out.gemeente_periode: whole-year rows, the same on every voorziening
    (as the objections); the rate per 10 000 clients of the Totaal voorziening, computed from
    the unrounded harmonised count. Years without counts stay NULL."""
    totaal = out.filter((pl.col("voorziening_code") == harmonise.TOTAAL)
                        & pl.col("halfjaar").is_null()).select(
        "gemeente_code", "jaar", pl.col("clienten").alias("_tot"))
    jaar = (
        counts.join(totaal, on=["gemeente_code", "jaar"], how="left")
        .with_columns((10000 * pl.col("uitspraken_wmo") / pl.col("_tot")).alias(RATE),
                      *(pl.col(c).round(0).cast(pl.Int64) for c in COUNTS),
                      pl.lit(None, pl.Int8).alias("halfjaar"))
        .drop("_tot")
    )
    return out.join(jaar, on=["gemeente_code", "jaar", "halfjaar"], how="left",
                    nulls_equal=True)


def reference_of_ruling(rulings: pl.DataFrame, mapping: pl.DataFrame,
                        ref: pl.DataFrame) -> pl.DataFrame:
    """[ecli, gemeente_code, gemeente_naam, provincie_naam]: the one reference gemeente of each
    ruling; NULL when the ruling names no gemeente or its gemeente was split over several
    (the counts then carry it by share; a single row cannot)."""
    targets = (
        rulings.select("ecli", pl.col("gemeente_code").alias("bron_code"))
        .filter(pl.col("bron_code").is_not_null())
        .join(mapping, on="bron_code", how="left")
        .with_columns(pl.coalesce("doel_code", "bron_code").alias("doel_code"))
        .group_by("ecli").agg(pl.col("doel_code").unique())
        .filter(pl.col("doel_code").list.len() == 1)
        .select("ecli", pl.col("doel_code").list.first().alias("gemeente_code"))
    )
    return targets.join(ref, on="gemeente_code", how="inner")


def uitspraak_table(rulings: pl.DataFrame, mapping: pl.DataFrame, ref: pl.DataFrame,
                    werkwijze: pl.DataFrame, jaren: list[int]) -> pl.DataFrame:
    """out.uitspraak: one row per Wmo 2015 ruling. `werkwijze` is [gemeente_code, jaar,
    werkwijze_hbh] on the reference classification (as out.gemeente_periode has it).

    A synthetic ruling's url is NULL: its ECLI (…:DEMOnnnn) does not exist on rechtspraak.nl."""
    return (
        rulings.rename({"gemeente_code": "gemeente_code_uitspraak"})
        .join(reference_of_ruling(rulings, mapping, ref), on="ecli", how="left")
        .join(werkwijze, on=["gemeente_code", "jaar"], how="left")
        .with_columns(
            pl.col("jaar").is_in(jaren).fill_null(False).alias("is_jaar_opgehaald"),
            pl.when(~pl.col("is_synthetisch")).then(pl.col("url")).alias("url"))
        .select(UITSPRAAK_COLUMNS)
        .sort("uitspraakdatum", "ecli", nulls_last=True)
    )


def uitspraak_jaar(rulings: pl.DataFrame, counts: pl.DataFrame, jaren: list[int],
                   is_synthetisch: bool) -> pl.DataFrame:
    """out.uitspraak_jaar: national totals per year, and how many rulings no gemeente got.

    A year outside the fetched windows has NULL counts; a ruling without uitspraakdatum has no
    year and appears only in out.uitspraak."""
    dated = rulings.filter(pl.col("jaar").is_not_null())
    alle = sorted(set(jaren) | set(dated["jaar"].to_list()))
    per_jaar = dated.group_by("jaar").agg(pl.len().alias("uitspraken_wmo"))
    toegerekend = counts.group_by("jaar").agg(
        pl.col("uitspraken_wmo").sum().round(0).cast(pl.Int64).alias("uitspraken_toegerekend"))
    known = pl.col("is_opgehaald")
    return (
        pl.DataFrame({"jaar": alle}, schema={"jaar": pl.Int32})
        .with_columns(pl.col("jaar").is_in(jaren).alias("is_opgehaald"))
        .join(per_jaar, on="jaar", how="left")
        .join(toegerekend, on="jaar", how="left")
        .with_columns(pl.col("uitspraken_wmo").fill_null(0).cast(pl.Int64),
                      pl.col("uitspraken_toegerekend").fill_null(0))
        .with_columns(
            (pl.col("uitspraken_wmo") - pl.col("uitspraken_toegerekend")).alias(
                "uitspraken_niet_toegerekend"))
        .with_columns(pl.when(known).then(pl.col(c)).alias(c)
                      for c in ("uitspraken_wmo", "uitspraken_toegerekend",
                                "uitspraken_niet_toegerekend"))
        .with_columns(pl.lit(is_synthetisch).alias("is_synthetisch"))
        .select(JAAR_COLUMNS)
    )


def out_tables(*, out: pl.DataFrame, uitspraak: pl.DataFrame, periode: pl.DataFrame,
               comp_of: Callable[[list[int]], pl.DataFrame], mapping: pl.DataFrame,
               ref: pl.DataFrame, is_synthetisch: bool) -> dict[str, pl.DataFrame]:
    """out.gemeente_periode with the ruling columns, out.uitspraak and out.uitspraak_jaar.

    `comp_of(jaren)` is harmonise.components for those years; `ref` the reference gemeenten
    [gemeente_code, gemeente_naam, provincie_naam]."""
    jaren = covered_years(periode)
    rulings = wmo2015(uitspraak)
    counts = harmonised_counts(rulings.filter(pl.col("jaar").is_in(jaren)), comp_of(jaren))
    werkwijze = out.select("gemeente_code", "jaar", "werkwijze_hbh").unique(
        ["gemeente_code", "jaar"])
    return {
        "out.gemeente_periode": add_to_gemeente_periode(out, counts),
        "out.uitspraak": uitspraak_table(rulings, mapping, ref, werkwijze, jaren),
        "out.uitspraak_jaar": uitspraak_jaar(rulings, counts, jaren, is_synthetisch),
    }
