"""The pages of one paged CBS resource must form one complete chain (issue 13 §2).

A fetch saves page N+1 because page N's next link pointed at it, so a snapshot whose pages do
not chain up has lost or gained a page since: a page removed from the middle (its neighbour's
link still asks for it), a copy of a page, or a renumbered folder. Any of these silently
changes the row count of a build, so each is an input error naming the page.

What a page's next link resolves to: CBS writes it as the original query plus `$skip=<rows so
far>` (format doc §2.8, §5.3), so the page after it must start at exactly that row. A link
without `$skip` (v4 treats links as opaque) only has to be followed by a page. The total the
source states (`@odata.count` with `$count=true`, or v3's `odata.count`) must equal the rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from etl.errors import InputError, display_path

NEXT_LINK_KEYS = ("odata.nextLink", "@odata.nextLink")
COUNT_KEYS = ("@odata.count", "odata.count")


@dataclass(frozen=True)
class Page:
    """What the chain check needs to know of one saved page."""

    path: Path
    rows: int
    next_link: str | None
    count: int | None     # total rows of the resource, when the page states it
    digest: str           # of the file's bytes: two equal pages are a copied page


def page_number(path: Path) -> int | None:
    digits = path.stem.removeprefix("page-")
    return int(digits) if digits.isdigit() else None


def envelope_link(envelope: dict[str, Any]) -> str | None:
    for key in NEXT_LINK_KEYS:
        value = envelope.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def envelope_count(envelope: dict[str, Any]) -> int | None:
    for key in COUNT_KEYS:
        value = envelope.get(key)
        # v3 writes odata.count as a string ("1234"), v4 as a number.
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and value.isdigit():
            return int(value)
    return None


def skip_of(link: str) -> int | None:
    """The `$skip` a next link asks for (percent-encoded or not), None when it has none."""
    values = parse_qs(urlsplit(link).query).get("$skip")
    if not values or not values[-1].isdigit():
        return None
    return int(values[-1])


def chain_errors(pages: Sequence[Page]) -> list[InputError]:
    """Every way the pages (in page-number order) fail to be one complete chain."""
    return [*_numbering_errors(pages), *_copy_errors(pages), *_link_errors(pages),
            *_count_errors(pages)]


def _where(page: Page) -> tuple[str, str]:
    return display_path(page.path), None


def _numbering_errors(pages: Sequence[Page]) -> list[InputError]:
    errors = []
    expected = 1
    for page in pages:
        number = page_number(page.path)
        if number is None:
            errors.append(InputError(*_where(page), None,
                                     "not a page file name (expected page-0001.json, …)"))
            continue
        if number > expected:
            missing = (f"page-{expected:04d}.json" if number == expected + 1
                       else f"page-{expected:04d}.json … page-{number - 1:04d}.json")
            errors.append(InputError(*_where(page), None,
                                     f"{missing} missing before this page"))
        expected = number + 1
    return errors


def _copy_errors(pages: Sequence[Page]) -> list[InputError]:
    first: dict[str, Page] = {}
    errors = []
    for page in pages:
        original = first.setdefault(page.digest, page)
        if original is not page:
            errors.append(InputError(*_where(page), None,
                                     f"same content as {original.path.name}: a duplicated page"))
    return errors


def _link_errors(pages: Sequence[Page]) -> list[InputError]:
    errors = []
    rows_before = 0
    for page, following in zip(pages, [*pages[1:], None], strict=True):
        rows_before += page.rows
        if following is None:
            if page.next_link is not None:
                errors.append(InputError(
                    *_where(page), None,
                    f"its next link points to a page that is not in the snapshot "
                    f"({page.next_link}): a page is missing"))
            continue
        if page.next_link is None:
            errors.append(InputError(
                *_where(following), None,
                f"not reachable: {page.path.name} has no next link, so CBS sent no page after "
                "it (an extra or copied page)"))
            continue
        skip = skip_of(page.next_link)
        if skip is not None and skip != rows_before:
            errors.append(InputError(
                *_where(following), None,
                f"does not follow {page.path.name}: its next link asks for rows from {skip}, "
                f"but the pages up to it hold {rows_before} (a page is missing or duplicated)"))
    return errors


def _count_errors(pages: Sequence[Page]) -> list[InputError]:
    stated = next((p for p in pages if p.count is not None), None)
    if stated is None:
        return []
    total = sum(p.rows for p in pages)
    if total == stated.count:
        return []
    return [InputError(*_where(stated), "@odata.count",
                       f"the source states {stated.count} rows, the pages hold {total}")]
