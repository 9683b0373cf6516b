"""Rechtspraak Open Data: published court rulings (uitspraken) about the Wmo 2015.

fetch.py downloads the Atom search feed and one content XML per ruling into
`<raw>/rechtspraak/`; parse.py reads those documents safely; classify.py holds every rule (and
its phrase table) that turns a ruling into a `core.uitspraak` row; demo.py writes a synthetic
snapshot in the same formats for `wmo demo`. docs/rechtspraak.md
describes the protocol, the raw layout and the rules.
"""
