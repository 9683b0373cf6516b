"""Harmonise as-published figures to one reference classification → the `out` tables.

Counts are summed over the gemeenten that merged into a reference gemeente and split by the
documented shares; a harmonised count is NULL when any part is unknown (a partial sum would
look like a real figure). Rates are recomputed from the harmonised numerator and denominator,
never averaged.
"""

from __future__ import annotations

import polars as pl

from etl.gemeenten import valid_in_year
from etl.transform import geld

STATUS_RANK = {"voorlopig": 0, "nader_voorlopig": 1, "definitief": 2}
RANK_STATUS = {v: k for k, v in STATUS_RANK.items()}
TOTAAL = "T001024"

OUT_COLUMNS = [
    "gemeente_code", "gemeente_naam", "provincie_naam", "periode_code", "jaar", "halfjaar",
    "voorziening_code", "voorziening", "clienten", "clienten_per_1000", "inwoners",
    "inwoners_75plus", "aandeel_75plus", "werkwijze_hbh", "werkwijze_hbh_sterke_bron",
    "bezwaren_ontvangen",
    "bezwaren_per_1000_clienten", *geld.GELD_COLUMNS, "status", "is_geharmoniseerd",
    "is_synthetisch",
]


def components(gemeente: pl.DataFrame, mapping: pl.DataFrame, jaren: list[int]) -> pl.DataFrame:
    """[jaar, bron_code, doel_code, aandeel]: which gemeenten of year Y make up each reference one.

    Only gemeenten of the 1 January classification of Y take part, so the structural NULL rows
    CBS lists for a gemeente outside its lifetime never reach a sum.
    """
    frames = []
    for jaar in sorted(set(jaren)):
        valid = valid_in_year(gemeente, jaar).select(pl.col("gemeente_code").alias("bron_code"))
        frames.append(valid.with_columns(pl.lit(jaar, pl.Int32).alias("jaar")))
    if not frames:
        return pl.DataFrame(schema={"jaar": pl.Int32, "bron_code": pl.Utf8, "doel_code": pl.Utf8,
                                    "aandeel": pl.Float64})
    return (
        pl.concat(frames)
        .join(mapping, on="bron_code", how="left")
        .with_columns(pl.coalesce("doel_code", "bron_code").alias("doel_code"),
                      pl.col("aandeel").fill_null(1.0))
        .select("jaar", "bron_code", "doel_code", "aandeel")
    )


def _expected_parts(comp: pl.DataFrame) -> pl.DataFrame:
    return comp.group_by("doel_code", "jaar").agg(
        pl.len().alias("_verwacht"),
        ((pl.len() > 1) | (pl.col("aandeel") < 1).any()
         | (pl.col("bron_code") != pl.col("doel_code")).any()).alias("is_geharmoniseerd"),
    )


def _complete_sum(col: str) -> pl.Expr:
    """Share-weighted sum, NULL unless every expected part is present and known."""
    return (
        pl.when((pl.col(col).null_count() == 0) & (pl.len() == pl.col("_verwacht").first()))
        .then((pl.col(col) * pl.col("aandeel")).sum())
        .alias(col)
    )


def harmonise_counts(frame: pl.DataFrame, comp: pl.DataFrame, keys: list[str],
                     counts: list[str], carry: list[str] | None = None) -> pl.DataFrame:
    """Sum `counts` per reference gemeente and `keys` (jaar must be among the keys)."""
    carry = carry or []
    joined = frame.join(comp, left_on=["gemeente_code", "jaar"], right_on=["bron_code", "jaar"],
                        how="inner").join(_expected_parts(comp), on=["doel_code", "jaar"])
    aggs = [_complete_sum(c) for c in counts] + [pl.col(c).first() for c in carry]
    aggs.append(pl.col("is_geharmoniseerd").first())
    if "status" in frame.columns:
        aggs.append(pl.col("status").replace_strict(STATUS_RANK).min().alias("_rank"))
    out = joined.group_by(["doel_code", *keys]).agg(aggs).rename({"doel_code": "gemeente_code"})
    if "status" in frame.columns:
        out = out.with_columns(pl.col("_rank").replace_strict(RANK_STATUS).alias("status")).drop(
            "_rank")
    return out


def harmonise_category(frame: pl.DataFrame, comp: pl.DataFrame, value: str) -> pl.DataFrame:
    """A categorical value per gemeente-year: kept only when every part agrees and is known."""
    joined = (
        comp.join(frame, left_on=["bron_code", "jaar"], right_on=["gemeente_code", "jaar"],
                  how="left")
    )
    return (
        joined.group_by("doel_code", "jaar")
        .agg(pl.when((pl.col(value).null_count() == 0) & (pl.col(value).n_unique() == 1))
             .then(pl.col(value).first()).alias(value))
        .rename({"doel_code": "gemeente_code"})
    )


def werkwijze_category(werkwijze_jaar: pl.DataFrame, comp: pl.DataFrame,
                       name: str) -> pl.DataFrame:
    """[gemeente_code, jaar, `name`]: a werkwijze_per_jaar frame harmonised by
    `harmonise_category` (a merged gemeente has a method only when all its parts agree)."""
    return harmonise_category(
        werkwijze_jaar.select("gemeente_code", pl.col("jaar").cast(pl.Int32),
                              pl.col("werkwijze").alias(name)),
        comp, name)


def preferred_bezwaar(bezwaar: pl.DataFrame) -> pl.DataFrame:
    """[gemeente_code, jaar, bezwaren_ontvangen] for domein wmo; a real figure beats a synthetic."""
    return (
        bezwaar.filter((pl.col("domein") == "wmo") & pl.col("bezwaren_ontvangen").is_not_null())
        .sort("is_synthetisch")
        .unique(["gemeente_code", "jaar"], keep="first")
        .select("gemeente_code", pl.col("jaar").cast(pl.Int32), "bezwaren_ontvangen")
    )


def gemeente_periode(
    *,
    wmo: pl.DataFrame,
    bevolking: pl.DataFrame,
    gemeente: pl.DataFrame,
    mapping: pl.DataFrame,
    reference_year: int,
    werkwijze_jaar: pl.DataFrame,
    werkwijze_jaar_sterk: pl.DataFrame,
    bezwaar: pl.DataFrame,
    is_synthetisch: bool,
    uitgaven: pl.DataFrame | None = None,
    stroom: pl.DataFrame | None = None,
    beeindiging: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """out.gemeente_periode: one row per reference gemeente × period × voorziening.

    `werkwijze_jaar` and `werkwijze_jaar_sterk` are registers.werkwijze_per_jaar of all
    register rows and of the stronger sources only; both are harmonised by the same rule.
    `uitgaven`, `stroom` and `beeindiging` are the core tables of the spending and flow
    tables (None: not read); their yearly columns are filled on whole-year rows (geld.py).
    """
    uitgaven = uitgaven if uitgaven is not None else geld.empty_uitgaven()
    stroom = stroom if stroom is not None else geld.empty_stroom()
    beeindiging = beeindiging if beeindiging is not None else geld.empty_beeindiging()
    jaren = sorted(set(wmo["jaar"].to_list()) | set(bevolking["jaar"].to_list())
                   | set(uitgaven["jaar"].to_list()))
    comp = components(gemeente, mapping, jaren)
    w = harmonise_counts(wmo, comp, ["periode_code", "jaar", "halfjaar", "voorziening_code"],
                         ["clienten"], carry=["voorziening"])
    b = harmonise_counts(bevolking, comp, ["jaar"], ["inwoners", "inwoners_75plus"]).drop(
        "is_geharmoniseerd")
    ww = werkwijze_category(werkwijze_jaar, comp, "werkwijze_hbh").join(
        werkwijze_category(werkwijze_jaar_sterk, comp, "werkwijze_hbh_sterke_bron"),
        on=["gemeente_code", "jaar"], how="full", coalesce=True)
    bz = harmonise_counts(preferred_bezwaar(bezwaar), comp, ["jaar"],
                          ["bezwaren_ontvangen"]).drop("is_geharmoniseerd")
    totaal_jaar = w.filter((pl.col("voorziening_code") == TOTAAL) & pl.col("halfjaar").is_null())
    bz = bz.join(totaal_jaar.select("gemeente_code", "jaar", pl.col("clienten").alias("_tot")),
                 on=["gemeente_code", "jaar"], how="left").with_columns(
        (1000 * pl.col("bezwaren_ontvangen") / pl.col("_tot")).alias("bezwaren_per_1000_clienten")
    ).drop("_tot")
    geld_jaar = _geld(uitgaven, stroom, beeindiging, comp, w, b)
    ref = valid_in_year(gemeente, reference_year).select("gemeente_code", "gemeente_naam",
                                                          "provincie_naam")
    out = (
        w.join(ref, on="gemeente_code", how="inner")
        .join(b, on=["gemeente_code", "jaar"], how="left")
        .join(ww, on=["gemeente_code", "jaar"], how="left")
        # Objections are yearly figures: they belong on whole-year rows only.
        .join(bz.with_columns(pl.lit(None, pl.Int8).alias("halfjaar")),
              on=["gemeente_code", "jaar", "halfjaar"], how="left", nulls_equal=True)
        # Spending and flows are yearly too: whole-year rows only, the same on every voorziening.
        .join(geld_jaar.with_columns(pl.lit(None, pl.Int8).alias("halfjaar")),
              on=["gemeente_code", "jaar", "halfjaar"], how="left", nulls_equal=True)
        .with_columns(
            (1000 * pl.col("clienten") / pl.col("inwoners")).alias("clienten_per_1000"),
            (pl.col("inwoners_75plus") / pl.col("inwoners")).alias("aandeel_75plus"),
            pl.lit(is_synthetisch).alias("is_synthetisch"),
        )
    )
    return out.select(OUT_COLUMNS).sort("gemeente_code", "periode_code", "voorziening_code")


def _geld(uitgaven: pl.DataFrame, stroom: pl.DataFrame, beeindiging: pl.DataFrame,
          comp: pl.DataFrame, w: pl.DataFrame, b: pl.DataFrame) -> pl.DataFrame:
    """geld.geld_jaar from the as-published tables, harmonised like the client counts; the
    denominators are the harmonised whole-year clients (`w`) and inwoners (`b`)."""
    harmonised = [
        harmonise_counts(part, comp, ["jaar"], [part.columns[-1]]).drop("is_geharmoniseerd")
        for part in geld.published_parts(uitgaven, stroom, beeindiging)
    ]
    jaar = w.filter(pl.col("halfjaar").is_null())
    clienten = (
        jaar.filter(pl.col("voorziening_code") == geld.TOTAAL_CODE)
        .select("gemeente_code", "jaar", pl.col("clienten").alias("clienten_totaal"))
        .join(jaar.filter(pl.col("voorziening_code") == geld.HBH_CODE)
              .select("gemeente_code", "jaar", pl.col("clienten").alias("clienten_hbh")),
              on=["gemeente_code", "jaar"], how="full", coalesce=True)
    )
    return geld.geld_jaar(harmonised, b.select("gemeente_code", "jaar", "inwoners"), clienten)


def provincie_periode(out: pl.DataFrame, gemeente: pl.DataFrame, reference_year: int,
                      is_synthetisch: bool) -> pl.DataFrame:
    """out.provincie_periode: sums over the gemeenten whose count and population are known."""
    prov = valid_in_year(gemeente, reference_year).select("gemeente_code", "provincie_code")
    # Counted from the classification, not from the rows: a gemeente without Wmo figures for a
    # period has no row there but is still one of the province's gemeenten.
    totals = prov.group_by("provincie_code").agg(
        pl.len().cast(pl.Int32).alias("gemeenten_totaal"))
    known = pl.col("clienten").is_not_null() & pl.col("inwoners").is_not_null()
    return (
        out.join(prov, on="gemeente_code")
        .group_by("provincie_code", "provincie_naam", "periode_code", "jaar", "halfjaar",
                  "voorziening_code", "voorziening")
        .agg(
            pl.col("clienten").filter(known).sum().alias("clienten"),
            pl.col("inwoners").filter(known).sum().alias("inwoners"),
            known.sum().cast(pl.Int32).alias("gemeenten_bekend"),
            pl.col("status").replace_strict(STATUS_RANK).min().alias("_rank"),
        )
        .join(totals, on="provincie_code", how="left")
        .with_columns(
            (1000 * pl.col("clienten") / pl.col("inwoners")).alias("clienten_per_1000"),
            pl.col("_rank").replace_strict(RANK_STATUS).alias("status"),
            pl.lit(is_synthetisch).alias("is_synthetisch"),
        )
        .with_columns(
            # No known gemeente: the province figure is unknown, not zero.
            pl.when(pl.col("gemeenten_bekend") > 0).then(pl.col(c)).alias(c)
            for c in ("clienten", "inwoners", "clienten_per_1000")
        )
        .select("provincie_code", "provincie_naam", "periode_code", "jaar", "halfjaar",
                "voorziening_code", "voorziening", "clienten", "inwoners", "clienten_per_1000",
                "gemeenten_totaal", "gemeenten_bekend", "status", "is_synthetisch")
        .sort("provincie_code", "periode_code", "voorziening_code")
    )
