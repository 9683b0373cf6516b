"""import_statline_csv: a StatLine download becomes a raw snapshot, or nothing changes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from polars.testing import assert_frame_equal

from etl.errors import InputError, InputErrors
from etl.settings import load_settings
from etl.snapshot import CBS_LICENCE, CBS_PRODUCER, combined_hash, sha256_file
from etl.sources.cbs.parse import load_cbs_snapshot
from etl.sources.cbs.statline_import import import_statline_csv
from etl.sources.cbs.tables import WMO_MEASURES
from tests.cbs_server import CbsServer

FIXTURES = Path(__file__).parent / "fixtures" / "cbs"
TID = "86050NED"
CSV_NAME = "Wmo_clienten__type_maatwerkvoorziening__detail___regio_21052025_093012.csv"
METADATA = ["CategoryGroups", "DataProperties", "Perioden", "RegioS", "TableInfos",
            "TypeMaatwerkvoorziening"]


def fixture_csv(variant: str) -> Path:
    return FIXTURES / f"86050NED-csv-{variant}" / "csv" / CSV_NAME


def existing_v3_snapshot(out_root: Path) -> Path:
    dest = out_root / "cbs" / TID
    shutil.copytree(FIXTURES / "86050NED-v3", dest)
    return dest


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_import_takes_the_metadata_from_the_existing_snapshot(tmp_path: Path) -> None:
    out_root = tmp_path / "raw"
    existing_v3_snapshot(out_root)
    messages: list[str] = []
    dest = import_statline_csv(fixture_csv("met"), "86050ned", out_root,
                               load_settings(raw_dir=out_root), progress=messages.append)

    assert dest == out_root / "cbs" / TID
    assert (dest / "csv" / CSV_NAME).read_bytes() == fixture_csv("met").read_bytes()
    assert sorted(p.name for p in (dest / "v3").iterdir()) == METADATA  # no TypedDataSet
    sidecar = json.loads((dest / "_source.json").read_text(encoding="utf-8"))
    assert sidecar["format"] == "statline-csv"
    assert sidecar["table_id"] == TID
    assert sidecar["source_id"] == f"cbs-{TID}"
    assert sidecar["title"] == "Wmo-cliënten; type maatwerkvoorziening (detail), regio"
    assert sidecar["url"] == "https://opendata.cbs.nl/statline/#/CBS/nl/dataset/86050NED/table"
    assert (sidecar["producer"], sidecar["licence"]) == (CBS_PRODUCER, CBS_LICENCE)
    assert sidecar["synthetic"] is False
    assert sidecar["files"][f"csv/{CSV_NAME}"] == sha256_file(dest / "csv" / CSV_NAME)
    assert sidecar["sha256"] == combined_hash(sidecar["files"])
    assert any("existing snapshot" in m for m in messages)
    assert [p.name for p in (out_root / "cbs").iterdir()] == [TID]  # no staging left behind

    imported = load_cbs_snapshot(dest, WMO_MEASURES)
    assert imported.fmt == "statline-csv"
    assert_frame_equal(imported.observations,
                       load_cbs_snapshot(FIXTURES / "86050NED-v3", WMO_MEASURES).observations)


def test_reimport_over_a_csv_snapshot_reuses_its_metadata(tmp_path: Path) -> None:
    out_root = tmp_path / "raw"
    existing_v3_snapshot(out_root)
    settings = load_settings(raw_dir=out_root)
    import_statline_csv(fixture_csv("met"), TID, out_root, settings)
    dest = import_statline_csv(fixture_csv("zonder"), TID, out_root, settings)
    assert [p.name for p in (dest / "csv").iterdir()] == [CSV_NAME]
    assert (dest / "csv" / CSV_NAME).read_bytes() == fixture_csv("zonder").read_bytes()
    assert sorted(p.name for p in (dest / "v3").iterdir()) == METADATA


def test_bad_csv_leaves_the_previous_snapshot_intact(tmp_path: Path) -> None:
    out_root = tmp_path / "raw"
    dest = existing_v3_snapshot(out_root)
    before = tree(dest)
    bad = tmp_path / "download.csv"
    text = fixture_csv("met").read_text(encoding="utf-8-sig")
    bad.write_text(text.replace('"Amsterdam"', '"Atlantis"'), encoding="utf-8-sig")

    with pytest.raises(InputErrors) as info:
        import_statline_csv(bad, TID, out_root, load_settings(raw_dir=out_root))

    assert {e.field for e in info.value.errors} == {"Regio's"}
    assert tree(dest) == before
    assert [p.name for p in (out_root / "cbs").iterdir()] == [TID]


def test_unknown_table_id_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="unknown CBS table"):
        import_statline_csv(fixture_csv("met"), "99999NED", tmp_path, load_settings())
    assert not (tmp_path / "cbs").exists()


def _fixture_v3_resources() -> dict[str, list[dict]]:
    root = FIXTURES / "86050NED-v3" / "v3"
    return {name: json.loads((root / name / "page-0001.json").read_text("utf-8"))["value"]
            for name in METADATA}


def test_import_without_snapshot_fetches_the_metadata(cbs_server: CbsServer,
                                                      tmp_path: Path) -> None:
    cbs_server.serve_v3_table(TID, resources=_fixture_v3_resources())
    out_root = tmp_path / "raw"
    dest = import_statline_csv(fixture_csv("zonder"), TID, out_root, load_settings())

    assert any("DataProperties" in r for r in cbs_server.requests)
    assert not any("DataSet" in r for r in cbs_server.requests)
    assert sorted(p.name for p in (dest / "v3").iterdir()) == METADATA
    sidecar = json.loads((dest / "_source.json").read_text(encoding="utf-8"))
    assert sidecar["format"] == "statline-csv"
    assert_frame_equal(load_cbs_snapshot(dest, WMO_MEASURES).observations,
                       load_cbs_snapshot(FIXTURES / "86050NED-v3", WMO_MEASURES).observations)
