"""Text from URLs and data is shown as text, never as markdown (issue 13 §4, first part)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.safe import is_http_url, md_escape, safe_links
from etl.cli import main
from tests.dashboard_fixtures import APP, SNAPSHOT

ATTACKS = [
    "[Sessie verlopen: log opnieuw in](https://evil.example/login)",
    "![x](https://evil.example/p.png)",
    "<img src=x onerror=alert(1)>",
    "# kop\n\n**vet** `code` _schuin_",
    "https://evil.example/autolink",
]


def _unescaped(text: str, chars: str) -> list[str]:
    """Special characters not preceded by a backslash."""
    return [m.group(0) for m in re.finditer(r"(?<!\\)[" + re.escape(chars) + "]", text)]


@pytest.mark.parametrize("attack", ATTACKS)
def test_md_escape_leaves_no_markup_character_active(attack: str) -> None:
    escaped = md_escape(attack, limit=500)
    assert _unescaped(escaped, "[]<>*`_:") == []
    assert not re.search(r"(^|\s)#", escaped)
    assert "\n" not in escaped
    # What the reader sees after markdown removes the escapes is the original, on one line.
    assert re.sub(r"\\(.)", r"\1", escaped) == " ".join(attack.split())


def test_md_escape_cuts_long_values() -> None:
    assert md_escape("a" * 1000).startswith("a" * 80) and md_escape("a" * 1000).endswith("…")
    assert len(md_escape("a" * 1000)) == 81


def test_unknown_url_value_is_echoed_as_text(make_app) -> None:
    attack = "[Sessie verlopen: log opnieuw in](https://evil.example/login)"
    at = make_app(maat=attack)
    assert not at.exception
    messages = [i.value for i in at.info]
    shown = [m for m in messages if "Sessie" in m]
    assert shown, messages
    assert "\\[Sessie" in shown[0]
    assert _unescaped(shown[0].split("'")[1], "[]:") == []


def test_names_with_ordinary_punctuation_read_unchanged() -> None:
    for name in ("Bergen (L.)", "Sint-Michielsgestel", "'s-Gravenhage",
                 "Nuenen, Gerwen en Nederwetten"):
        assert md_escape(name) == name


@pytest.mark.parametrize(("url", "ok"), [
    ("https://www.rechtspraak.nl/uitspraak?id=ECLI:NL:CRVB:2018:3241", True),
    ("http://cda-bergen.nl/hhulp.htm", True),
    ("javascript:alert(1)", False),
    ("data/raw/registers/werkwijze.csv", False),
    ("https://x.example/a b", False),
    ("https://x.example/)![p](https://evil.example/p.png", True),  # a link, not markup
    ("https://evil.example/\"onmouseover=\"x", False),
    ("", False),
])
def test_only_plain_http_urls_become_links(url: str, ok: bool) -> None:
    import polars as pl
    assert is_http_url(url) is ok
    frame = safe_links(pl.DataFrame({"bron_url": [url], "tekst": [url]}), "bron_url", "nope")
    assert frame["bron_url"].to_list() == [url if ok else None]
    assert frame["tekst"].to_list() == [url]  # other columns untouched


HOSTILE_NAME = "Haaren](https://evil.example/login) ![x](https://evil.example/p.png) **vet**"


@pytest.fixture(scope="module")
def hostile_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo build whose herindelingen register names Haaren with markdown in it."""
    root = tmp_path_factory.mktemp("hostile")
    raw, db = root / "raw", root / "wmo.duckdb"
    assert main(["demo", "--out", str(raw), "--snapshot", str(SNAPSHOT)]) == 0
    register = raw / "registers" / "herindelingen.csv"
    lines = register.read_text(encoding="utf-8").splitlines(keepends=True)
    quoted = '"' + HOSTILE_NAME.replace('"', '""') + '"'
    lines = [line.replace(",GM0788,Haaren,", f",GM0788,{quoted},") for line in lines]
    register.write_text("".join(lines), encoding="utf-8")
    assert main(["build", "--raw", str(raw), "--db", str(db), "--snapshot", str(SNAPSHOT)]) == 0
    return db


def test_register_names_on_the_gemeente_page_stay_text(hostile_db: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WMO_DB", str(hostile_db))
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page("app_pages/gemeente.py")
    at.query_params["gemeente"] = "GM0788"
    at.run()
    assert not at.exception
    shown = [i.value for i in at.info if "evil" in i.value]
    assert shown, [i.value for i in at.info]
    for text in shown:
        # The page's own sentence has colons; the register's URL must not autolink.
        assert _unescaped(text, "[]*") == [], text
        assert "https://evil" not in text and "https\\://evil" in text
    # Buttons and headers render markdown too.
    for element in [*at.button, *at.header]:
        label = getattr(element, "label", None) or getattr(element, "value", "")
        assert _unescaped(str(label), "[]*") == [], label
        assert "https://evil" not in str(label)
