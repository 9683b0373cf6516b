"""core.wmo_clienten_regio: CBS's own NL01 and PV cells, not sums; NULL stays NULL; periods
chosen as for core.wmo_clienten."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import polars as pl
import pytest

from etl.sources.cbs.parse import CbsTable, load_cbs_snapshot
from etl.sources.cbs.tables import TABLES, WMO_MEASURES
from etl.transform import wmo

FIXTURES = Path(__file__).parent / "fixtures" / "cbs"
SPEC_NEW, SPEC_OLD = TABLES["86050NED"], TABLES["84839NED"]
KEY = ["regio_code", "periode_code", "voorziening_code"]


@pytest.fixture(scope="module")
def table() -> CbsTable:
    return load_cbs_snapshot(FIXTURES / "86050NED-v3", WMO_MEASURES)


def cells(table: CbsTable, regio: str) -> pl.DataFrame:
    """The table's own cells of one region, wide: [voorziening_code, periode_code, measures]."""
    return (table.observations.filter(pl.col("RegioS") == regio)
            .pivot(on="measure", index=["TypeMaatwerkvoorziening", "periode_code"],
                   values="value")
            .rename({"TypeMaatwerkvoorziening": "voorziening_code"}))


def with_province(table: CbsTable, code: str, title: str, factor: float) -> CbsTable:
    """The table plus a province whose cells are the NL01 cells × factor (as CBS pads: 'PV20  '
    is stripped by the parser, so the frames hold the bare code)."""
    nl = table.observations.filter(pl.col("RegioS") == "NL01")
    pv = nl.with_columns(pl.lit(code).alias("RegioS"), (pl.col("value") * factor).round(0))
    regios = pl.concat([table.dimensions["RegioS"],
                        pl.DataFrame({"code": [code], "title": [title], "description": [""]})])
    return dataclasses.replace(
        table, observations=pl.concat([table.observations, pv]),
        dimensions={**table.dimensions, "RegioS": regios})


def test_nl01_rows_are_cbs_cells_not_a_sum_of_gemeenten(table: CbsTable) -> None:
    regio = wmo.wmo_clienten_regio([(SPEC_NEW, table)])
    nl = regio.filter(pl.col("regio_code") == "NL01")
    assert set(regio["regio_code"]) == {"NL01"}  # the fixture has no provinces
    assert nl["regio_naam"].unique().to_list() == ["Nederland"]
    assert nl["regio_type"].unique().to_list() == ["land"]
    expected = cells(table, "NL01")
    joined = nl.join(expected, on=["voorziening_code", "periode_code"], suffix="_cbs")
    assert joined.height == expected.height == nl.height == 2 * 5
    assert joined["clienten"].cast(pl.Float64).to_list() == joined["clienten_cbs"].to_list()
    assert joined["clienten_per_1000"].cast(pl.Float64).to_list() == \
        joined["clienten_per_1000_cbs"].to_list()
    # CBS's figure is far above what the four gemeenten in the fixture add up to.
    pooled = (wmo.wmo_clienten([(SPEC_NEW, table)])
              .group_by("periode_code", "voorziening_code").agg(pl.col("clienten").sum()))
    both = nl.join(pooled, on=["periode_code", "voorziening_code"], suffix="_gm")
    assert (both["clienten"] > both["clienten_gm"]).all()
    # The gemeenten table stays free of the country row.
    assert not wmo.wmo_clienten([(SPEC_NEW, table)])["gemeente_code"].str.starts_with("NL").any()


def test_provinces_are_kept_with_their_cbs_title(table: CbsTable) -> None:
    regio = wmo.wmo_clienten_regio([(SPEC_NEW, with_province(table, "PV20", "Groningen (PV)",
                                                             0.03))])
    pv = regio.filter(pl.col("regio_code") == "PV20")
    assert pv.height == 10
    assert pv["regio_naam"].unique().to_list() == ["Groningen (PV)"]
    assert pv["regio_type"].unique().to_list() == ["provincie"]
    nl = regio.filter(pl.col("regio_code") == "NL01").sort(KEY)
    total = pv.sort(KEY).filter(pl.col("voorziening_code") == "T001024")["clienten"].to_list()
    assert total == [round(v * 0.03) if v is not None else None
                     for v in nl.filter(pl.col("voorziening_code") == "T001024")["clienten"]]


def test_suppressed_cell_stays_null_never_zero(table: CbsTable) -> None:
    hole = ((pl.col("RegioS") == "NL01") & (pl.col("periode_code") == "2023HJ02")
            & (pl.col("TypeMaatwerkvoorziening") == "A019507") & (pl.col("measure") == "clienten"))
    assert table.observations.filter(hole)["value"].item() is not None
    suppressed = dataclasses.replace(table, observations=table.observations.with_columns(
        pl.when(hole).then(None).otherwise(pl.col("value")).alias("value")))
    row = wmo.wmo_clienten_regio([(SPEC_NEW, suppressed)]).filter(
        (pl.col("regio_code") == "NL01") & (pl.col("periode_code") == "2023HJ02")
        & (pl.col("voorziening_code") == "A019507"))
    assert row.height == 1
    assert row["clienten"].item() is None
    assert row["clienten_per_1000"].item() is not None  # only the suppressed measure is NULL


def test_each_period_from_the_newest_table_that_publishes_it(table: CbsTable) -> None:
    # An older series with other figures for the same periods plus one period of its own.
    old_obs = table.observations.with_columns(pl.col("value") + 5)
    extra = old_obs.filter(pl.col("periode_code") == "2023JJ00").with_columns(
        pl.lit("2022JJ00").alias("periode_code"), pl.lit(2022, pl.Int32).alias("jaar"))
    old_periods = pl.concat([
        table.periods,
        table.periods.filter(pl.col("periode_code") == "2023JJ00").with_columns(
            pl.lit("2022JJ00").alias("periode_code"), pl.lit(2022, pl.Int32).alias("jaar"))])
    old = dataclasses.replace(table, table_id="84839NED", periods=old_periods,
                              observations=pl.concat([old_obs, extra]))
    tables = [(SPEC_OLD, old), (SPEC_NEW, table)]
    regio = wmo.wmo_clienten_regio(tables)
    assert regio.select(KEY).is_duplicated().sum() == 0
    source = dict(regio.select("periode_code", "bron_tabel").unique().iter_rows())
    chosen = dict(wmo.choose_periods(tables).iter_rows())
    assert source == chosen
    assert source["2022JJ00"] == "84839NED" and source["2023JJ00"] == "86050NED"
    nl_2023 = regio.filter((pl.col("regio_code") == "NL01") & (pl.col("periode_code") == "2023JJ00")
                           & (pl.col("voorziening_code") == "T001024"))["clienten"].item()
    expected = cells(table, "NL01").filter(
        (pl.col("periode_code") == "2023JJ00")
        & (pl.col("voorziening_code") == "T001024"))["clienten"].item()
    assert nl_2023 == expected  # not the older table's +5
    # Same choice as core.wmo_clienten, period by period.
    gm_source = dict(wmo.wmo_clienten(tables).select("periode_code", "bron_tabel")
                     .unique().iter_rows())
    assert gm_source == source


def test_no_tables_gives_an_empty_frame_with_the_schema() -> None:
    empty = wmo.wmo_clienten_regio([])
    assert empty.height == 0
    assert dict(empty.schema) == wmo.REGIO_SCHEMA
