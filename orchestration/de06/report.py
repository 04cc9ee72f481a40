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
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from de06.formatting import period_label
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
    index = rows(
        con,
        """
        select distinct index_score, band_name_vi, total_points, computed_max_points, rank,
            ranked_of, published_score, published_rank, published_ranked_of
        from marts.fct_index_766
        where unit_key = ? and period = ?
        """,
        [unit.key, period.code],
    )
    data.index_766 = index[0] if index else None
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


def write_xlsx(data: ReportData, path: Path) -> Path:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    bold = Font(bold=True)
    header_fill = PatternFill("solid", fgColor="DDE6F0")
    status_fill = {
        "exceeded": PatternFill("solid", fgColor="C6EFCE"),
        "met": PatternFill("solid", fgColor="E2F0D9"),
        "not_met": PatternFill("solid", fgColor="FFC7CE"),
    }
    wb = Workbook()
    ws = wb.active
    ws.title = "Chỉ tiêu"

    def text(cell: Any, value: object) -> None:
        cell.value = safe_text(value)
        cell.data_type = "s"

    def title(sheet: Any, heading: str) -> None:
        text(sheet["A1"], heading)
        sheet["A1"].font = Font(bold=True, size=14)
        text(sheet["A2"], f"{data.unit.name} ({data.unit.code}) — {period_label(data.period)}")
        text(
            sheet["A3"],
            f"Số liệu đến lần cập nhật {data.run_id}, công bố {data.published_at:%d/%m/%Y %H:%M} "
            "(UTC)",
        )

    def header(sheet: Any, row: int, columns: Sequence[tuple[str, int]]) -> None:
        for i, (name, width) in enumerate(columns, start=1):
            cell = sheet.cell(row=row, column=i)
            text(cell, name)
            cell.font, cell.fill = bold, header_fill
            cell.alignment = Alignment(wrap_text=True, vertical="center")
            sheet.column_dimensions[get_column_letter(i)].width = width
        sheet.freeze_panes = sheet.cell(row=row + 1, column=1)

    title(ws, "BÁO CÁO KẾT QUẢ THỰC HIỆN ĐỀ ÁN 06")
    header(ws, 5, _HEADLINE_COLUMNS)
    for r, item in enumerate(data.headline, start=6):
        unit = item["unit"]
        number_format = _NUMBER_FORMATS.get(unit, "0.00")
        change_format = _CHANGE_FORMATS.get(unit, "+0.00;-0.00;0.00")
        values: list[tuple[object, str | None]] = [
            (item["value"], number_format),
            (item["target"], number_format),
        ]
        text(ws.cell(row=r, column=1), item["name_vi"])
        for c, (value, fmt) in enumerate(values, start=2):
            cell = ws.cell(row=r, column=c, value=value)
            cell.number_format = fmt or "General"
        attainment = ws.cell(row=r, column=4)
        text(attainment, ATTAINMENT_VI.get(item["attainment"] or "", "—"))
        if item["attainment"] in status_fill:
            attainment.fill = status_fill[item["attainment"]]
        for c, key in ((5, "change_vs_previous_period"), (6, "change_vs_previous_year")):
            cell = ws.cell(row=r, column=c, value=item[key])
            cell.number_format = change_format
        ws.cell(row=r, column=7, value=item["rank"])
        ws.cell(row=r, column=8, value=item["ranked_of"])
        for c, key in ((9, "numerator"), (10, "denominator")):
            cell = ws.cell(row=r, column=c, value=item[key])
            cell.number_format = "#,##0.##"
        text(ws.cell(row=r, column=11), SOURCE_VI.get(item["source"], item["source"]))
        text(ws.cell(row=r, column=12), item["indicator_code"])
    note = 7 + len(data.headline)
    text(
        ws.cell(row=note, column=1),
        "Tỷ lệ lưu dưới dạng số (định dạng %); thay đổi của tỷ lệ tính bằng điểm phần trăm.",
    )

    ws_tasks = wb.create_sheet("Nhiệm vụ")
    title(ws_tasks, f"NHIỆM VỤ ĐỀ ÁN 06 NĂM {data.period.start.year}")
    task_rows = (
        ("Đã hoàn thành", "tasks_done"),
        ("Đang thực hiện", "tasks_in_progress"),
        ("Chưa thực hiện", "tasks_not_started"),
        ("Tổng số nhiệm vụ", "tasks_total"),
        ("Quá hạn", "tasks_overdue"),
        ("Tỷ lệ hoàn thành", "completion_rate"),
    )
    header(ws_tasks, 5, (("Nội dung", 30), ("Số lượng", 14)))
    for r, (label, key) in enumerate(task_rows, start=6):
        text(ws_tasks.cell(row=r, column=1), label)
        value = data.tasks[key] if data.tasks else None
        cell = ws_tasks.cell(row=r, column=2, value=value)
        cell.number_format = "0.00%" if key == "completion_rate" else "#,##0"
    if data.tasks is None:
        text(ws_tasks.cell(row=13, column=1), "Không có nhiệm vụ được giao cho đơn vị trong năm.")
    elif data.tasks["as_of"] is not None:
        text(
            ws_tasks.cell(row=13, column=1), f"Theo sổ nhiệm vụ đến {data.tasks['as_of']:%d/%m/%Y}."
        )

    ws_missing = wb.create_sheet("Chưa báo cáo")
    title(ws_missing, "ĐƠN VỊ CHƯA BÁO CÁO, BÁO CÁO MUỘN HOẶC BỊ LOẠI")
    header(
        ws_missing,
        5,
        (
            ("Mã đơn vị", 12),
            ("Tên đơn vị", 36),
            ("Cấp", 16),
            ("Kỳ", 10),
            ("Báo cáo", 22),
            ("Hạn nộp", 12),
            ("Tình trạng", 34),
            ("Số ngày muộn", 12),
            ("Dòng bị loại", 12),
        ),
    )
    for r, item in enumerate(data.not_reported, start=6):
        text(ws_missing.cell(row=r, column=1), item["unit_code"])
        text(ws_missing.cell(row=r, column=2), item["unit_name"])
        text(ws_missing.cell(row=r, column=3), LEVEL_VI.get(item["unit_level"], item["unit_level"]))
        text(ws_missing.cell(row=r, column=4), item["period"])
        text(ws_missing.cell(row=r, column=5), item["report_code"])
        due = ws_missing.cell(row=r, column=6, value=item["due_date"])
        due.number_format = "dd/mm/yyyy"
        text(ws_missing.cell(row=r, column=7), STATUS_VI.get(item["status"], item["status"]))
        ws_missing.cell(row=r, column=8, value=item["days_late"])
        ws_missing.cell(row=r, column=9, value=item["rows_quarantined"])
    if not data.not_reported:
        text(ws_missing.cell(row=6, column=1), "Tất cả đơn vị đã báo cáo đúng hạn.")

    if data.index_766 is not None:
        ws_index = wb.create_sheet("Chỉ số 766")
        title(ws_index, "BỘ CHỈ SỐ 766 (TÍNH LẠI TỪ SỐ LIỆU)")
        header(ws_index, 5, (("Nội dung", 36), ("Giá trị", 14)))
        index_rows = (
            ("Điểm chỉ số (trên điểm tính được)", "index_score", "0.00"),
            ("Tổng điểm", "total_points", "0.00"),
            ("Điểm tối đa tính được", "computed_max_points", "0.00"),
            ("Xếp hạng", "rank", "0"),
            ("Trên số đơn vị", "ranked_of", "0"),
            ("Điểm công bố", "published_score", "0.00"),
            ("Hạng công bố", "published_rank", "0"),
        )
        for r, (label, key, fmt) in enumerate(index_rows, start=6):
            text(ws_index.cell(row=r, column=1), label)
            cell = ws_index.cell(row=r, column=2, value=data.index_766[key])
            cell.number_format = fmt
        text(ws_index.cell(row=13, column=1), "Xếp loại")
        text(ws_index.cell(row=13, column=2), data.index_766["band_name_vi"])

    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


# --- printable HTML ---------------------------------------------------------------------------


def make_report(published_db: Path, unit_code: str, period_code: str, out_dir: Path) -> list[Path]:
    """Write the XLSX and the HTML report; returns their paths."""
    if not published_db.exists():
        raise ReportError(f"no published database at {published_db}: run `de06 refresh` first")
    with published(published_db) as con:
        data = load(con, unit_code, period_code)
    from de06.report_html import write_html

    stem = f"bao_cao_de06_{data.unit.code}_{data.period.code}"
    return [
        write_xlsx(data, out_dir / f"{stem}.xlsx"),
        write_html(data, out_dir / f"{stem}.html"),
    ]
