"""Every command's error paths (issue 9 §3–§5, §8): a message, exit 2 or 3, no traceback, nothing
half-made; `wmo validate` is the build without the write; registers come from the project."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from etl.cli import main
from etl.sources.registers import PROJECT_REGISTERS
from tests.snapshots import reseal

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
SNAPSHOT = Path(os.environ.get("WMO_SNAPSHOT_DIR", REPO.parent / "shared/snapshot")).resolve()
REAL_DATA = SNAPSHOT.parent / "real-data"


@pytest.fixture(scope="module")
def demo_raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    raw = tmp_path_factory.mktemp("demo") / "raw"
    assert main(["demo", "--out", str(raw), "--snapshot", str(SNAPSHOT)]) == 0
    return raw


@pytest.fixture()
def raw(demo_raw: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "raw"
    shutil.copytree(demo_raw, copy)
    return copy


@pytest.fixture(scope="module")
def demo_db(demo_raw: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("db") / "wmo.duckdb"
    assert main(["build", "--raw", str(demo_raw), "--db", str(db),
                 "--snapshot", str(SNAPSHOT)]) == 0
    return db


def wmo(*args: str | Path, cwd: Path = REPO, env: dict[str, str] | None = None
        ) -> subprocess.CompletedProcess[str]:
    """The real command in its own process, so a traceback would reach stderr as it would for
    a user."""
    full_env = {**os.environ, **(env or {})}
    full_env.pop("WMO_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "etl.cli", *map(str, args)], cwd=cwd,
                          env=full_env, capture_output=True, text=True, timeout=300)


def assert_clean_failure(proc: subprocess.CompletedProcess[str], code: int, *needles: str) -> None:
    assert proc.returncode == code, proc.stderr
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout
    assert proc.stderr.startswith("error:") or "\nerror:" in proc.stderr
    for needle in needles:
        assert needle in proc.stderr, proc.stderr


def tree_digest(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


# --------------------------------------------------------------------------- validate == build


def _edit_json(path: Path, edit: Callable[[dict], None]) -> None:
    """Edit a page of `<table>/v3/<Resource>/` and re-seal the table: the test is about the
    content, not about the sha256 check."""
    data = json.loads(path.read_text(encoding="utf-8"))
    edit(data)
    path.write_text(json.dumps(data), encoding="utf-8")
    reseal(path.parents[2])


def _bad_herindeling(raw: Path) -> None:
    path = raw / "registers" / "herindelingen.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[1] = lines[1].replace("2015-01-01", "2015-13-45", 1)
    path.write_text("".join(lines), encoding="utf-8")


def _bad_werkwijze(raw: Path) -> None:
    path = raw / "registers" / "werkwijze.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[2] = lines[2].replace(",resultaatgericht,", ",af en toe,", 1)
    path.write_text("".join(lines), encoding="utf-8")


def _no_75plus_cover(raw: Path) -> None:
    def edit(page: dict) -> None:
        for record in page["value"]:
            if record["Title"] == "75 tot 80 jaar":
                record["Title"] = "76 tot 80 jaar"
    _edit_json(raw / "cbs" / "03759NED" / "v3" / "Leeftijd" / "page-0001.json", edit)


def _truncated_page(raw: Path) -> None:
    page = raw / "cbs" / "86050NED" / "v3" / "TypedDataSet" / "page-0001.json"
    page.write_bytes(page.read_bytes()[:500])
    reseal(page.parents[2])


def _no_wmo_table(raw: Path) -> None:
    for table in ("86050NED", "84839NED", "83262NED"):
        shutil.rmtree(raw / "cbs" / table)


def _measure_renamed(raw: Path) -> None:
    def edit(page: dict) -> None:
        for record in page["value"]:
            if record.get("Title") == "Wmo-cliënten":
                record["Title"] = "Cliënten"
    _edit_json(raw / "cbs" / "84839NED" / "v3" / "DataProperties" / "page-0001.json", edit)


def _two_problems(raw: Path) -> None:
    _bad_werkwijze(raw)
    _no_75plus_cover(raw)


BAD_INPUTS: dict[str, tuple[Callable[[Path], None], list[str]]] = {
    "herindeling": (_bad_herindeling, ["herindelingen.csv:2"]),
    "werkwijze": (_bad_werkwijze, ["werkwijze.csv:3", "werkwijze"]),
    "75plus": (_no_75plus_cover, ["03759NED", "Leeftijd", "'76 tot 80 jaar'"]),
    "truncated-page": (_truncated_page, ["page-0001.json", "invalid JSON"]),
    "no-wmo-table": (_no_wmo_table, ["no CBS Wmo table found"]),
    "measure": (_measure_renamed, ["'Wmo-cliënten'", "not found"]),
    "two-problems": (_two_problems, ["werkwijze.csv:3", "'76 tot 80 jaar'"]),
}


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error:")]


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_validate_and_build_refuse_the_same_input_with_the_same_messages(
        case: str, raw: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    damage, needles = BAD_INPUTS[case]
    damage(raw)
    db = tmp_path / "wmo.duckdb"
    assert main(["validate", "--raw", str(raw), "--snapshot", str(SNAPSHOT)]) == 2
    validate_err = capsys.readouterr().err
    assert "passes every check" not in validate_err
    assert main(["build", "--raw", str(raw), "--db", str(db), "--snapshot", str(SNAPSHOT)]) == 2
    build_err = capsys.readouterr().err
    assert error_lines(validate_err) == error_lines(build_err)
    assert error_lines(build_err), build_err
    joined = "\n".join(error_lines(build_err))
    for needle in needles:
        assert needle in joined
    assert not db.exists()


def test_validate_lists_problems_of_registers_and_tables_together(
        raw: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _two_problems(raw)
    assert main(["validate", "--raw", str(raw), "--snapshot", str(SNAPSHOT)]) == 2
    errors = error_lines(capsys.readouterr().err)
    assert any("werkwijze.csv:3" in e for e in errors)
    assert any("Leeftijd" in e for e in errors)


def test_a_folder_validate_passes_builds(raw: Path, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--raw", str(raw), "--snapshot", str(SNAPSHOT)]) == 0
    assert "passes every check" in capsys.readouterr().err
    db = tmp_path / "wmo.duckdb"
    assert main(["build", "--raw", str(raw), "--db", str(db), "--snapshot", str(SNAPSHOT)]) == 0
    assert db.is_file()


def test_a_failed_build_leaves_the_previous_database_byte_identical(
        raw: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "wmo.duckdb"
    assert main(["build", "--raw", str(raw), "--db", str(db), "--snapshot", str(SNAPSHOT)]) == 0
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    _no_75plus_cover(raw)
    assert main(["build", "--raw", str(raw), "--db", str(db), "--snapshot", str(SNAPSHOT)]) == 2
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before
    capsys.readouterr()


# --------------------------------------------------------------------------- registers


def test_a_raw_folder_without_registers_uses_the_projects_and_says_so(
        raw: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.rmtree(raw / "registers")
    db = tmp_path / "wmo.duckdb"
    assert main(["build", "--raw", str(raw), "--db", str(db), "--snapshot", str(SNAPSHOT)]) == 0
    assert "(from the project)" in capsys.readouterr().err
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = dict(con.execute("SELECT bron_id, map FROM meta.bron "
                                "WHERE bron_id LIKE 'register-%'").fetchall())
        n_werkwijze = con.execute("SELECT count(*) FROM core.werkwijze").fetchone()
    finally:
        con.close()
    assert rows["register-herindelingen"] == "project:data/raw/registers/herindelingen.csv"
    assert REPO / rows["register-werkwijze"].removeprefix("project:") == \
        PROJECT_REGISTERS / "werkwijze.csv"
    committed = (PROJECT_REGISTERS / "werkwijze.csv").read_text(encoding="utf-8")
    assert n_werkwijze and n_werkwijze[0] == len(committed.strip().splitlines()) - 1


def test_the_raw_folders_own_registers_win(raw: Path, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "wmo.duckdb"
    assert main(["build", "--raw", str(raw), "--db", str(db), "--snapshot", str(SNAPSHOT)]) == 0
    assert "(from the raw folder)" in capsys.readouterr().err
    con = duckdb.connect(str(db), read_only=True)
    try:
        where = con.execute("SELECT map FROM meta.bron WHERE bron_id = 'register-werkwijze'"
                            ).fetchone()
    finally:
        con.close()
    assert where == ("raw:registers/werkwijze.csv",)


# --------------------------------------------------------------------------- no traceback


def test_export_into_an_impossible_folder(demo_db: Path) -> None:
    assert_clean_failure(wmo("export", "--db", demo_db, "--out", "/proc/nope"), 2,
                         "/proc/nope", "cannot create the folder")


def test_export_onto_an_existing_file(demo_db: Path, tmp_path: Path) -> None:
    target = tmp_path / "a-file"
    target.write_text("keep me", encoding="utf-8")
    assert_clean_failure(wmo("export", "--db", demo_db, "--out", target), 2,
                         "exists and is not a folder")
    assert target.read_text(encoding="utf-8") == "keep me"


@pytest.mark.parametrize("kind", ["text-file", "folder", "empty-duckdb", "missing"])
def test_info_and_export_on_something_that_is_not_a_wmo_database(kind: str,
                                                                tmp_path: Path) -> None:
    target = tmp_path / "x.duckdb"
    expected = {"text-file": "cannot open as a DuckDB database",
                "folder": "is a folder", "empty-duckdb": "not a wmo-atlas database",
                "missing": "database not found"}[kind]
    if kind == "text-file":
        target.write_text("not a database\n", encoding="utf-8")
    elif kind == "folder":
        target.mkdir()
    elif kind == "empty-duckdb":
        duckdb.connect(str(target)).close()
    assert_clean_failure(wmo("info", "--db", target), 2, expected)
    out = tmp_path / "export"
    assert_clean_failure(wmo("export", "--db", target, "--out", out), 2, expected)
    assert not out.exists()


def test_messages_name_paths_as_given_not_absolute(tmp_path: Path) -> None:
    (tmp_path / "x.duckdb").write_text("nope", encoding="utf-8")
    proc = wmo("info", "--db", "x.duckdb", cwd=tmp_path)
    assert_clean_failure(proc, 2, "x.duckdb")
    assert str(tmp_path) not in proc.stderr


def test_fetch_with_a_bad_table_id() -> None:
    assert_clean_failure(wmo("fetch", "cbs", "--table", "86050NED;rm"), 2, "not a CBS table id")


def test_failed_fetch_into_a_new_folder_leaves_nothing(tmp_path: Path) -> None:
    out = tmp_path / "new"
    proc = wmo("fetch", "cbs", "--table", "86050NED", "--out", out,
               env={"WMO_CBS_V3_URL": "http://127.0.0.1:9", "WMO_HTTP_RETRIES": "0",
                    "WMO_HTTP_BACKOFF": "0", "WMO_HTTP_TIMEOUT": "2"})
    assert_clean_failure(proc, 3, "previous snapshot was left intact")
    # No empty cbs/ folder: `./dev run` reads that as downloaded data and stops using the demo.
    assert not (out / "cbs").exists()


def test_failed_fetch_keeps_an_existing_snapshot(raw: Path) -> None:
    before = tree_digest(raw / "cbs")
    proc = wmo("fetch", "cbs", "--table", "86050NED", "--out", raw,
               env={"WMO_CBS_V3_URL": "http://127.0.0.1:9", "WMO_HTTP_RETRIES": "0",
                    "WMO_HTTP_BACKOFF": "0", "WMO_HTTP_TIMEOUT": "2"})
    assert_clean_failure(proc, 3)
    assert tree_digest(raw / "cbs") == before


def test_import_of_a_real_statline_csv_that_is_not_the_table(raw: Path) -> None:
    """The reported case: a real CSV with a problem ended in FrozenInstanceError and exit 1."""
    csv = REAL_DATA / "statline-csv-format-hmels" / \
        "Nabijheid_voorzieningen__buurt_2021_10022023_162519.csv"
    before = tree_digest(raw / "cbs" / "86050NED")
    proc = wmo("import", "statline-csv", csv, "--table", "86050NED", "--out", raw)
    assert_clean_failure(proc, 2, "Nabijheid_voorzieningen__buurt_2021_10022023_162519.csv")
    assert "FrozenInstanceError" not in proc.stderr
    assert tree_digest(raw / "cbs" / "86050NED") == before
    assert not list((raw / "cbs").glob("*.partial-*"))


def test_failed_import_into_a_new_folder_leaves_nothing(tmp_path: Path) -> None:
    csv = REAL_DATA / "statline-csv-format-hmels" / \
        "Nabijheid_voorzieningen__buurt_2021_10022023_162519.csv"
    out = tmp_path / "new"
    proc = wmo("import", "statline-csv", csv, "--table", "86050NED", "--out", out,
               env={"WMO_CBS_V3_URL": "http://127.0.0.1:9", "WMO_HTTP_RETRIES": "0",
                    "WMO_HTTP_BACKOFF": "0", "WMO_HTTP_TIMEOUT": "2"})
    assert_clean_failure(proc, 3)
    assert not (out / "cbs").exists()


def test_import_of_a_missing_file(tmp_path: Path) -> None:
    assert_clean_failure(wmo("import", "statline-csv", tmp_path / "nope.csv", "--table",
                             "86050NED", "--out", tmp_path), 2, "file not found")


def test_build_and_validate_without_boundaries_or_raw_folder(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    for command in ("build", "validate"):
        args = [command, "--raw", empty, "--snapshot", tmp_path / "no-snapshot"]
        if command == "build":
            args += ["--db", tmp_path / "wmo.duckdb"]
        assert_clean_failure(wmo(*args), 2, "no gemeente_YYYY and provincie_YYYY boundary files",
                             "no CBS Wmo table found")
    assert not (tmp_path / "wmo.duckdb").exists()


def test_build_onto_a_database_path_that_is_a_folder(raw: Path, tmp_path: Path) -> None:
    db = tmp_path / "db-folder"
    db.mkdir()
    proc = wmo("build", "--raw", raw, "--db", db, "--snapshot", SNAPSHOT)
    assert_clean_failure(proc, 2, "--db: is a folder")
    assert db.is_dir() and not any(db.iterdir())
    assert not list(tmp_path.glob("db-folder.*"))


def test_demo_without_boundaries() -> None:
    proc = wmo("demo", "--out", "/tmp/never-written",
               env={"WMO_SNAPSHOT_DIR": ""})
    assert_clean_failure(proc, 2, "--snapshot")


# --------------------------------------------------------------------------- export manifest


def test_export_in_both_formats_keeps_one_manifest_of_every_file(demo_db: Path,
                                                                tmp_path: Path) -> None:
    out = tmp_path / "export"
    assert wmo("export", "--db", demo_db, "--out", out, "--format", "parquet").returncode == 0
    assert wmo("export", "--db", demo_db, "--out", out, "--format", "csv").returncode == 0
    manifest = json.loads((out / "metadata.json").read_text(encoding="utf-8"))
    files = sorted(p.name for p in out.iterdir() if p.name != "metadata.json")
    assert sorted(e["bestand"] for e in manifest["bestanden"]) == files
    assert {e["formaat"] for e in manifest["bestanden"]} == {"csv", "parquet"}
    for entry in manifest["bestanden"]:
        assert hashlib.sha256((out / entry["bestand"]).read_bytes()).hexdigest() == \
            entry["sha256"]
    assert manifest["is_synthetisch"] is True
    con = duckdb.connect(str(demo_db), read_only=True)
    try:
        n = con.execute("SELECT count(*) FROM out.gemeente_periode").fetchone()
    finally:
        con.close()
    rows = {e["bestand"]: e["rijen"] for e in manifest["bestanden"]}
    assert n and rows["gemeente_periode.csv"] == rows["gemeente_periode.parquet"] == n[0]
    assert not list(out.glob("*.partial-*"))


# --------------------------------------------------------------------------- core.voorziening


def test_voorziening_keeps_the_order_of_the_cbs_list(demo_raw: Path, demo_db: Path) -> None:
    page = json.loads((demo_raw / "cbs" / "86050NED" / "v3" / "TypeMaatwerkvoorziening" /
                       "page-0001.json").read_text(encoding="utf-8"))
    cbs_order = [r["Key"].strip() for r in page["value"]]
    con = duckdb.connect(str(demo_db), read_only=True)
    try:
        ours = [r[0] for r in con.execute(
            "SELECT voorziening_code FROM core.voorziening ORDER BY volgorde").fetchall()]
    finally:
        con.close()
    assert ours[:len(cbs_order)] == cbs_order


def test_the_database_holds_no_absolute_path_of_the_build_machine(demo_db: Path,
                                                                   demo_raw: Path) -> None:
    con = duckdb.connect(str(demo_db), read_only=True)
    try:
        texts = [v for row in con.execute("SELECT * FROM meta.bron").fetchall() for v in row
                 if isinstance(v, str)]
        texts += [v for v in con.execute("SELECT * FROM meta.build").fetchone() or ()
                  if isinstance(v, str)]
    finally:
        con.close()
    for secret in (str(REPO), str(demo_raw.resolve()), str(SNAPSHOT), "/tmp", "/work"):
        assert not any(secret in t for t in texts), secret
    assert all(not t.startswith("/") for t in texts)


# --------------------------------------------------------------------------- every problem at once


def _replace_in_line(path: Path, line: int, old: str, new: str) -> None:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    assert old in lines[line - 1]
    lines[line - 1] = lines[line - 1].replace(old, new, 1)
    path.write_text("".join(lines), encoding="utf-8")


def _register_problems(raw: Path) -> None:
    """Two herindelingen problems, two in werkwijze, two in bezwaar (issue 13 §3: the
    werkwijze and bezwaar ones used to be hidden behind the herindelingen ones)."""
    her = raw / "registers" / "herindelingen.csv"
    _replace_in_line(her, 2, "2015-01-01", "2015-13-45")
    _replace_in_line(her, 3, "https://", "ftp://")
    ww = raw / "registers" / "werkwijze.csv"
    _replace_in_line(ww, 3, ",resultaatgericht,", ",af en toe,")
    _replace_in_line(ww, 2, "GM0503,", "GM9999,")
    bz = raw / "registers" / "bezwaar.csv"
    _replace_in_line(bz, 2, ",2015,", ",2015x,")
    _replace_in_line(bz, 3, "GM1774,", "GM99,")


REGISTER_PROBLEMS = ["herindelingen.csv:2: datum_ingang", "herindelingen.csv:3: bron",
                     "werkwijze.csv:3: werkwijze", "werkwijze.csv:2: gemeente_code",
                     "bezwaar.csv:2: jaar", "bezwaar.csv:3: gemeente_code"]


def test_validate_lists_register_problems_behind_a_herindelingen_error(
        raw: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _register_problems(raw)
    _no_75plus_cover(raw)
    assert main(["validate", "--raw", str(raw), "--snapshot", str(SNAPSHOT)]) == 2
    errors = error_lines(capsys.readouterr().err)
    for needle in [*REGISTER_PROBLEMS, "'76 tot 80 jaar'"]:
        assert any(needle in e for e in errors), (needle, errors)
    # GM9999 is unknown in the partial history; a code a broken herindelingen row names is
    # not reported as unknown elsewhere.
    assert sum("unknown gemeente code" in e for e in errors) == 1
    assert len(errors) == 7


def test_validate_checks_register_fields_without_boundaries(
        raw: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _register_problems(raw)
    empty = tmp_path / "no-geo"
    (empty / "geo").mkdir(parents=True)
    assert main(["validate", "--raw", str(raw), "--snapshot", str(empty)]) == 2
    err = capsys.readouterr().err
    errors = error_lines(err)
    assert any("no gemeente_YYYY and provincie_YYYY boundary files" in e for e in errors)
    # Without a gemeente list the codes are checked for their form only, and it says so.
    for needle in [p for p in REGISTER_PROBLEMS if p != "werkwijze.csv:2: gemeente_code"]:
        assert any(needle in e for e in errors), (needle, errors)
    assert "not checked against the gemeente list" in err
