"""Court rulings: `wmo fetch rechtspraak` and `uitspraak_rows` on 10 000 documents.

The documents are served by the loopback server of the tests (tests/rechtspraak_server.py),
which answers like Rechtspraak Open Data; their content is the demo writer's (a realistic
ruling of a few kB each), spread over the 24 monthly windows of 2019-2020. The fetch runs
with the default two workers but without the polite pause (0.5 s between requests would make
any run take 10 000 × 0.5 s: that is the service's time, not ours). Each run fetches into a
fresh folder, so nothing is resumed.
"""

from __future__ import annotations

import os
import random
import tempfile
from datetime import date, timedelta
from pathlib import Path

import polars as pl

from bench.context import Run
from bench.harness import Figure, Repeats, figure, measure
from etl.settings import load_settings
from etl.sources.rechtspraak.classify import uitspraak_rows
from etl.sources.rechtspraak.demo import RECHTBANK, DemoRuling, content_document
from etl.sources.rechtspraak.fetch import OWMS, SUBJECTS, Politeness, fetch_rechtspraak
from tests.rechtspraak_gemeente import core_gemeente
from tests.rechtspraak_server import RechtspraakServer, Ruling

DOCUMENTS = 10_000
VAN, TOT = date(2019, 1, 1), date(2020, 12, 31)
REPEATS = Repeats(min_runs=3, max_runs=3, warmup=0)
REPEATS_QUICK = Repeats(min_runs=2, max_runs=2, warmup=0)
ENV = {"WMO_RECHTSPRAAK_PAUSE": "0", "WMO_HTTP_BACKOFF": "0.01", "WMO_HTTP_TIMEOUT": "10",
       "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}


def rulings(gemeente: pl.DataFrame, n: int, seed: int = 11) -> list[DemoRuling]:
    rng = random.Random(seed)
    rows = gemeente.filter(pl.col("geldig_tot").is_null()
                           & pl.col("provincie_naam").is_in(list(RECHTBANK))).select(
        "gemeente_code", "gemeente_naam", "provincie_naam").rows()
    out = []
    for i in range(n):
        code, naam, provincie = rng.choice(rows)
        crvb = rng.random() < 0.35
        out.append(DemoRuling(
            ecli=f"ECLI:NL:CRVB:{2019 + i % 2}:DEMO{i:05d}",
            datum=VAN + timedelta(days=rng.randrange((TOT - VAN).days + 1)), crvb=crvb,
            rechtbank=rng.choice(RECHTBANK[provincie]), gemeente_code=code,
            gemeente_naam=naam, voorziening="hulp bij het huishouden",
            resultaatgericht=rng.random() < 0.3,
            uitkomst=rng.choice(["gegrond", "ongegrond", "niet_ontvankelijk"]),
            college_appellant=crvb and rng.random() < 0.15))
    return out


def serve(server: RechtspraakServer, items: list[DemoRuling]) -> None:
    creator = OWMS + "Centrale_Raad_van_Beroep"
    server.add(*(Ruling(r.ecli, r.datum, creator=creator, subject=SUBJECTS[
        "socialezekerheidsrecht"], body=content_document(r)) for r in items))


def run(bench: Run) -> list[Figure]:
    gemeente = core_gemeente()
    items = rulings(gemeente, DOCUMENTS)
    server = RechtspraakServer().start()
    saved = {k: os.environ.get(k) for k in [*ENV, "WMO_RECHTSPRAAK_URL"]}
    os.environ.update({**ENV, "WMO_RECHTSPRAAK_URL": server.url})
    try:
        serve(server, items)
        settings = load_settings()
        repeats = bench.repeats(REPEATS, REPEATS_QUICK)
        folders: list[Path] = []
        work = Path(tempfile.mkdtemp(prefix="rechtspraak-", dir=bench.work))

        def fetch() -> Path:
            out = work / f"run-{len(folders)}"
            folders.append(fetch_rechtspraak(out, settings, van=VAN, tot=TOT,
                                             politeness=Politeness(workers=2, pause=0.0)))
            return folders[-1]

        def fetched(folder: Path) -> None:
            count = len(list((folder / "content").glob("*.xml")))
            if count != DOCUMENTS:
                raise RuntimeError(f"the fetch stored {count} documents, expected {DOCUMENTS}")

        fetch_times = measure(fetch, repeats, fetched)

        def parsed(frame: pl.DataFrame) -> None:
            if frame.height != DOCUMENTS or not frame["is_wmo2015"].all():
                raise RuntimeError(f"uitspraak_rows gave {frame.height} rows")

        parse_times = measure(lambda: uitspraak_rows(folders[0], gemeente), repeats, parsed)
    finally:
        server.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return [
        figure("rechtspraak_fetch_10k_docs_s", "s", fetch_times, 60.0,
               f"wmo fetch rechtspraak {VAN}..{TOT} from the loopback server: 48 searches, "
               f"{DOCUMENTS:,} content documents, 2 workers, no pause"),
        figure("rechtspraak_rows_10k_docs_s", "s", parse_times, 20.0,
               f"uitspraak_rows on the fetched snapshot: parse and classify {DOCUMENTS:,} "
               "documents"),
    ]
