"""Text from URLs and data is shown as text, never as markdown (issue 13 §4, first part)."""

from __future__ import annotations

import re

import pytest

from dashboard.i18n import md_escape

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
    assert _unescaped(escaped, "[]()!<>#*`_:") == []
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
    assert "](https" not in shown[0] and "\\[Sessie" in shown[0]
