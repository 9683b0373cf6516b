"""fetch_rechtspraak against a loopback server that answers like Rechtspraak Open Data."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from etl.cli import main
from etl.errors import FetchError
from etl.settings import load_settings
from etl.sources.rechtspraak.fetch import (
    CREATORS,
    SUBJECTS,
    Politeness,
    Throttle,
    fetch_rechtspraak,
    month_windows,
    normalise_updated,
    wanted_court,
)
from etl.sources.rechtspraak.parse import parse_feed
from tests.cbs_server import Fault, stalled, status_fault
from tests.rechtspraak_server import (
    BESTUUR,
    RBDHA,
    RVS,
    RechtspraakServer,
    content_target,
    content_xml,
    invalid_xml,
    ruling,
)

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
LATER = datetime(2026, 12, 8, 12, 0, tzinfo=UTC)
ONE = Politeness(workers=1, pause=0.0, page_size=2)


def _five(server: RechtspraakServer) -> list[str]:
    eclis = ["ECLI:NL:CRVB:2019:1", "ECLI:NL:CRVB:2019:2", "ECLI:NL:CRVB:2019:3",
             "ECLI:NL:RBDHA:2019:4", "ECLI:NL:RBDHA:2019:5"]
    server.add(ruling(eclis[0], date(2019, 1, 5)), ruling(eclis[1], date(2019, 1, 6)),
               ruling(eclis[2], date(2019, 1, 31)),
               ruling(eclis[3], date(2019, 2, 1), creator=RBDHA, subject=BESTUUR),
               ruling(eclis[4], date(2019, 2, 28), creator=RBDHA))
    return eclis


def _fetch(tmp: Path, politeness: Politeness = ONE, now: datetime = NOW, **kw) -> Path:
    return fetch_rechtspraak(tmp, load_settings(), van=date(2019, 1, 1), tot=date(2019, 2, 28),
                             politeness=politeness, now=now, **kw)


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_month_windows_cut_at_both_ends() -> None:
    windows = month_windows(date(2019, 1, 15), date(2019, 3, 2))
    assert [(w.van.isoformat(), w.tot.isoformat()) for w in windows] == [
        ("2019-01-15", "2019-01-31"), ("2019-02-01", "2019-02-28"), ("2019-03-01", "2019-03-02")]
    assert month_windows(date(2019, 12, 1), date(2020, 1, 1))[0].tot == date(2019, 12, 31)


def test_fetch_stores_pages_and_documents_as_delivered(
        rechtspraak_server: RechtspraakServer, tmp_path: Path) -> None:
    eclis = _five(rechtspraak_server)
    lines: list[str] = []
    folder = _fetch(tmp_path, progress=lines.append)

    assert folder == tmp_path / "rechtspraak"
    files = _files(folder)
    content = {k: v for k, v in files.items() if k.startswith("content/")}
    assert content == {f"content/{e.replace(':', '_')}.xml": rechtspraak_server.rulings[e].body
                       for e in eclis}
    # January (3 CRvB rulings in socialezekerheidsrecht) needs two pages of two.
    jan = sorted(k for k in files if "/2019-01-01_2019-01-31/socialezekerheidsrecht/" in k)
    assert [k.rsplit("/", 1)[-1] for k in jan] == ["page-0001.xml", "page-0002.xml"]
    assert [len(parse_feed(files[k]).entries) for k in jan] == [2, 1]
    pages = sorted(v for k, v in files.items() if k.startswith("zoeken/"))
    assert pages == sorted(rechtspraak_server.feeds.values())  # byte for byte
    sidecar = json.loads(files.pop("_source.json"))
    assert sidecar["files"] == {p: hashlib.sha256(b).hexdigest() for p, b in files.items()}
    assert sidecar["source_id"] == "rechtspraak" and sidecar["synthetic"] is False
    assert sidecar["documenten"] == 5 and sidecar["periodes"] == ["2019-01-01_2019-02-28"]
    assert not (tmp_path / "rechtspraak.partial").exists()
    assert "rechtspraak: 5/5 documents" in lines

    searches = rechtspraak_server.searches()
    assert {s["subject"][0] for s in searches} == set(SUBJECTS.values())
    assert all(s["creator"] == list(CREATORS) and s["type"] == ["Uitspraak"]
               and s["return"] == ["DOC"] and s["max"] == ["2"] for s in searches)
    jan_szr = [s["from"][0] for s in searches
               if s["date"] == ["2019-01-01", "2019-01-31"] and s["subject"] == [SUBJECTS[
                   "socialezekerheidsrecht"]]]
    assert jan_szr == ["0", "2"]


def test_a_server_that_ignores_the_filters_is_deduplicated_and_other_courts_dropped(
        rechtspraak_server: RechtspraakServer, tmp_path: Path) -> None:
    eclis = _five(rechtspraak_server)
    rechtspraak_server.add(ruling("ECLI:NL:RVS:2019:9", date(2019, 1, 9), creator=RVS))
    rechtspraak_server.ignore_filters = True
    _fetch(tmp_path, Politeness(workers=2, pause=0.0, page_size=4))
    fetched = rechtspraak_server.content_requests()
    assert sorted(fetched) == sorted(eclis)  # each once, every search listed all six
    assert "ECLI:NL:RVS:2019:9" not in fetched


def test_an_ecli_without_document_is_recorded_not_fatal(
        rechtspraak_server: RechtspraakServer, tmp_path: Path) -> None:
    _five(rechtspraak_server)
    rechtspraak_server.rulings["ECLI:NL:CRVB:2019:2"].missing = True
    folder = _fetch(tmp_path)
    index = json.loads((folder / "index.json").read_text(encoding="utf-8"))
    assert list(index["ontbrekend"]) == ["ECLI:NL:CRVB:2019:2"]
    assert "ECLI:NL:CRVB:2019:2" not in index["documenten"] and len(index["documenten"]) == 4
    assert not (folder / "content" / "ECLI_NL_CRVB_2019_2.xml").exists()


def test_503_then_success_and_a_stall_are_retried(
        rechtspraak_server: RechtspraakServer, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WMO_HTTP_TIMEOUT", "0.3")
    monkeypatch.setenv("WMO_HTTP_DEADLINE", "0.5")
    _five(rechtspraak_server)
    rechtspraak_server.add_fault(content_target("ECLI:NL:CRVB:2019:1"), status_fault(503))
    rechtspraak_server.add_fault(content_target("ECLI:NL:CRVB:2019:3"), stalled(3.0))
    rechtspraak_server.add_fault("/uitspraken/zoeken", status_fault(429, headers={
        "Retry-After": "0"}))
    folder = _fetch(tmp_path)
    assert rechtspraak_server.content_requests().count("ECLI:NL:CRVB:2019:1") == 2
    assert rechtspraak_server.content_requests().count("ECLI:NL:CRVB:2019:3") == 2
    body = (folder / "content" / "ECLI_NL_CRVB_2019_3.xml").read_bytes()
    assert body == rechtspraak_server.rulings["ECLI:NL:CRVB:2019:3"].body


def test_invalid_xml_fails_after_retries_and_keeps_the_previous_snapshot(
        rechtspraak_server: RechtspraakServer, tmp_path: Path) -> None:
    _five(rechtspraak_server)
    folder = _fetch(tmp_path)
    before = _files(folder)
    rechtspraak_server.add_fault("/uitspraken/zoeken", invalid_xml(times=None))
    with pytest.raises(FetchError, match="invalid XML") as caught:
        _fetch(tmp_path, now=LATER)
    assert "/uitspraken/zoeken?" in str(caught.value) and "after 4 attempt" in str(caught.value)
    assert _files(folder) == before


def test_an_unreadable_feed_once_is_retried(rechtspraak_server: RechtspraakServer,
                                            tmp_path: Path) -> None:
    eclis = _five(rechtspraak_server)
    rechtspraak_server.add_fault("/uitspraken/zoeken", invalid_xml(times=1))
    folder = _fetch(tmp_path)
    assert len(list((folder / "content").iterdir())) == len(eclis)


def test_an_interrupted_fetch_resumes_without_fetching_again(
        rechtspraak_server: RechtspraakServer, tmp_path: Path) -> None:
    eclis = _five(rechtspraak_server)
    rechtspraak_server.add_fault(content_target(eclis[3]), status_fault(503, times=None))
    with pytest.raises(FetchError, match="HTTP 503"):
        _fetch(tmp_path)
    assert not (tmp_path / "rechtspraak").exists()  # nothing half-done is a snapshot
    first = rechtspraak_server.content_requests()
    done_before = {e for e in first if e != eclis[3]}
    assert done_before == set(eclis[:3])  # one worker, in ECLI order: 1, 2, 3, then 4 fails
    searches_before = len(rechtspraak_server.searches())

    rechtspraak_server.clear_faults()  # the outage is over
    lines: list[str] = []
    folder = _fetch(tmp_path, now=LATER, progress=lines.append)
    second = rechtspraak_server.content_requests()[len(first):]
    assert sorted(second) == sorted(eclis[3:])
    assert len(rechtspraak_server.searches()) == searches_before  # pages came from disk
    assert any("resuming" in line for line in lines)
    assert len(list((folder / "content").iterdir())) == 5


def test_a_later_run_fetches_only_new_and_modified_rulings(
        rechtspraak_server: RechtspraakServer, tmp_path: Path) -> None:
    eclis = _five(rechtspraak_server)
    _fetch(tmp_path)
    first = len(rechtspraak_server.content_requests())
    changed = rechtspraak_server.rulings[eclis[1]]
    changed.updated = "2026-12-05T09:00:00Z"
    changed.body = content_xml(eclis[1], changed.datum, inhoudsindicatie="Gewijzigd.")
    new = ruling("ECLI:NL:CRVB:2019:6", date(2019, 2, 3), updated="2026-12-06T09:00:00Z")
    rechtspraak_server.add(new)

    folder = _fetch(tmp_path, now=LATER)
    assert sorted(rechtspraak_server.content_requests()[first:]) == [eclis[1], new.ecli]
    later = [s for s in rechtspraak_server.searches() if "modified" in s]
    assert later and all(s["modified"] == ["2026-11-30T12:00:00", "2026-12-08T12:00:00"]
                         for s in later)
    assert (folder / "content" / "ECLI_NL_CRVB_2019_2.xml").read_bytes() == changed.body
    assert len(list((folder / "content").iterdir())) == 6


def test_incremental_compares_updated_even_when_modified_is_ignored(
        rechtspraak_server: RechtspraakServer, tmp_path: Path) -> None:
    eclis = _five(rechtspraak_server)
    rechtspraak_server.ignore_filters = True
    _fetch(tmp_path)
    first = len(rechtspraak_server.content_requests())
    rechtspraak_server.rulings[eclis[4]].updated = "2026-12-05T09:00:00Z"
    _fetch(tmp_path, now=LATER)
    assert rechtspraak_server.content_requests()[first:] == [eclis[4]]


def test_requests_are_bounded(rechtspraak_server: RechtspraakServer, tmp_path: Path) -> None:
    for i in range(12):
        rechtspraak_server.add(ruling(f"ECLI:NL:CRVB:2019:{100 + i}", date(2019, 1, 10)))
    # Each document takes 0.1 s, so two workers overlap: exactly two at a time, never more.
    rechtspraak_server.add_fault("/uitspraken/content", Fault("slow", times=None, delay=0.1))
    _fetch(tmp_path, Politeness(workers=2, pause=0.0, page_size=1000))
    assert rechtspraak_server.max_active == 2


def test_requests_are_paced(rechtspraak_server: RechtspraakServer, tmp_path: Path) -> None:
    for i in range(12):
        rechtspraak_server.add(ruling(f"ECLI:NL:CRVB:2019:{100 + i}", date(2019, 1, 10)))
    _fetch(tmp_path, Politeness(workers=2, pause=0.05, page_size=1000))
    arrivals = rechtspraak_server.arrivals
    assert len(arrivals) == 4 + 12  # two months x two fields of law, twelve documents
    # 0.05 s between starts: 15 gaps. Without the pause this takes a few milliseconds; the
    # slack allows for arrival jitter on a busy machine.
    assert arrivals[-1] - arrivals[0] >= 0.9 * 15 * 0.05


def test_throttle_spaces_starts_over_threads() -> None:
    slept: list[float] = []
    throttle = Throttle(0.2, sleep=slept.append)
    for _ in range(3):
        throttle.wait()
    # The first goes at once; the fake sleep does not advance the clock, so each later call
    # waits a further 0.2 s for its slot.
    assert len(slept) == 2 and slept[0] == pytest.approx(0.2, abs=0.01)
    assert slept[1] == pytest.approx(0.4, abs=0.01)


def _wmo(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "etl.cli", *args], cwd=ROOT, text=True,
                          capture_output=True, env={**os.environ, **env}, timeout=60)


def test_cli_fetches_and_refuses_bad_dates(rechtspraak_server: RechtspraakServer,
                                           tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    _five(rechtspraak_server)
    out = str(tmp_path)
    assert main(["fetch", "rechtspraak", "--from", "2019-01-01", "--to", "2019-02-28",
                 "--out", out]) == 0
    assert "rechtspraak: searched 2019-02-01_2019-02-28 (2/2)" in capsys.readouterr().err
    assert len(list((tmp_path / "rechtspraak" / "content").iterdir())) == 5

    for bad, message in ((["--from", "2019-02-30"], "--from: not a date"),
                         (["--from", "20190101"], "--from: not a date"),
                         (["--from", "2019-03-01", "--to", "2019-02-01"], "is before --from"),
                         (["--table", "86050NED"], "only for `wmo fetch cbs`")):
        assert main(["fetch", "rechtspraak", *bad, "--out", out]) == 2
        assert message in capsys.readouterr().err
    assert main(["fetch", "cbs", "--from", "2019-01-01", "--out", out]) == 2
    assert "only for `wmo fetch rechtspraak`" in capsys.readouterr().err


def test_cli_download_failure_is_exit_3_without_traceback(
        rechtspraak_server: RechtspraakServer, tmp_path: Path) -> None:
    _five(rechtspraak_server)
    rechtspraak_server.add_fault("/uitspraken/zoeken", status_fault(503, times=None))
    env = {"WMO_RECHTSPRAAK_URL": rechtspraak_server.url, "WMO_RECHTSPRAAK_PAUSE": "0",
           "WMO_HTTP_BACKOFF": "0.01", "WMO_HTTP_RETRIES": "1"}
    proc = _wmo("fetch", "rechtspraak", "--from", "2019-01-01", "--to", "2019-01-31",
                "--out", str(tmp_path), env=env)
    assert proc.returncode == 3 and "HTTP 503" in proc.stderr
    assert "previous snapshot was left intact" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "rechtspraak").exists()


def test_an_invalid_date_gives_invalid_xml_and_a_fetch_error_naming_the_url(
        rechtspraak_server: RechtspraakServer) -> None:
    """What the real service does with `date=2019-02-30`: a 200 with a body that is not XML."""
    from etl.sources.rechtspraak.fetch import RechtspraakClient, Throttle

    url = f"{rechtspraak_server.url}/uitspraken/zoeken?type=Uitspraak&date=2019-02-30"
    with RechtspraakClient(load_settings(), Throttle(0.0)) as client, \
            pytest.raises(FetchError, match="invalid XML") as caught:
        client.get_xml(url)
    assert "date=2019-02-30" in str(caught.value)
    assert rechtspraak_server.requests.count(url.removeprefix(rechtspraak_server.url)) == 4


def test_a_document_with_an_entity_declaration_is_refused(
        rechtspraak_server: RechtspraakServer, tmp_path: Path) -> None:
    _five(rechtspraak_server)
    rechtspraak_server.rulings["ECLI:NL:CRVB:2019:2"].body = (
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
        b"<open-rechtspraak>&b;</open-rechtspraak>")
    with pytest.raises(FetchError, match="refused"):
        _fetch(tmp_path)
    assert not (tmp_path / "rechtspraak").exists()


ATOM = ROOT / "tests" / "fixtures" / "rechtspraak" / "atom"  # real answers of the service


def test_the_real_atom_samples_parse() -> None:
    five = parse_feed((ATOM / "atom_search_five_entries.xml").read_bytes())
    assert five.total == 3199182  # "Aantal gevonden ECLI's:\n3199182": the count after a newline
    assert [e.ecli for e in five.entries] == [
        "ECLI:NL:RBARN:1998:AA1005", "ECLI:NL:RBLEE:1999:AA1049", "ECLI:NL:RBLEE:1999:AA1052",
        "ECLI:NL:RBSGR:1999:AA1074", "ECLI:NL:RBSGR:1999:AA1079"]
    assert five.entries[0].updated == "2013-04-04T15:31:27Z"
    assert normalise_updated(five.entries[0].updated) == "2013-04-04T15:31:27"
    assert all(wanted_court(e.ecli) for e in five.entries)
    none = parse_feed((ATOM / "atom_search_no_entries.xml").read_bytes())
    assert none.entries == [] and none.total == 3199182
    one = parse_feed((ATOM / "atom_search_one_entry.xml").read_bytes())
    assert [e.ecli for e in one.entries] == ["ECLI:NL:RVS:2000:AA5654"]
    assert not wanted_court(one.entries[0].ecli)  # Raad van State: not a Wmo court


def test_a_synthetic_snapshot_is_not_built_on(
        rechtspraak_server: RechtspraakServer, tmp_path: Path) -> None:
    from etl.sources.rechtspraak.demo import write_demo_rechtspraak
    from tests.rechtspraak_gemeente import core_gemeente

    eclis = _five(rechtspraak_server)
    write_demo_rechtspraak(tmp_path, core_gemeente(), seed=1)
    lines: list[str] = []
    folder = _fetch(tmp_path, progress=lines.append)
    sidecar = json.loads((folder / "_source.json").read_text(encoding="utf-8"))
    assert sidecar["synthetic"] is False
    assert sorted(p.name for p in (folder / "content").iterdir()) == sorted(
        e.replace(":", "_") + ".xml" for e in eclis)  # no demo document came along
    assert any("is synthetic; starting a new one" in line for line in lines)


def test_a_snapshot_from_another_server_is_not_built_on(
        rechtspraak_server: RechtspraakServer, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    _five(rechtspraak_server)
    _fetch(tmp_path)
    first = len(rechtspraak_server.content_requests())
    # The same server under another name: for the fetch, another source.
    monkeypatch.setenv("WMO_RECHTSPRAAK_URL", rechtspraak_server.url.replace("127.0.0.1",
                                                                             "localhost"))
    folder = _fetch(tmp_path, now=LATER)
    assert len(rechtspraak_server.content_requests()) - first == 5  # all fetched again
    assert not [s for s in rechtspraak_server.searches() if "modified" in s]
    sidecar = json.loads((folder / "_source.json").read_text(encoding="utf-8"))
    assert sidecar["url"].startswith("http://localhost:")


def test_two_fetches_into_one_folder_do_not_run_at_once(
        rechtspraak_server: RechtspraakServer, tmp_path: Path) -> None:
    from etl.errors import InputError
    from etl.sources.rechtspraak.fetch import exclusive

    _five(rechtspraak_server)
    with exclusive(tmp_path), pytest.raises(InputError, match="another `wmo fetch rechtspraak`"):
        _fetch(tmp_path)
    assert rechtspraak_server.requests == []
    _fetch(tmp_path)  # the lock is gone with the first holder
    assert len(rechtspraak_server.content_requests()) == 5
