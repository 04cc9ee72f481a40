"""`de06 report`: the working group's report, opened as a user opens it, against the marts."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import openpyxl
import pytest

from conftest import vn_percent
from de06.cli import main
from de06.formatting import period_label
from de06.periods import parse_period
from de06.report import ReportError, make_report, safe_text

HEADLINE = """
    select indicator_code, value, target, attainment, change_vs_previous_period,
        change_vs_previous_year, rank, ranked_of, numerator, denominator
    from {table}
    where unit_key = ? and period = ? and is_headline and dimension = ''
"""


def _sheet_rows(ws, first: int = 6) -> list[tuple]:
    rows = []
    for row in ws.iter_rows(min_row=first, values_only=True):
        if all(v is None for v in row):
            break
        rows.append(row)
    return rows


def _report(built, monkeypatch, tmp_path: Path, unit: str, period: str) -> tuple[Path, Path]:
    """Run the command as a user does: `de06 report --unit U --period P --out DIR`."""
    monkeypatch.setenv("DE06_HOME", str(built.settings.home))
    monkeypatch.setenv("DE06_DBT_TARGET_PATH", str(built.settings.dbt_target_dir))
    monkeypatch.delenv("DE06_PUBLISHED_DB", raising=False)
    assert main(["report", "--unit", unit, "--period", period, "--out", str(tmp_path)]) == 0
    stem = tmp_path / f"bao_cao_de06_{unit}_{period}"
    return stem.with_suffix(".xlsx"), stem.with_suffix(".html")


@pytest.mark.slow
def test_province_report_figures_are_the_marts(built, published, monkeypatch, tmp_path):
    xlsx, page = _report(built, monkeypatch, tmp_path, "75", "2025-Q4")
    wb = openpyxl.load_workbook(xlsx)
    assert wb.sheetnames[:3] == ["Chỉ tiêu", "Nhiệm vụ", "Chưa báo cáo"]
    ws = wb["Chỉ tiêu"]
    assert ws["A2"].value == "Đồng Nai (75) — Quý IV/2025"

    # today's Đồng Nai (formed 1 July 2025): its history re-based, so it has a change against
    # the same quarter of 2024
    expected = {
        r[0]: r[1:]
        for r in published.execute(
            HEADLINE.format(table="marts.fct_indicator_values_current_units"),
            ["75@2025-07-01", "2025-Q4"],
        ).fetchall()
    }
    rows = _sheet_rows(ws)
    got = {row[11]: row for row in rows}
    assert len(rows) == len(got) == len(expected) >= 10
    assert set(got) == set(expected)
    attainment_vi = {"exceeded": "Vượt chỉ tiêu", "met": "Đạt", "not_met": "Chưa đạt"}
    for code, (
        value,
        target,
        attainment,
        chg_p,
        chg_y,
        rank,
        ranked_of,
        num,
        den,
    ) in expected.items():
        row = got[code]
        assert row[1] == pytest.approx(value), code
        assert row[2] == (pytest.approx(target) if target is not None else None), code
        assert row[3] == attainment_vi.get(attainment, "Chưa giao chỉ tiêu"), code
        assert row[4] == (pytest.approx(chg_p) if chg_p is not None else None), code
        assert row[5] == (pytest.approx(chg_y) if chg_y is not None else None), code
        assert (row[6], row[7]) == (rank, ranked_of), code
        assert (row[8], row[9]) == (num, den), code
        # numbers are numbers, rates shown as percentages
        assert isinstance(row[1], float | int), code
    online = got["online_dossier_rate"]
    assert online[7] == 34 and online[5] is not None
    assert ws.cell(row=6 + rows.index(online), column=2).number_format == "0.00%"

    # tasks of the plan year
    done, in_progress, not_started, total, overdue, rate = published.execute(
        "select tasks_done, tasks_in_progress, tasks_not_started, tasks_total, tasks_overdue, "
        "completion_rate from marts.fct_task_progress "
        "where unit_key = '75@2025-07-01' and plan_year = 2025"
    ).fetchone()
    tasks = {label: value for label, value in _sheet_rows(wb["Nhiệm vụ"])}
    assert tasks == {
        "Đã hoàn thành": done,
        "Đang thực hiện": in_progress,
        "Chưa thực hiện": not_started,
        "Tổng số nhiệm vụ": total,
        "Quá hạn": overdue,
        "Tỷ lệ hoàn thành": pytest.approx(rate),
    }
    assert done + in_progress + not_started == total

    # the 766 index of the province and quarter
    score, rank = published.execute(
        "select distinct index_score, rank from marts.fct_index_766 "
        "where unit_key = '75@2025-07-01' and period = '2025-Q4'"
    ).fetchone()
    index = {label: value for label, value in _sheet_rows(wb["Chỉ số 766"])}
    assert index["Điểm chỉ số (trên điểm tính được)"] == pytest.approx(score)
    assert index["Xếp hạng"] == rank

    # the printable page: Vietnamese number formats
    text = page.read_text(encoding="utf-8")
    assert '<html lang="vi">' in text and "@page" in text
    assert f">{vn_percent(expected['online_dossier_rate'][0])}<" in text
    assert "BÁO CÁO KẾT QUẢ THỰC HIỆN ĐỀ ÁN 06" in text


@pytest.mark.slow
def test_nation_year_report_lists_every_unit_that_did_not_report(
    built, published, monkeypatch, tmp_path
):
    xlsx, _ = _report(built, monkeypatch, tmp_path, "VN", "2025")
    listed = {
        (row[0], row[3], row[4], row[6])
        for row in _sheet_rows(openpyxl.load_workbook(xlsx)["Chưa báo cáo"])
    }
    # worked out here from every status row: the periods inside 2025 that were not reported
    # on time or whose every row was rejected
    status_vi = {
        "missing": "Chưa gửi báo cáo",
        "rejected": "Đã gửi, bị loại toàn bộ (dữ liệu lỗi)",
        "late": "Gửi muộn",
    }
    year = parse_period("2025")
    expected = {
        (code, period, report, status_vi[status])
        for code, period, report, status, start, end in published.execute(
            "select unit_code, period, report_code, status, period_start, period_end "
            "from marts.fct_submission_status"
        ).fetchall()
        if status in status_vi and start >= year.start and end <= year.end
    }
    assert expected, "the generated data has late or missing reports in 2025"
    assert listed == expected


@pytest.mark.slow
def test_a_unit_that_no_longer_exists_reads_as_it_was(built, published, monkeypatch, tmp_path):
    """Bình Phước (70) merged into Đồng Nai on 1 July 2025: its Q1 2025 is among 63."""
    xlsx, _ = _report(built, monkeypatch, tmp_path, "70", "2025-Q1")
    rows = _sheet_rows(openpyxl.load_workbook(xlsx)["Chỉ tiêu"])
    expected = dict(
        published.execute(
            "select indicator_code, value from marts.fct_indicator_values "
            "where unit_key = '70@2020-01-01' and period = '2025-Q1' and is_headline "
            "and dimension = ''"
        ).fetchall()
    )
    assert {r[11]: r[1] for r in rows} == pytest.approx(expected)
    assert {r[7] for r in rows if r[11] == "online_dossier_rate"} == {63}


@pytest.mark.slow
def test_text_that_looks_like_a_formula_stays_text(built, tmp_path):
    """A unit name crafted as a formula (as a hostile feed could carry) is written as text."""
    copy = tmp_path / "published.duckdb"
    shutil.copyfile(built.settings.published_db, copy)
    con = duckdb.connect(str(copy))
    con.execute(
        'update marts.dim_unit set unit_name = \'=HYPERLINK("http://example.invalid","x")\' '
        "where unit_key = '75@2025-07-01'"
    )
    con.close()
    xlsx, page = make_report(copy, "75", "2025-Q4", tmp_path / "out")
    wb = openpyxl.load_workbook(xlsx)
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value]
    assert cells and not [c.coordinate for c in cells if c.data_type == "f"]
    assert wb["Chỉ tiêu"]["A2"].value.startswith("'=HYPERLINK(")
    assert "=HYPERLINK(&quot;http://example.invalid&quot;" in page.read_text(encoding="utf-8")


@pytest.mark.slow
def test_clear_errors_for_an_unknown_unit_or_period(built, tmp_path):
    with pytest.raises(ReportError, match="no unit with code '99999'"):
        make_report(built.settings.published_db, "99999", "2025-Q4", tmp_path)
    with pytest.raises(ReportError, match="'2025-13' is not a period"):
        make_report(built.settings.published_db, "75", "2025-13", tmp_path)
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("=1+1", "'=1+1"),
        ("+84 912", "'+84 912"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=x", "'\t=x"),
        ("Đồng Nai", "Đồng Nai"),
        (None, ""),
    ],
)
def test_safe_text(raw, safe):
    assert safe_text(raw) == safe


def test_period_labels_in_vietnamese():
    assert [period_label(parse_period(p)) for p in ("2025-04", "2025-Q4", "2025-H1", "2025")] == [
        "Tháng 04/2025",
        "Quý IV/2025",
        "6 tháng đầu năm 2025",
        "Năm 2025",
    ]
