"""Synthetic submissions and the task register: the sheets people type (see ``de06.generate``).

Submissions mix counts and bare rates, Vietnamese and plain number formats, CSV with and without
BOM and XLSX, and carry a few deliberately bad rows; a few communes report too (one with a bare
percentage), one province per half-year never reports and two report late (the files carry the
day they were sent as their modification time). The task register has one plan per province
and year.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from de06.contracts import SUBMISSIONS
from de06.reference import REFORM_DATE

if TYPE_CHECKING:
    from de06.generate import _Generator

SUBMITTED_RATES = (
    "eid_activation_rate",
    "cccd_health_insurance_rate",
    "social_cashless_share",
    "school_fee_cashless_share",
    "hospital_fee_cashless_share",
    "essential_services_rate",
    "procedure_time_cut_rate",
    "plan_issuance_rate",
)
DOCUMENT_TYPES = ("health_insurance_card", "driving_licence", "vehicle_registration", "tax_code")


def _vn(number: float, decimals: int = 0) -> str:
    """Format like a Vietnamese spreadsheet: 127.450 and 99,07."""
    text = f"{number:,.{decimals}f}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def _sub_row(unit: str, period: str, code: str, **cells: str) -> list[str]:
    """A submission row in the contract's column order; unnamed cells are empty."""
    values = {"unit_code": unit, "period": period, "indicator_code": code, **cells}
    return [values.get(column, "") for column in SUBMISSIONS.column_names]


def _submission_rows(gen: _Generator, period: str, half_end: dt.date) -> list[list[str]]:
    r = gen.rng
    provs = gen.old_provinces if half_end < REFORM_DATE else gen.new_provinces
    rows: list[list[str]] = []
    vn_format = r.random() < 0.5

    def number(value: float, decimals: int = 0) -> str:
        return _vn(value, decimals) if vn_format else f"{value:.{decimals}f}"

    for p in provs:
        for code in SUBMITTED_RATES:
            if code in ("eid_activation_rate", "cccd_health_insurance_rate"):
                pct = round(float(r.uniform(40, 99)), 2)
                rows.append(_sub_row(p, period, code, value=number(pct, 2)))
                continue
            den = int(r.integers(100, 150_000))
            num = int(den * r.uniform(0.05, 1.0))
            rows.append(_sub_row(p, period, code, numerator=number(num), denominator=number(den)))
        as_of = half_end.isoformat()
        for doc in DOCUMENT_TYPES:
            count = int(r.integers(1_000, 900_000))
            rows.append(
                _sub_row(p, period, "vneid_integrated_documents", as_of=as_of, dimension=doc,
                         value=number(count))
            )  # fmt: skip
        count = int(r.integers(50_000, 2_000_000))
        rows.append(
            _sub_row(p, period, "civil_registry_digitized", as_of=as_of, value=number(count))
        )
    # the published 766 index, with ranks among the provinces of the time
    scores = np.round(r.uniform(60, 92, len(provs)), 2)
    order = (-scores).argsort().argsort() + 1
    for p, score, rank in zip(provs, scores, order, strict=True):
        rows.append(
            _sub_row(p, period, "index_766_score", value=number(float(score), 2),
                     rank=str(rank), ranked_of=str(len(provs)))
        )  # fmt: skip
    return rows


BAD_ROWS = [
    # unknown unit, numerator above denominator, rate above 100, a future period, no figures
    ["99", "2024-H1", "", "eid_activation_rate", "", "", "", "88,5", "", "", ""],
    ["01", "2024-H1", "", "school_fee_cashless_share", "", "433", "432", "", "", "", ""],
    ["01", "2024-H1", "", "eid_activation_rate", "", "", "", "120", "", "", ""],
    ["01", "2099-H1", "", "eid_activation_rate", "", "", "", "50", "", "", ""],
    ["01", "2024-H1", "", "eid_activation_rate", "", "", "", "", "", "", ""],
    ["01", "2024-H1", "", "no_such_indicator", "", "", "", "12", "", "", ""],
]
# Worked examples from the source reports (Bình Định 52 and Bình Phước 70, 2023-H1)
HISTORIC_ROWS = [
    ["52", "2023-H1", "", "social_cashless_share", "", "142", "127.450", "0,11", "", "", ""],
    ["70", "2023-H1", "", "school_fee_cashless_share", "", "428", "432", "99,07%", "", "", ""],
    ["70", "2023-H1", "", "procedure_time_cut_rate", "", "8.502", "27.843,5", "30,54", "", "", ""],
    ["70", "2023-H1", "", "eid_activation_rate", "", "", "", "89,8", "", "", ""],
]

# Published Decision 766 scores from the source reports, with their group points as dimensions
# named by the portal's group codes: Quảng Nam (49) 2024 year to date, 80.1 of 100, rank 21 of
# 63 (13.2 + 18.4 + 7.7 + 7.6 + 17.6 + 15.6); Quảng Trị (44, the new province) 77.65, rank 2 of
# 34, as of 25 July 2025.
PUBLISHED_766 = {
    ("49", "2024", dt.date(2025, 1, 10)): [
        ["49", "2024", "", "index_766_score", "", "", "", "80,1", "", "21", "63"],
        *(
            ["49", "2024", "", "index_766_score", group, "", "", points, "", "", ""]
            for group, points in (
                ("CKMB", "13,2"), ("TDGQ", "18,4"), ("CLGQ", "7,7"),
                ("TTTT", "7,6"), ("MDHL", "17,6"), ("MDSH", "15,6"),
            )
        ),
    ],
    ("44", "2025", dt.date(2025, 7, 28)): [
        ["44", "2025", "2025-07-25", "index_766_score", "", "", "", "77,65", "", "2", "34"],
    ],
}  # fmt: skip


def _commune_rows(
    gen: _Generator, period: str, half_end: dt.date, rng: np.random.Generator
) -> list[list[str]]:
    """Commune reports for the first three provinces: cashless social payments with counts,
    except one commune per province that sends only a percentage (it cannot be rolled up)."""
    communes = gen.communes_old if half_end < REFORM_DATE else gen.communes_new
    provs = gen.old_provinces if half_end < REFORM_DATE else gen.new_provinces
    rows: list[list[str]] = []
    for p in provs[:3]:
        for k, commune in enumerate(communes[p]):
            den = int(rng.integers(200, 5_000))
            num = int(den * rng.uniform(0.3, 0.95))
            if k == 0:
                rows.append(
                    _sub_row(
                        commune, period, "social_cashless_share", value=f"{100 * num / den:.1f}"
                    )
                )
            else:
                rows.append(
                    _sub_row(commune, period, "social_cashless_share", numerator=str(num),
                             denominator=str(den))
                )  # fmt: skip
    return rows


def _sent(path: Path, day: dt.date) -> None:
    """Give a file the modification time of the day it was sent (the warehouse reads it)."""
    stamp = dt.datetime.combine(day, dt.time(9, 30)).timestamp()
    os.utime(path, (stamp, stamp))


def write_submissions(gen: _Generator, months: list[dt.date], out: Path) -> list[Path]:
    from openpyxl import Workbook

    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    halves = sorted({(m.year, 1 if m.month <= 6 else 2) for m in months})
    extra = np.random.default_rng(gen.cfg.seed + 1)  # the original stream stays unchanged
    for i, (year, half) in enumerate(halves):
        period = f"{year}-H{half}"
        end = dt.date(year, 6, 30) if half == 1 else dt.date(year, 12, 31)
        rows = _submission_rows(gen, period, end)
        # per half-year one province never reports and two report late (after the 15 days
        # of the reporting calendar)
        provs = gen.old_provinces if end < REFORM_DATE else gen.new_provinces
        missing = {provs[(7 * i) % len(provs)]}
        late = {provs[(7 * i + 1) % len(provs)], provs[(7 * i + 2) % len(provs)]} - missing
        late_rows = [r for r in rows if r[0] in late]
        rows = [r for r in rows if r[0] not in missing | late]
        rows += _commune_rows(gen, period, end, extra)
        if i == 0:
            rows += BAD_ROWS
        if i % 2 == 1:  # every other half-year arrives as XLSX
            path = out / f"submissions_{period}.xlsx"
            wb = Workbook()
            ws = wb.active
            ws.title = "BaoCao"
            ws.append(list(SUBMISSIONS.column_names))
            for row in rows:
                ws.append(row)
            wb.save(path)
        else:
            path = out / f"submissions_{period}.csv"
            encoding = "utf-8-sig" if i % 4 == 0 else "utf-8"
            with path.open("w", encoding=encoding, newline="") as handle:
                writer = csv.writer(handle)
                writer.writerow(SUBMISSIONS.column_names)
                writer.writerows(rows)
        _sent(path, end + dt.timedelta(days=7))
        written.append(path)
        if late_rows:
            late_path = out / f"submissions_{period}_late.csv"
            with late_path.open("w", encoding="utf-8", newline="") as handle:
                writer = csv.writer(handle)
                writer.writerow(SUBMISSIONS.column_names)
                writer.writerows(late_rows)
            _sent(late_path, end + dt.timedelta(days=40))
            written.append(late_path)
    historic = out / "submissions_2023-H1_historic.csv"
    with historic.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(SUBMISSIONS.column_names)
        writer.writerows(HISTORIC_ROWS)
    _sent(historic, dt.date(2023, 7, 10))
    written.append(historic)
    for (unit, period, sent), published in PUBLISHED_766.items():
        path = out / f"submissions_{period}_index766_{unit}.csv"
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(SUBMISSIONS.column_names)
            writer.writerows(published)
        _sent(path, sent)
        written.append(path)
    return written


TASK_TITLES = (
    "Làm sạch dữ liệu dân cư",
    "Tích hợp dịch vụ công trực tuyến với Cổng DVC quốc gia",
    "Số hóa hồ sơ, kết quả giải quyết TTHC",
    "Kích hoạt tài khoản định danh điện tử VNeID",
    "Chi trả an sinh xã hội không dùng tiền mặt",
    "Khám chữa bệnh bằng căn cước công dân",
    "Thu phí học đường không dùng tiền mặt",
    "Triển khai chữ ký số cho cán bộ",
)


def write_tasks(gen: _Generator, months: list[dt.date], out: Path) -> Path:
    r = gen.rng
    out.mkdir(parents=True, exist_ok=True)
    path = out / "tasks_register.csv"
    header = ["unit_code", "year", "task_id", "title", "origin", "deadline", "status", "updated_at"]
    years = sorted({m.year for m in months})
    last = months[-1]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for year in years:
            provs = gen.old_provinces if year < REFORM_DATE.year else gen.new_provinces
            for p in provs:
                for t in range(int(r.integers(30, 50))):
                    status = r.choice(["done", "in_progress", "not_started"], p=[0.5, 0.35, 0.15])
                    recurring = r.random() < 0.2
                    deadline = "" if recurring else dt.date(year, int(r.integers(3, 13)), 28)
                    writer.writerow(
                        [
                            p,
                            year,
                            f"NV{year}-{t + 1:03d}",
                            f"{TASK_TITLES[t % len(TASK_TITLES)]} (đợt {t // len(TASK_TITLES) + 1})",
                            "central" if r.random() < 0.6 else "provincial",
                            deadline,
                            status,
                            f"{min(dt.date(year, 12, 31), last):%Y-%m-%d} 17:00:00",
                        ]
                    )
    return path
