"""The bad-input corpus: files as people and systems really send them, each with its outcome.

Every case writes one file (some load an earlier file first) and states, worked out by hand
from the feed contract (``../shared/spec/feeds.md``) and ``docs/design.md``:

* whether the file loads or is rejected whole, and the reason;
* rows read, accepted, superseded and quarantined;
* every problem recorded in the quarantine: (row as numbered in the file, column, reason).

The tests then check, per file, that nothing is lost: rows read = accepted + superseded +
quarantined; accepted + superseded rows are in the raw table; every quarantined row is in
``raw.quarantine``; a file rejected whole is copied byte for byte into the quarantine folder.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import unicodedata
import zipfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from openpyxl import Workbook

from de06.ingest import DOSSIER_COLUMNS, SUBMISSION_COLUMNS, FileReport, ingest
from de06.settings import Settings
from test_ingest import BASE, dossier_rows, query
from test_ingest import sub as submission_row

SUB = list(SUBMISSION_COLUMNS)
TASK = ["unit_code", "year", "task_id", "title", "origin", "deadline", "status", "updated_at"]
INJECTION = "=cmd|' /C calc'!A0"
DOC_NFC = unicodedata.normalize("NFC", "Giấy phép lái xe")
DOC_NFD = unicodedata.normalize("NFD", DOC_NFC)


def sub(
    unit: str = "01", period: str = "2024-H1", code: str = "social_cashless_share", **cells: Any
) -> list[Any]:
    """A submission row (test_ingest.sub) with the corpus's defaults; numbers may be numbers."""
    return submission_row(unit, period, code, **cells)


def task(**changes: str) -> list[str]:
    row = {
        "unit_code": "01",
        "year": "2025",
        "task_id": "T1",
        "title": "Triển khai Đề án 06",
        "origin": "central",
        "deadline": "2025-06-30",
        "status": "done",
        "updated_at": "2025-06-01 10:00:00",
        **changes,
    }
    return [row[c] for c in TASK]


def windows_1258_form(text: str) -> str:
    """Text as Windows-1258 holds it: a base letter (â, ơ, ư…) and a combining tone mark."""
    out = []
    for char in text:
        try:
            char.encode("cp1258")
            out.append(char)
        except UnicodeEncodeError:
            base, *marks = unicodedata.normalize("NFD", char)
            out.append(unicodedata.normalize("NFC", base + marks[0]) + "".join(marks[1:]))
    return "".join(out)


# ----------------------------------------------------------------------------- file writers
Writer = Callable[[Path], Path]


def csv_file(
    name: str, header: list[str], rows: list[list[Any]], encoding: str = "utf-8", sep: str = ","
) -> Writer:
    def write(folder: Path) -> Path:
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=sep, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(buffer.getvalue().encode(encoding))
        return path

    return write


def raw_file(name: str, data: bytes) -> Writer:
    def write(folder: Path) -> Path:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return path

    return write


def xlsx_file(
    name: str,
    rows: list[list[Any]],
    percent: tuple[str, ...] = (),
    merge: tuple[str, ...] = (),
    cached: dict[str, str] | None = None,
) -> Writer:
    """An XLSX workbook; ``cached`` saves a computed value for formula cells, as Excel does."""

    def write(folder: Path) -> Path:
        wb = Workbook()
        ws = wb.active
        for row in rows:
            ws.append(row)
        for ref in percent:
            ws[ref].number_format = "0.0%"
        for ref in merge:
            ws.merge_cells(ref)
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        wb.save(path)
        if cached:
            _save_cached_values(path, cached)
        return path

    return write


def _save_cached_values(path: Path, cached: dict[str, str]) -> None:
    """openpyxl writes formulas without a value (``<v />``); Excel saves the computed one."""
    with zipfile.ZipFile(path) as archive:
        parts = {n: archive.read(n) for n in archive.namelist()}
    sheet = parts["xl/worksheets/sheet1.xml"].decode()
    for ref, value in cached.items():
        start = sheet.index(f'<c r="{ref}"')
        end = sheet.index("</c>", start)
        sheet = sheet[:start] + sheet[start:end].replace("<v />", f"<v>{value}</v>") + sheet[end:]
    parts["xl/worksheets/sheet1.xml"] = sheet.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)


def parquet_file(name: str, rows: list[dict[str, str]], truncate: bool = False) -> Writer:
    def write(folder: Path) -> Path:
        table = pa.table(
            {
                col: pa.array(
                    [int(r[col]) for r in rows]
                    if col == "fee_amount"
                    else [r[col] or None for r in rows],
                    type=pa.int64() if col == "fee_amount" else pa.string(),
                )
                for col in DOSSIER_COLUMNS
            }
        )
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, path)
        if truncate:  # a transfer cut short: the footer (schema, row groups) is gone
            data = path.read_bytes()
            path.write_bytes(data[: len(data) * 2 // 3])
        return path

    return write


def dossier_file(name: str, *changes: dict[str, str]) -> Writer:
    return csv_file(f"dossiers/{name}", list(DOSSIER_COLUMNS), dossier_rows(*changes))


def submission_file(name: str, *rows: list[Any], **kwargs: Any) -> Writer:
    return csv_file(f"submissions/{name}", SUB, list(rows), **kwargs)


# ----------------------------------------------------------------------------- the cases
@dataclass(frozen=True)
class Case:
    name: str
    write: Writer
    status: str  # loaded | rejected
    counts: tuple[int, int, int, int]  # read, accepted, superseded, quarantined
    problems: list[tuple[int | None, str | None, str]] = field(default_factory=list)
    before: Writer | None = None  # a file loaded first
    table: str | None = None  # the raw table (None: from the folder name)
    check: Callable[[Settings, FileReport], None] | None = None


def stored(sql: str, expected: list[tuple]) -> Callable[[Settings, FileReport], None]:
    def check(settings: Settings, _: FileReport) -> None:
        assert query(settings, sql) == expected

    return check


def listing_escapes_injection(settings: Settings, report: FileReport) -> None:
    """The rejected-rows listing (opened in Excel by whoever fixes the file) must not run it."""
    [listing] = settings.quarantine_dir.glob(f"*_{report.path.stem}.rejected.csv")
    with listing.open(encoding="utf-8-sig", newline="") as handle:
        values = [row["value"] for row in csv.DictReader(handle)]
    assert "'" + INJECTION in values
    assert INJECTION not in values  # never unescaped


GOOD = sub(num="142", den="127.450")
GOOD_DOSSIER = {"dossier_id": "G1"}
UTF16_TEXT = "\n".join("\t".join(r) for r in [SUB, sub(value="89,8", code="eid_activation_rate")])

CASES: list[Case] = [
    # -- encodings and text -----------------------------------------------------------------
    Case("utf8_with_bom", submission_file("bom.csv", GOOD, encoding="utf-8-sig"), "loaded",
         (1, 1, 0, 0)),
    Case("utf8_without_bom", submission_file("plain.csv", GOOD), "loaded", (1, 1, 0, 0)),
    Case("utf16_le_tab_text", raw_file("submissions/u16le.csv", UTF16_TEXT.encode("utf-16")),
         "loaded", (1, 1, 0, 0)),
    Case("utf16_be_tab_text",
         raw_file("submissions/u16be.csv", codecs.BOM_UTF16_BE + UTF16_TEXT.encode("utf-16-be")),
         "loaded", (1, 1, 0, 0)),
    Case("windows_1258",
         submission_file("cp1258.csv", sub(code="vneid_integrated_documents", value="12",
                                           dimension=windows_1258_form("Giấy khai sinh")),
                        encoding="cp1258"),
         "rejected", (0, 0, 0, 0), [(None, None, "unreadable_file")]),
    Case("nfd_dimension_stored_as_nfc",
         submission_file("nfd.csv", sub(code="vneid_integrated_documents", value="7",
                                        dimension=DOC_NFD)),
         "loaded", (1, 1, 0, 0),
         check=stored("select dimension from raw.submissions", [(DOC_NFC,)])),
    Case("nfd_task_title_stored_as_nfc",
         csv_file("tasks/nfd.csv", TASK,
                  [task(title=unicodedata.normalize("NFD", "Cấp căn cước"))]),
         "loaded", (1, 1, 0, 0),
         check=stored("select title from raw.tasks", [("Cấp căn cước",)])),
    Case("semicolon_separated",
         submission_file("semi.csv", sub(code="eid_activation_rate", value="89,8"), sep=";"),
         "loaded", (1, 1, 0, 0), check=stored("select value from raw.submissions", [(89.8,)])),
    # -- numbers ----------------------------------------------------------------------------
    Case("vietnamese_thousands_and_decimal_comma",
         submission_file("vn.csv", sub(code="procedure_time_cut_rate", num="8.502",
                                       den="27.843,5", value="30,54")),
         "loaded", (1, 1, 0, 0),
         check=stored("select numerator, denominator, value from raw.submissions",
                      [(8502.0, 27843.5, 30.54)])),
    Case("english_number_format",
         submission_file("en.csv", sub(num="1,234.5", den="12,345,678")),
         "loaded", (1, 1, 0, 0),
         check=stored("select numerator, denominator from raw.submissions",
                      [(1234.5, 12345678.0)])),
    Case("ambiguous_comma_thousands", submission_file("amb.csv", sub(num="127,450", den="200")),
         "loaded", (1, 0, 0, 1), [(2, "numerator", "bad_number")]),
    Case("two_decimal_separators", submission_file("two.csv", sub(num="1.234.5", den="2000")),
         "loaded", (1, 0, 0, 1), [(2, "numerator", "bad_number")]),
    Case("percent_sign_on_value",
         submission_file("pct.csv", sub(code="school_fee_cashless_share", num="428", den="432",
                                        value="99,07%")),
         "loaded", (1, 1, 0, 0), check=stored("select value from raw.submissions", [(99.07,)])),
    Case("percent_sign_on_a_count", submission_file("pctc.csv", sub(num="45%", den="100")),
         "loaded", (1, 0, 0, 1), [(2, "numerator", "bad_number")]),
    Case("words_in_a_number",
         submission_file("words.csv", sub(code="eid_activation_rate", value="khoảng 80")),
         "loaded", (1, 0, 0, 1), [(2, "value", "bad_number")]),
    # -- spreadsheets -----------------------------------------------------------------------
    Case("xlsx_percent_formatted_cell",
         xlsx_file("submissions/pct.xlsx",
                   [SUB, ["01", "2024-H1", None, "eid_activation_rate", None, None, None, 0.898]],
                   percent=("H2",)),
         "loaded", (1, 1, 0, 0),
         check=stored("select round(value, 6) from raw.submissions", [(89.8,)])),
    Case("xlsx_formula_never_computed",
         xlsx_file("submissions/formula.xlsx",
                   [SUB, sub(num=428, den=432, value="=F2/G2*100"), sub(unit="02", num=1, den=2)]),
         "loaded", (2, 1, 0, 1), [(2, "value", "formula_not_computed")]),
    Case("xlsx_formula_computed_by_excel",
         xlsx_file("submissions/computed.xlsx",
                   [SUB, sub(code="school_fee_cashless_share", num=428, den=432,
                             value="=ROUND(F2/G2*100,2)")],
                   cached={"H2": "99.07"}),
         "loaded", (1, 1, 0, 0), check=stored("select value from raw.submissions", [(99.07,)])),
    Case("xlsx_title_rows_above_the_header",
         xlsx_file("submissions/titled.xlsx",
                   [["BÁO CÁO KẾT QUẢ ĐỀ ÁN 06 — 6 THÁNG ĐẦU NĂM 2024"], [], SUB, GOOD,
                    sub(unit="99", num="1", den="2")],
                   merge=("A1:K1",)),
         "loaded", (2, 1, 0, 1), [(5, "unit_code", "unknown_unit")]),  # sheet row 5
    Case("xlsx_merged_two_level_header",
         xlsx_file("submissions/two_level.xlsx",
                   [[*SUB[:5], "Số liệu", None, None, *SUB[8:]],
                    [None] * 5 + ["numerator", "denominator", "value"],
                    GOOD],
                   merge=("A1:A2", "B1:B2", "C1:C2", "D1:D2", "E1:E2", "F1:H1")),
         "loaded", (1, 1, 0, 0),
         check=stored("select numerator, denominator from raw.submissions", [(142.0, 127450.0)])),
    Case("xlsx_formula_injection",
         xlsx_file("submissions/inject.xlsx", [SUB, sub(unit=INJECTION, num=1, den=2)]),
         "loaded", (1, 0, 0, 1), [(2, "unit_code", "formula_not_computed")],
         check=listing_escapes_injection),
    Case("xlsx_not_a_workbook", raw_file("submissions/broken.xlsx", b"PK\x03\x04 not a zip"),
         "rejected", (0, 0, 0, 0), [(None, None, "unreadable_file")]),
    # -- file shape -------------------------------------------------------------------------
    Case("empty_file", raw_file("submissions/empty.csv", b""), "rejected", (0, 0, 0, 0),
         [(None, None, "empty_file")]),
    Case("blank_lines_only", raw_file("submissions/blank.csv", b"\n \n\r\n"), "rejected",
         (0, 0, 0, 0), [(None, None, "empty_file")]),
    Case("header_only", submission_file("header.csv"), "rejected", (0, 0, 0, 0),
         [(None, None, "empty_file")]),
    Case("missing_column",
         csv_file("submissions/missing.csv", [c for c in SUB if c != "denominator"],
                  [[c for i, c in enumerate(GOOD) if i != 6]] * 2),
         "rejected", (2, 0, 0, 2), [(None, None, "missing_columns")]),
    Case("extra_column_kept",
         csv_file("submissions/extra.csv", [*SUB, "ghi_chu"], [[*GOOD, "số liệu sơ bộ"]]),
         "loaded", (1, 1, 0, 0),
         check=stored("select extra_columns ->> 'ghi_chu' from raw.submissions", [("số liệu sơ bộ",)])),
    Case("duplicated_header",
         csv_file("submissions/dupcol.csv", [*SUB, "value"], [[*GOOD, "1"]]),
         "rejected", (1, 0, 0, 1), [(None, None, "duplicate_columns")]),
    Case("unknown_feed", csv_file("inbox/other.csv", ["ma", "ten"], [["1", "a"]]),
         "rejected", (0, 0, 0, 0), [(None, None, "unknown_feed")]),
    Case("blank_line_between_rows_keeps_row_numbers",
         submission_file("gap.csv", GOOD, [], sub(unit="99", num="1", den="2")),
         "loaded", (2, 1, 0, 1), [(4, "unit_code", "unknown_unit")]),
    # -- submission rows --------------------------------------------------------------------
    Case("unknown_unit", submission_file("unit.csv", sub(unit="99", num="1", den="2")),
         "loaded", (1, 0, 0, 1), [(2, "unit_code", "unknown_unit")]),
    Case("unknown_indicator",
         submission_file("ind.csv", sub(code="online_rate_typo", value="50")),
         "loaded", (1, 0, 0, 1), [(2, "indicator_code", "unknown_indicator")]),
    Case("old_commune_after_the_reorganisation",
         submission_file("old_commune.csv", sub(unit="00001", period="2026-H1", num="1",
                                                den="2")),
         "loaded", (1, 0, 0, 1), [(2, "unit_code", "unit_not_valid_in_period")]),
    Case("new_commune_before_the_reorganisation",
         submission_file("new_commune.csv", sub(unit="06978", period="2024-H1", num="1",
                                                den="2")),
         "loaded", (1, 0, 0, 1), [(2, "unit_code", "unit_not_valid_in_period")]),
    Case("future_period", submission_file("future.csv", sub(period="2099-Q1", num="1", den="2")),
         "loaded", (1, 0, 0, 1), [(2, "period", "future_period")]),
    Case("impossible_period", submission_file("p13.csv", sub(period="2024-13", num="1", den="2")),
         "loaded", (1, 0, 0, 1), [(2, "period", "bad_period")]),
    Case("impossible_as_of_date",
         submission_file("asof.csv", sub(code="eid_activation_rate", value="80",
                                         as_of="31/02/2024")),
         "loaded", (1, 0, 0, 1), [(2, "as_of", "bad_type")]),
    Case("numerator_above_denominator",
         submission_file("numden.csv", sub(num="433", den="432")),
         "loaded", (1, 0, 0, 1), [(2, "numerator", "numerator_above_denominator")]),
    Case("negative_count",
         submission_file("neg.csv", sub(code="vneid_integrated_documents", value="-5",
                                        dimension=DOC_NFC)),
         "loaded", (1, 0, 0, 1), [(2, "value", "negative")]),
    Case("rate_above_100",
         submission_file("r100.csv", sub(code="eid_activation_rate", value="100,5")),
         "loaded", (1, 0, 0, 1), [(2, "value", "rate_above_100")]),
    Case("conflicting_numerator_denominator_value",
         submission_file("conflict.csv", sub(num="1", den="4", value="30")),
         "loaded", (1, 0, 0, 1), [(2, "value", "value_conflict")]),
    Case("value_agrees_within_rounding",
         submission_file("rounding.csv", sub(num="1", den="3", value="33,3")),
         "loaded", (1, 1, 0, 0)),
    Case("identical_duplicate_rows",
         submission_file("dup.csv", GOOD, GOOD), "loaded", (2, 1, 0, 1),
         [(3, None, "duplicate_row")]),
    Case("conflicting_duplicate_rows",
         submission_file("dupc.csv", GOOD, sub(num="143", den="127.450")), "loaded",
         (2, 0, 0, 2), [(2, None, "duplicate_row"), (3, None, "duplicate_row")]),
    Case("formula_injection_in_a_csv_cell",
         submission_file("inject.csv", sub(unit=INJECTION, num="1", den="2")),
         "loaded", (1, 0, 0, 1), [(2, "unit_code", "unknown_unit")],
         check=listing_escapes_injection),
    Case("resubmission_after_a_rejected_row",
         submission_file("fixed.csv", sub(num="142", den="127.450")), "loaded", (1, 1, 0, 0),
         before=submission_file("first.csv", sub(num="1142", den="127,450"))),
    # -- dossier rows -----------------------------------------------------------------------
    Case("dossier_wrong_types",
         dossier_file("types.csv", {"dossier_id": "A"}, {"dossier_id": "B", "fee_amount": "mười"},
                      {"dossier_id": "C", "is_digitized": "có"}),
         "loaded", (3, 1, 0, 2), [(3, "fee_amount", "bad_type"), (4, "is_digitized", "bad_type")]),
    Case("dossier_impossible_calendar_date",
         dossier_file("feb30.csv", {"received_at": "2024-02-30 08:00:00"}),
         "loaded", (1, 0, 0, 1), [(2, "received_at", "bad_type")]),
    Case("dossier_unknown_value",
         dossier_file("enum.csv", {"channel": "email"}),
         "loaded", (1, 0, 0, 1), [(2, "channel", "bad_value")]),
    Case("dossier_missing_required_value",
         dossier_file("req.csv", {"dossier_id": ""}, GOOD_DOSSIER),
         "loaded", (2, 1, 0, 1), [(2, "dossier_id", "missing_value")]),
    Case("dossier_negative_fee",
         dossier_file("fee.csv", {"fee_amount": "-20000"}),
         "loaded", (1, 0, 0, 1), [(2, "fee_amount", "negative")]),
    Case("dossier_finished_before_received",
         dossier_file("dates.csv", {"finished_at": "2024-02-28 08:00:00", "status": "finished"}),
         "loaded", (1, 0, 0, 1), [(2, "finished_at", "impossible_date")]),
    Case("dossier_received_in_the_future",
         dossier_file("future.csv", {"unit_code": "01", "agency_code": "01.STP",
                                     "received_at": "2099-01-01 08:00:00",
                                     "due_at": "2099-01-05 08:00:00",
                                     "updated_at": "2099-01-01 09:00:00"}),
         "loaded", (1, 0, 0, 1),
         [(2, "received_at", "future_date"), (2, "updated_at", "future_date")]),
    Case("dossier_unknown_unit_and_agency",
         dossier_file("units.csv", {"unit_code": "99999"}, {"dossier_id": "D2",
                                                           "agency_code": "70.SXYZ"}),
         "loaded", (2, 0, 0, 2),
         [(2, "unit_code", "unknown_unit"), (3, "agency_code", "unknown_unit")]),
    Case("dossier_commune_outside_its_validity",
         dossier_file("commune.csv", {"unit_code": "00001", "agency_code": "00001",
                                      "received_at": "2025-08-01 08:00:00",
                                      "due_at": "2025-08-05 08:00:00",
                                      "updated_at": "2025-08-01 09:00:00"}),
         "loaded", (1, 0, 0, 1),
         [(2, "agency_code", "unit_not_valid_in_period"),
          (2, "unit_code", "unit_not_valid_in_period")]),
    # a department code retired on 1 March 2025 still names its successor until the province
    # itself ends (30 June 2025 for Bình Phước 70): accepted before that, quarantined after
    Case("dossier_retired_department_code",
         dossier_file("retired.csv",
                      {"unit_code": "70", "agency_code": "70.STNMT",
                       "received_at": "2025-04-01 08:00:00", "due_at": "2025-04-05 08:00:00",
                       "updated_at": "2025-04-01 09:00:00"},
                      {"dossier_id": "D2", "unit_code": "70", "agency_code": "70.STNMT",
                       "received_at": "2025-08-01 08:00:00", "due_at": "2025-08-05 08:00:00",
                       "updated_at": "2025-08-01 09:00:00"}),
         "loaded", (2, 1, 0, 1),
         [(3, "agency_code", "unit_not_valid_in_period"),
          (3, "unit_code", "unit_not_valid_in_period")]),
    Case("dossier_duplicate_version_in_one_file",
         dossier_file("dupv.csv", {}, {}), "loaded", (2, 1, 0, 1),
         [(3, "dossier_id", "duplicate_row")]),
    Case("dossier_versions_out_of_order_in_one_file",
         dossier_file("order.csv", {"updated_at": "2024-03-04 09:00:00", "status": "finished",
                                    "finished_at": "2024-03-04 09:00:00"},
                      {"updated_at": "2024-03-02 09:00:00"}),
         "loaded", (2, 1, 1, 0)),
    Case("dossier_version_going_back_in_time",
         dossier_file("late_old.csv", {"updated_at": "2024-03-02 09:00:00"}),
         "loaded", (1, 0, 1, 0),
         before=dossier_file("newer.csv", {"updated_at": "2024-03-04 09:00:00",
                                           "status": "finished",
                                           "finished_at": "2024-03-04 09:00:00"}),
         check=stored("select status from raw.dossiers order by updated_at desc limit 1",
                      [("finished",)])),
    Case("parquet_with_a_bad_row",
         parquet_file("dossiers/part.parquet", [BASE, {**BASE, "dossier_id": "N",
                                                       "fee_amount": "-1"}]),
         "loaded", (2, 1, 0, 1), [(2, "fee_amount", "negative")]),  # Parquet: record number
    Case("parquet_truncated", parquet_file("dossiers/cut.parquet", [BASE] * 3, truncate=True),
         "rejected", (0, 0, 0, 0), [(None, None, "unreadable_file")]),
    # -- task rows --------------------------------------------------------------------------
    Case("task_year_not_a_number", csv_file("tasks/year.csv", TASK, [task(year="2025a")]),
         "loaded", (1, 0, 0, 1), [(2, "year", "bad_type")]),
    Case("task_unknown_status", csv_file("tasks/status.csv", TASK, [task(status="xong")]),
         "loaded", (1, 0, 0, 1), [(2, "status", "bad_value")]),
    Case("task_duplicate_rows", csv_file("tasks/dup.csv", TASK, [task(), task()]),
         "loaded", (2, 1, 1, 0)),
    Case("task_title_that_looks_like_a_formula",
         csv_file("tasks/inject.csv", TASK, [task(title=INJECTION)]), "loaded", (1, 1, 0, 0),
         check=stored("select title from raw.tasks", [(INJECTION,)])),  # kept as typed
]  # fmt: skip

RAW_TABLE = {"submissions": "raw.submissions", "dossiers": "raw.dossiers", "tasks": "raw.tasks"}


def test_the_corpus_covers_the_issue() -> None:
    assert len(CASES) >= 40
    assert len({c.name for c in CASES}) == len(CASES)
    reasons = {p[2] for c in CASES for p in c.problems}
    assert reasons >= {
        "unreadable_file", "empty_file", "missing_columns", "duplicate_columns", "unknown_feed",
        "bad_number", "bad_type", "bad_value", "bad_period", "future_period", "future_date",
        "unknown_unit", "unknown_indicator", "unit_not_valid_in_period", "negative",
        "numerator_above_denominator", "rate_above_100", "value_conflict", "duplicate_row",
        "impossible_date", "formula_not_computed", "missing_value",
    }  # fmt: skip


def reader(settings: Settings) -> duckdb.DuckDBPyConnection:
    """One read-only connection for a test's checks (a connection per query cost 10 ms each:
    2 s of the whole corpus's checks)."""
    return duckdb.connect(str(settings.warehouse_db), read_only=True)


def assert_nothing_lost(
    settings: Settings, con: duckdb.DuckDBPyConnection, report: FileReport
) -> None:
    """Per file: every row read is accepted, superseded or quarantined, and is stored."""
    if report.status == "already_loaded":  # the same bytes came in another file: stored there
        digest = hashlib.sha256(report.path.read_bytes()).hexdigest()
        assert con.execute(
            "select status from raw.load_files where content_hash = ?", [digest]
        ).fetchall() == [("loaded",)]
        return
    assert report.rows_read == report.accepted + report.superseded + report.quarantined
    # rows stored in any raw feed table under the file's load (none for a rejected file)
    union = " union all ".join(f"select _load_id from {t}" for t in RAW_TABLE.values())
    [(status, read, accepted, superseded, quarantined, stored, distinct_rows, whole)] = con.execute(
        "select status, rows_read, rows_accepted, rows_superseded, rows_quarantined, "
        f"(select count(*) from ({union}) where _load_id = f.load_id), "
        "(select count(distinct row_number) from raw.quarantine q "
        " where q.load_id = f.load_id), "
        "(select count(*) from raw.quarantine q "
        " where q.load_id = f.load_id and row_number is null) "
        "from raw.load_files as f where file_path = ?",
        [str(report.path)],
    ).fetchall()
    assert stored == report.accepted + report.superseded
    assert (status, read, accepted, superseded, quarantined) == (
        report.status,
        report.rows_read,
        report.accepted,
        report.superseded,
        report.quarantined,
    )
    if report.status == "rejected":
        assert whole == 1  # one entry for the whole file
        copies = list(settings.quarantine_dir.glob(f"*_{report.path.name}"))
        assert [c.read_bytes() for c in copies] == [report.path.read_bytes()]
    else:
        assert distinct_rows == report.quarantined


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input(case: Case, settings: Settings, tmp_path: Path) -> None:
    if case.before is not None:
        [first] = ingest(settings, [case.before(tmp_path / "before")])
        assert first.status == "loaded"
    path = case.write(tmp_path / "files")
    [report] = ingest(settings, [path])
    assert report.status == case.status, report.line()
    counts = (report.rows_read, report.accepted, report.superseded, report.quarantined)
    assert counts == case.counts, report.line()
    with reader(settings) as con:
        found = con.execute(
            "select row_number, column_name, reason_code from raw.quarantine q "
            "join raw.load_files f using (load_id) where f.file_path = ? order by all",
            [str(report.path)],
        ).fetchall()
        assert_nothing_lost(settings, con, report)
    assert sorted(found, key=str) == sorted(case.problems, key=str)
    assert report.reasons == Counter(p[2] for p in case.problems)
    if case.check is not None:
        case.check(settings, report)


def test_the_whole_corpus_in_one_load_loses_nothing(settings: Settings, tmp_path: Path) -> None:
    """Every case's files dropped in one folder and loaded in one call: per file, nothing is
    lost, and the good rows of files with bad rows load."""
    folder = tmp_path / "landing"
    for i, case in enumerate(CASES):
        if case.before is not None:
            case.before(folder / f"{i:02d}_before")
        case.write(folder / f"{i:02d}")
    reports = ingest(settings, [folder])
    assert len(reports) == len(CASES) + sum(c.before is not None for c in CASES)
    with reader(settings) as con:
        for report in reports:
            assert_nothing_lost(settings, con, report)
    totals = Counter[str]()
    for report in reports:
        totals.update(
            read=report.rows_read,
            accepted=report.accepted,
            superseded=report.superseded,
            quarantined=report.quarantined,
        )
    assert totals["read"] == totals["accepted"] + totals["superseded"] + totals["quarantined"]
    assert totals["accepted"] > 0 and totals["quarantined"] > 0
    mixed = [r for r in reports if r.accepted and r.quarantined]
    assert len(mixed) >= 5  # files with good and bad rows: the good rows loaded
