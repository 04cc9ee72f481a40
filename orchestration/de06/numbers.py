"""Deterministic parsing of numbers typed by people, Vietnamese format first.

Rules (documented in docs/design.md, pinned by tests/python/test_numbers.py):

1. Spaces (also non-breaking and thin spaces) are removed; a trailing ``%`` is dropped and noted.
2. Digits only (optionally with a leading ``-``): an integer.
3. Both ``.`` and ``,`` present: the one that comes last is the decimal separator; every other
   separator must be the other character and group the integer part in threes
   (``5.052,5`` → 5052.5, ``1,234.5`` → 1234.5).
4. Only ``.``: if the dots group the digits in threes it is the Vietnamese thousands separator
   (``127.450`` → 127450, ``1.234.567`` → 1234567); a single dot that does not → a decimal point
   (``89.8`` → 89.8); anything else is rejected.
5. Only ``,``: a single comma followed by anything but exactly three digits is the Vietnamese
   decimal comma (``99,07`` → 99.07, ``5052,5`` → 5052.5). A single comma followed by exactly
   three digits (``127,450``) is **ambiguous** (127,45 in Vietnamese; 127450 in English) and is
   rejected. Several commas grouping in threes (``1,234,567``) can only be thousands.
6. Anything else (letters, two decimal separators, bad grouping) is rejected, never guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SPACES = re.compile(r"[\s\u00a0\u202f\u2009]+")
_GROUPED = r"[1-9]\d{{0,2}}(?:{sep}\d{{3}})+"


class NumberFormatError(ValueError):
    """A cell that cannot be read as a number unambiguously."""


@dataclass(frozen=True)
class ParsedNumber:
    value: float
    decimals: int  # digits after the decimal separator as typed (for rounding tolerance)
    percent_sign: bool = False


def _grouped(text: str, sep: str) -> bool:
    return re.fullmatch(_GROUPED.format(sep=re.escape(sep)), text) is not None


def parse_number(raw: str) -> ParsedNumber | None:
    """Parse ``raw``; ``None`` for an empty cell; ``NumberFormatError`` when unreadable."""
    text = _SPACES.sub("", raw or "")
    if not text:
        return None
    percent = text.endswith("%")
    if percent:
        text = text[:-1]
    sign = ""
    if text and text[0] in "+-":
        sign, text = ("-" if text[0] == "-" else ""), text[1:]
    # ASCII digits only: \d and str.isdigit() also take "²" or "٣", which float() reads or
    # refuses unpredictably
    if not text or not re.fullmatch(r"[0-9][0-9.,]*", text):
        raise NumberFormatError(f"'{raw}' is not a number")

    def done(integer: str, fraction: str) -> ParsedNumber:
        number = float(f"{sign}{integer}.{fraction or 0}")
        return ParsedNumber(number, len(fraction), percent)

    has_dot, has_comma = "." in text, "," in text
    if not has_dot and not has_comma:
        return done(text, "")
    if has_dot and has_comma:
        decimal = "." if text.rfind(".") > text.rfind(",") else ","
        thousands = "," if decimal == "." else "."
        integer, _, fraction = text.rpartition(decimal)
        if decimal in integer or not fraction.isdigit():
            raise NumberFormatError(f"'{raw}' has more than one decimal separator")
        if not _grouped(integer, thousands):
            raise NumberFormatError(f"'{raw}': thousands are not grouped in threes")
        return done(integer.replace(thousands, ""), fraction)
    sep = "." if has_dot else ","
    if _grouped(text, sep) and (sep == "." or text.count(",") > 1):
        return done(text.replace(sep, ""), "")
    if text.count(sep) == 1:
        integer, _, fraction = text.partition(sep)
        if sep == "," and len(fraction) == 3 and _grouped(text, ","):
            raise NumberFormatError(
                f"'{raw}' is ambiguous: {integer},{fraction} with a Vietnamese decimal comma "
                f"or {integer}{fraction} with an English thousands separator"
            )
        if integer and fraction:
            return done(integer, fraction)
    raise NumberFormatError(f"'{raw}' is not a number in Vietnamese or English format")
