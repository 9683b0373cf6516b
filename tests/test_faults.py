"""Fault tests: a build killed half-way, and CBS server faults seen through the real `wmo` CLI.

Everything is real: `wmo` runs as a child process, the database is a DuckDB file on disk and
CBS is the loopback server of tests/cbs_server.py. Timing assertions are lower bounds taken
from the server's own arrival log (a client that did not wait cannot pass them); upper bounds,
where there are any, are loose.
"""

from __future__ import annotations

import hashlib
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import duckdb
import pytest

from etl.settings import load_settings
from etl.sources.cbs.fetch import fetch_cbs_table
from tests.cbs_server import (
    CbsServer,
    Fault,
    rate_limited,
    sample_v3_rows,
    slow,
    stalled,
    status_fault,
    trickle,
    truncated,
)

REPO = Path(__file__).resolve().parents[1]
SNAPSHOT = os.environ.get("WMO_SNAPSHOT_DIR", str(REPO.parent / "shared" / "snapshot"))


def wmo(*args: str | Path) -> list[str]:
    # The interpreter running the tests, so the CLI uses the same venv whatever launched pytest.
    return [sys.executable, "-m", "etl.cli", *map(str, args)]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def files_of(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


# --- a build killed with SIGKILL ------------------------------------------------------------


@dataclass(frozen=True)
class DemoBuild:
    raw: Path
    db: Path
    rows: int  # rows in out.gemeente_periode, the same for every build of this raw folder


def db_summary(db: Path) -> tuple[int, bool]:
    """(rows in out.gemeente_periode, meta.build says synthetic); fails if the file is broken."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute("SELECT count(*) FROM out.gemeente_periode").fetchone()
        build = con.execute("SELECT count(*), bool_and(is_synthetisch) FROM meta.build").fetchone()
    finally:
        con.close()
    assert rows is not None and build is not None
    assert build[0] == 1, "meta.build must hold exactly one build record"
    return rows[0], bool(build[1])


@pytest.fixture(scope="module")
def demo_build(tmp_path_factory: pytest.TempPathFactory) -> DemoBuild:
    work = tmp_path_factory.mktemp("killed-build")
    raw, db = work / "raw", work / "previous.duckdb"
    subprocess.run(wmo("demo", "--out", raw, "--snapshot", SNAPSHOT), cwd=REPO, check=True,
                   capture_output=True)
    subprocess.run(wmo("build", "--raw", raw, "--db", db, "--snapshot", SNAPSHOT), cwd=REPO,
                   check=True, capture_output=True)
    rows, synthetic = db_summary(db)
    assert rows > 0 and synthetic
    return DemoBuild(raw, db, rows)


def wait_for_line(stream: object, wanted: str, timeout: float) -> list[str]:
    """Lines read until one matches the regex `wanted`; fails after `timeout` s or at the end
    of the output.

    A reader thread keeps a silent or hung child from hanging the test.
    """
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        for line in stream:  # type: ignore[attr-defined]
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while True:
        line = lines.get(timeout=max(deadline - time.monotonic(), 0.01))
        if line is None:
            pytest.fail(f"output ended before a line with {wanted!r}:\n{''.join(seen)}")
        seen.append(line)
        if re.search(wanted, line):
            return seen


@pytest.mark.slow
@pytest.mark.parametrize(("marker", "temp_left"), [
    (r"parsing 8\d{4}NED", False),   # parsing the Wmo tables, before anything is written
    (r"core\.wmo_clienten:", True),  # half-way through writing the new database
], ids=["while-parsing", "while-writing"])
def test_sigkill_mid_build_keeps_the_previous_database_and_the_next_build_succeeds(
        demo_build: DemoBuild, tmp_path: Path, marker: str, temp_left: bool) -> None:
    db = tmp_path / "wmo.duckdb"
    shutil.copy2(demo_build.db, db)
    before = sha256(db)
    build = wmo("build", "--raw", demo_build.raw, "--db", db, "--snapshot", SNAPSHOT)

    proc = subprocess.Popen(build, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)
    try:
        wait_for_line(proc.stderr, marker, timeout=120)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()  # no-op when already dead; never leave a build running after a failure
        proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the build finished before it could be killed"

    assert sha256(db) == before
    assert db_summary(db) == (demo_build.rows, True)
    strays = {p.name for p in tmp_path.iterdir()} - {db.name}
    # While writing, the half-written temp file of the killed process stays behind: the next
    # build has to cope with it (it is not named after the next build's pid).
    assert any(name.startswith(f"wmo.duckdb.tmp-{proc.pid}") for name in strays) == temp_left
    assert all(name.startswith("wmo.duckdb.tmp-") for name in strays), strays

    rerun = subprocess.run(build, cwd=REPO, capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert "done:" in rerun.stderr
    assert sha256(db) != before  # a new build was swapped in, not the old file kept
    assert db_summary(db) == (demo_build.rows, True)
    # The rerun removes what the killed build left and adds no stray files of its own.
    assert {p.name for p in tmp_path.iterdir()} - {db.name} == set()


# --- CBS server faults through `wmo fetch cbs` ----------------------------------------------

TID = "99999NED"  # not in etl/sources/cbs/tables.py, so the CLI fetches without a $filter
TIMEOUT = 2.0     # WMO_HTTP_TIMEOUT for the child: loopback answers in ms even on a busy box
RETRIES = 2       # WMO_HTTP_RETRIES: 3 attempts in all
RETRY_AFTER = 1   # seconds; the back-off is 0.01 s, so only Retry-After explains a 1 s pause
SERVER_DELAY = 6.0  # a slow server's delay, well past TIMEOUT
DEADLINE = 3.0      # WMO_HTTP_DEADLINE: the most one request may take in total
TRICKLE = 0.05      # seconds per byte: never idle for TIMEOUT, yet a page takes far too long


@dataclass(frozen=True)
class FaultKind:
    make: Callable[[int | None], Fault]  # times -> fault (None = every request)
    cause: str                           # regex the CLI's message must match
    min_gap: float                       # least pause between attempts the client must make
    times_out: bool = False              # the client gives up on its own timeout


FAULTS: dict[str, FaultKind] = {
    "slower-than-timeout": FaultKind(lambda n: slow(SERVER_DELAY, n),
                                     r"Read timed out|ReadTimeout", TIMEOUT, times_out=True),
    "stalls-mid-body": FaultKind(lambda n: stalled(SERVER_DELAY, n),
                                 r"Read timed out|ReadTimeout", TIMEOUT, times_out=True),
    "trickles-below-the-read-timeout": FaultKind(lambda n: trickle(TRICKLE, n),
                                                 r"no complete answer within 3 s", DEADLINE,
                                                 times_out=True),
    "dropped-mid-body": FaultKind(truncated, r"connection dropped mid-body", 0.0),
    "429-retry-after": FaultKind(lambda n: rate_limited(str(RETRY_AFTER), n),
                                 r"HTTP 429 Too Many Requests", RETRY_AFTER),
    "503-retry-after": FaultKind(
        lambda n: status_fault(503, n, {"Retry-After": str(RETRY_AFTER)}),
        r"HTTP 503 Service Unavailable", RETRY_AFTER),
}


def fetch_cli(server: CbsServer, out: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "WMO_CBS_V3_URL": server.v3_url, "WMO_HTTP_TIMEOUT": str(TIMEOUT),
           "WMO_HTTP_RETRIES": str(RETRIES), "WMO_HTTP_BACKOFF": "0.01",
           "WMO_HTTP_DEADLINE": str(DEADLINE),
           "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}
    return subprocess.run(wmo("fetch", "cbs", "--table", TID, "--out", out), cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=60)


def gaps(times: list[float]) -> list[float]:
    return [b - a for a, b in pairwise(times)]


def serve(server: CbsServer) -> tuple[dict[str, list[bytes]], str]:
    """A three-page table; returns what is served and the second data page's target."""
    served = server.serve_v3_table(TID, rows=sample_v3_rows(6), page_size=2)
    return served, server.data_target_v3(TID) + "&$skip=2"


@pytest.mark.parametrize("name", list(FAULTS))
def test_transient_fault_is_retried_and_the_fetch_succeeds(
        cbs_server: CbsServer, tmp_path: Path, name: str) -> None:
    kind = FAULTS[name]
    served, faulted = serve(cbs_server)
    cbs_server.add_faults(faulted, kind.make(1))

    result = fetch_cli(cbs_server, tmp_path / "raw")

    assert result.returncode == 0, result.stderr[-2000:]
    assert f"fetched {TID}" in result.stderr
    folder = tmp_path / "raw" / "cbs" / TID
    got = files_of(folder)
    got.pop("_source.json")
    assert got == {f"v3/{res}/page-{i:04d}.json": body
                   for res, bodies in served.items() for i, body in enumerate(bodies, start=1)}
    counts = Counter(cbs_server.requests)
    assert counts.pop(faulted) == 2  # one failure, one retry
    assert set(counts.values()) == {1}  # nothing else was fetched twice
    assert all(g >= kind.min_gap for g in gaps(cbs_server.hit_times(faulted)))


@pytest.mark.parametrize("name", [
    # Three timed-out attempts take over 6 s.
    pytest.param(n, marks=pytest.mark.slow) if FAULTS[n].times_out else n
    for n in FAULTS])
def test_persistent_fault_exits_3_naming_the_url_and_cause_and_keeps_the_snapshot(
        cbs_server: CbsServer, tmp_path: Path, name: str) -> None:
    kind = FAULTS[name]
    _, faulted = serve(cbs_server)
    out = tmp_path / "raw"
    folder = fetch_cbs_table(TID, "v3", out, load_settings(), data_filter="")
    before = files_of(folder)
    seen_before = len(cbs_server.requests)
    cbs_server.add_faults(faulted, kind.make(None))

    result = fetch_cli(cbs_server, out)

    assert result.returncode == 3, result.stderr[-2000:]
    message = result.stderr
    assert f"GET {cbs_server.v3_url}{faulted} failed after {RETRIES + 1} attempt(s)" in message
    assert TID in message
    assert re.search(kind.cause, message), message
    assert "previous snapshot was left intact" in message
    assert "Traceback" not in message

    assert files_of(folder) == before
    assert sorted(p.name for p in (out / "cbs").iterdir()) == [TID]  # no staging folder left

    requests = Counter(cbs_server.requests[seen_before:])
    assert requests.pop(faulted) == RETRIES + 1  # bounded: exactly the configured attempts
    assert set(requests.values()) == {1}
    assert cbs_server.data_target_v3(TID) + "&$skip=4" not in requests  # stopped at the fault
    pauses = gaps(cbs_server.hit_times(faulted)[-(RETRIES + 1):])
    assert len(pauses) == RETRIES
    assert all(p >= kind.min_gap for p in pauses), pauses
    if kind.times_out:  # it gave up on its own timeout instead of waiting for the server
        assert all(p < SERVER_DELAY for p in pauses), pauses
