"""The metadata file is complete, builds a commented DuckDB schema and renders the dictionary."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import yaml

from etl.errors import InputError
from etl.metadata import (
    SCHEMAS,
    ColumnMeta,
    Metadata,
    TableMeta,
    column_comment,
    comment_statements,
    create_table_sql,
    load_metadata,
    render_data_dictionary,
    tabel_rows,
    validate_metadata,
    veld_rows,
)
from etl.sources.cbs.tables import TABLES

ROOT = Path(__file__).resolve().parents[1]
METADATA = ROOT / "etl" / "metadata.yaml"
DICTIONARY = ROOT / "docs" / "data-dictionary.md"

# The public contract as agreed: researchers' queries depend on these names and this order.
CONTRACT = {
    "core.gemeente": "gemeente_code gemeente_naam provincie_code provincie_naam geldig_vanaf "
                     "geldig_tot opgegaan_in",
    "core.gemeente_geometrie": "indeling_jaar gemeente_code geojson wkb oppervlakte_km2",
    "core.provincie_geometrie": "indeling_jaar provincie_code provincie_naam geojson wkb "
                                "oppervlakte_km2",
    "core.wmo_clienten": "gemeente_code periode_code jaar halfjaar voorziening_code voorziening "
                         "clienten clienten_per_1000 status bron_tabel",
    "core.wmo_clienten_regio": "regio_code regio_naam regio_type periode_code jaar halfjaar "
                               "voorziening_code clienten clienten_per_1000 status bron_tabel",
    "core.wmo_clienten_kenmerken": "gemeente_code periode_code jaar halfjaar voorziening_code "
                                   "geslacht_code geslacht kenmerk_code kenmerk clienten "
                                   "clienten_per_1000 status bron_tabel",
    "core.voorziening": "voorziening_code voorziening niveau volgorde",
    "core.periode": "periode_code jaar halfjaar titel status bron_tabel",
    "core.bevolking": "gemeente_code jaar inwoners inwoners_75plus bron_tabel",
    "core.wmo_uitgaven": "gemeente_code jaar voorziening_code voorziening uitgaven_begroot "
                         "uitgaven_gerealiseerd uitgaven_begroot_per_inwoner "
                         "uitgaven_gerealiseerd_per_inwoner status bron_tabel",
    "core.wmo_uitgaven_regio": "regio_code regio_naam regio_type jaar voorziening_code "
                               "voorziening uitgaven_begroot uitgaven_gerealiseerd "
                               "uitgaven_begroot_per_inwoner uitgaven_gerealiseerd_per_inwoner "
                               "status bron_tabel",
    "core.wmo_stroom": "gemeente_code periode_code jaar halfjaar voorziening_code voorziening "
                       "stand instroom uitstroom status bron_tabel",
    "core.wmo_beeindiging": "gemeente_code periode_code jaar halfjaar reden_code reden clienten "
                            "clienten_per_1000 status bron_tabel",
    "core.uitspraak": "ecli uitspraakdatum publicatiedatum instantie instantie_type zaaknummer "
                      "procedure rechtsgebied gemeente_code gemeente_naam_tekst is_wmo2015 is_hbh "
                      "is_resultaatgericht uitkomst client_in_het_gelijk inhoudsindicatie url "
                      "is_synthetisch",
    "core.werkwijze": "gemeente_code voorziening werkwijze geldig_vanaf geldig_tot bron_url "
                      "bron_type bron_omschrijving peildatum ingang_effectief einde_effectief "
                      "regel",
    "core.bezwaar": "gemeente_code jaar domein bezwaren_ontvangen bezwaren_afgehandeld gegrond "
                    "deels_gegrond ongegrond niet_ontvankelijk ingetrokken beroep bron_url "
                    "bron_omschrijving peildatum is_synthetisch",
    "core.herindeling": "datum_ingang oude_code oude_naam nieuwe_code nieuwe_naam type aandeel "
                        "bron",
    "out.gemeente_periode": "gemeente_code gemeente_naam provincie_naam periode_code jaar "
                            "halfjaar voorziening_code voorziening clienten clienten_per_1000 "
                            "inwoners inwoners_75plus aandeel_75plus werkwijze_hbh "
                            "werkwijze_hbh_sterke_bron bezwaren_ontvangen "
                            "bezwaren_per_1000_clienten uitgaven_gerealiseerd "
                            "uitgaven_gerealiseerd_hbh uitgaven_per_inwoner "
                            "uitgaven_hbh_per_inwoner uitgaven_hbh_per_client hbh_instroom "
                            "hbh_uitstroom hbh_instroom_per_1000 hbh_uitstroom_per_1000 "
                            "beeindigd_door_gemeente beeindigd_door_gemeente_per_1000_clienten "
                            "uitspraken_wmo uitspraken_client_gelijk uitspraken_hbh "
                            "uitspraken_resultaatgericht uitspraken_per_10000_clienten "
                            "status is_geharmoniseerd is_synthetisch",
    "out.provincie_periode": "provincie_code provincie_naam periode_code jaar halfjaar "
                             "voorziening_code voorziening clienten inwoners clienten_per_1000 "
                             "gemeenten_totaal gemeenten_bekend status is_synthetisch",
    "out.uitspraak": "ecli uitspraakdatum jaar publicatiedatum instantie instantie_type "
                     "zaaknummer procedure rechtsgebied gemeente_code gemeente_naam "
                     "provincie_naam gemeente_code_uitspraak gemeente_naam_tekst werkwijze_hbh "
                     "is_hbh is_resultaatgericht uitkomst client_in_het_gelijk inhoudsindicatie "
                     "url is_jaar_opgehaald is_synthetisch",
    "out.uitspraak_jaar": "jaar is_opgehaald uitspraken_wmo uitspraken_toegerekend "
                          "uitspraken_niet_toegerekend is_synthetisch",
    "meta.bron": "bron_id titel producent url opgehaald_op licentie formaat sha256 "
                 "is_synthetisch map",
    "meta.uitspraak_periode": "van tot",
    "meta.veld": "schema_naam tabel kolom type omschrijving eenheid omschrijving_en",
    "meta.tabel": "schema_naam tabel omschrijving sleutel omschrijving_en",
    "meta.build": "built_at versie duckdb_versie referentie_indeling is_synthetisch raw_map "
                  "duur_s",
}


@pytest.fixture(scope="module")
def meta() -> Metadata:
    return load_metadata()


def test_metadata_validates_every_table_and_column_described(meta: Metadata) -> None:
    assert validate_metadata(meta) == []


def test_metadata_matches_the_public_contract(meta: Metadata) -> None:
    actual = {key: [c.name for c in t.columns] for key, t in meta.tables.items()}
    assert actual == {key: names.split() for key, names in CONTRACT.items()}
    assert list(meta.tables) == list(CONTRACT)


def test_sources_and_symbol_legend_are_complete(meta: Metadata) -> None:
    cbs = {k.removeprefix("cbs-") for k in meta.sources if k.startswith("cbs-")}
    # Every table tables.py declares, and no other.
    assert cbs == set(TABLES)
    assert {"86050NED", "03759NED", "84580NED", "86051NED", "86061NED"} <= cbs
    assert {"geo", "register-werkwijze", "register-bezwaar",
            "register-herindelingen"} <= set(meta.sources)
    handling = {s.symbol: s.handling for s in meta.symbols}
    assert set(handling) == {".", "x", "-", "0", "*", "**"}
    assert "NULL" in handling["."] and "NULL" in handling["x"]
    assert "'voorlopig'" in handling["*"] and "'nader_voorlopig'" in handling["**"]


def test_validation_reports_missing_description_unknown_type_and_duplicates() -> None:
    broken = Metadata(
        tables={"core.x": TableMeta("core", "x", "", ["a", "missing"], [
            ColumnMeta("a", "VARCHAR", "", None),
            ColumnMeta("a", "TEXTISH", "Described.", "", description_nl="Beschreven."),
        ])},
        sources={},
        symbols=[],
    )
    problems = "\n".join(validate_metadata(broken))
    for expected in ("table has no description", "core.x.a: column has no description",
                     "core.x: table has no Dutch description",
                     "core.x.a: column has no Dutch description",
                     "unknown DuckDB type 'TEXTISH'", "duplicate column a",
                     "primary_key column missing", "unit is empty", "symbol legend"):
        assert expected in problems


def test_schema_round_trip_in_duckdb_keeps_order_types_and_comments(
    meta: Metadata, tmp_path: Path
) -> None:
    con = duckdb.connect(str(tmp_path / "contract.duckdb"))
    try:
        for schema in SCHEMAS:
            con.execute(f"CREATE SCHEMA {schema}")
        for table in meta.tables.values():
            con.execute(create_table_sql(table))
        for statement in comment_statements(meta):
            con.execute(statement)
        columns = con.execute(
            "SELECT schema_name, table_name, column_name, data_type, comment "
            "FROM duckdb_columns() WHERE schema_name IN ('core', 'out', 'meta') "
            "ORDER BY schema_name, table_name, column_index"
        ).fetchall()
        tables = dict(
            ((s, t), c) for s, t, c in con.execute(
                "SELECT schema_name, table_name, comment FROM duckdb_tables() "
                "WHERE schema_name IN ('core', 'out', 'meta')"
            ).fetchall()
        )
    finally:
        con.close()

    assert set(tables) == {(t.schema, t.name) for t in meta.tables.values()}
    for (schema, name), comment in tables.items():
        assert comment and comment.strip(), f"{schema}.{name} has no table comment"
        assert comment == meta.tables[f"{schema}.{name}"].description_nl

    by_table: dict[str, list[tuple[str, str, str | None]]] = {}
    for schema, name, column, data_type, comment in columns:
        by_table.setdefault(f"{schema}.{name}", []).append((column, data_type, comment))
    for key, table in meta.tables.items():
        got = by_table[key]
        assert [c for c, _, _ in got] == [c.name for c in table.columns], key
        assert [t for _, t, _ in got] == [c.type for c in table.columns], key
        for (column, _, comment), col in zip(got, table.columns, strict=True):
            assert comment and comment.strip(), f"{key}.{column} has no comment"
            assert comment == column_comment(col)
            assert comment.startswith(col.description_nl), f"{key}.{column}: not Dutch"
    # A quote in a description must survive the round trip, not end the SQL literal.
    assert any("'" in c for _, _, _, _, c in columns)


def test_meta_rows_load_into_their_own_tables(meta: Metadata, tmp_path: Path) -> None:
    # Not "meta.duckdb": the catalog would take the file's name and clash with schema `meta`.
    con = duckdb.connect(str(tmp_path / "dictionary.duckdb"))
    try:
        con.execute("CREATE SCHEMA meta")
        for key in ("meta.veld", "meta.tabel"):
            con.execute(create_table_sql(meta.tables[key]))
        con.executemany("INSERT INTO meta.veld VALUES (?, ?, ?, ?, ?, ?, ?)", veld_rows(meta))
        con.executemany("INSERT INTO meta.tabel VALUES (?, ?, ?, ?, ?)", tabel_rows(meta))
        n_columns = sum(len(t.columns) for t in meta.tables.values())
        assert con.execute("SELECT count(*) FROM meta.veld").fetchall() == [(n_columns,)]
        assert con.execute(
            "SELECT eenheid FROM meta.veld WHERE tabel = 'gemeente_periode' "
            "AND kolom = 'clienten_per_1000'"
        ).fetchall() == [("per 1 000 inwoners",)]
        assert con.execute(
            "SELECT sleutel FROM meta.tabel WHERE schema_naam = 'core' AND tabel = 'wmo_clienten'"
        ).fetchall() == [("gemeente_code, periode_code, voorziening_code",)]
        assert con.execute(
            "SELECT count(*) FROM meta.veld GROUP BY schema_naam, tabel, kolom HAVING count(*) > 1"
        ).fetchall() == []
        # Dutch is the main text, English beside it.
        col = meta.tables["out.gemeente_periode"].columns[0]
        assert con.execute(
            "SELECT omschrijving, omschrijving_en FROM meta.veld WHERE schema_naam = 'out' "
            "AND tabel = 'gemeente_periode' AND kolom = ?", [col.name]
        ).fetchall() == [(col.description_nl, col.description)]
    finally:
        con.close()


# Words that occur in (nearly) every English description and in no Dutch one, and back.
ENGLISH_WORDS = re.compile(r"\b(the|when|with|from|never|which|are|only|unknown)\b")
DUTCH_WORDS = re.compile(
    r"\b(de|het|een|van|voor|niet|nooit|als|en|zoals|uit|op|bijv|met|naar|zie|jaar|wordt|zijn)\b")


def _entries(meta: Metadata) -> list[tuple[str, str, str]]:
    """(where, Dutch, English) for every table, column and symbol text."""
    out = []
    for key, table in meta.tables.items():
        out.append((key, table.description_nl, table.description))
        out += [(f"{key}.{c.name}", c.description_nl, c.description) for c in table.columns]
    for s in meta.symbols:
        out += [(f"symbol {s.symbol}", s.meaning_nl, s.meaning),
                (f"symbol {s.symbol} handling", s.handling_nl, s.handling)]
    return out


def test_every_entry_has_a_dutch_description_beside_the_english(meta: Metadata) -> None:
    entries = _entries(meta)
    assert len(entries) > 250
    for where, nl, en in entries:
        assert nl.strip() and en.strip(), where
        assert nl != en, f"{where}: the Dutch text is the English one"
    # Short texts can be language-neutral ('Kolomnaam.'); the long ones must read as Dutch.
    long = [(w, nl) for w, nl, en in entries if len(en.split()) >= 12]
    assert len(long) > 100
    for where, nl in long:
        assert DUTCH_WORDS.search(nl.lower()), f"{where}: description_nl does not read as Dutch"
        assert not ENGLISH_WORDS.search(nl.lower()), f"{where}: English words in description_nl"


def test_missing_dutch_description_is_a_clear_input_error(tmp_path: Path) -> None:
    raw = yaml.safe_load(METADATA.read_text(encoding="utf-8"))
    del raw["tables"]["core.gemeente"]["columns"][1]["description_nl"]
    broken = tmp_path / "metadata.yaml"
    broken.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_metadata(broken)
    assert info.value.record == "tables.core.gemeente.columns[1]"
    assert info.value.field == "description_nl"


def test_built_database_comments_are_dutch_and_meta_carries_both(demo_db: Path,
                                                                  meta: Metadata) -> None:
    con = duckdb.connect(str(demo_db), read_only=True)
    try:
        table_comments = dict(((s, t), c) for s, t, c in con.execute(
            "SELECT schema_name, table_name, comment FROM duckdb_tables() "
            "WHERE database_name = current_database()").fetchall())
        column_comments = dict(((s, t, k), c) for s, t, k, c in con.execute(
            "SELECT schema_name, table_name, column_name, comment FROM duckdb_columns() "
            "WHERE database_name = current_database()").fetchall())
        veld = {(s, t, k): (nl, en) for s, t, k, nl, en in con.execute(
            "SELECT schema_naam, tabel, kolom, omschrijving, omschrijving_en FROM meta.veld"
        ).fetchall()}
        tabel = {(s, t): (nl, en) for s, t, nl, en in con.execute(
            "SELECT schema_naam, tabel, omschrijving, omschrijving_en FROM meta.tabel").fetchall()}
    finally:
        con.close()
    for table in meta.tables.values():
        assert table_comments[(table.schema, table.name)] == table.description_nl
        assert tabel[(table.schema, table.name)] == (table.description_nl, table.description)
        for col in table.columns:
            where = (table.schema, table.name, col.name)
            assert column_comments[where] == column_comment(col)
            assert veld[where] == (col.description_nl, col.description)
    comment = column_comments[("out", "gemeente_periode", "clienten_per_1000")]
    assert comment.endswith("Eenheid: per 1 000 inwoners.") and "Unit" not in comment


def test_dictionary_lists_every_table_column_source_and_symbol(meta: Metadata) -> None:
    text = render_data_dictionary(meta)
    for key, table in meta.tables.items():
        assert f"\n## {key}\n" in text
        for col in table.columns:
            assert f"| `{col.name}` | {col.type} |" in text
    for source_id in meta.sources:
        assert f"`{source_id}`" in text
    # A `|` inside a description ('totaal'|'groep') must be escaped, or its row gains a cell.
    for block in _markdown_tables(text):
        widths = {len(re.findall(r"(?<!\\)\|", line)) for line in block}
        assert len(widths) == 1, block


def _markdown_tables(text: str) -> list[list[str]]:
    blocks: list[list[str]] = [[]]
    for line in text.splitlines():
        if line.startswith("|"):
            blocks[-1].append(line)
        elif blocks[-1]:
            blocks.append([])
    return [b for b in blocks if b]


def test_committed_dictionary_is_up_to_date() -> None:
    fresh = subprocess.run(
        [sys.executable, "-m", "etl.metadata"], cwd=ROOT, capture_output=True, check=True,
    ).stdout.decode("utf-8")
    assert DICTIONARY.read_text(encoding="utf-8") == fresh, (
        "docs/data-dictionary.md is stale: run "
        "`.venv/bin/python -m etl.metadata > docs/data-dictionary.md`"
    )
