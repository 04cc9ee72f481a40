"""The report as an XLSX workbook (``de06 report``; the data is read by ``de06.report``).

Numbers are written as numbers (rates as fractions with a percent format); text from the data
always as text, prefixed with an apostrophe where a spreadsheet could take it for a formula.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from de06.formatting import period_label
from de06.report import (
    _CHANGE_FORMATS,
    _HEADLINE_COLUMNS,
    _NUMBER_FORMATS,
    ATTAINMENT_VI,
    LEVEL_VI,
    SOURCE_VI,
    STATUS_VI,
    ReportData,
    safe_text,
)

STATUS_FILLS = {"exceeded": "C6EFCE", "met": "E2F0D9", "not_met": "FFC7CE"}


class Book:
    """The workbook being written, with the report's title block and header row."""

    def __init__(self, data: ReportData) -> None:
        from openpyxl import Workbook

        self.data = data
        self.wb = Workbook()
        self.sheets = 0

    def sheet(self, name: str, heading: str) -> Any:
        """A new sheet (the first one, the workbook's own), with the report's title block."""
        from openpyxl.styles import Font

        sheet = self.wb.active if self.sheets == 0 else self.wb.create_sheet(name)
        sheet.title = name
        self.sheets += 1
        data = self.data
        self.text(sheet["A1"], heading)
        sheet["A1"].font = Font(bold=True, size=14)
        self.text(sheet["A2"], f"{data.unit.name} ({data.unit.code}) — {period_label(data.period)}")
        self.text(
            sheet["A3"],
            f"Số liệu đến lần cập nhật {data.run_id}, công bố {data.published_at:%d/%m/%Y %H:%M} "
            "(UTC)",
        )
        return sheet

    @staticmethod
    def text(cell: Any, value: object) -> None:
        """Text from the data, always as text (never a formula: ``safe_text``)."""
        cell.value = safe_text(value)
        cell.data_type = "s"

    def header(self, sheet: Any, row: int, columns: Sequence[tuple[str, int]]) -> None:
        from openpyxl.styles import Alignment, Font, PatternFill
        from openpyxl.utils import get_column_letter

        for i, (name, width) in enumerate(columns, start=1):
            cell = sheet.cell(row=row, column=i)
            self.text(cell, name)
            cell.font, cell.fill = Font(bold=True), PatternFill("solid", fgColor="DDE6F0")
            cell.alignment = Alignment(wrap_text=True, vertical="center")
            sheet.column_dimensions[get_column_letter(i)].width = width
        sheet.freeze_panes = sheet.cell(row=row + 1, column=1)


def write_xlsx(data: ReportData, path: Path) -> Path:
    book = Book(data)
    _headline_sheet(book)
    _tasks_sheet(book)
    _not_reported_sheet(book)
    if data.index_766 is not None:
        _index_sheet(book, data.index_766)
        if data.index_766_components:
            _index_components_sheet(book, data.index_766_components)
    path.parent.mkdir(parents=True, exist_ok=True)
    book.wb.save(path)
    return path


def _headline_sheet(book: Book) -> None:
    from openpyxl.styles import PatternFill

    data, text = book.data, book.text
    ws = book.sheet("Chỉ tiêu", "BÁO CÁO KẾT QUẢ THỰC HIỆN ĐỀ ÁN 06")
    header = book.header
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
        if item["attainment"] in STATUS_FILLS:
            attainment.fill = PatternFill("solid", fgColor=STATUS_FILLS[item["attainment"]])
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


def _tasks_sheet(book: Book) -> None:
    data, text = book.data, book.text
    ws_tasks = book.sheet("Nhiệm vụ", f"NHIỆM VỤ ĐỀ ÁN 06 NĂM {data.period.start.year}")
    header = book.header
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


def _not_reported_sheet(book: Book) -> None:
    data, text = book.data, book.text
    ws_missing = book.sheet("Chưa báo cáo", "ĐƠN VỊ CHƯA BÁO CÁO, BÁO CÁO MUỘN HOẶC BỊ LOẠI")
    header = book.header
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


def _index_sheet(book: Book, index: dict[str, Any]) -> None:
    text = book.text
    ws_index = book.sheet("Chỉ số 766", "BỘ CHỈ SỐ 766 (TÍNH LẠI TỪ SỐ LIỆU)")
    book.header(ws_index, 5, (("Nội dung", 36), ("Giá trị", 14)))
    # label, key, number format (None: text); the national portal's scale (100 points:
    # recomputed, else as the portal published) after the band
    index_rows = (
        ("Điểm chỉ số (trên điểm tính được)", "index_score", "0.00"),
        ("Tổng điểm", "total_points", "0.00"),
        ("Điểm tối đa tính được", "computed_max_points", "0.00"),
        ("Xếp hạng", "rank", "0"),
        ("Trên số đơn vị", "ranked_of", "0"),
        ("Điểm công bố", "published_score", "0.00"),
        ("Hạng công bố", "published_rank", "0"),
        ("Xếp loại", "band_name_vi", None),
        ("Tổng điểm theo thang Cổng DVC quốc gia (100)", "scale_total", "0.00"),
        ("Cổng công bố", "portal_total", "0.00"),
        ("Xếp hạng (thang Cổng)", "rank_shown", "0"),
        ("Trên số đơn vị (thang Cổng)", "rank_shown_of", "0"),
        ("Cần thêm để lên hạng", "points_to_next_rank", "0.00"),
        ("Tiêu chí còn thiếu (thang Cổng)", "scale_missing_components", None),
    )
    for r, (label, key, fmt) in enumerate(index_rows, start=6):
        text(ws_index.cell(row=r, column=1), label)
        if fmt is None:
            text(ws_index.cell(row=r, column=2), index[key] or "")
        else:
            ws_index.cell(row=r, column=2, value=index[key]).number_format = fmt


def _index_components_sheet(book: Book, components: list[dict[str, Any]]) -> None:
    """Each component recomputed beside the portal's published points, and why they differ."""
    text = book.text
    ws = book.sheet("766 thang Cổng", "BỘ CHỈ SỐ 766: TÍNH LẠI VÀ CỔNG DVC QUỐC GIA CÔNG BỐ")
    book.header(
        ws, 5,
        (("Nhóm", 8), ("Tiêu chí", 44), ("Tính lại", 10), ("Cổng công bố", 10),
         ("Chênh lệch", 10), ("Thang Cổng", 10), ("Nguồn", 12), ("Lý do chênh lệch", 50)),
    )  # fmt: skip
    source_vi = {
        "recomputed": "tính lại",
        "recomputed_in_part": "tính lại một phần, phần còn lại từ Cổng",
        "published": "Cổng công bố",
        "missing": "thiếu",
    }
    for r, c in enumerate(components, start=6):
        text(ws.cell(row=r, column=1), c["group_code"])
        text(ws.cell(row=r, column=2), c["component_name_vi"])
        for col, key in ((3, "points"), (4, "published_points"), (5, "points_difference"),
                         (6, "scale_points")):  # fmt: skip
            ws.cell(row=r, column=col, value=c[key]).number_format = "0.00"
        text(ws.cell(row=r, column=7), source_vi.get(c["scale_points_source"], ""))
        text(ws.cell(row=r, column=8), c["difference_reason_vi"] or "")
