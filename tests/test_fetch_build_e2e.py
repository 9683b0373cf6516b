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
