"""Concurrent sessions on a running server, driven at the websocket level instead of Chromium.

Twenty Chromium tabs on a 2-core machine measure the browser's rendering, not the server. This
client speaks Streamlit's own protocol (Streamlit 1.67, Starlette server) the way the frontend
does, so the server does a real user's work:

- before the socket, GET /_stcore/health, which sets the `_streamlit_xsrf` cookie;
- websocket /_stcore/stream, subprotocols ["streamlit", <xsrf cookie value>], with that
  cookie and an Origin header;
- BackMsg.rerun_script with a ClientState: the URL's query string, the page script hash
  (empty on the first run, then the one from new_session), the state of every widget on the
  page, the hashes of cached ForwardMsgs and the browser context;
- ForwardMsgs until script_finished; FINISHED_EARLY_FOR_RERUN (st.rerun) is not the end;
- a large element the client already holds comes back as a `ref_hash` (no HTTP fetch in this
  version: the frontend keeps its own cache and announces it in cached_message_hashes).

One interaction: pick the next "Periode" label, rerun, wait for the run to finish. It counts
as an error unless the run finished successfully, showed no exception and carried the label in
some element other than the selectbox itself.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any, TypeVar
from urllib.parse import urlsplit

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ClientState_pb2 import ContextInfo
from streamlit.proto.Element_pb2 import Element
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest
from tornado.websocket import WebSocketClientConnection, WebSocketError, websocket_connect

R = TypeVar("R")

STREAM_PATH = "/_stcore/stream"
HEALTH_PATH = "/_stcore/health"
SUBPROTOCOL = "streamlit"
XSRF_COOKIE = "_streamlit_xsrf"
# What the frontend sends when it has no XSRF cookie (server.enableXsrfProtection off).
NO_TOKEN = "PLACEHOLDER_AUTH_TOKEN"
PERIOD_LABEL = "Periode"
# The server refuses frames above server.maxMessageSize (200 MB); tornado's default is 10 MiB.
MAX_MESSAGE_BYTES = 256 * 1024 * 1024

Status = ForwardMsg.ScriptFinishedStatus
DONE_OK = {Status.FINISHED_SUCCESSFULLY, Status.FINISHED_FRAGMENT_RUN_SUCCESSFULLY}


class InteractionError(Exception):
    """The run ended, but not as a user would accept: counted, and the session goes on."""


class ConnectionLost(Exception):
    """The socket closed or the protocol broke: this connection cannot go on."""


# What ends a connection: refused or reset sockets (OSError), an HTTP error on the health
# ping or the upgrade, a closed websocket, or no answer within the timeout.
LOST = (ConnectionLost, OSError, TimeoutError, HTTPClientError, WebSocketError)


@dataclass
class Delta:
    """One delta of a run, with the bytes it arrived as (after resolving a reference)."""

    msg: ForwardMsg
    raw: bytes


@dataclass
class Run:
    status: int
    deltas: list[Delta]


@dataclass
class Cached:
    raw: bytes
    run_count: int


@dataclass
class SessionResult:
    latencies_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _context_info(page_url: str) -> ContextInfo:
    # A Dutch desktop browser; the app reads only the locale-independent parts.
    return ContextInfo(timezone="Europe/Amsterdam", timezone_offset=-60, locale="nl-NL",
                       url=page_url, is_embedded=False, color_scheme="light")


def widget_state(element: Element) -> WidgetState | None:
    """The value the frontend registers for a widget when it mounts (useBasicWidgetState:
    the server's set value if any, else the proto default). Buttons only send triggers on a
    click and charts only on a selection, so a user who just looks sends neither."""
    kind = element.WhichOneof("type")
    if kind in ("selectbox", "radio"):
        el = getattr(element, kind)
        if el.set_value and el.HasField("raw_value"):
            return WidgetState(id=el.id, string_value=el.raw_value)
        if el.HasField("default") and 0 <= el.default < len(el.options):
            return WidgetState(id=el.id, string_value=el.options[el.default])
        return None
    if kind == "checkbox":
        el = element.checkbox
        return WidgetState(id=el.id, bool_value=el.value if el.set_value else el.default)
    return None


class Session:
    """One browser tab's worth of protocol state on one websocket."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self.ws: WebSocketClientConnection | None = None
        self.query_string = ""
        self.page_script_hash = ""
        self.widgets: dict[str, WidgetState] = {}
        self.selectboxes: dict[str, Element] = {}
        self.cache: dict[str, Cached] = {}
        self.run_count = 0
        self.max_cached_age = 2
        self.ref_hits = 0
        self.early_reruns = 0

    async def connect(self) -> None:
        token, cookie = await self._xsrf()
        base = urlsplit(self.url)
        ws_url = f"{'wss' if base.scheme == 'https' else 'ws'}://{base.netloc}{base.path}"
        headers = {"Origin": f"{base.scheme}://{base.netloc}"}
        if cookie:
            headers["Cookie"] = cookie
        request = HTTPRequest(ws_url + STREAM_PATH, headers=headers, connect_timeout=30,
                              request_timeout=30)
        self.ws = await websocket_connect(request, subprotocols=[SUBPROTOCOL, token],
                                          max_message_size=MAX_MESSAGE_BYTES)

    async def _xsrf(self) -> tuple[str, str]:
        # The frontend pings the health endpoint before it opens the socket; that response
        # sets the XSRF cookie it then sends back as the second subprotocol.
        response = await AsyncHTTPClient().fetch(self.url + HEALTH_PATH, request_timeout=30)
        jar: SimpleCookie = SimpleCookie()
        for header in response.headers.get_list("Set-Cookie"):
            jar.load(header)
        if XSRF_COOKIE not in jar:
            return NO_TOKEN, ""
        value = jar[XSRF_COOKIE].value
        return value, f"{XSRF_COOKIE}={value}"

    def close(self) -> None:
        if self.ws is not None:
            self.ws.close()
            self.ws = None

    async def rerun(self, override: WidgetState | None = None) -> Run:
        """Send the rerun the frontend sends after a widget change, and read the run."""
        if override is not None:
            self.widgets[override.id] = override
        msg = BackMsg()
        state = msg.rerun_script
        state.query_string = self.query_string
        state.page_script_hash = self.page_script_hash
        state.widget_states.widgets.extend(self.widgets.values())
        state.cached_message_hashes.extend(self.cache)
        state.context_info.CopyFrom(_context_info(self._page_url()))
        await self._ws().write_message(msg.SerializeToString(), binary=True)
        return await self._read_run()

    def _page_url(self) -> str:
        return f"{self.url}/" + (f"?{self.query_string}" if self.query_string else "")

    def _ws(self) -> WebSocketClientConnection:
        if self.ws is None:
            raise ConnectionLost("not connected")
        return self.ws

    async def _read_run(self) -> Run:
        deltas: list[Delta] = []
        seen: set[str] = set()
        while True:
            msg, raw = await self._receive()
            kind = msg.WhichOneof("type")
            if kind == "new_session":
                # A new run (also after st.rerun): only its elements stay on the page.
                deltas, seen = [], set()
                self.page_script_hash = msg.new_session.page_script_hash
                self.max_cached_age = msg.new_session.config.max_cached_message_age
            elif kind == "page_info_changed":
                # The frontend writes this into the address bar; the next rerun sends it back.
                self.query_string = msg.page_info_changed.query_string
            elif kind == "delta":
                deltas.append(Delta(msg, raw))
                self._register(msg, seen)
            elif kind == "script_finished":
                status = msg.script_finished
                # st.rerun ends this run early; the user waits for the run that follows.
                if status != Status.FINISHED_EARLY_FOR_RERUN:
                    self._finish(status, seen)
                    return Run(status, deltas)
                self.early_reruns += 1

    async def _receive(self) -> tuple[ForwardMsg, bytes]:
        raw = await self._ws().read_message()
        if raw is None:
            raise ConnectionLost(f"websocket closed ({self._ws().close_code})")
        if isinstance(raw, str):
            raise ConnectionLost("text frame; Streamlit only sends binary protobufs")
        msg = ForwardMsg()
        msg.ParseFromString(raw)
        if msg.WhichOneof("type") == "ref_hash":
            return self._resolve(msg)
        if msg.metadata.cacheable and msg.hash and msg.hash not in self.cache:
            self.cache[msg.hash] = Cached(raw, self.run_count)
        return msg, raw

    def _resolve(self, ref: ForwardMsg) -> tuple[ForwardMsg, bytes]:
        cached = self.cache.get(ref.ref_hash)
        if cached is None:
            # The frontend throws here too: the server referred to something never sent.
            raise ConnectionLost(f"cached ForwardMsg miss {ref.ref_hash}")
        cached.run_count = self.run_count
        self.ref_hits += 1
        msg = ForwardMsg()
        msg.ParseFromString(cached.raw)
        msg.metadata.CopyFrom(ref.metadata)
        return msg, cached.raw

    def _register(self, msg: ForwardMsg, seen: set[str]) -> None:
        if msg.delta.WhichOneof("type") != "new_element":
            return
        element = msg.delta.new_element
        state = widget_state(element)
        if state is None:
            return
        seen.add(state.id)
        if element.WhichOneof("type") == "selectbox":
            self.selectboxes[state.id] = element
        # A widget that is already on the page keeps the user's value unless the server sets it.
        if state.id not in self.widgets or getattr(element, element.WhichOneof("type")).set_value:
            self.widgets[state.id] = state

    def _finish(self, status: int, seen: set[str]) -> None:
        if status in DONE_OK:
            # removeInactiveWidgetState: widgets that left the page stop being sent.
            self.widgets = {k: v for k, v in self.widgets.items() if k in seen}
            self.selectboxes = {k: v for k, v in self.selectboxes.items() if k in seen}
        self.run_count += 1
        self.cache = {h: c for h, c in self.cache.items()
                      if self.run_count - c.run_count <= self.max_cached_age}

    def has_period_box(self) -> bool:
        return any(e.selectbox.label == PERIOD_LABEL for e in self.selectboxes.values())

    def period_box(self) -> tuple[str, list[str]]:
        """The Periode selectbox on the page: its widget id and its option labels."""
        for wid, element in self.selectboxes.items():
            if element.selectbox.label == PERIOD_LABEL:
                return wid, list(element.selectbox.options)
        raise InteractionError(f"no selectbox labelled {PERIOD_LABEL!r} on the page")

    def next_period(self) -> tuple[str, str]:
        wid, options = self.period_box()
        if len(options) < 2:
            raise InteractionError("Periode has fewer than two options; nothing to change")
        current = self.widgets[wid].string_value
        position = options.index(current) if current in options else -1
        return wid, options[(position + 1) % len(options)]


def check_clean(run: Run) -> None:
    """A run the user sees as broken: an error status or a traceback on the page."""
    if run.status not in DONE_OK:
        raise InteractionError(f"script finished with {Status.Name(run.status)}")
    for delta in run.deltas:
        element = delta.msg.delta.new_element
        if element.WhichOneof("type") == "exception":
            raise InteractionError(f"exception element: {element.exception.message[:200]}")


def check_run(run: Run, label: str, box_id: str) -> None:
    """A clean run that also shows the period the user picked somewhere on the page."""
    check_clean(run)
    needles = (label.encode(), json.dumps(label).strip('"').encode())
    for delta in run.deltas:
        element = delta.msg.delta.new_element
        if element.WhichOneof("type") == "selectbox" and element.selectbox.id == box_id:
            continue  # its options list every label
        if any(n in delta.raw for n in needles):
            return
    raise InteractionError(f"label {label!r} not shown outside the selectbox")


async def interact(session: Session, timeout_s: float) -> float:
    """One period change; the latency in ms from sending the rerun to the run's end."""
    wid, label = session.next_period()
    started = time.perf_counter()
    run = await asyncio.wait_for(session.rerun(WidgetState(id=wid, string_value=label)),
                                 timeout_s)
    elapsed_ms = (time.perf_counter() - started) * 1000
    check_run(run, label, wid)
    return elapsed_ms


async def open_page(url: str, timeout_s: float) -> Session:
    """A fresh tab on page "/": connected, rendered without error, Periode on the page."""
    session = Session(url)
    try:
        await asyncio.wait_for(session.connect(), timeout_s)
        run = await asyncio.wait_for(session.rerun(), timeout_s)
        check_clean(run)
        session.period_box()
    except BaseException:
        session.close()
        raise
    return session


async def session_run(url: str, interactions: int, timeout_s: float = 60.0) -> SessionResult:
    """One tab: open the page, then `interactions` period changes; each failed change is one
    error. When the page cannot be used any more (no connection, no answer, or a run that
    left it without the Periode control) the next change starts with a reload, as a user
    would; a reload that fails is that change's error."""
    result = SessionResult()
    session: Session | None = None
    for _ in range(interactions):
        try:
            if session is None or not session.has_period_box():
                if session is not None:
                    session.close()
                    session = None  # a failed reload must not leave the closed tab behind
                session = await open_page(url, timeout_s)
            result.latencies_ms.append(await interact(session, timeout_s))
        except InteractionError as exc:
            result.errors.append(str(exc))
        except LOST as exc:
            result.errors.append(f"{type(exc).__name__}: {exc}")
            if session is not None:
                session.close()
            session = None
    if session is not None:
        session.close()
    return result


async def run_sessions(url: str, sessions: int, interactions: int,
                       timeout_s: float = 60.0) -> tuple[list[float], int]:
    """`sessions` tabs started at once, each doing `interactions` period changes: (latencies
    in ms of the successful interactions, number of failed interactions)."""
    results = await asyncio.gather(*(session_run(url, interactions, timeout_s)
                                     for _ in range(sessions)))
    latencies = [ms for r in results for ms in r.latencies_ms]
    return latencies, sum(len(r.errors) for r in results)


def run_async(coro: Coroutine[Any, Any, R]) -> R:
    """`asyncio.run` on its own thread: the caller's thread may already run an event loop
    (pytest-playwright's sync page does), where asyncio.run refuses to start."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


def concurrent_ws(url: str, sessions: int, interactions: int) -> tuple[list[float], int]:
    return run_async(run_sessions(url, sessions, interactions))
