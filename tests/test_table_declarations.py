"""A CBS table is a declaration: tables.py says what fills which core table, build.py runs it."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import polars as pl
import pytest

from etl.build import Inputs, collect_inputs, transform_tables
from etl.metadata import load_metadata
from etl.sources.cbs.parse import CbsTable, load_cbs_snapshot
from etl.sources.cbs.tables import ROLES, TABLES, WMO_CLIENTEN, WMO_MEASURES, TableSpec
from tests.cbs_pages import spending_table

FIXTURES = Path(__file__).parent / "fixtures" / "cbs"


@pytest.fixture(scope="module")
def table() -> CbsTable:
    return load_cbs_snapshot(FIXTURES / "86050NED-v3", WMO_MEASURES)


def without_period(table: CbsTable, code: str) -> CbsTable:
    return dataclasses.replace(
        table, periods=table.periods.filter(pl.col("periode_code") != code),
        observations=table.observations.filter(pl.col("periode_code") != code))


def test_every_declared_target_is_a_documented_core_table() -> None:
    documented = set(load_metadata().tables)
    targets = [t for role in ROLES.values() for t in role.targets]
    assert len(targets) == len(set(targets)), "two roles fill the same core table"
    assert set(targets) <= documented
    assert {spec.role.name for spec in TABLES.values()} <= set(ROLES)


def test_a_new_table_of_an_existing_role_is_one_declaration(table: CbsTable) -> None:
    # A made-up newer series of the client table: declared, not coded. It lacks 2024JJ00,
    # which must then come from the older table, named in bron_tabel.
    newer = TableSpec("99999NED", WMO_CLIENTEN, "Wmo-cliënten (nieuwe reeks)", WMO_MEASURES,
                      priority=9)
    newer_table = without_period(table, "2024JJ00")
    newer_table = dataclasses.replace(
        newer_table, observations=newer_table.observations.with_columns(pl.col("value") + 5))
    inputs = Inputs(cbs={"wmo_clienten": [(TABLES["86050NED"], table), (newer, newer_table)]})
    frames = transform_tables(inputs, lambda _m: None)
    assert inputs.errors == []
    rows = frames["core.wmo_clienten"]
    per_period = dict(rows.group_by("periode_code").agg(pl.col("bron_tabel").unique())
                      .iter_rows())
    assert per_period == {"2023HJ01": ["99999NED"], "2023HJ02": ["99999NED"],
                          "2023JJ00": ["99999NED"], "2024HJ01": ["99999NED"],
                          "2024JJ00": ["86050NED"]}
    assert rows.filter(pl.col("clienten").is_not_null()).height > 0
    # The region rows follow the same choice.
    regio = frames["core.wmo_clienten_regio"]
    assert set(regio.filter(pl.col("periode_code") == "2024JJ00")["bron_tabel"]) == {"86050NED"}
    assert set(regio.filter(pl.col("periode_code") == "2023JJ00")["bron_tabel"]) == {"99999NED"}
    assert frames["core.periode"].filter(pl.col("periode_code") == "2023JJ00")[
        "bron_tabel"].to_list() == ["99999NED"]


def test_a_role_without_tables_gives_its_tables_empty_with_their_schema(table) -> None:
    inputs = Inputs(cbs={"wmo_clienten": [(TABLES["86050NED"], table)]})
    frames = transform_tables(inputs, lambda _m: None)
    for role in ROLES.values():
        if role.name == "wmo_clienten":
            continue
        for output in role.outputs:
            assert frames[output.target].height == 0
            assert frames[output.target].schema == pl.Schema(output.schema)


def test_a_missing_optional_table_is_a_warning_not_a_silence(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    (raw / "cbs").mkdir(parents=True)
    # The client table is a v3 fixture; the spending table is there, the flow tables are not.
    shutil.copytree(FIXTURES / "86050NED-v3", raw / "cbs" / "86050NED")
    spending_table().write(raw / "cbs" / "84580NED")
    inputs = collect_inputs(raw, None, None, lambda _m: None)
    warned = " ".join(inputs.warnings)
    assert "instroom/uitstroom table (86051NED, 85044NED, 83268NED)" in warned
    assert "support ended by the gemeente table (86061NED, 83266NED)" in warned
    assert "no spending table" not in warned
    assert [s.table_id for s, _ in inputs.cbs["wmo_uitgaven"]] == ["84580NED"]
