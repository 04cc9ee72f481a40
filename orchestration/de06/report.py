"""The working group's monthly report (báo cáo): ``de06 report --unit CODE --period PERIOD``.

Read from the published database only (read-only, like any analyst), written as an XLSX
workbook and a printable HTML page, in Vietnamese:

1. headline figures: each headline indicator of the unit and period with its target,
   attainment, change against the previous period and the same period a year earlier, rank,
   numerator and denominator;
2. the Project 06 tasks of the plan year: done, in progress, not started, overdue;
3. units that did not report (or reported late, or had every row rejected) for the period,
   among the unit and the units under it;
4. the Decision 766 index of the unit and period, when the mart has it.

Numbers are written to the workbook as numbers (rates as fractions with a percent format), so
they can be summed and charted; text from the data is always written as text, and text that a
spreadsheet could take for a formula (``=``, ``+``, ``-``, ``@``, tab, carriage return first)
is prefixed with an apostrophe (OWASP's advice against formula injection).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from de06.periods import Period, parse_period
from de06.reading import publish_info, published, rows

ATTAINMENT_VI = {
    "exceeded": "Vượt chỉ tiêu",
    "met": "Đạt",
    "not_met": "Chưa đạt",
    "no_target": "Chưa giao chỉ tiêu",
}
STATUS_VI = {
    "missing": "Chưa gửi báo cáo",
    "rejected": "Đã gửi, bị loại toàn bộ (dữ liệu lỗi)",
    "late": "Gửi muộn",
}
LEVEL_VI = {
    "nation": "Toàn quốc",
    "province": "Tỉnh/thành phố",
    "agency": "Sở, ban, ngành",
    "district": "Huyện",
    "commune": "Xã/phường",
}
SOURCE_VI = {"computed": "Tính từ hồ sơ", "reported": "Đơn vị báo cáo", "derived": "Tổng hợp"}
_FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


class ReportError(ValueError):
    """The report cannot be made: unknown unit or period, or no published database."""


@dataclass(frozen=True)
class Unit:
    key: str
    code: str
    name: str
    level: str
    is_current: bool

    @property
    def facts(self) -> str:
        """Today's units read their history re-based (so a province formed on 1 July 2025 has
        a change against a year earlier); a unit that no longer exists, as it was."""
        return (
            "marts.fct_indicator_values_current_units"
            if self.is_current
            else "marts.fct_indicator_values"
        )


@dataclass
class ReportData:
    unit: Unit
    period: Period
    run_id: str
    published_at: dt.datetime
    headline: list[dict[str, Any]] = field(default_factory=list)
    tasks: dict[str, Any] | None = None
    not_reported: list[dict[str, Any]] = field(default_factory=list)
    index_766: dict[str, Any] | None = None
    index_766_components: list[dict[str, Any]] = field(default_factory=list)


def safe_text(value: object) -> str:
    """Text for a spreadsheet cell: never read as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_TRIGGERS) else text


def _resolve_unit(con: duckdb.DuckDBPyConnection, code: str, period: Period) -> Unit:
    """The unit with that code in the period: the one with figures for it, else the one valid
    at its end (codes were reused on 1 July 2025: 75 names two provinces in 2025)."""
    found = con.execute(
        """
        select u.unit_key, u.unit_code, u.unit_name, u.unit_level, u.valid_to is null
        from marts.dim_unit as u
        where u.unit_code = ? and u.valid_from <= ? and coalesce(u.valid_to, ?) >= ?
        order by
            exists (
                select 1 from marts.fct_indicator_values as f
                where f.unit_key = u.unit_key and f.period = ? and f.is_headline
            ) desc,
            u.valid_from desc
        limit 1
        """,
        [code, period.end, period.end, period.start, period.code],
    ).fetchone()
    if found is None:
        raise ReportError(f"no unit with code '{code}' existed in {period.code} (see dim_unit)")
    return Unit(*found)


def load(con: duckdb.DuckDBPyConnection, unit_code: str, period_code: str) -> ReportData:
    """Everything the report shows, from the published marts."""
    try:
        period = parse_period(period_code)
    except ValueError as exc:
        raise ReportError(str(exc)) from exc
    unit = _resolve_unit(con, unit_code.strip(), period)
    publish = publish_info(con)
    data = ReportData(unit, period, publish.run_id, publish.published_at)
    data.headline = rows(
        con,
        f"""
        select f.indicator_code, i.name_vi, i.unit, i.direction, f.source, f.value, f.numerator,
            f.denominator, f.target, f.attainment, f.change_vs_previous_period,
            f.change_vs_previous_year, f.rank, f.ranked_of
        from {unit.facts} as f
        inner join marts.dim_indicator as i on f.indicator_code = i.indicator_code
        where f.unit_key = ? and f.period = ? and f.is_headline and f.dimension = ''
        order by
            case i.source when 'dossiers' then 1 when 'submissions' then 2 when 'tasks' then 3
                else 4 end,
            f.indicator_code
        """,
        [unit.key, period.code],
    )
    tasks = rows(
        con,
        """
        select plan_year, as_of, tasks_done, tasks_in_progress, tasks_not_started, tasks_total,
            completion_rate, tasks_overdue
        from marts.fct_task_progress
        where unit_key = ? and plan_year = ?
        """,
        [unit.key, period.start.year],
    )
    data.tasks = tasks[0] if tasks else None
    # the unit itself and the units under it: a province's departments, districts and
    # communes; every unit for the nation
    data.not_reported = rows(
        con,
        """
        select s.unit_code, u.unit_name, s.unit_level, s.period, s.report_code, s.due_date,
            s.status, s.days_late, s.rows_quarantined
        from marts.fct_submission_status as s
        inner join marts.dim_unit as u on s.unit_key = u.unit_key
        where s.status in ('missing', 'rejected', 'late')
            and s.period_start >= ? and s.period_end <= ?
            and (? = 'nation' or s.unit_key = ? or u.province_unit_key = ?)
        order by
            case s.status when 'missing' then 1 when 'rejected' then 2 else 3 end,
            s.unit_level, s.unit_code, s.period, s.report_code
        """,
        [period.start, period.end, unit.level, unit.key, unit.key],
    )
    _load_index_766(con, data)
    return data


# --- XLSX -------------------------------------------------------------------------------------

_HEADLINE_COLUMNS = (
    ("Chỉ tiêu", 46),
    ("Kết quả", 12),
    ("Chỉ tiêu giao", 12),
    ("Đánh giá", 18),
    ("So với kỳ trước", 16),
    ("So với cùng kỳ", 16),
    ("Xếp hạng", 10),
    ("Trên số đơn vị", 12),
    ("Tử số", 12),
    ("Mẫu số", 12),
    ("Nguồn", 16),
    ("Mã chỉ tiêu", 26),
)
_NUMBER_FORMATS = {"rate": "0.00%", "count": "#,##0", "points": "0.00"}
_CHANGE_FORMATS = {"rate": '+0.00" đ%";-0.00" đ%";0.00', "count": "+#,##0;-#,##0;0"}


def make_report(published_db: Path, unit_code: str, period_code: str, out_dir: Path) -> list[Path]:
    """Write the XLSX and the HTML report; returns their paths."""
    if not published_db.exists():
        raise ReportError(f"no published database at {published_db}: run `de06 refresh` first")
    with published(published_db) as con:
        data = load(con, unit_code, period_code)
    from de06.report_html import write_html
    from de06.report_xlsx import write_xlsx

    stem = f"bao_cao_de06_{data.unit.code}_{data.period.code}"
    return [
        write_xlsx(data, out_dir / f"{stem}.xlsx"),
        write_html(data, out_dir / f"{stem}.html"),
    ]


def _load_index_766(con: duckdb.DuckDBPyConnection, data: ReportData) -> None:
    """The unit's 766 index: recomputed, on the portal's scale, and per component."""
    index = rows(
        con,
        """
        select distinct f.index_score, f.band_name_vi, f.total_points, f.computed_max_points,
            f.rank, f.ranked_of, f.published_score, f.published_rank, f.published_ranked_of,
            f.scale_total, f.scale_missing_components, f.rank_shown, f.rank_shown_of,
            f.points_to_next_rank, f.published_total as portal_total
        from marts.fct_index_766 as f
        where f.unit_key = ? and f.period = ?
        """,
        [data.unit.key, data.period.code],
    )
    data.index_766 = index[0] if index else None
    # on the portal's scale: each component recomputed and published, and why they differ
    data.index_766_components = rows(
        con,
        """
        select group_code, component_name_vi, points, published_points, points_difference,
            scale_points, scale_points_source, difference_reason_vi, max_points
        from marts.fct_index_766
        where unit_key = ? and period = ? and (published_points is not null or is_computed)
        order by group_code, component_code
        """,
        [data.unit.key, data.period.code],
    )
