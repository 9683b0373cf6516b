"""Vergelijken page: AppTest on a real demo database, plus pooling and peer logic without
Streamlit, each checked against independent SQL or numpy."""

from __future__ import annotations

import io
import itertools
import math
import string
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from dashboard import catalog, charts, exports
from dashboard.db import Database
from dashboard.views import peers, vergelijken
from tests.dashboard_fixtures import AppFactory, chart_specs

specs = chart_specs
# The demo database is synthetic: its country line must say so, never pass for CBS's figure.
NL_CBS = "Nederland (CBS-methode, SYNTHETISCH)"
NL_POOLED = "Nederland (opgeteld)"


def dataset_rows(spec: dict) -> list[dict]:
    return spec["_rows"]


def series_names(spec: dict) -> set[str]:
    return {r["reeks"] for r in dataset_rows(spec) if "reeks" in r}


def panels(spec: dict) -> set[str]:
    return {r["paneel"] for r in dataset_rows(spec) if "paneel" in r}


# --- AppTest ------------------------------------------------------------------------------------

def test_default_renders_focus_peers_and_country(make_app: AppFactory, demo_db: Path) -> None:
    at = make_app(page="vergelijken")
    assert not at.exception
    assert at.title[0].value == "Vergelijken"
    trend, multiples = specs(at)[:2]
    db = Database(demo_db)
    focus = catalog.fallback_gemeente(db)
    naam = catalog.gemeente_name(db, focus)
    assert series_names(trend) == {naam, f"Vergelijkbare gemeenten van {naam}", NL_CBS}
    assert "SYNTHETISCHE DEMODATA" in charts.subtitles_of(trend)[-1]
    # Subtitles are plain text inside the image: status marks readable, no markdown left over.
    first_line = charts.subtitles_of(trend)[0]
    assert "* voorlopig" in first_line and "`" not in first_line
    # One panel for the gemeente and one for each of its peers, each its own chart (a grid
    # that reflows on a phone) under the group's title.
    assert len(panels(multiples)) == 1 + len(peers.peers(db, focus))
    shown = [s["usermeta"]["panel"] for s in specs(at)[1:]]
    assert shown == [f"{naam} ({focus})", *shown[1:]] and len(shown) == len(panels(multiples))
    assert charts.title_of(multiples).startswith("Gemeente tegenover vergelijkbare gemeenten")
    # The peer rule is stated in words on the page.
    assert any("Vergelijkbare gemeenten" in m.value and "logaritmisch" in m.value
               for m in at.markdown)


def test_changing_group_changes_chart_and_url(make_app: AppFactory, demo_db: Path) -> None:
    at = make_app(page="vergelijken", gemeente="GM0344")
    before = series_names(specs(at)[0])
    at.selectbox(key="vergelijken_groep").select("provincie").run()
    assert not at.exception
    assert at.query_params["groep"] == "provincie"
    after = series_names(specs(at)[0])
    assert after != before
    # The province defaults to the focus gemeente's own province.
    own = vergelijken.provincie_of(Database(demo_db), "GM0344")
    assert at.selectbox(key="vergelijken_provincie").value == own
    assert f"Provincie {own}" in after and NL_CBS in after


@pytest.mark.parametrize("raw", ["Amsterdam", "amsterdam", "gm0363", "GM0363"])
def test_gemeente_by_name_or_code(make_app: AppFactory, demo_db: Path, raw: str) -> None:
    at = make_app(page="vergelijken", gemeente=raw, groep="provincie")
    assert not at.exception
    assert at.selectbox(key="vergelijken_gemeente").value == "GM0363"
    assert at.query_params["gemeente"] == "GM0363"
    assert not any("bestaat niet" in i.value for i in at.info)
    # The name decided the focus, so also the province the group starts from.
    own = vergelijken.provincie_of(Database(demo_db), "GM0363")
    assert at.selectbox(key="vergelijken_provincie").value == own


def test_unknown_name_says_so_and_shows_the_fallback(make_app: AppFactory,
                                                     demo_db: Path) -> None:
    at = make_app(page="vergelijken", gemeente="Atlantis")
    assert not at.exception
    assert any("Atlantis" in i.value and "bestaat niet" in i.value for i in at.info)
    fallback = catalog.fallback_gemeente(Database(demo_db))
    assert at.selectbox(key="vergelijken_gemeente").value == fallback


def test_every_province_by_link(make_app: AppFactory, demo_db: Path) -> None:
    at = make_app(page="vergelijken", groep="provincie", provincie="alle", gemeente="GM0344")
    assert not at.exception
    names = series_names(specs(at)[0])
    expected = {f"Provincie {p}" for p in catalog.provincies(Database(demo_db))}
    assert len(expected) == 12 and expected <= names
    # Gemeente Utrecht and the province of Utrecht stay two distinct series.
    assert "Utrecht" in names and "Provincie Utrecht" in names


def test_changing_interval_gives_half_years(make_app: AppFactory) -> None:
    at = make_app(page="vergelijken", gemeente="GM0363")
    years = {r["periode_label"] for r in dataset_rows(specs(at)[0]) if "periode_label" in r}
    at.selectbox(key="vergelijken_interval").select("halfjaar").run()
    assert at.query_params["interval"] == "halfjaar"
    halves = {r["periode_label"] for r in dataset_rows(specs(at)[0]) if "periode_label" in r}
    assert halves.isdisjoint(years)
    assert any("hj" in label for label in halves)


def test_deep_link_sets_controls(make_app: AppFactory) -> None:
    at = make_app(page="vergelijken", groep="lijst", gemeente="GM0599",
                  gemeenten="GM0363,GM0518", maat="per_1000_75plus", interval="halfjaar",
                  taal="en")
    assert not at.exception
    assert at.selectbox(key="vergelijken_groep").value == "lijst"
    assert at.selectbox(key="vergelijken_gemeente").value == "GM0599"
    assert at.multiselect(key="vergelijken_gemeenten").value == ["GM0363", "GM0518"]
    assert at.selectbox(key="vergelijken_maat").value == "per_1000_75plus"
    assert at.title[0].value == "Compare"
    trend = specs(at)[0]
    # Per 1 000 aged 75+ is not a CBS figure: the country is pooled and named so.
    assert series_names(trend) == {"Rotterdam", "Amsterdam", "'s-Gravenhage",
                                   "Netherlands (pooled)"}
    assert any("municipalities with figures:" in c.value for c in at.caption)
    assert any(r.get("periode_label", "").startswith("H1 ") for r in dataset_rows(trend))
    # Small multiples: the focus first, then the list.
    assert panels(specs(at)[1]) == {"Rotterdam (GM0599)", "Amsterdam (GM0363)",
                                    "'s-Gravenhage (GM0518)"}


def test_a_long_list_caps_the_panels_not_the_page(make_app: AppFactory, demo_db: Path) -> None:
    codes = catalog.gemeenten(Database(demo_db))["gemeente_code"].to_list()[:15]
    at = make_app(page="vergelijken", groep="lijst", gemeente=codes[0],
                  gemeenten=",".join(codes))
    assert not at.exception
    trend, multiples = specs(at)[:2]
    assert len(series_names(trend)) == 15 + 1  # every listed gemeente and Nederland
    assert len(panels(multiples)) == vergelijken.MAX_PANELS
    assert any(str(vergelijken.MAX_PANELS) in c.value for c in at.caption)


def test_unknown_deep_link_gives_message_and_default(make_app: AppFactory) -> None:
    at = make_app(page="vergelijken", groep="nonsense", gemeente="GM9999", interval="week")
    assert not at.exception
    messages = " ".join(i.value for i in at.info)
    assert "nonsense" in messages and "GM9999" in messages and "week" in messages
    assert at.selectbox(key="vergelijken_groep").value == vergelijken.DEFAULT_GROEP
    assert at.selectbox(key="vergelijken_interval").value == "jaar"


def test_objections_are_whole_years_only(make_app: AppFactory) -> None:
    at = make_app(page="vergelijken", maat="bezwaren_per_1000", interval="halfjaar",
                  gemeente="GM0363")
    assert not at.exception
    assert any("alleen per heel jaar" in i.value for i in at.info)
    labels = {r["periode_label"] for r in dataset_rows(specs(at)[0]) if "periode_label" in r}
    assert labels and not any("hj" in label for label in labels)


def test_werkwijze_groups_are_named_and_explained(make_app: AppFactory) -> None:
    at = make_app(page="vergelijken", groep="werkwijze", gemeente="GM0363")
    assert not at.exception
    names = series_names(specs(at)[0])
    assert {"Werkwijze: resultaatgericht", "Werkwijze: in uren",
            "Werkwijze: werkwijze onbekend"} <= names
    assert any("1 juli" in c.value for c in at.caption)


# --- view logic against the database ------------------------------------------------------------

@pytest.fixture(scope="module")
def database(demo_db: Path) -> Database:
    return Database(demo_db)


def series_row(view: vergelijken.CompareView, reeks: str, periode: str) -> dict:
    rows = view.series.filter((pl.col("reeks") == reeks) & (pl.col("periode") == periode))
    assert rows.height == 1
    return rows.row(0, named=True)


def test_province_pools_numerators_and_denominators(database: Database) -> None:
    view = vergelijken.compare_view(database, vergelijken.Choices(
        groep="provincie", gemeente="GM0344", provincie="Utrecht"), "nl")
    row = series_row(view, "Provincie Utrecht", "2023JJ00")
    direct = database.query(
        "SELECT 1000 * sum(clienten) FILTER (WHERE clienten IS NOT NULL AND inwoners > 0) "
        "  / sum(inwoners) FILTER (WHERE clienten IS NOT NULL AND inwoners > 0) AS rate, "
        "count(*) FILTER (WHERE clienten IS NOT NULL AND inwoners > 0) AS n, count(*) AS total, "
        "avg(clienten_per_1000) AS mean_of_rates "
        "FROM out.gemeente_periode WHERE provincie_naam = 'Utrecht' "
        "AND periode_code = '2023JJ00' AND voorziening_code = 'T001024'").row(0, named=True)
    assert math.isclose(row["waarde"], direct["rate"], rel_tol=1e-12)
    assert (row["n_bekend"], row["n_totaal"]) == (direct["n"], direct["total"])
    assert not math.isclose(row["waarde"], direct["mean_of_rates"], rel_tol=1e-6)
    # And it agrees with the ETL's own province table.
    etl = database.query(
        "SELECT clienten_per_1000, gemeenten_bekend FROM out.provincie_periode "
        "WHERE provincie_naam = 'Utrecht' AND periode_code = '2023JJ00' "
        "AND voorziening_code = 'T001024'").row(0)
    assert math.isclose(row["waarde"], etl[0], rel_tol=1e-9) and row["n_bekend"] == etl[1]


def test_gemeente_values_match_the_out_table(database: Database) -> None:
    cases = {
        "per_1000": ("T001024", "clienten_per_1000"),
        "per_1000_75plus": ("A019507", "1000.0 * clienten / inwoners_75plus"),
        "bezwaren_per_1000": ("T001024", "bezwaren_per_1000_clienten"),
    }
    for maat, (voorziening, expr) in cases.items():
        frame = vergelijken.measure_frame(database, maat, voorziening, "jaar")
        direct = database.query(
            f"SELECT gemeente_code AS code, periode_code AS periode, {expr} AS direct "
            "FROM out.gemeente_periode WHERE voorziening_code = ? AND halfjaar IS NULL",
            [voorziening])
        joined = frame.join(direct, on=["code", "periode"])
        assert joined.height == direct.height > 0
        assert joined.filter(pl.col("waarde").is_null() != pl.col("direct").is_null()).is_empty()
        assert (joined["waarde"] - joined["direct"]).abs().max() < 1e-9


def test_pooled_country_counts_every_gemeente_and_reports_known(database: Database) -> None:
    view = vergelijken.compare_view(database, vergelijken.Choices(
        groep="lijst", gemeente="GM0363", interval="halfjaar", maat="per_1000_75plus"), "nl")
    assert view.nederland == NL_POOLED
    row = series_row(view, NL_POOLED, "2024HJ01")
    direct = database.query(
        "SELECT count(*) AS total, count(*) FILTER (WHERE clienten IS NOT NULL "
        "AND inwoners_75plus > 0) AS n FROM out.gemeente_periode "
        "WHERE periode_code = '2024HJ01' AND voorziening_code = 'T001024'").row(0)
    assert (row["n_totaal"], row["n_bekend"]) == direct
    assert row["waarde_label"].endswith("**")  # 2024HJ01 is nader voorlopig in the demo
    # The page says it is pooled, with n of N of the newest period.
    newest = view.series.filter(pl.col("reeks") == NL_POOLED).sort("volgorde").tail(1).row(
        0, named=True)
    counts = f"gemeenten met cijfers: {newest['n_bekend']} van {newest['n_totaal']}"
    assert counts in view.nederland_note and "geen CBS-cijfer" in view.nederland_note
    assert f"{NL_POOLED}: {counts}" in vergelijken.latest_counts(view, "nl")


@pytest.mark.parametrize(("maat", "voorziening", "interval"), [
    ("per_1000", "T001024", "jaar"), ("per_1000", "T001024", "halfjaar"),
    ("hbh_per_1000", "A019507", "jaar")])
def test_country_line_is_cbs_nl01_not_a_sum(database: Database, maat: str, voorziening: str,
                                            interval: str) -> None:
    view = vergelijken.compare_view(database, vergelijken.Choices(
        groep="peers", gemeente="GM0363", maat=maat, interval=interval), "nl")
    assert view.nederland == NL_CBS
    cbs = database.query(
        "SELECT periode_code AS periode, clienten_per_1000, clienten "
        "FROM core.wmo_clienten_regio WHERE regio_code = 'NL01' AND voorziening_code = ? "
        "AND (halfjaar IS NULL) = ?", [voorziening, interval == "jaar"])
    got = view.series.filter(pl.col("reeks") == NL_CBS).join(cbs, on="periode")
    assert got.height == cbs.height == len(view.order) > 0
    assert got["waarde"].to_list() == got["clienten_per_1000"].cast(pl.Float64).to_list()
    assert got["teller"].to_list() == got["clienten"].cast(pl.Float64).to_list()
    assert got["n_bekend"].is_null().all()  # no n of N: CBS's figure is no sum here
    pooled = vergelijken.pool(vergelijken.measure_frame(database, maat, voorziening, interval))
    both = got.join(pooled, on="periode", suffix="_pooled")
    # CBS's estimate for gemeenten without figures puts the country above the pooled sum.
    assert (both["teller"] > both["teller_pooled"]).all()
    assert "CBS" in view.nederland_note and "schatting" in view.nederland_note


def test_cbs_label_only_for_real_builds() -> None:
    real = catalog.BuildInfo("2026-01-01 00:00", "0", 2026, False, ("86050NED",))
    demo = catalog.BuildInfo("2026-01-01 00:00", "0", 2026, True, ("86050NED",))
    assert catalog.nederland_cbs_label(real, "nl") == "Nederland (CBS)"
    assert catalog.nederland_cbs_label(real, "en") == "Netherlands (CBS)"
    assert catalog.nederland_cbs_label(demo, "nl") == NL_CBS
    assert "SYNTHETIC" in catalog.nederland_cbs_label(demo, "en")
    assert catalog.met_cijfers(1234, 1300, "nl") == "gemeenten met cijfers: 1.234 van 1.300"
    assert catalog.met_cijfers(1234, 1300, "en") == \
        "municipalities with figures: 1,234 of 1,300"


def test_werkwijze_membership_follows_each_year(database: Database) -> None:
    view = vergelijken.compare_view(database, vergelijken.Choices(
        groep="werkwijze", gemeente="GM0363"), "nl")
    counts = database.query(
        "SELECT periode_code, coalesce(werkwijze_hbh, 'onbekend') AS w, count(*) AS n "
        "FROM out.gemeente_periode WHERE voorziening_code = 'T001024' AND halfjaar IS NULL "
        "GROUP BY ALL")
    for periode, werkwijze, n in counts.iter_rows():
        name = "Werkwijze: " + {"resultaatgericht": "resultaatgericht", "uren": "in uren",
                                "onbekend": "werkwijze onbekend"}[werkwijze]
        assert series_row(view, name, periode)["n_totaal"] == n


def test_pool_sums_rather_than_averages() -> None:
    frame = pl.DataFrame({
        "periode": ["p", "p", "p"], "teller": [10.0, 300.0, None],
        "noemer": [1000.0, 10000.0, 500.0]}).with_columns(
        waarde=pl.when(pl.col("teller").is_not_null())
        .then(1000 * pl.col("teller") / pl.col("noemer")))
    row = vergelijken.pool(frame).row(0, named=True)
    assert math.isclose(row["waarde"], 1000 * 310 / 11000)  # not (10 + 30) / 2
    assert (row["n_bekend"], row["n_totaal"]) == (2, 3)
    empty = vergelijken.pool(frame.filter(pl.col("teller").is_null())).row(0, named=True)
    assert empty["waarde"] is None and empty["n_bekend"] == 0


def test_peers_follow_the_documented_rule(database: Database) -> None:
    jaar = database.query(
        "SELECT max(jaar) FROM out.gemeente_periode WHERE halfjaar IS NULL "
        "AND voorziening_code = 'T001024' AND inwoners > 0 AND aandeel_75plus IS NOT NULL"
    ).item()
    rows = database.query(
        "SELECT gemeente_code, inwoners, aandeel_75plus FROM out.gemeente_periode "
        "WHERE jaar = ? AND halfjaar IS NULL AND voorziening_code = 'T001024' "
        "AND inwoners > 0 AND aandeel_75plus IS NOT NULL ORDER BY gemeente_code", [jaar])
    codes = rows["gemeente_code"].to_list()
    feats = np.column_stack([np.log(rows["inwoners"].to_numpy()),
                             rows["aandeel_75plus"].to_numpy()])
    z = (feats - feats.mean(axis=0)) / feats.std(axis=0)
    for code in ("GM0363", "GM0344", codes[len(codes) // 2]):
        i = codes.index(code)
        dist = np.sqrt(((z - z[i]) ** 2).sum(axis=1))
        dist[i] = np.inf
        expected = [codes[j] for j in np.lexsort((np.array(codes), dist))[:10]]
        got = peers.peers(database, code)
        assert got == expected
        assert code not in got and len(set(got)) == 10
        assert peers.peer_frame(database, code)["gemeente_code"].to_list() == got
    assert peers.peers(database, "GM0363", n=3) == peers.peers(database, "GM0363")[:3]
    assert peers.peers(database, "GM9999") == []
    assert peers.reference_year(database) == jaar


def test_nearest_on_a_hand_made_frame() -> None:
    frame = peers.standardise(pl.DataFrame({
        "gemeente_code": ["A", "B", "C", "D"], "gemeente_naam": ["a", "b", "c", "d"],
        "inwoners": [1000.0, 1100.0, 100000.0, 1000.0],
        "aandeel_75plus": [0.10, 0.10, 0.10, 0.20]}))
    assert peers.nearest(frame, "A", 2)["gemeente_code"].to_list() == ["B", "D"]
    assert peers.nearest(frame, "C", 1)["gemeente_code"].to_list() == ["B"]
    assert peers.nearest(frame, "Z", 2).is_empty()
    assert peers.nearest(frame, "A", 0).is_empty()


def test_small_multiples_compare_each_gemeente_with_its_own_peers(database: Database) -> None:
    view = vergelijken.compare_view(database, vergelijken.Choices(
        groep="lijst", gemeente="GM0363", gemeenten=("GM0344",)), "nl")
    assert view.panel_order == ["Amsterdam (GM0363)", "Utrecht (GM0344)"]
    frame = vergelijken.measure_frame(database, "per_1000", "T001024", "jaar")
    for code in ("GM0363", "GM0344"):
        own_peers = peers.peers(database, code)
        assert code not in own_peers
        expected = vergelijken.pool(frame.filter(pl.col("code").is_in(own_peers)))
        got = view.panels.filter((pl.col("gemeente_code") == code)
                                 & (pl.col("reeks") == "Vergelijkbare gemeenten"))
        joined = got.join(expected, on="periode", suffix="_exp")
        assert joined.height == got.height > 0
        assert (joined["waarde"] - joined["waarde_exp"]).abs().max() < 1e-12
        assert (joined["n_totaal"] == 10).all()


def test_csv_export_holds_the_table_and_provenance(database: Database) -> None:
    view = vergelijken.compare_view(database, vergelijken.Choices(gemeente="GM0363"), "nl")
    frame = vergelijken.export_frame(view.series, view.maat, view.voorziening)
    ctx = exports.context_from_db(database, "test", {"gemeente": "GM0363"},
                                  columns=frame.columns)
    data = exports.to_csv(frame, ctx)
    back = pl.read_csv(io.BytesIO(data), comment_prefix="#")
    assert back.height == view.series.height
    assert back["is_synthetisch"].all()
    assert set(back["reeks"].to_list()) == set(view.series["reeks"].to_list())
    # The country rows are CBS's (synthetic) figure, marked as such, with no n of N.
    country = back.filter(pl.col("reeks") == NL_CBS)
    assert country.height == len(view.order) > 0
    assert set(country["soort"].to_list()) == {"referentie (CBS-cijfer)"}
    assert country["gemeenten_bekend"].is_null().all()


def test_downloads_render_as_images(database: Database) -> None:
    """The PNG/SVG downloads are separate fixed-width specs; they must render off-browser."""
    view = vergelijken.compare_view(database, vergelijken.Choices(gemeente="GM0363"), "nl")
    trend = vergelijken.trend_chart(view.series, view.order, view.styles, "titel", "bron",
                                    "sub", "eenheid", "nl", export=True)
    assert trend["width"] == vergelijken.EXPORT_SIZE["width"]
    assert charts.to_png(trend)[:4] == b"\x89PNG"
    multiples = vergelijken.multiples_chart(view.panels, view.panel_order, view.order, "titel",
                                            "bron", "sub", "eenheid", "nl")
    svg = charts.to_svg(multiples).decode()
    assert "Amsterdam (GM0363)" in svg and "titel" in svg


def test_every_text_exists_in_both_languages_with_the_same_fields() -> None:
    for texts in (vergelijken.TEXTS, peers.TEXTS,):
        for key, entry in texts.items():
            assert set(entry) == {"nl", "en"}, key
            fields = [{f for _, f, _, _ in string.Formatter().parse(entry[lang]) if f}
                      for lang in ("nl", "en")]
            assert fields[0] == fields[1], key


# --- charts that explain themselves ------------------------------------------------------------

def end_label_pixels(spec: dict) -> tuple[list[float], float]:
    """The end labels' centres in pixels of the plot, from the spec the browser gets: its fixed
    y domain and its own plot height (autosize fit-x keeps the height the plot's)."""
    assert spec["autosize"]["type"] == "fit-x"
    lo, hi = spec["layer"][0]["encoding"]["y"]["scale"]["domain"]
    height = spec["height"]
    ys = [r["label_y"] for r in spec["_rows"] if "label_y" in r]
    return [(hi - y) / (hi - lo) * height for y in ys], height


@pytest.mark.parametrize("groep", ["peers", "werkwijze", "provincie"])
def test_on_screen_end_labels_never_overlap(make_app: AppFactory, groep: str) -> None:
    from dashboard.end_labels import LINE_HEIGHT

    at = make_app(page="vergelijken", groep=groep, gemeente="GM0363")
    assert not at.exception
    trend = specs(at)[0]
    px, height = end_label_pixels(trend)
    box = vergelijken.END_LABEL_SIZE * LINE_HEIGHT
    # Every line named at its end (the demo's lines are spread enough) ...
    assert len(px) == len(series_names(trend)) >= 3
    # ... without two names touching, all inside the plot ...
    ordered = sorted(px)
    assert all(b - a >= box - 1e-6 for a, b in itertools.pairwise(ordered))
    assert all(box / 2 - 1e-6 <= p <= height - box / 2 + 1e-6 for p in px)
    # ... and the legend names them as well (what is left when the labels must go).
    assert trend["layer"][0]["encoding"]["color"]["legend"]["orient"] == "bottom"


def test_the_75plus_measure_is_explained_next_to_its_select(make_app: AppFactory) -> None:
    at = make_app(page="vergelijken", maat="per_1000_75plus")
    assert not at.exception
    explanation = vergelijken.MAATEN["per_1000_75plus"].uitleg("nl")
    assert "géén aandeel" in explanation
    assert explanation in [c.value for c in at.caption]
