"""bench/wsclient.py against a real Streamlit server on loopback: the real protocol, no mocks.

The demo app must give clean interactions; a small app shows that failures are counted, that
an st.rerun inside a run is waited out and that cached-message references are resolved.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.proto.WidgetStates_pb2 import WidgetState

from bench.wsclient import (
    Session,
    check_run,
    interact,
    open_page,
    run_async,
    run_sessions,
    session_run,
)
from tests.browser_fixtures import Server, free_port, start_streamlit, stop

pytestmark = pytest.mark.slow

# "2023" calls st.rerun once per session, "2020" renders nothing that names it, "2024*"
# raises after the controls and "2021" before them (the page is left without its control).
# The filler makes each page element large enough to be cached (10 kB).
SMALL_APP = '''
import streamlit as st

if st.session_state.get("periode") == "2021":
    raise RuntimeError("broken before the controls")
periode = st.selectbox("Periode", ["2022", "2023", "2020", "2024*", "2021"], key="periode")
if periode == "2023" and not st.session_state.get("reran"):
    st.session_state.reran = True
    st.rerun()
if periode.endswith("*"):
    raise ValueError("provisional year")
if periode != "2020":
    st.markdown(f"Kaart {periode}\\n\\n" + "x" * 20_000)
'''
# Fails on every session's first run only, like a cold-start fault: the control is there, the
# page shows a traceback, and later runs would succeed.
BROKEN_APP = '''
import streamlit as st

periode = st.selectbox("Periode", ["2022", "2023"])
if "opened" not in st.session_state:
    st.session_state.opened = True
    raise RuntimeError("cold start")
st.markdown(f"Kaart {periode}")
'''


def serve(folder: Path, source: str) -> Server:
    app = folder / "app.py"
    app.write_text(source)
    # These small pages fail on purpose and the tests read their messages; the served config
    # redacts exception details for readers (showErrorDetails = "none").
    return start_streamlit(folder / "unused.duckdb", folder / "server.log", app=app,
                           extra_args=("--client.showErrorDetails", "full"))


@pytest.fixture(scope="module")
def small_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = serve(tmp_path_factory.mktemp("wsclient"), SMALL_APP)
    yield server
    stop(server)


def test_simultaneous_first_loads_on_a_cold_server(demo_db: Path, tmp_path: Path) -> None:
    # Regression: concurrent first runs once had altair read a half-imported pandas from
    # sys.modules (AttributeError on the page); dashboard/app.py now imports it up front.
    server = start_streamlit(demo_db, tmp_path / "server.log")
    try:
        latencies, errors = run_async(run_sessions(server.url, sessions=20, interactions=1))
    finally:
        stop(server)
    assert errors == 0
    assert len(latencies) == 20


def test_demo_app_sessions_change_the_period_without_errors(app_server: Server) -> None:
    latencies, errors = run_async(run_sessions(app_server.url, sessions=3, interactions=3))
    assert errors == 0
    assert len(latencies) == 9
    assert all(ms > 0 for ms in latencies)


def test_demo_app_session_sends_every_widget_and_follows_the_url(app_server: Server) -> None:
    async def scenario() -> tuple[Session, str]:
        session = await open_page(app_server.url, 60)
        # Arriving on a page corrects the browser's history entry in the page itself (no
        # message to follow); a changed control is one URL message, which the client follows.
        first = session.query_string
        await interact(session, 60)
        session.close()
        return session, first

    session, first = run_async(scenario())
    period_id, options = session.period_box()
    assert len(options) > 2
    # Four selectboxes, the werkwijze checkbox and the language radio, as the browser holds.
    assert len(session.widgets) == 6
    assert session.widgets[period_id].string_value in options
    assert "periode=" not in first
    assert "periode=" in session.query_string
    assert session.page_script_hash


def test_failed_interactions_are_counted_and_the_session_goes_on(small_server: Server) -> None:
    result = run_async(session_run(small_server.url, interactions=5))
    # 2022 → 2023 (ok, after an st.rerun) → 2020 (label missing) → 2024* (exception)
    # → 2021 (exception, no control left) → reload: 2022 → 2023 (ok)
    assert len(result.latencies_ms) == 2
    assert len(result.errors) == 3
    assert "'2020' not shown" in result.errors[0]
    assert "exception element" in result.errors[1]
    assert "provisional year" in result.errors[1]
    assert "broken before the controls" in result.errors[2]


def test_run_sessions_adds_up_errors_over_sessions(small_server: Server) -> None:
    latencies, errors = run_async(run_sessions(small_server.url, sessions=3, interactions=5))
    assert (len(latencies), errors) == (6, 9)


def test_st_rerun_and_cached_references_are_followed(small_server: Server) -> None:
    async def scenario() -> Session:
        session = await open_page(small_server.url, 60)
        period_id, _ = session.period_box()
        for label in ("2023", "2022"):
            run = await session.rerun(WidgetState(id=period_id, string_value=label))
            check_run(run, label, period_id)
        session.close()
        return session

    session = run_async(scenario())
    assert session.early_reruns == 1
    # 2022's page element came back as a reference; check_run found the label in it.
    assert session.ref_hits == 1


def test_a_server_that_is_not_there_counts_every_interaction(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    latencies, errors = run_async(run_sessions(url, sessions=2, interactions=3,
                                                 timeout_s=5))
    assert (latencies, errors) == ([], 6)


def test_a_page_that_fails_to_open_counts_every_interaction(tmp_path: Path) -> None:
    server = serve(tmp_path, BROKEN_APP)
    try:
        result = run_async(session_run(server.url, interactions=2))
    finally:
        stop(server)
    assert result.latencies_ms == []
    assert len(result.errors) == 2
    assert all("cold start" in e for e in result.errors)
