"""Server side of the SQL console's sandbox: a bounded pool of one-job worker processes.

Why processes and not threads: an expression such as `levenshtein(repeat('a',150000), …)`
never checks DuckDB's interrupt flag, and a result such as `repeat('x', 300000000)` is built
before any limit sees it. Only an OS process can be killed at the wall time and capped in
memory without taking the server with it. Each job gets a fresh process, so nothing (memory,
temp objects, a half-finished result) carries over from one researcher to the next.

Why a warm pool: starting Python with duckdb, polars and pyarrow and opening the database
costs ~0.5 s of CPU (`sql_worker_start_ms` in bench). The pool keeps `warm_workers` started,
with the database open (but not yet locked: the job's own time limit is set first), idle; a
job takes one, and a replacement starts in the background once the job is done. Workers are
started with `subprocess` (fork + immediate exec), never a bare fork of the threaded
Streamlit server.

At most `concurrency` jobs run at once; an extra one waits `queue_wait_s` for a slot, then
gets the "busy" message. The limits come from `sql_limits` (environment overrides).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import os
import pickle
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa

from dashboard.fmt import integer as write_integer
from dashboard.fmt import seconds as write_seconds
from dashboard.sql_console import ConsoleError, ConsoleResult, Lang, message, scrub_paths
from dashboard.sql_limits import Limits, limits_from_env
from dashboard.sql_worker import CONFIG_ENV, EXPORT_FILE, RESULT_FILE, Job, JobKind

LOG = logging.getLogger("wmo.sql")
ROOT = Path(__file__).resolve().parents[1]
# Starting a worker is not the query's time, but it is bounded: a machine so loaded that
# Python cannot start in this time gets the "failed" message instead of a hung page.
START_TIMEOUT_S = 60.0
_LINE_LIMIT = 1 << 20  # a protocol line is small; a longer one is a broken worker


class Busy(Exception):
    pass


class Worker:
    """One started `python -m dashboard.sql_worker`, reading JSON lines from its stdout.

    The worker gets its limits, its private folder (mode 0700, removed by `kill`) and the
    database it should open in advance through the environment, so its OS limits are set
    before DuckDB starts and a job does not wait for the attach."""

    def __init__(self, limits: Limits | None = None, db_path: Path | None = None) -> None:
        self.job_dir = Path(tempfile.mkdtemp(prefix="wmo-sql-"))
        config = {"job_dir": str(self.job_dir)}
        if limits is not None:
            config |= {"limits": asdict(limits), "db": str(db_path) if db_path else ""}
        env = {**os.environ, "POLARS_MAX_THREADS": "1", "PYTHONPATH": str(ROOT),
               CONFIG_ENV: json.dumps(config)}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "dashboard.sql_worker"], cwd=ROOT, env=env,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=None, close_fds=True,
            start_new_session=True)  # a Ctrl-C meant for the server does not hit jobs
        self.pid = self.proc.pid
        self.started = time.monotonic()
        self._buffer = b""
        self.ready = False

    def alive(self) -> bool:
        return self.proc.poll() is None

    def read_event(self, deadline: float) -> dict[str, Any] | None:
        """The next event, or None at the deadline or when the worker closed its stdout."""
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            ready, _, _ = select.select([fd], [], [], remaining)
            if not ready:
                return None
            chunk = os.read(fd, 65536)
            if not chunk:
                return None
            self._buffer += chunk
            if len(self._buffer) > _LINE_LIMIT:
                raise RuntimeError("worker sent an over-long protocol line")
        line, _, self._buffer = self._buffer.partition(b"\n")
        event = json.loads(line)
        if not isinstance(event, dict):
            raise RuntimeError("worker sent a non-object event")
        return event

    def wait_ready(self, deadline: float) -> bool:
        if not self.ready:
            event = self.read_event(deadline)
            self.ready = event is not None and event.get("event") == "ready"
        return self.ready

    def send(self, job: Job) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(pickle.dumps(job))
        self.proc.stdin.close()  # one job per worker: EOF tells it there is nothing more

    def signal_kill(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signal.SIGKILL)  # its own session: any helper dies too

    def kill(self) -> None:
        """SIGKILL, reap and remove its folder: after this the pid no longer exists."""
        self.signal_kill()
        self.reap()
        shutil.rmtree(self.job_dir, ignore_errors=True)

    def reap(self, timeout: float | None = None) -> int | None:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None
        finally:
            for stream in (self.proc.stdin, self.proc.stdout):
                if stream is not None and not stream.closed:
                    with contextlib.suppress(OSError):
                        stream.close()


@dataclass
class Outcome:
    """What one job produced, as the server saw it."""

    events: list[dict[str, Any]] = field(default_factory=list)
    killed: bool = False  # the wall time ran out and the worker was killed
    crashed: bool = False  # the worker ended without a result or a message
    pid: int | None = None
    elapsed_ms: float = 0.0

    def first(self, name: str) -> dict[str, Any] | None:
        return next((e for e in self.events if e.get("event") == name), None)


class Pool:
    """The console's workers: at most `concurrency` jobs at once, `warm_workers` kept idle."""

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or limits_from_env()
        self._slots = threading.BoundedSemaphore(self.limits.concurrency)
        self._lock = threading.Lock()
        self._idle: list[Worker] = []
        self._starting = 0
        self._closed = False
        self._db_path: Path | None = None  # the file new workers open in advance
        self.spawned = 0  # workers started so far (for tests and the benchmark)

    # --- workers ---------------------------------------------------------------------------

    def prewarm(self, db_path: Path | None = None) -> None:
        """Start idle workers in the background until `warm_workers` are there or starting;
        with `db_path`, they open that database in advance."""
        with self._lock:
            if db_path is not None:
                self._db_path = db_path
            if self._closed:
                return
            self._idle = [w for w in self._idle if w.alive()]
            missing = self.limits.warm_workers - len(self._idle) - self._starting
            self._starting += max(missing, 0)
        for _ in range(max(missing, 0)):
            threading.Thread(target=self._start_idle, name="wmo-sql-prewarm",
                             daemon=True).start()

    def _start_idle(self) -> None:
        try:
            worker = self._spawn()
        except OSError:
            LOG.exception("could not start an SQL console worker")
            with self._lock:
                self._starting -= 1
            return
        with self._lock:
            self._starting -= 1
            if self._closed:
                worker.kill()
                return
            self._idle.append(worker)

    def _spawn(self) -> Worker:
        worker = Worker(self.limits, self._db_path)
        with self._lock:
            self.spawned += 1
        return worker

    def _take(self, db_path: Path) -> Worker:
        with self._lock:
            self._db_path = db_path
            while self._idle:
                worker = self._idle.pop(0)
                if worker.alive():
                    break
                worker.reap()
            else:
                worker = None
        if worker is None:
            worker = self._spawn()
        return worker

    def wait_warm(self, db_path: Path | None = None,
                  timeout_s: float = START_TIMEOUT_S) -> bool:
        """Block until an idle worker has finished its imports: for benchmarks and tests that
        time a query the way a visitor meets it (the warm worker started while they typed).
        Not for the page: it reads the worker's first event, which `run` would otherwise do."""
        deadline = time.monotonic() + timeout_s
        self.prewarm(db_path)
        while time.monotonic() < deadline:
            with self._lock:
                worker = self._idle[0] if self._idle else None
            if worker is not None:
                return worker.wait_ready(deadline)
            time.sleep(0.005)
        return False

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.kill()

    # --- one job ---------------------------------------------------------------------------

    def run(self, db_path: Path, job_for: Callable[[Path], Job], timeout_s: float) -> Outcome:
        """Run the job made by `job_for(job_dir)` in a fresh worker; Busy when no slot."""
        if not self._slots.acquire(timeout=self.limits.queue_wait_s):
            raise Busy
        outcome = Outcome()
        worker: Worker | None = None
        try:
            worker = self._take(db_path)
            outcome.pid = worker.pid
            if not worker.wait_ready(time.monotonic() + START_TIMEOUT_S):
                outcome.crashed = True
                return outcome
            job: Job = job_for(worker.job_dir)
            started = time.monotonic()
            worker.send(job)
            deadline = started + timeout_s
            while True:
                event = worker.read_event(deadline)
                if event is None:
                    if time.monotonic() >= deadline:
                        outcome.killed = True
                    else:
                        outcome.crashed = True  # ended without "done" or "error"
                    break
                outcome.events.append(event)
                if event.get("event") in ("done", "error"):
                    break
            outcome.elapsed_ms = (time.monotonic() - started) * 1000
            self._collect(outcome, worker.job_dir)
            return outcome
        except Exception:  # whatever went wrong here, the page gets a message, not a trace
            LOG.exception("SQL console worker %s failed", outcome.pid)
            outcome.crashed = True
            return outcome
        finally:
            if worker is not None:
                if outcome.killed:
                    LOG.warning("SQL console worker %s killed after %.1f s", worker.pid,
                                timeout_s)
                if outcome.first("done") is not None and not outcome.killed:
                    # Finished cleanly: it is exiting anyway; waiting for a process with a
                    # few hundred MB mapped to go is not the visitor's time.
                    worker.signal_kill()
                    threading.Thread(target=worker.kill, name="wmo-sql-reap",
                                     daemon=True).start()
                else:
                    worker.kill()  # killed or failed: gone before the message is shown
            self._slots.release()
            # The replacement starts after the job, not during it: its imports (about 0.5 s
            # of CPU) would otherwise compete with the query on a small machine.
            self.prewarm()

    def _collect(self, outcome: Outcome, job_dir: Path) -> None:
        # Only files named in an event are read: those were complete before the event.
        for event in outcome.events:
            name = event.get("file")
            if name in (RESULT_FILE, EXPORT_FILE):
                path = job_dir / name
                if path.stat().st_size > self.limits.file_bytes:  # RLIMIT_FSIZE forbids it
                    raise RuntimeError(f"worker file of {path.stat().st_size} bytes")
                event["bytes"] = path.read_bytes()

    # --- the console's three jobs -----------------------------------------------------------

    def _job(self, kind: JobKind, db_path: Path, sql: str, lang: Lang,
             **extra: Any) -> Callable[[Path], Job]:
        """The job, once the worker (and so its folder) is known."""
        return lambda job_dir: Job(kind=kind, db_path=str(db_path), sql=sql, lang=lang,
                                   limits=self.limits, job_dir=str(job_dir), **extra)

    def failure(self, outcome: Outcome, timeout_s: float, lang: Lang) -> str | None:
        """The message for a job without a result; None when it has one."""
        if outcome.killed:
            return message("killed", lang, seconds=write_seconds(timeout_s, lang))
        error = outcome.first("error")
        if error is not None:
            return scrub_paths(str(error.get("message", "")))
        if outcome.crashed:
            return message("worker_failed", lang, mb=write_integer(self.limits.memory_mb, lang))
        return None

    def query(self, db_path: Path, sql: str, lang: Lang = "nl",
              max_rows: int | None = None) -> ConsoleResult:
        rows = max_rows if max_rows is not None else self.limits.max_rows
        timeout_s = self.limits.timeout_s
        started = time.perf_counter()
        try:
            outcome = self.run(db_path, self._job("query", db_path, sql, lang, max_rows=rows),
                               timeout_s)
        except Busy:
            return _failed(message("busy", lang, n=self.limits.concurrency), started)
        result = outcome.first("rows")
        failure = self.failure(outcome, timeout_s, lang) if result is None else None
        if result is None:
            failed = message("worker_failed", lang, mb=write_integer(self.limits.memory_mb, lang))
            return _failed(failure or failed, started, outcome.pid)
        try:
            frame = _frame(result["bytes"])
        except Exception:  # a type the worker let through but polars cannot hold
            LOG.exception("SQL console result could not be read")
            return _failed(message("query", lang), started, outcome.pid)
        validated = outcome.first("validated") or {}
        count = outcome.first("count")
        truncated = bool(result.get("truncated"))
        total = (count.get("total") if count else None) if truncated else frame.height
        return ConsoleResult(
            frame=frame, total_rows=total, truncated=truncated,
            elapsed_ms=(time.perf_counter() - started) * 1000, error=None,
            sql=str(validated.get("sql", sql)), converted=tuple(result.get("converted", ())),
            redacted_cells=int(result.get("redacted", 0)), worker_pid=outcome.pid)

    def _export(self, db_path: Path, sql: str, fmt: str, context: Any, lang: Lang) -> bytes:
        timeout_s = self.limits.download_timeout_s
        try:
            outcome = self.run(db_path, self._job("export", db_path, sql, lang, fmt=fmt,
                                                  context=context), timeout_s)
        except Busy:
            raise ConsoleError(message("busy", lang, n=self.limits.concurrency)) from None
        result = outcome.first("file")
        if result is None:
            failed = message("worker_failed", lang, mb=write_integer(self.limits.memory_mb, lang))
            raise ConsoleError(self.failure(outcome, timeout_s, lang) or failed)
        return result["bytes"]

    def full_frame(self, db_path: Path, sql: str, lang: Lang = "nl") -> pl.DataFrame:
        return _frame(self._export(db_path, sql, "arrow", None, lang))

    def export(self, db_path: Path, sql: str, fmt: str, context: Any,
               lang: Lang = "nl") -> bytes:
        if fmt not in ("csv", "parquet"):
            raise ValueError(f"unknown export format {fmt!r}")
        return self._export(db_path, sql, fmt, context, lang)


def _frame(data: bytes) -> pl.DataFrame:
    table = pa.ipc.open_file(pa.BufferReader(data)).read_all()
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    return frame


def _failed(error: str, started: float, pid: int | None = None) -> ConsoleResult:
    return ConsoleResult(frame=pl.DataFrame(), total_rows=None, truncated=False,
                         elapsed_ms=(time.perf_counter() - started) * 1000, error=error,
                         worker_pid=pid)


_default: Pool | None = None
_default_lock = threading.Lock()


def default_pool() -> Pool:
    """The server's pool, made on first use with the limits from the environment."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Pool()
            atexit.register(_default.close)  # idle workers go with the server
        return _default

