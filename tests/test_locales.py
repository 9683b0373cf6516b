"""The locale files: both languages hold the same texts, and every key the code names exists.

The code names a text as `tr("key", lang, TEXTS)`, `ctx.t("key", T)` or `TEXTS["key"]`; which
section that is follows from the module (a view's own `TEXTS = section("…")`, a page's
`T = view.TEXTS`, or `other.TEXTS`). Keys built at run time (f-strings) are checked where they
are made, by the pages' AppTests.
"""

from __future__ import annotations

import ast
import re
import string
import tomllib
from pathlib import Path

import pytest

from dashboard import i18n

ROOT = Path(__file__).resolve().parents[1]
DASHBOARD = ROOT / "dashboard"


def _load(lang: str) -> dict[str, dict[str, str]]:
    with (i18n.LOCALES / f"{lang}.toml").open("rb") as handle:
        return tomllib.load(handle)


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_both_languages_have_the_same_sections_and_keys() -> None:
    nl, en = _load("nl"), _load("en")
    assert set(nl) == set(en)
    for name in nl:
        assert set(nl[name]) == set(en[name]), name


def test_every_text_is_non_empty_text_with_the_same_fields_in_both_languages() -> None:
    nl, en = _load("nl"), _load("en")
    for name, entries in nl.items():
        for key, text in entries.items():
            other = en[name][key]
            assert isinstance(text, str) and text.strip(), (name, key)
            assert isinstance(other, str) and other.strip(), (name, key)
            assert _fields(text) == _fields(other), (name, key)


def test_no_view_module_keeps_its_own_text_table() -> None:
    """Texts live in the locale files: no module-level dict of {'nl': …, 'en': …} entries."""
    offenders = []
    for path in DASHBOARD.rglob("*.py"):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            value = getattr(node, "value", None)
            if isinstance(node, ast.Assign | ast.AnnAssign) and isinstance(value, ast.Dict):
                inner = [v for v in value.values if isinstance(v, ast.Dict)]
                by_text = len(inner) >= 3 and all(
                    {getattr(k, "value", None) for k in v.keys} >= {"nl", "en"} for v in inner)
                # {"nl": {...}, "en": {...}}: the same table turned around.
                by_lang = {getattr(k, "value", None) for k in value.keys} == {"nl", "en"} \
                    and len(inner) == 2
                if by_text or by_lang:
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


def test_no_text_pair_is_written_in_code() -> None:
    """Not even inline: no {'nl': '…', 'en': '…'} text literal anywhere in the dashboard
    (fmt's month names and separators are formatting tables, kept beside the code)."""
    found = []
    for path in DASHBOARD.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Dict) and {getattr(k, "value", None)
                                               for k in node.keys} == {"nl", "en"} \
                    and any(isinstance(v, ast.Constant | ast.JoinedStr) for v in node.values):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert found == []


# --- every key the code names exists ------------------------------------------------------------

def _module_sections(tree: ast.Module) -> dict[str, str]:
    """Names bound to a section in this module: `TEXTS = section("x")` → {"TEXTS": "x"}."""
    found: dict[str, str] = {}
    for node in tree.body:
        if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)
                and getattr(node.value.func, "id", None) == "section"):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    found[target.id] = node.value.args[0].value  # type: ignore[attr-defined]
    return found


def _imported_views(tree: ast.Module) -> dict[str, str]:
    """alias → view module name, for `from dashboard.views import kaart as view` and friends."""
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module in ("dashboard.views", "dashboard"):
            for name in node.names:
                aliases[name.asname or name.name] = name.name
    return aliases


def _sections_of(tree: ast.Module) -> dict[str, str]:
    """Every name in this module that stands for a section: TEXTS, T = view.TEXTS, ..."""
    names = _module_sections(tree)
    views = _imported_views(tree)
    for node in tree.body:
        if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Attribute)
                and node.value.attr == "TEXTS" and isinstance(node.value.value, ast.Name)):
            module = views.get(node.value.value.id)
            if module is not None:
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        names[target.id] = module
    return names


def _section_expr(expr: ast.expr | None, names: dict[str, str],
                  views: dict[str, str]) -> str | None:
    if expr is None:
        return "common"
    if isinstance(expr, ast.Name):
        return names.get(expr.id)
    if isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name):
        if expr.attr == "TEXTS":
            return views.get(expr.value.id)
        if expr.attr == "LIMIT_LABELS":
            return "sql_limits"
    return None


def _uses(path: Path) -> list[tuple[int, str, str]]:
    """(line, section, key) for every literal key this module asks for."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names, views = _sections_of(tree), _imported_views(tree)
    found: list[tuple[int, str, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str):
            func = node.func
            fname = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if fname == "tr":
                texts = node.args[2] if len(node.args) > 2 else None
            elif fname == "t" and isinstance(func, ast.Attribute):
                texts = node.args[1] if len(node.args) > 1 else None
            else:
                continue
            sec = _section_expr(texts, names, views)
            if sec is not None:
                found.append((node.lineno, sec, node.args[0].value))
        elif isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) \
                and isinstance(node.slice.value, str):
            sec = _section_expr(node.value, names, views) if isinstance(
                node.value, ast.Name | ast.Attribute) else None
            if sec is not None and sec != "common":
                found.append((node.lineno, sec, node.slice.value))
    return found


MODULES = sorted(p for p in DASHBOARD.rglob("*.py") if "locales" not in p.parts)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(DASHBOARD)))
def test_every_key_named_in_code_exists(path: Path) -> None:
    catalogue = i18n._catalogue()
    missing = [f"{path.relative_to(ROOT)}:{line} {sec}.{key}"
               for line, sec, key in _uses(path)
               if key not in catalogue.get(sec, {}) and key not in catalogue["common"]]
    assert missing == []


def test_the_key_scan_finds_the_pages_keys() -> None:
    """The scan above must see the keys, or it would pass on anything."""
    kaart_page = _uses(DASHBOARD / "app_pages" / "kaart.py")
    assert ("kaart", "title") in {(sec, key) for _, sec, key in kaart_page}
    view = _uses(DASHBOARD / "views" / "gemeente.py")
    assert len(view) > 20


def test_a_misspelt_key_is_caught(tmp_path: Path) -> None:
    bad = tmp_path / "page.py"
    bad.write_text('from dashboard.views import kaart as view\nT = view.TEXTS\n'
                   'ctx.t("titel_bestaat_niet", T)\n', encoding="utf-8")
    assert _uses(bad) == [(3, "kaart", "titel_bestaat_niet")]
    assert "titel_bestaat_niet" not in i18n._catalogue()["kaart"]


def test_placeholders_are_plain_names() -> None:
    """`{n}` fields only: a format spec from a text file must not reach str.format unchecked."""
    for lang in i18n.LANGS:
        for name, entries in _load(lang).items():
            for key, text in entries.items():
                for field in _fields(text):
                    assert re.fullmatch(r"[a-z_][a-z0-9_]*", field), (lang, name, key, field)
