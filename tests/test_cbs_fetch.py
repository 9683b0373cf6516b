"""fetch_cbs_table against a real loopback server, writing real files under tmp_path."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from etl.errors import FetchError
from etl.settings import load_settings
from etl.snapshot import CBS_LICENCE, CBS_PRODUCER
from etl.sources.cbs.fetch import encode_filter, fetch_cbs_table
from tests.cbs_server import CbsServer, cut_json, sample_v3_rows, status_fault, truncated

TID = "99999NED"
V3_META = ["TableInfos", "DataProperties", "CategoryGroups", "TypeMaatwerkvoorziening",
           "RegioS", "Perioden"]
# Written out by hand, so the test does not share the encoder it checks.
BEVOLKING_FILTER = ("&$filter=Geslacht%20eq%20%27T001038%27%20and%20BurgerlijkeStaat%20eq"
                    "%20%27T001019%27%20and%20Perioden%20ge%20%272015%27")


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _sidecar(folder: Path) -> dict:
    return json.loads((folder / "_source.json").read_text(encoding="utf-8"))


def _expected_files(api: str, served: dict[str, list[bytes]]) -> dict[str, bytes]:
    return {f"{api}/{name}/page-{i:04d}.json": body
            for name, bodies in served.items() for i, body in enumerate(bodies, start=1)}


def test_encode_filter_uses_percent_20_and_27() -> None:
    assert encode_filter("RegioS eq 'NL01  '") == "RegioS%20eq%20%27NL01%20%20%27"


def test_v3_fetch_saves_every_page_byte_identical_with_a_correct_sidecar(
        cbs_server: CbsServer, tmp_path: Path) -> None:
    served = cbs_server.serve_v3_table(TID, rows=sample_v3_rows(5), page_size=2,
                                       meta_page_size={"RegioS": 1})
    lines: list[str] = []
    folder = fetch_cbs_table(TID.lower(), "v3", tmp_path, load_settings(), data_filter="",
                             progress=lines.append)

    assert folder == tmp_path / "cbs" / TID
    files = _files(folder)
    sidecar = json.loads(files.pop("_source.json"))
    assert files == _expected_files("v3", served)
    assert len(served["TypedDataSet"]) == 3 and len(served["RegioS"]) == 2

    assert sidecar["files"] == {path: hashlib.sha256(body).hexdigest()
                                for path, body in files.items()}
    listing = "".join(f"{p}  {h}\n" for p, h in sorted(sidecar["files"].items()))
    assert sidecar["sha256"] == hashlib.sha256(listing.encode()).hexdigest()
    assert sidecar | {"files": None, "sha256": None, "retrieved_at": None} == {
        "source_id": f"cbs-{TID}",
        "title": "Wmo-cliënten; type maatwerkvoorziening (detail), regio",
        "producer": CBS_PRODUCER, "url": f"{cbs_server.v3_url}/ODataFeed/odata/{TID}",
        "licence": CBS_LICENCE, "format": "odata-v3", "table_id": TID, "synthetic": False,
        "files": None, "sha256": None, "retrieved_at": None,
    }
    assert f"{TID} TypedDataSet page 3 (5 rows)" in lines
    assert f"{TID} RegioS page 2 (2 rows)" in lines


def test_v3_data_pages_follow_the_next_links_verbatim(cbs_server: CbsServer,
                                                     tmp_path: Path) -> None:
    cbs_server.serve_v3_table(TID, rows=sample_v3_rows(7), page_size=3)
    fetch_cbs_table(TID, "v3", tmp_path, load_settings(), data_filter="")
    first = cbs_server.data_target_v3(TID)
    feed = [r for r in cbs_server.requests if "/ODataFeed/" in r]
    assert feed == [first, first + "&$skip=3", first + "&$skip=6"]
    api = [r for r in cbs_server.requests if "/ODataApi/" in r]
    assert all(r.endswith("?$format=json") for r in api)
    assert not any("UntypedDataSet" in r for r in cbs_server.requests)


def test_v3_default_filter_comes_from_tables_and_is_encoded(cbs_server: CbsServer,
                                                            tmp_path: Path) -> None:
    served = cbs_server.serve_v3_table("03759NED", rows=sample_v3_rows(3), page_size=2,
                                       filter_query=BEVOLKING_FILTER)
    folder = fetch_cbs_table("03759NED", "v3", tmp_path, load_settings())
    first = cbs_server.data_target_v3("03759NED", BEVOLKING_FILTER)
    assert cbs_server.hits(first) == 1
    assert cbs_server.hits(first + "&$skip=2") == 1
    assert (folder / "v3/TypedDataSet/page-0002.json").read_bytes() == served["TypedDataSet"][1]
    assert _sidecar(folder)["data_filter"].startswith("Geslacht eq 'T001038'")


def test_v3_mirror_with_a_base_path(cbs_server: CbsServer, tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WMO_CBS_V3_URL", cbs_server.url + "/mirror/")
    served = cbs_server.serve_v3_table(TID, rows=sample_v3_rows(4), page_size=2,
                                       prefix="/mirror")
    folder = fetch_cbs_table(TID, "v3", tmp_path, load_settings(), data_filter="")
    assert (folder / "v3/TypedDataSet/page-0002.json").read_bytes() == served["TypedDataSet"][1]
    assert all(r.startswith("/mirror/") for r in cbs_server.requests)
    assert _sidecar(folder)["url"] == f"{cbs_server.url}/mirror/ODataFeed/odata/{TID}"


def test_v3_transient_faults_during_fetch_are_retried(cbs_server: CbsServer,
                                                      tmp_path: Path) -> None:
    served = cbs_server.serve_v3_table(TID, rows=sample_v3_rows(6), page_size=2)
    page2 = cbs_server.data_target_v3(TID) + "&$skip=2"
    cbs_server.add_faults(page2, status_fault(503, times=2))
    cbs_server.add_faults(cbs_server.data_target_v3(TID) + "&$skip=4", truncated(1))
    folder = fetch_cbs_table(TID, "v3", tmp_path, load_settings(), data_filter="")
    assert cbs_server.hits(page2) == 3
    assert _files(folder)["v3/TypedDataSet/page-0003.json"] == served["TypedDataSet"][2]


def test_v3_metadata_only_skips_the_data_set(cbs_server: CbsServer, tmp_path: Path) -> None:
    cbs_server.serve_v3_table(TID)
    folder = fetch_cbs_table(TID, "v3", tmp_path, load_settings(), metadata_only=True)
    assert sorted(p.name for p in (folder / "v3").iterdir()) == sorted(V3_META)
    assert not any("DataSet" in r for r in cbs_server.requests)
    sidecar = _sidecar(folder)
    assert sidecar["metadata_only"] is True
    assert sidecar["format"] == "odata-v3"
    assert sorted(sidecar["files"]) == sorted(f"v3/{n}/page-0001.json" for n in V3_META)


def test_failed_fetch_leaves_the_previous_snapshot_byte_identical(
        cbs_server: CbsServer, tmp_path: Path) -> None:
    cbs_server.serve_v3_table(TID, rows=sample_v3_rows(4), page_size=2)
    folder = fetch_cbs_table(TID, "v3", tmp_path, load_settings(), data_filter="")
    before = _files(folder)

    # A newer release whose second page keeps failing: nothing of it may reach the folder.
    cbs_server.serve_v3_table(TID, title="Nieuwe titel", rows=sample_v3_rows(6), page_size=2)
    cbs_server.add_faults(cbs_server.data_target_v3(TID) + "&$skip=2", status_fault(503, None))
    with pytest.raises(FetchError, match="HTTP 503"):
        fetch_cbs_table(TID, "v3", tmp_path, load_settings(), data_filter="")

    assert _files(folder) == before
    assert sorted(p.name for p in (tmp_path / "cbs").iterdir()) == [TID]  # no .partial left


def test_persistently_truncated_json_fails_and_writes_nothing(cbs_server: CbsServer,
                                                              tmp_path: Path) -> None:
    cbs_server.serve_v3_table(TID)
    cbs_server.add_faults(f"/ODataApi/odata/{TID}/RegioS?$format=json", cut_json(None))
    with pytest.raises(FetchError, match="truncated or invalid JSON") as info:
        fetch_cbs_table(TID, "v3", tmp_path, load_settings(), data_filter="")
    assert f"/ODataApi/odata/{TID}/RegioS" in str(info.value)
    # Not even an empty cbs/: that would read as "CBS data present" to `./dev run`.
    assert not (tmp_path / "cbs").exists()


def test_v3_root_without_table_infos_is_an_unexpected_shape(cbs_server: CbsServer,
                                                            tmp_path: Path) -> None:
    cbs_server.add(f"/ODataApi/odata/{TID}/?$format=json",
                   {"value": [{"name": "TypedDataSet", "url": "x"}]})
    with pytest.raises(FetchError, match="does not list TableInfos"):
        fetch_cbs_table(TID, "v3", tmp_path, load_settings())


def test_v4_fetch_root_properties_codes_and_paged_observations(cbs_server: CbsServer,
                                                               tmp_path: Path) -> None:
    served = cbs_server.serve_v4_table(TID, page_size=2)
    lines: list[str] = []
    folder = fetch_cbs_table(TID, "v4", tmp_path, load_settings(), progress=lines.append)

    files = _files(folder)
    sidecar = json.loads(files.pop("_source.json"))
    assert files == _expected_files("v4", served)
    assert len(served["Observations"]) == 3
    assert sidecar["format"] == "odata-v4"
    assert sidecar["title"] == "Wmo-cliënten; type maatwerkvoorziening, regio"
    assert sidecar["url"] == f"{cbs_server.v4_url}/{TID}"
    assert sidecar["files"]["v4/Properties/page-0001.json"] == hashlib.sha256(
        served["Properties"][0]).hexdigest()
    base = f"/odata/v1/CBS/{TID}"
    assert [r for r in cbs_server.requests if "Observations" in r] == [
        f"{base}/Observations", f"{base}/Observations?$skip=2", f"{base}/Observations?$skip=4"]
    assert cbs_server.requests[0] == f"{base}/"
    assert f"{TID} Observations page 3 (5 rows)" in lines


def test_v4_explicit_filter_is_encoded(cbs_server: CbsServer, tmp_path: Path) -> None:
    query = "?$filter=RegioS%20eq%20%27GM0363%27"
    cbs_server.serve_v4_table(TID, page_size=1, filter_query=query)
    folder = fetch_cbs_table(TID, "v4", tmp_path, load_settings(),
                             data_filter="RegioS eq 'GM0363'")
    assert cbs_server.hits(f"/odata/v1/CBS/{TID}/Observations{query}&$skip=4") == 1
    assert len(list((folder / "v4/Observations").iterdir())) == 5


def test_v4_metadata_only_skips_observations(cbs_server: CbsServer, tmp_path: Path) -> None:
    cbs_server.serve_v4_table(TID)
    folder = fetch_cbs_table(TID, "v4", tmp_path, load_settings(), metadata_only=True)
    assert sorted(p.name for p in (folder / "v4").iterdir()) == sorted(
        ["Properties", "Dimensions", "MeasureCodes", "RegioSCodes", "RegioSGroups",
         "PeriodenCodes", "PeriodenGroups"])
    assert not any("Observations" in r for r in cbs_server.requests)


def test_bad_arguments_are_rejected_before_any_request(cbs_server: CbsServer,
                                                       tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a CBS table id"):
        fetch_cbs_table("../etc", "v3", tmp_path, load_settings())
    with pytest.raises(ValueError, match="api must be"):
        fetch_cbs_table(TID, "v5", tmp_path, load_settings())
    assert cbs_server.requests == []


@pytest.mark.parametrize("api", ["v3", "v4"])
def test_fetched_snapshot_is_readable_by_the_parser(cbs_server: CbsServer, tmp_path: Path,
                                                    api: str) -> None:
    # The contract of docs/design.md end to end: what fetch writes, load_cbs_snapshot reads.
    from etl.sources.cbs.parse import load_cbs_snapshot

    cbs_server.serve_v3_table(TID, rows=sample_v3_rows(4), page_size=3)
    cbs_server.serve_v4_table(TID, page_size=3)
    folder = fetch_cbs_table(TID, api, tmp_path, load_settings(),
                             data_filter="" if api == "v3" else None)
    table = load_cbs_snapshot(folder, {"clienten": "Wmo-cliënten"})
    assert table.fmt == f"odata-{api}"
    assert table.table_id == TID
    values = table.observations.filter(table.observations["measure"] == "clienten")["value"]
    assert values.drop_nulls().len() == (3 if api == "v3" else 5)
