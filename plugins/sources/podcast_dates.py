"""Episode dates: feedparser's, except two-digit RFC 2822 years, which follow RFC 2822 §4.3.

RFC 2822 §4.3 reads a two-digit year 00-49 as 20xx and 50-99 as 19xx. Neither library in reach
does: feedparser reads 00-89 as 20xx (so an old feed's `Mon, 01 Jan 96` is 1996 but `72` is
2072), and `email.utils.parsedate_to_datetime` reads 00-68 as 20xx (`69` is 1969, `55` is 2055).
So a date whose year has two digits is parsed here, with the year set by the RFC; every other
date keeps feedparser's reading, which copes with far more real-world forms than RFC 2822 allows.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

# An optional day name, the day, the month name, then a year of exactly two digits.
_TWO_DIGIT_YEAR = re.compile(r"^\s*(?:[A-Za-z]{3},?\s*)?\d{1,2}\s+[A-Za-z]{3}\s+(\d{2})(?:\s|$)")


def rfc2822_year(two_digits: int) -> int:
    """The full year of a two-digit RFC 2822 year (§4.3: 00-49 are 2000-2049, 50-99 1950-1999)."""
    return two_digits + (2000 if two_digits < 50 else 1900)


def two_digit_year_date(text: str) -> datetime | None:
    """An RFC 2822 date with a two-digit year, in UTC, the century set by the RFC; None for any
    other text (four-digit years included: feedparser's reading of those stands)."""
    match = _TWO_DIGIT_YEAR.match(text)
    if match is None:
        return None
    try:
        stamp = parsedate_to_datetime(text)
        stamp = stamp.replace(year=rfc2822_year(int(match.group(1))))
    except (TypeError, ValueError):
        return None
    if stamp.tzinfo is None:  # "-0000": UTC, with no claim about the local zone
        stamp = stamp.replace(tzinfo=UTC)
    return stamp.astimezone(UTC)


def published_of(entry: Any) -> str | None:
    """ISO 8601 UTC from `published` (else `updated`); feedparser normalises to UTC structs."""
    for key in ("published", "updated"):
        stamp = two_digit_year_date(str(entry.get(key) or ""))
        parsed = entry.get(f"{key}_parsed")
        if stamp is None and parsed:
            stamp = datetime(*parsed[:6], tzinfo=UTC)
        if stamp is not None:
            return stamp.isoformat().replace("+00:00", "Z")
    return None
