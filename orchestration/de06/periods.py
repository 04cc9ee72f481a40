"""Reporting periods as written in the feeds and marts: ``2025``, ``2025-H1``, ``2025-Q1``, ``2025-04``."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

_PATTERNS = (
    (re.compile(r"^(\d{4})$", re.ASCII), "year"),
    (re.compile(r"^(\d{4})-H([12])$", re.ASCII), "half_year"),
    (re.compile(r"^(\d{4})-Q([1-4])$", re.ASCII), "quarter"),
    (re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$", re.ASCII), "month"),
)


@dataclass(frozen=True)
class Period:
    code: str
    grain: str
    start: dt.date
    end: dt.date  # inclusive


def _month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def parse_period(text: str) -> Period:
    """Parse a period code; raises ``ValueError`` with a readable message when it is not one."""
    code = text.strip().upper().replace("–", "-")
    for pattern, grain in _PATTERNS:
        match = pattern.match(code)
        if not match:
            continue
        year = int(match.group(1))
        if not 1990 <= year <= 2100:
            break
        if grain == "year":
            first, last = 1, 12
        elif grain == "half_year":
            half = int(match.group(2))
            first, last = 6 * half - 5, 6 * half
        elif grain == "quarter":
            quarter = int(match.group(2))
            first, last = 3 * quarter - 2, 3 * quarter
        else:
            first = last = int(match.group(2))
        return Period(code, grain, dt.date(year, first, 1), _month_end(year, last))
    raise ValueError(f"'{text}' is not a period: write YYYY, YYYY-H1/H2, YYYY-Q1..Q4 or YYYY-MM")
