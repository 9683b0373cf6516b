"""`wmo import cbs`: every form in which people hold a CBS table becomes the same v3 snapshot.

Real files from ../shared/real-data go through the command line and the real parser; the
hand-written forms are all written from one in-memory table, so that a test can show that
every form gives the same `core.wmo_clienten` rows as a fetch from the loopback server.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from etl.cli import main
from etl.errors import InputError, InputErrors
from etl.settings import load_settings
from etl.snapshot import sha256_file
from etl.sources.cbs.fetch import fetch_cbs_table
from etl.sources.cbs.imports import FORMS, detect_form, import_cbs, statline_csv_variant
from etl.sources.cbs.parse import load_cbs_snapshot
from etl.sources.cbs.tables import spec_for
from etl.transform.wmo import table_rows
from tests.cbs_server import CbsServer

SHARED = (Path(os.environ["WMO_SNAPSHOT_DIR"]).parent if os.environ.get("WMO_SNAPSHOT_DIR")
          else Path(__file__).parents[2] / "shared").resolve()  # tests change directory
REAL = SHARED / "real-data"
CBSOTS = REAL / "cbsots-83262NED"
IJHIDDING = REAL / "ijhidding-03759ned"
UNTYPED_03759 = IJHIDDING / "03759ned_UntypedDataSet_05022020_161839.csv"
META_03759 = IJHIDDING / "03759ned_metadata.csv"
HMELS = REAL / "statline-csv-format-hmels"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(["import", *argv])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def sidecar(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "_source.json").read_text(encoding="utf-8"))


def cell(table, **where: str) -> tuple[float | None, str]:
    """(value, status) of the one observation that matches `where` (codes, measure slug)."""
    obs = table.observations.filter(*[pl.col(k) == v for k, v in where.items()])
    assert obs.height == 1, where
    return obs["value"][0], obs["status"][0]


def read_real_csv(path: Path, separator: str) -> list[dict[str, str]]:
    """An independent reader for the real files (the csv module, not the importer's code)."""
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f, delimiter=separator))


# --------------------------------------------------------------------------- real files


def test_real_cbsodatar_folder_imports_offline_with_the_readme_spot_values(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "raw"
    code, err = run(capsys, "cbs", str(CBSOTS), "--table", "83262NED", "--out", str(out))

    assert code == 0, err
    assert "R cbsodataR download folder" in err
    dest = out / "cbs" / "83262NED"
    table = load_cbs_snapshot(dest, spec_for("83262NED").measures)
    assert table.fmt == "odata-v3"
    totals = {"Geslacht": "T001038", "KenmerkenVanPersonen": "T009002",
              "TypeMaatwerkarrangement": "T001024"}
    gm = {**totals, "RegioS": "GM0518"}
    assert cell(table, **gm, periode_code="2016HJ01", measure="clienten") == (36240, "definitief")
    assert cell(table, **gm, periode_code="2016HJ01", measure="clienten_per_1000")[0] == 70
    assert cell(table, **gm, periode_code="2019JJ00", measure="clienten")[0] == 38085
    assert cell(table, **gm, periode_code="2019JJ00", measure="clienten_per_1000")[0] == 71
    assert cell(table, **gm, periode_code="2020HJ01", measure="clienten") == (35325, "voorlopig")
    assert cell(table, **gm, periode_code="2020HJ01", measure="clienten_per_1000")[0] == 65
    for period in ("2015HJ02", "2015JJ00"):
        for measure in ("clienten", "clienten_per_1000"):
            assert cell(table, **gm, periode_code=period, measure=measure)[0] is None
    nl = {**totals, "RegioS": "NL01"}
    assert cell(table, **nl, periode_code="2019JJ00", measure="clienten")[0] == 1166485
    assert cell(table, **nl, periode_code="2019JJ00", measure="clienten_per_1000")[0] == 68

    # Every value of data.csv comes through: empty stays null, never 0.
    expected = {(r["Geslacht"].strip(), r["KenmerkenVanPersonen"].strip(),
                 r["TypeMaatwerkarrangement"].strip(), r["RegioS"].strip(), r["Perioden"]):
                (float(r["WmoClienten_1"]) if r["WmoClienten_1"] else None)
                for r in read_real_csv(CBSOTS / "data.csv", ",")}
    got = table.observations.filter(pl.col("measure") == "clienten")
    assert {(*row[:5], row[5]) for row in got.select(
        "Geslacht", "KenmerkenVanPersonen", "TypeMaatwerkarrangement", "RegioS",
        "periode_code", "value").iter_rows()} == {(*k, v) for k, v in expected.items()}
    assert None in expected.values()
    # The complete RegioS list (dissolved gemeenten included) and the Perioden statuses.
    assert table.dimensions["RegioS"].height == len(read_real_csv(CBSOTS / "RegioS.csv", ","))
    assert table.periods.filter(pl.col("status") == "voorlopig")["periode_code"].to_list() == [
        "2020HJ01"]

    # core rows straight from the import.
    rows = table_rows(spec_for("83262NED"), table).filter(
        (pl.col("gemeente_code") == "GM0518") & (pl.col("periode_code") == "2019JJ00")
        & (pl.col("voorziening_code") == "T001024"))
    assert rows.select("clienten", "clienten_per_1000", "status").row(0) == (38085, 71,
                                                                             "definitief")


def test_real_cbsodatar_sidecar_names_the_form_and_keeps_the_originals(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "raw"
    assert run(capsys, "cbs", str(CBSOTS), "--table", "83262ned", "--out", str(out))[0] == 0
    dest = out / "cbs" / "83262NED"
    meta = sidecar(dest)
    assert meta["format"] == "odata-v3"
    assert meta["import_form"] == "cbsodataR"
    assert meta["table_id"] == "83262NED"
    assert meta["title"] == "Wmo-cliënten; type maatwerkarrangement, regio"
    originals = {p.name: sha256_file(p) for p in CBSOTS.iterdir()}
    assert meta["original_files"] == originals
    for name, digest in originals.items():
        assert meta["files"][f"original/{name}"] == digest
        assert (dest / "original" / name).read_bytes() == (CBSOTS / name).read_bytes()
    # The v3 pages have the fetch's envelope and typed values.
    page = json.loads((dest / "v3" / "TypedDataSet" / "page-0001.json").read_bytes())
    assert page["odata.metadata"].endswith("#Cbs.OData.WebAPI.TypedDataSet")
    first = page["value"][3]
    assert first["RegioS"] == "NL01  " and first["WmoClienten_1"] == 965695
    assert page["value"][0]["WmoClienten_1"] is None
    props = json.loads((dest / "v3" / "DataProperties" / "page-0001.json").read_bytes())
    topic = next(p for p in props["value"] if p["Key"] == "WmoClienten_1")
    assert topic["Decimals"] == 0 and topic["ID"] == 5
    perioden = next(p for p in props["value"] if p["Key"] == "Perioden")
    assert perioden["ReleasePolicy"] is True


@pytest.mark.parametrize("path", [UNTYPED_03759, META_03759, IJHIDDING],
                         ids=["data-file", "metadata-file", "folder"])
def test_real_onbewerkte_dataset_imports_offline_from_either_file_or_its_folder(
        path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "raw"
    code, err = run(capsys, "cbs", str(path), "--table", "03759NED", "--out", str(out))

    assert code == 0, err
    assert 'StatLine "onbewerkte dataset"' in err
    dest = out / "cbs" / "03759NED"
    meta = sidecar(dest)
    assert meta["import_form"] == "statline-onbewerkt"
    assert meta["original_files"] == {UNTYPED_03759.name: sha256_file(UNTYPED_03759),
                                      META_03759.name: sha256_file(META_03759)}
    table = load_cbs_snapshot(dest, spec_for("03759NED").measures)
    totals = {"Geslacht": "T001038", "BurgerlijkeStaat": "T001019", "measure": "inwoners"}
    assert cell(table, **totals, Leeftijd="10000", RegioS="PV20",
                periode_code="1988JJ00") == (556757, "definitief")
    assert cell(table, **totals, Leeftijd="10000", RegioS="PV24",
                periode_code="2019JJ00")[0] == 416546
    assert cell(table, **totals, Leeftijd="19500", RegioS="PV20",
                periode_code="1988JJ00")[0] is None  # "       ." in the file


def test_real_onbewerkte_dataset_every_value_lists_and_periods(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "raw"
    assert run(capsys, "cbs", str(IJHIDDING), "--table", "03759NED", "--out", str(out))[0] == 0
    table = load_cbs_snapshot(out / "cbs" / "03759NED", spec_for("03759NED").measures)

    rows = read_real_csv(UNTYPED_03759, ";")
    expected = {(r["Leeftijd"].strip(), r["RegioS"].strip(), r["Perioden"]):
                (None if r["BevolkingOp1Januari_1"].strip() == "."
                 else float(r["BevolkingOp1Januari_1"])) for r in rows}
    got = {(lt, reg, per): value for lt, reg, per, value in table.observations.select(
        "Leeftijd", "RegioS", "periode_code", "value").iter_rows()}
    assert got == expected
    assert len(got) == 6912
    assert sum(v is None for v in expected.values()) == sum(
        r["BevolkingOp1Januari_1"].strip() == "." for r in rows) > 0

    ages = set(table.dimensions["Leeftijd"]["title"])
    assert ages == ({"Totaal", "95 jaar of ouder", "105 jaar of ouder"}
                    | {f"{n} jaar" for n in range(105)})
    assert not any(" tot " in a for a in ages)  # no 5-year groups in this real list
    assert table.periods["periode_code"].to_list() == [f"{y}JJ00" for y in range(1988, 2020)]
    assert set(table.periods["status"]) == {"definitief"}
    assert sorted(set(table.observations["RegioS"])) == ["PV20", "PV24"]


def test_real_statline_csv_files_are_recognised_as_met_statistische_symbolen() -> None:
    files = sorted(HMELS.glob("*.csv"))
    assert len(files) == 2
    for path in files:
        assert statline_csv_variant(path) == "met"
        assert detect_form(path).form == "statline-csv-met"
    assert statline_csv_variant(UNTYPED_03759) is None  # keys, not titles
    assert statline_csv_variant(CBSOTS / "data.csv") is None  # commas


def test_real_statline_csv_of_a_table_outside_the_project_is_refused_clearly(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = HMELS / "Nabijheid_voorzieningen__buurt_2021_10022023_162519.csv"
    code, err = run(capsys, "cbs", str(path), "--table", "85231NED", "--out", str(tmp_path))
    assert code == 2
    assert "unknown CBS table '85231NED'" in err and "86050NED" in err
    assert list(tmp_path.iterdir()) == []


def test_statline_csv_without_code_lists_says_what_is_missing(
        cbs_server: CbsServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The loopback server knows no table: like a CBS host that cannot serve the code lists.
    path = HMELS / "SES_WOA_scores_per_wijk_en_buurt_25042023_160857.csv"
    code, err = run(capsys, "cbs", str(path), "--table", "86050NED", "--out", str(tmp_path))
    assert code == 3
    assert 'StatLine CSV "met statistische symbolen"' in err
    assert "code lists" in err and "wmo fetch cbs --table 86050NED" in err
    assert list(tmp_path.iterdir()) == []  # not even an empty cbs/ (./dev run would skip the demo)


# --------------------------------------------------------------------------- one table, all forms

TID = "86050NED"
TYPES = [("T001024", "Totaal"), ("A019507", "Hulp bij het huishouden")]
REGIONS = [("NL01", "Nederland"), ("GM0014", "Groningen (gemeente)"), ("GM0363", "Amsterdam"),
           ("GM0738", "Aalburg")]
PERIODS = [("2023HJ01", "1e halfjaar 2023", "Definitief"), ("2023JJ00", "2023", "Definitief"),
           ("2024HJ01", "1e halfjaar 2024", "Nader voorlopig"),
           ("2024JJ00", "2024", "Voorlopig")]
MARKERS = {"Definitief": "", "Voorlopig": "*", "Nader voorlopig": "**"}
TOPICS = [("WmoClienten_1", "Wmo-cliënten", "aantal"),
          ("WmoClientenPer1000Inwoners_2", "Wmo-cliënten per 1 000 inwoners",
           "per 1 000 inwoners")]
DIMS = [("TypeMaatwerkvoorziening", "Type maatwerkvoorziening", "Dimension", TYPES),
        ("RegioS", "Regio's", "GeoDimension", REGIONS)]


def pad(code: str, codes: list[tuple[str, str]]) -> str:
    return code.ljust(max(len(c) for c, _ in codes))


def cells() -> list[dict[str, Any]]:
    """The table's cells: codes unpadded, numbers or None (Aalburg dissolved: all empty)."""
    out = []
    for t, (type_code, _) in enumerate(TYPES):
        for r, (region, _) in enumerate(REGIONS):
            for p, (period, _, _) in enumerate(PERIODS):
                count = 1000 * (r + 1) + 100 * p + 5 * t
                empty = region == "GM0738" or (region == "GM0363" and period == "2024HJ01")
                out.append({"ID": len(out), "TypeMaatwerkvoorziening": type_code,
                            "RegioS": region, "Perioden": period,
                            "WmoClienten_1": None if empty else count * 10,
                            "WmoClientenPer1000Inwoners_2": None if empty else 40 + r + p})
    return out


def v3_resources() -> dict[str, list[dict[str, Any]]]:
    props: list[dict[str, Any]] = []
    for key, title, kind, _ in DIMS:
        props.append({"odata.type": f"Cbs.OData.{kind}", "ID": len(props),
                      "Position": len(props), "ParentID": None, "Type": kind, "Key": key,
                      "Title": title, "Description": ""})
    props.append({"odata.type": "Cbs.OData.TimeDimension", "ID": len(props),
                  "Position": len(props), "ParentID": None, "Type": "TimeDimension",
                  "Key": "Perioden", "Title": "Perioden", "Description": "",
                  "ReleasePolicy": True})
    for key, title, unit in TOPICS:
        props.append({"odata.type": "Cbs.OData.Topic", "ID": len(props), "Position": len(props),
                      "ParentID": None, "Type": "Topic", "Key": key, "Title": title,
                      "Description": "", "Datatype": "Long", "Unit": unit, "Decimals": 0,
                      "Default": "Missing"})
    out: dict[str, list[dict[str, Any]]] = {
        "TableInfos": [{"ID": 0, "Title": "Wmo-cliënten; type maatwerkvoorziening (detail), "
                                          "regio", "Identifier": TID, "Frequency": "Perhalfjaar"}],
        "DataProperties": props,
        "CategoryGroups": [],
    }
    for key, _, _, codes in DIMS:
        out[key] = [{"Key": pad(c, codes), "Title": t, "Description": "", "CategoryGroupID": None}
                    for c, t in codes]
    out["Perioden"] = [{"Key": c, "Title": t, "Description": "", "Status": s}
                       for c, t, s in PERIODS]
    return out


def typed_rows() -> list[dict[str, Any]]:
    return [{**row, "TypeMaatwerkvoorziening": pad(row["TypeMaatwerkvoorziening"], TYPES),
             "RegioS": pad(row["RegioS"], REGIONS)} for row in cells()]


def untyped_rows() -> list[dict[str, Any]]:
    """Values as right-aligned text, `.` for missing (the UntypedDataSet)."""
    return [{k: (f"{'.' if v is None else v:>8}" if k.endswith(("_1", "_2")) else v)
             for k, v in row.items()} for row in typed_rows()]


def title_of(codes: list[tuple[str, str]], code: str) -> str:
    return dict(codes)[code]


def write_statline_csv(path: Path, met: bool) -> Path:
    """The current StatLine download: titles, stars on provisional periods."""
    status = {c: s for c, _, s in PERIODS}
    header = ["Regio's", "Perioden", "Type maatwerkvoorziening", "Wmo-cliënten (aantal)",
              "Wmo-cliënten per 1 000 inwoners (per 1 000 inwoners)"]
    lines = [";".join(f'"{h}"' for h in header)]
    for row in cells():
        label = dict((c, t) for c, t, _ in PERIODS)[row["Perioden"]] + MARKERS[
            status[row["Perioden"]]]
        values = [row["WmoClienten_1"], row["WmoClientenPer1000Inwoners_2"]]
        if met:
            shown = [f'"{"." if v is None else v:>8}"' for v in values]
        else:
            shown = ["" if v is None else str(v) for v in values]
        lines.append(";".join([f'"{title_of(REGIONS, row["RegioS"])}"', f'"{label}"',
                               f'"{title_of(TYPES, row["TypeMaatwerkvoorziening"])}"', *shown]))
    newline = "\n" if met else "\r\n"
    path.write_bytes(("\ufeff" + newline.join(lines) + newline).encode("utf-8"))
    return path


def _csv_text(records: list[dict[str, Any]], separator: str, quote_all: bool) -> str:
    """R's write.csv (strings quoted, numbers bare, NA empty) or StatLine's `;` quoting."""
    def field(value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, bool):
            return "TRUE" if value else "FALSE"
        if isinstance(value, int | float) and not quote_all:
            return str(value)
        return '"' + str(value).replace('"', '""') + '"'
    columns = list(dict.fromkeys(k for r in records for k in r))
    lines = [separator.join(f'"{c}"' for c in columns)]
    lines += [separator.join(field(r.get(c)) for c in columns) for r in records]
    return "\n".join(lines) + "\n"


def write_untyped_pair(folder: Path) -> Path:
    folder.mkdir(parents=True)
    sections = []
    for name, records in v3_resources().items():
        if name == "CategoryGroups":
            continue
        text = _csv_text(records, ";", quote_all=True)
        if name != "TableInfos":  # StatLine writes the other headers unquoted
            head, _, rest = text.partition("\n")
            text = head.replace('"', "") + "\n" + rest
        sections.append(f'"{name}"\n{text}')
    (folder / f"{TID}_metadata.csv").write_text("\ufeff" + "".join(sections), encoding="utf-8")
    data = folder / f"{TID}_UntypedDataSet_01122026_101500.csv"
    data.write_text("\ufeff" + _csv_text(untyped_rows(), ";", quote_all=True), encoding="utf-8")
    return data


def write_cbsodatar(folder: Path, typed: bool = True, encoding: str = "utf-8") -> Path:
    """cbs_download_table; `typed=FALSE`, its default, writes the UntypedDataSet's text."""
    folder.mkdir(parents=True)
    for name, records in v3_resources().items():
        if records:
            (folder / f"{name}.csv").write_text(_csv_text(records, ",", quote_all=False),
                                                encoding=encoding)
    (folder / "CategoryGroups.csv").write_text('"ID","DimensionKey","Title","Description",'
                                               '"ParentID"\n', encoding=encoding)
    rows = typed_rows() if typed else untyped_rows()
    (folder / "data.csv").write_text(_csv_text(rows, ",", quote_all=False), encoding=encoding)
    return folder


def write_cbsodata(folder: Path, typed: bool) -> Path:
    folder.mkdir(parents=True)
    data = {**v3_resources(),
            ("TypedDataSet" if typed else "UntypedDataSet"):
            typed_rows() if typed else untyped_rows()}
    for name, records in data.items():
        with (folder / f"{name}.json").open("w") as f:
            json.dump(records, f, indent=4)  # what cbsodata's _save_data does
    return folder


@pytest.fixture
def fetched(cbs_server: CbsServer, tmp_path: Path) -> Path:
    cbs_server.serve_v3_table(TID, resources=v3_resources(), rows=typed_rows(), page_size=7)
    return fetch_cbs_table(TID, "v3", tmp_path / "fetched", load_settings())


def core_rows(folder: Path) -> pl.DataFrame:
    spec = spec_for(TID)
    return table_rows(spec, load_cbs_snapshot(folder, spec.measures))


def test_one_table_in_every_form_gives_the_same_core_rows_as_a_fetch(
        fetched: Path, tmp_path: Path) -> None:
    expected = core_rows(fetched)
    assert expected.height == len(TYPES) * 3 * len(PERIODS)  # gemeenten only
    assert expected["clienten"].null_count() == len(TYPES) * (len(PERIODS) + 1)
    assert set(expected["status"]) == {"definitief", "voorlopig", "nader_voorlopig"}

    src = tmp_path / "src"
    src.mkdir()
    forms = {
        "statline-csv-met": write_statline_csv(src / "Wmo_clienten_met.csv", met=True),
        "statline-csv-zonder": write_statline_csv(src / "Wmo_clienten_zonder.csv", met=False),
        "statline-onbewerkt": write_untyped_pair(src / "onbewerkt"),
        "cbsodataR": write_cbsodatar(src / "cbsodataR"),
        "cbsodataR-untyped": write_cbsodatar(src / "cbsodataR-untyped", typed=False),
        "cbsodataR-cp1252": write_cbsodatar(src / "cbsodataR-cp1252", encoding="cp1252"),
        "cbsodata": write_cbsodata(src / "cbsodata-typed", typed=True),
        "cbsodata-untyped": write_cbsodata(src / "cbsodata-untyped", typed=False),
    }
    for name, path in forms.items():
        out = tmp_path / f"out-{name}"
        messages: list[str] = []
        # Network only for the StatLine CSVs: the loopback server has the code lists.
        dest = import_cbs(path, TID, out, load_settings(raw_dir=out), progress=messages.append)
        form = name.split("-untyped")[0].split("-cp1252")[0]
        assert sidecar(dest)["import_form"] == form, name
        assert any(FORMS[form][0] in m for m in messages), name
        assert_frame_equal(core_rows(dest), expected, check_row_order=False)
        assert sidecar(dest)["format"] == ("statline-csv" if "csv" in name else "odata-v3")
        if "csv" not in name:
            # The resources of a fetch (StatLine's metadata.csv has no CategoryGroups).
            assert resources(dest) - {"CategoryGroups"} == resources(fetched) - {
                "CategoryGroups"}


def resources(folder: Path) -> set[str]:
    return {p.name for p in (folder / "v3").iterdir()}


def page_values(folder: Path, resource: str) -> list[dict[str, Any]]:
    pages = sorted((folder / "v3" / resource).glob("page-*.json"))
    return [v for page in pages for v in json.loads(page.read_bytes())["value"]]


def test_cbsodata_folder_becomes_the_pages_a_fetch_wrote(fetched: Path, tmp_path: Path) -> None:
    dest = import_cbs(write_cbsodata(tmp_path / "py", typed=True), TID, tmp_path / "out",
                      load_settings())
    assert resources(dest) == resources(fetched)
    for resource in resources(fetched):
        assert page_values(dest, resource) == page_values(fetched, resource), resource
    assert len(list((fetched / "v3" / "TypedDataSet").iterdir())) > 1  # paged by the server


def test_offline_forms_make_no_request(cbs_server: CbsServer, tmp_path: Path) -> None:
    for name, path in {"onbewerkt": write_untyped_pair(tmp_path / "a"),
                       "cbsodataR": write_cbsodatar(tmp_path / "b"),
                       "cbsodata": write_cbsodata(tmp_path / "c", typed=False)}.items():
        import_cbs(path, TID, tmp_path / name, load_settings())
    assert cbs_server.requests == []


def test_a_file_of_a_folder_form_stands_for_its_folder(tmp_path: Path) -> None:
    r_folder = write_cbsodatar(tmp_path / "r")
    py_folder = write_cbsodata(tmp_path / "py", typed=True)
    assert detect_form(r_folder / "data.csv").form == "cbsodataR"
    assert detect_form(r_folder / "RegioS.csv").form == "cbsodataR"
    assert detect_form(py_folder / "TypedDataSet.json").form == "cbsodata"
    assert detect_form(py_folder / "TypedDataSet.json").data == py_folder / "TypedDataSet.json"
    pair = write_untyped_pair(tmp_path / "pair")
    assert detect_form(pair.parent / f"{TID}_metadata.csv").data == pair


def test_cbsodata_prefers_the_typed_data_set_and_converts_the_untyped_one(
        tmp_path: Path) -> None:
    folder = write_cbsodata(tmp_path / "both", typed=True)
    (folder / "UntypedDataSet.json").write_text(json.dumps(untyped_rows()), encoding="utf-8")
    assert detect_form(folder).data.name == "TypedDataSet.json"

    untyped = write_cbsodata(tmp_path / "untyped", typed=False)
    dest = import_cbs(untyped, TID, tmp_path / "out", load_settings())
    page = json.loads((dest / "v3" / "TypedDataSet" / "page-0001.json").read_bytes())
    assert [r["WmoClienten_1"] for r in page["value"][:4]] == [
        r["WmoClienten_1"] for r in typed_rows()[:4]]
    assert isinstance(page["value"][0]["WmoClienten_1"], int)
    assert page["value"][12]["WmoClienten_1"] is None  # Aalburg: "       ." in the file
    assert sorted(p.name for p in (dest / "original").iterdir()) == sorted(
        p.name for p in untyped.iterdir())


def test_decimals_of_a_double_topic_are_kept(tmp_path: Path) -> None:
    folder = write_cbsodata(tmp_path / "py", typed=False)
    props = json.loads((folder / "DataProperties.json").read_text())
    for p in props:
        if p["Key"] == "WmoClientenPer1000Inwoners_2":
            p.update(Datatype="Double", Decimals=1)
    (folder / "DataProperties.json").write_text(json.dumps(props))
    rows = untyped_rows()
    rows[0]["WmoClientenPer1000Inwoners_2"] = "    40.5"
    (folder / "UntypedDataSet.json").write_text(json.dumps(rows))
    dest = import_cbs(folder, TID, tmp_path / "out", load_settings())
    page = json.loads((dest / "v3" / "TypedDataSet" / "page-0001.json").read_bytes())
    assert page["value"][0]["WmoClientenPer1000Inwoners_2"] == 40.5
    assert page["value"][1]["WmoClientenPer1000Inwoners_2"] == 41.0


# --------------------------------------------------------------------------- bad input


def test_unrecognised_file_and_folder_get_one_message_listing_the_forms(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    notes = tmp_path / "notes.txt"
    notes.write_text("not a table\n", encoding="utf-8")
    commas = tmp_path / "export.csv"
    commas.write_text("a,b\n1,2\n", encoding="utf-8")
    empty = tmp_path / "empty"
    empty.mkdir()
    for path in (notes, commas, empty, HMELS):
        code, err = run(capsys, "cbs", str(path), "--table", TID, "--out", "raw")
        assert code == 2, path
        assert err.count("error:") == 1
        for label, _ in FORMS.values():
            assert label in err
        assert str(tmp_path) not in err  # paths relative to where the user stands
    code, err = run(capsys, "cbs", "nowhere.csv", "--table", TID, "--out", "raw")
    assert code == 2 and "nowhere.csv: file or folder not found" in err
    assert not (tmp_path / "raw").exists()


def _copy_pair(tmp_path: Path) -> Path:
    folder = tmp_path / "download"
    folder.mkdir()
    for p in (UNTYPED_03759, META_03759):
        shutil.copyfile(p, folder / p.name)
    return folder


def test_non_number_in_the_untyped_csv_names_file_line_and_column(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    folder = _copy_pair(tmp_path)
    data = folder / UNTYPED_03759.name
    lines = data.read_text(encoding="utf-8-sig").splitlines()
    assert lines[3].endswith('"1990JJ00";"  553862"')  # line 4 of the file
    lines[3] = lines[3].replace('"  553862"', '"  55e86x"')
    data.write_text("\ufeff" + "\n".join(lines) + "\n", encoding="utf-8")

    code, err = run(capsys, "cbs", "download", "--table", "03759NED", "--out", "raw")
    assert code == 2
    assert (f"download/{UNTYPED_03759.name}:4: BevolkingOp1Januari_1: '  55e86x' is not a "
            "number") in err
    assert str(tmp_path) not in err
    assert not (tmp_path / "raw").exists()

    with pytest.raises(InputErrors) as info:
        import_cbs(folder, "03759NED", tmp_path / "raw", load_settings())
    assert [(e.record, e.field) for e in info.value.errors] == [(4, "BevolkingOp1Januari_1")]


def test_bad_field_in_metadata_csv_names_its_physical_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    folder = _copy_pair(tmp_path)
    meta = folder / META_03759.name
    text = meta.read_text(encoding="utf-8-sig")
    start = text.index('"5";"5";;"Topic";"BevolkingOp1Januari_1"')
    line = text[:start].count("\n") + 1  # physical: TableInfos fields hold line breaks
    assert line > 140
    end = text.index('"Impossible"', start)
    text = text[:start] + text[start:end].replace(';"0";', ';"nul";') + text[end:]
    meta.write_text("\ufeff" + text, encoding="utf-8")

    code, err = run(capsys, "cbs", str(meta.relative_to(tmp_path)), "--table", "03759NED")
    assert code == 2
    assert f"download/{META_03759.name}:{line}: Decimals: 'nul' is not a whole number" in err


def test_untyped_data_set_without_its_metadata_file(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    shutil.copyfile(UNTYPED_03759, tmp_path / UNTYPED_03759.name)
    code, err = run(capsys, "cbs", UNTYPED_03759.name, "--table", "03759NED", "--out", "raw")
    assert code == 2
    assert f"{UNTYPED_03759.name}: an onbewerkte dataset needs its metadata file" in err
    assert "03759ned_metadata.csv is missing" in err
    assert not (tmp_path / "raw").exists()


def test_files_of_another_table_are_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run(capsys, "cbs", str(CBSOTS), "--table", "86050NED", "--out", str(tmp_path))
    assert code == 2
    assert "hold CBS table 83262NED, not 86050NED: pass --table 83262NED" in err
    assert "TableInfos.csv:2: Identifier:" in err


def test_code_outside_the_dimension_list_names_the_data_line(tmp_path: Path) -> None:
    folder = write_cbsodatar(tmp_path / "r")
    data = folder / "data.csv"
    lines = data.read_text(encoding="utf-8").splitlines()
    assert '"GM0363"' in lines[9]  # line 10: the first Amsterdam row
    lines[9] = lines[9].replace('"GM0363"', '"GM9999"')
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(InputErrors) as info:
        import_cbs(folder, TID, tmp_path / "raw", load_settings())
    assert [(e.record, e.field) for e in info.value.errors] == [(10, "RegioS")]
    assert "'GM9999' is not in the RegioS list of RegioS.csv" in str(info.value.errors[0])


def test_failed_imports_leave_the_previous_snapshot_byte_identical(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "raw"
    assert run(capsys, "cbs", str(CBSOTS), "--table", "83262NED", "--out", str(out))[0] == 0
    dest = out / "cbs" / "83262NED"
    before = tree(dest)

    # Caught before staging: a value that is not a number.
    bad = tmp_path / "bad"
    shutil.copytree(CBSOTS, bad)
    text = (bad / "data.csv").read_text(encoding="utf-8").replace(",965695,", ",96x695,")
    (bad / "data.csv").write_text(text, encoding="utf-8")
    code, err = run(capsys, "cbs", str(bad), "--table", "83262NED", "--out", str(out))
    assert code == 2 and "data.csv:5: WmoClienten_1: '96x695' is not a number" in err
    assert tree(dest) == before

    # Caught by the v3 parser on the staged snapshot: two topics with the title it looks for.
    twice = tmp_path / "twice"
    shutil.copytree(CBSOTS, twice)
    with (twice / "DataProperties.csv").open("a", encoding="utf-8") as f:
        f.write('"Cbs.OData.Topic",7,7,,"Topic","WmoClienten_3","Wmo-cliënten","",,,"Long",'
                '"aantal",0,"Missing","Absolute"\n')
    with pytest.raises(InputError, match="ambiguous"):
        import_cbs(twice, "83262NED", out, load_settings(raw_dir=out))
    code, err = run(capsys, "cbs", str(twice), "--table", "83262NED", "--out", str(out))
    assert code == 2 and "'Wmo-cliënten' (clienten) is ambiguous" in err
    assert tree(dest) == before
    assert sorted(p.name for p in (out / "cbs").iterdir()) == ["83262NED"]  # no staging left


def test_incomplete_folders_say_which_file_is_missing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    r_folder = write_cbsodatar(tmp_path / "r")
    (r_folder / "data.csv").unlink()
    py_folder = write_cbsodata(tmp_path / "py", typed=True)
    (py_folder / "TypedDataSet.json").unlink()
    lists = write_cbsodatar(tmp_path / "lists")
    (lists / "RegioS.csv").unlink()
    meta_only = tmp_path / "meta-only"
    meta_only.mkdir()
    shutil.copyfile(META_03759, meta_only / META_03759.name)
    cases = {
        "r": "needs data.csv",
        "py": "needs TypedDataSet.json or UntypedDataSet.json",
        "lists": "lists dimension RegioS, but RegioS.csv (its code list) is not in the folder",
        f"meta-only/{META_03759.name}": "needs exactly one data file beside it",
    }
    for path, expected in cases.items():
        code, err = run(capsys, "cbs", path, "--table", TID, "--out", "raw")
        assert code == 2 and expected in err, (path, err)
    assert not (tmp_path / "raw").exists()


FIXTURES = Path(__file__).parent / "fixtures" / "cbs"
CSV_NAME = "Wmo_clienten__type_maatwerkvoorziening__detail___regio_21052025_093012.csv"


def test_statline_csv_variants_of_the_fixtures_are_told_apart() -> None:
    for variant in ("met", "zonder"):
        path = FIXTURES / f"86050NED-csv-{variant}" / "csv" / CSV_NAME
        assert detect_form(path).form == f"statline-csv-{variant}"


def test_import_cbs_delegates_a_statline_csv_and_import_statline_csv_is_unchanged(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    csv_file = FIXTURES / "86050NED-csv-met" / "csv" / CSV_NAME
    for kind in ("cbs", "statline-csv"):
        out = tmp_path / kind
        shutil.copytree(FIXTURES / "86050NED-v3", out / "cbs" / TID)  # its code lists
        code, err = run(capsys, kind, str(csv_file), "--table", TID, "--out", str(out))
        assert code == 0, err
        meta = sidecar(out / "cbs" / TID)
        assert meta["format"] == "statline-csv"
        assert (out / "cbs" / TID / "csv" / CSV_NAME).read_bytes() == csv_file.read_bytes()
        if kind == "cbs":
            assert 'StatLine CSV "met statistische symbolen"' in err
            assert meta["import_form"] == "statline-csv-met"
            assert meta["original_files"] == {CSV_NAME: sha256_file(csv_file)}
        else:
            assert "import_form" not in meta and "original_files" not in meta
    assert_frame_equal(core_rows(tmp_path / "cbs" / "cbs" / TID),
                       core_rows(tmp_path / "statline-csv" / "cbs" / TID))


def test_import_help_lists_the_forms_with_examples(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["import", "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "{cbs,statline-csv}" in out
    for text in ("onbewerkte dataset", "cbsodataR", "cbsodata folder", "wmo import cbs ",
                 "wmo import statline-csv "):
        assert text in out
