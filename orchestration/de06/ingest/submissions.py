"""The submission feed (số liệu báo cáo định kỳ): small files typed by people (CSV, XLSX),
checked cell by cell in Python with the rules of ``de06.numbers``. Its contract is
``de06.contracts.SUBMISSIONS``."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from de06.contracts import SUBMISSIONS
from de06.ingest.cells import cell_number, cell_text, formula_problems, parse_date
from de06.ingest.context import LoadContext
from de06.ingest.files import read_feed_rows
from de06.ingest.verdicts import FileReport, Problem
from de06.numbers import NumberFormatError, ParsedNumber
from de06.periods import Period, parse_period

FEED = SUBMISSIONS
FIGURES = ("numerator", "denominator", "value", "target", "rank", "ranked_of")
Record = dict[str, Any]


def load(ctx: LoadContext, path: Path, load_id: int, report: FileReport) -> list[Problem]:
    index, rows = read_feed_rows(path, FEED.name, report)
    problems: list[Problem] = []
    good: list[tuple[int, Record]] = []
    for row_number, cells in rows:
        record, row_problems = check_row(ctx, index, cells, row_number)
        if row_problems:
            problems.extend(row_problems)
        else:
            record["extra"] = {c: cell_text(cells, index[c]) for c in report.extra_columns} or None
            good.append((row_number, record))
    keep, duplicates = _one_per_key(good)
    problems += duplicates
    if keep:
        ctx.con.executemany(
            f"insert into raw.{FEED.name} values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    *(r[c] for c in FEED.column_names),
                    json.dumps(r["extra"], ensure_ascii=False) if r["extra"] else None,
                    load_id,
                    n,
                )
                for n, r in sorted(keep, key=lambda x: x[0])
            ],
        )
    report.accepted = len(keep)
    report.reasons.update(Counter(p.code for p in problems))
    return problems


def _one_per_key(good: list[tuple[int, Record]]) -> tuple[list[tuple[int, Record]], list[Problem]]:
    """The same unit/period/indicator/dimension twice in one file: identical → the first is
    kept, the copies are duplicates; different → all quarantined (which is right cannot be
    known)."""
    seen: dict[tuple[Any, ...], list[tuple[int, Record]]] = {}
    for row_number, record in good:
        seen.setdefault(tuple(record[c] for c in FEED.key), []).append((row_number, record))
    keep: list[tuple[int, Record]] = []
    problems: list[Problem] = []
    for entries in seen.values():
        figures = {tuple((k, v) for k, v in r.items() if k != "extra") for _, r in entries}
        if len(figures) == 1:  # one row, or identical copies: keep the first
            keep.append(entries[0])
            rejected, message = entries[1:], f"duplicate of row {entries[0][0]}"
        else:
            rejected = entries
            message = (
                "conflicting rows for the same unit, period, indicator and dimension "
                f"(rows {', '.join(str(n) for n, _ in entries)})"
            )
        problems += [
            Problem(
                n,
                None,
                None,
                "duplicate_row",
                message,
                unit_code=r["unit_code"],
                period=r["period"],
                indicator_code=r["indicator_code"],
                dimension=r["dimension"] or "",
            )
            for n, r in rejected
        ]
    return keep, problems


@dataclass
class RowCheck:
    """One row being checked: its cells by column and the problems found so far."""

    index: dict[str, int]
    cells: list[Any]
    row_number: int
    problems: list[Problem] = field(default_factory=list)

    def text(self, column: str) -> str:
        return cell_text(self.cells, self.index[column])

    def bad(self, column: str | None, value: Any, code: str, message: str) -> None:
        shown = None if value is None else str(value)
        self.problems.append(Problem(self.row_number, column, shown, code, message))


def check_row(
    ctx: LoadContext, index: dict[str, int], cells: list[Any], row_number: int
) -> tuple[Record, list[Problem]]:
    """A row's record as stored, and its problems (each carrying the row's unit, period,
    indicator and dimension as typed, so that a corrected later row can resolve it)."""
    row = RowCheck(index, cells, row_number)
    unit, indicator = row.text("unit_code"), row.text("indicator_code").lower()
    if not unit:
        row.bad("unit_code", unit, "missing_value", "unit_code is required")
    period = _check_period(ctx, row)
    if unit:
        _check_unit(ctx, row, unit, period)
    spec = ctx.ref.indicators.get(indicator)
    if not indicator:
        row.bad("indicator_code", "", "missing_value", "indicator_code is required")
    elif spec is None:
        row.bad(
            "indicator_code",
            indicator,
            "unknown_indicator",
            f"unknown indicator code '{indicator}'",
        )
    as_of = None
    if row.text("as_of"):
        as_of = parse_date(row.text("as_of"))
        if as_of is None:
            row.bad(
                "as_of",
                row.text("as_of"),
                "bad_type",
                "as_of must be a date (YYYY-MM-DD or DD/MM/YYYY)",
            )
        elif as_of > ctx.today:
            row.bad("as_of", row.text("as_of"), "future_period", "as_of lies in the future")
    numbers = _check_figures(row, spec["unit"] if spec is not None else None)
    record = {
        "unit_code": unit,
        "period": period.code if period else None,
        "as_of": as_of,
        "indicator_code": indicator,
        "dimension": row.text("dimension") or None,
        **{k: (v.value if v else None) for k, v in numbers.items()},
    }
    formulas = formula_problems(index, cells, row_number)
    problems = formulas or row.problems  # a row cannot be judged until Excel has computed it
    for p in problems:
        p.unit_code = unit or None
        p.period = period.code if period else (row.text("period") or None)
        p.indicator_code = indicator or None
        p.dimension = row.text("dimension")
    return record, problems


def _check_period(ctx: LoadContext, row: RowCheck) -> Period | None:
    typed = row.text("period")
    if not typed:
        row.bad("period", "", "missing_value", "period is required")
        return None
    try:
        period = parse_period(typed)
    except ValueError as exc:
        row.bad("period", typed, "bad_period", str(exc))
        return None
    if period.start > ctx.today:
        row.bad("period", typed, "future_period", f"period {period.code} lies in the future")
    return period


def _check_unit(ctx: LoadContext, row: RowCheck, unit: str, period: Period | None) -> None:
    validities = ctx.ref.validities(unit)
    if not validities:
        row.bad("unit_code", unit, "unknown_unit", f"unknown unit code '{unit}'")
    elif period and not any(v.overlaps(period.start, period.end) for v in validities):
        row.bad(
            "unit_code",
            unit,
            "unit_not_valid_in_period",
            f"unit '{unit}' did not exist in {period.code}",
        )


def _read_figures(row: RowCheck) -> dict[str, ParsedNumber | None]:
    numbers: dict[str, ParsedNumber | None] = {}
    for col in FIGURES:
        try:
            numbers[col] = cell_number(row.cells, row.index[col])
        except NumberFormatError as exc:
            numbers[col] = None
            row.bad(col, row.text(col), "bad_number", str(exc))
            continue
        parsed = numbers[col]
        if parsed is not None and parsed.value < 0:
            row.bad(col, row.text(col), "negative", f"{col} must not be negative")
        if parsed is not None and parsed.percent_sign and col not in ("value", "target"):
            row.bad(col, row.text(col), "bad_number", f"{col} is a count: no % sign")
    return numbers


def _check_figures(row: RowCheck, unit: str | None) -> dict[str, ParsedNumber | None]:
    """The row's numbers, and what they must agree on: numerator and denominator both or
    neither, some figure at all, a rate not above 100 nor against its counts, a rank within
    the units ranked."""
    numbers = _read_figures(row)
    num, den, val = numbers["numerator"], numbers["denominator"], numbers["value"]
    is_rate = unit == "rate"
    unreadable = {p.column for p in row.problems if p.code == "bad_number"}
    if (num is None) != (den is None) and not unreadable & {"numerator", "denominator"}:
        row.bad(
            "numerator" if num is None else "denominator",
            None,
            "counts_incomplete",
            "give both numerator and denominator, or neither",
        )
    if num is None and den is None and val is None and not unreadable:
        row.bad("value", None, "no_figures", "the row needs numerator and denominator, or value")
    shown = row.text
    if is_rate and num and den and num.value > den.value:
        row.bad(
            "numerator",
            shown("numerator"),
            "numerator_above_denominator",
            f"numerator {num.value:g} is above denominator {den.value:g}",
        )
    if unit in ("rate", "points") and val and val.value > 100:
        row.bad("value", shown("value"), "rate_above_100", f"value {val.value:g} is above 100")
    if is_rate and num and den and val and den.value > 0:
        computed = 100 * num.value / den.value
        # "beyond rounding": one unit of the last decimal typed (30,54 for 30,535 passes)
        tolerance = 10 ** (-val.decimals) + 1e-9
        if abs(computed - val.value) > tolerance:
            row.bad(
                "value",
                shown("value"),
                "value_conflict",
                f"value {val.value:g} disagrees with {num.value:g} / {den.value:g} = {computed:.4f}%",
            )
    rank, ranked_of = numbers["rank"], numbers["ranked_of"]
    if rank and ranked_of and rank.value > ranked_of.value:
        row.bad(
            "rank",
            shown("rank"),
            "rank_above_ranked_of",
            "rank is above the number of units ranked",
        )
    return numbers
