"""CbsClient against a real loopback server: retries, faults, next links, host rewrite."""

from __future__ import annotations

import socket
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from etl.errors import FetchError
from etl.settings import load_settings
from etl.sources.cbs.client import (
    CbsClient,
    backoff_delay,
    check_shape,
    http_backoff_from_env,
    parse_retry_after,
    rebase_link,
    resolve_link,
)
from tests.cbs_server import (
    CbsServer,
    cut_json,
    rate_limited,
    sample_v3_rows,
    slow,
    status_fault,
    truncated,
)

FEED_LINK = ("https://opendata.cbs.nl/ODataFeed/odata/86050NED/TypedDataSet"
             "?$format=json&$filter=RegioS%20eq%20%27NL01%20%20%27&$skip=10000")


# --- pure functions -------------------------------------------------------------------------


def test_rebase_v3_link_onto_loopback_keeps_path_and_query_verbatim() -> None:
    assert rebase_link(FEED_LINK, "http://127.0.0.1:8000", "86050NED") == (
        "http://127.0.0.1:8000/ODataFeed/odata/86050NED/TypedDataSet"
        "?$format=json&$filter=RegioS%20eq%20%27NL01%20%20%27&$skip=10000")


def test_rebase_replaces_a_foreign_base_path_with_the_mirror_base_path() -> None:
    link = "https://cbs.example/proxy/x/ODataApi/OData/86050NED/RegioS?$format=json&$skip=2"
    assert rebase_link(link, "http://127.0.0.1:8000/mirror/", "86050NED") == (
        "http://127.0.0.1:8000/mirror/ODataApi/OData/86050NED/RegioS?$format=json&$skip=2")


def test_rebase_v4_link_cuts_before_the_table_id_case_insensitively() -> None:
    link = ("https://datasets.cbs.nl/odata/v1/CBS/86050ned/Observations"
            "?$skip=20000&$filter=startswith(RegioS,'GM')")
    assert rebase_link(link, "http://127.0.0.1:9/odata/v1/CBS", "86050NED") == (
        "http://127.0.0.1:9/odata/v1/CBS/86050ned/Observations"
        "?$skip=20000&$filter=startswith(RegioS,'GM')")


def test_rebase_onto_the_public_hosts_is_the_identity() -> None:
    v4 = "https://datasets.cbs.nl/odata/v1/CBS/86050NED/Observations?$skip=10000"
    assert rebase_link(FEED_LINK, "https://opendata.cbs.nl", "86050NED") == FEED_LINK
    assert rebase_link(v4, "https://datasets.cbs.nl/odata/v1/CBS", "86050NED") == v4


def test_rebase_only_looks_at_the_path_not_at_the_query() -> None:
    link = "https://other.host/a/b?$filter=x%20eq%20%27/86050NED/%27"
    assert rebase_link(link, "http://127.0.0.1:1", "86050NED") == (
        "http://127.0.0.1:1/a/b?$filter=x%20eq%20%27/86050NED/%27")


def test_relative_next_link_resolves_against_the_page_it_came_from() -> None:
    page = "http://127.0.0.1:5/odata/v1/CBS/86050NED/Observations"
    assert resolve_link("Observations?$skip=2", page, "unused", "86050NED") == (
        "http://127.0.0.1:5/odata/v1/CBS/86050NED/Observations?$skip=2")
    assert resolve_link("/x?$skip=2", page, "unused", "86050NED") == "http://127.0.0.1:5/x?$skip=2"


def test_parse_retry_after_seconds_date_cap_and_garbage() -> None:
    now = datetime(2026, 11, 23, 10, 0, 0, tzinfo=UTC)
    assert parse_retry_after("1", now) == 1.0
    assert parse_retry_after("3600", now) == 60.0
    assert parse_retry_after(format_datetime(now + timedelta(seconds=30), usegmt=True),
                             now) == pytest.approx(30.0)
    assert parse_retry_after(format_datetime(now - timedelta(seconds=30), usegmt=True),
                             now) == 0.0
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None


def test_backoff_doubles_and_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert [backoff_delay(0.5, n) for n in (1, 2, 3)] == [0.5, 1.0, 2.0]
    monkeypatch.delenv("WMO_HTTP_BACKOFF", raising=False)
    assert http_backoff_from_env() == 1.0
    monkeypatch.setenv("WMO_HTTP_BACKOFF", "0.25")
    assert http_backoff_from_env() == 0.25
    monkeypatch.setenv("WMO_HTTP_BACKOFF", "fast")
    with pytest.raises(ValueError, match="WMO_HTTP_BACKOFF"):
        http_backoff_from_env()


def test_check_shape_names_the_url() -> None:
    assert check_shape("u", {"Title": "x"}, singleton=True) == {"Title": "x"}
    with pytest.raises(FetchError, match=r"GET http://h/RegioS: unexpected response shape"):
        check_shape("http://h/RegioS", {"Title": "x"}, singleton=False)
    with pytest.raises(FetchError, match="expected a JSON object, got list"):
        check_shape("http://h/RegioS", [1, 2], singleton=True)


# --- against the loopback server ------------------------------------------------------------


def _client() -> CbsClient:
    return CbsClient(load_settings())


def test_get_returns_the_bytes_as_sent_and_the_parsed_json(cbs_server: CbsServer) -> None:
    sent = cbs_server.add("/x/RegioS?$format=json", {"value": [{"Key": "NL01  ", "Title": "Één"}]})
    with _client() as client:
        body, data = client.get(f"{cbs_server.url}/x/RegioS?$format=json")
    assert body == sent
    assert data["value"][0]["Key"] == "NL01  "  # padding is the caller's business, kept as is


def test_503_twice_then_success(cbs_server: CbsServer) -> None:
    target = "/ODataApi/odata/1NED/TableInfos?$format=json"
    sent = cbs_server.add(target, {"value": [{"Title": "t"}]}, faults=[status_fault(503, 2)])
    with _client() as client:
        body, _ = client.get(cbs_server.url + target)
    assert body == sent
    assert cbs_server.hits(target) == 3


def test_429_waits_for_retry_after(cbs_server: CbsServer) -> None:
    target = "/t?$format=json"
    cbs_server.add(target, {"value": []}, faults=[rate_limited("1")])
    started = time.monotonic()
    with _client() as client:  # back-off is 0.01 s, so only Retry-After explains a 1 s wait
        client.get(cbs_server.url + target)
    assert time.monotonic() - started >= 1.0
    assert cbs_server.hits(target) == 2


def test_slow_server_fails_after_bounded_retries_with_a_clear_message(
        cbs_server: CbsServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WMO_HTTP_TIMEOUT", "0.2")
    monkeypatch.setenv("WMO_HTTP_RETRIES", "2")
    target = "/slow?$format=json"
    cbs_server.add(target, {"value": []}, faults=[slow(5.0, times=None)])
    url = cbs_server.url + target
    started = time.monotonic()
    with _client() as client, pytest.raises(FetchError) as info:
        client.get(url)
    assert time.monotonic() - started < 3.0
    message = str(info.value)
    assert url in message
    assert "after 3 attempt(s)" in message
    assert "Timeout" in message
    assert cbs_server.hits(target) == 3


def test_connection_dropped_mid_body_is_retried(cbs_server: CbsServer) -> None:
    target = "/ODataFeed/odata/1NED/TypedDataSet?$format=json"
    sent = cbs_server.add(target, {"value": sample_v3_rows(50)}, faults=[truncated(1)])
    with _client() as client:
        body, data = client.get(cbs_server.url + target)
    assert body == sent
    assert len(data["value"]) == 50
    assert cbs_server.hits(target) == 2


def test_connection_dropped_every_time_fails_naming_url_and_attempts(
        cbs_server: CbsServer) -> None:
    target = "/drop?$format=json"
    cbs_server.add(target, {"value": sample_v3_rows(50)}, faults=[truncated(None)])
    with _client() as client, pytest.raises(FetchError) as info:
        client.get(cbs_server.url + target)
    assert cbs_server.url + target in str(info.value)
    assert "after 4 attempt(s)" in str(info.value)
    assert cbs_server.hits(target) == 4


def test_cut_json_once_is_retried_and_persistently_cut_json_fails(cbs_server: CbsServer) -> None:
    once, always = "/once?$format=json", "/always?$format=json"
    sent = cbs_server.add(once, {"value": [1, 2, 3]}, faults=[cut_json(1)])
    cbs_server.add(always, {"value": [1, 2, 3]}, faults=[cut_json(None)])
    with _client() as client:
        assert client.get(cbs_server.url + once)[0] == sent
        with pytest.raises(FetchError, match="truncated or invalid JSON") as info:
            client.get(cbs_server.url + always)
    assert "after 4 attempt(s)" in str(info.value)
    assert cbs_server.hits(always) == 4


def test_404_fails_at_once_with_status_and_body(cbs_server: CbsServer) -> None:
    url = f"{cbs_server.url}/ODataApi/odata/NOPE/?$format=json"
    with _client() as client, pytest.raises(FetchError) as info:
        client.get(url)
    message = str(info.value)
    assert url in message and "HTTP 404" in message and "Resource not found" in message
    assert cbs_server.hits("/ODataApi/odata/NOPE/?$format=json") == 1


def test_persistent_500_fails_after_all_retries(cbs_server: CbsServer) -> None:
    cbs_server.add("/e", {"value": []}, faults=[status_fault(500, None)])
    with _client() as client, pytest.raises(FetchError, match=r"after 4 attempt\(s\): HTTP 500"):
        client.get(cbs_server.url + "/e")
    assert cbs_server.hits("/e") == 4


def test_unexpected_shape_is_not_retried(cbs_server: CbsServer) -> None:
    cbs_server.add("/odd", {"odata.metadata": "m", "rows": []})
    with _client() as client, pytest.raises(FetchError, match="unexpected response shape"):
        client.get(cbs_server.url + "/odd")
    assert cbs_server.hits("/odd") == 1


def test_connection_refused_is_retried_then_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("WMO_HTTP_BACKOFF", "0.01")
    monkeypatch.setenv("WMO_HTTP_RETRIES", "1")
    with _client() as client, pytest.raises(FetchError, match=r"after 2 attempt\(s\): Connection"):
        client.get(f"http://127.0.0.1:{port}/x")


def test_iter_pages_follows_every_next_link_verbatim_on_the_configured_host(
        cbs_server: CbsServer) -> None:
    first = "/ODataFeed/odata/99999NED/TypedDataSet?$format=json&$filter=RegioS%20eq%20%27NL01%27"
    sent = cbs_server.serve_paged(first, "https://opendata.cbs.nl", sample_v3_rows(5), 2,
                                  {"odata.metadata": "m"}, "odata.nextLink")
    with _client() as client:
        pages = list(client.iter_pages(cbs_server.url + first, base=cbs_server.v3_url,
                                       table_id="99999NED"))
    assert [p.body for p in pages] == sent
    assert [p.rows for p in pages] == [2, 2, 1]
    assert cbs_server.requests == [first, first + "&$skip=2", first + "&$skip=4"]


def test_next_link_loop_is_detected(cbs_server: CbsServer) -> None:
    target = "/ODataFeed/odata/99999NED/TypedDataSet?$format=json"
    cbs_server.add(target, {"value": [], "odata.nextLink": f"https://opendata.cbs.nl{target}"})
    with _client() as client, pytest.raises(FetchError, match="already fetched"):
        list(client.iter_pages(cbs_server.url + target, base=cbs_server.v3_url,
                               table_id="99999NED"))
    assert cbs_server.hits(target) == 1


def test_a_url_without_scheme_fails_at_once_as_fetch_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WMO_HTTP_BACKOFF", "5")  # a retry would make this test slow
    with _client() as client, pytest.raises(FetchError, match="not retried"):
        client.get("127.0.0.1:9/ODataApi/odata/X/?$format=json")
