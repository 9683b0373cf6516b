"""The kinds of source (`bron_type`) a werkwijze register row may cite, defined once.

The register reader checks `bron_type` against BRON_TYPES, the build derives
`werkwijze_hbh_sterke_bron` from STERKE_BRON_TYPES, and the dashboard shows `label(code, lang)`.
Keeping all three here means a new kind of source cannot be accepted by the reader yet be
unlabelled on the page.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BronType:
    code: str
    nl: str
    en: str
    # A court ruling or a published regulation documents the decisions themselves; the other
    # kinds report or assess them, so a reader may want to see the result without them.
    sterk: bool = False


# Order: stronger sources first, then roughly from official to interested parties.
BRON_TYPE_LIST: tuple[BronType, ...] = (
    BronType("rechterlijke_uitspraak", "rechterlijke uitspraak", "court ruling", sterk=True),
    BronType("regelgeving", "regelgeving", "regulation", sterk=True),
    BronType("gemeente", "gemeente", "municipality"),
    BronType("rekenkamer", "rekenkamer", "audit office"),
    BronType("brief", "brief", "letter"),
    BronType("nieuws", "nieuws", "news"),
    BronType("belangenorganisatie", "belangenorganisatie", "advocacy organisation"),
    BronType("aanbieder", "zorgaanbieder", "care provider"),
)

BRON_TYPES: tuple[str, ...] = tuple(b.code for b in BRON_TYPE_LIST)
STERKE_BRON_TYPES: tuple[str, ...] = tuple(b.code for b in BRON_TYPE_LIST if b.sterk)
_BY_CODE: dict[str, BronType] = {b.code: b for b in BRON_TYPE_LIST}


def is_sterk(code: str) -> bool:
    """True for the stronger kinds of source (court rulings and regulations)."""
    return code in STERKE_BRON_TYPES


def label(code: str, lang: str) -> str:
    """The English label for lang 'en', else the Dutch one; an unknown code shows as itself."""
    kind = _BY_CODE.get(code)
    if kind is None:
        return code
    return kind.en if lang == "en" else kind.nl
