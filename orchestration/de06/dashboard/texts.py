"""The dashboard's words in Vietnamese and English, and its style sheet."""

from __future__ import annotations

TEXT: dict[str, tuple[str, str]] = {
    "title": ("Đề án 06 — Bảng điều hành", "Project 06 — Dashboard"),
    "national": ("Toàn quốc", "Nation"),
    "province": ("Tỉnh, thành phố", "Province"),
    "ranking": ("Xếp hạng", "Ranking"),
    "trends": ("Xu hướng", "Trends"),
    "index": ("Chỉ số 766", "766 index"),
    "quality": ("Dữ liệu & chất lượng", "Data & quality"),
    "grain": ("Loại kỳ", "Period type"),
    "period": ("Kỳ", "Period"),
    "indicator": ("Chỉ tiêu", "Indicator"),
    "value": ("Kết quả", "Value"),
    "target": ("Chỉ tiêu giao", "Target"),
    "vs_previous": ("So với kỳ trước", "vs previous period"),
    "vs_year": ("So với cùng kỳ", "vs a year earlier"),
    "rank": ("Hạng", "Rank"),
    "unit": ("Đơn vị", "Unit"),
    "status": ("Đánh giá", "Status"),
    "no_data": ("Chưa có số liệu cho lựa chọn này.", "No figures for this selection."),
    "published": ("Số liệu công bố lúc", "Published at"),
    "refresh": ("Lần cập nhật", "Refresh"),
    "units_ranked": ("đơn vị được xếp hạng", "units ranked"),
    "units": ("Đơn vị so sánh", "Units to compare"),
    "rebased": (
        "Số liệu lịch sử quy đổi theo đơn vị hành chính hiện nay (34 tỉnh, thành phố).",
        "History re-based on today's units (34 provinces).",
    ),
    "as_was": (
        "Các tỉnh theo địa giới tại kỳ báo cáo: 63 trước 01/7/2025, 34 từ 01/7/2025.",
        "Provinces as they were in the period: 63 before 1 July 2025, 34 from then.",
    ),
    "score": ("Điểm", "Score"),
    "band": ("Xếp loại", "Band"),
    "published_score": ("Điểm công bố", "Published score"),
    "components": ("Các thành phần", "Components"),
    "checks": ("Kiểm tra chất lượng", "Quality checks"),
    "checks_passed": ("đạt", "passed"),
    "failed_checks": ("Kiểm tra không đạt (cảnh báo)", "Checks that did not pass (warnings)"),
    "none_failed": ("Mọi kiểm tra đều đạt.", "Every check passed."),
    "submissions": (
        "Báo cáo định kỳ: thiếu, muộn, dòng bị loại theo đơn vị",
        "Periodic reports: missing, late, quarantined rows per unit",
    ),
    "missing": ("Thiếu", "Missing"),
    "late": ("Muộn", "Late"),
    "quarantined": ("Dòng bị loại", "Rows quarantined"),
    "expected": ("Phải nộp", "Expected"),
    "age": ("trước", "ago"),
    "language": ("Ngôn ngữ", "Language"),
}
ATTAINMENT = {
    "exceeded": ("Vượt chỉ tiêu", "Exceeded"),
    "met": ("Đạt", "Met"),
    "not_met": ("Chưa đạt", "Not met"),
    "no_target": ("Chưa giao chỉ tiêu", "No target"),
}
GRAIN_NAMES = {
    "quarter": ("Quý", "Quarter"),
    "month": ("Tháng", "Month"),
    "half_year": ("6 tháng", "Half-year"),
    "year": ("Năm", "Year"),
}
CSS = """
<style>
.de06-cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(250px, 1fr));
  gap: 12px; }
.de06-card { border: 1px solid #d0d7de; border-left: 8px solid #8c959f; border-radius: 6px;
  padding: 10px 12px; background: #fff; }
.de06-card.exceeded { border-left-color: #1a7f37; } .de06-card.met { border-left-color: #4ac26b; }
.de06-card.not_met { border-left-color: #cf222e; }
.de06-card .name { font-size: 0.85rem; color: #424a53; min-height: 2.4em; }
.de06-card .value { font-size: 1.8rem; font-weight: 700; }
.de06-card .line { font-size: 0.8rem; color: #57606a; }
.de06-status { display: inline-block; padding: 0 6px; border-radius: 4px; font-size: 0.8rem; }
.de06-status.exceeded { background: #dafbe1; color: #1a7f37; }
.de06-status.met { background: #eefbe8; color: #2c7a3f; }
.de06-status.not_met { background: #ffebe9; color: #cf222e; }
.de06-status.no_target { background: #f6f8fa; color: #57606a; }
table.de06 { border-collapse: collapse; width: 100%; font-size: 0.9rem; }
table.de06 th, table.de06 td { border-bottom: 1px solid #d0d7de; padding: 4px 8px; }
table.de06 th { text-align: left; background: #f6f8fa; }
table.de06 td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
</style>
"""
# the 766 page (dashboard/index766.py)
TEXT.update(
    {
        "portal_scale": (
            "Thang điểm của Cổng DVC quốc gia (100 điểm, 6 nhóm): điểm tính lại từ số liệu của "
            "tỉnh; tiêu chí chỉ Cổng có số liệu lấy theo điểm Cổng công bố. Chưa có ngưỡng xếp "
            "loại chính thức cho thang này.",
            "The national portal's scale (100 points, 6 groups): points recomputed from the "
            "province's data; components only the portal knows are taken as it published "
            "them. No official bands are sourced for this scale.",
        ),
        "scale_total": ("Tổng điểm (thang Cổng)", "Total (portal scale)"),
        "portal_total": ("Cổng công bố", "Portal published"),
        "difference": ("Chênh lệch", "Difference"),
        "to_next_rank": ("Cần thêm để lên hạng", "Points to the next rank"),
        "missing_components": ("thiếu {n} tiêu chí", "{n} components missing"),
        "recomputed": ("Tính lại", "Recomputed"),
        "scale_points": ("Theo thang Cổng", "On the portal scale"),
        "reason": ("Lý do chênh lệch", "Why they differ"),
        "groups": ("Các nhóm chỉ số", "Groups"),
        "max": ("Tối đa", "Max"),
        "index_over_computed": ("Điểm trên phần tính được", "Index over computable points"),
        "source_published": ("(Cổng)", "(portal)"),
        "source_in_part": ("(một phần từ Cổng)", "(partly from the portal)"),
        "source_missing": ("thiếu", "missing"),
    }
)
