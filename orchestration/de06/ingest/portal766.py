"""The national portal's evaluation export of the 766 index (spec/index766.md §2): one JSON
file per evaluation page and period, as the portal answered, named
``portal766__<page>__<period>[__<captured YYYY-MM-DD>].json``. Its contract is
``de06.contracts.PORTAL766``.

Each unit of the page (the province as overview or parent, its departments and communes as
evaluation or children) becomes one raw row per metric, plus one for the unit's points on
the page (``metric_code`` = the page's group code); a tree page's unit is one row, its group's
component. Units are matched to the warehouse's by name (``de06.portal_units``); a unit that
matches none, or whose numbers are not numbers, is quarantined with its name and the rest of
the file loads. ``null`` stays null ("no data"), never 0.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections import Counter
from pathlib import Path
from typing import Any

from de06.contracts import PORTAL766, PORTAL766_PAGES
from de06.ingest.context import LoadContext
from de06.ingest.files import decode
from de06.ingest.verdicts import FileReport, IngestError, Problem
from de06.periods import Period, parse_period
from de06.portal_units import UnitNames, unit_names

FEED = PORTAL766
# a tree page: its unit's row is this component, of these counts (numerator, denominator;
# payment: its term A)
TREE_PAGES = {
    "dvc-progress-tree": ("PROGRESS_ON_TIME", "total_on_time", "total_received"),
    "provide-online-tree": ("ONLINE_SERVICE", None, None),
    "formality-online-payment-tree": (
        "ONLINE_PAYMENT",
        "dossiers_paid_online",
        "dossiers_with_obligation",
    ),
}
# a tree page's counts: the raw column <- the portal's field
TREE_COUNTS = {
    "total_received": "totalReceived",
    "total_on_time": "totalOnTime",
    "total_overdue": "totalOverdue",
    "total_completed": "totalCompleted",
    "avg_processing_days": "avgProcessingDays",
    "dossiers_paid_online": "totalDossierOnlinePaymentSuccess",
    "dossiers_with_obligation": "totalDossierFinancialObligation",
    "fee_procedures_paying_online": "totalDossierOnlineFormalityPaymentSuccess",
    "fee_procedures_fee_synced": "totalFeeDossierFormality",
    "fee_procedures": "totalFeeFormality",
    "fee_procedures_distinct": "totalFeeDossierFormalityDistinct",
    "channel_online": "channelOnlineSum",
    "channel_direct": "channelDirectSum",
    "channel_postal": "channelPostalSum",
    "channel_total": "channelTotalSum",
}
METRIC_NUMBERS = {
    "numerator": "numerator",
    "denominator": "denominator",
    "ratio": "ratio",
    "score": "score",
    "max_score": "maxScore",
}
# the raw table ends with the tree pages' counts, in this order
assert FEED.column_names[-len(TREE_COUNTS) :] == tuple(TREE_COUNTS)
NAMES = re.compile(FEED.name_pattern or "", re.IGNORECASE)


def parse_name(path: Path, today: dt.date) -> tuple[str, Period, dt.date]:
    """The page, period and capture date a file's name gives (no capture date: the day the
    file was last written)."""
    match = NAMES.fullmatch(path.name)
    if match is None:
        raise IngestError(
            "bad_file_name", f"the file must be named {FEED.name_pattern_words}, e.g. "
            "portal766__dvc-progress-tree__2025-09__2025-10-05.json",
        )  # fmt: skip
    page = match["page"].lower()
    if page not in PORTAL766_PAGES:
        raise IngestError(
            "bad_file_name", f"unknown page '{page}' (one of: {', '.join(PORTAL766_PAGES)})"
        )
    try:
        period = parse_period(match["period"])
    except ValueError as exc:
        raise IngestError("bad_file_name", f"the name's period: {exc}") from exc
    if period.grain == "half_year":
        raise IngestError("bad_file_name", "the portal publishes months, quarters and years")
    if period.start > today:
        raise IngestError("future_period", f"the period {period.code} has not begun")
    if match["captured"] is None:
        captured = dt.datetime.fromtimestamp(path.stat().st_mtime).date()
    else:
        try:
            captured = dt.date.fromisoformat(match["captured"])
        except ValueError as exc:
            message = f"the capture date '{match['captured']}' is not a date (YYYY-MM-DD)"
            raise IngestError("bad_file_name", message) from exc
    if captured > today or captured < period.start:
        raise IngestError(
            "bad_file_name",
            f"captured on {captured}: not between the period's start ({period.start}) and today",
        )
    return page, period, captured


def read_answer(path: Path, page: str) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """The page's province (overview or parent) and units (evaluation or children)."""
    try:
        answer = json.loads(decode(path.read_bytes()))
    except json.JSONDecodeError as exc:
        raise IngestError(
            "unreadable_file",
            f"not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
            "a file cut short (a broken download) reads like this",
        ) from exc
    if not isinstance(answer, dict) or not isinstance(answer.get("data"), dict):
        raise IngestError(
            "unreadable_file", 'not the portal\'s answer ({"code": "OK", "data": {...}})'
        )
    code = answer.get("code")
    if code is not None and str(code).upper() != "OK":
        message = str(answer.get("message") or "")[:200]
        raise IngestError("portal_error", f"the portal answered {code!r}: {message}")
    data = answer["data"]
    parent_key, children_key = ("parent", "children") if page in TREE_PAGES else (
        "overview", "evaluation")  # fmt: skip
    parent = data.get(parent_key)
    children = data.get(children_key) or []
    if not isinstance(children, list) or (parent is not None and not isinstance(parent, dict)):
        raise IngestError("unreadable_file", f"data.{children_key} must be a list of units")
    if parent is None and not children:
        raise IngestError("empty_file", f"the answer holds no units (data.{parent_key})")
    return parent, children


class NotANumber(ValueError):
    def __init__(self, field: str, value: Any) -> None:
        super().__init__(field, value)
        self.field = field
        self.value = str(value)[:100]


def number(value: Any, field: str = "") -> float | None:
    """A published number; ``NotANumber`` for what is not one (text, true/false, NaN)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise NotANumber(field, value)
    try:
        result = float(value.strip()) if isinstance(value, str) else float(value)
    except ValueError:
        raise NotANumber(field, value) from None
    if not math.isfinite(result):
        raise NotANumber(field, value)
    return result


def text(value: Any) -> str | None:
    return None if value is None else str(value).strip()


def load(ctx: LoadContext, path: Path, load_id: int, report: FileReport) -> list[Problem]:
    page, period, captured = parse_name(path, ctx.today)
    parent, children = read_answer(path, page)
    units = ([(1, parent, True)] if parent is not None else []) + [
        (n, child, False) for n, child in enumerate(children, start=2)
    ]
    report.rows_read = len(units)
    names = unit_names(ctx.seeds_dir)
    province_name = text(parent.get("departmentName")) if parent else None
    province = names.province(province_name or "", period.end) if province_name else None
    if province is None:
        raise IngestError(
            "unmatched_unit",
            f"the page's province '{province_name or '(none given)'}' matches no province of "
            "the warehouse (add it to seeds/index_766/index_766_unit_overrides.csv)",
        )
    problems: list[Problem] = []
    good: list[tuple[Any, ...]] = []
    seen: set[str] = set()
    seen_units: dict[str, str] = {}
    for n, unit, is_parent in units:
        rows, unit_problems = unit_rows(names, province, page, period, unit, is_parent, n)
        if rows:  # a unit once: by the portal's id, and by the warehouse's unit
            unit_code, _, department_id, _, name = rows[0][:5]
            if unit_code in seen_units:
                message = (
                    f"'{name}' names unit {unit_code}, as '{seen_units[unit_code]}' does already "
                    "(settle it in seeds/index_766/index_766_unit_overrides.csv)"
                )
                unit_problems = [Problem(n, "departmentName", name, "duplicate_row", message)]
            elif department_id in seen:
                message = f"unit {department_id} appears twice in the file"
                unit_problems = [
                    Problem(n, "departmentId", department_id, "duplicate_row", message)
                ]
        if unit_problems:
            problems += unit_problems
            continue
        seen.add(department_id)
        seen_units[unit_code] = name
        common = (page, period.code, captured)
        good += [(*common, *row, None, load_id, n) for row in rows]
    if good:
        insert_rows(ctx, good)
    # a later capture of the page, period and province already loaded: this one is superseded
    later = ctx.con.execute(
        f"select count(*) from raw.{FEED.name} where page = ? and period = ? and is_parent"
        " and unit_code = ? and captured_on > ?",
        [page, period.code, province, captured],
    ).fetchone()
    accepted = len(units) - len({p.row_number for p in problems})
    report.superseded = accepted if later and later[0] else 0
    report.accepted = accepted - report.superseded
    report.reasons.update(Counter(p.code for p in problems))
    return problems


UNIT_NUMBERS = {
    "unit_total_score": "totalScore",
    "unit_total_max_score": "totalMaxScore",
    "unit_ratio": "ratio",
    "score": "score",
    "max_score": "maxScore",
    **TREE_COUNTS,
}


class Refused(Exception):
    """A unit of the page that cannot be loaded: its problem."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


def insert_rows(ctx: LoadContext, good: list[tuple[Any, ...]]) -> None:
    """The file's rows into the raw table in one statement (an Arrow table: executemany
    inserts row by row, ten times slower on a province's few hundred rows)."""
    import pyarrow as pa

    names = [*FEED.column_names, "extra_columns", "_load_id", "_row_number"]
    columns = list(zip(*good, strict=True))
    table = pa.table({name: list(values) for name, values in zip(names, columns, strict=True)})
    ctx.con.register("portal766_rows", table)
    try:
        ctx.con.execute(f"insert into raw.{FEED.name} by name select * from portal766_rows")
    finally:
        ctx.con.unregister("portal766_rows")


def unit_rows(
    names: UnitNames,
    province: str,
    page: str,
    period: Period,
    unit: Any,
    is_parent: bool,
    n: int,
) -> tuple[list[tuple[Any, ...]], list[Problem]]:
    """One unit's raw rows (after page, period and capture date; before the bookkeeping), or
    its problem."""
    try:
        name, department_id = identify(unit, n)
        unit_code = province if is_parent else matched(names, province, name, period, n)
        numbers, metrics = unit_numbers(unit, page, name, n)
    except Refused as refused:
        return [], [refused.problem]
    unit_columns = (
        unit_code,
        is_parent,
        department_id,
        text(unit.get("departmentCode")),
        name,
        text(unit.get("departmentType")),
        text(unit.get("departmentLevel") or unit.get("level")),
        numbers["unit_total_score"],
        numbers["unit_total_max_score"],
        numbers["unit_ratio"],
    )
    counts = tuple(numbers[c] for c in TREE_COUNTS)
    if page in TREE_PAGES:  # one row: the unit's component, which is the page's group
        component, num_column, den_column = TREE_PAGES[page]
        score = numbers["score"] if numbers["score"] is not None else numbers["unit_total_score"]
        top = numbers["max_score"]
        top = top if top is not None else numbers["unit_total_max_score"]
        metric: tuple[Any, ...] = (
            component, None,
            numbers[num_column] if num_column else None,
            numbers[den_column] if den_column else None,
            numbers["unit_ratio"], score, top, None, None,
        )  # fmt: skip
        return [(*unit_columns, *metric, *counts)], []
    # a metric page: the unit's points on the page (its group), then each metric
    group = (PORTAL766_PAGES[page], None, None, None, numbers["unit_ratio"],
             numbers["unit_total_score"], numbers["unit_total_max_score"], None, None)  # fmt: skip
    rows = [(*unit_columns, *group, *counts)]
    for raw, published in metrics:
        metric_row = (
            text(raw.get("code")),
            text(raw.get("name")),
            *(published[k] for k in METRIC_NUMBERS),
            text(raw.get("dataQualityStatus")),
            text(raw.get("dataQualityMessage")),
        )
        rows.append((*unit_columns, *metric_row, *counts))
    return rows, []


def identify(unit: Any, n: int) -> tuple[str, str]:
    """A unit's name and portal id, both required."""
    if not isinstance(unit, dict):
        raise Refused(Problem(n, None, None, "missing_value", "a unit must be a JSON object"))
    name = text(unit.get("departmentName"))
    department_id = text(unit.get("departmentId"))
    for field, value in (("departmentId", department_id), ("departmentName", name)):
        if not value:
            raise Refused(Problem(n, field, None, "missing_value", f"{field} is required"))
    assert name and department_id
    return name, department_id


def matched(names: UnitNames, province: str, name: str, period: Period, n: int) -> str:
    """The warehouse unit a child of the page names."""
    match = names.unit(province, name, period.end)
    if match is None:
        message = (
            f"'{name}' matches no unit of province {province} (or more than one): add it to "
            "seeds/index_766/index_766_unit_overrides.csv"
        )
        raise Refused(Problem(n, "departmentName", name, "unmatched_unit", message))
    return match.code


def unit_numbers(
    unit: dict[str, Any], page: str, name: str, n: int
) -> tuple[dict[str, float | None], list[tuple[dict[str, Any], dict[str, float | None]]]]:
    """A unit's published numbers and its metrics' (each metric as sent, and its numbers);
    refused when one is not a number or is negative."""
    metrics = unit.get("metrics") if page not in TREE_PAGES else None
    if metrics is not None and not (
        isinstance(metrics, list) and all(isinstance(m, dict) for m in metrics)
    ):
        raise Refused(
            Problem(n, "metrics", None, "bad_number", "metrics must be a list of objects")
        )
    try:
        numbers = {column: number(unit.get(field), field) for column, field in UNIT_NUMBERS.items()}
        parsed = [
            (m, {k: number(m.get(f), f"{m.get('code')}.{f}") for k, f in METRIC_NUMBERS.items()})
            for m in (metrics or [])
        ]
    except NotANumber as exc:
        message = f"{exc.field} of '{name}' is not a number: '{exc.value}'"
        raise Refused(Problem(n, exc.field, exc.value, "bad_number", message)) from None
    if any(not text(m.get("code")) for m, _ in parsed):
        raise Refused(
            Problem(n, "metrics", None, "missing_value", f"a metric of '{name}' has no code")
        )
    negative = [field for column, field in UNIT_NUMBERS.items() if (numbers[column] or 0) < 0]
    negative += [
        f"{m.get('code')}.{METRIC_NUMBERS[k]}" for m, v in parsed for k in v if (v[k] or 0) < 0
    ]
    if negative:
        raise Refused(
            Problem(n, negative[0], None, "negative", f"{negative[0]} of '{name}' is negative")
        )
    return numbers, parsed
