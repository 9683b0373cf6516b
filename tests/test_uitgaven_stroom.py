"""84580NED → core.wmo_uitgaven (euro), the flow tables → core.wmo_stroom / core.wmo_beeindiging,
from hand-written v3 pages in the real layout whose figures are the real StatLine excerpts."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from etl.errors import InputError
from etl.sources.cbs.parse import load_cbs_snapshot
from etl.sources.cbs.tables import TABLES, WMO_STROOM, TableSpec
from etl.transform import stroom, uitgaven, wmo
from tests.cbs_pages import (
    SPENDING_TOPICS,
    Dim,
    beeindiging_table,
    spending_table,
    stroom_table,
)

SPEC = TABLES["84580NED"]


def parse(table, folder: Path, spec: TableSpec = SPEC):
    return load_cbs_snapshot(table.write(folder / table.table_id), spec.measures)


def row(frame: pl.DataFrame, **where) -> dict:
    found = frame.filter(*[pl.col(k) == v for k, v in where.items()])
    assert found.height == 1, found
    return found.row(0, named=True)


def test_spending_is_in_euro_and_per_inwoner_as_cbs_computes_it(tmp_path: Path) -> None:
    rows = uitgaven.table_rows(SPEC, parse(spending_table(), tmp_path))
    ams = row(rows, gemeente_code="GM0363", jaar=2023, voorziening_code="T001024")
    # "Totaal Amsterdam 2023* 356.892 389 345.486 376" (thousands of euro; euro per inwoner)
    assert ams["uitgaven_begroot"] == 356_892_000
    assert ams["uitgaven_gerealiseerd"] == 345_486_000
    assert ams["uitgaven_begroot_per_inwoner"] == 389
    assert ams["uitgaven_gerealiseerd_per_inwoner"] == 376
    assert ams["voorziening"] == "Totaal"
    assert ams["status"] == "voorlopig" and ams["bron_tabel"] == "84580NED"
    utr = row(rows, gemeente_code="GM0344", jaar=2024, voorziening_code="T001024")
    assert utr["uitgaven_gerealiseerd"] == 204_690_000
    assert rows.schema == pl.Schema(uitgaven.UITGAVEN_SCHEMA)


def test_gemeenten_only_and_empty_cells_stay_null(tmp_path: Path) -> None:
    rows = uitgaven.table_rows(SPEC, parse(spending_table(), tmp_path))
    assert not rows.filter(~pl.col("gemeente_code").str.starts_with("GM")).height
    # 5 gemeenten × 2 types × 3 years: the dense cube, dissolved Aalburg included.
    assert rows.height == 5 * 2 * 3
    for code in ("GM0738", "GM1959"):  # Aalburg (dissolved), Altena (did not deliver 2023)
        empty = row(rows, gemeente_code=code, jaar=2023, voorziening_code="T001024")
        for column in ("uitgaven_begroot", "uitgaven_gerealiseerd",
                       "uitgaven_begroot_per_inwoner", "uitgaven_gerealiseerd_per_inwoner"):
            assert empty[column] is None
    assert (rows["uitgaven_gerealiseerd"] == 0).sum() == 0


def test_national_budget_unknown_while_realised_known(tmp_path: Path) -> None:
    table = parse(spending_table(), tmp_path)
    regio = uitgaven.regio_rows(SPEC, table)
    assert set(regio["regio_code"]) == {"NL01"}
    nl = row(regio, regio_code="NL01", jaar=2023, voorziening_code="T001024")
    # "Totaal Nederland 2023* . . 5.483.969 308"
    assert (nl["uitgaven_begroot"], nl["uitgaven_begroot_per_inwoner"]) == (None, None)
    assert nl["uitgaven_gerealiseerd"] == 5_483_969_000
    assert nl["uitgaven_gerealiseerd_per_inwoner"] == 308
    assert (nl["regio_naam"], nl["regio_type"]) == ("Nederland", "land")
    hbh = row(regio, regio_code="NL01", jaar=2019, voorziening_code="A019507")
    # "Hulp bij het huishouden Nederland 2019* 1.112.449 64 1.133.291 66"
    assert (hbh["uitgaven_begroot"], hbh["uitgaven_begroot_per_inwoner"],
            hbh["uitgaven_gerealiseerd"], hbh["uitgaven_gerealiseerd_per_inwoner"]) == (
        1_112_449_000, 64, 1_133_291_000, 66)
    assert regio.schema == pl.Schema(uitgaven.REGIO_SCHEMA)
    # The same cells in the parsed table, per measure.
    nl = (table.observations.filter((pl.col("RegioS") == "NL01")
                                    & (pl.col("periode_code") == "2023JJ00")
                                    & (pl.col(table.observations.columns[0]) == "T001024")))
    values = dict(nl.select("measure", "value").iter_rows())
    assert values["begroot"] is None and values["begroot_per_1000"] is None
    assert values["gerealiseerd"] == 5_483_969 and values["gerealiseerd_per_1000"] == 308


@pytest.mark.parametrize("key,title", [("MaatwerkarrangementenType",
                                        "Maatwerkarrangementen: type"),
                                       ("Soort", "Iets onverwachts")])
def test_the_type_dimension_is_found_by_its_role(tmp_path: Path, key: str, title: str) -> None:
    rows = uitgaven.table_rows(SPEC, parse(spending_table(key, title), tmp_path))
    hbh = rows.filter(pl.col("voorziening") == "Hulp bij het huishouden")
    assert hbh.height == 5 * 3
    assert set(rows["voorziening_code"]) == {"T001024", "A019507"}


def test_measures_are_found_by_title_whatever_the_spacing_of_1_000(tmp_path: Path) -> None:
    topics = [(k, t.replace("per 1000", "per 1 000"), u) for k, t, u in SPENDING_TOPICS]
    rows = uitgaven.table_rows(SPEC, parse(spending_table(topics=topics), tmp_path))
    assert row(rows, gemeente_code="GM0106", jaar=2023,
               voorziening_code="T001024")["uitgaven_gerealiseerd_per_inwoner"] == 575


def test_a_second_breakdown_dimension_is_refused_with_the_dimensions_named(tmp_path) -> None:
    base = spending_table()
    extra = Dim("Geslacht", "Geslacht", "Dimension", [("T001038", "Totaal", "")])
    table = base.__class__(base.table_id, base.title, [extra, *base.dims], base.topics,
                           {("T001038", *k): v for k, v in base.cells.items()})
    with pytest.raises(InputError, match="Geslacht"):
        uitgaven.table_rows(SPEC, parse(table, tmp_path))


def test_a_missing_measure_is_a_clear_error(tmp_path: Path) -> None:
    # Renamed rather than dropped, so the cube keeps four values per cell.
    topics = [(k, "Iets anders", u) if t.startswith("Begrote uitgaven per") else (k, t, u)
              for k, t, u in SPENDING_TOPICS]
    with pytest.raises(InputError, match="Begrote uitgaven per 1000 inwoners"):
        parse(spending_table(topics=topics), tmp_path)


def test_stroom_rows_are_the_published_counts(tmp_path: Path) -> None:
    spec = TABLES["85044NED"]
    rows = stroom.stroom_rows(spec, parse(stroom_table(), tmp_path, spec))
    gr = row(rows, gemeente_code="GM0014", periode_code="2021JJ00", voorziening_code="A019507")
    assert (gr["stand"], gr["instroom"], gr["uitstroom"]) == (5525, 2240, 3835)
    assert gr["voorziening"] == "Hulp bij het huishouden" and gr["halfjaar"] is None
    eems = row(rows, gemeente_code="GM1979", periode_code="2021JJ00", voorziening_code="A019507")
    assert eems["stand"] is None and eems["instroom"] == 1990
    lopp = row(rows, gemeente_code="GM0024", periode_code="2021JJ00", voorziening_code="T001024")
    assert (lopp["stand"], lopp["instroom"], lopp["uitstroom"]) == (None, None, None)
    assert rows.schema == pl.Schema(stroom.STROOM_SCHEMA)


def test_stroom_periods_come_from_the_newest_table(tmp_path: Path) -> None:
    old_spec, new_spec = TABLES["85044NED"], TABLES["86051NED"]
    assert new_spec.role is WMO_STROOM and new_spec.priority > old_spec.priority
    old = parse(stroom_table(), tmp_path, old_spec)
    periods = [("2021JJ00", "2021", "Definitief"), ("2022JJ00", "2022", "Voorlopig")]
    newer_cells = {("A019507", "GM0014", p): [5000 + i, 2000, 3000]
                   for i, (p, _, _) in enumerate(periods)}
    new = parse(stroom_table("86051NED", periods, newer_cells), tmp_path / "n", new_spec)
    rows = wmo.newest_table_wins([(old_spec, old), (new_spec, new)], stroom.stroom_rows,
                                 stroom.STROOM_SCHEMA, stroom.STROOM_SORT)
    gr = rows.filter((pl.col("gemeente_code") == "GM0014")
                     & (pl.col("voorziening_code") == "A019507"))
    assert gr.select("periode_code", "stand", "status", "bron_tabel").rows() == [
        ("2021JJ00", 5000, "definitief", "86051NED"), ("2022JJ00", 5001, "voorlopig", "86051NED")]


def test_beeindiging_keeps_every_reason_with_its_title(tmp_path: Path) -> None:
    spec = TABLES["83266NED"]
    rows = stroom.beeindiging_rows(spec, parse(beeindiging_table(), tmp_path, spec))
    assert not rows.filter(pl.col("gemeente_code") == "NL01").height
    lw = rows.filter(pl.col("gemeente_code") == "GM0080")
    assert lw.height == 8
    gemeente = lw.filter(stroom.is_reden_gemeente(pl.col("reden")))
    assert gemeente.select("clienten", "clienten_per_1000").rows() == [(25, 0)]
    assert row(lw, reden="Totaal")["clienten"] == 7035
    assert row(lw, reden="Cliënt wil nu zorg niet")["clienten"] is None
    assert rows.schema == pl.Schema(stroom.BEEINDIGING_SCHEMA)
