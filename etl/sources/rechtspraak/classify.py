"""Every rule that turns a Rechtspraak document into a `core.uitspraak` row, with its phrases.

The phrase table `PHRASES` is the whole vocabulary of the rules: change a rule by changing
its phrases here, and docs/rechtspraak.md (which lists them) with it. Phrases are regular
expressions matched case-insensitively on text whose apostrophes, dashes and whitespace are
normalised (`normalise`). A rule that cannot decide returns None: unknown stays unknown.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import polars as pl

from etl.errors import InputError, display_path
from etl.snapshot import read_sidecar
from etl.sources.rechtspraak.parse import Document, read_document

WMO_2015_START = date(2015, 1, 1)  # the Wmo 2015 took effect; earlier rulings cannot apply it

PHRASES: dict[str, tuple[str, ...]] = {
    # --- which law the ruling applies (is_wmo2015) -----------------------------------------
    "wet.wmo2015": (
        r"\bwmo[ -]?2015\b", r"wet maatschappelijke ondersteuning 2015", r"\bmaatwerkvoorziening",
        r"\bartikel (?:1\.1\.1|1\.2\.1|2\.1\.\d|2\.3\.\d+)(?:,[^.]{0,20})? (?:van de )?wmo\b",
    ),
    "wet.wmo2007": (
        r"\bwmo[ -]?2007\b", r"wet maatschappelijke ondersteuning 2007", r"\bcompensatieplicht",
    ),
    "wet.jeugdwet": (r"\bjeugdwet\b", r"\bjeugdhulp\b"),
    "wet.participatiewet": (r"\bparticipatiewet\b", r"\bbijzondere bijstand\b"),
    # Any of these makes a document a Wmo candidate: only candidates become rows.
    "kandidaat": (r"\bwmo\b", r"maatschappelijke ondersteuning", r"\bmaatwerkvoorziening"),
    # --- topics --------------------------------------------------------------------------
    "hbh": (
        r"hulp bij (?:het )?huishouden", r"huishoudelijke? (?:hulp|ondersteuning|verzorging)",
        r"hulp in de huishouding", r"schoon en leefbaar huis", r"\bhbh\b",
        r"huishoudelijke taken",
    ),
    "resultaat": (
        r"schoon en leefbaar huis", r"\bschoon huis\b", r"resultaatsgericht", r"resultaatgericht",
        r"resultaatgebied", r"resultaat bepalend", r"beoogde resultaat",
    ),
    "rechtszekerheid": (
        r"rechtszekerheid", r"onvoldoende (?:is |zijn )?geconcretiseerd", r"onvoldoende concreet",
        r"hoeveel uur", r"objectieve (?:criteria|maatstaf|norm)", r"duidelijke maatstaf",
        r"omvang van de (?:verstrekte )?\w+ (?:ondersteuning|hulp)",
    ),
    # Without a result phrase this alone is the Ridderkerk/Rotterdam line of cases (CRvB 2019).
    "geconcretiseerd": (r"aanspraken[^.]{0,60}onvoldoende (?:zijn |is )?geconcretiseerd",),
    # --- the party line (gemeente) -------------------------------------------------------
    "partij": (
        r"(?:college van )?burgemeester en wethouders (?:van (?:de gemeente )?|der gemeente )",
    ),
    "regionaal": (
        r"dagelijks bestuur", r"algemeen bestuur", r"openbaar lichaam",
        r"gemeenschappelijke regeling", r"\bde gemeenten\b", r"namens de gemeenten",
    ),
    "kop_einde": (r"^(?:\d+\.?\s*)?(?:procesverloop|overwegingen|inleiding|de feiten)\b",),
    # --- the decision (uitkomst) ----------------------------------------------------------
    "beslissing_kop": (r"^(?:\d+\.?\s*)?(?:de )?beslissing(?:en)?\s*:?$",),
    "hb.gegrond": (r"vernietigt de aangevallen (?:tussen|eind)?uitspra(?:ak|ken)",
                   r"verklaart het hoger beroep\b[^;\n]{0,60}?\bgegrond\b"),
    "hb.ongegrond": (r"bevestigt de aangevallen (?:tussen|eind)?uitspra(?:ak|ken)",
                     r"verklaart het hoger beroep\b[^;\n]{0,60}?\bongegrond\b"),
    "hb.niet_ontvankelijk": (r"verklaart het hoger beroep\b[^;\n]{0,60}?niet[- ]ontvankelijk",),
    "b.gegrond": (r"verklaart (?:het|de) beroep(?:en)?\b[^;\n]{0,80}?\bgegrond\b",),
    "b.ongegrond": (r"verklaart (?:het|de) beroep(?:en)?\b[^;\n]{0,80}?\bongegrond\b",),
    "b.niet_ontvankelijk": (
        r"verklaart (?:het|de) beroep(?:en)?\b[^;\n]{0,80}?niet[- ]ontvankelijk",),
    # The formal relation to the first instance, as the service publishes it on an appeal.
    "relatie.gegrond": (r"\bvernietiging\b",),
    "relatie.ongegrond": (r"\bbevestiging\b",),
    # The inhoudsindicatie, used only when the ruling has no decision section.
    "inh.hb.gegrond": (r"hoger beroep slaagt(?! niet)",
                       r"vernietiging (?:van )?de aangevallen uitspraak",
                       r"aangevallen uitspraak (?:wordt |is )?vernietigd"),
    "inh.hb.ongegrond": (r"hoger beroep slaagt niet",
                         r"bevestiging (?:van )?de aangevallen uitspraak",
                         r"aangevallen uitspraak (?:wordt |is )?bevestigd", r"terecht vernietigd"),
    "inh.gegrond": (r"\bberoep(?:en)? (?:wordt |worden |is |zijn )?gegrond\b",
                    r"vernietiging (?:van )?(?:het )?bestreden besluit"),
    "inh.ongegrond": (r"\bberoep(?:en)? (?:wordt |worden |is |zijn )?ongegrond\b",),
    "inh.niet_ontvankelijk": (r"niet[- ]ontvankelijk",),
    # --- who appealed (client_in_het_gelijk) ---------------------------------------------
    # SENT stands for "within one sentence": no full stop, except after "mr" or an initial.
    "appellant.college": (
        r"op het hoger beroep van:?\s*(?:het )?college",
        r"^[^\n]*college[^\n]{0,140}\((?:hierna: )?appellant\)",
        r"(?:het|door) college SENT{0,100}?hoger beroep (?:in\w*steld|aangetekend)",
    ),
    "appellant.client": (
        r"^(?![^\n]*college)[^\n]*\((?:hierna: )?(?:appellant|appellante|appellanten)\)",
        r"namens (?:appellant|appellante|appellanten|betrokkene) SENT{0,100}?hoger beroep "
        r"in\w*steld",
        r"(?:appellant|appellante|appellanten) (?:heeft|hebben) hoger beroep in\w*steld",
    ),
}
SENT = r"(?:[^.\n]|\b(?:mr|dr|drs|ir|ing|prof)\.|\b\w\.)"

_COMPILED = {rule: tuple(re.compile(p.replace("SENT", SENT), re.IGNORECASE | re.MULTILINE)
                         for p in phrases)
             for rule, phrases in PHRASES.items()}
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'", "\u00b4": "'",
                              "\u2032": "'", "\u2010": "-", "\u2011": "-", "\u2012": "-",
                              "\u2013": "-", "\u2014": "-", "\u00a0": " "})
# Names in rulings that are not the CBS title or a simple variant of it.
NAME_ALIASES = {
    "den haag": "'s-gravenhage",
    "den bosch": "'s-hertogenbosch",
    "nuenen ca": "nuenen, gerwen en nederwetten",
    "nuenen": "nuenen, gerwen en nederwetten",
}
# Province qualifiers as CBS writes them, and as rulings write them.
QUALIFIERS = {"nh": ("noord-holland", "n-h"), "l": ("limburg", "lb"), "o": ("overijssel",),
              "zh": ("zuid-holland", "z-h"), "z": ("zeeland",), "g": ("gelderland",),
              "u": ("utrecht",), "nb": ("noord-brabant", "n-b"), "fr": ("friesland",)}


def normalise(text: str) -> str:
    """Curly apostrophes and dashes to plain ones, spaces collapsed inside each line."""
    lines = text.translate(_APOSTROPHES).split("\n")
    return "\n".join(" ".join(line.split()) for line in lines)


def count(rule: str, text: str | None) -> int:
    if not text:
        return 0
    return sum(len(p.findall(text)) for p in _COMPILED[rule])


def has(rule: str, text: str | None) -> bool:
    return bool(text) and any(p.search(text) for p in _COMPILED[rule])  # type: ignore[arg-type]


# --- is_wmo2015, is_hbh, is_resultaatgericht ------------------------------------------------

LAWS = ("wmo2015", "wmo2007", "jeugdwet", "participatiewet")
SUMMARY_WEIGHT = 3  # the court's own summary says what the case is about better than the text


def law_scores(inhoud: str | None, tekst: str | None) -> dict[str, int]:
    return {law: SUMMARY_WEIGHT * count(f"wet.{law}", inhoud) + count(f"wet.{law}", tekst)
            for law in LAWS}


def is_wmo2015(inhoud: str | None, tekst: str | None, uitspraakdatum: date | None) -> bool:
    """The Wmo 2015 is named explicitly and named at least as often as each other law.

    The case number (WMO15) and the field of law are not evidence: a Jeugdwet case carried a
    WMO15 number. A ruling from before 2015 cannot apply the Wmo 2015.
    """
    if uitspraakdatum is not None and uitspraakdatum < WMO_2015_START:
        return False
    scores = law_scores(inhoud, tekst)
    return scores["wmo2015"] > 0 and all(scores["wmo2015"] >= scores[law] for law in LAWS[1:])


def is_hbh(inhoud: str | None, tekst: str | None) -> bool:
    """Household help in the summary, or at least twice in the ruling (a single mention in a
    list of provisions does not make a case about household help)."""
    return has("hbh", inhoud) or count("hbh", tekst) >= 2


def is_resultaatgericht(inhoud: str | None, tekst: str | None) -> bool:
    """A decision naming a result without the amount of help: a result phrase together with
    a legal-certainty phrase, or household help whose entitlements are 'onvoldoende
    geconcretiseerd' (the CRvB's wording for it since 2019)."""
    both = "\n".join(t for t in (inhoud, tekst) if t)
    if has("resultaat", both) and has("rechtszekerheid", both):
        return True
    return is_hbh(inhoud, tekst) and has("geconcretiseerd", both)


# --- gemeente -------------------------------------------------------------------------------


def name_key(name: str) -> str:
    """A gemeente name for comparison: accents, case, apostrophes, dots, hyphens and spaces
    do not matter ("Súdwest-Fryslân" = "Sudwest Fryslan", "Bergen (N.H.)" = "bergen (nh)")."""
    folded = unicodedata.normalize("NFKD", name.translate(_APOSTROPHES))
    plain = "".join(c for c in folded if not unicodedata.combining(c)).lower()
    plain = plain.replace(".", "").replace("-", " ")
    return " ".join(plain.split())


def _variants(naam: str) -> set[str]:
    """The ways rulings write one CBS name: as is, without the province qualifier, with the
    qualifier spelled out or without brackets."""
    key = name_key(naam)
    out = {key}
    match = re.fullmatch(r"(.+?) \((\w+)\)", key)
    if match:
        base, qual = match.groups()
        out.add(base)
        out.add(f"{base} {qual}")
        for spelled in QUALIFIERS.get(qual, ()):
            out.add(f"{base} ({name_key(spelled)})")
    return out


@dataclass(frozen=True)
class GemeenteIndex:
    """Name variant -> the codes that carried it, with their validity (core.gemeente)."""

    names: dict[str, frozenset[str]]
    valid: dict[str, tuple[date | None, date | None]]

    @classmethod
    def build(cls, gemeente: pl.DataFrame) -> GemeenteIndex:
        names: dict[str, set[str]] = {}
        valid: dict[str, tuple[date | None, date | None]] = {}
        for row in gemeente.iter_rows(named=True):
            code = row["gemeente_code"]
            if not code or not row["gemeente_naam"]:
                continue
            valid[code] = (row["geldig_vanaf"], row["geldig_tot"])
            for variant in _variants(row["gemeente_naam"]):
                names.setdefault(variant, set()).add(code)
        for alias, target in NAME_ALIASES.items():
            codes = names.get(name_key(target))
            if codes:
                names.setdefault(alias, set()).update(codes)
        return cls({k: frozenset(v) for k, v in names.items()}, valid)

    def code_on(self, variant: str, on: date | None) -> str | None:
        """The one code for `variant` valid on `on`; else the one whose validity ended before
        `on` (the college that took the decision before the merger); else None."""
        codes = self.names.get(variant, frozenset())
        if on is None:
            return next(iter(codes)) if len(codes) == 1 else None
        current = [c for c in codes if (self.valid[c][0] or date.min) <= on
                   and on < (self.valid[c][1] or date.max)]
        if len(current) == 1:
            return current[0]
        if current:
            return None
        ended = [c for c in codes if self.valid[c][1] is not None and self.valid[c][1] <= on]
        return ended[0] if len(ended) == 1 else None

    def longest_name(self, tail: str) -> str | None:
        """The longest known name variant `tail` starts with, ending at a word boundary."""
        key = name_key(tail)
        best = None
        for end in range(len(key), 0, -1):
            if end < len(key) and key[end].isalnum():
                continue
            if key[:end] in self.names:
                best = key[:end]
                break
        return best


def header(tekst: str) -> str:
    """The parties part of a ruling: up to the first procesverloop/overwegingen heading."""
    for match in _COMPILED["kop_einde"][0].finditer(tekst):
        return tekst[: match.start()]
    return tekst[:3000]


def _original_prefix(tail: str, key: str) -> str:
    """The part of `tail` (as written) whose name_key is `key`."""
    for end in range(1, len(tail) + 1):
        if name_key(tail[:end]) == key:
            return tail[:end]
    return tail


def gemeente(tekst: str | None, index: GemeenteIndex,
             on: date | None) -> tuple[str | None, str | None]:
    """(gemeente_code, the name as written) from the party line(s) of the ruling.

    NULL code when there is no party line, the name is unknown or ambiguous ("Bergen"),
    two different gemeenten are parties, or a regional body decided. The name as written is
    kept even when no code can be given, so a reader can see why.
    """
    if not tekst:
        return None, None
    head = header(tekst)
    written: list[str] = []
    codes: set[str | None] = set()
    for match in _COMPILED["partij"][0].finditer(head):
        tail = head[match.end(): match.end() + 80].split("\n", 1)[0]
        variant = index.longest_name(tail)
        if variant is None:
            shown = re.split(r"[,(;]| te | verweerder", tail, maxsplit=1)[0].strip()
            written.append(shown)
            codes.add(None)
            continue
        written.append(_original_prefix(tail, variant).strip())
        codes.add(index.code_on(variant, on))
    if not written:
        return None, None
    names = " | ".join(dict.fromkeys(w for w in written if w)) or None
    if has("regionaal", head) or len(codes) != 1:
        return None, names
    return next(iter(codes)), names


# --- uitkomst and client_in_het_gelijk -------------------------------------------------------


def beslissing(tekst: str | None) -> str | None:
    """The decision: the text after the last 'Beslissing' heading line, or None."""
    if not tekst:
        return None
    last = None
    for match in _COMPILED["beslissing_kop"][0].finditer(tekst):
        last = match
    return tekst[last.end():] if last else None


def is_hoger_beroep(doc: Document) -> bool:
    return "hoger beroep" in (doc.procedure or "").lower()


def _first(prefix: str, text: str | None,
           order: Iterable[str] = ("gegrond", "ongegrond", "niet_ontvankelijk")) -> str | None:
    for outcome in order:
        if has(f"{prefix}.{outcome}", text):
            return outcome
    return None


def uitkomst(doc: Document) -> str | None:
    """The verdict on the appeal before the court: gegrond, ongegrond, niet_ontvankelijk.

    Order of evidence: the decision section; on an appeal, the published relation to the
    first instance ("(Gedeeltelijke) vernietiging …" / "Bevestiging"); the inhoudsindicatie.
    Partly gegrond is gegrond. A voorlopige voorziening alone has no verdict: None.
    """
    appeal = is_hoger_beroep(doc)
    decision = beslissing(doc.tekst)
    if decision is not None:
        if appeal:
            # "Vernietigt … voor zover" next to "bevestigt … voor het overige": partly won.
            found = _first("hb", decision)
            if found:
                return found
        return _first("b", decision)
    if appeal:
        for rel in doc.relaties:
            if rel.aanleg == "eerdereAanleg" or rel.tekst.lower().startswith("eerste aanleg"):
                found = _first("relatie", f"{rel.gevolg} {rel.tekst}", ("gegrond", "ongegrond"))
                if found:
                    return found
        found = _first("inh.hb", doc.inhoudsindicatie, ("gegrond", "ongegrond"))
        if found:
            return found
    return _first("inh", doc.inhoudsindicatie)


def appellant(doc: Document) -> str | None:
    """Who brought the hoger beroep: 'college', 'client', or None (unknown or both)."""
    text = "\n".join(t for t in (doc.tekst, doc.inhoudsindicatie) if t)
    college = has("appellant.college", text)
    client = has("appellant.client", text)
    if college == client:
        return None
    return "college" if college else "client"


def client_in_het_gelijk(doc: Document, outcome: str | None) -> bool | None:
    """Did the client come out ahead? In first instance the client is the one appealing; at
    an appeal it depends on who appealed: a failed appeal of the college is a win."""
    if outcome is None:
        return None
    won = outcome == "gegrond"
    if not is_hoger_beroep(doc):
        return won
    who = appellant(doc)
    if who is None:
        return None
    return won if who == "client" else not won


# --- rows -----------------------------------------------------------------------------------

UITSPRAAK_SCHEMA: dict[str, pl.DataType] = {
    "ecli": pl.Utf8(), "uitspraakdatum": pl.Date(), "publicatiedatum": pl.Date(),
    "instantie": pl.Utf8(), "instantie_type": pl.Utf8(), "zaaknummer": pl.Utf8(),
    "procedure": pl.Utf8(), "rechtsgebied": pl.Utf8(), "gemeente_code": pl.Utf8(),
    "gemeente_naam_tekst": pl.Utf8(), "is_wmo2015": pl.Boolean(), "is_hbh": pl.Boolean(),
    "is_resultaatgericht": pl.Boolean(), "uitkomst": pl.Utf8(),
    "client_in_het_gelijk": pl.Boolean(), "inhoudsindicatie": pl.Utf8(), "url": pl.Utf8(),
    "is_synthetisch": pl.Boolean(),
}
INSTANTIE_TYPES = ("crvb", "rechtbank", "overig")
UITKOMSTEN = ("gegrond", "ongegrond", "niet_ontvankelijk")


def instantie_type(ecli: str) -> str:
    court = ecli.split(":")[2]
    return "crvb" if court == "CRVB" else "rechtbank" if court.startswith("RB") else "overig"


def is_candidate(doc: Document) -> bool:
    """Worth a row: the Wmo is mentioned at all (the rest of bestuursrecht is not kept)."""
    return (has("kandidaat", doc.inhoudsindicatie) or has("kandidaat", doc.tekst)
            or "WMO" in (doc.zaaknummer or "").upper())


def classify(doc: Document, index: GemeenteIndex, synthetic: bool) -> dict[str, object]:
    """One core.uitspraak row (as a dict in UITSPRAAK_SCHEMA order) for one document."""
    inhoud = normalise(doc.inhoudsindicatie) if doc.inhoudsindicatie else None
    tekst = normalise(doc.tekst) if doc.tekst else None
    doc = replace(doc, inhoudsindicatie=inhoud, tekst=tekst)
    code, written = gemeente(tekst, index, doc.uitspraakdatum)
    outcome = uitkomst(doc)
    return {
        "ecli": doc.ecli, "uitspraakdatum": doc.uitspraakdatum,
        "publicatiedatum": doc.publicatiedatum, "instantie": doc.instantie,
        "instantie_type": instantie_type(doc.ecli), "zaaknummer": doc.zaaknummer,
        "procedure": doc.procedure, "rechtsgebied": doc.rechtsgebied,
        "gemeente_code": code, "gemeente_naam_tekst": written,
        "is_wmo2015": is_wmo2015(inhoud, tekst, doc.uitspraakdatum),
        "is_hbh": is_hbh(inhoud, tekst), "is_resultaatgericht": is_resultaatgericht(inhoud, tekst),
        "uitkomst": outcome, "client_in_het_gelijk": client_in_het_gelijk(doc, outcome),
        "inhoudsindicatie": inhoud, "url": doc.url, "is_synthetisch": synthetic,
    }


def uitspraak_rows(snapshot_dir: Path, gemeente: pl.DataFrame) -> pl.DataFrame:
    """core.uitspraak from `<raw>/rechtspraak/`: one row per document that mentions the Wmo,
    `is_wmo2015` saying whether it is a Wmo 2015 ruling. `gemeente` is core.gemeente.

    InputError when the snapshot has no sidecar or a document is not valid XML.
    """
    sidecar = read_sidecar(snapshot_dir)
    if sidecar is None:
        raise InputError(display_path(snapshot_dir), None, "_source.json",
                         "snapshot has no _source.json sidecar")
    synthetic = bool(sidecar.get("synthetic"))
    index = GemeenteIndex.build(gemeente)
    rows = []
    for path in sorted((snapshot_dir / "content").glob("*.xml")):
        doc = read_document(path)
        if is_candidate(doc):
            rows.append(classify(doc, index, synthetic))
    return pl.DataFrame(rows, schema=UITSPRAAK_SCHEMA)


def phrase_table_markdown() -> str:
    """The phrase table as Markdown (docs/rechtspraak.md embeds it; a test keeps them equal)."""
    lines = ["| rule | phrases (regular expressions, case-insensitive) |", "|---|---|"]
    for rule, phrases in PHRASES.items():
        shown = "<br>".join("`" + p.replace("|", "\\|") + "`" for p in phrases)
        lines.append(f"| `{rule}` | {shown} |")
    return "\n".join(lines) + "\n"
