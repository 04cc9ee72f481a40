"""The Project 06 task register (nhiệm vụ Đề án 06): small files typed by people (CSV, XLSX),
checked in Python. Its contract is ``de06.contracts.TASKS``."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

from de06.contracts import TASKS
from de06.ingest.cells import cell_text, formula_problems, parse_date, parse_timestamp
from de06.ingest.context import LoadContext
from de06.ingest.files import read_feed_rows
from de06.ingest.verdicts import FileReport, Problem

FEED = TASKS

# a version loses to one with a later updated_at, then a later load and row
SUPERSEDED_SQL = """
select count(*) from raw.tasks t
where t._load_id = $load_id and exists (
    select 1 from raw.tasks o
    where o.unit_code = t.unit_code and o.year = t.year and o.task_id = t.task_id
      and (o.updated_at > t.updated_at
           or (o.updated_at = t.updated_at
               and (o._load_id, o._row_number) > (t._load_id, t._row_number))))
"""


def load(ctx: LoadContext, path: Path, load_id: int, report: FileReport) -> list[Problem]:
    index, rows = read_feed_rows(path, FEED.name, report)
    problems: list[Problem] = []
    good = []
    for n, cells in rows:
        record, row_problems = check_row(ctx, index, cells, n)
        if row_problems:
            problems.extend(row_problems)
            continue
        extra = {c: cell_text(cells, index[c]) for c in report.extra_columns}
        good.append(
            (
                *(record[c] for c in FEED.column_names),
                json.dumps(extra, ensure_ascii=False) if extra else None,
                load_id,
                n,
            )
        )
    if good:
        ctx.con.executemany(
            f"insert into raw.{FEED.name} values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", good
        )
    row = ctx.con.execute(SUPERSEDED_SQL, {"load_id": load_id}).fetchone()
    report.superseded = int(row[0]) if row else 0
    report.accepted = len(good) - report.superseded
    report.reasons.update(Counter(p.code for p in problems))
    return problems


def check_row(
    ctx: LoadContext, index: dict[str, int], cells: list[Any], n: int
) -> tuple[dict[str, Any], list[Problem]]:
    """A row's record as stored, and its problems."""
    t = {c: cell_text(cells, index[c]) for c in FEED.column_names}
    problems = formula_problems(index, cells, n)
    for col in FEED.required:
        if not t[col]:
            problems.append(Problem(n, col, "", "missing_value", f"{col} is required"))
    if t["unit_code"] and not ctx.ref.validities(t["unit_code"]):
        code = t["unit_code"]
        problems.append(
            Problem(n, "unit_code", code, "unknown_unit", f"unknown unit code '{code}'")
        )
    for col, allowed in FEED.enums.items():  # as typed: the register's states are codes
        if t[col] and t[col] not in allowed:
            message = f"{col} must be one of: {', '.join(allowed)}"
            problems.append(Problem(n, col, t[col], "bad_value", message))
    # ASCII digits only: str.isdigit() also takes "2024²", which int() refuses
    year = int(t["year"]) if re.fullmatch(r"[0-9]{1,4}", t["year"]) else None
    if t["year"] and year is None:
        problems.append(Problem(n, "year", t["year"], "bad_type", "year must be a whole number"))
    deadline = parse_date(t["deadline"]) if t["deadline"] else None
    if t["deadline"] and deadline is None:
        problems.append(
            Problem(n, "deadline", t["deadline"], "bad_type", "deadline must be a date")
        )
    updated = parse_timestamp(t["updated_at"]) if t["updated_at"] else None
    if t["updated_at"] and updated is None:
        message = "updated_at must be a timestamp"
        problems.append(Problem(n, "updated_at", t["updated_at"], "bad_type", message))
    record = {
        **t,
        "year": year,
        "origin": t["origin"] or None,
        "deadline": deadline,
        "updated_at": updated,
    }
    return record, problems
