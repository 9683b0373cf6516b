"""Done-when check of the data product: a server that answers like CBS → `wmo fetch` → `wmo build`.

The demo's 86050NED pages are served by a real loopback HTTP server (absolute next links to
opendata.cbs.nl, padded keys, a 503 on the way); what `wmo fetch` downloads must build into
exactly the core.wmo_clienten rows the demo snapshot itself builds into.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import duckdb
import pytest

from etl.cli import main
from tests.cbs_pages import spending_table
from tests.cbs_server import status_fault

REPO = Path(__file__).resolve().parents[1]
SNAPSHOT = os.environ.get("WMO_SNAPSHOT_DIR", str(REPO.parent / "shared" / "snapshot"))
TABLE = "86050NED"


def pages(folder: Path, resource: str) -> list[dict]:
    rows: list[dict] = []
    for page in sorted((folder / "v3" / resource).glob("page-*.json")):
        rows += json.loads(page.read_text(encoding="utf-8"))["value"]
    return rows


def build(raw: Path, db: Path) -> list[tuple]:
    # No registers are copied in: a folder made by `wmo fetch --out NEWDIR` has none, and the
    # build takes the project's (issue 9: this used to fail with "herindelingen is required").
    assert main(["build", "--raw", str(raw), "--db", str(db), "--snapshot", SNAPSHOT]) == 0
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("SELECT * FROM core.wmo_clienten ORDER BY ALL").fetchall()
    finally:
        con.close()


def test_fetch_then_build_gives_the_published_rows(cbs_server, tmp_path: Path) -> None:
    demo = tmp_path / "demo"
    assert main(["demo", "--out", str(demo), "--snapshot", SNAPSHOT, "--seed", "3"]) == 0
    source = demo / "cbs" / TABLE
    resources = {p.name: pages(source, p.name) for p in sorted((source / "v3").iterdir())
                 if p.name != "TypedDataSet"}
    title = resources["TableInfos"][0]["Title"]
    rows = pages(source, "TypedDataSet")
    cbs_server.serve_v3_table(TABLE, title=title, resources=resources, rows=rows,
                              page_size=10_000)
    first_data_page = cbs_server.data_target_v3(TABLE)
    cbs_server.add_faults(first_data_page, status_fault(503, times=1))

    fetched = tmp_path / "fetched"
    assert main(["fetch", "cbs", "--table", TABLE, "--out", str(fetched)]) == 0
    assert cbs_server.hits(first_data_page) == 2  # the 503 was retried
    assert sum(1 for r in cbs_server.requests if "$skip=" in r) == len(rows) // 10_000

    expected_raw = tmp_path / "expected"
    shutil.copytree(source, expected_raw / "cbs" / TABLE)
    expected = build(expected_raw, tmp_path / "expected.duckdb")
    assert not (fetched / "registers").exists()
    got = build(fetched, tmp_path / "fetched.duckdb")
    assert len(got) == len(expected) > 0
    assert got == expected
    statuses = {r[8] for r in got}
    assert statuses == {"definitief", "nader_voorlopig", "voorlopig"}
    assert any(r[6] is None for r in got)  # suppressed cells stay NULL through the whole path


def test_fetch_failure_keeps_the_previous_snapshot(cbs_server, tmp_path: Path) -> None:
    out = tmp_path / "raw"
    cbs_server.serve_v3_table(TABLE)
    assert main(["fetch", "cbs", "--table", TABLE, "--out", str(out)]) == 0
    folder = out / "cbs" / TABLE
    before = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    cbs_server.add_faults(cbs_server.data_target_v3(TABLE), status_fault(503, times=None))
    assert main(["fetch", "cbs", "--table", TABLE, "--out", str(out)]) == 3
    after = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    assert after == before


def test_fetch_help_names_the_settings(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["fetch", "--help"])
    assert "WMO_CBS_V3_URL" in capsys.readouterr().out


def test_fetch_then_build_84580NED_gives_spending_in_euro(cbs_server, tmp_path: Path) -> None:
    """`wmo fetch cbs --table 84580NED` from a server that answers like CBS (real excerpt
    figures, paged Feed), then `wmo build`: core.wmo_uitgaven in euro, empty cells NULL."""
    raw = tmp_path / "raw"
    assert main(["demo", "--out", str(raw), "--snapshot", SNAPSHOT, "--seed", "3"]) == 0
    table = spending_table()
    rows = table.rows()
    cbs_server.serve_v3_table("84580NED", title=table.title, resources=table.resources(),
                              rows=rows, page_size=7)
    # Into the demo folder: the served table replaces the demo's synthetic one.
    assert main(["fetch", "cbs", "--table", "84580NED", "--out", str(raw)]) == 0
    assert sum(1 for r in cbs_server.requests if "84580NED/TypedDataSet" in r) == -(-len(rows) // 7)
    db = tmp_path / "wmo.duckdb"
    assert main(["build", "--raw", str(raw), "--db", str(db), "--snapshot", SNAPSHOT]) == 0
    con = duckdb.connect(str(db), read_only=True)
    try:
        got = con.execute(
            "SELECT gemeente_code, jaar, voorziening_code, uitgaven_begroot, uitgaven_gerealiseerd,"
            " uitgaven_begroot_per_inwoner, uitgaven_gerealiseerd_per_inwoner, status, bron_tabel"
            " FROM core.wmo_uitgaven ORDER BY ALL").fetchall()
        bron = con.execute("SELECT is_synthetisch FROM meta.bron WHERE bron_id = 'cbs-84580NED'"
                           ).fetchall()
    finally:
        con.close()
    assert len(got) == 5 * 2 * 3  # gemeenten only, dense
    assert ("GM0363", 2023, "T001024", 356_892_000, 345_486_000, 389.0, 376.0, "voorlopig",
            "84580NED") in got
    assert ("GM1959", 2023, "T001024", None, None, None, None, "voorlopig", "84580NED") in got
    assert bron == [(False,)]


def test_fetch_v4_then_build_84580NED_gives_the_same_euro_rows(cbs_server, tmp_path: Path) -> None:
    """The same table from the v4 service (sparse Observations, measure codes unrelated to
    the v3 keys, found by title) builds into the same core.wmo_uitgaven rows."""
    raw = tmp_path / "raw"
    assert main(["demo", "--out", str(raw), "--snapshot", SNAPSHOT, "--seed", "3"]) == 0
    table = spending_table()
    properties, resources = table.v4_resources()
    cbs_server.serve_v4_table("84580NED", properties=properties, resources=resources,
                              observations=table.v4_observations(), page_size=5)
    assert main(["fetch", "cbs", "--table", "84580NED", "--api", "v4", "--out", str(raw)]) == 0
    db = tmp_path / "wmo.duckdb"
    assert main(["build", "--raw", str(raw), "--db", str(db), "--snapshot", SNAPSHOT]) == 0
    con = duckdb.connect(str(db), read_only=True)
    try:
        got = con.execute(
            "SELECT gemeente_code, jaar, voorziening_code, uitgaven_begroot, uitgaven_gerealiseerd,"
            " uitgaven_begroot_per_inwoner, uitgaven_gerealiseerd_per_inwoner FROM "
            "core.wmo_uitgaven ORDER BY ALL").fetchall()
    finally:
        con.close()
    assert len(got) == 5 * 2 * 3  # densified like v3: dissolved Aalburg keeps its empty rows
    assert ("GM0106", 2023, "T001024", 40_059_000, 39_942_000, 577.0, 575.0) in got
    assert ("GM0738", 2023, "T001024", None, None, None, None) in got
