"""load_cbs_snapshot: OData v3, OData v4 and both StatLine CSV variants give the same records."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from etl.errors import InputError, InputErrors
from etl.sources.cbs.parse import (
    CbsTable,
    clean_title,
    detect_format,
    load_cbs_cube,
    load_cbs_snapshot,
    title_key,
)
from etl.sources.cbs.tables import WMO_MEASURES

FIXTURES = Path(__file__).parent / "fixtures" / "cbs"
VARIANTS = ["v3", "v4", "csv-met", "csv-zonder"]
DIMS = ["TypeMaatwerkvoorziening", "RegioS"]
OBS_SCHEMA = {
    "TypeMaatwerkvoorziening": pl.Utf8, "RegioS": pl.Utf8, "periode_code": pl.Utf8,
    "jaar": pl.Int32, "halfjaar": pl.Int8, "status": pl.Utf8, "measure": pl.Utf8,
    "value": pl.Float64,
}
CSV_NAME = "Wmo_clienten__type_maatwerkvoorziening__detail___regio_21052025_093012.csv"


def load(variant: str, folder: Path | None = None) -> CbsTable:
    return load_cbs_snapshot(folder or FIXTURES / f"86050NED-{variant}", WMO_MEASURES)


def copy_fixture(name: str, tmp_path: Path) -> Path:
    return Path(shutil.copytree(FIXTURES / name, tmp_path / name))


def value(table: CbsTable, typ: str, regio: str, periode: str, measure: str) -> float | None:
    rows = table.observations.filter(
        (pl.col("TypeMaatwerkvoorziening") == typ) & (pl.col("RegioS") == regio)
        & (pl.col("periode_code") == periode) & (pl.col("measure") == measure)
    )
    assert rows.height == 1, f"expected one row for {typ} {regio} {periode} {measure}"
    return rows["value"][0]


def rewrite_json(path: Path, edit) -> None:
    doc = json.loads(path.read_text(encoding="utf-8"))
    edit(doc)
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")


def csv_lines(folder: Path) -> list[str]:
    return (folder / "csv" / CSV_NAME).read_text(encoding="utf-8-sig").splitlines()


def write_csv_lines(folder: Path, lines: list[str], newline: str) -> None:
    (folder / "csv" / CSV_NAME).write_bytes((newline.join(lines) + newline).encode("utf-8-sig"))


# --------------------------------------------------------------------------- same records


@pytest.fixture(scope="module")
def tables() -> dict[str, CbsTable]:
    return {v: load(v) for v in VARIANTS}


@pytest.mark.parametrize("variant", VARIANTS[1:])
def test_every_format_gives_the_observations_of_v3(tables: dict[str, CbsTable],
                                                   variant: str) -> None:
    keys = [*DIMS, "periode_code", "measure"]
    assert_frame_equal(tables[variant].observations.sort(keys),
                       tables["v3"].observations.sort(keys))
    # Also without re-sorting: the parser's own order is deterministic and shared.
    assert_frame_equal(tables[variant].observations, tables["v3"].observations)


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_format_gives_the_same_compact_cube(variant: str) -> None:
    cube = load_cbs_cube(FIXTURES / f"86050NED-{variant}", WMO_MEASURES)
    assert (cube.keys, cube.measures) == (DIMS, list(WMO_MEASURES))
    assert cube.cells.columns == [*DIMS, "periode_code", *WMO_MEASURES]
    assert all(isinstance(cube.cells.schema[k], pl.Enum) for k in [*DIMS, "periode_code"])
    assert cube.cells.height == 2 * 5 * 5  # one row per cell, v4's left-out cells included
    v3 = load_cbs_cube(FIXTURES / "86050NED-v3", WMO_MEASURES)
    assert_frame_equal(cube.cells, v3.cells)


def test_observations_have_the_contract_schema_and_full_grid(tables: dict[str, CbsTable]) -> None:
    obs = tables["v3"].observations
    assert dict(obs.schema) == OBS_SCHEMA
    assert obs.height == 2 * 5 * 5 * 2  # categories × regions × periods × measures
    assert obs.select(pl.struct(*DIMS, "periode_code", "measure").is_unique().all()).item()


@pytest.mark.parametrize("variant", VARIANTS)
def test_metadata_agrees_across_formats(tables: dict[str, CbsTable], variant: str) -> None:
    table = tables[variant]
    assert table.table_id == "86050NED"
    assert table.title == "Wmo-cliënten; type maatwerkvoorziening (detail), regio"
    assert table.fmt == {"v3": "odata-v3", "v4": "odata-v4"}.get(variant, "statline-csv")
    assert_frame_equal(table.periods, tables["v3"].periods)
    assert list(table.dimensions) == DIMS
    for key in DIMS:
        assert table.dimensions[key].columns == ["code", "title", "description"]
        assert_frame_equal(table.dimensions[key], tables["v3"].dimensions[key])


def test_padding_is_stripped_from_data_and_dimension_lists(tables: dict[str, CbsTable]) -> None:
    raw = (FIXTURES / "86050NED-v3/v3/TypedDataSet/page-0001.json").read_text(encoding="utf-8")
    assert '"RegioS":"NL01  "' in raw  # the fixture really is padded
    table = tables["v3"]
    assert table.dimensions["RegioS"]["code"].to_list() == [
        "NL01", "GM0014", "GM0363", "GM0738", "GM1992"]
    codes = table.observations["RegioS"].unique().to_list()
    assert "NL01" in codes
    assert not [c for c in codes if c != c.strip()]


def test_83262_shape_with_geslacht_and_kenmerken() -> None:
    table = load_cbs_snapshot(FIXTURES / "83262NED-v3", WMO_MEASURES)
    obs = table.observations
    assert obs.columns[:4] == ["Geslacht", "KenmerkenVanPersonen", "TypeMaatwerkarrangement",
                               "RegioS"]
    assert obs.height == 3 * 2 * 2 * 2 * 3 * 2
    assert sorted(obs["Geslacht"].unique()) == ["3000", "4000", "T001038"]  # "3000   " stripped
    assert sorted(obs["KenmerkenVanPersonen"].unique()) == ["2012655", "T009002"]
    suppressed = obs.filter(
        (pl.col("Geslacht") == "3000") & (pl.col("KenmerkenVanPersonen") == "2012655")
        & (pl.col("TypeMaatwerkarrangement") == "A019507") & (pl.col("RegioS") == "GM0518")
        & (pl.col("periode_code") == "2020HJ01"))
    assert suppressed["value"].to_list() == [None, None]
    assert obs["value"].null_count() == 2
    assert table.periods.filter(pl.col("periode_code") == "2020HJ01")["status"].item() == (
        "voorlopig")


# --------------------------------------------------------------------------- periods, nulls


@pytest.mark.parametrize("variant", VARIANTS)
def test_statuses_come_from_the_period_list_or_the_stars(tables: dict[str, CbsTable],
                                                         variant: str) -> None:
    pairs = tables[variant].observations.select("periode_code", "status").unique()
    status = dict(pairs.iter_rows())
    assert status == {
        "2023HJ01": "definitief", "2023HJ02": "definitief", "2023JJ00": "definitief",
        "2024HJ01": "nader_voorlopig", "2024JJ00": "voorlopig",
    }


def test_half_years_and_years_are_decoded(tables: dict[str, CbsTable]) -> None:
    periods = {row[0]: row[1:] for row in tables["v3"].periods.select(
        "periode_code", "jaar", "halfjaar", "title").iter_rows()}
    assert periods["2023HJ01"] == (2023, 1, "1e halfjaar 2023")
    assert periods["2023HJ02"] == (2023, 2, "2e halfjaar 2023")
    assert periods["2024JJ00"] == (2024, None, "2024")
    obs = tables["v3"].observations
    year_rows = obs.filter(pl.col("periode_code").str.contains("JJ"))
    assert year_rows.height == 40 and year_rows["halfjaar"].null_count() == 40
    assert set(obs.filter(pl.col("periode_code") == "2024HJ01")["jaar"]) == {2024}


@pytest.mark.parametrize("variant", VARIANTS)
def test_missing_is_null_and_a_real_zero_stays_zero(tables: dict[str, CbsTable],
                                                    variant: str) -> None:
    table = tables[variant]
    aalburg = table.observations.filter(pl.col("RegioS") == "GM0738")
    assert aalburg.height == 2 * 5 * 2  # a dissolved gemeente keeps its (empty) rows
    assert aalburg["value"].null_count() == aalburg.height
    assert value(table, "T001024", "GM1992", "2023HJ01", "clienten") is None
    # v4 delivers this cell as Value 0.0 with ValueAttribute "Confidential": still null.
    assert value(table, "A019507", "GM0014", "2024JJ00", "clienten_per_1000") is None
    assert value(table, "A019507", "GM1992", "2023HJ02", "clienten") == 10.0
    assert value(table, "A019507", "GM1992", "2023HJ02", "clienten_per_1000") == 0.0
    assert value(table, "T001024", "NL01", "2024JJ00", "clienten") == 1284680.0
    assert table.observations["value"].null_count() == 20 + 2 + 2 + 2


def test_v4_densifies_cells_it_leaves_out() -> None:
    pages = (FIXTURES / "86050NED-v4/v4/Observations").glob("page-*.json")
    assert not any("GM0738" in p.read_text(encoding="utf-8") for p in pages)
    obs = load("v4").observations
    assert obs.filter(pl.col("RegioS") == "GM0738").height == 20


# --------------------------------------------------------------------------- measures


def test_titles_compare_without_case_spacing_unit_or_group_prefix() -> None:
    assert title_key("Bevolking/Bevolkingssamenstelling op 1 januari/Totale bevolking (aantal)"
                     ) == title_key("totale  Bevolking")
    assert title_key("Wmo-cliënten per 1\u00a0000 inwoners (per 1 000 inwoners)") == title_key(
        "Wmo-cliënten per 1 000 inwoners")
    assert title_key("Wmo-cliënten (aantal)") != title_key("Wmo-cliënten per 1 000 inwoners")
    assert clean_title("  Wmo-CLIËNTEN ") == "wmo-cliënten"


def test_measure_is_found_by_title_when_the_key_suffix_differs(tmp_path: Path) -> None:
    folder = copy_fixture("86050NED-v3", tmp_path)
    for path in (folder / "v3").rglob("page-*.json"):
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace("WmoClienten_1", "WmoClienten_5")
                        .replace("WmoClientenPer1000Inwoners_2", "WmoClientenPer1000Inwoners_6"),
                        encoding="utf-8")
    assert "WmoClienten_5" in (folder / "v3/DataProperties/page-0001.json").read_text("utf-8")
    assert_frame_equal(load("v3", folder).observations, load("v3").observations)


def test_measure_titles_are_matched_loosely_but_exactly(tmp_path: Path) -> None:
    table = load_cbs_snapshot(FIXTURES / "86050NED-csv-met",
                              {"n": "WMO-cliënten (aantal)", "rate": "wmo-cliënten  per 1 000 "
                                                                    "inwoners"})
    assert sorted(table.observations["measure"].unique()) == ["n", "rate"]
    n = table.observations.filter((pl.col("measure") == "n") & (pl.col("RegioS") == "NL01")
                                  & (pl.col("periode_code") == "2024JJ00")
                                  & (pl.col("TypeMaatwerkvoorziening") == "T001024"))
    assert n["value"].item() == 1284680.0


def test_missing_measure_names_the_file_and_lists_the_titles(tmp_path: Path) -> None:
    folder = copy_fixture("86050NED-v3", tmp_path)
    dp = folder / "v3/DataProperties/page-0001.json"
    rewrite_json(dp, lambda doc: doc["value"].pop(3))  # drop the WmoClienten_1 topic
    with pytest.raises(InputError) as info:
        load("v3", folder)
    err = info.value
    # "Wmo-cliënten" must not fall back to "Wmo-cliënten per 1 000 inwoners".
    assert err.file.endswith("DataProperties/page-0001.json")
    assert err.field == "measure"
    assert "'Wmo-cliënten' (clienten) not found" in err.message
    assert "'Wmo-cliënten per 1 000 inwoners'" in err.message


def test_missing_measure_in_v4_lists_measure_code_titles() -> None:
    with pytest.raises(InputError) as info:
        load_cbs_snapshot(FIXTURES / "86050NED-v4", {"inwoners": "Bevolking op 1 januari"})
    assert info.value.file.endswith("MeasureCodes/page-0001.json")
    assert "'Wmo-cliënten', 'Wmo-cliënten per 1 000 inwoners'" in info.value.message


# --------------------------------------------------------------------------- JSON errors


def test_truncated_json_names_the_page_file(tmp_path: Path) -> None:
    folder = copy_fixture("86050NED-v3", tmp_path)
    page = folder / "v3/TypedDataSet/page-0002.json"
    page.write_bytes(page.read_bytes()[:500])
    with pytest.raises(InputError) as info:
        load("v3", folder)
    assert info.value.file.endswith("TypedDataSet/page-0002.json")
    assert "truncated" in info.value.message
    assert "page-0002.json" in str(info.value)


def test_page_without_value_array_is_a_shape_error(tmp_path: Path) -> None:
    folder = copy_fixture("86050NED-v4", tmp_path)
    page = folder / "v4/Observations/page-0002.json"
    rewrite_json(page, lambda doc: doc.update(items=doc.pop("value")))
    with pytest.raises(InputError) as info:
        load("v4", folder)
    assert info.value.file.endswith("Observations/page-0002.json")
    assert info.value.field == "value"


def test_missing_dimension_column_names_page_and_field(tmp_path: Path) -> None:
    folder = copy_fixture("86050NED-v3", tmp_path)

    def drop_regio(doc: dict) -> None:
        for row in doc["value"]:
            del row["RegioS"]

    rewrite_json(folder / "v3/TypedDataSet/page-0002.json", drop_regio)
    with pytest.raises(InputError) as info:
        load("v3", folder)
    assert (info.value.record, info.value.field) == ("page-0002.json value[0]", "RegioS")


def test_unknown_code_and_bad_number_name_the_record(tmp_path: Path) -> None:
    folder = copy_fixture("86050NED-v3", tmp_path)
    page = folder / "v3/TypedDataSet/page-0002.json"
    rewrite_json(page, lambda doc: doc["value"][17].update(RegioS="GM9999"))
    with pytest.raises(InputError) as info:
        load("v3", folder)
    assert (info.value.record, info.value.field) == ("page-0002.json value[17]", "RegioS")
    assert "'GM9999' is not in the RegioS list" in info.value.message

    rewrite_json(page, lambda doc: doc["value"][17].update(RegioS="GM0363", WmoClienten_1="12x"))
    with pytest.raises(InputError) as info:
        load("v3", folder)
    assert (info.value.record, info.value.field) == ("page-0002.json value[17]", "WmoClienten_1")


def test_boolean_in_a_value_column_is_rejected_but_ignored_elsewhere(tmp_path: Path) -> None:
    folder = copy_fixture("86050NED-v3", tmp_path)
    page = folder / "v3/TypedDataSet/page-0001.json"
    rewrite_json(page, lambda doc: doc["value"][2].update(Extra=True))
    assert_frame_equal(load("v3", folder).observations, load("v3").observations)

    rewrite_json(page, lambda doc: doc["value"][2].update(WmoClienten_1=True))
    with pytest.raises(InputError) as info:
        load("v3", folder)
    assert (info.value.record, info.value.field) == ("page-0001.json value[2]", "WmoClienten_1")


def test_unknown_period_code_is_rejected(tmp_path: Path) -> None:
    folder = copy_fixture("86050NED-v3", tmp_path)
    rewrite_json(folder / "v3/Perioden/page-0001.json",
                 lambda doc: doc["value"][4].update(Key="2024W100"))
    with pytest.raises(InputError) as info:
        load("v3", folder)
    assert info.value.file.endswith("Perioden/page-0001.json")
    assert (info.value.record, info.value.field) == ("page-0001.json value[4]", "Key")
    assert "unknown period code" in info.value.message


def test_v4_cell_delivered_twice_is_an_error(tmp_path: Path) -> None:
    folder = copy_fixture("86050NED-v4", tmp_path)
    rewrite_json(folder / "v4/Observations/page-0002.json",
                 lambda doc: doc["value"].append(dict(doc["value"][0], Id=999)))
    with pytest.raises(InputError, match="delivered twice"):
        load("v4", folder)


def test_format_is_detected_from_the_subfolder_without_sidecar(tmp_path: Path) -> None:
    for variant, fmt in [("v3", "odata-v3"), ("v4", "odata-v4"), ("csv-met", "statline-csv")]:
        folder = copy_fixture(f"86050NED-{variant}", tmp_path)
        (folder / "_source.json").unlink()
        assert detect_format(folder) == fmt
        assert load(variant, folder).fmt == fmt
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="cannot tell the format"):
        detect_format(tmp_path / "empty")


# --------------------------------------------------------------------------- CSV


def test_csv_unknown_region_title_names_line_and_field(tmp_path: Path) -> None:
    folder = copy_fixture("86050NED-csv-met", tmp_path)
    lines = csv_lines(folder)
    line_no = next(i for i, line in enumerate(lines, start=1) if '"Amsterdam"' in line)
    lines[line_no - 1] = lines[line_no - 1].replace('"Amsterdam"', '"Atlantis"')
    write_csv_lines(folder, lines, "\n")
    with pytest.raises(InputErrors) as info:
        load("csv-met", folder)
    [err] = info.value.errors
    assert err.file.endswith(CSV_NAME)
    assert (err.record, err.field) == (line_no, "Regio's")
    assert "'Atlantis' is not a title in the RegioS list" in err.message
    assert f"{CSV_NAME}:{line_no}: Regio's:" in str(err)


def test_all_csv_cell_errors_are_reported_together(tmp_path: Path) -> None:
    folder = copy_fixture("86050NED-csv-zonder", tmp_path)
    lines = csv_lines(folder)
    # columns: Perioden; Regio's; Type; per 1 000; aantal — rows by region, period, type
    edits = {3: (";30;", ";3o;"), 4: ('"Totaal"', '"Totaal alles"'), 7: ('"2023"', '"2031"')}
    for line_no, (old, new) in edits.items():
        assert old in lines[line_no - 1]
        lines[line_no - 1] = lines[line_no - 1].replace(old, new)
    lines[9] += "x"  # line 10: garbage glued to the last number
    write_csv_lines(folder, lines, "\r\n")
    with pytest.raises(InputErrors) as info:
        load("csv-zonder", folder)
    found = [(e.record, e.field) for e in info.value.errors]
    assert found == [
        (3, "Wmo-cliënten per 1 000 inwoners (per 1 000 inwoners)"),
        (4, "Type maatwerkvoorziening"),
        (7, "Perioden"),
        (10, "Wmo-cliënten (aantal)"),
    ]


def test_csv_met_reads_symbols_as_null_and_a_decimal_point(tmp_path: Path) -> None:
    folder = copy_fixture("86050NED-csv-met", tmp_path)
    lines = csv_lines(folder)
    # line 2: Totaal / Nederland / 1e halfjaar 2023: 1150230 and 64
    assert lines[1].endswith('" 1150230";"      64"')
    lines[1] = lines[1].replace('"      64"', '"    64.5"').replace('" 1150230"', '"       x"')
    lines[2] = lines[2].replace('"      65"', '"       -"')
    write_csv_lines(folder, lines, "\n")
    table = load("csv-met", folder)
    assert value(table, "T001024", "NL01", "2023HJ01", "clienten_per_1000") == 64.5
    assert value(table, "T001024", "NL01", "2023HJ01", "clienten") is None
    # `-` (nil in old tables) is read as null, never as an invented 0.
    assert value(table, "T001024", "NL01", "2023HJ02", "clienten_per_1000") is None


def test_csv_zonder_reads_a_decimal_comma(tmp_path: Path) -> None:
    folder = copy_fixture("86050NED-csv-zonder", tmp_path)
    lines = csv_lines(folder)
    assert lines[1] == '"1e halfjaar 2023";"Nederland";"Totaal";64;1150230'
    lines[1] = '"1e halfjaar 2023";"Nederland";"Totaal";64,5;1150230'
    write_csv_lines(folder, lines, "\r\n")
    table = load("csv-zonder", folder)
    assert value(table, "T001024", "NL01", "2023HJ01", "clienten_per_1000") == 64.5


def test_csv_met_rejects_a_decimal_comma(tmp_path: Path) -> None:
    folder = copy_fixture("86050NED-csv-met", tmp_path)
    lines = csv_lines(folder)
    lines[3] = lines[3].replace('"      71"', '"    71,5"')
    write_csv_lines(folder, lines, "\n")
    with pytest.raises(InputErrors) as info:
        load("csv-met", folder)
    assert [(e.record, e.field) for e in info.value.errors] == [
        (4, "Wmo-cliënten per 1 000 inwoners (per 1 000 inwoners)")]


def test_csv_stars_beat_an_older_status_in_the_metadata(tmp_path: Path) -> None:
    folder = copy_fixture("86050NED-csv-met", tmp_path)
    rewrite_json(folder / "v3/Perioden/page-0001.json",
                 lambda doc: doc["value"][4].update(Status="Definitief"))
    table = load("csv-met", folder)
    assert set(table.observations.filter(pl.col("periode_code") == "2024JJ00")["status"]) == {
        "voorlopig"}
    assert table.periods.filter(pl.col("periode_code") == "2024JJ00")["status"].item() == (
        "voorlopig")


def test_csv_line_with_a_missing_field_is_an_error(tmp_path: Path) -> None:
    folder = copy_fixture("86050NED-csv-zonder", tmp_path)
    lines = csv_lines(folder)
    lines[4] = lines[4].rsplit(";", 1)[0]
    write_csv_lines(folder, lines, "\r\n")
    with pytest.raises(InputError) as info:
        load("csv-zonder", folder)
    assert info.value.record == 5
    assert "expected 5 fields" in info.value.message


def test_csv_without_a_dimension_column_is_an_error(tmp_path: Path) -> None:
    folder = copy_fixture("86050NED-csv-met", tmp_path)
    lines = [line.split(";", 1)[1] for line in csv_lines(folder)]
    write_csv_lines(folder, lines, "\n")
    with pytest.raises(InputError) as info:
        load("csv-met", folder)
    assert (info.value.record, info.value.field) == (1, "Type maatwerkvoorziening")


def test_csv_period_with_two_different_stars_is_an_error(tmp_path: Path) -> None:
    folder = copy_fixture("86050NED-csv-met", tmp_path)
    lines = csv_lines(folder)
    line_no = next(i for i, line in enumerate(lines, start=1) if '"2024*"' in line)
    lines[line_no - 1] = lines[line_no - 1].replace('"2024*"', '"2024"')
    write_csv_lines(folder, lines, "\n")
    with pytest.raises(InputErrors) as info:
        load("csv-met", folder)
    [err] = info.value.errors
    assert err.field == "Perioden"
    assert "2024JJ00 carries different status markers" in err.message


def test_csv_error_list_is_capped(tmp_path: Path) -> None:
    folder = copy_fixture("86050NED-csv-zonder", tmp_path)
    header, *rows = csv_lines(folder)
    rows = [row.rsplit(";", 2)[0] + ";?;?" for row in rows]
    write_csv_lines(folder, [header, *rows], "\r\n")
    with pytest.raises(InputErrors) as info:
        load("csv-zonder", folder)
    errors = info.value.errors
    assert len(errors) == 51
    assert [e.record for e in errors[:4]] == [2, 2, 3, 3]
    assert errors[-1].record is None and "more problems" in errors[-1].message
