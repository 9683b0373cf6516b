"""Gemeente page: AppTest on a real demo database (deep links, controls, sources) and the view
logic checked against independent SQL."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import polars as pl
import pytest

from dashboard import catalog, charts, measures
from dashboard.charts import fmt_number
from dashboard.db import Database
from dashboard.views import gemeente as view
from tests.dashboard_fixtures import AppFactory, chart_specs

# The demo database is synthetic: its country line must say so, never pass for CBS's figure.
NL_CBS = "Nederland (CBS-methode, SYNTHETISCH)"
NL_POOLED = "Nederland (opgeteld)"


@pytest.fixture(scope="module")
def database(demo_db: Path) -> Database:
    return Database(demo_db)


def spec(at, index: int = 0) -> dict:
    return json.loads(at.get("vega_lite_chart")[index].proto.spec)


def frame_with(at, column: str):
    """The first dataframe on the page that has `column` (pandas, as AppTest gives it)."""
    for df in at.dataframe:
        if column in df.value.columns:
            return df.value
    raise AssertionError(f"no dataframe with column {column!r}")


def info_text(at) -> str:
    return " ".join(i.value for i in at.info)


def latest_year(database: Database) -> tuple[str, str]:
    row = database.query("SELECT periode_code, status FROM core.periode WHERE halfjaar IS NULL "
                         "ORDER BY jaar DESC LIMIT 1").row(0)
    return str(row[0]), str(row[1])


def final_successor(database: Database, code: str) -> str:
    """Follow core.gemeente.opgegaan_in until a code that is still valid (independent of the
    view's walk over core.herindeling)."""
    for _ in range(10):
        row = database.query("SELECT geldig_tot, opgegaan_in FROM core.gemeente "
                             "WHERE gemeente_code = ?", [code]).row(0)
        if row[0] is None:
            return code
        code = row[1]
    raise AssertionError("opgegaan_in chain does not end")


# --- AppTest ----------------------------------------------------------------------------------

def test_profile_shows_key_figures_from_the_database(make_app: AppFactory,
                                                     database: Database) -> None:
    at = make_app(page="gemeente", gemeente="GM0363")
    assert not at.exception
    assert at.title[0].value == "Gemeenteprofiel"
    assert at.header[0].value == "Amsterdam (GM0363)"
    periode, status = latest_year(database)
    mark = catalog.STATUS_MARK[status]
    row = database.query(
        "SELECT 1000.0 * clienten / inwoners AS r, inwoners FROM out.gemeente_periode "
        "WHERE gemeente_code = 'GM0363' AND periode_code = ? AND voorziening_code = 'T001024'",
        [periode]).row(0)
    prev = database.query(
        "SELECT 1000.0 * clienten / inwoners FROM out.gemeente_periode "
        "WHERE gemeente_code = 'GM0363' AND periode_code = ? AND voorziening_code = 'T001024'",
        [catalog.previous_year_code(periode)]).item()
    metrics = {m.label: m for m in at.metric}
    assert len(metrics) == 6
    label = f"{periode[:4]}{mark} · Wmo-cliënten per 1 000 inwoners"
    assert metrics[label].value == fmt_number(row[0], "nl", 1)
    assert metrics[label].delta.lstrip("+") == fmt_number(row[0] - prev, "nl", 1).lstrip("+")
    assert metrics[f"{periode[:4]}{mark} · Inwoners"].value == fmt_number(row[1], "nl", 0)
    # The trend chart carries its title and the synthetic source line inside the image.
    s = spec(at)
    assert "Amsterdam" in charts.title_of(s)
    assert "SYNTHETISCHE DEMODATA" in charts.subtitles_of(s)[-1]
    series = frame_with(at, "Reeks")["Reeks"].unique().tolist()
    assert len(series) == 3 and "Amsterdam" in series and NL_CBS in series
    assert "landelijke cijfer van CBS" in charts.subtitles_of(s)[0]
    # Each rate card names the country beside it: CBS's figure, or pooled with n of m.
    helps = {label.split(" · ")[1]: m.help for label, m in metrics.items()}
    assert NL_CBS in helps["Wmo-cliënten per 1 000 inwoners"]
    label_75 = measures.measure("per_1000_75plus").label("nl")
    assert NL_POOLED in helps[label_75]
    assert "gemeenten met cijfers:" in helps[label_75]


def test_changing_gemeente_measure_and_halfjaar_changes_the_page(make_app: AppFactory,
                                                                 database: Database) -> None:
    at = make_app(page="gemeente", gemeente="GM0363")
    before = [m.value for m in at.metric]
    at.selectbox(key="gemeente_gemeente").select("Rotterdam (GM0599)").run()
    assert not at.exception
    assert at.query_params["gemeente"] == "GM0599"
    assert at.header[0].value == "Rotterdam (GM0599)"
    assert [m.value for m in at.metric] != before

    at.selectbox(key="gemeente_maat").select(measures.measure("per_1000_75plus").label("nl")).run()
    assert NL_POOLED in set(frame_with(at, "Reeks")["Reeks"])
    assert "gemeenten met cijfers:" in charts.subtitles_of(spec(at))[0]

    at.selectbox(key="gemeente_maat").select("Hulp bij het huishouden per 1 000 inwoners").run()
    assert at.query_params["maat"] == "hbh_per_1000"
    assert charts.title_of(spec(at)).startswith("Hulp bij het huishouden")

    years = set(frame_with(at, "Reeks")["Periode"])
    at.checkbox(key="gemeente_halfjaar").check().run()
    assert at.query_params["halfjaar"] == "1"
    halves = set(frame_with(at, "Reeks")["Periode"])
    assert halves != years and all("halfjaar" in p for p in halves)


def test_peer_button_opens_that_profile(make_app: AppFactory, database: Database) -> None:
    at = make_app(page="gemeente", gemeente="GM0363")
    peers = view.peer_codes(database, "GM0363")
    assert peers and "GM0363" not in peers
    buttons = [b for b in at.button if b.key and b.key.startswith("gemeente_peer_")]
    assert [b.key.removeprefix("gemeente_peer_") for b in buttons] == peers
    at.button(key=f"gemeente_peer_{peers[0]}").click().run()
    assert not at.exception
    assert at.query_params["gemeente"] == peers[0]
    assert at.header[0].value.endswith(f"({peers[0]})")


def test_lowercase_deep_link_in_english(make_app: AppFactory) -> None:
    at = make_app(page="gemeente", gemeente="gm0599", taal="en")
    assert not at.exception
    assert at.selectbox(key="gemeente_gemeente").value == "GM0599"
    assert at.title[0].value == "Municipality profile"
    assert "does not exist" not in info_text(at)


def test_dissolved_code_explains_and_shows_the_successor(make_app: AppFactory,
                                                         database: Database) -> None:
    at = make_app(page="gemeente", gemeente="GM0457")  # Weesp, joined Amsterdam in 2022
    assert not at.exception
    target = final_successor(database, "GM0457")
    assert at.selectbox(key="gemeente_gemeente").value == target
    assert at.query_params["gemeente"] == target
    message = info_text(at)
    assert "Weesp" in message and catalog.gemeente_name(database, target) in message
    assert "bestaat sinds" in message


def test_chain_of_changes_ends_at_todays_gemeente(make_app: AppFactory,
                                                  database: Database) -> None:
    # Millingen aan de Rijn → Groesbeek (2015) → renamed Berg en Dal (2016)
    at = make_app(page="gemeente", gemeente="gm0265")
    assert not at.exception
    target = final_successor(database, "GM0265")
    assert target != "GM0241"
    assert at.selectbox(key="gemeente_gemeente").value == target
    assert "Groesbeek" in info_text(at)


def test_split_code_offers_every_successor(make_app: AppFactory, database: Database) -> None:
    parts = database.query("SELECT nieuwe_code FROM core.herindeling WHERE oude_code = 'GM0788' "
                           "ORDER BY aandeel DESC")["nieuwe_code"].to_list()
    assert len(parts) > 1  # Haaren was divided over several gemeenten
    at = make_app(page="gemeente", gemeente="GM0788")
    assert not at.exception
    assert at.selectbox(key="gemeente_gemeente").value == parts[0]
    keys = {b.key for b in at.button if b.key and b.key.startswith("gemeente_succ_")}
    assert keys == {f"gemeente_succ_{c}" for c in parts[1:]}
    at.button(key=f"gemeente_succ_{parts[-1]}").click().run()
    assert not at.exception
    assert at.query_params["gemeente"] == parts[-1]
    assert "Haaren" not in info_text(at)  # the explanation goes once the user moves on


def largest_gemeente(database: Database) -> str:
    """The most inhabitants in its latest year, straight from the table (the fallback rule)."""
    return database.query(
        "SELECT gemeente_code FROM out.gemeente_periode WHERE halfjaar IS NULL "
        "AND voorziening_code = 'T001024' AND inwoners IS NOT NULL "
        "GROUP BY gemeente_code ORDER BY arg_max(inwoners, jaar) DESC, gemeente_code "
        "LIMIT 1").item()


def test_unknown_code_gives_a_message_and_the_largest_gemeente(make_app: AppFactory,
                                                               database: Database) -> None:
    at = make_app(page="gemeente", gemeente="GM9999")
    assert not at.exception
    assert at.selectbox(key="gemeente_gemeente").value == largest_gemeente(database)
    assert "GM9999" in info_text(at)


def test_the_fallback_gemeente_is_the_same_as_on_vergelijken(make_app: AppFactory,
                                                             database: Database) -> None:
    profile = make_app(page="gemeente")
    compare = make_app(page="vergelijken")
    assert not profile.exception and not compare.exception
    code = largest_gemeente(database)
    assert profile.selectbox(key="gemeente_gemeente").value == code
    assert compare.selectbox(key="vergelijken_gemeente").value == code
    assert profile.query_params["gemeente"] == compare.query_params["gemeente"] == code


@pytest.mark.parametrize("raw", ["Utrecht", "utrecht", "UTRECHT ", "gm0344"])
def test_gemeente_by_name_or_code_in_any_case(make_app: AppFactory, raw: str) -> None:
    at = make_app(page="gemeente", gemeente=raw)
    assert not at.exception
    assert at.selectbox(key="gemeente_gemeente").value == "GM0344"
    assert at.header[0].value == "Utrecht (GM0344)"
    assert at.query_params["gemeente"] == "GM0344"  # the link now says the code
    assert "bestaat niet" not in info_text(at)


def test_name_with_apostrophe_and_no_invented_alias(make_app: AppFactory,
                                                    database: Database) -> None:
    code = database.query("SELECT gemeente_code FROM core.gemeente "
                          "WHERE gemeente_naam = ?", ["'s-Gravenhage"]).item()
    at = make_app(page="gemeente", gemeente="'s-gravenhage")
    assert at.selectbox(key="gemeente_gemeente").value == code
    # 'Den Haag' is what people say, but the database has no alias table: an honest miss.
    aliases = database.query("SELECT count(*) FROM core.gemeente "
                             "WHERE lower(gemeente_naam) = 'den haag'").item()
    assert aliases == 0
    at = make_app(page="gemeente", gemeente="Den Haag")
    assert at.selectbox(key="gemeente_gemeente").value == largest_gemeente(database)
    assert "Den Haag" in info_text(at) and "bestaat niet" in info_text(at)


def test_dissolved_gemeente_by_name_shows_its_successor(make_app: AppFactory,
                                                        database: Database) -> None:
    at = make_app(page="gemeente", gemeente="weesp")  # joined Amsterdam in 2022
    assert not at.exception
    assert at.selectbox(key="gemeente_gemeente").value == final_successor(database, "GM0457")
    assert "Weesp" in info_text(at) and "bestaat sinds" in info_text(at)


def test_sources_of_werkwijze_bezwaar_and_herindeling(make_app: AppFactory,
                                                      database: Database) -> None:
    # Berg en Dal: formed from Groesbeek, Millingen aan de Rijn and Ubbergen
    at = make_app(page="gemeente", gemeente="GM1945")
    assert not at.exception
    history = frame_with(at, "Voormalige gemeente")
    expected = database.query("SELECT DISTINCT oude_naam FROM core.herindeling "
                              "WHERE nieuwe_code IN ('GM1945', 'GM0241')")["oude_naam"].to_list()
    assert {v.split(" (")[0] for v in history["Voormalige gemeente"]} == set(expected)
    assert history["bron"].notna().all()
    bezwaar = frame_with(at, "Herkomst")
    assert {"bron_url", "bron_omschrijving", "peildatum"} <= set(bezwaar.columns)
    n_rows = database.query("SELECT count(*) FROM core.bezwaar "
                            "WHERE gemeente_code IN ('GM1945', 'GM0241', 'GM0265', 'GM0282')"
                            ).item()
    assert len(bezwaar) == n_rows
    synthetic = bezwaar["Herkomst"].str.contains("SYNTHETISCH")
    assert synthetic.any() and any("SYNTHETISCH" in w.value for w in at.warning)

    # Oisterwijk got part of Haaren: Haaren's werkwijze rows appear, with their source links.
    at = make_app(page="gemeente", gemeente="GM0824")
    urls = database.query("SELECT bron_url FROM core.werkwijze WHERE gemeente_code = 'GM0788' "
                          "AND bron_url IS NOT NULL")["bron_url"].to_list()
    werkwijze = frame_with(at, "bron_type")
    assert urls and set(urls) <= set(werkwijze["bron_url"])
    assert werkwijze["via"].str.contains("Haaren (GM0788)", regex=False).any()


def test_werkwijze_sources_show_the_bron_type_label_beside_each_source(
        make_app: AppFactory, database: Database) -> None:
    # Helmond has a court ruling and a letter among its sources.
    expected = database.query(
        "SELECT regel, bron_type, bron_url, bron_omschrijving FROM core.werkwijze "
        "WHERE gemeente_code = 'GM0794' ORDER BY regel")
    assert {"rechterlijke_uitspraak", "brief"} <= set(expected["bron_type"])
    labels = {"nl": {"rechterlijke_uitspraak": "rechterlijke uitspraak", "brief": "brief",
                     "nieuws": "nieuws", "gemeente": "gemeente"},
              "en": {"rechterlijke_uitspraak": "court ruling", "brief": "letter",
                     "nieuws": "news", "gemeente": "municipality"}}
    for taal in ("nl", "en"):
        at = make_app(page="gemeente", gemeente="GM0794", taal=taal)
        assert not at.exception
        table = frame_with(at, "bron_type")
        # Register text is shown in the table only, never rendered as markdown.
        assert not [m for m in at.markdown for d in expected["bron_omschrijving"]
                    if d[:40] in m.value]
        columns = list(table.columns)
        # The kind of source sits right beside the source it describes.
        assert columns.index("bron_type") + 1 == columns.index("bron_omschrijving")
        # Line numbers are written without separators, as text like every shown cell.
        got = sorted(zip(map(int, table["regel"]), table["bron_type"],
                         table["bron_omschrijving"], strict=True))
        assert got == [(r, labels[taal][k], d) for r, k, _, d in expected.iter_rows()]


# --- view logic against independent SQL -------------------------------------------------------

def test_key_figures_match_sql(database: Database) -> None:
    periode, _ = latest_year(database)
    codes = database.query("SELECT DISTINCT gemeente_code FROM out.gemeente_periode "
                           "ORDER BY gemeente_code")["gemeente_code"].to_list()[::17]
    for code in codes:
        figures = {f.key: f for f in view.key_figures(database, code, "nl")}
        row = database.query(
            "SELECT t.clienten * 1000.0 / t.inwoners, h.clienten * 1000.0 / h.inwoners, "
            "t.clienten * 1000.0 / t.inwoners_75plus, t.inwoners, t.aandeel_75plus "
            "FROM out.gemeente_periode t JOIN out.gemeente_periode h USING "
            "(gemeente_code, periode_code) WHERE t.gemeente_code = ? AND t.periode_code = ? "
            "AND t.voorziening_code = 'T001024' AND h.voorziening_code = 'A019507'",
            [code, periode]).row(0)
        for key, expected in zip(("per_1000", "hbh_per_1000", "per_1000_75plus", "inwoners",
                                  "aandeel_75plus"), row, strict=True):
            got = figures[key].raw
            assert (got is None) == (expected is None), (code, key)
            if got is not None:
                assert abs(got - expected) < 1e-9, (code, key)
            if expected is None:
                assert figures[key].value == "–"


def test_pooled_trend_equals_sum_over_sum(database: Database) -> None:
    peers = view.peer_codes(database, "GM0363")
    frame = view.trend(database, "GM0363", peers, "per_1000_75plus", False, "nl")
    expected = database.query(
        "SELECT periode_code, 1000.0 * sum(clienten) / sum(inwoners_75plus) AS v, count(*) AS n "
        "FROM out.gemeente_periode WHERE voorziening_code = 'T001024' AND halfjaar IS NULL "
        "AND clienten IS NOT NULL AND inwoners_75plus > 0 AND list_contains(?, gemeente_code) "
        "GROUP BY periode_code", [peers])
    got = frame.filter(pl.col("reeks_key") == "peers").join(expected, on="periode_code")
    assert got.height == expected.height > 0
    assert (got["waarde"] - got["v"]).abs().max() < 1e-9
    assert (got["n"] == got["n_right"]).all()
    national = database.query(
        "SELECT periode_code, 1000.0 * sum(clienten) / sum(inwoners_75plus) AS v "
        "FROM out.gemeente_periode WHERE voorziening_code = 'T001024' AND halfjaar IS NULL "
        "AND clienten IS NOT NULL AND inwoners_75plus > 0 GROUP BY periode_code")
    got = frame.filter(pl.col("reeks_key") == "nederland").join(national, on="periode_code")
    assert got.height == national.height
    assert (got["waarde"] - got["v"]).abs().max() < 1e-9
    # CBS publishes no national figure per 1 000 aged 75+: the country is pooled, named so.
    assert set(got["reeks"]) == {NL_POOLED}
    counts = database.query(
        "SELECT count(*) FILTER (WHERE clienten IS NOT NULL AND inwoners_75plus > 0), count(*) "
        "FROM out.gemeente_periode WHERE voorziening_code = 'T001024' AND periode_code = ?",
        [latest_year(database)[0]]).row(0)
    subtitle = view.nederland_subtitle(database, "per_1000_75plus", frame, "nl")
    assert f"gemeenten met cijfers: {counts[0]} van {counts[1]}" in subtitle


@pytest.mark.parametrize(("maat", "voorziening", "halfjaar"), [
    ("per_1000", "T001024", False), ("per_1000", "T001024", True),
    ("hbh_per_1000", "A019507", False)])
def test_country_trend_is_cbs_nl01(database: Database, maat: str, voorziening: str,
                                   halfjaar: bool) -> None:
    frame = view.trend(database, "GM0363", view.peer_codes(database, "GM0363"), maat,
                       halfjaar, "nl").filter(pl.col("reeks_key") == "nederland")
    cbs = database.query(
        "SELECT periode_code, clienten_per_1000, clienten FROM core.wmo_clienten_regio "
        "WHERE regio_code = 'NL01' AND voorziening_code = ? AND (halfjaar IS NOT NULL) = ?",
        [voorziening, halfjaar])
    got = frame.join(cbs, on="periode_code")
    assert got.height == frame.height == cbs.height > 0
    assert set(got["reeks"]) == {NL_CBS}
    assert got["waarde"].to_list() == got["clienten_per_1000"].cast(pl.Float64).to_list()
    # Not the pooled sum: CBS's count includes its estimate for gemeenten without figures.
    pooled = view.pooled(database, maat, None).join(cbs, on="periode_code")
    assert (pooled["clienten"] > pooled["teller"]).all()


def test_key_figures_name_the_country(database: Database) -> None:
    periode, _ = latest_year(database)
    label = catalog.period_label(database, periode, "nl")
    figures = {f.key: f for f in view.key_figures(database, "GM0363", "nl")}
    for key, voorziening in (("per_1000", "T001024"), ("hbh_per_1000", "A019507")):
        rate = database.query(
            "SELECT clienten_per_1000 FROM core.wmo_clienten_regio WHERE regio_code = 'NL01' "
            "AND voorziening_code = ? AND periode_code = ?", [voorziening, periode]).item()
        assert figures[key].nederland == f"{NL_CBS} {label}: {fmt_number(rate, 'nl', 0)}"
    n, total, rate = database.query(
        "SELECT count(*) FILTER (WHERE clienten IS NOT NULL AND inwoners_75plus > 0), count(*), "
        "1000.0 * sum(clienten) FILTER (WHERE clienten IS NOT NULL AND inwoners_75plus > 0) "
        "/ sum(inwoners_75plus) FILTER (WHERE clienten IS NOT NULL AND inwoners_75plus > 0) "
        "FROM out.gemeente_periode WHERE voorziening_code = 'T001024' AND periode_code = ?",
        [periode]).row(0)
    assert figures["per_1000_75plus"].nederland == (
        f"{NL_POOLED} {label}: {fmt_number(rate, 'nl', 1)} "
        f"(gemeenten met cijfers: {n} van {total})")
    assert figures["inwoners"].nederland == ""
    # In the markdown help the status mark stays literal.
    assert label.replace("*", "\\*") in figures["per_1000"].help


def test_every_dissolved_code_resolves_to_a_current_gemeente(database: Database) -> None:
    dissolved = database.query("SELECT gemeente_code FROM core.gemeente "
                               "WHERE geldig_tot IS NOT NULL")["gemeente_code"].to_list()
    assert dissolved
    for code in dissolved:
        link = view.resolve_link(database, code.lower())
        assert link.dissolved_code == code
        assert link.code == final_successor(database, code), code
        shares = sum(s.aandeel for s in link.successors)
        assert abs(shares - 1.0) < 0.01, code


def test_predecessors_cover_every_herindeling_row(database: Database) -> None:
    rows = database.query("SELECT oude_code, nieuwe_code FROM core.herindeling").iter_rows()
    for oude, nieuwe in rows:
        target = final_successor(database, nieuwe)
        assert oude in view.predecessor_codes(database, target), (oude, target)


def test_unknown_werkwijze_stays_onbekend(database: Database) -> None:
    code = "GM0824"
    years = view.werkwijze_years(database, code, "nl")
    nulls = database.query(
        "SELECT count(*) FILTER (WHERE werkwijze_hbh IS NULL), "
        "count(*) FILTER (WHERE werkwijze_hbh = 'uren') FROM out.gemeente_periode "
        "WHERE gemeente_code = ? AND voorziening_code = 'T001024' AND halfjaar IS NULL",
        [code]).row(0)
    values = years["Werkwijze hbh"].to_list()
    assert values.count(catalog.werkwijze_label(None, "nl")) == nulls[0] > 0
    assert values.count("in uren") == nulls[1]


@pytest.mark.parametrize(("maat", "voorziening", "num", "den", "scale"), [
    ("uitgaven_per_inwoner", "T001024", "uitgaven_gerealiseerd", "inwoners", 1.0),
    ("hbh_uitgaven_per_client", "A019507", "uitgaven_gerealiseerd_hbh", "clienten", 1.0),
    ("hbh_instroom_per_1000", "A019507", "hbh_instroom", "inwoners", 1000.0),
    ("beeindigd_gemeente", "T001024", "beeindigd_door_gemeente", "clienten", 1000.0),
])
def test_spending_and_flows_trend_against_peers_and_pooled_nederland(
        database: Database, maat: str, voorziening: str, num: str, den: str,
        scale: float) -> None:
    peers = view.peer_codes(database, "GM0363")
    # Half-years asked for: these are yearly figures, so the trend shows whole years.
    frame = view.trend(database, "GM0363", peers, maat, True, "nl")
    assert frame.height > 0 and frame["halfjaar"].null_count() == frame.height
    for key, where, params in (("peers", "AND list_contains(?, gemeente_code)", [peers]),
                               ("nederland", "", [])):
        expected = database.query(
            f"SELECT periode_code, {scale} * sum({num}) / sum({den}) AS v FROM "
            f"out.gemeente_periode WHERE voorziening_code = '{voorziening}' AND halfjaar IS NULL "
            f"AND {num} IS NOT NULL AND {den} > 0 {where} GROUP BY periode_code", params)
        got = frame.filter(pl.col("reeks_key") == key).drop_nulls("waarde").join(
            expected, on="periode_code")
        assert got.height == expected.height > 3, key
        assert (got["waarde"] - got["v"]).abs().max() < 1e-6
    # CBS's national figure is not in this database: the country line is the pooled sum.
    assert set(frame.filter(pl.col("reeks_key") == "nederland")["reeks"]) == {NL_POOLED}


def test_spending_measure_on_the_profile_has_its_caveat(make_app: AppFactory) -> None:
    at = make_app(page="gemeente", gemeente="GM0363", maat="hbh_uitgaven_per_client")
    assert not at.exception
    assert any("uitvoeringskosten" in i.value for i in at.info)
    assert "Uitgaven hulp bij het huishouden per cliënt: Amsterdam" in json.dumps(
        spec(at)["usermeta"], ensure_ascii=False)


# --- charts that explain themselves ------------------------------------------------------------

def test_trend_end_labels_are_apart_and_the_measure_explained(make_app: AppFactory) -> None:
    from dashboard.end_labels import LINE_HEIGHT

    at = make_app(page="gemeente", gemeente="GM0344", maat="per_1000_75plus")
    assert not at.exception
    assert view.MAATEN["per_1000_75plus"].uitleg("nl") in [c.value for c in at.caption]
    trend = chart_specs(at)[0]
    assert trend["autosize"]["type"] == "fit-x"  # the height is the plot's own
    ends = [r for r in trend["_rows"] if "label_y" in r]
    assert len(ends) == 3  # the gemeente, its peers and the country, each named
    lo, hi = trend["layer"][0]["encoding"]["y"]["scale"]["domain"]
    px = sorted((hi - r["label_y"]) / (hi - lo) * trend["height"] for r in ends)
    box = view.END_LABEL_SIZE * LINE_HEIGHT
    assert all(b - a >= box - 1e-6 for a, b in itertools.pairwise(px))
