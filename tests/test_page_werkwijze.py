"""Werkwijze page: AppTest on a real demo database; the estimator (OLS with HC1 errors and the
t quantile) against closed forms and synthetic data with a known effect; coverage and
before/after against independent SQL."""

from __future__ import annotations

import math
import string
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from dashboard import catalog, measures
from dashboard import charts as chart_render
from dashboard.charts import fmt_number
from dashboard.db import Database
from dashboard.views import uitgaven, werkwijze
from tests.dashboard_fixtures import AppFactory, chart_specs


def charts(at) -> list[dict]:
    """The page's charts as a reader counts them: the panels of a small-multiples grid are one
    chart (each panel carries the group's title and every panel's rows)."""
    out, groups = [], set()
    for spec in chart_specs(at):
        if "panel" in spec.get("usermeta", {}):
            if chart_render.title_of(spec) in groups:
                continue
            groups.add(chart_render.title_of(spec))
        out.append(spec)
    return out


def chart_titled(at, start: str) -> dict:
    found = [c for c in charts(at) if chart_render.title_of(c).startswith(start)]
    assert len(found) == 1, [chart_render.title_of(c) for c in charts(at)]
    return found[0]


# --- AppTest ------------------------------------------------------------------------------------

def test_page_renders_every_section_with_caveats(make_app: AppFactory) -> None:
    at = make_app(page="werkwijze", maat="hbh_per_1000")
    assert not at.exception
    assert at.title[0].value == "Werkwijze: resultaatgericht of in uren"
    text = " ".join(m.value for m in at.markdown)
    for phrase in ("Waarnemingsgegevens", "Onvolledig register", "Voorlopige cijfers",
                   "Synthetische demodata"):
        assert phrase in text
    titles = [chart_render.title_of(c) for c in charts(at)]
    assert len(titles) == 7  # six on clients, one on household-help spending
    assert any(t.startswith("Uitgaven hbh: resultaatgericht min uren") for t in titles)
    assert all("SYNTHETISCHE DEMODATA" in chart_render.subtitles_of(c)[-1] for c in charts(at))


def test_changing_the_year_changes_the_comparison(make_app: AppFactory) -> None:
    at = make_app(page="werkwijze", maat="hbh_per_1000", jaar="2024")
    before = chart_titled(at, "Verschil resultaatgericht")["_rows"]
    at.selectbox(key="werkwijze_jaar").select("2020").run()
    assert not at.exception
    assert at.query_params["jaar"] == "2020"
    after = chart_titled(at, "Verschil resultaatgericht")
    assert "2020" in chart_render.title_of(after)
    assert after["_rows"] != before


def test_deep_link_sets_controls(make_app: AppFactory) -> None:
    at = make_app(page="werkwijze", maat="per_1000_75plus", voorziening="A019507", jaar="2019",
                  taal="en")
    assert not at.exception
    assert at.selectbox(key="werkwijze_maat").value == "per_1000_75plus"
    assert at.selectbox(key="werkwijze_voorziening").value == "A019507"
    assert at.selectbox(key="werkwijze_jaar").value == "2019"
    assert at.title[0].value == "Working method: result-oriented or in hours"
    assert "2019" in chart_render.title_of(chart_titled(at, "Difference result-oriented"))
    assert any("Synthetic demo data" in m.value for m in at.markdown)


def test_unknown_deep_link_gives_message_and_default(make_app: AppFactory,
                                                     demo_db: Path) -> None:
    at = make_app(page="werkwijze", jaar="1999", maat="nonsense")
    assert not at.exception
    messages = " ".join(i.value for i in at.info)
    assert "1999" in messages and "nonsense" in messages
    newest = werkwijze.year_options(Database(demo_db))[0]
    assert at.selectbox(key="werkwijze_jaar").value == newest
    assert at.selectbox(key="werkwijze_maat").value == werkwijze.DEFAULT_MAAT


def test_small_groups_get_a_clear_warning(make_app: AppFactory, demo_db: Path) -> None:
    db = Database(demo_db)
    small = [j for j in werkwijze.year_options(db)
             if werkwijze.comparison(db, "hbh_per_1000", catalog.HBH, int(j)).small]
    large = [j for j in werkwijze.year_options(db)
             if not werkwijze.comparison(db, "hbh_per_1000", catalog.HBH, int(j)).small]
    assert small and large  # the demo has both kinds of year
    at = make_app(page="werkwijze", maat="hbh_per_1000", voorziening=catalog.HBH, jaar=small[0])
    assert any("onbetrouwbaar" in w.value for w in at.warning)
    at = make_app(page="werkwijze", maat="hbh_per_1000", voorziening=catalog.HBH, jaar=large[0])
    assert not any("onbetrouwbaar" in w.value for w in at.warning)


def test_coverage_chart_counts_match_the_database(make_app: AppFactory, demo_db: Path) -> None:
    at = make_app(page="werkwijze", maat="hbh_per_1000")
    rows = [r for r in chart_titled(at, "Gemeenten naar werkwijze")["_rows"]
            if "werkwijze_label" in r]
    got = {(int(r["jaar"]), r["werkwijze"]): r["gemeenten"] for r in rows}
    direct = Database(demo_db).query(
        "SELECT jaar, coalesce(werkwijze_hbh, 'onbekend') AS w, count(*) AS n "
        "FROM out.gemeente_periode WHERE voorziening_code = 'T001024' AND halfjaar IS NULL "
        "GROUP BY ALL")
    assert {(j, w): n for j, w, n in direct.iter_rows()} == {k: v for k, v in got.items() if v}


def test_before_after_shows_each_switch(make_app: AppFactory, demo_db: Path) -> None:
    at = make_app(page="werkwijze", maat="hbh_per_1000")
    expected = Database(demo_db).query(
        "WITH k AS (SELECT gemeente_code, jaar, werkwijze_hbh AS w FROM out.gemeente_periode "
        "WHERE voorziening_code = 'T001024' AND halfjaar IS NULL AND werkwijze_hbh IS NOT NULL),"
        " s AS (SELECT gemeente_code, jaar, w, lag(w) OVER (PARTITION BY gemeente_code "
        "ORDER BY jaar) AS vorige FROM k) "
        "SELECT count(*) FROM s WHERE vorige IS NOT NULL AND vorige <> w").item()
    assert expected > 0
    chart = chart_titled(at, "Gemeenten die van werkwijze wisselden")
    assert len({r["paneel"] for r in chart["_rows"]}) == expected


def test_no_switches_is_said_not_faked(make_app: AppFactory,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    empty = pl.DataFrame(schema={"code": pl.String, "naam": pl.String, "jaar": pl.Int32,
                                 "van": pl.String, "naar": pl.String, "vorig_jaar": pl.Int32})
    monkeypatch.setattr(werkwijze, "switches", lambda db, bronnen="alle": empty)
    # The memoised wrapper may already hold this build's real answer; use the plain function.
    monkeypatch.setattr(werkwijze, "before_after", werkwijze._before_after)
    at = make_app(page="werkwijze", maat="hbh_per_1000")
    assert not at.exception
    assert any("geen enkele gemeente" in i.value for i in at.info)
    assert not [c for c in charts(at) if chart_render.title_of(c).startswith("Gemeenten die")]


def test_find_switches_skips_unknown_years_and_needs_a_real_change() -> None:
    frame = pl.DataFrame({
        "code": ["A"] * 5 + ["B"] * 3, "naam": ["a"] * 5 + ["b"] * 3,
        "jaar": [2015, 2016, 2017, 2018, 2019, 2015, 2016, 2017],
        "werkwijze": ["resultaatgericht", "onbekend", "uren", "uren", "resultaatgericht",
                      "uren", "onbekend", "uren"]})
    found = werkwijze.find_switches(frame)
    assert found.select("code", "jaar", "van", "naar", "vorig_jaar").rows() == [
        ("A", 2017, "resultaatgericht", "uren", 2015),
        ("A", 2019, "uren", "resultaatgericht", 2018)]
    assert werkwijze.find_switches(frame.filter(pl.col("code") == "B")).is_empty()


# --- estimator ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("df", "expected"), [
    (1, 12.706204736), (2, 4.302652730), (5, 2.570581836), (10, 2.228138852),
    (30, 2.042272456), (1000, 1.962339081)])
def test_t_quantile_matches_tables(df: int, expected: float) -> None:
    assert math.isclose(werkwijze.t_quantile(0.975, df), expected, rel_tol=1e-7)
    assert math.isclose(werkwijze.t_quantile(0.025, df), -expected, rel_tol=1e-7)


def test_ols_hc1_equals_the_closed_form_for_two_groups() -> None:
    # y on a constant and a dummy: the slope is the difference in means, and the HC1 variance
    # is n/(n-2) * (sum e1^2 / n1^2 + sum e0^2 / n0^2).
    y0, y1 = np.array([1.0, 2.0, 4.0]), np.array([3.0, 7.0])
    y = np.concatenate([y0, y1])
    d = np.array([0, 0, 0, 1, 1], dtype=float)
    fit = werkwijze.ols_hc1(np.column_stack([np.ones(5), d]), y)
    assert math.isclose(fit.coef[0], y0.mean()) and math.isclose(fit.coef[1], 5 - 7 / 3)
    var = 5 / 3 * (((y1 - y1.mean()) ** 2).sum() / 4 + ((y0 - y0.mean()) ** 2).sum() / 9)
    assert math.isclose(fit.se[1], math.sqrt(var), rel_tol=1e-12)
    lo, hi = fit.interval(1)
    assert math.isclose(hi - fit.coef[1], werkwijze.t_quantile(0.975, 3) * math.sqrt(var))
    assert math.isclose(fit.coef[1] - lo, hi - fit.coef[1])


def test_ols_hc1_equals_the_textbook_matrices() -> None:
    rng = np.random.default_rng(1)
    x = np.column_stack([np.ones(12), rng.normal(size=(12, 3))])
    y = x @ np.array([1.0, 2.0, -1.0, 0.5]) + rng.normal(size=12)
    fit = werkwijze.ols_hc1(x, y)
    beta, *_ = np.linalg.lstsq(x, y, rcond=None)
    assert np.allclose(fit.coef, beta)
    e = y - x @ beta
    bread = np.linalg.inv(x.T @ x)
    meat = sum(e[i] ** 2 * np.outer(x[i], x[i]) for i in range(12))
    assert np.allclose(fit.se, np.sqrt(np.diag(12 / 8 * bread @ meat @ bread)))


def test_ols_refuses_what_it_cannot_estimate() -> None:
    x = np.column_stack([np.ones(5), np.arange(5.0), 2 * np.arange(5.0)])
    with pytest.raises(werkwijze.NotEstimable):
        werkwijze.ols_hc1(x, np.arange(5.0))
    with pytest.raises(werkwijze.NotEstimable):
        werkwijze.ols_hc1(np.ones((2, 2)) + np.eye(2), np.ones(2))


def synthetic(n: int, effect: float, seed: int) -> pl.DataFrame:
    """Gemeenten where ageing raises the figure AND makes resultaatgericht likelier, so the
    raw difference is confounded and only the adjusted one recovers `effect`. The noise grows
    with the figure (heteroskedastic), which is what HC1 is for."""
    rng = np.random.default_rng(seed)
    aandeel = rng.uniform(0.05, 0.15, n)
    inwoners = np.exp(rng.uniform(math.log(5_000), math.log(500_000), n))
    res = rng.uniform(size=n) < (aandeel - 0.05) / 0.1
    mean = 5 + 200 * aandeel + 1.5 * np.log(inwoners) + effect * res
    waarde = mean + rng.normal(size=n) * (0.5 + 0.1 * mean)
    return pl.DataFrame({
        "werkwijze": np.where(res, "resultaatgericht", "uren"), "waarde": waarde,
        "aandeel_75plus": aandeel, "inwoners": inwoners})


def test_adjusted_comparison_recovers_a_known_effect() -> None:
    cmp = werkwijze.compare_groups(synthetic(600, 3.0, seed=11))
    assert cmp.adjusted is not None and cmp.raw is not None
    assert cmp.adjusted.lo < 3.0 < cmp.adjusted.hi
    assert cmp.raw.lo > 3.0  # confounded by ageing: the raw difference overstates
    assert not cmp.small and cmp.n_res + cmp.n_uren == 600


def test_adjusted_comparison_finds_no_effect_when_there_is_none() -> None:
    cmp = werkwijze.compare_groups(synthetic(600, 0.0, seed=12))
    assert cmp.adjusted is not None
    assert cmp.adjusted.lo < 0.0 < cmp.adjusted.hi
    assert abs(cmp.adjusted.verschil) < 2.5 * cmp.adjusted.se


def test_interval_covers_about_95_percent() -> None:
    hits = 0
    for seed in range(200):
        est = werkwijze.compare_groups(synthetic(150, 2.0, seed=1000 + seed)).adjusted
        assert est is not None
        hits += est.lo < 2.0 < est.hi
    assert 0.90 <= hits / 200 <= 0.99


def test_compare_groups_ignores_onbekend_and_counts_missing() -> None:
    frame = synthetic(40, 1.0, seed=3).vstack(pl.DataFrame({
        "werkwijze": ["onbekend", "uren"], "waarde": [1e6, None],
        "aandeel_75plus": [0.1, 0.1], "inwoners": [1e4, 1e4]}))
    cmp = werkwijze.compare_groups(frame)
    assert cmp.n_res + cmp.n_uren == 40 and cmp.n_missing == 1
    assert cmp.small == (min(cmp.n_res, cmp.n_uren) < werkwijze.SMALL_N)
    only_res = frame.filter(pl.col("werkwijze") != "uren")
    assert werkwijze.compare_groups(only_res).reason == "group"


# --- against the demo database ------------------------------------------------------------------

@pytest.fixture(scope="module")
def database(demo_db: Path) -> Database:
    return Database(demo_db)


def test_demo_estimate_equals_an_independent_fit(database: Database) -> None:
    rows = database.query(
        "SELECT clienten_per_1000 AS y, werkwijze_hbh = 'resultaatgericht' AS d, "
        "aandeel_75plus, ln(inwoners) AS log_inw FROM out.gemeente_periode "
        "WHERE voorziening_code = ? AND periode_code = '2023JJ00' "
        "AND werkwijze_hbh IS NOT NULL AND clienten_per_1000 IS NOT NULL", [catalog.HBH])
    x = np.column_stack([np.ones(rows.height), rows["d"].cast(pl.Float64).to_numpy(),
                         rows["aandeel_75plus"].to_numpy(), rows["log_inw"].to_numpy()])
    beta, *_ = np.linalg.lstsq(x, rows["y"].to_numpy(), rcond=None)
    cmp = werkwijze.comparison(database, "hbh_per_1000", catalog.HBH, 2023)
    assert cmp.adjusted is not None
    assert math.isclose(cmp.adjusted.verschil, beta[1], rel_tol=1e-9)
    assert cmp.n_res == int(rows["d"].sum()) and cmp.n_uren == rows.height - cmp.n_res


def test_register_counts_follow_the_1_july_rule(database: Database) -> None:
    counts = werkwijze.register_counts(database)
    row = counts.filter(pl.col("jaar") == 2020).row(0, named=True)
    direct = database.query(
        "SELECT count(*) FROM core.werkwijze WHERE voorziening = 'huishoudelijke_ondersteuning' "
        "AND ingang_effectief <= DATE '2020-07-01' "
        "AND coalesce(einde_effectief, DATE '9999-01-01') > DATE '2020-07-01'").item()
    assert row["bronregels"] == direct > 0


def test_before_after_pools_the_years_of_each_side(database: Database) -> None:
    _, summary, order = werkwijze.before_after(database, "hbh_per_1000", catalog.HBH, "nl")
    assert summary.height == len(order) == werkwijze.switches(database).height
    first = summary.row(0, named=True)
    later = werkwijze.switches(database).filter(
        (pl.col("code") == first["code"]) & (pl.col("jaar") > first["eerste_jaar"]))
    end = later["jaar"].min() if not later.is_empty() else 10_000
    direct = database.query(
        "SELECT 1000 * sum(clienten) / sum(inwoners) FROM out.gemeente_periode "
        "WHERE gemeente_code = ? AND voorziening_code = ? AND halfjaar IS NULL "
        "AND jaar >= ? AND jaar < ? AND clienten IS NOT NULL",
        [first["code"], catalog.HBH, first["eerste_jaar"], end]).item()
    assert math.isclose(first["na"], direct, rel_tol=1e-12)


NL_CBS = "Nederland (CBS-methode, SYNTHETISCH)"  # a demo build: synthetic, never "(CBS)"
NL_POOLED = "Nederland (opgeteld)"


def switch_years(database: Database, row: dict) -> tuple[int, int]:
    """[start, end) of a switch's 'na' years, from the switches themselves."""
    later = werkwijze.switches(database).filter(
        (pl.col("code") == row["code"]) & (pl.col("jaar") > row["eerste_jaar"]))
    return row["eerste_jaar"], later["jaar"].min() if not later.is_empty() else 10_000


def test_before_after_country_is_cbs_count_over_all_inhabitants(database: Database) -> None:
    _, summary, _ = werkwijze.before_after(database, "hbh_per_1000", catalog.HBH, "nl")
    first = summary.row(0, named=True)
    start, end = switch_years(database, first)
    direct = database.query(
        "WITH inw AS (SELECT jaar, sum(inwoners) AS inwoners FROM out.gemeente_periode "
        "  WHERE voorziening_code = ? AND halfjaar IS NULL GROUP BY jaar) "
        "SELECT 1000 * sum(r.clienten) / sum(inw.inwoners) FROM core.wmo_clienten_regio r "
        "JOIN inw USING (jaar) WHERE r.regio_code = 'NL01' AND r.voorziening_code = ? "
        "AND r.halfjaar IS NULL AND r.jaar >= ? AND r.jaar < ?",
        [catalog.HBH, catalog.HBH, start, end]).item()
    assert math.isclose(first["nl_na"], direct, rel_tol=1e-12)
    label = werkwijze.nederland_label(database, "hbh_per_1000", catalog.HBH, "nl")
    assert label == NL_CBS
    table = werkwijze.summary_table(summary, "nl", label)
    assert {f"{NL_CBS} voor", f"{NL_CBS} na"} <= set(table.frame.columns)
    assert "volgens CBS" in werkwijze.before_after_note(database, "hbh_per_1000", catalog.HBH,
                                                        "nl")


def test_before_after_pooled_country_says_n_of_m(database: Database) -> None:
    _, summary, _ = werkwijze.before_after(database, "per_1000_75plus", catalog.TOTAAL, "nl")
    first = summary.row(0, named=True)
    start, end = switch_years(database, first)
    known = "clienten IS NOT NULL AND inwoners_75plus > 0"
    direct = database.query(
        f"SELECT 1000 * sum(clienten) FILTER (WHERE {known}) / sum(inwoners_75plus) "
        f"FILTER (WHERE {known}) FROM out.gemeente_periode WHERE voorziening_code = ? "
        "AND halfjaar IS NULL AND jaar >= ? AND jaar < ?", [catalog.TOTAAL, start, end]).item()
    assert math.isclose(first["nl_na"], direct, rel_tol=1e-12)
    assert werkwijze.nederland_label(database, "per_1000_75plus", catalog.TOTAAL, "nl") == \
        NL_POOLED
    newest = database.query(
        f"SELECT periode_code, count(*) FILTER (WHERE {known}), count(*) "
        "FROM out.gemeente_periode WHERE voorziening_code = ? AND halfjaar IS NULL "
        "GROUP BY ALL ORDER BY periode_code DESC LIMIT 1", [catalog.TOTAAL]).row(0)
    note = werkwijze.before_after_note(database, "per_1000_75plus", catalog.TOTAAL, "nl")
    assert f"gemeenten met cijfers: {newest[1]} van {newest[2]}" in note
    assert catalog.period_label(database, newest[0]) in note and "geen CBS-cijfer" in note


def test_page_names_the_country_line(make_app: AppFactory) -> None:
    at = make_app(page="werkwijze", maat="hbh_per_1000")
    trend = chart_titled(at, "Hulp bij het huishouden per 1 000 inwoners: groepen")
    assert NL_CBS in {r["reeks"] for r in trend["_rows"] if "reeks" in r}
    captions = " ".join(c.value for c in at.caption)
    assert "landelijke cijfer zoals CBS het publiceert" in captions
    assert f"{NL_CBS} voor en na" in captions
    at = make_app(page="werkwijze", maat="per_1000_75plus")
    captions = " ".join(c.value for c in at.caption)
    assert f"{NL_POOLED} voor en na is opgeteld" in captions
    assert "gemeenten met cijfers:" in captions


def test_downloads_render_as_images(database: Database) -> None:
    cmp = werkwijze.comparison(database, "hbh_per_1000", catalog.HBH, 2023)
    spec = werkwijze.estimate_chart(cmp, "titel", "bron", "sub", "eenheid", "nl", export=True)
    svg = chart_render.to_svg(spec).decode()
    assert "Ruw verschil" in svg and "titel" in svg
    cov = werkwijze.coverage_chart(werkwijze.coverage(database),
                                   werkwijze.register_counts(database), "t", "b", "s", "en",
                                   export=True)
    assert chart_render.to_png(cov)[:4] == b"\x89PNG"


def test_every_text_exists_in_both_languages_with_the_same_fields() -> None:
    for texts in (werkwijze.TEXTS, uitgaven.TEXTS):
        for key, entry in texts.items():
            assert set(entry) == {"nl", "en"}, key
            fields = [{f for _, f, _, _ in string.Formatter().parse(entry[lang]) if f}
                      for lang in ("nl", "en")]
            assert fields[0] == fields[1], key


# --- stronger sources only (?bronnen=sterk) ------------------------------------------------------

STERK = ("rechterlijke_uitspraak", "regelgeving")


def strong_source_gemeenten(database: Database, jaar: int) -> dict[str, str]:
    """code → werkwijze of the gemeenten whose household-help method on 1 July of `jaar` is
    documented by a court ruling or a regulation, with a figure to compare; straight from
    core.werkwijze, independent of werkwijze_hbh_sterke_bron."""
    # The rule for merged gemeenten (all parts must agree) is not repeated here: the test
    # states that no such gemeente is involved, and fails if the register ever changes that.
    harmonised = database.query(
        "SELECT count(*) FROM out.gemeente_periode g JOIN core.werkwijze w USING (gemeente_code) "
        "WHERE g.jaar = ? AND g.halfjaar IS NULL AND g.voorziening_code = ? "
        "AND g.is_geharmoniseerd AND list_contains(?, w.bron_type)",
        [jaar, catalog.HBH, list(STERK)]).item()
    assert harmonised == 0
    rows = database.query(
        "SELECT DISTINCT w.gemeente_code, w.werkwijze FROM core.werkwijze w "
        "JOIN out.gemeente_periode g ON g.gemeente_code = w.gemeente_code AND g.jaar = ? "
        "AND g.halfjaar IS NULL AND g.voorziening_code = ? "
        "WHERE w.voorziening = 'huishoudelijke_ondersteuning' AND list_contains(?, w.bron_type) "
        "AND w.werkwijze IN ('resultaatgericht', 'uren') "
        "AND w.ingang_effectief <= make_date(?, 7, 1) "
        "AND (w.einde_effectief IS NULL OR w.einde_effectief > make_date(?, 7, 1)) "
        "AND g.clienten_per_1000 IS NOT NULL AND g.aandeel_75plus IS NOT NULL "
        "AND g.inwoners > 0", [jaar, catalog.HBH, list(STERK), jaar, jaar])
    found = dict(rows.iter_rows())
    assert len(found) == rows.height  # one method per gemeente: sources do not conflict
    return found


def subtitle_text(chart: dict) -> str:
    sub = chart_render.subtitles_of(chart)
    return " ".join(sub) if isinstance(sub, list) else sub


def test_strict_sources_compare_only_gemeenten_with_rulings_or_regulations(
        make_app: AppFactory, database: Database) -> None:
    jaar = int(werkwijze.year_options(database)[0])
    expected = strong_source_gemeenten(database, jaar)
    members = werkwijze.comparison_members(database, "hbh_per_1000", catalog.HBH, jaar, "sterk")
    assert dict(members.iter_rows()) == expected
    everyone = werkwijze.comparison_members(database, "hbh_per_1000", catalog.HBH, jaar)
    assert set(expected) < set(everyone["code"])  # the selection really drops gemeenten

    n_res = sum(w == "resultaatgericht" for w in expected.values())
    n_uren = len(expected) - n_res
    at = make_app(page="werkwijze", maat="hbh_per_1000", voorziening=catalog.HBH,
                  jaar=str(jaar), bronnen="sterk")
    assert not at.exception
    assert at.selectbox(key="werkwijze_bronnen").value == "sterk"
    estimate = chart_titled(at, "Verschil resultaatgericht")
    assert f"n = {n_res} resultaatgericht, {n_uren} uren" in subtitle_text(estimate)
    cmp = werkwijze.comparison(database, "hbh_per_1000", catalog.HBH, jaar, "sterk")
    raw = {r["model"]: r["verschil"] for r in estimate["_rows"] if "model" in r}
    assert cmp.raw is not None and math.isclose(raw["Ruw verschil"], cmp.raw.verschil)
    # The raw difference is the difference in means over exactly those gemeenten.
    values = dict(database.query(
        "SELECT gemeente_code, clienten_per_1000 FROM out.gemeente_periode WHERE jaar = ? "
        "AND halfjaar IS NULL AND voorziening_code = ?", [jaar, catalog.HBH]).iter_rows())
    res = [values[c] for c, w in expected.items() if w == "resultaatgericht"]
    uren = [values[c] for c, w in expected.items() if w == "uren"]
    assert math.isclose(raw["Ruw verschil"], np.mean(res) - np.mean(uren), rel_tol=1e-9)


def test_strict_selection_is_said_with_the_counts_of_each_side(
        make_app: AppFactory, database: Database) -> None:
    jaar = werkwijze.year_options(database)[0]
    counts = {b: dict(database.query(
        f"SELECT {col}, count(*) FROM out.gemeente_periode WHERE jaar = ? AND halfjaar IS NULL "
        f"AND voorziening_code = 'T001024' AND {col} IS NOT NULL GROUP BY ALL",
        [int(jaar)]).iter_rows())
        for b, col in (("alle", "werkwijze_hbh"), ("sterk", "werkwijze_hbh_sterke_bron"))}
    assert counts["sterk"]["uren"] < counts["alle"]["uren"]
    at = make_app(page="werkwijze", jaar=jaar, bronnen="sterk")
    info = " ".join(i.value for i in at.info)
    assert "Selectie: alleen sterkere bronnen" in info
    assert (f"{counts['sterk']['resultaatgericht']} gemeenten resultaatgericht en "
            f"{counts['sterk']['uren']} gemeenten in uren") in info
    assert (f"met alle bronnen: {counts['alle']['resultaatgericht']} en "
            f"{counts['alle']['uren']}") in info
    at = make_app(page="werkwijze", jaar=jaar, taal="en")
    info = " ".join(i.value for i in at.info)
    assert "Selection: all sources" in info
    assert f"{counts['alle']['resultaatgericht']} result-oriented municipalities" in info


def test_strict_selection_changes_coverage_distribution_and_trend(
        make_app: AppFactory, database: Database) -> None:
    at = make_app(page="werkwijze", maat="hbh_per_1000", voorziening=catalog.HBH,
                  bronnen="sterk")
    assert not at.exception
    rows = [r for r in chart_titled(at, "Gemeenten naar werkwijze")["_rows"]
            if "werkwijze_label" in r]
    got = {(int(r["jaar"]), r["werkwijze"]): r["gemeenten"] for r in rows if r["gemeenten"]}
    direct = database.query(
        "SELECT jaar, coalesce(werkwijze_hbh_sterke_bron, 'onbekend'), count(*) "
        "FROM out.gemeente_periode WHERE voorziening_code = 'T001024' AND halfjaar IS NULL "
        "GROUP BY ALL")
    assert got == {(j, w): n for j, w, n in direct.iter_rows()}

    # Distribution: per year and method the number of gemeenten with a figure.
    dist_chart = next(c for c in charts(at)
                      if chart_render.title_of(c).endswith("per gemeente, naar werkwijze"))
    dist = {(int(r["jaar"]), r["werkwijze"]): r["n"] for r in dist_chart["_rows"]
            if "mediaan" in r}
    direct = database.query(
        "SELECT jaar, werkwijze_hbh_sterke_bron, count(*) FROM out.gemeente_periode "
        "WHERE voorziening_code = ? AND halfjaar IS NULL AND clienten IS NOT NULL "
        "AND inwoners > 0 AND werkwijze_hbh_sterke_bron IS NOT NULL GROUP BY ALL",
        [catalog.HBH])
    labels = {"resultaatgericht": "resultaatgericht", "uren": "in uren"}
    assert {k: v for k, v in dist.items() if k[1] != "werkwijze onbekend"} == {
        (j, labels[w]): n for j, w, n in direct.iter_rows()}

    # Trend: the pooled group 'uren' in the newest year has exactly the strict members.
    tv = werkwijze.trend_view(database, "hbh_per_1000", catalog.HBH, "nl", "sterk")
    newest = tv.order[-1]
    uren = tv.series.filter((pl.col("reeks") == "Werkwijze: in uren")
                            & (pl.col("periode_label") == newest)).row(0, named=True)
    jaar = int(newest.rstrip("*"))
    assert uren["n_totaal"] == database.query(
        "SELECT count(*) FROM out.gemeente_periode WHERE voorziening_code = ? AND jaar = ? "
        "AND halfjaar IS NULL AND werkwijze_hbh_sterke_bron = 'uren'",
        [catalog.HBH, jaar]).item()
    # Nederland pools every gemeente whatever the selection.
    nl = {b: werkwijze.trend_view(database, "hbh_per_1000", catalog.HBH, "nl", b).series.filter(
        pl.col("reeks") == "Nederland")["waarde"].to_list() for b in ("alle", "sterk")}
    assert nl["alle"] == nl["sterk"]


def test_switching_the_selection_updates_url_and_sources(make_app: AppFactory,
                                                         database: Database) -> None:
    at = make_app(page="werkwijze")
    sources = [df.value for df in at.dataframe if "bron_type" in df.value.columns]
    assert len(sources) == 1
    n_all = database.query("SELECT count(*) FROM core.werkwijze "
                           "WHERE voorziening = 'huishoudelijke_ondersteuning'").item()
    assert len(sources[0]) == n_all
    assert "nieuws" in set(sources[0]["bron_type"])
    at.selectbox(key="werkwijze_bronnen").select("sterk").run()
    assert not at.exception
    assert at.query_params["bronnen"] == "sterk"
    strict = next(df.value for df in at.dataframe if "bron_type" in df.value.columns)
    assert set(strict["bron_type"]) == {"rechterlijke uitspraak", "regelgeving"}
    assert len(strict) == database.query(
        "SELECT count(*) FROM core.werkwijze WHERE voorziening = 'huishoudelijke_ondersteuning' "
        "AND bron_type IN ('rechterlijke_uitspraak', 'regelgeving')").item()
    # Register text stays text: the descriptions are table cells, not markdown.
    text = " ".join(m.value for m in at.markdown)
    assert not any(d[:40] in text for d in strict["bron_omschrijving"])


def test_unknown_bronnen_value_falls_back_to_all_sources(make_app: AppFactory) -> None:
    at = make_app(page="werkwijze", bronnen="nieuws")
    assert not at.exception
    assert "nieuws" in " ".join(i.value for i in at.info)
    assert at.selectbox(key="werkwijze_bronnen").value == "alle"


def test_both_selections_are_set_side_by_side(make_app: AppFactory, database: Database) -> None:
    jaar = werkwijze.year_options(database)[0]
    at = make_app(page="werkwijze", maat="hbh_per_1000", voorziening=catalog.HBH, jaar=jaar,
                  bronnen="sterk")
    caption = next(c.value for c in at.caption if c.value.startswith("Hangt de uitkomst af"))
    for bronnen, label in (("alle", "met alle bronnen: "), ("sterk", "alleen sterkere bronnen: ")):
        cmp = werkwijze.comparison(database, "hbh_per_1000", catalog.HBH, int(jaar), bronnen)
        assert cmp.adjusted is not None
        words = (f"{label}{fmt_number(cmp.adjusted.verschil, 'nl', 2)} (95%-interval "
                 f"{fmt_number(cmp.adjusted.lo, 'nl', 2)} – {fmt_number(cmp.adjusted.hi, 'nl', 2)}"
                 f"; n = {cmp.n_res} resultaatgericht, {cmp.n_uren} uren)")
        assert words in caption
    strict = werkwijze.comparison(database, "hbh_per_1000", catalog.HBH, int(jaar), "sterk")
    full = werkwijze.comparison(database, "hbh_per_1000", catalog.HBH, int(jaar))
    assert strict.n_res + strict.n_uren < full.n_res + full.n_uren


# --- household-help spending ---------------------------------------------------------------------

@pytest.mark.parametrize("key,column", [("per_inwoner", "uitgaven_hbh_per_inwoner"),
                                        ("per_client", "uitgaven_hbh_per_client")])
def test_spending_estimate_equals_an_independent_fit(database: Database, key: str,
                                                     column: str) -> None:
    rows = database.query(
        f"SELECT {column} AS y, werkwijze_hbh = 'resultaatgericht' AS d, "
        "aandeel_75plus, ln(inwoners) AS log_inw FROM out.gemeente_periode "
        "WHERE voorziening_code = ? AND periode_code = '2023JJ00' "
        f"AND werkwijze_hbh IS NOT NULL AND {column} IS NOT NULL", [catalog.HBH])
    x = np.column_stack([np.ones(rows.height), rows["d"].cast(pl.Float64).to_numpy(),
                         rows["aandeel_75plus"].to_numpy(), rows["log_inw"].to_numpy()])
    beta, *_ = np.linalg.lstsq(x, rows["y"].to_numpy(), rcond=None)
    cmp = uitgaven.comparison(database, key, 2023, "alle")
    assert cmp.adjusted is not None and cmp.adjusted.lo < cmp.adjusted.verschil < \
        cmp.adjusted.hi
    assert math.isclose(cmp.adjusted.verschil, beta[1], rel_tol=1e-9)
    assert cmp.n_res == int(rows["d"].sum()) and cmp.n_uren == rows.height - cmp.n_res


def test_page_compares_spending_with_the_caveat(make_app: AppFactory) -> None:
    at = make_app(page="werkwijze", jaar="2023", uitgaven="per_client")
    assert not at.exception
    assert any("uitvoeringskosten" in i.value for i in at.info)
    chart = chart_titled(at, "Uitgaven hbh: resultaatgericht min uren, 2023")
    label = measures.measure("hbh_uitgaven_per_client").label("nl")
    assert label in " ".join(chart_render.subtitles_of(chart))
    assert at.query_params["uitgaven"] == "per_client"


def test_a_year_without_spending_says_so(make_app: AppFactory) -> None:
    at = make_app(page="werkwijze", jaar="2015")
    assert not at.exception
    assert any("geen uitgavencijfers" in c.value for c in at.caption)
    assert not [c for c in charts(at) if chart_render.title_of(c).startswith("Uitgaven hbh")]


# --- two ways of counting -------------------------------------------------------------------------

def independent_groups(db: Database, jaar: int, teller: str, noemer: str, per: float,
                       voorziening: str = catalog.HBH) -> dict[str, dict[str, float]]:
    """Per method group, straight from out.gemeente_periode with the comparison's filter
    (known method, figure, share 75+ and inwoners > 0): the mean of the gemeenten's figures,
    the pooled figure (sum over sum) and the rows for an independent least squares."""
    rows = db.query(
        f"SELECT werkwijze_hbh AS w, {per} * {teller} / {noemer} AS y, aandeel_75plus AS a, "
        "inwoners AS n FROM out.gemeente_periode WHERE voorziening_code = ? AND jaar = ? "
        "AND halfjaar IS NULL AND werkwijze_hbh IN ('resultaatgericht', 'uren') "
        f"AND {teller} IS NOT NULL AND {noemer} > 0 AND aandeel_75plus IS NOT NULL "
        "AND inwoners > 0", [voorziening, jaar])
    pooled = db.query(
        f"SELECT werkwijze_hbh AS w, {per} * sum({teller}) / sum({noemer}) AS p, "
        f"avg({per} * {teller} / {noemer}) AS m, count(*) AS k FROM out.gemeente_periode "
        "WHERE voorziening_code = ? AND jaar = ? AND halfjaar IS NULL "
        "AND werkwijze_hbh IN ('resultaatgericht', 'uren') "
        f"AND {teller} IS NOT NULL AND {noemer} > 0 AND aandeel_75plus IS NOT NULL "
        "AND inwoners > 0 GROUP BY ALL", [voorziening, jaar])
    out = {w: {"pooled": p, "mean": m, "n": k} for w, p, m, k in pooled.iter_rows()}
    d = (rows["w"] == "resultaatgericht").cast(pl.Float64).to_numpy()
    x = np.column_stack([np.ones_like(d), d, rows["a"].to_numpy(),
                         np.log(rows["n"].cast(pl.Float64).to_numpy())])
    beta, *_ = np.linalg.lstsq(x, rows["y"].to_numpy(), rcond=None)
    out["adjusted"] = {"verschil": float(beta[1])}
    return out


def test_adjusted_comparison_shows_per_gemeente_and_per_inhabitant(
        make_app: AppFactory, demo_db: Path) -> None:
    jaar = 2023
    at = make_app(page="werkwijze", maat="hbh_per_1000", jaar=str(jaar))
    assert not at.exception
    chart = chart_titled(at, "Verschil resultaatgericht")
    rows = {r["model"]: r for r in chart["_rows"] if "model" in r and "telt" in r}
    texts = werkwijze.TEXTS
    raw, adjusted = rows[texts["raw"]["nl"]], rows[texts["adjusted"]["nl"]]
    pooled = rows[texts["pooled_row"]["nl"]]
    want = independent_groups(Database(demo_db), jaar, "clienten", "inwoners", 1000.0)
    res, uren = want["resultaatgericht"], want["uren"]
    assert math.isclose(raw["verschil"], res["mean"] - uren["mean"], rel_tol=1e-9)
    assert math.isclose(adjusted["verschil"], want["adjusted"]["verschil"], rel_tol=1e-9)
    assert math.isclose(pooled["verschil"], res["pooled"] - uren["pooled"], rel_tol=1e-9)
    # The two kinds of row say what they count, in the chart (and so in its PNG).
    assert raw["telt"] == adjusted["telt"] == texts["telt_gemeenten"]["nl"]
    assert pooled["telt"] == texts["telt_groep"]["nl"]
    assert texts["basis_estimate"]["nl"] in chart_render.subtitles_of(chart)
    # Beside the chart: both differences with the group figures behind them, and why.
    boxes = [i.value for i in at.info if i.value.startswith("Twee manieren van tellen")]
    # Under the comparison, under the spending comparison and, again, under the pooled trend.
    assert len(boxes) == 3 and boxes[0] == boxes[2] != boxes[1]
    for value in (res["mean"], uren["mean"], res["pooled"], uren["pooled"]):
        assert fmt_number(value, "nl", 2) in boxes[0]
    for diff in (res["mean"] - uren["mean"], res["pooled"] - uren["pooled"],
                 want["adjusted"]["verschil"]):
        assert werkwijze.signed(diff, "nl") in boxes[0]
    assert f"{int(res['n'])} resultaatgerichte gemeenten en {int(uren['n'])}" in boxes[0]
    assert texts["two_ways_why"]["nl"] in boxes[0]


def test_spending_comparison_shows_the_pooled_figure_too(make_app: AppFactory,
                                                        demo_db: Path) -> None:
    jaar = 2023
    at = make_app(page="werkwijze", maat="hbh_per_1000", jaar=str(jaar), uitgaven="per_client")
    assert not at.exception
    chart = chart_titled(at, "Uitgaven hbh")
    rows = {r["model"]: r for r in chart["_rows"] if "telt" in r}
    want = independent_groups(Database(demo_db), jaar, "uitgaven_gerealiseerd_hbh", "clienten",
                              1.0)
    pooled = rows[werkwijze.TEXTS["pooled_row"]["nl"]]["verschil"]
    assert math.isclose(pooled, want["resultaatgericht"]["pooled"] - want["uren"]["pooled"],
                        rel_tol=1e-9)
    assert any(i.value.startswith("Twee manieren") and "Per cliënt" in i.value
               and werkwijze.signed(pooled, "nl", 0) in i.value for i in at.info)


def test_counted_two_ways_can_disagree_in_sign() -> None:
    # One big uren gemeente with a high figure, many small ones low; resultaatgericht in
    # between: per gemeente resultaatgericht is higher, per inhabitant uren is.
    frame = pl.DataFrame({
        "werkwijze": ["resultaatgericht"] * 2 + ["uren"] * 3,
        "teller": [30.0, 300.0, 1000.0, 20.0, 20.0],
        "noemer": [1000.0, 10000.0, 20000.0, 1000.0, 1000.0],
        "aandeel_75plus": [0.1] * 5, "inwoners": [1000.0, 10000.0, 20000.0, 1000.0, 1000.0]},
    ).with_columns(waarde=1000 * pl.col("teller") / pl.col("noemer"))
    ways = werkwijze.counted_two_ways(frame, 1000.0)
    assert ways is not None
    assert math.isclose(ways.per_gemeente, 30.0 - 30.0)  # 30 vs mean(50, 20, 20) = 30
    assert math.isclose(ways.inwoner_res, 1000 * 330 / 11000)
    assert math.isclose(ways.inwoner_uren, 1000 * 1040 / 22000)
    assert ways.per_inwoner < 0
    assert werkwijze.counted_two_ways(frame.filter(pl.col("werkwijze") == "uren"), 1.0) is None


def test_every_chart_says_whether_it_counts_gemeenten_or_inhabitants(
        make_app: AppFactory) -> None:
    at = make_app(page="werkwijze", maat="hbh_per_1000", taal="en")
    assert not at.exception
    texts = werkwijze.TEXTS
    expected = {"Municipalities by method": "basis_coverage",
                "Difference result-oriented": "basis_estimate",
                "Adjusted difference": "basis_years",
                "Household-help spending": "basis_estimate",
                "Household help per 1,000 inhabitants per municipality": "basis_distribution",
                "Household help per 1,000 inhabitants: groups": "basis_trend",
                "Municipalities that changed method": "basis_before_after"}
    found = {}
    for chart in charts(at):
        title = chart_render.title_of(chart)
        keys = [k for start, k in expected.items() if title.startswith(start)]
        assert len(keys) == 1, title
        assert texts[keys[0]]["en"] in chart_render.subtitles_of(chart), title
        found[keys[0]] = title
    assert set(found) == set(expected.values())


def test_distribution_marks_the_pooled_figure_beside_the_median(demo_db: Path) -> None:
    db = Database(demo_db)
    stats = werkwijze.distribution_for(db, "hbh_per_1000", catalog.HBH)
    row = stats.filter((pl.col("jaar") == 2023) & (pl.col("werkwijze") == "uren")).row(
        0, named=True)
    direct = db.query(
        "SELECT 1000.0 * sum(clienten) / sum(inwoners) FROM out.gemeente_periode "
        "WHERE voorziening_code = ? AND jaar = 2023 AND halfjaar IS NULL "
        "AND werkwijze_hbh = 'uren' AND clienten IS NOT NULL AND inwoners > 0",
        [catalog.HBH]).item()
    assert math.isclose(row["gepoold"], direct, rel_tol=1e-9)


def test_every_measure_names_what_its_pooled_figure_is_per() -> None:
    for m in [*werkwijze.MAATEN.values(), *uitgaven.SPENDING.values()]:
        entry = werkwijze.TEXTS[f"samen_{m.noemer}"]
        assert entry["nl"] and entry["en"], m.key


def test_years_chart_puts_the_pooled_difference_beside_each_estimate(
        make_app: AppFactory, demo_db: Path) -> None:
    at = make_app(page="werkwijze", maat="hbh_per_1000")
    assert not at.exception
    chart = chart_titled(at, "Gecorrigeerd verschil resultaatgericht min uren, per jaar")
    rows = {int(r["jaar"]): r for r in chart["_rows"] if "gepoold" in r}
    assert len(rows) >= 5
    for jaar in (min(rows), max(rows)):
        want = independent_groups(Database(demo_db), jaar, "clienten", "inwoners", 1000.0)
        assert math.isclose(rows[jaar]["gepoold"],
                            want["resultaatgericht"]["pooled"] - want["uren"]["pooled"],
                            rel_tol=1e-9)
        assert math.isclose(rows[jaar]["verschil"], want["adjusted"]["verschil"], rel_tol=1e-9)
