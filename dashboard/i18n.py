"""Dutch by default, English on request: every interface text lives in `locales/nl.toml` and
`locales/en.toml`, one section per page (plus `common` for the texts every page shares).

A view module takes its section with `TEXTS = section("kaart")`; adding a page means adding a
section to both files. `tr` falls back to Dutch, then to the key itself, so a missing English
text shows up as Dutch rather than as an exception in front of a user; tests/test_locales.py
keeps both files in step and checks that every key the code names exists.
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

Lang = Literal["nl", "en"]
DEFAULT_LANG: Lang = "nl"

Texts = Mapping[str, Mapping[str, str]]

LOCALES = Path(__file__).resolve().parent / "locales"
LANGS: tuple[Lang, ...] = ("nl", "en")


@functools.cache
def _catalogue() -> dict[str, dict[str, dict[str, str]]]:
    """section → key → {lang: text}, read once from locales/<lang>.toml."""
    merged: dict[str, dict[str, dict[str, str]]] = {}
    for lang in LANGS:
        with (LOCALES / f"{lang}.toml").open("rb") as handle:
            for name, entries in tomllib.load(handle).items():
                for key, text in entries.items():
                    merged.setdefault(name, {}).setdefault(key, {})[lang] = text
    return merged


def section(name: str) -> dict[str, dict[str, str]]:
    """The texts of one page (or shared module) in the shape `tr` takes: key → {lang: text}.
    An unknown section is a KeyError at import time, not a missing text in front of a user."""
    return _catalogue()[name]


COMMON = section("common")


def tr(key: str, lang: str, texts: Texts | None = None, **fields: object) -> str:
    """The text for `key` in `lang` (page texts first, then COMMON), formatted with `fields`."""
    for table in (texts or {}, COMMON):
        entry = table.get(key)
        if entry is not None:
            text = entry.get(lang) or entry.get(DEFAULT_LANG) or key
            return text.format(**fields) if fields else text
    return key


def parse_lang(value: str | None) -> Lang:
    """The language from a `taal` URL parameter; anything unknown is Dutch."""
    return "en" if (value or "").strip().lower() == "en" else "nl"

