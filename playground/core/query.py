"""Strict parsing of values people can type into a URL or a form.

`str.isdigit()` and `int()` accept far more than a browser ever sends: "١٢" (Arabic-Indic
digits), numbers too big for a database integer. These helpers accept ASCII digits only,
within range, and answer None for anything else, so a view can ignore it or explain it.
"""

import re

MAX_DB_ID = 2**63 - 1  # the largest primary key SQLite and PostgreSQL bigint can hold
_ASCII_DIGITS = re.compile(r"[0-9]{1,19}")
_MONTH = re.compile(r"([0-9]{1,4})-([0-9]{1,2})")


def parse_id(text: str | None) -> int | None:
    """A database id (1 .. 2**63-1) written in ASCII digits, or None."""
    if text is None or not _ASCII_DIGITS.fullmatch(text):
        return None
    value = int(text)
    return value if 1 <= value <= MAX_DB_ID else None


def parse_ids(texts: list[str], limit: int) -> list[int]:
    """The usable ids among `texts`, in order, at most `limit` of them; the rest are dropped."""
    return [value for value in map(parse_id, texts) if value is not None][:limit]


def parse_month(text: str | None) -> tuple[int, int] | None:
    """(year, month) from "YYYY-MM" in ASCII digits with a real month, or None."""
    match = _MONTH.fullmatch(text or "")
    if match is None:
        return None
    year, month = int(match[1]), int(match[2])
    return (year, month) if 1 <= month <= 12 else None
