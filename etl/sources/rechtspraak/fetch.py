"""`wmo fetch rechtspraak`: search Rechtspraak Open Data and download every hit's document.

Layout (docs/rechtspraak.md, docs/design.md):

    <raw>/rechtspraak/
      _source.json                       sidecar
      index.json                         per ECLI: feed `updated` and file; searched windows
      zoeken/<run>/<van>_<tot>/<rechtsgebied>/page-0001.xml   Atom pages as delivered
      content/ECLI_NL_CRVB_2019_982.xml  content documents as delivered

The work happens in `<raw>/rechtspraak.partial/`, which survives a failure: the next run with
the same request resumes from it (pages and documents on disk are not fetched again). Only a
complete fetch is swapped in, so a failure leaves the previous snapshot as it was.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from etl.errors import FetchError, InputError, display_path
from etl.settings import Settings
from etl.snapshot import read_sidecar, swap_in, write_sidecar
from etl.sources.cbs.client import BodyRejected, CbsClient
from etl.sources.rechtspraak.parse import XmlRejected, ecli_filename, is_ecli, parse_feed, parse_xml

Progress = Callable[[str], None]

FOLDER = "rechtspraak"
SOURCE_ID = "rechtspraak"
TITLE = "Rechtspraak Open Data: gepubliceerde uitspraken (CRvB en rechtbanken, bestuursrecht)"
PRODUCER = "Raad voor de Rechtspraak"
# The Rechtspraak open-data terms: free re-use, no licence key; named here for the sidecar.
LICENCE = "Rechtspraak Open Data: vrij herbruikbaar (zie rechtspraak.nl, Open Data)"
FORMAT = "rechtspraak-open-data"
INDEX = "index.json"
STATE = "_fetch.json"     # in the partial folder only: which request it belongs to
LOG = "_voortgang.jsonl"  # in the partial folder only: documents done, one JSON line each

WMO_2015_START = date(2015, 1, 1)
MAX_PAGE = 1000  # the service's maximum for `max`
OWMS = "http://standaarden.overheid.nl/owms/terms/"
CREATORS = tuple(OWMS + name for name in (
    "Centrale_Raad_van_Beroep",
    "Rechtbank_Amsterdam", "Rechtbank_Den_Haag", "Rechtbank_Gelderland", "Rechtbank_Limburg",
    "Rechtbank_Midden-Nederland", "Rechtbank_Noord-Holland", "Rechtbank_Noord-Nederland",
    "Rechtbank_Oost-Brabant", "Rechtbank_Overijssel", "Rechtbank_Rotterdam",
    "Rechtbank_Zeeland-West-Brabant",
))
# Wmo cases are filed under both (sources-next.md §3); one search per field of law.
SUBJECTS = {
    "bestuursrecht": "http://psi.rechtspraak.nl/rechtsgebied#bestuursrecht",
    "socialezekerheidsrecht": "http://psi.rechtspraak.nl/rechtsgebied#bestuursrecht_socialezekerheidsrecht",
}
# A page asked for "modified since T" goes back this much further: clocks and publication
# pipelines differ, and asking for a little too much costs only a feed page.
MODIFIED_MARGIN = timedelta(days=1)


def _env_number(name: str, default: float, *, minimum: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be a number, got {raw!r}") from exc
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum:g}, got {raw!r}")
    return value


@dataclass(frozen=True)
class Politeness:
    """How hard we press the service: `workers` requests at once, at least `pause` seconds
    between the starts of two requests, `page_size` entries per search page."""

    workers: int = 2
    pause: float = 0.5
    page_size: int = MAX_PAGE

    @classmethod
    def from_env(cls) -> Politeness:
        return cls(
            workers=int(_env_number("WMO_RECHTSPRAAK_WORKERS", 2, minimum=1)),
            pause=_env_number("WMO_RECHTSPRAAK_PAUSE", 0.5, minimum=0),
            page_size=min(MAX_PAGE, int(_env_number("WMO_RECHTSPRAAK_MAX", MAX_PAGE, minimum=1))),
        )


class Throttle:
    """At least `pause` seconds between the starts of two requests, over all threads."""

    def __init__(self, pause: float, sleep: Callable[[float], None] = time.sleep) -> None:
        self.pause = pause
        self._next = 0.0
        self._lock = threading.Lock()
        self._sleep = sleep

    def wait(self) -> None:
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next)
            self._next = start + self.pause
        if start > now:
            self._sleep(start - now)


class RechtspraakClient(CbsClient):
    """The CBS client's retries, back-off and deadline, for XML: a body counts as received
    only when it is well-formed XML (a cut-off body is retried like a timeout)."""

    def __init__(self, settings: Settings, throttle: Throttle, **kwargs: Any) -> None:
        super().__init__(settings, **kwargs)
        self._throttle = throttle
        self._session.headers["Accept"] = "application/atom+xml, application/xml;q=0.9"

    def before_request(self) -> None:
        self._throttle.wait()

    def get_xml(self, url: str, *, missing_ok: bool = False) -> bytes | None:
        """Body as delivered; None for a 404 when `missing_ok`; FetchError when it fails."""
        def accept(body: bytes) -> bytes:
            try:
                parse_xml(body)
            except XmlRejected as exc:
                # The service answers an invalid date with invalid XML; a cut body looks the
                # same. Retry, then name the URL.
                raise BodyRejected(f"{exc} ({len(body)} bytes)") from exc
            return body

        return self.get_accepted(url, accept, missing_ok=missing_ok)


# --- the request ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    van: date
    tot: date  # inclusive

    @property
    def key(self) -> str:
        return f"{self.van.isoformat()}_{self.tot.isoformat()}"


def month_windows(van: date, tot: date) -> list[Window]:
    """Calendar-month windows covering van..tot (inclusive), cut at both ends."""
    if tot < van:
        raise ValueError(f"--to {tot} is before --from {van}")
    windows = []
    start = van
    while start <= tot:
        first_next = date(start.year + start.month // 12, start.month % 12 + 1, 1)
        end = min(tot, first_next - timedelta(days=1))
        windows.append(Window(start, end))
        start = end + timedelta(days=1)
    return windows


def stamp(moment: datetime) -> str:
    """UTC time without fraction: what `modified` takes and what the sidecar records."""
    return moment.astimezone(UTC).replace(microsecond=0, tzinfo=None).isoformat()


def search_params(window: Window, subject: str, offset: int, page_size: int,
                  modified: tuple[str, str] | None = None) -> list[tuple[str, str]]:
    """Query of one search page. A list of pairs: `creator` and `date` repeat (OR and range)."""
    params: list[tuple[str, str]] = [("type", "Uitspraak")]
    params += [("creator", uri) for uri in CREATORS]
    params += [("subject", subject), ("date", window.van.isoformat()),
               ("date", window.tot.isoformat())]
    if modified is not None:
        params += [("modified", modified[0]), ("modified", modified[1])]
    params += [("return", "DOC"), ("max", str(page_size)), ("from", str(offset))]
    return params


def search_url(base: str, params: Iterable[tuple[str, str]]) -> str:
    return f"{base}/uitspraken/zoeken?{urlencode(list(params))}"


def content_url(base: str, ecli: str) -> str:
    return f"{base}/uitspraken/content?{urlencode([('id', ecli)])}"


def wanted_court(ecli: str) -> bool:
    """CRvB or a rechtbank, from the ECLI's court code: the service may ignore `creator`."""
    court = ecli.split(":")[2] if ecli.count(":") == 4 else ""
    return court == "CRVB" or court.startswith("RB")


def normalise_updated(value: str) -> str:
    """`updated` as a comparable UTC text ('' when unreadable: then we fetch, to be safe)."""
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return stamp(moment)


# --- files ----------------------------------------------------------------------------------


def _write_atomic(path: Path, body: bytes) -> None:
    """A file is there completely or not at all: resume trusts every file it finds."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(body)
    os.replace(tmp, path)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _link_or_copy(src: Path, dst: Path) -> None:
    """Carry a file of the previous snapshot over: a hard link costs nothing, and nothing is
    ever written in place (_write_atomic replaces the link), so the old snapshot cannot change."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _carry_over(previous: Path, partial: Path) -> None:
    for src in sorted(previous.rglob("*")):
        rel = src.relative_to(previous)
        if src.is_file() and rel.parts[0] in ("zoeken", "content"):
            _link_or_copy(src, partial / rel)


def _open_partial(previous: Path | None, partial: Path, request: dict[str, Any],
                  progress: Progress) -> dict[str, Any]:
    """The partial folder for `request`: resumed when it was started for the same request,
    otherwise (re)created from the `previous` snapshot (None: empty). Returns its state."""
    state = _read_json(partial / STATE) if partial.is_dir() else {}
    if state and state.get("request") == request:
        progress(f"rechtspraak: resuming the interrupted fetch of run {state['run']}")
        return state
    if partial.exists():
        progress("rechtspraak: discarding an interrupted fetch of another request")
        shutil.rmtree(partial)
    partial.mkdir(parents=True)
    if previous is not None:
        _carry_over(previous, partial)
    state = {"request": request, "run": request["started"].replace(":", "")}
    (partial / STATE).write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")
    return state


def _read_log(partial: Path) -> dict[str, dict[str, Any]]:
    done: dict[str, dict[str, Any]] = {}
    path = partial / LOG
    if not path.exists():
        return done
    for line in path.read_text(encoding="utf-8").splitlines():
        with contextlib.suppress(ValueError):
            item = json.loads(line)
            if isinstance(item, dict) and isinstance(item.get("ecli"), str):
                done[item["ecli"]] = item
    return done


# --- the fetch ------------------------------------------------------------------------------


@dataclass
class _Run:
    base: str
    partial: Path
    run: str
    politeness: Politeness
    progress: Progress
    client: Callable[[], RechtspraakClient]


def _search(run: _Run, client: RechtspraakClient, window: Window, slug: str, subject: str,
            modified: tuple[str, str] | None) -> tuple[dict[str, str], dict[str, Any]]:
    """All entries of one window and field of law: {ecli: updated}, and what was searched."""
    folder = run.partial / "zoeken" / run.run / window.key / slug
    size = run.politeness.page_size
    hits: dict[str, str] = {}
    offset, number, total = 0, 0, None
    while True:
        number += 1
        path = folder / f"page-{number:04d}.xml"
        url = search_url(run.base, search_params(window, subject, offset, size, modified))
        if path.exists():
            body = path.read_bytes()  # fetched before an interruption
        else:
            fetched = client.get_xml(url)
            assert fetched is not None  # missing_ok is False
            body = fetched
            _write_atomic(path, body)
        try:
            page = parse_feed(body)
        except XmlRejected as exc:
            raise FetchError(f"GET {url}: {exc}") from exc
        total = page.total if page.total is not None else total
        for entry in page.entries:
            if is_ecli(entry.ecli) and wanted_court(entry.ecli):
                updated = normalise_updated(entry.updated)
                hits[entry.ecli] = max(hits.get(entry.ecli, ""), updated)
        offset += len(page.entries)
        if len(page.entries) < size or (total is not None and offset >= total):
            break
    return hits, {"paginas": number, "totaal": total,
                  "modified_sinds": modified[0] if modified else None}


def _fetch_documents(run: _Run, todo: list[tuple[str, str]],
                     done: dict[str, dict[str, Any]]) -> None:
    """Content documents for `todo` [(ecli, updated)], `workers` at a time; each one done is
    logged at once, so an interrupted run resumes after the last complete document."""
    lock = threading.Lock()
    local = threading.local()
    clients: list[RechtspraakClient] = []
    counter = {"n": 0}
    step = max(1, min(100, len(todo) // 20))

    # Set by the first failure: queued documents are then skipped instead of fetched, so a
    # failing run stops at once (and resume has less to check).
    stop = threading.Event()

    def one(ecli: str, updated: str) -> None:
        if stop.is_set():
            return
        try:
            fetch_one(ecli, updated)
        except BaseException:
            stop.set()
            raise

    def fetch_one(ecli: str, updated: str) -> None:
        client = getattr(local, "client", None)
        if client is None:
            client = local.client = run.client()
            with lock:
                clients.append(client)
        body = client.get_xml(content_url(run.base, ecli), missing_ok=True)
        item: dict[str, Any] = {"ecli": ecli, "updated": updated}
        if body is None:
            item["status"] = 404
        else:
            _write_atomic(run.partial / "content" / ecli_filename(ecli), body)
            item["bestand"] = f"content/{ecli_filename(ecli)}"
        with lock:
            with (run.partial / LOG).open("a", encoding="utf-8") as log:
                log.write(json.dumps(item) + "\n")
            done[ecli] = item
            counter["n"] += 1
            if counter["n"] % step == 0 or counter["n"] == len(todo):
                run.progress(f"rechtspraak: {counter['n']}/{len(todo)} documents")

    pool = ThreadPoolExecutor(max_workers=run.politeness.workers)
    try:
        futures = [pool.submit(one, ecli, updated) for ecli, updated in todo]
        finished, _ = wait(futures, return_when=FIRST_EXCEPTION)
        for future in finished:
            error = future.exception()
            if error is not None:
                raise error
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        for client in clients:
            client.close()


@contextlib.contextmanager
def exclusive(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on `folder` (the raw folder): two fetches would share one
    partial folder and corrupt each other's resume state."""
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise InputError(display_path(folder), None, None,
                             "another `wmo fetch rechtspraak` is writing into this folder; "
                             "wait for it to finish") from None
        yield
    finally:
        os.close(fd)  # closing releases the lock


def fetch_rechtspraak(
    out_root: Path,
    settings: Settings,
    *,
    van: date = WMO_2015_START,
    tot: date | None = None,
    politeness: Politeness | None = None,
    progress: Progress | None = None,
    now: datetime | None = None,
) -> Path:
    """Search van..tot, download new or modified documents, swap in `<out_root>/rechtspraak/`.

    A later run over an existing snapshot asks the service only for what was modified since
    the window was last searched, and whatever the service answers, downloads a document only
    when it is missing or its feed `updated` is newer than the one recorded in index.json.
    """
    with exclusive(Path(out_root)):
        return _fetch_locked(Path(out_root), settings, van, tot, politeness, progress, now)


def _fetch_locked(out_root: Path, settings: Settings, van: date, tot: date | None,
                  politeness: Politeness | None, progress: Progress | None,
                  now: datetime | None) -> Path:
    moment = now or datetime.now(UTC)
    tot = tot or moment.date()
    windows = month_windows(van, tot)
    polite = politeness or Politeness.from_env()
    say = progress or (lambda _msg: None)
    dest = Path(out_root) / FOLDER
    partial = dest.with_name(FOLDER + ".partial")
    request = {"base_url": settings.rechtspraak_url, "van": van.isoformat(),
               "tot": tot.isoformat(), "started": stamp(moment)}
    old = read_sidecar(dest) if dest.is_dir() else None
    search = f"{settings.rechtspraak_url}/uitspraken/zoeken"
    # Build on the previous snapshot only when it came from this service: a demo snapshot or
    # one from another server (a mirror, a test server) must not leak into this one.
    builds_on = old is not None and not old.get("synthetic") and old.get("url") == search
    if old is not None and not builds_on:
        what = "synthetic" if old.get("synthetic") else f"from {old.get('url')}"
        say(f"rechtspraak: the snapshot in {display_path(dest)} is {what}; starting a new one "
            "(it is replaced only when this fetch completes)")
    previous = _read_json(dest / INDEX) if builds_on else {}
    # A resumed run keeps its own start time; compare requests without it.
    old_state = _read_json(partial / STATE) if partial.is_dir() else {}
    if old_state.get("request", {}) | {"started": request["started"]} == request:
        request = old_state["request"]
    state = _open_partial(dest if builds_on else None, partial, request, say)
    throttle = Throttle(polite.pause)
    run = _Run(settings.rechtspraak_url, partial, state["run"], polite, say,
               lambda: RechtspraakClient(settings, throttle))

    searched: dict[str, Any] = dict(previous.get("zoekvensters", {}))
    hits: dict[str, str] = {}
    # Searches run one after another (each page needs the count of the one before).
    with run.client() as client:
        for number, window in enumerate(windows, start=1):
            for slug, subject in SUBJECTS.items():
                key = f"{window.key}/{slug}"
                before = searched.get(key, {}).get("opgehaald_op")
                modified = None
                if before:
                    since = datetime.fromisoformat(before).replace(tzinfo=UTC) - MODIFIED_MARGIN
                    modified = (stamp(since), request["started"])
                found, info = _search(run, client, window, slug, subject, modified)
                for ecli, updated in found.items():
                    hits[ecli] = max(hits.get(ecli, ""), updated)
                searched[key] = {"opgehaald_op": request["started"], "run": state["run"],
                                 **info}
            say(f"rechtspraak: searched {window.key} ({number}/{len(windows)}), "
                f"{len(hits)} rulings so far")

    documents: dict[str, Any] = dict(previous.get("documenten", {}))
    missing: dict[str, Any] = dict(previous.get("ontbrekend", {}))
    done = _read_log(partial)
    todo = []
    for ecli, updated in sorted(hits.items()):
        if ecli in done and done[ecli]["updated"] >= updated and updated:
            continue  # fetched by the interrupted run this one resumes
        known = documents.get(ecli)
        on_disk = (partial / "content" / ecli_filename(ecli)).exists()
        if known and on_disk and updated and known.get("updated", "") >= updated:
            continue  # unchanged since the previous snapshot
        todo.append((ecli, updated))
    say(f"rechtspraak: {len(hits)} rulings found, {len(todo)} documents to fetch "
        f"({len(done)} already fetched by an interrupted run)")
    _fetch_documents(run, todo, done)

    for ecli, item in done.items():
        if item.get("status") == 404:
            missing[ecli] = {"updated": item["updated"], "status": 404}
            documents.pop(ecli, None)
            (partial / "content" / ecli_filename(ecli)).unlink(missing_ok=True)
        else:
            documents[ecli] = {"updated": item["updated"], "bestand": item["bestand"]}
            missing.pop(ecli, None)
    if missing:
        say(f"rechtspraak: {len(missing)} found ECLI(s) have no document (404), listed in "
            f"{INDEX}")
    coverage = sorted({*previous.get("periodes", []), f"{van.isoformat()}_{tot.isoformat()}"})
    index = {"documenten": dict(sorted(documents.items())),
             "ontbrekend": dict(sorted(missing.items())),
             "zoekvensters": dict(sorted(searched.items())), "periodes": coverage}
    (partial / INDEX).write_text(json.dumps(index, indent=1, ensure_ascii=False) + "\n",
                                 encoding="utf-8")
    (partial / STATE).unlink()
    (partial / LOG).unlink(missing_ok=True)
    write_sidecar(partial, {
        "source_id": SOURCE_ID, "title": TITLE, "producer": PRODUCER,
        "url": search, "licence": LICENCE,
        "format": FORMAT, "synthetic": False, "periodes": coverage,
        "documenten": len(documents), "ontbrekend": len(missing),
        "laatste_run": {"run": state["run"], "van": van.isoformat(), "tot": tot.isoformat(),
                        "nieuw_of_gewijzigd": len(done),
                        "vorige_opgehaald_op": old.get("retrieved_at") if builds_on else None},
    })
    swap_in(partial, dest)
    return dest
