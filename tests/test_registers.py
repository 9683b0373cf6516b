"""The register readers: every bad input gives an error naming file, line and field."""

from __future__ import annotations

import csv
import os
from collections import Counter
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from etl.bron_type import BRON_TYPES, STERKE_BRON_TYPES
from etl.errors import InputError
from etl.gemeenten import GEMEENTE_SCHEMA, HERINDELING_SCHEMA, gemeente_history
from etl.sources.registers import (
    effective_interval,
    parse_partial_date,
    read_bezwaar,
    read_herindelingen,
    read_werkwijze,
    sterke_bronnen,
    werkwijze_per_jaar,
)

REPO = Path(__file__).resolve().parents[1]
REGISTERS = REPO / "data" / "raw" / "registers"

WERKWIJZE_HEADER = ("gemeente_code,gemeente_naam,voorziening,werkwijze,geldig_vanaf,geldig_tot,"
                    "bron_url,bron_type,bron_omschrijving,peildatum\n")
BEZWAAR_HEADER = ("gemeente_code,gemeente_naam,jaar,domein,bezwaren_ontvangen,"
                  "bezwaren_afgehandeld,gegrond,deels_gegrond,ongegrond,niet_ontvankelijk,"
                  "ingetrokken,beroep,bron_url,bron_omschrijving,peildatum\n")
HERINDELING_HEADER = "datum_ingang,oude_code,oude_naam,nieuwe_code,nieuwe_naam,type,aandeel,bron\n"
HO = "huishoudelijke_ondersteuning"
URL = "https://example.nl/bron"


def _gemeente() -> pl.DataFrame:
    """A few codes with the validity periods that matter for the tests."""
    rows = [
        ("GM0363", "Amsterdam", None, None, None),
        ("GM0392", "Haarlem", None, None, None),
        ("GM1640", "Leudal", None, None, None),
        ("GM0757", "Boxtel", None, None, None),
        ("GM0788", "Haaren", None, date(2021, 1, 1), "GM0824"),
        ("GM1921", "De Friese Meren", None, date(2015, 7, 1), "GM1940"),
        ("GM1940", "De Fryske Marren", date(2015, 7, 1), None, None),
        ("GM0614", "Westvoorne", None, date(2023, 1, 1), "GM1992"),
        ("GM1992", "Voorne aan Zee", date(2023, 1, 1), None, None),
    ]
    return pl.DataFrame(
        [(c, n, "PV00", "Provincie", vanaf, tot, op) for c, n, vanaf, tot, op in rows],
        schema=GEMEENTE_SCHEMA, orient="row",  # type: ignore[arg-type]
    )


GEMEENTE = _gemeente()


def _write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def _ww(*rows: str) -> str:
    return WERKWIJZE_HEADER + "".join(r + "\n" for r in rows)


def _bz(*rows: str) -> str:
    return BEZWAAR_HEADER + "".join(r + "\n" for r in rows)


def _hi(*rows: str) -> str:
    return HERINDELING_HEADER + "".join(r + "\n" for r in rows)


def _ww_row(code: str = "GM0363", werkwijze: str = "resultaatgericht", vanaf: str = "",
            tot: str = "", url: str = URL, peildatum: str = "2020",
            voorziening: str = HO, omschrijving: str = "bron", bron_type: str = "nieuws") -> str:
    return (f"{code},Naam,{voorziening},{werkwijze},{vanaf},{tot},{url},{bron_type},"
            f"{omschrijving},{peildatum}")


def _bz_row(code: str = "GM0363", jaar: str = "2016", domein: str = "wmo",
            counts: str = "10,,,,,,,", url: str = URL, peildatum: str = "2017") -> str:
    return f"{code},Naam,{jaar},{domein},{counts},{url},bron,{peildatum}"


def _hi_row(datum: str = "2021-01-01", oud: str = "GM0788", nieuw: str = "GM0757",
            soort: str = "toevoeging", aandeel: str = "1.0", bron: str = URL) -> str:
    return f"{datum},{oud},Oud,{nieuw},Nieuw,{soort},{aandeel},{bron}"


def _the_error(errors: list[InputError], name: str, line: int | None,
               field: str | None) -> InputError:
    """The single error at name:line field, with its message checked to say where it is."""
    hits = [e for e in errors if e.record == line and e.field == field]
    assert len(hits) == 1, f"expected one error at line {line} field {field}, got: {errors}"
    error = hits[0]
    assert error.file.endswith(name)
    where = f"{name}:{line}:" if line is not None else f"{name}:"
    assert where in str(error)
    if field is not None:
        assert f" {field}:" in str(error)
    return error


# ---------------------------------------------------------------- file-level problems


@pytest.mark.parametrize(("name", "header", "reader"), [
    ("werkwijze.csv", WERKWIJZE_HEADER, lambda p: read_werkwijze(p, GEMEENTE)),
    ("bezwaar.csv", BEZWAAR_HEADER, lambda p: read_bezwaar(p, GEMEENTE)),
    ("herindelingen.csv", HERINDELING_HEADER, read_herindelingen),
])
def test_semicolon_delimiter_is_one_clear_error(tmp_path, name, header, reader):
    text = header.replace(",", ";") + "GM0363;Amsterdam;x;y\n"
    frame, errors = reader(_write(tmp_path, name, text))
    assert len(errors) == 1
    error = _the_error(errors, name, 1, "header")
    assert "';'" in error.message and "delimiter" in error.message
    assert frame.is_empty()


def test_cp1252_names_line_and_field_and_suggests_utf8(tmp_path):
    text = _ww(_ww_row(), _ww_row(code="GM0392", omschrijving="café-bericht"))
    frame, errors = read_werkwijze(_write(tmp_path, "werkwijze.csv", text, "cp1252"), GEMEENTE)
    assert len(errors) == 1
    error = _the_error(errors, "werkwijze.csv", 3, "bron_omschrijving")
    assert "UTF-8" in error.message and "0xe9" in error.message
    assert frame.is_empty()


def test_utf8_bom_is_accepted(tmp_path):
    path = tmp_path / "werkwijze.csv"
    path.write_bytes(b"\xef\xbb\xbf" + _ww(_ww_row(omschrijving="café")).encode())
    frame, errors = read_werkwijze(path, GEMEENTE)
    assert errors == []
    assert frame["gemeente_code"].to_list() == ["GM0363"]
    assert frame["bron_omschrijving"].to_list() == ["café"]


def test_missing_column_is_named(tmp_path):
    text = WERKWIJZE_HEADER.replace(",peildatum", "") + _ww_row().rsplit(",", 1)[0] + "\n"
    _, errors = read_werkwijze(_write(tmp_path, "werkwijze.csv", text), GEMEENTE)
    assert len(errors) == 1
    assert "missing column 'peildatum'" in _the_error(errors, "werkwijze.csv", 1,
                                                       "peildatum").message


def test_misspelled_column_names_expected_and_found(tmp_path):
    text = BEZWAAR_HEADER.replace("bezwaren_ontvangen", "bezwaren_ontvagen") + _bz_row() + "\n"
    _, errors = read_bezwaar(_write(tmp_path, "bezwaar.csv", text), GEMEENTE)
    assert len(errors) == 1  # the misspelling is not reported a second time as 'unexpected'
    message = _the_error(errors, "bezwaar.csv", 1, "bezwaren_ontvangen").message
    assert "'bezwaren_ontvangen'" in message and "'bezwaren_ontvagen'" in message


def test_wrong_number_of_fields(tmp_path):
    text = _ww(_ww_row(), "GM0363,Amsterdam,huishoudelijke_ondersteuning")
    frame, errors = read_werkwijze(_write(tmp_path, "werkwijze.csv", text), GEMEENTE)
    assert "3 fields" in _the_error(errors, "werkwijze.csv", 3, None).message
    assert frame.height == 1


# ---------------------------------------------------------------- gemeente codes


def test_unknown_gemeente_code_werkwijze(tmp_path):
    _, errors = read_werkwijze(_write(tmp_path, "werkwijze.csv", _ww(_ww_row(code="GM9999"))),
                               GEMEENTE)
    assert "GM9999" in _the_error(errors, "werkwijze.csv", 2, "gemeente_code").message


def test_unknown_gemeente_code_bezwaar(tmp_path):
    _, errors = read_bezwaar(_write(tmp_path, "bezwaar.csv", _bz(_bz_row(code="GM9999"))),
                             GEMEENTE)
    assert "unknown gemeente code GM9999" in _the_error(errors, "bezwaar.csv", 2,
                                                         "gemeente_code").message


def test_malformed_gemeente_code(tmp_path):
    _, errors = read_werkwijze(_write(tmp_path, "werkwijze.csv", _ww(_ww_row(code="363"))),
                               GEMEENTE)
    assert "GM followed by 4 digits" in _the_error(errors, "werkwijze.csv", 2,
                                                   "gemeente_code").message


def test_code_not_valid_in_werkwijze_period(tmp_path):
    # Voorne aan Zee exists from 2023; a method that ended in 2020 cannot be its.
    text = _ww(_ww_row(code="GM1992", vanaf="2016", tot="2020"))
    _, errors = read_werkwijze(_write(tmp_path, "werkwijze.csv", text), GEMEENTE)
    message = _the_error(errors, "werkwijze.csv", 2, "gemeente_code").message
    assert "GM1992" in message and "2023-01-01" in message


def test_code_valid_when_interval_intersects(tmp_path):
    # The real register: De Fryske Marren from 2014 (code from 2015-07), Haaren 'uren' from
    # 2020 with no end although Haaren was dissolved on 2021-01-01.
    text = _ww(_ww_row(code="GM1940", vanaf="2014", peildatum="2013"),
               _ww_row(code="GM0788", werkwijze="resultaatgericht", vanaf="2015", tot="2020-01-01",
                       peildatum="2019-08"),
               _ww_row(code="GM0788", werkwijze="uren", vanaf="2020-01-01", peildatum="2019-08"))
    frame, errors = read_werkwijze(_write(tmp_path, "werkwijze.csv", text), GEMEENTE)
    assert errors == []
    assert frame.height == 3


def test_code_not_valid_in_bezwaar_year(tmp_path):
    text = _bz(_bz_row(code="GM0614", jaar="2022"), _bz_row(code="GM0614", jaar="2023"),
               _bz_row(code="GM1992", jaar="2022"), _bz_row(code="GM1992", jaar="2023"))
    frame, errors = read_bezwaar(_write(tmp_path, "bezwaar.csv", text), GEMEENTE,
                                 current_year=2026)
    assert len(errors) == 2
    assert "jaar 2023" in _the_error(errors, "bezwaar.csv", 3, "gemeente_code").message
    assert "jaar 2022" in _the_error(errors, "bezwaar.csv", 4, "gemeente_code").message
    assert frame["regel"].to_list() == [2, 5]


# ---------------------------------------------------------------- bezwaar fields


@pytest.mark.parametrize(("value", "what"), [("-3", "negative"), ("12a", "not a whole number"),
                                             ("2.5", "not a whole number")])
def test_bad_count(tmp_path, value, what):
    text = _bz(_bz_row(counts=f"10,,,,,,,{value}"))
    frame, errors = read_bezwaar(_write(tmp_path, "bezwaar.csv", text), GEMEENTE)
    assert what in _the_error(errors, "bezwaar.csv", 2, "beroep").message
    assert frame.is_empty()


def test_outcomes_exceeding_handled(tmp_path):
    # 5+1+3+1+1 = 11 > 10; the second row has no afgehandeld, so nothing to compare.
    text = _bz(_bz_row(counts="20,10,5,1,3,1,1,"), _bz_row(jaar="2017", counts="20,,5,1,3,1,1,"))
    _, errors = read_bezwaar(_write(tmp_path, "bezwaar.csv", text), GEMEENTE)
    assert len(errors) == 1
    message = _the_error(errors, "bezwaar.csv", 2, "bezwaren_afgehandeld").message
    assert "11" in message and "10" in message


def test_counts_are_int64_with_nulls(tmp_path):
    text = _bz(_bz_row(counts="71,83,25,,,,,13"))
    frame, errors = read_bezwaar(_write(tmp_path, "bezwaar.csv", text), GEMEENTE)
    assert errors == []
    assert frame.schema["bezwaren_ontvangen"] == pl.Int64
    assert frame.row(0, named=True)["ongegrond"] is None
    assert frame.row(0, named=True)["beroep"] == 13
    assert "gemeente_naam" not in frame.columns


def test_duplicate_bezwaar_key(tmp_path):
    text = _bz(_bz_row(), _bz_row(domein="sociaal_domein"), _bz_row(counts="11,,,,,,,"))
    _, errors = read_bezwaar(_write(tmp_path, "bezwaar.csv", text), GEMEENTE)
    assert len(errors) == 1
    assert "line 2" in _the_error(errors, "bezwaar.csv", 4, "gemeente_code").message


def test_unknown_domein(tmp_path):
    _, errors = read_bezwaar(_write(tmp_path, "bezwaar.csv", _bz(_bz_row(domein="jeugd"))),
                             GEMEENTE)
    assert "'jeugd'" in _the_error(errors, "bezwaar.csv", 2, "domein").message


@pytest.mark.parametrize("jaar", ["2013", "2027", "15"])
def test_jaar_out_of_range(tmp_path, jaar):
    _, errors = read_bezwaar(_write(tmp_path, "bezwaar.csv", _bz(_bz_row(jaar=jaar))), GEMEENTE,
                             current_year=2026)
    assert jaar in _the_error(errors, "bezwaar.csv", 2, "jaar").message


@pytest.mark.parametrize("peildatum", ["2017-13", "17-05-2016", "mei 2016", ""])
def test_malformed_peildatum_bezwaar(tmp_path, peildatum):
    _, errors = read_bezwaar(_write(tmp_path, "bezwaar.csv", _bz(_bz_row(peildatum=peildatum))),
                             GEMEENTE)
    _the_error(errors, "bezwaar.csv", 2, "peildatum")


def test_malformed_url_bezwaar(tmp_path):
    _, errors = read_bezwaar(_write(tmp_path, "bezwaar.csv", _bz(_bz_row(url="www.x.nl/a"))),
                             GEMEENTE)
    assert "http(s)://" in _the_error(errors, "bezwaar.csv", 2, "bron_url").message


# ---------------------------------------------------------------- werkwijze fields


def test_duplicate_werkwijze_row(tmp_path):
    # Same claim twice (vanaf written as 2015 and 2015-01-01 is the same date); a different
    # source for the same claim is corroboration, not a duplicate.
    text = _ww(_ww_row(vanaf="2015"), _ww_row(vanaf="2015-01-01", peildatum="2021"),
               _ww_row(vanaf="2015", url="https://example.nl/andere-bron"))
    _, errors = read_werkwijze(_write(tmp_path, "werkwijze.csv", text), GEMEENTE)
    assert len(errors) == 1
    assert "line 2" in _the_error(errors, "werkwijze.csv", 3, "gemeente_code").message


def test_conflicting_overlap_is_an_error(tmp_path):
    text = _ww(_ww_row(werkwijze="resultaatgericht", vanaf="2015"),
               _ww_row(werkwijze="uren", vanaf="2019"))
    _, errors = read_werkwijze(_write(tmp_path, "werkwijze.csv", text), GEMEENTE)
    assert len(errors) == 1
    message = _the_error(errors, "werkwijze.csv", 3, "werkwijze").message
    assert "line 2" in message and "resultaatgericht" in message


def test_agreeing_overlap_and_other_voorziening_are_fine(tmp_path):
    # Like Westland: the same method from a 2023 page and a 2024 letter.
    text = _ww(_ww_row(peildatum="2023"), _ww_row(url="", peildatum="2024"),
               _ww_row(werkwijze="uren", voorziening="begeleiding", peildatum="2023"),
               _ww_row(werkwijze="onbekend", peildatum="2023"))
    frame, errors = read_werkwijze(_write(tmp_path, "werkwijze.csv", text), GEMEENTE)
    assert errors == []
    assert frame.height == 4


def test_geldig_tot_not_after_geldig_vanaf(tmp_path):
    text = _ww(_ww_row(vanaf="2020-01-01", tot="2020-01-01"), _ww_row(vanaf="2020", tot="2019"))
    frame, errors = read_werkwijze(_write(tmp_path, "werkwijze.csv", text), GEMEENTE)
    _the_error(errors, "werkwijze.csv", 2, "geldig_tot")
    _the_error(errors, "werkwijze.csv", 3, "geldig_tot")
    assert frame.is_empty()


def test_malformed_url_werkwijze_and_empty_url_allowed(tmp_path):
    text = _ww(_ww_row(url="htp://example.nl/x"), _ww_row(code="GM0392", url=""),
               _ww_row(code="GM1640", url="https://exa mple.nl/x"))
    frame, errors = read_werkwijze(_write(tmp_path, "werkwijze.csv", text), GEMEENTE)
    assert len(errors) == 2
    _the_error(errors, "werkwijze.csv", 2, "bron_url")
    _the_error(errors, "werkwijze.csv", 4, "bron_url")
    assert frame["bron_url"].to_list() == [None]


@pytest.mark.parametrize("peildatum", ["2016-9", "29-09-2016", "2016-02-30", "najaar 2016"])
def test_malformed_peildatum_werkwijze(tmp_path, peildatum):
    _, errors = read_werkwijze(
        _write(tmp_path, "werkwijze.csv", _ww(_ww_row(peildatum=peildatum))), GEMEENTE)
    assert "YYYY" in _the_error(errors, "werkwijze.csv", 2, "peildatum").message


@pytest.mark.parametrize(("field", "row"), [
    ("werkwijze", _ww_row(werkwijze="tijd")),
    ("voorziening", _ww_row(voorziening="hbh")),
    ("geldig_vanaf", _ww_row(vanaf="2015-1-1")),
    ("bron_omschrijving", _ww_row(omschrijving="")),
])
def test_bad_werkwijze_values(tmp_path, field, row):
    _, errors = read_werkwijze(_write(tmp_path, "werkwijze.csv", _ww(row)), GEMEENTE)
    _the_error(errors, "werkwijze.csv", 2, field)


def test_all_errors_in_a_file_are_reported(tmp_path):
    text = _ww(_ww_row(),
               _ww_row(code="GM9999"),
               '"GM0392",Haarlem,huishoudelijke_ondersteuning,tijd,,,"ftp://x.nl",nieuws,'
               '"meerdere\nregels",2016',
               _ww_row(code="GM1640", peildatum="2016-13"),
               _ww_row(werkwijze="uren", peildatum="2021"))
    frame, errors = read_werkwijze(_write(tmp_path, "werkwijze.csv", text), GEMEENTE)
    assert {(e.record, e.field) for e in errors} == {
        (3, "gemeente_code"), (4, "werkwijze"), (4, "bron_url"), (6, "peildatum"),
        (7, "werkwijze"),  # uren from 2021 conflicts with resultaatgericht from 2020 (line 2)
    }
    assert frame["regel"].to_list() == [2, 7]


# ---------------------------------------------------------------- bron_type


def _assert_lists_allowed(message: str) -> None:
    assert all(kind in message for kind in BRON_TYPES), message


def test_unknown_bron_type_names_line_field_and_allowed_values(tmp_path):
    text = _ww(_ww_row(), _ww_row(code="GM0392", bron_type="krant"))
    frame, errors = read_werkwijze(_write(tmp_path, "werkwijze.csv", text), GEMEENTE)
    message = _the_error(errors, "werkwijze.csv", 3, "bron_type").message
    assert "'krant'" in message
    _assert_lists_allowed(message)
    assert len(errors) == 1
    assert frame["gemeente_code"].to_list() == ["GM0363"]


def test_empty_bron_type_is_an_error_listing_allowed_values(tmp_path):
    text = _ww(_ww_row(bron_type=""))
    frame, errors = read_werkwijze(_write(tmp_path, "werkwijze.csv", text), GEMEENTE)
    message = _the_error(errors, "werkwijze.csv", 2, "bron_type").message
    assert "is empty" in message
    _assert_lists_allowed(message)
    assert len(errors) == 1
    assert frame.is_empty()


def test_bron_type_problems_are_all_listed_with_the_other_checks(tmp_path):
    text = _ww(_ww_row(bron_type="rechterlijke_uitspraak"),
               _ww_row(code="GM0392", bron_type="Nieuws"),  # case matters: codes are exact
               _ww_row(code="GM1640", bron_type=""),
               _ww_row(code="GM0757", bron_type="blog", peildatum="2016-13"),
               _ww_row(code="GM9999", bron_type="regelgeving"))
    frame, errors = read_werkwijze(_write(tmp_path, "werkwijze.csv", text), GEMEENTE)
    assert {(e.record, e.field) for e in errors} == {
        (3, "bron_type"), (4, "bron_type"), (5, "bron_type"), (5, "peildatum"),
        (6, "gemeente_code"),
    }
    assert frame["regel"].to_list() == [2]


def test_one_bron_url_has_one_bron_type(tmp_path):
    text = _ww(_ww_row(bron_type="nieuws"), _ww_row(code="GM0392", bron_type="nieuws"),
               _ww_row(code="GM1640", bron_type="gemeente"),
               # Letters without a URL cannot be matched: different kinds are fine there.
               _ww_row(code="GM0757", url="", bron_type="brief"),
               _ww_row(code="GM0788", url="", bron_type="gemeente", peildatum="2019"))
    _, errors = read_werkwijze(_write(tmp_path, "werkwijze.csv", text), GEMEENTE)
    assert len(errors) == 1
    message = _the_error(errors, "werkwijze.csv", 4, "bron_type").message
    assert "line 2" in message and "'nieuws'" in message and "'gemeente'" in message


def test_sterke_bronnen_keeps_court_rulings_and_regulations_only(tmp_path):
    text = _ww(*(_ww_row(code=code, bron_type=kind, url=f"{URL}/{kind}")
                 for code, kind in zip(("GM0363", "GM0392", "GM1640", "GM0757", "GM1940",
                                        "GM0788", "GM1992", "GM0614"), BRON_TYPES, strict=True)))
    frame, errors = read_werkwijze(_write(tmp_path, "werkwijze.csv", text), GEMEENTE)
    assert errors == []
    assert sorted(sterke_bronnen(frame)["bron_type"].to_list()) == sorted(STERKE_BRON_TYPES)
    assert set(STERKE_BRON_TYPES) == {"rechterlijke_uitspraak", "regelgeving"}


# ---------------------------------------------------------------- herindelingen


def test_herindelingen_clean(tmp_path):
    text = _hi(_hi_row(nieuw="GM0757", soort="splitsing", aandeel="0.6"),
               _hi_row(nieuw="GM0824", soort="splitsing", aandeel="0.401"))
    frame, errors = read_herindelingen(_write(tmp_path, "herindelingen.csv", text))
    assert errors == []
    assert frame.schema == pl.Schema(HERINDELING_SCHEMA)
    assert frame["datum_ingang"].to_list() == [date(2021, 1, 1)] * 2


@pytest.mark.parametrize(("field", "row"), [
    ("datum_ingang", _hi_row(datum="2021")),
    ("datum_ingang", _hi_row(datum="2021-02-30")),
    ("oude_code", _hi_row(oud="GM788")),
    ("nieuwe_code", _hi_row(nieuw="gm0757")),
    ("type", _hi_row(soort="opheffing")),
    ("aandeel", _hi_row(aandeel="0")),
    ("aandeel", _hi_row(aandeel="1.5")),
    ("aandeel", _hi_row(aandeel="half")),
    ("bron", _hi_row(bron="example.nl")),
    ("bron", _hi_row(bron="")),
])
def test_bad_herindeling_values(tmp_path, field, row):
    frame, errors = read_herindelingen(_write(tmp_path, "herindelingen.csv", _hi(row)))
    _the_error(errors, "herindelingen.csv", 2, field)
    assert frame.is_empty()


def test_herindeling_shares_must_sum_to_one(tmp_path):
    text = _hi(_hi_row(nieuw="GM0757", soort="splitsing", aandeel="0.6"),
               _hi_row(nieuw="GM0824", soort="splitsing", aandeel="0.3"))
    _, errors = read_herindelingen(_write(tmp_path, "herindelingen.csv", text))
    assert len(errors) == 1
    message = _the_error(errors, "herindelingen.csv", 2, "aandeel").message
    assert "GM0788" in message and "0.900" in message


def test_duplicate_herindeling(tmp_path):
    text = _hi(_hi_row(aandeel="0.5"), _hi_row(aandeel="0.5"))
    _, errors = read_herindelingen(_write(tmp_path, "herindelingen.csv", text))
    assert len(errors) == 1
    assert "line 2" in _the_error(errors, "herindelingen.csv", 3, "oude_code").message


# ---------------------------------------------------------------- effective interval, per year


def test_parse_partial_date():
    assert parse_partial_date("2016") == date(2016, 1, 1)
    assert parse_partial_date("2016-10") == date(2016, 10, 1)
    assert parse_partial_date("2016-09-29") == date(2016, 9, 29)
    assert parse_partial_date("2016-9") is None
    assert parse_partial_date("2016-02-30") is None


def test_effective_interval_rule():
    d = date
    # geldig_vanaf given: it wins.
    assert effective_interval(d(2015, 1, 1), None, d(2019, 8, 1)) == (d(2015, 1, 1), None)
    # geldig_tot on/before the source date: the row describes the year before the change.
    assert effective_interval(None, d(2023, 1, 1), d(2023, 1, 1)) == (d(2022, 1, 1),
                                                                     d(2023, 1, 1))
    # geldig_tot after the source date: from the source date up to the change.
    # A source dated just before the change it announces vouches for the year before it.
    assert effective_interval(None, d(2016, 10, 1), d(2016, 9, 29)) == (d(2015, 10, 1),
                                                                        d(2016, 10, 1))
    # No dates at all: the source date, open-ended; undated source without dates: unknown.
    assert effective_interval(None, None, d(2018, 10, 1)) == (d(2018, 10, 1), None)
    assert effective_interval(None, None, None) == (None, None)


HAARLEM_LEUDAL = _ww(
    _ww_row(code="GM0392", werkwijze="resultaatgericht", tot="2016-10", peildatum="2016-09-29"),
    _ww_row(code="GM0392", werkwijze="uren", vanaf="2016-10", peildatum="2016-09-29"),
    _ww_row(code="GM0392", werkwijze="uren", peildatum="2018-01-30"),
    _ww_row(code="GM1640", werkwijze="resultaatgericht", tot="2023-01-01", peildatum="2023"),
    _ww_row(code="GM1640", werkwijze="uren", vanaf="2023-01-01", peildatum="2023"),
)


def test_effective_interval_on_real_examples(tmp_path):
    frame, errors = read_werkwijze(_write(tmp_path, "werkwijze.csv", HAARLEM_LEUDAL), GEMEENTE)
    assert errors == []
    got = frame.select("gemeente_code", "werkwijze", "ingang_effectief", "einde_effectief",
                       "peildatum").rows()
    assert got == [
        ("GM0392", "resultaatgericht", date(2015, 10, 1), date(2016, 10, 1), "2016-09-29"),
        ("GM0392", "uren", date(2016, 10, 1), None, "2016-09-29"),
        ("GM0392", "uren", date(2018, 1, 30), None, "2018-01-30"),
        ("GM1640", "resultaatgericht", date(2022, 1, 1), date(2023, 1, 1), "2023"),
        ("GM1640", "uren", date(2023, 1, 1), None, "2023"),
    ]
    assert frame.schema["geldig_tot"] == pl.Date
    assert frame["geldig_tot"][0] == date(2016, 10, 1)


def test_werkwijze_per_jaar_real_examples(tmp_path):
    frame, _ = read_werkwijze(_write(tmp_path, "werkwijze.csv", HAARLEM_LEUDAL), GEMEENTE)
    per_jaar = werkwijze_per_jaar(frame, HO, [2016, 2017, 2021, 2022, 2023])
    assert per_jaar.rows() == [
        # Haarlem 2016: resultaatgericht until the switch of October 2016.
        ("GM0392", 2016, "resultaatgericht"), ("GM0392", 2017, "uren"),
        ("GM0392", 2021, "uren"), ("GM0392", 2022, "uren"),
        ("GM0392", 2023, "uren"),
        ("GM1640", 2022, "resultaatgericht"), ("GM1640", 2023, "uren"),
    ]
    assert per_jaar.schema == pl.Schema({"gemeente_code": pl.Utf8, "jaar": pl.Int32,
                                         "werkwijze": pl.Utf8})


def test_werkwijze_per_jaar_uses_1_july_and_leaves_unknown_absent(tmp_path):
    text = _ww(
        _ww_row(code="GM0363", werkwijze="resultaatgericht", vanaf="2018-07-02",
                tot="2021-07-01"),
        _ww_row(code="GM0363", werkwijze="uren", vanaf="2021-07-01"),
        _ww_row(code="GM0392", werkwijze="onbekend", vanaf="2015"),
        _ww_row(code="GM1640", werkwijze="uren", peildatum=""),  # undated: no year
        _ww_row(code="GM0757", werkwijze="uren", voorziening="begeleiding", vanaf="2015"),
    )
    frame, errors = read_werkwijze(_write(tmp_path, "werkwijze.csv", text), GEMEENTE)
    assert errors == []
    per_jaar = werkwijze_per_jaar(frame, HO, list(range(2017, 2023)))
    assert per_jaar.rows() == [
        ("GM0363", 2019, "resultaatgericht"), ("GM0363", 2020, "resultaatgericht"),
        ("GM0363", 2021, "uren"), ("GM0363", 2022, "uren"),
    ]
    assert werkwijze_per_jaar(frame, "begeleiding", [2014, 2015]).rows() == [
        ("GM0757", 2015, "uren")]


def test_werkwijze_per_jaar_does_not_pick_a_side_in_a_conflict():
    frame = pl.DataFrame({
        "gemeente_code": ["GM0363", "GM0363"], "voorziening": [HO, HO],
        "werkwijze": ["uren", "resultaatgericht"],
        "ingang_effectief": [date(2020, 1, 1)] * 2, "einde_effectief": [None, None],
    }, schema_overrides={"einde_effectief": pl.Date})
    assert werkwijze_per_jaar(frame, HO, [2020]).is_empty()


# ---------------------------------------------------------------- the real registers


def _csv_records(name: str) -> list[dict[str, str]]:
    """The data rows of a committed register, read with the plain csv module."""
    with (REGISTERS / name).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _snapshot_geo() -> Path:
    base = os.environ.get("WMO_SNAPSHOT_DIR")
    root = Path(base) if base else REPO.parent / "shared" / "snapshot"
    return root / "geo"


def test_real_registers_pass_without_errors():
    geo_dir = _snapshot_geo()
    assert (geo_dir / "gemeente_2026.topojson").exists(), (
        f"no boundary snapshot in {geo_dir}: set WMO_SNAPSHOT_DIR")
    from etl.sources.geo import province_of_gemeenten, read_boundaries

    herindelingen, errors = read_herindelingen(REGISTERS / "herindelingen.csv")
    assert [str(e) for e in errors] == []
    assert herindelingen.height == len(_csv_records("herindelingen.csv"))
    current = province_of_gemeenten(
        read_boundaries(geo_dir / "gemeente_2026.topojson", "gemeente"),
        read_boundaries(geo_dir / "provincie_2026.topojson", "provincie"))
    gemeente = gemeente_history(current, herindelingen)

    werkwijze, errors = read_werkwijze(REGISTERS / "werkwijze.csv", gemeente)
    assert [str(e) for e in errors] == []
    # Counts come from the files, so a register that grows does not break this test; every
    # row must come through, each with its own bron_type.
    records = _csv_records("werkwijze.csv")
    assert werkwijze.height == len(records)
    assert werkwijze["bron_type"].to_list() == [r["bron_type"] for r in records]
    assert werkwijze["bron_type"].null_count() == 0
    bezwaar, errors = read_bezwaar(REGISTERS / "bezwaar.csv", gemeente)
    assert [str(e) for e in errors] == []
    assert bezwaar.height == len(_csv_records("bezwaar.csv"))

    leudal = werkwijze_per_jaar(werkwijze.filter(pl.col("gemeente_code") == "GM1640"), HO,
                                [2021, 2022, 2023])
    assert leudal.rows() == [("GM1640", 2022, "resultaatgericht"), ("GM1640", 2023, "uren")]


def test_core_werkwijze_carries_every_register_row_with_its_bron_type(demo_db):
    import duckdb

    records = _csv_records("werkwijze.csv")
    with duckdb.connect(str(demo_db), read_only=True) as con:
        rows = con.execute("SELECT regel, gemeente_code, bron_type FROM core.werkwijze "
                           "ORDER BY regel").fetchall()
    assert len(rows) == len(records)
    assert Counter(kind for _, _, kind in rows) == Counter(r["bron_type"] for r in records)
    assert all(kind in BRON_TYPES for _, _, kind in rows)
    assert len({code for _, code, _ in rows}) == len({r["gemeente_code"] for r in records})


def test_strict_werkwijze_is_the_full_one_or_unknown_and_only_from_strong_sources(demo_db):
    import duckdb

    with duckdb.connect(str(demo_db), read_only=True) as con:
        contradicting = con.execute(
            "SELECT count(*) FROM out.gemeente_periode WHERE werkwijze_hbh_sterke_bron IS NOT NULL "
            "AND werkwijze_hbh_sterke_bron IS DISTINCT FROM werkwijze_hbh").fetchone()[0]
        strict_codes = {r[0] for r in con.execute(
            "SELECT DISTINCT gemeente_code FROM out.gemeente_periode "
            "WHERE werkwijze_hbh_sterke_bron IS NOT NULL").fetchall()}
        # A merged gemeente may get its method from its parts' rows: count their successors.
        strong_codes = {r[0] for r in con.execute(
            "WITH s AS (SELECT DISTINCT gemeente_code FROM core.werkwijze "
            "WHERE list_contains(?, bron_type)) "
            "SELECT gemeente_code FROM s UNION SELECT h.nieuwe_code FROM core.herindeling h "
            "JOIN s ON s.gemeente_code = h.oude_code", [list(STERKE_BRON_TYPES)]).fetchall()}
        weaker_only = con.execute(
            "SELECT count(*) FROM out.gemeente_periode WHERE werkwijze_hbh IS NOT NULL "
            "AND werkwijze_hbh_sterke_bron IS NULL").fetchone()[0]
    assert contradicting == 0
    assert strict_codes and strict_codes <= strong_codes
    assert weaker_only > 0  # news-only years stay unknown in the strict column


def _all_pairs_conflicts(rows: list[dict]) -> list[tuple[int, int]]:
    """The definition the sweep must agree with: every pair of one subject, compared."""
    dated = [r for r in rows if r["werkwijze"] != "onbekend" and r["ingang_effectief"]]
    found = []
    for later in dated:
        for earlier in dated[:dated.index(later)]:
            if ((later["gemeente_code"], later["voorziening"])
                    == (earlier["gemeente_code"], earlier["voorziening"])
                    and later["werkwijze"] != earlier["werkwijze"]
                    and (earlier["einde_effectief"] is None
                         or later["ingang_effectief"] < earlier["einde_effectief"])
                    and (later["einde_effectief"] is None
                         or earlier["ingang_effectief"] < later["einde_effectief"])):
                found.append((later["regel"], earlier["regel"]))
    return found


def test_conflict_sweep_finds_exactly_the_conflicting_pairs():
    import random

    from etl.sources.registers import _conflict_errors

    rng = random.Random(13)
    rows = []
    for line in range(2, 602):
        start = date(rng.randint(2015, 2024), rng.choice([1, 7]), 1)
        end = rng.choice([None, date(start.year + rng.randint(1, 4), 1, 1)])
        rows.append({"gemeente_code": rng.choice(["GM0363", "GM0392", "GM1640"]),
                     "voorziening": rng.choice(["huishoudelijke_ondersteuning", "begeleiding"]),
                     "werkwijze": rng.choice(["resultaatgericht", "uren", "onbekend"]),
                     "ingang_effectief": rng.choice([start, start, None]),
                     "einde_effectief": end, "regel": line})
    expected = _all_pairs_conflicts(rows)
    errors = _conflict_errors("werkwijze.csv", rows)
    got = [(e.record, int(e.message.split("on line ")[1].split(";")[0])) for e in errors]
    assert len(expected) > 100  # the sample must hold many conflicts to compare
    assert got == expected
