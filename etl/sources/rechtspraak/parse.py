"""Reading Rechtspraak Open Data XML safely: the Atom search feed and the content documents.

Both come from a server we do not control, so a document type declaration is refused before
expat sees it: without a DTD there are no entities to expand (billion laughs) and no external
entities to resolve. The service never sends one, so nothing real is lost.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from etl.errors import InputError, display_path

ATOM = "{http://www.w3.org/2005/Atom}"
RS = "{http://www.rechtspraak.nl/schema/rechtspraak-1.0}"
RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"
DCTERMS = "{http://purl.org/dc/terms/}"
PSI = "{http://psi.rechtspraak.nl/}"
ECLI_NS = "{https://e-justice.europa.eu/ecli}"
DEEPLINK = "https://uitspraken.rechtspraak.nl/InzienDocument?id="

# ECLI:NL:CRVB:2019:982 / ECLI:NL:RBDHA:2017:13049 / ECLI:NL:CRVB:2010:BL9930. The ECLI becomes a
# file name, so anything outside this shape (separators, dots at the start) is refused.
ECLI_RE = re.compile(r"^ECLI:[A-Z]{2}:[A-Z0-9]{1,7}:\d{4}:[A-Z0-9][A-Z0-9.]{0,24}$")
_FORBIDDEN = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_TOTAL = re.compile(r"(\d[\d.]*)\s*$")
# Elements whose text runs on inside a paragraph; every other element ends a line.
_INLINE = frozenset({"emphasis", "footnote-ref", "footnote", "link", "inlinemedia", "sub",
                     "sup", "nr", "span", "ref"})


class XmlRejected(ValueError):
    """Not well-formed XML, or XML with a DTD/entity declaration (refused on purpose)."""


def parse_xml(data: bytes) -> ET.Element:
    """The root element of `data`; XmlRejected when it is not plain, well-formed XML."""
    if _FORBIDDEN.search(data):
        raise XmlRejected("document type or entity declaration refused (unsafe XML)")
    parser = ET.XMLParser()
    try:
        parser.feed(data)
        return parser.close()
    except ET.ParseError as exc:
        raise XmlRejected(f"invalid XML ({exc})") from exc


def is_ecli(value: str) -> bool:
    return bool(ECLI_RE.match(value))


def ecli_filename(ecli: str) -> str:
    """`ECLI:NL:CRVB:2019:982` -> `ECLI_NL_CRVB_2019_982.xml` (the name the raw folder uses)."""
    if not is_ecli(ecli):
        raise ValueError(f"not an ECLI: {ecli!r}")
    return ecli.replace(":", "_") + ".xml"


def deeplink(ecli: str) -> str:
    return DEEPLINK + ecli


# --- Atom search feed -----------------------------------------------------------------------


@dataclass(frozen=True)
class FeedEntry:
    ecli: str
    updated: str  # as delivered (ISO 8601); compared as text after normalising, see fetch.py
    title: str


@dataclass(frozen=True)
class FeedPage:
    total: int | None  # "Aantal gevonden ECLI's: N" in feed/subtitle; None when unreadable
    entries: list[FeedEntry]


def parse_feed(data: bytes) -> FeedPage:
    """Entries of one search page; XmlRejected when it is not an Atom feed."""
    root = parse_xml(data)
    if root.tag != f"{ATOM}feed":
        raise XmlRejected(f"not an Atom feed (root element {root.tag!r})")
    subtitle = root.findtext(f"{ATOM}subtitle") or ""
    match = _TOTAL.search(subtitle.strip())
    total = int(match.group(1).replace(".", "")) if match else None
    entries = []
    for entry in root.iter(f"{ATOM}entry"):
        ecli = (entry.findtext(f"{ATOM}id") or "").strip()
        entries.append(FeedEntry(ecli, (entry.findtext(f"{ATOM}updated") or "").strip(),
                                 " ".join((entry.findtext(f"{ATOM}title") or "").split())))
    return FeedPage(total, entries)


# --- content documents ----------------------------------------------------------------------


@dataclass(frozen=True)
class Relatie:
    aanleg: str  # eerdereAanleg / latereAanleg (last part of psi:aanleg), '' when absent
    ecli: str
    tekst: str   # e.g. "Eerste aanleg: ECLI:NL:RBROT:2018:1002, (Gedeeltelijke) vernietiging …"
    gevolg: str  # psi:gevolg after '#', '' when absent


@dataclass(frozen=True)
class Document:
    ecli: str
    uitspraakdatum: date | None
    publicatiedatum: date | None
    instantie: str | None
    instantie_uri: str | None
    zaaknummer: str | None
    procedure: str | None
    rechtsgebied: str | None
    soort: str | None  # dcterms:type: Uitspraak or Conclusie
    inhoudsindicatie: str | None
    tekst: str | None  # the ruling (uitspraak or conclusie) as lines of text; None when absent
    relaties: list[Relatie] = field(default_factory=list)

    @property
    def url(self) -> str:
        return deeplink(self.ecli)


def _clean(text: str | None) -> str | None:
    if text is None:
        return None
    value = " ".join(text.split())
    return value or None


def _iso_date(text: str | None) -> date | None:
    value = (text or "").strip()
    try:
        return date.fromisoformat(value[:10]) if value else None
    except ValueError:
        return None


def element_text(element: ET.Element) -> str:
    """Text of a rechtspraak-1.0 block as lines: paragraphs, titles and list items end a line,
    emphasis and footnote references stay inside it. Whitespace inside a line is collapsed."""
    parts: list[str] = []

    def add(text: str | None) -> None:
        # A line break inside a paragraph's text is layout, not structure.
        if text:
            parts.append(text.replace("\r", " ").replace("\n", " "))

    def walk(node: ET.Element) -> None:
        local = node.tag.rsplit("}", 1)[-1] if isinstance(node.tag, str) else ""
        add(node.text)
        for child in node:
            walk(child)
            add(child.tail)
        if local == "nr":
            parts.append(" ")  # "<nr>1.</nr>Procesverloop" is the heading "1. Procesverloop"
        elif local not in _INLINE:
            parts.append("\n")

    walk(element)
    lines = (" ".join(line.split()) for line in "".join(parts).split("\n"))
    return "\n".join(line for line in lines if line)


def _metadata(rdf: ET.Element | None) -> ET.Element | None:
    """The rdf:Description of the document itself (the one without rdf:about)."""
    if rdf is None:
        return None
    descriptions = rdf.findall(f"{RDF}Description")
    plain = [d for d in descriptions if f"{RDF}about" not in d.attrib]
    return (plain or descriptions or [None])[0]


def _subjects(meta: ET.Element) -> str | None:
    seen: list[str] = []
    for subject in meta.findall(f"{DCTERMS}subject"):
        for part in (subject.text or "").split(";"):
            cleaned = _clean(part)
            if cleaned and cleaned not in seen:
                seen.append(cleaned)
    return "; ".join(seen) or None


def _relaties(meta: ET.Element) -> list[Relatie]:
    out = []
    for rel in meta.findall(f"{DCTERMS}relation"):
        out.append(Relatie(
            aanleg=(rel.get(f"{PSI}aanleg") or "").rsplit("/", 1)[-1],
            ecli=rel.get(f"{ECLI_NS}resourceIdentifier") or "",
            tekst=_clean(rel.text) or "",
            gevolg=(rel.get(f"{PSI}gevolg") or "").rsplit("#", 1)[-1]))
    return out


def parse_document(data: bytes) -> Document:
    """One content document; XmlRejected when it is not an `open-rechtspraak` document."""
    root = parse_xml(data)
    if root.tag != "open-rechtspraak":
        raise XmlRejected(f"not an open-rechtspraak document (root element {root.tag!r})")
    meta = _metadata(root.find(f"{RDF}RDF"))
    if meta is None:
        raise XmlRejected("no rdf:Description with the document's metadata")
    ecli = (meta.findtext(f"{DCTERMS}identifier") or "").strip()
    if not is_ecli(ecli):
        raise XmlRejected(f"dcterms:identifier is not an ECLI: {ecli!r}")
    creator = meta.find(f"{DCTERMS}creator")
    summary = root.find(f"{RS}inhoudsindicatie")
    body = root.find(f"{RS}uitspraak")
    if body is None:
        body = root.find(f"{RS}conclusie")
    inhoud = element_text(summary) if summary is not None else None
    tekst = element_text(body) if body is not None else None
    return Document(
        ecli=ecli,
        uitspraakdatum=_iso_date(meta.findtext(f"{DCTERMS}date")),
        publicatiedatum=_iso_date(meta.findtext(f"{DCTERMS}issued")),
        instantie=_clean(creator.text) if creator is not None else None,
        instantie_uri=creator.get("resourceIdentifier") if creator is not None else None,
        zaaknummer=_clean(meta.findtext(f"{PSI}zaaknummer")),
        procedure=_clean(meta.findtext(f"{PSI}procedure")),
        rechtsgebied=_subjects(meta),
        soort=_clean(meta.findtext(f"{DCTERMS}type")),
        # "-" is what the service writes when a ruling has no summary.
        inhoudsindicatie=inhoud if inhoud and inhoud.strip() not in ("", "-") else None,
        tekst=tekst or None,
        relaties=_relaties(meta),
    )


def read_document(path: Path) -> Document:
    """parse_document for a file; InputError naming the file when it cannot be read as one."""
    try:
        return parse_document(path.read_bytes())
    except XmlRejected as exc:
        raise InputError(display_path(path), None, None, str(exc)) from exc
