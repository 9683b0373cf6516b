"""HTTP client for the CBS OData services (v3 API/Feed and v4), with bounded retries.

The client returns every body exactly as delivered (the raw snapshot keeps it byte for byte)
together with the parsed JSON, follows next links verbatim, and turns every failure that
survives the retries into one `FetchError` naming the URL, the reason and the attempts made.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import requests

from etl.errors import FetchError
from etl.settings import Settings

T = TypeVar("T")


class BodyRejected(Exception):
    """A 2xx body that is not usable (cut off, not well-formed): retried like a timeout."""

DEFAULT_BACKOFF = 1.0
# A server asking for a longer pause than this is treated as asking for this much: a CLI
# run should not hang for an hour on one header.
MAX_RETRY_AFTER = 60.0
USER_AGENT = "wmo-atlas/0.1 (+https://github.com/wmo-atlas)"
NEXT_LINK_KEYS = ("odata.nextLink", "@odata.nextLink")
# Path segments that start the service part of a v3 URL; whatever precedes them is host/mirror.
V3_SERVICE_MARKERS = ("/ODataFeed/", "/ODataApi/", "/ODataCatalog/")

# Exceptions after which the same request may well succeed: timeouts, refused or reset
# connections, and bodies cut short (Content-Length mismatch surfaces as ChunkedEncodingError).
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    requests.exceptions.Timeout,
    requests.exceptions.ConnectionError,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)


def http_backoff_from_env() -> float:
    """Base back-off in seconds from `WMO_HTTP_BACKOFF` (default 1.0); tests set it near 0."""
    raw = os.environ.get("WMO_HTTP_BACKOFF", "").strip()
    if not raw:
        return DEFAULT_BACKOFF
    try:
        value = float(raw)
    except ValueError as exc:
        raise ValueError(f"WMO_HTTP_BACKOFF must be a number of seconds, got {raw!r}") from exc
    if value < 0:
        raise ValueError(f"WMO_HTTP_BACKOFF must not be negative, got {raw!r}")
    return value


def http_deadline_from_env(timeout: float) -> float:
    """Longest a single request may take in total (`WMO_HTTP_DEADLINE`, default 4 × the read
    timeout, at least 60 s): the read timeout alone never fires on a server that trickles."""
    raw = os.environ.get("WMO_HTTP_DEADLINE", "").strip()
    return float(raw) if raw else max(60.0, 4 * timeout)


def backoff_delay(base: float, attempt: int) -> float:
    """Exponential back-off before retry number `attempt` (1-based): base, 2·base, 4·base, …"""
    return base * (2 ** (attempt - 1))


def parse_retry_after(value: str | None, now: datetime | None = None,
                      cap: float = MAX_RETRY_AFTER) -> float | None:
    """Seconds to wait from a `Retry-After` header (delta-seconds or HTTP-date), capped.

    Returns None when the header is absent or unreadable, so the caller falls back to its
    own back-off instead of failing on a malformed header.
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return min(float(text), cap)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    seconds = (when - (now or datetime.now(UTC))).total_seconds()
    return min(max(seconds, 0.0), cap)


def _split_origin(url: str) -> tuple[str, str]:
    """('scheme://host[:port]', '/path?query') without re-encoding anything."""
    match = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*://[^/?#]*)(.*)$", url)
    if not match:
        raise ValueError(f"not an absolute URL: {url!r}")
    rest = match.group(2)
    return match.group(1), rest if rest.startswith("/") or not rest else "/" + rest


def rebase_link(link: str, base: str, table_id: str) -> str:
    """Move an absolute CBS link onto the configured base, leaving path tail and query verbatim.

    CBS writes its public host into next links even when we talk to a mirror or a test server,
    so the part before the service (`/ODataFeed/`, `/ODataApi/`, or for v4 `/<TABLE_ID>/`) is
    replaced by `base`. The query string is never parsed or rebuilt: CBS's own next link already
    repeats the original query, and rebuilding it is how clients end up with duplicated
    parameters.
    """
    _, rest = _split_origin(link)
    path, sep, query = rest.partition("?")
    lowered = path.lower()
    start: int | None = None
    for marker in V3_SERVICE_MARKERS:
        pos = lowered.find(marker.lower())
        if pos >= 0:
            start = pos
            break
    if start is None:
        tid = "/" + table_id.lower()
        pos = lowered.find(tid + "/")
        if pos < 0 and lowered.endswith(tid):
            pos = len(lowered) - len(tid)
        # Unknown layout: keep the whole path and only swap the origin.
        start = pos if pos >= 0 else 0
    return base.rstrip("/") + path[start:] + sep + query


def resolve_link(link: str, current_url: str, base: str, table_id: str) -> str:
    """An absolute next link on the configured host; relative links resolve against the page."""
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", link):
        return rebase_link(link, base, table_id)
    origin, rest = _split_origin(current_url)
    if link.startswith("/"):
        return origin + link
    directory = rest.partition("?")[0].rsplit("/", 1)[0]
    return f"{origin}{directory}/{link}"


def next_link(data: dict[str, Any]) -> str | None:
    for key in NEXT_LINK_KEYS:
        value = data.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def check_shape(url: str, data: Any, *, singleton: bool) -> dict[str, Any]:
    """The parsed body, or FetchError when it is not an OData collection (or v4 singleton)."""
    if not isinstance(data, dict):
        raise FetchError(f"GET {url}: unexpected response shape: expected a JSON object, "
                         f"got {type(data).__name__}")
    if not singleton and not isinstance(data.get("value"), list):
        keys = ", ".join(sorted(data)[:8]) or "none"
        raise FetchError(f"GET {url}: unexpected response shape: no 'value' list "
                         f"(top-level keys: {keys})")
    return data


def _describe(exc: BaseException) -> str:
    what = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return f"connection dropped mid-body ({what})"
    return what


@dataclass(frozen=True)
class Page:
    url: str
    body: bytes
    data: dict[str, Any]

    @property
    def rows(self) -> int:
        value = self.data.get("value")
        return len(value) if isinstance(value, list) else 1


class CbsClient:
    """GET with retries for CBS OData; one instance per fetch (it holds a connection pool)."""

    def __init__(
        self,
        settings: Settings,
        *,
        backoff: float | None = None,
        max_retry_after: float = MAX_RETRY_AFTER,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.timeout = settings.http_timeout
        self.retries = max(0, settings.http_retries)
        self.backoff = http_backoff_from_env() if backoff is None else backoff
        self.max_retry_after = max_retry_after
        self.deadline = http_deadline_from_env(self.timeout)
        self._sleep = sleep
        self._session = requests.Session()
        self._session.headers.update({"Accept": "application/json", "User-Agent": USER_AGENT})

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> CbsClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(self, url: str, *, singleton: bool = False) -> tuple[bytes, dict[str, Any]]:
        """Body bytes as delivered and the parsed JSON object; FetchError when it fails for good."""
        def accept(body: bytes) -> tuple[bytes, dict[str, Any]]:
            try:
                data = json.loads(body)
            except ValueError as exc:
                # A cut-off body without a Content-Length check looks like this too.
                raise BodyRejected(
                    f"truncated or invalid JSON ({exc}; {len(body)} bytes)") from exc
            return body, check_shape(url, data, singleton=singleton)

        result = self.get_accepted(url, accept)
        assert result is not None  # not missing_ok: a 404 raises
        return result

    def before_request(self) -> None:
        """Called before every attempt; a subclass may pace its requests here."""

    def get_accepted(self, url: str, accept: Callable[[bytes], T], *,
                     missing_ok: bool = False) -> T | None:
        """GET with retries, back-off and the deadline; `accept` turns a 2xx body into the
        result or raises BodyRejected (retried like a timeout). None for a 404 when
        `missing_ok`; FetchError when it fails for good."""
        attempts = self.retries + 1
        last_reason = ""
        for attempt in range(1, attempts + 1):
            wait: float | None = None
            self.before_request()
            try:
                response, body = self._fetch(url)
            except TRANSIENT_ERRORS as exc:
                last_reason = _describe(exc)
            except requests.exceptions.RequestException as exc:
                # Malformed URL, bad scheme, …: a configuration problem, retrying cannot help.
                raise FetchError(f"GET {url} failed: {_describe(exc)} "
                                 f"(attempt {attempt} of {attempts}; not retried)") from exc
            else:
                status = response.status_code
                if status == 404 and missing_ok:
                    return None
                if status == 429 or status >= 500:
                    last_reason = f"HTTP {status} {response.reason or ''}".rstrip()
                    wait = parse_retry_after(response.headers.get("Retry-After"),
                                             cap=self.max_retry_after)
                elif not 200 <= status < 300:
                    snippet = body[:200].decode("utf-8", errors="replace")
                    raise FetchError(
                        f"GET {url} failed: HTTP {status} {response.reason or ''} "
                        f"(attempt {attempt} of {attempts}; not retried): {snippet}")
                else:
                    try:
                        return accept(body)
                    except BodyRejected as exc:
                        last_reason = str(exc)
            if attempt < attempts:
                self._sleep(wait if wait is not None else backoff_delay(self.backoff, attempt))
        raise FetchError(f"GET {url} failed after {attempts} attempt(s): {last_reason}")

    def _fetch(self, url: str) -> tuple[requests.Response, bytes]:
        """One GET with the whole body read, or Timeout when it takes longer than the deadline:
        a watchdog closes the connection, which ends a read that is still trickling."""
        expired = threading.Event()
        response = self._session.get(url, timeout=(self.timeout, self.timeout), stream=True)

        def expire() -> None:
            expired.set()
            # close() alone does not wake a thread blocked in recv(); shutdown() does.
            sock = getattr(getattr(response.raw, "connection", None), "sock", None)
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            response.close()

        watchdog = threading.Timer(self.deadline, expire)
        watchdog.daemon = True
        watchdog.start()
        try:
            body = response.content  # the whole body, so mid-body drops raise here
        except Exception as exc:
            if expired.is_set():
                raise requests.exceptions.Timeout(
                    f"no complete answer within {self.deadline:g} s") from exc
            raise
        finally:
            watchdog.cancel()
        if expired.is_set():
            raise requests.exceptions.Timeout(f"no complete answer within {self.deadline:g} s")
        return response, body

    def iter_pages(self, url: str, *, base: str, table_id: str,
                   singleton: bool = False) -> Iterator[Page]:
        """Pages of one resource, following next links verbatim but on the configured `base`."""
        seen: set[str] = set()
        current: str | None = url
        while current is not None:
            if current in seen:
                raise FetchError(f"GET {current}: next link points back to a page already "
                                 "fetched; stopping instead of looping")
            seen.add(current)
            body, data = self.get(current, singleton=singleton)
            yield Page(current, body, data)
            link = next_link(data)
            current = resolve_link(link, current, base, table_id) if link else None
