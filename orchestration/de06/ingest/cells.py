"""Cells of the small feeds (submissions, tasks) as typed by people: text, numbers in
Vietnamese and English formats, dates, and formula cells Excel never computed."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from de06.ingest.sqltext import nfc
from de06.ingest.verdicts import Problem
from de06.numbers import NumberFormatError, ParsedNumber, parse_number


@dataclass(frozen=True)
class Uncomputed:
    """An XLSX formula cell with no value saved (the workbook was never computed by Excel)."""

    formula: str

    def __str__(self) -> str:
        return self.formula


Row = tuple[int, list[Any]]  # (row number in the file or sheet, cells)


def formula_problems(index: dict[str, int], cells: list[Any], row_number: int) -> list[Problem]:
    return [
        Problem(
            row_number,
            column,
            str(cells[i]),
            "formula_not_computed",
            f"{column} is a formula with no saved value: open the file in Excel and save it",
        )
        for column, i in index.items()
        if i < len(cells) and isinstance(cells[i], Uncomputed)
    ]


def cell_text(cells: list[Any], i: int) -> str:
    value = cells[i] if i < len(cells) else None
    if value is None:
        return ""
    if isinstance(value, tuple):  # percent-formatted XLSX number
        value = value[1]
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return nfc(str(value)).strip()


def cell_number(cells: list[Any], i: int) -> ParsedNumber | None:
    value = cells[i] if i < len(cells) else None
    if isinstance(value, tuple):
        number = round(float(value[1]), 10)
        return ParsedNumber(number, decimals(number), True)
    if isinstance(value, bool):
        raise NumberFormatError(f"'{value}' is not a number")
    if isinstance(value, int | float):
        return ParsedNumber(float(value), decimals(float(value)))
    return parse_number("" if value is None else str(value))


def decimals(number: float) -> int:
    text = repr(number)
    return 0 if "e" in text or text.endswith(".0") else len(text.split(".")[1])


def parse_date(text: str) -> dt.date | None:
    text = text.strip()[:10]
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def parse_timestamp(text: str) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(text.strip())
    except ValueError:
        day = parse_date(text)
        return dt.datetime.combine(day, dt.time()) if day else None
