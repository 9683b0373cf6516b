"""The year-aware gemeente dimension and the mapping of any code to a reference classification.

A period belongs to the classification of 1 January of its year: CBS publishes a year on the
municipal division of that 1 January (Weesp, merged on 2022-03-24, still appears for 2022).
"""

from __future__ import annotations

from datetime import date

import polars as pl

HERINDELING_SCHEMA = {
    "datum_ingang": pl.Date, "oude_code": pl.Utf8, "oude_naam": pl.Utf8, "nieuwe_code": pl.Utf8,
    "nieuwe_naam": pl.Utf8, "type": pl.Utf8, "aandeel": pl.Float64, "bron": pl.Utf8,
}

GEMEENTE_SCHEMA = {
    "gemeente_code": pl.Utf8, "gemeente_naam": pl.Utf8, "provincie_code": pl.Utf8,
    "provincie_naam": pl.Utf8, "geldig_vanaf": pl.Date, "geldig_tot": pl.Date,
    "opgegaan_in": pl.Utf8,
}


def classification_date(jaar: int) -> date:
    return date(jaar, 1, 1)


def gemeente_history(current: pl.DataFrame, herindelingen: pl.DataFrame) -> pl.DataFrame:
    """core.gemeente: the current gemeenten plus every code that disappeared since 2015.

    `current` has [gemeente_code, gemeente_naam, provincie_code, provincie_naam]. A dissolved
    gemeente lies in the province of its (largest) successor: no herindeling since 2015 crossed
    a provincial border.
    """
    ends = (
        herindelingen.sort("aandeel", descending=True)
        .group_by("oude_code", maintain_order=True)
        .agg(pl.col("datum_ingang").min().alias("geldig_tot"),
             pl.col("oude_naam").first(), pl.col("nieuwe_code").first().alias("opgegaan_in"))
    )
    starts = (
        herindelingen.filter(pl.col("type").is_in(["samenvoeging", "naamswijziging"]))
        .group_by("nieuwe_code").agg(pl.col("datum_ingang").min().alias("geldig_vanaf"))
        .rename({"nieuwe_code": "gemeente_code"})
    )
    province = current.select("gemeente_code", "provincie_code", "provincie_naam")
    resolved = _final_codes(herindelingen)
    dissolved = (
        ends.rename({"oude_code": "gemeente_code", "oude_naam": "gemeente_naam"})
        .filter(~pl.col("gemeente_code").is_in(current["gemeente_code"].implode()))
        .with_columns(
            pl.col("gemeente_code").replace_strict(resolved, default=None).alias("_final")
        )
        .join(province.rename({"gemeente_code": "_final"}), on="_final", how="left")
        .drop("_final")
    )
    alive = current.with_columns(pl.lit(None, pl.Date).alias("geldig_tot"),
                                 pl.lit(None, pl.Utf8).alias("opgegaan_in"))
    both = pl.concat([alive, dissolved], how="diagonal_relaxed")
    return (
        both.join(starts, on="gemeente_code", how="left")
        .select(list(GEMEENTE_SCHEMA))
        .cast(GEMEENTE_SCHEMA)  # type: ignore[arg-type]
        .sort("gemeente_code")
    )


def _final_codes(herindelingen: pl.DataFrame) -> dict[str, str]:
    """Old code -> the current code that received most of it (for province look-up only)."""
    mapping = harmonisation_map(herindelingen)
    best = mapping.sort("aandeel", descending=True).unique("bron_code", keep="first")
    return dict(zip(best["bron_code"], best["doel_code"], strict=True))


def harmonisation_map(herindelingen: pl.DataFrame, until: date | None = None) -> pl.DataFrame:
    """[bron_code, doel_code, aandeel]: every old code chained to the codes of the reference date.

    Only changes that took effect on or before `until` (default: all) are followed. Shares
    multiply along a chain (a share of a share); codes that never changed map to themselves
    and are not listed.
    """
    steps = herindelingen
    if until is not None:
        steps = steps.filter(pl.col("datum_ingang") <= until)
    edges: dict[str, list[tuple[str, float]]] = {}
    for row in steps.iter_rows(named=True):
        edges.setdefault(row["oude_code"], []).append((row["nieuwe_code"], row["aandeel"]))

    def resolve(code: str, seen: frozenset[str]) -> list[tuple[str, float]]:
        if code not in edges:
            return [(code, 1.0)]
        if code in seen:
            raise ValueError(f"herindelingen contain a cycle through {code}")
        out: list[tuple[str, float]] = []
        for target, share in edges[code]:
            out += [(t, share * s) for t, s in resolve(target, seen | {code})]
        return out

    rows = [(src, dst, share) for src in edges for dst, share in resolve(src, frozenset())]
    frame = pl.DataFrame(rows, schema={"bron_code": pl.Utf8, "doel_code": pl.Utf8,
                                       "aandeel": pl.Float64}, orient="row")
    return frame.group_by("bron_code", "doel_code").agg(pl.col("aandeel").sum()).sort(
        "bron_code", "doel_code")


def valid_in_year(gemeente: pl.DataFrame, jaar: int) -> pl.DataFrame:
    """The gemeenten of the 1 January classification of `jaar`."""
    d = classification_date(jaar)
    return gemeente.filter(
        (pl.col("geldig_vanaf").is_null() | (pl.col("geldig_vanaf") <= d))
        & (pl.col("geldig_tot").is_null() | (pl.col("geldig_tot") > d))
    )
