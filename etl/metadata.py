"""The one description of the database: `etl/metadata.yaml` → DDL, comments, meta rows, docs.

Everything a researcher reads about a table or column (DuckDB comments, `meta.veld`,
`meta.tabel`, `docs/data-dictionary.md`) is generated here from the YAML, so the texts cannot
drift apart. Render the dictionary with `python -m etl.metadata > docs/data-dictionary.md`.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from etl.errors import InputError, display_path

METADATA_PATH = Path(__file__).with_name("metadata.yaml")
SCHEMAS = ("core", "out", "meta")
# Spelled as duckdb_columns() reports them, so a round trip can compare types as text.
KNOWN_TYPES = frozenset({
    "BOOLEAN", "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
    "UINTEGER", "UBIGINT", "FLOAT", "DOUBLE", "VARCHAR", "BLOB", "DATE", "TIME",
    "TIMESTAMP", "TIMESTAMP WITH TIME ZONE", "INTERVAL", "UUID",
})
SOURCE_FIELDS = ("title", "producer", "licence", "url")
SYMBOL_FIELDS = ("symbol", "meaning", "handling", "meaning_nl", "handling_nl")


@dataclass(frozen=True)
class ColumnMeta:
    name: str
    type: str
    description: str  # English
    unit: str | None
    description_nl: str = ""  # Dutch: the main text of the comments and meta.veld

    def text(self, lang: str) -> str:
        return self.description if lang == "en" else self.description_nl


@dataclass(frozen=True)
class TableMeta:
    schema: str
    name: str
    description: str  # English
    primary_key: list[str]
    columns: list[ColumnMeta]
    description_nl: str = ""  # Dutch: the main text of the comments and meta.tabel

    def text(self, lang: str) -> str:
        return self.description if lang == "en" else self.description_nl

    @property
    def qualified_name(self) -> str:
        return f"{self.schema}.{self.name}"


@dataclass(frozen=True)
class SourceMeta:
    source_id: str
    title: str
    producer: str
    licence: str
    url: str


@dataclass(frozen=True)
class SymbolMeta:
    symbol: str
    meaning: str  # English
    handling: str
    meaning_nl: str = ""
    handling_nl: str = ""


@dataclass(frozen=True)
class Metadata:
    tables: dict[str, TableMeta]
    sources: dict[str, SourceMeta]
    symbols: list[SymbolMeta]


def load_metadata(path: Path | None = None) -> Metadata:
    """Read the YAML; a structural problem (missing field, wrong shape) is an `InputError`.

    Content problems (empty descriptions, unknown types) are left to `validate_metadata`,
    so that all of them can be reported at once.
    """
    path = path or METADATA_PATH
    name = display_path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise InputError(name, None, None, f"not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise InputError(name, None, None, "expected a mapping with tables, sources, symbols")
    tables = {
        key: _table(name, key, spec) for key, spec in _mapping(name, raw, "tables").items()
    }
    sources = {
        key: SourceMeta(key, *(_text(name, f"sources.{key}", spec, f) for f in SOURCE_FIELDS))
        for key, spec in _mapping(name, raw, "sources").items()
    }
    symbols_raw = raw.get("symbols")
    if not isinstance(symbols_raw, list):
        raise InputError(name, None, "symbols", "expected a list")
    symbols = [
        SymbolMeta(*(_text(name, f"symbols[{i}]", spec, f) for f in SYMBOL_FIELDS))
        for i, spec in enumerate(symbols_raw)
    ]
    return Metadata(tables=tables, sources=sources, symbols=symbols)


def _mapping(file: str, raw: dict[str, Any], key: str) -> dict[str, Any]:
    value = raw.get(key)
    if not isinstance(value, dict):
        raise InputError(file, None, key, "expected a mapping")
    return value


def _text(file: str, where: str, spec: Any, field: str) -> str:
    if not isinstance(spec, dict) or field not in spec:
        raise InputError(file, where, field, "missing")
    value = spec[field]
    # YAML turns `-` or `0` into other types unless quoted; insist on text so nothing is lost.
    if not isinstance(value, str):
        raise InputError(file, where, field, f"expected text, got {value!r} (quote it)")
    return value.strip()


def _table(file: str, key: str, spec: Any) -> TableMeta:
    where = f"tables.{key}"
    schema, dot, table = key.partition(".")
    if not dot or not schema or not table:
        raise InputError(file, where, None, "table keys are written schema.table")
    columns_raw = spec.get("columns") if isinstance(spec, dict) else None
    if not isinstance(columns_raw, list):
        raise InputError(file, where, "columns", "expected a list")
    primary_key = spec.get("primary_key")
    if not isinstance(primary_key, list) or not all(isinstance(c, str) for c in primary_key):
        raise InputError(file, where, "primary_key", "expected a list of column names")
    columns = []
    for i, col in enumerate(columns_raw):
        col_where = f"{where}.columns[{i}]"
        if not isinstance(col, dict) or "unit" not in col:
            raise InputError(file, col_where, "unit", "missing (write `unit: null` when none)")
        unit = col["unit"]
        if unit is not None and not isinstance(unit, str):
            raise InputError(file, col_where, "unit", f"expected text or null, got {unit!r}")
        columns.append(ColumnMeta(
            name=_text(file, col_where, col, "name"),
            type=_text(file, col_where, col, "type"),
            description=_text(file, col_where, col, "description"),
            unit=unit.strip() if unit is not None else None,
            description_nl=_text(file, col_where, col, "description_nl"),
        ))
    return TableMeta(schema, table, _text(file, where, spec, "description"), primary_key,
                     columns, description_nl=_text(file, where, spec, "description_nl"))


def validate_metadata(meta: Metadata) -> list[str]:
    """Every problem that would make the published contract incomplete or unbuildable."""
    problems: list[str] = []
    for key, table in meta.tables.items():
        if table.schema not in SCHEMAS:
            problems.append(f"{key}: schema must be one of {', '.join(SCHEMAS)}")
        if not table.description:
            problems.append(f"{key}: table has no description")
        if not table.description_nl:
            problems.append(f"{key}: table has no Dutch description (description_nl)")
        if not table.columns:
            problems.append(f"{key}: table has no columns")
        if not table.primary_key and table.schema != "meta":
            problems.append(f"{key}: core and out tables need a documented primary_key")
        names = [c.name for c in table.columns]
        for dup in sorted({n for n in names if names.count(n) > 1}):
            problems.append(f"{key}: duplicate column {dup}")
        for col in table.columns:
            if not col.description:
                problems.append(f"{key}.{col.name}: column has no description")
            if not col.description_nl:
                problems.append(
                    f"{key}.{col.name}: column has no Dutch description (description_nl)")
            if col.type not in KNOWN_TYPES:
                problems.append(f"{key}.{col.name}: unknown DuckDB type {col.type!r}")
            if col.unit == "":
                problems.append(f"{key}.{col.name}: unit is empty (use null)")
        for k in table.primary_key:
            if k not in names:
                problems.append(f"{key}: primary_key column {k} is not a column")
    for source in meta.sources.values():
        for field in SOURCE_FIELDS:
            if not getattr(source, field):
                problems.append(f"sources.{source.source_id}: empty {field}")
    if not meta.symbols:
        problems.append("symbols: the CBS symbol legend is missing")
    for symbol in meta.symbols:
        for field in SYMBOL_FIELDS:
            if not getattr(symbol, field):
                problems.append(f"symbols {symbol.symbol!r}: empty {field}")
    return problems


def _ident(name: str) -> str:
    # Always quoted: column names like `type` must never depend on DuckDB's keyword list.
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _qualified(table: TableMeta) -> str:
    return f"{_ident(table.schema)}.{_ident(table.name)}"


def create_table_sql(table: TableMeta) -> str:
    """CREATE TABLE with the documented types and column order.

    Keys are documented (meta.tabel.sleutel, comments) but not declared: DuckDB checks a
    PRIMARY KEY through an ART index on every insert, which costs load time and memory, and the
    build's own tests already guard uniqueness.
    """
    cols = ",\n".join(f"    {_ident(c.name)} {c.type}" for c in table.columns)
    return f"CREATE TABLE {_qualified(table)} (\n{cols}\n)"


def _key_text(table: TableMeta) -> str | None:
    return ", ".join(table.primary_key) or None


UNIT_LABEL = {"nl": "Eenheid", "en": "Unit"}


def column_comment(column: ColumnMeta, lang: str = "nl") -> str:
    """The column's description in `lang` (Dutch for the DuckDB comment) with its unit."""
    # The unit goes into the comment because tools that show comments show nothing else.
    text = column.text(lang)
    return f"{text} {UNIT_LABEL[lang]}: {column.unit}." if column.unit else text


def comment_statements(meta: Metadata) -> list[str]:
    """`COMMENT ON TABLE` and `COMMENT ON COLUMN` for every table and column, in Dutch (the
    English is in meta.tabel / meta.veld, column omschrijving_en)."""
    statements: list[str] = []
    for table in meta.tables.values():
        statements.append(
            f"COMMENT ON TABLE {_qualified(table)} IS {_literal(table.description_nl)}")
        for col in table.columns:
            statements.append(
                f"COMMENT ON COLUMN {_qualified(table)}.{_ident(col.name)} "
                f"IS {_literal(column_comment(col))}")
    return statements


def veld_rows(meta: Metadata) -> list[tuple[str, str, str, str, str, str | None, str]]:
    """Rows for meta.veld: (schema_naam, tabel, kolom, type, omschrijving, eenheid,
    omschrijving_en); omschrijving is Dutch."""
    return [
        (t.schema, t.name, c.name, c.type, c.description_nl, c.unit, c.description)
        for t in meta.tables.values()
        for c in t.columns
    ]


def tabel_rows(meta: Metadata) -> list[tuple[str, str, str, str | None, str]]:
    """Rows for meta.tabel: (schema_naam, tabel, omschrijving, sleutel, omschrijving_en)."""
    return [(t.schema, t.name, t.description_nl, _key_text(t), t.description)
            for t in meta.tables.values()]


def _cell(text: str | None) -> str:
    # Descriptions contain `|` ('totaal'|'groep'); unescaped it would split the Markdown cell.
    return (text or "").replace("|", "\\|").replace("\n", " ")


def render_data_dictionary(meta: Metadata) -> str:
    """The data dictionary as Markdown, every text in Dutch and English: tables, keys, columns,
    sources and the symbol legend."""
    out = [
        "# wmo-atlas data dictionary (gegevenswoordenboek)",
        "",
        "<!-- Generated from etl/metadata.yaml by `python -m etl.metadata`; do not edit. -->",
        "",
        "Every table and column of `data/processed/wmo.duckdb`. The same texts are in the",
        "database itself: `meta.tabel`, `meta.veld` and the DuckDB comments",
        "(`SELECT * FROM duckdb_columns()`). Keys are documented, not declared as constraints.",
        "Each description is given in Dutch (nl: `omschrijving` and the DuckDB comments) and in",
        "English (en: `omschrijving_en`).",
        "",
        "Alle tabellen en kolommen van `data/processed/wmo.duckdb`, met omschrijvingen in het",
        "Nederlands (`omschrijving`, ook de DuckDB-comments) en het Engels (`omschrijving_en`).",
        "",
        "## Tables",
        "",
    ]
    out += [f"- [`{key}`](#{key.replace('.', '')})" for key in meta.tables]
    for key, table in meta.tables.items():
        out += ["", f"## {key}", "", f"**nl:** {table.description_nl}", "",
                f"**en:** {table.description}", ""]
        key_text = _key_text(table)
        out += [f"**Key:** `{key_text}`" if key_text else "**Key:** none (single row)", ""]
        out += ["| column | type | unit | omschrijving (nl) | description (en) |",
                "| --- | --- | --- | --- | --- |"]
        out += [
            f"| `{c.name}` | {c.type} | {_cell(c.unit) or '—'} | {_cell(c.description_nl)} "
            f"| {_cell(c.description)} |"
            for c in table.columns
        ]
    out += ["", "## Sources", "", "| id | title | producer | licence | url |",
            "| --- | --- | --- | --- | --- |"]
    out += [
        f"| `{s.source_id}` | {_cell(s.title)} | {_cell(s.producer)} | {_cell(s.licence)} "
        f"| {_cell(s.url)} |"
        for s in meta.sources.values()
    ]
    out += ["", "## CBS symbols", "",
            "| symbol | betekenis (nl) | in wmo-atlas (nl) | meaning (en) | in wmo-atlas (en) |",
            "| --- | --- | --- | --- | --- |"]
    out += [
        f"| `{_cell(s.symbol)}` | {_cell(s.meaning_nl)} | {_cell(s.handling_nl)} "
        f"| {_cell(s.meaning)} | {_cell(s.handling)} |"
        for s in meta.symbols
    ]
    return "\n".join(out) + "\n"


def main() -> int:
    meta = load_metadata()
    problems = validate_metadata(meta)
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 2
    # The dictionary has ë and ≠; a C locale would otherwise fail on the first non-ASCII char.
    sys.stdout.reconfigure(encoding="utf-8")  # type: ignore[union-attr]
    sys.stdout.write(render_data_dictionary(meta))
    return 0


if __name__ == "__main__":
    sys.exit(main())
