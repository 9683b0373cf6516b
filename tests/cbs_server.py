"""A real loopback HTTP server that answers like CBS OData v3/v4, for tests.

Routes are exact request targets (path + raw query, as the client sent them), so a client that
alters a next link or encodes a filter differently gets a 404 instead of a silent pass. Next
links point at the public CBS hosts (`https://opendata.cbs.nl/…`, `https://datasets.cbs.nl/…`)
exactly as CBS writes them, so the client's host rewrite is exercised on every paged resource.

Usage (the `cbs_server` fixture also points WMO_CBS_V3_URL/WMO_CBS_V4_URL at the server and
makes back-off and timeouts short):

    def test_x(cbs_server):
        pages = cbs_server.serve_v3_table("99999NED", rows=sample_v3_rows(5), page_size=2)
        cbs_server.add_faults(cbs_server.data_target_v3("99999NED"), status_fault(503, times=2))
        ...
        assert cbs_server.hits(target) == 3

Every request is logged with its arrival time (`hit_times`), so tests can check the pause a
client made between attempts without timing the client from outside.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

CBS_V3_PUBLIC = "https://opendata.cbs.nl"
CBS_V4_PUBLIC = "https://datasets.cbs.nl/odata/v1/CBS"
V4_PREFIX = "/odata/v1/CBS"
JSON_TYPE = "application/json; charset=utf-8"


def to_json_bytes(obj: Any) -> bytes:
    """Compact UTF-8 JSON as CBS sends it (non-ASCII kept as is, so byte checks mean something)."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


# --- faults ---------------------------------------------------------------------------------


@dataclass
class Fault:
    """What to do instead of a normal answer, for the next `times` requests (None = always).

    kind: "status" (answer `status` with `headers`), "truncate" (declare a Content-Length larger
    than what is sent, send half, close), "cut_json" (a consistent 200 whose JSON is cut off),
    "slow" (wait `delay` seconds before answering normally), "stall" (send the headers and half
    the body, wait `delay` seconds, then send the rest: a server that hangs mid-body),
    "trickle" (send the body a byte every `delay` seconds: never idle long enough for a read
    timeout, yet far too slow).
    """

    kind: str
    times: int | None = 1
    status: int = 503
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0

    def take(self) -> bool:
        if self.times is None:
            return True
        if self.times > 0:
            self.times -= 1
            return True
        return False


def status_fault(status: int = 503, times: int | None = 1,
                 headers: dict[str, str] | None = None) -> Fault:
    return Fault("status", times=times, status=status, headers=dict(headers or {}))


def rate_limited(retry_after: str = "1", times: int | None = 1) -> Fault:
    return status_fault(429, times=times, headers={"Retry-After": retry_after})


def truncated(times: int | None = 1) -> Fault:
    return Fault("truncate", times=times)


def cut_json(times: int | None = 1) -> Fault:
    return Fault("cut_json", times=times)


def slow(delay: float, times: int | None = 1) -> Fault:
    return Fault("slow", times=times, delay=delay)


def stalled(delay: float, times: int | None = 1) -> Fault:
    return Fault("stall", times=times, delay=delay)


def trickle(delay: float, times: int | None = 1) -> Fault:
    return Fault("trickle", times=times, delay=delay)


# --- server ---------------------------------------------------------------------------------


@dataclass
class Route:
    body: bytes
    status: int = 200
    content_type: str = JSON_TYPE
    faults: list[Fault] = field(default_factory=list)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive like CBS, so faults must close explicitly
    # Headers and body go out as two writes; with Nagle on, each answer waits ~40 ms for an ACK.
    disable_nagle_algorithm = True
    server: _HttpServer

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep pytest output clean; requests are recorded on the server instead

    def do_GET(self) -> None:
        owner = self.server.owner
        route, fault = owner._lookup(self.path)
        if route is None:
            self._send(404, b'{"odata.error":{"message":{"value":"Resource not found"}}}',
                       JSON_TYPE)
            return
        body = route.body
        if fault is not None:
            if fault.kind == "status":
                error = {"odata.error": {"message": {"value": f"HTTP {fault.status}"}}}
                payload = to_json_bytes(error)
                self._send(fault.status, payload, JSON_TYPE, fault.headers)
                return
            if fault.kind == "truncate":
                self.close_connection = True
                self.send_response(route.status)
                self.send_header("Content-Type", route.content_type)
                self.send_header("Content-Length", str(len(body) + 1000))
                self.end_headers()
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                return
            if fault.kind == "cut_json":
                self._send(route.status, body[: len(body) // 2], route.content_type)
                return
            if fault.kind == "stall":
                self.close_connection = True
                self.send_response(route.status)
                self.send_header("Content-Type", route.content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                if not owner._stopping.wait(fault.delay):
                    # Usually the client has given up by now and this write fails quietly
                    # (handle_error); a patient client gets the complete, valid body.
                    self.wfile.write(body[len(body) // 2:])
                return
            if fault.kind == "trickle":
                self.close_connection = True
                self.send_response(route.status)
                self.send_header("Content-Type", route.content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                for i in range(len(body)):
                    if owner._stopping.wait(fault.delay):
                        return
                    self.wfile.write(body[i:i + 1])
                    self.wfile.flush()
                return
            if fault.kind == "slow" and owner._stopping.wait(fault.delay):
                return  # server shutting down: do not keep the test waiting
        self._send(route.status, body, route.content_type)

    def _send(self, status: int, body: bytes, content_type: str,
              headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    owner: CbsServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (timeout) makes the late write fail; that is the point of the
        # test. Anything else is a bug in this server and should show.
        if not isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            super().handle_error(request, client_address)


class CbsServer:
    """Route table + request log around a ThreadingHTTPServer on 127.0.0.1 (random port)."""

    def __init__(self) -> None:
        self._routes: dict[str, Route] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self.requests: list[str] = []
        self._arrivals: list[tuple[float, str]] = []  # (time.monotonic(), target)
        self._http = _HttpServer(("127.0.0.1", 0), _Handler)
        self._http.owner = self
        self._thread = threading.Thread(target=self._http.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._http.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def v3_url(self) -> str:
        return self.url

    @property
    def v4_url(self) -> str:
        return self.url + V4_PREFIX

    def start(self) -> CbsServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._http.shutdown()
        self._http.server_close()
        self._thread.join(timeout=5)

    # routes -------------------------------------------------------------------------------

    def add(self, target: str, body: bytes | dict[str, Any] | list[Any], *, status: int = 200,
            content_type: str = JSON_TYPE, faults: Sequence[Fault] = ()) -> bytes:
        """Serve `body` at the exact request target (path + raw query); returns the bytes sent."""
        raw = body if isinstance(body, bytes) else to_json_bytes(body)
        with self._lock:
            self._routes[target] = Route(raw, status, content_type, list(faults))
        return raw

    def add_faults(self, target: str, *faults: Fault) -> None:
        with self._lock:
            if target not in self._routes:
                raise KeyError(f"no route {target!r}; routes: {sorted(self._routes)}")
            self._routes[target].faults.extend(faults)

    def _lookup(self, target: str) -> tuple[Route | None, Fault | None]:
        with self._lock:
            self.requests.append(target)
            self._arrivals.append((time.monotonic(), target))
            route = self._routes.get(target)
            if route is None:
                return None, None
            fault = next((f for f in route.faults if f.take()), None)
            return route, fault

    def hits(self, target: str) -> int:
        with self._lock:
            return self.requests.count(target)

    def hit_times(self, target: str) -> list[float]:
        """time.monotonic() at the arrival of each request for `target`, in order."""
        with self._lock:
            return [at for at, seen in self._arrivals if seen == target]

    # CBS-shaped tables --------------------------------------------------------------------

    def serve_paged(self, first_target: str, public_origin: str, rows: list[dict[str, Any]],
                    page_size: int | None, envelope: dict[str, Any], next_key: str,
                    prefix: str = "") -> list[bytes]:
        """Register a resource cut into pages; page N+1 sits where page N's next link points.

        The next link is `public_origin` + the first target's path and query + `$skip=…`, the
        way the Feed repeats the original query; `prefix` (a mirror base path) is not part of
        the public link but is part of where the server answers.
        """
        size = page_size or max(len(rows), 1)
        chunks = [rows[i:i + size] for i in range(0, len(rows), size)] or [[]]
        bodies: list[bytes] = []
        target = first_target
        public_tail = first_target[len(prefix):]
        skip_sep = "&" if "?" in public_tail else "?"
        for number, chunk in enumerate(chunks):
            doc: dict[str, Any] = {**envelope, "value": chunk}
            if number + 1 < len(chunks):
                tail = f"{public_tail}{skip_sep}$skip={(number + 1) * size}"
                doc[next_key] = public_origin + tail
                bodies.append(self.add(target, doc))
                target = prefix + tail
            else:
                bodies.append(self.add(target, doc))
        return bodies

    @staticmethod
    def data_target_v3(table_id: str, filter_query: str = "", prefix: str = "") -> str:
        return f"{prefix}/ODataFeed/odata/{table_id}/TypedDataSet?$format=json{filter_query}"

    def serve_v3_table(
        self,
        table_id: str,
        *,
        title: str = "Wmo-cliënten; type maatwerkvoorziening (detail), regio",
        resources: dict[str, list[dict[str, Any]]] | None = None,
        rows: list[dict[str, Any]] | None = None,
        page_size: int | None = None,
        filter_query: str = "",
        meta_page_size: dict[str, int] | None = None,
        prefix: str = "",
    ) -> dict[str, list[bytes]]:
        """Root, metadata (ODataApi) and TypedDataSet (ODataFeed) of one v3 table.

        `filter_query` is the raw text the client is expected to append after `$format=json`
        (e.g. `"&$filter=Perioden%20ge%20%272015%27"`); a client sending anything else gets 404.
        Returns the bytes of every page served, per resource.
        """
        resources = resources if resources is not None else sample_v3_resources(table_id, title)
        rows = rows if rows is not None else sample_v3_rows(4)
        names = [*resources, "TypedDataSet", "UntypedDataSet"]
        api = f"/ODataApi/odata/{table_id}/"
        self.add(f"{prefix}{api}?$format=json", {
            "odata.metadata": f"{CBS_V3_PUBLIC}/ODataApi/OData/{table_id}/$metadata",
            "value": [{"name": n, "url": f"{CBS_V3_PUBLIC}{api}{n}"} for n in names],
        })
        served: dict[str, list[bytes]] = {}
        for name, items in resources.items():
            served[name] = self.serve_paged(
                f"{prefix}{api}{name}?$format=json", CBS_V3_PUBLIC, items,
                (meta_page_size or {}).get(name),
                {"odata.metadata": f"{CBS_V3_PUBLIC}/ODataApi/OData/{table_id}/$metadata"
                                   f"#Cbs.OData.WebAPI.{name}"},
                "odata.nextLink", prefix=prefix)
        served["TypedDataSet"] = self.serve_paged(
            self.data_target_v3(table_id, filter_query, prefix), CBS_V3_PUBLIC, rows, page_size,
            {"odata.metadata": f"{CBS_V3_PUBLIC}/ODataFeed/OData/{table_id}/$metadata"
                               "#Cbs.OData.WebAPI.TypedDataSet"},
            "odata.nextLink", prefix=prefix)
        return served

    def serve_v4_table(
        self,
        table_id: str,
        *,
        properties: dict[str, Any] | None = None,
        resources: dict[str, list[dict[str, Any]]] | None = None,
        observations: list[dict[str, Any]] | None = None,
        page_size: int | None = None,
        filter_query: str = "",
    ) -> dict[str, list[bytes]]:
        """Root, Properties (singleton), code lists and paged Observations of one v4 table.

        `filter_query` is the raw query the client must send on Observations (`?$filter=…`).
        """
        base = f"{V4_PREFIX}/{table_id}"
        context = f"{CBS_V4_PUBLIC}/{table_id}/$metadata"
        public_origin = CBS_V4_PUBLIC[:-len(V4_PREFIX)]  # https://datasets.cbs.nl
        properties = properties if properties is not None else {
            "Identifier": table_id, "Title": "Wmo-cliënten; type maatwerkvoorziening, regio",
            "Language": "nl", "ObservationCount": 6}
        resources = resources if resources is not None else sample_v4_resources()
        observations = observations if observations is not None else sample_v4_observations(5)
        listing = [{"name": n, "kind": "EntitySet", "url": n} for n in resources]
        listing += [{"name": "Observations", "kind": "EntitySet", "url": "Observations"},
                    {"name": "Properties", "kind": "Singleton", "url": "Properties"}]
        self.add(f"{base}/", {"@odata.context": context, "value": listing})
        served = {"Properties": [self.add(f"{base}/Properties",
                                          {"@odata.context": f"{context}#Properties",
                                           **properties})]}
        for name, items in resources.items():
            served[name] = self.serve_paged(f"{base}/{name}", public_origin,
                                            items, None, {"@odata.context": f"{context}#{name}"},
                                            "@odata.nextLink")
        served["Observations"] = self.serve_paged(
            f"{base}/Observations{filter_query}", public_origin, observations, page_size,
            {"@odata.context": f"{context}#Observations"}, "@odata.nextLink")
        return served


# --- sample content (small, CBS-shaped, padded keys) ---------------------------------------


def sample_v3_resources(table_id: str, title: str) -> dict[str, list[dict[str, Any]]]:
    return {
        "TableInfos": [{"ID": 1, "Title": title, "Identifier": table_id,
                        "Frequency": "Perhalfjaar", "OutputStatus": "Regulier"}],
        "DataProperties": [
            {"odata.type": "Cbs.OData.Dimension", "ID": 0, "Position": 0, "ParentID": None,
             "Type": "Dimension", "Key": "TypeMaatwerkvoorziening",
             "Title": "Type maatwerkvoorziening"},
            {"odata.type": "Cbs.OData.GeoDimension", "ID": 1, "Position": 1, "ParentID": None,
             "Type": "GeoDimension", "Key": "RegioS", "Title": "Regio's", "MapYear": "2025"},
            {"odata.type": "Cbs.OData.TimeDimension", "ID": 2, "Position": 2, "ParentID": None,
             "Type": "TimeDimension", "Key": "Perioden", "Title": "Perioden"},
            {"odata.type": "Cbs.OData.Topic", "ID": 3, "Position": 3, "ParentID": None,
             "Type": "Topic", "Key": "WmoClienten_1", "Title": "Wmo-cliënten",
             "Unit": "aantal", "Decimals": 0, "Datatype": "Long"},
        ],
        "CategoryGroups": [],
        "TypeMaatwerkvoorziening": [{"Key": "T001024", "Title": "Totaal", "Description": None,
                                     "CategoryGroupID": None}],
        "RegioS": [{"Key": code.ljust(6), "Title": title, "Description": "",
                    "CategoryGroupID": None} for code, title in SAMPLE_REGIONS],
        "Perioden": [{"Key": code, "Title": title, "Description": "", "Status": status}
                     for code, title, status in SAMPLE_PERIODS],
    }


SAMPLE_PERIODS = [("2022HJ01", "1e halfjaar 2022", "Definitief"),
                  ("2022HJ02", "2e halfjaar 2022", "Definitief"),
                  ("2022JJ00", "2022", "Definitief"),
                  ("2023HJ01", "1e halfjaar 2023", "Definitief"),
                  ("2023HJ02", "2e halfjaar 2023", "Nader voorlopig"),
                  ("2023JJ00", "2023", "Nader voorlopig"),
                  ("2024HJ01", "1e halfjaar 2024", "Voorlopig"),
                  ("2024JJ00", "2024", "Voorlopig")]
SAMPLE_REGIONS = [("NL01", "Nederland"), ("GM0363", "Amsterdam")]


def sample_v3_rows(n: int) -> list[dict[str, Any]]:
    """Dense-cube rows, region fastest, padded region keys; distinct cells for n <= 16."""
    regions = [code.ljust(6) for code, _ in SAMPLE_REGIONS]
    return [{"ID": i, "TypeMaatwerkvoorziening": "T001024", "RegioS": regions[i % 2],
             "Perioden": SAMPLE_PERIODS[(i // 2) % len(SAMPLE_PERIODS)][0],
             "WmoClienten_1": None if i == 3 else 1000 + 5 * i}
            for i in range(n)]


def sample_v4_resources() -> dict[str, list[dict[str, Any]]]:
    return {
        "Dimensions": [
            {"Identifier": "RegioS", "Title": "Regio's", "Kind": "GeoDimension"},
            {"Identifier": "Perioden", "Title": "Perioden", "Kind": "TimeDimension"},
        ],
        "MeasureCodes": [{"Identifier": "M001234", "Index": 1, "Title": "Wmo-cliënten",
                          "Unit": "aantal", "Decimals": 0, "MeasureGroupId": None}],
        "RegioSCodes": [{"Identifier": code, "Index": i, "Title": title,
                         "DimensionGroupId": None}
                        for i, (code, title) in enumerate(SAMPLE_REGIONS, start=1)],
        "RegioSGroups": [],
        "PeriodenCodes": [{"Identifier": code, "Index": i, "Title": title, "Status": status,
                           "DimensionGroupId": None}
                          for i, (code, title, status) in enumerate(SAMPLE_PERIODS, start=1)],
        "PeriodenGroups": [],
    }


def sample_v4_observations(n: int) -> list[dict[str, Any]]:
    """Sparse long rows, unpadded codes; distinct cells for n <= 16."""
    return [{"Id": i, "Measure": "M001234", "ValueAttribute": "None", "Value": 100.0 + i,
             "StringValue": None, "RegioS": SAMPLE_REGIONS[i % 2][0],
             "Perioden": SAMPLE_PERIODS[(i // 2) % len(SAMPLE_PERIODS)][0]}
            for i in range(n)]


# --- fixture --------------------------------------------------------------------------------


@pytest.fixture
def cbs_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[CbsServer]:
    """A running CbsServer; WMO_CBS_V3_URL/V4_URL point at it, back-off 0.01 s, timeout 2 s,
    3 retries. Tests may override any of these with monkeypatch.setenv before load_settings()."""
    server = CbsServer().start()
    monkeypatch.setenv("WMO_CBS_V3_URL", server.v3_url)
    monkeypatch.setenv("WMO_CBS_V4_URL", server.v4_url)
    monkeypatch.setenv("WMO_HTTP_BACKOFF", "0.01")
    monkeypatch.setenv("WMO_HTTP_TIMEOUT", "2")
    monkeypatch.setenv("WMO_HTTP_RETRIES", "3")
    # A proxy from the developer's environment must not intercept loopback requests.
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    try:
        yield server
    finally:
        server.stop()
