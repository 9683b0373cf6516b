"""A synthetic Rechtspraak snapshot for `wmo demo`, in exactly the raw formats of a fetch.

Every ruling is invented and says so in its own text (`SYNTHETIC_MARKER`, in the
inhoudsindicatie and in the ruling), its ECLI carries `DEMO`, and `_source.json` has
`synthetic: true`. The rulings are spread over the gemeenten valid in each year, the courts of
their province and the outcomes, in roughly the numbers of published Wmo rulings (about a
hundred a year). `demo_rulings` is pure; `write_demo_rechtspraak` writes them (`wmo demo`).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from xml.sax.saxutils import escape

import polars as pl

from etl.gemeenten import valid_in_year
from etl.snapshot import staged_folder, write_sidecar
from etl.sources.rechtspraak.fetch import FOLDER, FORMAT, INDEX, OWMS, SUBJECTS
from etl.sources.rechtspraak.parse import deeplink, ecli_filename

SYNTHETIC_MARKER = ("SYNTHETISCH: verzonnen uitspraak voor de demo van wmo-atlas, "
                    "geen echte rechtspraak.")
FIRST_YEAR, LAST_YEAR = 2015, 2025
PER_YEAR = (60, 140)  # published Wmo rulings per year, CRvB and rechtbanken together
# Rechtbank per province (CBS provincie_naam); Noord-Holland and Zuid-Holland have two.
RECHTBANK = {
    "Groningen": ("Noord-Nederland",), "Fryslân": ("Noord-Nederland",),
    "Drenthe": ("Noord-Nederland",), "Overijssel": ("Overijssel",),
    "Flevoland": ("Midden-Nederland",), "Gelderland": ("Gelderland",),
    "Utrecht": ("Midden-Nederland",), "Noord-Holland": ("Noord-Holland", "Amsterdam"),
    "Zuid-Holland": ("Den Haag", "Rotterdam"), "Zeeland": ("Zeeland-West-Brabant",),
    "Noord-Brabant": ("Oost-Brabant", "Zeeland-West-Brabant"), "Limburg": ("Limburg",),
}
COURT_CODE = {"Noord-Nederland": "RBNNE", "Overijssel": "RBOVE", "Midden-Nederland": "RBMNE",
              "Gelderland": "RBGEL", "Noord-Holland": "RBNHO", "Amsterdam": "RBAMS",
              "Den Haag": "RBDHA", "Rotterdam": "RBROT", "Zeeland-West-Brabant": "RBZWB",
              "Oost-Brabant": "RBOBR", "Limburg": "RBLIM"}
VOORZIENINGEN = (("hulp bij het huishouden", 0.45), ("begeleiding", 0.2),
                 ("woningaanpassing", 0.12), ("vervoersvoorziening", 0.13),
                 ("persoonsgebonden budget", 0.1))
UITKOMSTEN = (("gegrond", 0.3), ("ongegrond", 0.55), ("niet_ontvankelijk", 0.1), (None, 0.05))
NL_MONTHS = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus",
             "september", "oktober", "november", "december")


@dataclass(frozen=True)
class DemoRuling:
    """One invented ruling and the truth the rules should recover from its text."""

    ecli: str
    datum: date
    crvb: bool
    rechtbank: str  # the rechtbank (of first instance, for a CRvB ruling)
    gemeente_code: str
    gemeente_naam: str
    voorziening: str
    resultaatgericht: bool
    uitkomst: str | None  # None: a voorlopige voorziening without verdict
    college_appellant: bool


def _pick(rng: random.Random, weighted: tuple[tuple[object, float], ...]) -> object:
    values, weights = zip(*weighted, strict=True)
    return rng.choices(values, weights=weights)[0]


def demo_rulings(gemeente: pl.DataFrame, seed: int) -> list[DemoRuling]:
    """The invented rulings, deterministic for a seed; ECLIs unique."""
    rng = random.Random(seed)
    out: list[DemoRuling] = []
    for year in range(FIRST_YEAR, LAST_YEAR + 1):
        valid = valid_in_year(gemeente, year).filter(
            pl.col("provincie_naam").is_in(list(RECHTBANK))).sort("gemeente_code")
        rows = valid.select("gemeente_code", "gemeente_naam", "provincie_naam").rows()
        if not rows:
            continue
        for number in range(1, rng.randint(*PER_YEAR) + 1):
            code, naam, provincie = rng.choice(rows)
            crvb = rng.random() < 0.35
            rechtbank = rng.choice(RECHTBANK[provincie])
            voorziening = str(_pick(rng, VOORZIENINGEN))
            court = "CRVB" if crvb else COURT_CODE[rechtbank]
            out.append(DemoRuling(
                ecli=f"ECLI:NL:{court}:{year}:DEMO{number:04d}",
                datum=date(year, 1, 1) + timedelta(days=rng.randrange(365)),
                crvb=crvb, rechtbank=rechtbank, gemeente_code=code, gemeente_naam=naam,
                voorziening=voorziening,
                resultaatgericht=voorziening == "hulp bij het huishouden" and rng.random() < 0.3,
                uitkomst=_pick(rng, UITKOMSTEN),  # type: ignore[arg-type]
                college_appellant=crvb and rng.random() < 0.15))
    return out


def _long_date(d: date) -> str:
    return f"{d.day} {NL_MONTHS[d.month - 1]} {d.year}"


def _inhoudsindicatie(r: DemoRuling) -> str:
    parts = [SYNTHETIC_MARKER, "Wmo 2015.", f"Maatwerkvoorziening {r.voorziening}."]
    if r.resultaatgericht:
        parts.append("Resultaat schoon en leefbaar huis zonder omvang in uren; dat verdraagt "
                     "zich niet met de rechtszekerheid.")
    return " ".join(parts)


def _decision(r: DemoRuling) -> list[str]:
    if r.uitkomst is None:
        return ["- wijst het verzoek om voorlopige voorziening af."]
    if r.crvb:
        return {"gegrond": ["- vernietigt de aangevallen uitspraak;",
                            "- verklaart het beroep gegrond."],
                "ongegrond": ["- bevestigt de aangevallen uitspraak."],
                "niet_ontvankelijk": ["- verklaart het hoger beroep niet-ontvankelijk."]
                }[r.uitkomst]
    return [{"gegrond": "- verklaart het beroep gegrond;",
             "ongegrond": "- verklaart het beroep ongegrond.",
             "niet_ontvankelijk": "- verklaart het beroep niet-ontvankelijk."}[r.uitkomst]]


def _paragraphs(r: DemoRuling) -> list[str]:
    college = f"het college van burgemeester en wethouders van {r.gemeente_naam}"
    topic = (f"Het geschil gaat over een maatwerkvoorziening {r.voorziening} op grond van de "
             "Wet maatschappelijke ondersteuning 2015 (Wmo 2015).")
    if r.resultaatgericht:
        topic += (" Het college heeft de hulp bij het huishouden toegekend met als resultaat "
                  "een schoon en leefbaar huis, zonder te bepalen hoeveel uur hulp de cliënt "
                  "krijgt.")
    head = [SYNTHETIC_MARKER]
    if r.crvb:
        parties = ([f"{college} (appellant)", "[betrokkene] te [woonplaats] (betrokkene)"]
                   if r.college_appellant else
                   ["[appellant] te [woonplaats] (appellant)", f"{college} (college)"])
        appeal = ("Het college heeft hoger beroep ingesteld." if r.college_appellant
                  else "Namens appellant heeft mr. X. Voorbeeld hoger beroep ingesteld.")
        return [*head, "Centrale Raad van Beroep", "Meervoudige kamer",
                f"Uitspraak op het hoger beroep tegen de uitspraak van de rechtbank "
                f"{r.rechtbank} (aangevallen uitspraak)", "Partijen:", *parties,
                f"Datum uitspraak: {_long_date(r.datum)}", "PROCESVERLOOP", appeal,
                "OVERWEGINGEN", topic, "BESLISSING", "De Centrale Raad van Beroep",
                *_decision(r)]
    return [*head, f"RECHTBANK {r.rechtbank.upper()}", "Bestuursrecht",
            "uitspraak in de zaak tussen", "[eiser], te [woonplaats], eiser", "en",
            f"{college}, verweerder", "Procesverloop", "Eiser heeft beroep ingesteld.",
            "Overwegingen", topic, "Beslissing", "De rechtbank:", *_decision(r)]


def content_document(r: DemoRuling) -> bytes:
    """The ruling as Rechtspraak Open Data delivers one (`/uitspraken/content`)."""
    court = ("Centrale Raad van Beroep" if r.crvb else f"Rechtbank {r.rechtbank}")
    creator = OWMS + court.replace(" ", "_")
    procedure = ("Hoger beroep" if r.crvb else
                 "Voorlopige voorziening" if r.uitkomst is None else
                 "Eerste aanleg - enkelvoudig")
    issued = r.datum + timedelta(days=14)
    paras = "".join(f"<para>{escape(p)}</para>" for p in _paragraphs(r))
    ns = 'xmlns="http://www.rechtspraak.nl/schema/rechtspraak-1.0"'
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<open-rechtspraak>\n'
        '  <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        'xmlns:dcterms="http://purl.org/dc/terms/" xmlns:psi="http://psi.rechtspraak.nl/" '
        'xmlns:rdfs="http://www.w3.org/2000/01/rdf-schema#">\n    <rdf:Description>'
        f"<dcterms:identifier>{r.ecli}</dcterms:identifier>"
        "<dcterms:format>text/xml</dcterms:format>"
        f"<dcterms:modified>{issued.isoformat()}T09:00:00</dcterms:modified>"
        f'<dcterms:issued rdfs:label="Publicatiedatum">{issued.isoformat()}</dcterms:issued>'
        f'<dcterms:creator rdfs:label="Instantie" resourceIdentifier="{creator}">{court}'
        "</dcterms:creator>"
        f'<dcterms:date rdfs:label="Uitspraakdatum">{r.datum.isoformat()}</dcterms:date>'
        f'<psi:zaaknummer rdfs:label="Zaaknr">{r.datum.year % 100:02d}/'
        f'{int(r.ecli[-4:]):04d} WMO15</psi:zaaknummer>'
        '<dcterms:type resourceIdentifier="http://psi.rechtspraak.nl/uitspraak">Uitspraak'
        "</dcterms:type>"
        f'<psi:procedure rdfs:label="Procedure">{procedure}</psi:procedure>'
        '<dcterms:subject rdfs:label="Rechtsgebied" resourceIdentifier="'
        f'{SUBJECTS["socialezekerheidsrecht"]}">Bestuursrecht; Socialezekerheidsrecht'
        "</dcterms:subject></rdf:Description>\n  </rdf:RDF>\n"
        f'  <inhoudsindicatie id="{r.ecli}:INH" {ns}><para>{escape(_inhoudsindicatie(r))}'
        "</para></inhoudsindicatie>\n"
        f'  <uitspraak id="{r.ecli}:DOC" {ns}>{paras}</uitspraak>\n</open-rechtspraak>\n'
    ).encode()


def atom_page(entries: list[DemoRuling]) -> bytes:
    """One search page as `/uitspraken/zoeken` delivers it (all entries fit on one page)."""
    items = "".join(
        f'<entry><id>{r.ecli}</id><title type="text">{r.ecli}, '
        f'{"Centrale Raad van Beroep" if r.crvb else "Rechtbank " + r.rechtbank}, '
        f'{r.datum:%d-%m-%Y}</title><summary type="text">{escape(SYNTHETIC_MARKER)}</summary>'
        f"<updated>{(r.datum + timedelta(days=14)).isoformat()}T09:00:00Z</updated>"
        f'<link rel="alternate" type="text/html" href="{deeplink(r.ecli)}" /></entry>'
        for r in entries)
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        '<title type="text">Rechtspraak Open Data (Uitspraken)</title><subtitle type="text">'
        f"Aantal gevonden ECLI's: {len(entries)}</subtitle><id>uuid:wmo-atlas-demo</id>"
        f'<updated>{LAST_YEAR}-12-31T00:00:00Z</updated>{items}</feed>'
    ).encode()


def write_demo_rechtspraak(out: Path, gemeente: pl.DataFrame, seed: int,
                           retrieved_at: str | None = None) -> Path:
    """Write `<out>/rechtspraak/` (staged, swapped in when complete); returns the folder.

    `retrieved_at` fixes the sidecar's time, so that one seed gives the same bytes."""
    rulings = demo_rulings(gemeente, seed)
    dest = Path(out) / FOLDER
    with staged_folder(dest) as folder:
        for year in range(FIRST_YEAR, LAST_YEAR + 1):
            for month in range(1, 13):
                van = date(year, month, 1)
                tot = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
                for slug in SUBJECTS:
                    # All synthetic rulings are filed under socialezekerheidsrecht.
                    entries = [r for r in rulings if van <= r.datum <= tot] \
                        if slug == "socialezekerheidsrecht" else []
                    page = folder / "zoeken" / "demo" / f"{van}_{tot}" / slug / "page-0001.xml"
                    page.parent.mkdir(parents=True, exist_ok=True)
                    page.write_bytes(atom_page(entries))
        (folder / "content").mkdir()
        documents = {}
        for r in rulings:
            name = ecli_filename(r.ecli)
            (folder / "content" / name).write_bytes(content_document(r))
            documents[r.ecli] = {"updated": f"{r.datum + timedelta(days=14)}T09:00:00",
                                 "bestand": f"content/{name}"}
        periode = f"{FIRST_YEAR}-01-01_{LAST_YEAR}-12-31"
        (folder / INDEX).write_text(json.dumps(
            {"documenten": documents, "ontbrekend": {}, "zoekvensters": {},
             "periodes": [periode]}, indent=1) + "\n", encoding="utf-8")
        write_sidecar(folder, {
            "source_id": "rechtspraak", "synthetic": True,
            "title": "SYNTHETIC court rulings written by `wmo demo` (invented, not Rechtspraak)",
            "producer": "wmo-atlas demo generator", "licence": "CC BY 4.0 (invented data)",
            "url": "https://data.rechtspraak.nl/uitspraken/zoeken", "format": FORMAT,
            "periodes": [periode], "documenten": len(documents), "ontbrekend": 0,
            "seed": seed, **({"retrieved_at": retrieved_at} if retrieved_at else {}),
        })
    return dest
