"""The report as a printable HTML page (``de06 report``; the data and the workbook are in
``de06.report``). Every text from the data is HTML-escaped."""

from __future__ import annotations

import datetime as dt
import html
from pathlib import Path
from typing import Any

from de06.formatting import format_change, format_vn, period_label
from de06.report import _HEADLINE_COLUMNS, ATTAINMENT_VI, LEVEL_VI, STATUS_VI, ReportData

_CSS = """
@page { size: A4 landscape; margin: 14mm; }
body { font-family: "Noto Sans", "DejaVu Sans", Arial, sans-serif; font-size: 11pt; color: #111; }
h1 { font-size: 16pt; margin: 0 0 2pt; } h2 { font-size: 13pt; margin: 16pt 0 4pt; }
.meta { color: #444; margin: 0 0 10pt; }
table { border-collapse: collapse; width: 100%; page-break-inside: auto; }
tr { page-break-inside: avoid; }
th, td { border: 1px solid #999; padding: 3pt 5pt; vertical-align: top; }
th { background: #dde6f0; text-align: left; }
td.n { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
.exceeded { background: #c6efce; } .met { background: #e2f0d9; } .not_met { background: #ffc7ce; }
.note { color: #444; font-size: 9pt; }
@media print { a { color: inherit; text-decoration: none; } }
"""


def _td(value: object, numeric: bool = False, css: str = "") -> str:
    classes = " ".join(c for c in ("n" if numeric else "", css) if c)
    attr = f' class="{classes}"' if classes else ""
    return f"<td{attr}>{html.escape('' if value is None else str(value))}</td>"


def write_html(data: ReportData, path: Path) -> Path:
    label = period_label(data.period)
    out = [
        "<!doctype html>",
        '<html lang="vi"><head><meta charset="utf-8">',
        f"<title>Báo cáo Đề án 06 — {html.escape(data.unit.name)} — {html.escape(label)}</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>BÁO CÁO KẾT QUẢ THỰC HIỆN ĐỀ ÁN 06</h1>",
        f'<p class="meta"><strong>{html.escape(data.unit.name)}</strong> ({data.unit.code}) — '
        f"{html.escape(label)}<br>Số liệu đến lần cập nhật {html.escape(data.run_id)}, công bố "
        f"{data.published_at:%d/%m/%Y %H:%M} (UTC)</p>",
    ]
    out += _headline(data)
    out += _tasks(data)
    out += _not_reported(data)
    if data.index_766 is not None:
        out += _index(data.index_766)
        out += _index_components(data.index_766_components)
    out.append(
        f'<p class="note">Lập ngày {dt.date.today():%d/%m/%Y} bằng de06 report từ cơ sở dữ liệu '
        "đã công bố; mọi số liệu truy về được các dòng dữ liệu gốc.</p></body></html>"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(out), encoding="utf-8")
    return path


def _headline(data: ReportData) -> list[str]:
    out = [
        "<h2>1. Các chỉ tiêu chính</h2>",
        "<table><thead><tr>"
        + "".join(f"<th>{name}</th>" for name, _ in _HEADLINE_COLUMNS[:10])
        + "</tr></thead><tbody>",
    ]
    for item in data.headline:
        unit = item["unit"]
        count_unit = "count" if unit == "rate" else unit
        out.append(
            "<tr>"
            + _td(item["name_vi"])
            + _td(format_vn(item["value"], unit), True)
            + _td(format_vn(item["target"], unit) if item["target"] is not None else "—", True)
            + _td(ATTAINMENT_VI.get(item["attainment"] or "", "—"), css=item["attainment"] or "")
            + _td(format_change(item["change_vs_previous_period"], unit), True)
            + _td(format_change(item["change_vs_previous_year"], unit), True)
            + _td(item["rank"] if item["rank"] is not None else "—", True)
            + _td(item["ranked_of"] if item["ranked_of"] is not None else "—", True)
            + _td(format_vn(item["numerator"], count_unit), True)
            + _td(format_vn(item["denominator"], count_unit), True)
            + "</tr>"
        )
    if not data.headline:
        out.append('<tr><td colspan="10">Chưa có số liệu cho kỳ này.</td></tr>')
    out.append("</tbody></table>")
    out.append(
        '<p class="note">Thay đổi của tỷ lệ tính bằng điểm phần trăm (điểm %). Xếp hạng trong số '
        "đơn vị cùng cấp.</p>"
    )
    return out


def _tasks(data: ReportData) -> list[str]:
    out = [f"<h2>2. Nhiệm vụ Đề án 06 năm {data.period.start.year}</h2>"]
    if data.tasks is None:
        out.append("<p>Không có nhiệm vụ được giao cho đơn vị trong năm.</p>")
    else:
        t = data.tasks
        out.append(
            "<table><thead><tr><th>Đã hoàn thành</th><th>Đang thực hiện</th><th>Chưa thực hiện"
            "</th><th>Tổng số</th><th>Quá hạn</th><th>Tỷ lệ hoàn thành</th></tr></thead><tbody>"
            "<tr>"
            + "".join(
                _td(format_vn(t[k], "count"), True)
                for k in (
                    "tasks_done",
                    "tasks_in_progress",
                    "tasks_not_started",
                    "tasks_total",
                    "tasks_overdue",
                )
            )
            + _td(format_vn(t["completion_rate"], "rate"), True)
            + "</tr></tbody></table>"
        )
    return out


def _not_reported(data: ReportData) -> list[str]:
    out = ["<h2>3. Đơn vị chưa báo cáo, báo cáo muộn hoặc bị loại</h2>"]
    if not data.not_reported:
        out.append("<p>Tất cả đơn vị đã báo cáo đúng hạn.</p>")
    else:
        out.append(
            "<table><thead><tr><th>Mã đơn vị</th><th>Tên đơn vị</th><th>Cấp</th><th>Kỳ</th>"
            "<th>Báo cáo</th><th>Hạn nộp</th><th>Tình trạng</th><th>Số ngày muộn</th>"
            "<th>Dòng bị loại</th></tr></thead><tbody>"
        )
        for item in data.not_reported:
            out.append(
                "<tr>"
                + _td(item["unit_code"])
                + _td(item["unit_name"])
                + _td(LEVEL_VI.get(item["unit_level"], item["unit_level"]))
                + _td(item["period"])
                + _td(item["report_code"])
                + _td(f"{item['due_date']:%d/%m/%Y}" if item["due_date"] else "—")
                + _td(STATUS_VI.get(item["status"], item["status"]))
                + _td(item["days_late"] if item["days_late"] is not None else "—", True)
                + _td(format_vn(item["rows_quarantined"], "count"), True)
                + "</tr>"
            )
        out.append("</tbody></table>")
    return out


def _index(i: dict[str, Any]) -> list[str]:
    rank = f"{i['rank']}/{i['ranked_of']}" if i["rank"] is not None else "—"
    scale_rank = f"{i['rank_shown']}/{i['rank_shown_of']}" if i["rank_shown"] is not None else "—"
    published = (
        format_vn(i["published_score"], "points") if i["published_score"] is not None else "—"
    )
    return [
        "<h2>4. Bộ chỉ số 766 (tính lại từ số liệu)</h2><table><tbody>",
        "<tr><th>Điểm chỉ số</th>" + _td(format_vn(i["index_score"], "points"), True),
        "<th>Xếp loại</th>" + _td(i["band_name_vi"]) + "</tr>",
        "<tr><th>Xếp hạng</th>" + _td(rank, True),
        "<th>Điểm công bố</th>" + _td(published, True) + "</tr>",
        "<tr><th>Tổng điểm theo thang Cổng DVC quốc gia (100)</th>"
        + _td(
            format_vn(i["scale_total"], "points")
            if i["scale_total"] is not None
            else f"thiếu: {i['scale_missing_components'] or '—'}",
            True,
        ),
        "<th>Cổng công bố</th>" + _td(format_vn(i["portal_total"], "points"), True) + "</tr>",
        "<tr><th>Xếp hạng (thang Cổng)</th>" + _td(scale_rank, True),
        "<th>Cần thêm để lên hạng</th>"
        + _td(format_vn(i["points_to_next_rank"], "points"), True)
        + "</tr>",
        "</tbody></table>",
    ]


def _index_components(components: list[dict[str, Any]]) -> list[str]:
    """Each component recomputed from the province's data beside the portal's points."""
    if not components:
        return []
    head = ("Nhóm", "Tiêu chí", "Tính lại", "Cổng công bố", "Chênh lệch", "Thang Cổng", "Lý do")
    out = ["<table><thead><tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr></thead><tbody>"]
    for c in components:
        scale = format_vn(c["scale_points"], "points")
        if c["scale_points_source"] == "published":
            scale += " (Cổng)"
        elif c["scale_points_source"] == "recomputed_in_part":
            scale += " (một phần từ Cổng)"
        out.append(
            "<tr>"
            + _td(c["group_code"])
            + _td(c["component_name_vi"])
            + _td(format_vn(c["points"], "points"), True)
            + _td(format_vn(c["published_points"], "points"), True)
            + _td(format_change(c["points_difference"], "points"), True)
            + _td(scale, True)
            + _td(c["difference_reason_vi"] or "")
            + "</tr>"
        )
    return [*out, "</tbody></table>"]
