"""The kinds of source (`bron_type`) a werkwijze register row may cite, defined once.

The register reader checks `bron_type` against BRON_TYPES, the build derives
`werkwijze_hbh_sterke_bron` from STERKE_BRON_TYPES, and the dashboard shows LABELS (same
shape as its text dictionaries, so `tr(code, lang, LABELS)` works). Keeping all three here
means a new kind of source cannot be accepted by the reader yet be unlabelled on the page.
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
LABELS: dict[str, dict[str, str]] = {b.code: {"nl": b.nl, "en": b.en} for b in BRON_TYPE_LIST}


def is_sterk(code: str) -> bool:
    """True for the stronger kinds of source (court rulings and regulations)."""
    return code in STERKE_BRON_TYPES
