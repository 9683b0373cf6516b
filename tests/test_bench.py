"""The benchmark harness (bench/): statistics, ratios, results file, run selection. No timings."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from bench.__main__ import (
    GROUPS,
    PARTIAL,
    RESULTS,
    is_full_run,
    parse_groups,
    results_path,
)
from bench.browser import budgets
from bench.exports import csv_rows, expect_rows, repeat_rows
from bench.harness import (
    Baseline,
    Repeats,
    figure,
    format_table,
    machine,
    measure,
    median,
    p95,
    ratio,
    relative_budget,
    results_document,
    write_results,
)

REQUIRED_KEYS = {"name", "unit", "median", "p95", "budget", "within"}


# --- statistics -----------------------------------------------------------------------------


def test_p95_is_the_nearest_rank_value() -> None:
    assert p95(list(range(1, 101))) == 95
    assert p95(list(range(1, 21))) == 19  # from 20 runs on, one outlier is not the p95
    assert p95(list(range(1, 22))) == 20  # rank ceil(19.95) = 20
    assert p95([3.0, 1.0, 2.0]) == 3.0  # few runs: the maximum; input order does not matter
    assert p95([7.0]) == 7.0
    with pytest.raises(ValueError):
        p95([])


def test_median_of_odd_and_even_counts() -> None:
    assert median([5.0, 1.0, 3.0]) == 3.0
    assert median([4.0, 1.0, 3.0, 2.0]) == 2.5
    with pytest.raises(ValueError):
        median([])


def test_ratio_is_baseline_over_ours() -> None:
    assert ratio(16.0, 0.8) == 20.0
    assert ratio(0.6, 0.8) == 0.75  # below 1: the baseline is faster, and that is reported
    assert ratio(None, 0.8) is None
    assert ratio(1.0, 0.0) is None


def test_figure_judges_p95_by_default_and_carries_the_baseline() -> None:
    values = [1.0] * 19 + [3.0]  # median 1, p95 1 (rank 19), max 3
    fig = figure("x_s", "s", values, 2.0, baseline=Baseline("pandas", [4.0, 5.0, 6.0]))
    assert (fig.median, fig.p95, fig.within, fig.runs) == (1.0, 1.0, True, 20)
    assert (fig.baseline, fig.baseline_median, fig.baseline_p95, fig.baseline_runs) == (
        "pandas", 5.0, 6.0, 3)
    assert fig.ratio == 5.0

    over = figure("y_ms", "ms", [10.0, 10.0, 60.0], 50.0)  # p95 of 3 runs is the maximum
    assert over.within is False and over.ratio is None and over.baseline_median is None
    assert figure("y_ms", "ms", [10.0, 10.0, 60.0], 50.0, judged_on="median").within is True
    assert figure("z", "MB", [8.1], None).within is None
    with pytest.raises(ValueError):
        figure("z", "MB", [8.1], None, judged_on="mean")


def test_relative_budget_is_the_floors_judged_statistic_plus_the_margin() -> None:
    floor = [1.0, 1.2, 1.4, 5.0]  # median 1.3, p95 5.0 (the maximum of 4 runs)
    assert relative_budget(floor, 0.5, "median") == 1.8
    assert relative_budget(floor, 0.5) == 5.5  # p95 unless told
    assert relative_budget([100.04, 120.0], 100.0, "median", digits=1) == 210.0
    with pytest.raises(ValueError):
        relative_budget(floor, 0.5, "mean")
    with pytest.raises(ValueError):
        relative_budget([], 0.5)


def test_browser_budgets_follow_the_calibration_of_the_same_run() -> None:
    # First map judged on the median (+0.5 s), interaction on the p95 (+100 ms), as the
    # figures themselves are judged.
    quiet = budgets([1.4, 1.5, 1.6], [150.0, 170.0, 190.0])
    busy = budgets([1.9, 2.0, 2.6], [150.0, 170.0, 300.0])
    assert (quiet.first_map_s, quiet.interaction_ms) == (2.0, 290.0)
    assert (busy.first_map_s, busy.interaction_ms) == (2.5, 400.0)
    assert "1.500 s" in quiet.first_map_note and "+ 0.5 s" in quiet.first_map_note
    assert "190.0 ms" in quiet.interaction_note and "+ 100 ms" in quiet.interaction_note
    # The same page timings pass on the busy run and fail on the quiet one.
    page_first, page_inter = [2.2, 2.3, 2.4], [250.0, 280.0, 350.0]
    assert figure("f", "s", page_first, quiet.first_map_s, judged_on="median").within is False
    assert figure("f", "s", page_first, busy.first_map_s, judged_on="median").within is True
    assert figure("i", "ms", page_inter, quiet.interaction_ms).within is False
    assert figure("i", "ms", page_inter, busy.interaction_ms).within is True


# --- measuring --------------------------------------------------------------------------------


def fake_clock(step: float) -> Iterator[float]:
    now = 0.0
    while True:
        yield now
        now += step


def test_measure_runs_at_least_min_then_until_the_time_target() -> None:
    calls: list[int] = []
    checked: list[int] = []
    clock = fake_clock(1.0)  # every timed call appears to take exactly 1 s
    times = measure(lambda: calls.append(len(calls)) or len(calls), Repeats(2, 10, 3.0, warmup=1),
                    check=checked.append, clock=lambda: next(clock))
    assert times == [1.0, 1.0, 1.0]  # stops once 3 s of timed work is reached
    assert len(calls) == 4  # one warm-up call, not timed
    assert checked == [1]  # the first result is checked, once


def test_measure_respects_max_runs_and_min_runs() -> None:
    clock = fake_clock(0.001)
    assert len(measure(lambda: 0, Repeats(2, 5, 100.0, warmup=0),
                       clock=lambda: next(clock))) == 5
    clock = fake_clock(10.0)
    assert len(measure(lambda: 0, Repeats(3, 5, 1.0, warmup=0),
                       clock=lambda: next(clock))) == 3


def test_measure_fails_when_the_output_check_fails() -> None:
    def check(value: int) -> None:
        raise AssertionError(f"bad output {value}")

    with pytest.raises(AssertionError, match="bad output 0"):
        measure(lambda: 0, Repeats(2, 2, warmup=0), check=check)


def test_repeats_never_allow_a_single_timed_run() -> None:
    with pytest.raises(ValueError):
        Repeats(1, 1)
    with pytest.raises(ValueError):
        Repeats(3, 2)


# --- results file -----------------------------------------------------------------------------


def test_results_file_shape_with_the_machine_object(tmp_path: Path) -> None:
    figures = [figure("export_csv_1m_rows_s", "s", [0.9, 1.0, 1.1], 2.0,
                      baseline=Baseline("pandas to_csv", [15.0, 16.0])),
               figure("db_size_default_mb", "MB", [8.1], 50.0)]
    path = tmp_path / "results.json"
    write_results(path, results_document(figures, machine({"groups": ["exports"]})))

    doc = json.loads(path.read_text())
    assert isinstance(doc, list) and len(doc) == 3
    *objects, host = doc
    for obj in objects:
        assert REQUIRED_KEYS | {"ratio", "baseline_median"} <= obj.keys()
        assert isinstance(obj["median"], float) and isinstance(obj["p95"], float)
        assert isinstance(obj["within"], bool)
    assert objects[0]["ratio"] == 15.5 and objects[0]["baseline_median"] == 15.5
    assert objects[1]["ratio"] is None
    assert host["name"] == "machine"
    assert isinstance(host["cores"], int) and host["cores"] >= 1
    assert host["memory_gb"] > 0
    assert host["versions"]["duckdb"] and host["versions"]["polars"]
    assert host["run"] == {"groups": ["exports"]}
    assert not list(tmp_path.glob("*.tmp"))  # written via a temp file, nothing left over


def test_results_document_rejects_duplicates_and_a_missing_machine_object() -> None:
    fig = figure("a", "s", [1.0, 2.0], 5.0)
    with pytest.raises(ValueError, match="duplicate"):
        results_document([fig, fig], machine())
    with pytest.raises(ValueError, match="machine"):
        results_document([fig], {"cores": 2})


def test_table_shows_verdict_baseline_and_ratio() -> None:
    table = format_table([
        figure("export_csv_1m_rows_s", "s", [1.0, 1.2], 2.0, baseline=Baseline("p", [16.0, 16.0])),
        figure("etl_build_full_peak_rss_mb", "MB", [4472.0, 4499.0], 1500.0),
    ])
    lines = table.splitlines()
    assert lines[0].split()[:5] == ["figure", "median", "p95", "budget", "result"]
    csv_line = next(line for line in lines if line.startswith("export_csv_1m_rows_s"))
    assert "within" in csv_line and "16.000" in csv_line and "14.55x" in csv_line
    rss_line = next(line for line in lines if line.startswith("etl_build_full_peak_rss_mb"))
    assert "OVER" in rss_line and "4,499" in rss_line


# --- run selection: a partial run never writes bench/results.json ---------------------------


def test_groups_are_selected_in_run_order_and_unknown_ones_rejected() -> None:
    assert parse_groups(None) == list(GROUPS)
    assert parse_groups("sql, exports") == ["exports", "sql"]
    assert "build_full" not in parse_groups(None, skip_full=True)
    with pytest.raises(ValueError, match="nosuchgroup"):
        parse_groups("exports,nosuchgroup")
    with pytest.raises(ValueError, match="no group"):
        parse_groups("build_full", skip_full=True)


def test_only_a_full_run_writes_bench_results_json(tmp_path: Path) -> None:
    every = list(GROUPS)
    assert is_full_run(every, quick=False, db=None)
    assert not is_full_run(every, quick=True, db=None)
    assert not is_full_run(every, quick=False, db=tmp_path / "x.duckdb")
    assert not is_full_run(["exports", "sql"], quick=False, db=None)

    assert results_path(True, None) == RESULTS
    assert results_path(False, None) == PARTIAL != RESULTS
    assert results_path(False, tmp_path / "p.json") == tmp_path / "p.json"
    with pytest.raises(ValueError, match="only a full run"):
        results_path(False, RESULTS)


# --- benchmark inputs -------------------------------------------------------------------------


def test_repeat_rows_gives_exactly_n_rows_with_the_same_schema() -> None:
    frame = pl.DataFrame({"code": ["GM0001", "GM0002", "GM0003"], "n": [1.0, None, 3.0]})
    big = repeat_rows(frame, 10)
    assert big.height == 10 and big.schema == frame.schema
    assert big["code"].to_list()[3:6] == frame["code"].to_list()
    with pytest.raises(ValueError):
        repeat_rows(frame.clear(), 10)


def test_export_row_check_counts_data_rows_not_comment_lines() -> None:
    buf = io.BytesIO()
    buf.write(b"# provenance line\n# another\n")
    pl.DataFrame({"a": [1, 2, 3]}).write_csv(buf)
    data = buf.getvalue()
    assert csv_rows(data) == 3
    expect_rows(csv_rows, 3)(data)
    with pytest.raises(AssertionError, match="holds 3 data rows, expected 4"):
        expect_rows(csv_rows, 4)(data)


def test_the_generated_werkwijze_register_is_valid_and_as_large_as_asked(tmp_path: Path) -> None:
    """The validate benchmark must time a register that passes, not one that stops early."""
    from bench.validate import werkwijze_rows, write_register
    from etl.sources.registers import read_werkwijze
    from tests.test_registers import GEMEENTE

    codes = ["GM0363", "GM0392", "GM1640"]
    path = tmp_path / "werkwijze.csv"
    write_register(path, werkwijze_rows(codes, 1_000))
    frame, errors = read_werkwijze(path, GEMEENTE)
    assert errors == []
    assert frame.height == 1_000
    assert set(frame["werkwijze"]) == {"resultaatgericht", "uren"}
    assert set(frame["gemeente_code"]) == set(codes)


def test_child_peak_is_the_childs_own_not_the_parents() -> None:
    """Linux carries the parent's high-water mark into a child's ru_maxrss; the figure must be
    the child's own (a build measured 1 528 MB while its own peak was about 1 250 MB)."""
    import sys

    from bench.harness import run_child

    ballast = bytearray(600 * 1024 * 1024)  # the parent is large, as in a full bench run
    ballast[::4096] = b"x" * len(ballast[::4096])  # touch every page so it counts as resident
    _, small = run_child([sys.executable, "-c", "pass"])
    _, big = run_child([sys.executable, "-c",
                        "b = bytearray(300 * 1024 * 1024); b[::4096] = b'x' * len(b[::4096]); "
                        "import time; time.sleep(0.2)"])
    del ballast
    assert small < 200
    assert 300 <= big < 500
