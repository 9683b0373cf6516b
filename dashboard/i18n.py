"""Dutch by default, English on request: the texts shared by every page.

Page-specific texts live in their own view module as a dict of the same shape, so adding a page
never means editing this file. `tr` falls back to Dutch, then to the key itself, so a missing
English text shows up as Dutch rather than as an exception in front of a user.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

Lang = Literal["nl", "en"]
DEFAULT_LANG: Lang = "nl"

Texts = Mapping[str, Mapping[str, str]]

COMMON: dict[str, dict[str, str]] = {
    "page_kaart": {"nl": "Kaart", "en": "Map"},
    "page_vergelijken": {"nl": "Vergelijken", "en": "Compare"},
    "page_werkwijze": {"nl": "Werkwijze", "en": "Working method"},
    "page_bezwaar": {"nl": "Bezwaar", "en": "Objections"},
    "page_gemeente": {"nl": "Gemeente", "en": "Municipality"},
    "page_data": {"nl": "Data", "en": "Data"},
    "page_sql": {"nl": "SQL", "en": "SQL"},
    "page_over": {"nl": "Over", "en": "About"},
    "language": {"nl": "Taal / language", "en": "Taal / language"},
    "synthetic_banner": {
        "nl": "**Synthetische demodata.** Deze cijfers zijn gegenereerd in het formaat van CBS en "
              "zijn géén CBS-cijfers. Niet gebruiken voor onderzoek, beleid of publicatie.",
        "en": "**Synthetic demo data.** These figures were generated in the CBS format and are "
              "not CBS figures. Do not use them for research, policy or publication.",
    },
    "no_database": {
        "nl": "De database {path} ontbreekt of is onleesbaar. Bouw hem eerst met `./dev build`.",
        "en": "The database {path} is missing or unreadable. Build it first with `./dev build`.",
    },
    "built": {
        "nl": "Database gebouwd op {built_at} · gemeentelijke indeling {ref} · versie {versie}",
        "en": "Database built on {built_at} · municipal classification {ref} · version {versie}",
    },
    "unknown_param": {
        "nl": "De link noemt {name} = '{value}', maar die bestaat niet in deze database. "
              "Getoond: {fallback}.",
        "en": "The link asks for {name} = '{value}', which does not exist in this database. "
              "Showing: {fallback}.",
    },
    "download_png": {"nl": "PNG", "en": "PNG"},
    "download_svg": {"nl": "SVG", "en": "SVG"},
    "table_alternative": {"nl": "Tabel bij deze grafiek", "en": "Table for this chart"},
    "source_cbs": {
        "nl": "Bron: CBS, StatLine {tables}; bewerking wmo-atlas",
        "en": "Source: CBS, StatLine {tables}; processed by wmo-atlas",
    },
    "source_synthetic": {
        "nl": "Bron: SYNTHETISCHE DEMODATA (geen CBS-cijfers); bewerking wmo-atlas",
        "en": "Source: SYNTHETIC DEMO DATA (not CBS figures); processed by wmo-atlas",
    },
    "status_legend": {
        "nl": "Tekens: `*` voorlopig, `**` nader voorlopig; deze cijfers kunnen nog veranderen.",
        "en": "Marks: `*` provisional, `**` revised provisional; these figures may still "
              "change.",
    },
    "onbekend": {"nl": "onbekend", "en": "unknown"},
    "resultaatgericht": {"nl": "resultaatgericht", "en": "result-oriented"},
    "uren": {"nl": "in uren", "en": "in hours"},
    "werkwijze_onbekend": {"nl": "werkwijze onbekend", "en": "method unknown"},
    "all_provinces": {"nl": "Heel Nederland", "en": "All of the Netherlands"},
    "provincie": {"nl": "Provincie", "en": "Province"},
    "periode": {"nl": "Periode", "en": "Period"},
    "voorziening": {"nl": "Voorziening", "en": "Type of support"},
    "maat": {"nl": "Maat", "en": "Measure"},
    "gemeente": {"nl": "Gemeente", "en": "Municipality"},
    # The country: CBS's own figure, or a sum over the gemeenten with figures (said so).
    "nederland_cbs": {"nl": "Nederland (CBS)", "en": "Netherlands (CBS)"},
    "nederland_cbs_synthetic": {"nl": "Nederland (CBS-methode, SYNTHETISCH)",
                                "en": "Netherlands (CBS method, SYNTHETIC)"},
    "nederland_pooled": {"nl": "Nederland (opgeteld)", "en": "Netherlands (pooled)"},
    "met_cijfers": {"nl": "gemeenten met cijfers: {n} van {total}",
                    "en": "municipalities with figures: {n} of {total}"},
    "nederland_cbs_note": {
        "nl": "{label} is het landelijke cijfer zoals CBS het publiceert (tabel "
              "`core.wmo_clienten_regio`), inclusief de schatting van CBS voor gemeenten zonder "
              "cijfers; daarom ligt het meestal hoger dan een optelling van de gemeenten.",
        "en": "{label} is the national figure as CBS publishes it (table "
              "`core.wmo_clienten_regio`), including CBS's estimate for municipalities without "
              "figures; so it is usually higher than a sum over the municipalities.",
    },
    "nederland_pooled_note": {
        "nl": "CBS publiceert deze maat niet landelijk: {label} is opgeteld over de gemeenten "
              "met cijfers ({periode}; {counts}) en is dus geen CBS-cijfer.",
        "en": "CBS does not publish this measure nationally: {label} is summed over the "
              "municipalities with figures ({periode}; {counts}), so it is not a CBS figure.",
    },
    "gemeente_ambiguous": {
        "nl": "De link noemt gemeente = '{value}', maar die naam hoort bij meer dan één "
              "gemeentecode: {codes}. Kies de gemeente hieronder; getoond wordt de standaard.",
        "en": "The link asks for gemeente = '{value}', but that name belongs to more than one "
              "municipality code: {codes}. Choose it below; the default is shown.",
    },
}


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

