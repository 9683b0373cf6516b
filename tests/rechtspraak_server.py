"""A loopback HTTP server that answers like Rechtspraak Open Data, for tests.

It holds rulings and answers `/uitspraken/zoeken` by applying the filters the client sends
(`type`, repeated `creator`, `subject`, `date` once or twice, `modified` twice, `max`, `from`)
as an Atom feed with the count in the subtitle, exactly in the shape of the real samples in
../shared/research-samples/rechtspraak/, and `/uitspraken/content?id=ECLI` with the stored
document (404 for an unknown ECLI). Like the real service, an unreadable date gives invalid
XML instead of an error. `ignore_filters = True` makes it answer every search with all
rulings (one source says the real service does).

    def test_x(rechtspraak_server):
        rechtspraak_server.add(ruling("ECLI:NL:CRVB:2019:982", date(2019, 3, 20)))
        rechtspraak_server.add_fault(content_target("ECLI:NL:CRVB:2019:982"), status_fault(503))
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qsl, urlencode, urlsplit
from xml.sax.saxutils import escape

import pytest

from tests.cbs_server import Fault, _HttpServer

CRVB = "http://standaarden.overheid.nl/owms/terms/Centrale_Raad_van_Beroep"
RBDHA = "http://standaarden.overheid.nl/owms/terms/Rechtbank_Den_Haag"
RVS = "http://standaarden.overheid.nl/owms/terms/Raad_van_State"
SZR = "http://psi.rechtspraak.nl/rechtsgebied#bestuursrecht_socialezekerheidsrecht"
BESTUUR = "http://psi.rechtspraak.nl/rechtsgebied#bestuursrecht"
ATOM_TYPE = "application/atom+xml; charset=utf-8"
XML_TYPE = "application/xml; charset=utf-8"
NAMES = {CRVB: "Centrale Raad van Beroep", RBDHA: "Rechtbank Den Haag", RVS: "Raad van State"}


def invalid_xml(times: int | None = 1) -> Fault:
    """A 200 whose body is cut in half: not well-formed XML."""
    return Fault("cut", times=times)


def content_target(ecli: str) -> str:
    return "/uitspraken/content?" + urlencode([("id", ecli)])


def content_xml(ecli: str, datum: date, *, creator: str = CRVB, subject: str = SZR,
                inhoudsindicatie: str = "Wmo 2015. Maatwerkvoorziening.",
                paragraphs: tuple[str, ...] | None = None, zaaknummer: str = "19/1 WMO15",
                procedure: str = "Hoger beroep", modified: str = "2020-01-01T10:00:00") -> bytes:
    """A content document in the real `open-rechtspraak` shape (see the GHAMS sample)."""
    name = NAMES.get(creator, creator.rsplit("/", 1)[-1].replace("_", " "))
    paras = paragraphs if paragraphs is not None else (
        "Partijen:", "[appellante] te [woonplaats] (appellante)",
        "het college van burgemeester en wethouders van Utrecht (college)",
        "BESLISSING", "De Centrale Raad van Beroep bevestigt de aangevallen uitspraak.")
    body = "".join(f"<para>{escape(p)}</para>" for p in paras)
    uitspraak = (f'<uitspraak id="{ecli}:DOC" lang="nl" xml:space="preserve" '
                 f'xmlns="http://www.rechtspraak.nl/schema/rechtspraak-1.0">{body}</uitspraak>'
                 if paras else "")
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<open-rechtspraak>\n'
        '  <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        'xmlns:dcterms="http://purl.org/dc/terms/" xmlns:psi="http://psi.rechtspraak.nl/" '
        'xmlns:ecli="https://e-justice.europa.eu/ecli" '
        'xmlns:rdfs="http://www.w3.org/2000/01/rdf-schema#">\n'
        f"    <rdf:Description><dcterms:identifier>{ecli}</dcterms:identifier>"
        f"<dcterms:modified>{modified}</dcterms:modified>"
        f'<dcterms:issued rdfs:label="Publicatiedatum">{datum.isoformat()}</dcterms:issued>'
        f'<dcterms:creator rdfs:label="Instantie" resourceIdentifier="{creator}">{name}'
        "</dcterms:creator>"
        f'<dcterms:date rdfs:label="Uitspraakdatum">{datum.isoformat()}</dcterms:date>'
        f'<psi:zaaknummer rdfs:label="Zaaknr">{escape(zaaknummer)}</psi:zaaknummer>'
        '<dcterms:type resourceIdentifier="http://psi.rechtspraak.nl/uitspraak">Uitspraak'
        "</dcterms:type>"
        f'<psi:procedure rdfs:label="Procedure">{escape(procedure)}</psi:procedure>'
        f'<dcterms:subject rdfs:label="Rechtsgebied" resourceIdentifier="{subject}">'
        "Bestuursrecht; Socialezekerheidsrecht</dcterms:subject></rdf:Description>\n"
        "  </rdf:RDF>\n"
        f'  <inhoudsindicatie id="{ecli}:INH" xmlns="http://www.rechtspraak.nl/schema/'
        f'rechtspraak-1.0"><para>{escape(inhoudsindicatie)}</para></inhoudsindicatie>\n'
        f"  {uitspraak}\n</open-rechtspraak>\n"
    ).encode()


@dataclass
class Ruling:
    ecli: str
    datum: date
    updated: str = "2020-01-01T10:00:00Z"
    creator: str = CRVB
    subject: str = SZR
    body: bytes = b""
    missing: bool = False  # found by the search, but /content answers 404


def ruling(ecli: str, datum: date, **kwargs: object) -> Ruling:
    made = Ruling(ecli, datum, **kwargs)  # type: ignore[arg-type]
    if not made.body:
        made.body = content_xml(ecli, datum, creator=made.creator, subject=made.subject)
    return made


def _moment(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def atom_feed(total: int, entries: list[Ruling]) -> bytes:
    """An Atom page shaped like atom_search_five_entries.xml."""
    items = "".join(
        f'<entry><id>{r.ecli}</id><title type="text">{r.ecli}, '
        f'{escape(NAMES.get(r.creator, "Rechtbank"))}, {r.datum:%d-%m-%Y}, 1</title>'
        f'<summary type="text">-</summary><updated>{r.updated}</updated>'
        '<link rel="alternate" type="text/html" '
        f'href="https://uitspraken.rechtspraak.nl/InzienDocument?id={r.ecli}" /></entry>'
        for r in entries)
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title\n'
        'type="text">Rechtspraak Open Data (Uitspraken)</title><subtitle type="text">Aantal '
        f"gevonden ECLI's:\n{total}</subtitle><id>uuid:loopback</id><rights type=\"text\">"
        "Copyright Rechtspraak.</rights><updated>2026-01-01T00:00:00+01:00</updated>"
        f"{items}</feed>"
    ).encode()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _HttpServer

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        owner: RechtspraakServer = self.server.owner  # type: ignore[assignment]
        with owner._lock:
            owner._active += 1
            owner.max_active = max(owner.max_active, owner._active)
            owner.arrivals.append(time.monotonic())
        try:
            self._answer(owner)
        finally:
            with owner._lock:
                owner._active -= 1

    def _answer(self, owner: RechtspraakServer) -> None:
        status, body, ctype = owner.answer(self.path)
        fault = owner.take_fault(self.path)
        if fault is not None:
            if fault.kind == "status":
                self._send(fault.status, b"<error>busy</error>", XML_TYPE, fault.headers)
                return
            if fault.kind == "cut":
                self._send(status, body[: len(body) // 2], ctype)
                return
            if fault.kind == "stall":
                self.close_connection = True
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                if not owner._stopping.wait(fault.delay):
                    self.wfile.write(body[len(body) // 2:])
                return
            if fault.kind == "slow" and owner._stopping.wait(fault.delay):
                return
        self._send(status, body, ctype)

    def _send(self, status: int, body: bytes, ctype: str,
              headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)


@dataclass
class RechtspraakServer:
    rulings: dict[str, Ruling] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    ignore_filters: bool = False

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._faults: list[tuple[str, Fault]] = []
        self._active = 0
        self.max_active = 0  # most requests handled at the same time
        self.arrivals: list[float] = []  # time.monotonic() of every request
        self.feeds: dict[str, bytes] = {}  # search target -> the Atom page last answered
        self._http = _HttpServer(("127.0.0.1", 0), _Handler)
        self._http.owner = self  # type: ignore[assignment]
        self._thread = threading.Thread(target=self._http.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._http.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> RechtspraakServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._http.shutdown()
        self._http.server_close()
        self._thread.join(timeout=5)

    def add(self, *rulings: Ruling) -> None:
        with self._lock:
            for r in rulings:
                self.rulings[r.ecli] = r

    def add_fault(self, target_part: str, *faults: Fault) -> None:
        """Faults for requests whose target contains `target_part`, in order."""
        with self._lock:
            self._faults += [(target_part, f) for f in faults]

    def clear_faults(self) -> None:
        with self._lock:
            self._faults = []

    def take_fault(self, target: str) -> Fault | None:
        with self._lock:
            return next((f for part, f in self._faults if part in target and f.take()), None)

    def searches(self) -> list[dict[str, list[str]]]:
        out = []
        for target in self.requests:
            parts = urlsplit(target)
            if parts.path == "/uitspraken/zoeken":
                query: dict[str, list[str]] = {}
                for key, value in parse_qsl(parts.query, keep_blank_values=True):
                    query.setdefault(key, []).append(value)
                out.append(query)
        return out

    def content_requests(self) -> list[str]:
        return [dict(parse_qsl(urlsplit(t).query)).get("id", "") for t in self.requests
                if urlsplit(t).path == "/uitspraken/content"]

    # answers ------------------------------------------------------------------------------

    def answer(self, target: str) -> tuple[int, bytes, str]:
        with self._lock:
            self.requests.append(target)
        parts = urlsplit(target)
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        if parts.path == "/uitspraken/content":
            ecli = dict(pairs).get("id", "")
            found = self.rulings.get(ecli)
            if found is None or found.missing:
                return 404, b"Document niet gevonden", "text/plain; charset=utf-8"
            return 200, found.body, XML_TYPE
        if parts.path == "/uitspraken/zoeken":
            try:
                selected = self._select(pairs)
            except ValueError:
                # What the real service does with an unreadable date.
                return 200, b"<?xml version=\"1.0\"?><feed><unclosed", ATOM_TYPE
            query = dict(pairs)
            offset, size = int(query.get("from", "0")), int(query.get("max", "1000"))
            body = atom_feed(len(selected), selected[offset:offset + size])
            with self._lock:
                self.feeds[target] = body
            return 200, body, ATOM_TYPE
        return 404, b"Not found", "text/plain"

    def _select(self, pairs: list[tuple[str, str]]) -> list[Ruling]:
        values: dict[str, list[str]] = {}
        for key, value in pairs:
            values.setdefault(key, []).append(value)
        dates = [date.fromisoformat(d) for d in values.get("date", [])]
        modified = [_moment(m) for m in values.get("modified", [])]
        with self._lock:
            rulings = sorted(self.rulings.values(), key=lambda r: r.ecli)
        if self.ignore_filters:
            return rulings
        creators = set(values.get("creator", [])) or None
        subjects = set(values.get("subject", [])) or None
        out = []
        for r in rulings:
            if creators and r.creator not in creators:
                continue
            if subjects and r.subject not in subjects:
                continue
            if dates and not (min(dates) <= r.datum <= max(dates)):
                continue
            if modified and not (min(modified) <= _moment(r.updated) <= max(modified)):
                continue
            out.append(r)
        return out


@pytest.fixture
def rechtspraak_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[RechtspraakServer]:
    """A running RechtspraakServer; WMO_RECHTSPRAAK_URL points at it; no pause, back-off
    0.01 s, timeout 2 s, 3 retries (tests may override with monkeypatch.setenv)."""
    server = RechtspraakServer().start()
    monkeypatch.setenv("WMO_RECHTSPRAAK_URL", server.url)
    monkeypatch.setenv("WMO_RECHTSPRAAK_PAUSE", "0")
    monkeypatch.setenv("WMO_HTTP_BACKOFF", "0.01")
    monkeypatch.setenv("WMO_HTTP_TIMEOUT", "2")
    monkeypatch.setenv("WMO_HTTP_RETRIES", "3")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    try:
        yield server
    finally:
        server.stop()
