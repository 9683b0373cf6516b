"""Damaged snapshots are refused (issue 13 §2, §6): exit 2, the file and record named, no
traceback, and the previous database byte-identical.

Every case damages a copy of one demo snapshot the way the battery did. Where a case is
about something other than the sha256 check (a removed page, a missing measure, a negative
count) the folder is re-sealed first, so the case proves its own check catches it.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from etl import load
from etl.cli import main
from tests.snapshots import reseal

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
SNAPSHOT = Path(os.environ.get("WMO_SNAPSHOT_DIR", REPO.parent / "shared/snapshot")).resolve()
TABLE = "86050NED"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A demo raw folder and the database built from it."""
    work = tmp_path_factory.mktemp("integrity")
    raw, db = work / "raw", work / "wmo.duckdb"
    assert main(["demo", "--out", str(raw), "--snapshot", str(SNAPSHOT)]) == 0
    assert main(["build", "--raw", str(raw), "--db", str(db), "--snapshot", str(SNAPSHOT)]) == 0
    return raw, db


@pytest.fixture()
def case(demo: tuple[Path, Path], tmp_path: Path) -> tuple[Path, Path]:
    """A private copy of the raw folder and of the previous database."""
    raw, db = demo
    shutil.copytree(raw, tmp_path / "raw")
    shutil.copy(db, tmp_path / "wmo.duckdb")
    return tmp_path / "raw", tmp_path / "wmo.duckdb"


def pages(raw: Path) -> Path:
    return raw / "cbs" / TABLE / "v3" / "TypedDataSet"


def edit_page(path: Path, edit: Callable[[dict], None]) -> None:
    doc = json.loads(path.read_text(encoding="utf-8"))
    edit(doc)
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def refused(raw: Path, db: Path, capsys: pytest.CaptureFixture[str]) -> list[str]:
    """validate and build both exit 2 with the same messages; the database is untouched.
    Returns the error lines."""
    before = digest(db)
    assert main(["validate", "--raw", str(raw), "--snapshot", str(SNAPSHOT)]) == 2
    validated = capsys.readouterr().err
    assert main(["build", "--raw", str(raw), "--db", str(db), "--snapshot", str(SNAPSHOT)]) == 2
    built = capsys.readouterr().err
    assert digest(db) == before
    assert not list(db.parent.glob(f"{db.name}.tmp-*"))
    for err in (validated, built):
        assert "Traceback" not in err and "passes every check" not in err
    errors = [line for line in built.splitlines() if line.startswith("error:")]
    assert errors == [line for line in validated.splitlines() if line.startswith("error:")]
    return errors


def one_with(errors: list[str], *needles: str) -> str:
    hits = [e for e in errors if all(n in e for n in needles)]
    assert hits, "\n".join(errors)
    return hits[0]


# --------------------------------------------------------------------------- sha256


def test_a_changed_file_is_named(case: tuple[Path, Path], capsys) -> None:
    raw, db = case
    edit_page(pages(raw) / "page-0002.json",
              lambda doc: doc["value"][3].update(WmoClienten_1=12345))
    errors = refused(raw, db, capsys)
    one_with(errors, f"{TABLE}/v3/TypedDataSet/page-0002.json", "sha256 differs")
    assert len(errors) == 1


def test_a_missing_and_an_extra_file_are_named(case: tuple[Path, Path], capsys) -> None:
    raw, db = case
    (raw / "cbs" / TABLE / "v3" / "CategoryGroups" / "page-0001.json").unlink()
    (raw / "cbs" / TABLE / "notes.txt").write_text("added later\n", encoding="utf-8")
    errors = refused(raw, db, capsys)
    one_with(errors, "CategoryGroups/page-0001.json", "listed in _source.json but missing")
    one_with(errors, f"{TABLE}/notes.txt", "not listed in _source.json")


def test_the_combined_sha256_must_match(case: tuple[Path, Path], capsys) -> None:
    raw, db = case
    sidecar = raw / "cbs" / TABLE / "_source.json"
    edit_page(sidecar, lambda doc: doc.update(sha256="0" * 64))
    one_with(refused(raw, db, capsys), f"{TABLE}/_source.json", "sha256:", "does not match")


def test_the_demo_bezwaar_is_verified_too(case: tuple[Path, Path], capsys) -> None:
    raw, db = case
    path = raw / "bezwaar-demo" / "bezwaar.csv"
    # A trailing blank line changes no row: only the sha256 check can see it.
    path.write_bytes(path.read_bytes() + b"\n")
    one_with(refused(raw, db, capsys), "bezwaar-demo/bezwaar.csv", "sha256 differs")


def test_meta_bron_sha256_is_the_verified_sidecar_hash(demo: tuple[Path, Path]) -> None:
    raw, db = demo
    sidecar = json.loads((raw / "cbs" / TABLE / "_source.json").read_text(encoding="utf-8"))
    with duckdb.connect(str(db), read_only=True) as con:
        stored = con.execute("SELECT sha256 FROM meta.bron WHERE bron_id = ?",
                             [f"cbs-{TABLE}"]).fetchone()
    assert stored == (sidecar["sha256"],)


# --------------------------------------------------------------------------- page chains


def test_a_removed_page_is_found_by_the_chain_check(case: tuple[Path, Path], capsys) -> None:
    """The reported case: one data page gone, its predecessor's next link still pointing at
    it. The folder is re-sealed and renumbered, so only the chain check can see it."""
    raw, db = case
    folder = pages(raw)
    (folder / "page-0003.json").unlink()
    for n in range(4, 8):
        (folder / f"page-{n:04d}.json").rename(folder / f"page-{n - 1:04d}.json")
    reseal(raw / "cbs" / TABLE)
    error = one_with(refused(raw, db, capsys), "TypedDataSet/page-0004.json",
                     "does not follow page-0003.json")
    assert "rows from 40000" in error and "hold 30000" in error


def test_a_removed_page_without_renumbering(case: tuple[Path, Path], capsys) -> None:
    raw, db = case
    (pages(raw) / "page-0003.json").unlink()
    reseal(raw / "cbs" / TABLE)
    one_with(refused(raw, db, capsys), "page-0004.json", "page-0003.json missing")


def test_a_removed_last_page_leaves_a_dangling_link(case: tuple[Path, Path], capsys) -> None:
    raw, db = case
    (pages(raw) / "page-0007.json").unlink()
    reseal(raw / "cbs" / TABLE)
    one_with(refused(raw, db, capsys), "page-0006.json", "next link", "$skip=60000",
             "not in the snapshot")


def test_a_duplicated_page_is_refused_before_the_build(case: tuple[Path, Path],
                                                       capsys) -> None:
    """It used to pass validate and then fail the build with a traceback."""
    raw, db = case
    shutil.copy(pages(raw) / "page-0002.json", pages(raw) / "page-0008.json")
    reseal(raw / "cbs" / TABLE)
    errors = refused(raw, db, capsys)
    one_with(errors, "page-0008.json", "same content as page-0002.json")
    one_with(errors, "page-0008.json", "not reachable")


def test_overlapping_pages_are_refused(case: tuple[Path, Path], capsys) -> None:
    """Page 3 starts five rows early (and ends five early): same row count, same links,
    different content; only the row IDs show it."""
    raw, db = case
    second = json.loads((pages(raw) / "page-0002.json").read_text(encoding="utf-8"))
    edit_page(pages(raw) / "page-0003.json",
              lambda doc: doc.update(value=second["value"][-5:] + doc["value"][:-5]))
    reseal(raw / "cbs" / TABLE)
    one_with(refused(raw, db, capsys), "page-0003.json:page-0003.json value[0]", "ID:",
             "delivered twice")


def test_a_stated_row_count_must_agree(case: tuple[Path, Path], capsys) -> None:
    raw, db = case
    edit_page(pages(raw) / "page-0001.json", lambda doc: doc.update({"odata.count": "66430"}))
    reseal(raw / "cbs" / TABLE)
    one_with(refused(raw, db, capsys), "page-0001.json", "states 66430 rows",
             "the pages hold 66420")


# --------------------------------------------------------------------------- records


def test_a_v3_row_without_a_measure_key_is_an_error(case: tuple[Path, Path], capsys) -> None:
    raw, db = case
    edit_page(pages(raw) / "page-0002.json", lambda doc: doc["value"][17].pop("WmoClienten_1"))
    reseal(raw / "cbs" / TABLE)
    one_with(refused(raw, db, capsys), "page-0002.json:page-0002.json value[17]",
             "WmoClienten_1:", "missing from this row")


def test_a_negative_count_is_an_error(case: tuple[Path, Path], capsys) -> None:
    raw, db = case
    edit_page(pages(raw) / "page-0005.json",
              lambda doc: doc["value"][42].update(WmoClienten_1=-5))
    reseal(raw / "cbs" / TABLE)
    one_with(refused(raw, db, capsys), "page-0005.json:page-0005.json value[42]",
             "WmoClienten_1:", "-5 is below zero")


# --------------------------------------------------------------------------- files


def test_an_invalid_sidecar_is_a_message(case: tuple[Path, Path], capsys) -> None:
    raw, db = case
    (raw / "cbs" / TABLE / "_source.json").write_text('{"format": "odata-v3",', encoding="utf-8")
    one_with(refused(raw, db, capsys), f"{TABLE}/_source.json", "invalid JSON")


def test_a_sidecar_without_files_is_a_message(case: tuple[Path, Path], capsys) -> None:
    raw, db = case
    edit_page(raw / "cbs" / TABLE / "_source.json", lambda doc: doc.pop("files"))
    one_with(refused(raw, db, capsys), f"{TABLE}/_source.json", "files:")


def test_a_herindelingen_register_with_only_a_header(case: tuple[Path, Path], capsys) -> None:
    raw, db = case
    path = raw / "registers" / "herindelingen.csv"
    path.write_text(path.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
    one_with(refused(raw, db, capsys), "herindelingen.csv:2", "header but no rows")


@pytest.mark.parametrize("failure", [
    OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)),
    # What DuckDB itself raises when its file cannot grow.
    duckdb.IOException('IO Error: Could not write file "/x/wmo.duckdb.tmp-1": '
                       "No space left on device"),
], ids=["oserror", "duckdb"])
def test_a_full_disk_during_the_write(case: tuple[Path, Path], capsys,
                                      monkeypatch: pytest.MonkeyPatch,
                                      failure: Exception) -> None:
    """The write fails half-way, after the temp file exists: exit 2, the database named, the
    temp file gone and the previous database unchanged."""
    raw, db = case
    before = digest(db)
    real_insert = load._insert
    calls = []

    def insert_until_full(*args: object) -> None:
        calls.append(args[1])
        if len(calls) > 3:
            raise failure
        real_insert(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(load, "_insert", insert_until_full)
    assert main(["build", "--raw", str(raw), "--db", str(db), "--snapshot", str(SNAPSHOT)]) == 2
    err = capsys.readouterr().err
    assert len(calls) == 4
    assert "Traceback" not in err
    assert f"{db.name}: cannot write the database: no space left on the disk" in err
    assert "/x/" not in err
    assert digest(db) == before
    assert not list(db.parent.glob(f"{db.name}.tmp-*"))


def test_a_boundary_folder_with_a_sidecar_is_verified(case: tuple[Path, Path], capsys) -> None:
    """The demo copies the boundaries into raw/geo with a sidecar; `--snapshot RAW` reads
    them from there."""
    raw, db = case
    boundary = next((raw / "geo").glob("gemeente_*.topojson"))
    boundary.write_bytes(boundary.read_bytes() + b"\n")
    before = digest(db)
    assert main(["validate", "--raw", str(raw), "--snapshot", str(raw)]) == 2
    assert main(["build", "--raw", str(raw), "--db", str(db), "--snapshot", str(raw)]) == 2
    err = capsys.readouterr().err
    assert f"geo/{boundary.name}: sha256 differs" in err and "Traceback" not in err
    assert digest(db) == before
