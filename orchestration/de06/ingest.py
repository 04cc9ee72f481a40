"""Load feed files into the raw layer, idempotently, quarantining what is bad.

* A file is identified by the SHA-256 of its bytes: loading the same bytes again changes nothing.
* Dossier files (CSV, Parquet) are read and checked by DuckDB itself, in SQL: no Python per row.
* Submission and task files (CSV in UTF-8 with or without BOM, XLSX) are small and typed by
  people: they are parsed in Python with the rules of ``de06.numbers``.
* Every row read ends up accepted, superseded (kept, but a newer version wins) or quarantined
  (kept in ``raw.quarantine`` with file, row, column, value and a reason in English and
  Vietnamese). A file bad as a whole is quarantined whole and the rest still loads.
* ``applicant_id`` is replaced by an HMAC-SHA256 pseudonym on the way in.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import errno
import hashlib
import io
import json
import os
import re
import shutil
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from de06.numbers import NumberFormatError, ParsedNumber, parse_number
from de06.periods import parse_period
from de06.reference import Reference, load_reference
from de06.settings import Settings
from de06.warehouse import connect

DOSSIER_COLUMNS: dict[str, str] = {
    "source_system": "varchar",
    "dossier_id": "varchar",
    "agency_code": "varchar",
    "unit_code": "varchar",
    "procedure_code": "varchar",
    "received_at": "timestamp",
    "channel": "varchar",
    "online_level": "varchar",
    "due_at": "timestamp",
    "finished_at": "timestamp",
    "status": "varchar",
    "fee_amount": "bigint",
    "payment_channel": "varchar",
    "is_digitized": "boolean",
    "has_e_result": "boolean",
    "reused_data": "boolean",
    "identity_verified": "boolean",
    "applicant_id": "varchar",
    "satisfaction": "varchar",
    "synced_national_at": "timestamp",
    "updated_at": "timestamp",
}
# Parquet dossier files read in one scan (and loaded in one transaction) at most
PARQUET_BATCH_FILES = 100
DOSSIER_REQUIRED = (
    "source_system",
    "dossier_id",
    "agency_code",
    "unit_code",
    "received_at",
    "channel",
    "due_at",
    "status",
    "updated_at",
)
DOSSIER_ENUMS = {
    "source_system": ("provincial", "national_portal"),
    "channel": ("online", "direct", "postal"),
    "online_level": ("full", "partial"),
    "status": ("received", "processing", "finished", "returned", "withdrawn", "rejected"),
    "payment_channel": ("online", "cash", "bank_transfer"),
    "satisfaction": ("very_satisfied", "satisfied", "neutral", "dissatisfied"),
}
SUBMISSION_COLUMNS = (
    "unit_code",
    "period",
    "as_of",
    "indicator_code",
    "dimension",
    "numerator",
    "denominator",
    "value",
    "target",
    "rank",
    "ranked_of",
)
TASK_COLUMNS = (
    "unit_code",
    "year",
    "task_id",
    "title",
    "origin",
    "deadline",
    "status",
    "updated_at",
)
FEED_COLUMNS: dict[str, tuple[str, ...]] = {
    "dossiers": tuple(DOSSIER_COLUMNS),
    "submissions": SUBMISSION_COLUMNS,
    "tasks": TASK_COLUMNS,
}
SUFFIXES = {".csv": "csv", ".parquet": "parquet", ".xlsx": "xlsx"}

REASONS_VI = {
    "missing_value": "Thiếu giá trị bắt buộc",
    "bad_type": "Sai kiểu dữ liệu",
    "bad_value": "Giá trị không hợp lệ",
    "duplicate_row": "Dòng trùng lặp trong tệp",
    "unknown_unit": "Mã đơn vị không tồn tại",
    "unit_not_valid_in_period": "Đơn vị không tồn tại trong kỳ báo cáo",
    "unknown_indicator": "Mã chỉ tiêu không có trong danh mục",
    "bad_period": "Kỳ báo cáo không hợp lệ",
    "future_period": "Kỳ báo cáo ở tương lai",
    "bad_number": "Không đọc được số",
    "negative": "Số âm",
    "numerator_above_denominator": "Tử số lớn hơn mẫu số",
    "rate_above_100": "Tỷ lệ lớn hơn 100%",
    "no_figures": "Thiếu số liệu (cần tử số và mẫu số, hoặc giá trị)",
    "counts_incomplete": "Chỉ có một trong tử số và mẫu số",
    "value_conflict": "Giá trị không khớp với tử số / mẫu số",
    "rank_above_ranked_of": "Thứ hạng lớn hơn số đơn vị được xếp hạng",
    "unreadable_file": "Không đọc được tệp",
    "missing_columns": "Tệp thiếu cột bắt buộc",
    "duplicate_columns": "Tệp có cột trùng tên",
    "empty_file": "Tệp không có dữ liệu",
    "unknown_feed": "Không nhận ra loại dữ liệu của tệp",
    "impossible_date": "Ngày không thể xảy ra (trước ngày tiếp nhận)",
    "future_date": "Ngày ở tương lai",
    "formula_not_computed": "Ô công thức chưa có giá trị (mở và lưu lại tệp trong Excel)",
}
NEGATIVE_FEE = "fee_amount must not be negative"
HEADER_SEARCH_ROWS = 10  # title rows above the header row are skipped, up to this many


class IngestError(Exception):
    """A file that cannot be loaded as a whole (it is quarantined, the rest still loads)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


MACHINE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EROFS, errno.ENOMEM})


def file_verdict(exc: BaseException) -> IngestError | None:
    """What to say of a file whose reading raised ``exc``: an ``IngestError`` naming what broke
    (the file is quarantined and the rest still loads), or None when the fault is the
    machine's (a full disk, no memory): then the run stops with nothing committed and the file
    waits in landing for the next run, instead of being refused for it."""
    if isinstance(exc, IngestError):
        return exc
    if not isinstance(exc, Exception) or isinstance(
        exc, (MemoryError, duckdb.OutOfMemoryException)
    ):
        return None
    if isinstance(exc, OSError) and exc.errno in MACHINE_ERRNOS:
        return None
    text = str(exc).strip()
    if isinstance(exc, duckdb.IOException) and any(
        sign in text.lower() for sign in ("no space left", "disk quota", "read-only file system")
    ):
        return None
    first = text.splitlines()[0] if text else ""
    return IngestError("unreadable_file", f"cannot read the file ({type(exc).__name__}): {first}")


@dataclass
class Problem:
    row_number: int | None
    column: str | None
    value: str | None
    code: str
    message: str
    # the row's unit, period, indicator and dimension as typed (submissions), so that its unit's
    # submission status can count it and a corrected later submission can resolve it
    unit_code: str | None = None
    period: str | None = None
    indicator_code: str | None = None
    dimension: str | None = None


@dataclass
class FileReport:
    path: Path
    feed: str | None
    status: str  # loaded | already_loaded | rejected
    rows_read: int = 0
    accepted: int = 0
    superseded: int = 0
    quarantined: int = 0
    extra_columns: list[str] = field(default_factory=list)
    message: str = ""
    reasons: Counter[str] = field(default_factory=Counter)

    def line(self) -> str:
        name = self.path.name
        if self.status == "already_loaded":
            return f"{name}: already loaded (same content), nothing changed"
        if self.status == "rejected":
            return f"{name}: REJECTED — {self.message}"
        text = (
            f"{name} [{self.feed}]: {self.rows_read} read, {self.accepted} accepted, "
            f"{self.superseded} superseded, {self.quarantined} quarantined"
        )
        if self.reasons:
            text += " (" + ", ".join(f"{k}: {v}" for k, v in sorted(self.reasons.items())) + ")"
        if self.extra_columns:
            text += f"; extra columns kept: {', '.join(self.extra_columns)}"
        return text


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def sql_identifier(name: str) -> str:
    """A column name from a file, as a DuckDB identifier: quoted, its quotes doubled (a header
    cell is data, never SQL)."""
    return '"' + name.replace('"', '""') + '"'


def sql_literal(text: str) -> str:
    """Text as a DuckDB string literal (standard SQL: a quote is doubled, a backslash is
    itself)."""
    return "'" + text.replace("'", "''") + "'"


# DuckDB's file readers expand these in a path (a glob): `a?b.csv` would also read `a1b.csv`
GLOB_CHARACTERS = frozenset("*?[]{}")
_links: list[Path] = []  # the folder of links to such files, made once per process


def duckdb_path(path: Path) -> str:
    """The path for DuckDB's readers. A path with a glob character is read through a link
    without one (in a private temporary folder, removed when the process ends), so that it
    names that file alone."""
    text = str(path)
    if not GLOB_CHARACTERS & set(text):
        return text
    if not _links:
        import atexit
        import tempfile

        folder = Path(tempfile.mkdtemp(prefix="de06-links-"))  # mode 700
        atexit.register(shutil.rmtree, folder, True)
        _links.append(folder)
    link = _links[0] / (hashlib.sha256(text.encode()).hexdigest()[:24] + path.suffix.lower())
    if not link.is_symlink():
        link.symlink_to(path.resolve())
    return str(link)


def _hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def hmac_pads(key: bytes) -> tuple[bytes, bytes]:
    """The outer and inner HMAC-SHA256 pads, so that DuckDB can compute the HMAC in SQL."""
    if len(key) > 64:
        key = hashlib.sha256(key).digest()
    key = key.ljust(64, b"\0")
    return bytes(b ^ 0x5C for b in key), bytes(b ^ 0x36 for b in key)


def iter_feed_files(paths: Iterable[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if child.is_file() and child.suffix.lower() in SUFFIXES:
                    yield child
        else:
            yield path


# ----------------------------------------------------------------------------- reading
def _csv_delimiter(first_line: str) -> str:
    """The header's most frequent of tab (Excel's "Unicode text"), ``;`` (Excel in a
    comma-decimal locale) and ``,`` (the default, also on a tie)."""
    counts = {d: first_line.count(d) for d in ("\t", ";", ",")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > counts[","] else ","


def _csv_header(path: Path) -> list[str]:
    with path.open("rb") as handle:
        head = _decode(handle.read(1 << 20), final=False)
    lines = head.splitlines()[:-1] or head.splitlines()  # the last line may be cut short
    if not lines:
        return []
    rows = list(csv.reader(lines, delimiter=_csv_delimiter(lines[0])))
    numbered = [(n, r) for n, r in enumerate(rows, start=1) if any(c.strip() for c in r)]
    return _find_header(numbered)[0] if numbered else []


def _decode(raw: bytes, final: bool = True) -> str:
    """UTF-8 (with or without BOM), or UTF-16 when the file starts with its byte-order mark
    (Excel's "Unicode text"). Anything else, e.g. Windows-1258, is rejected, never guessed."""
    utf16 = raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    decoder = codecs.getincrementaldecoder("utf-16" if utf16 else "utf-8-sig")()
    try:
        return decoder.decode(raw, final=final)
    except UnicodeDecodeError as exc:
        raise IngestError(
            "unreadable_file",
            f"not UTF-8 text (byte {exc.start}): save the file as CSV UTF-8 "
            "(or UTF-16 with a byte-order mark)",
        ) from exc


@dataclass(frozen=True)
class Uncomputed:
    """An XLSX formula cell with no value saved (the workbook was never computed by Excel)."""

    formula: str

    def __str__(self) -> str:
        return self.formula


Row = tuple[int, list[Any]]  # (row number in the file or sheet, cells)


def _read_table(path: Path) -> tuple[list[str], list[Row]]:
    """Header and data rows of a small CSV or XLSX file, each row with its number in the file
    (a spreadsheet's row number). Cells are str, or numbers, dates and ``Uncomputed`` from XLSX.
    Blank rows are dropped; title rows above the header are skipped (see ``_find_header``)."""
    kind = SUFFIXES.get(path.suffix.lower())
    rows: list[list[Any]]
    if kind == "csv":
        text = _decode(path.read_bytes())
        delimiter = _csv_delimiter(text.split("\n", 1)[0])
        rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    elif kind == "xlsx":
        rows = _xlsx_rows(path)
    else:
        raise IngestError("unreadable_file", f"unsupported file type '{path.suffix}'")
    numbered = [
        (n, r)
        for n, r in enumerate(rows, start=1)
        if any(str(c).strip() for c in r if c is not None)
    ]
    if not numbered:
        raise IngestError("empty_file", "the file is empty")
    header, first_data = _find_header(numbered)
    return header, [(n, r) for n, r in numbered if n >= first_data]


def _xlsx_rows(path: Path) -> list[list[Any]]:
    """The first sheet's cells: saved values (what Excel computed), percent-formatted numbers as
    ``("pct", value × 100)``, and formulas that were never computed as ``Uncomputed``."""
    from openpyxl import load_workbook

    try:
        values = load_workbook(path, read_only=True, data_only=True)
        formulas = load_workbook(path, read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many types for broken files
        raise IngestError("unreadable_file", f"not a readable XLSX workbook: {exc}") from exc
    rows: list[list[Any]] = []
    for value_cells, formula_cells in zip(
        values.worksheets[0].iter_rows(), formulas.worksheets[0].iter_rows(), strict=False
    ):
        row: list[Any] = []
        for cell, source in zip(value_cells, formula_cells, strict=False):
            value = cell.value
            fmt = getattr(cell, "number_format", "") or ""
            if isinstance(value, int | float) and not isinstance(value, bool) and "%" in fmt:
                value = ("pct", float(value) * 100)
            if value is None and source.data_type == "f":
                value = Uncomputed(source.value)
            row.append(value)
        rows.append(row)
    values.close()
    formulas.close()
    return rows


def _header_names(cells: list[Any]) -> list[str]:
    return [nfc(str(c if c is not None else "")).strip().lower() for c in cells]


def _find_header(numbered: list[Row]) -> tuple[list[str], int]:
    """The header (names normalised) and the number of the first data row.

    The header is the first row, among the first few, that names a feed's key column; rows
    above it are titles. When the row below it names columns where it has blanks, the two form
    one header (a group heading merged over several columns, the names in the row below).
    Without a key column the first row is taken (and its missing columns are reported).
    """
    keys = {"dossier_id", "indicator_code", "task_id"}
    known = {c for cols in FEED_COLUMNS.values() for c in cols}
    for i, (n, cells) in enumerate(numbered[:HEADER_SEARCH_ROWS]):
        header = _header_names(cells)
        if not keys & set(header):
            continue
        if i + 1 < len(numbered):
            n_below, below_cells = numbered[i + 1]
            below = _header_names(below_cells)
            named_below = [name for name in below if name]
            if named_below and set(named_below) <= known:
                width = max(len(header), len(below))
                header += [""] * (width - len(header))
                below += [""] * (width - len(below))
                merged = [lower or upper for upper, lower in zip(header, below, strict=True)]
                return merged, n_below + 1
        return header, n + 1
    n, cells = numbered[0]
    return _header_names(cells), n + 1


def _file_header(con: duckdb.DuckDBPyConnection, path: Path, kind: str) -> list[str]:
    """The column names a CSV or Parquet file declares, as written (normalised, not
    deduplicated)."""
    if kind == "parquet":  # an unreadable schema gets its verdict from file_verdict
        rows = con.execute(
            "select name from parquet_schema(?) where num_children is null",
            [duckdb_path(path)],
        ).fetchall()
        names = [str(r[0]) for r in rows]
    else:
        names = _csv_header(path)
    return [nfc(n).strip().lower() for n in names]


def detect_feed(path: Path) -> str:
    """Which feed a file belongs to: by its folder (landing/<feed>/), else by its header."""
    if path.parent.name in FEED_COLUMNS:
        return path.parent.name
    kind = SUFFIXES.get(path.suffix.lower())
    if kind == "parquet":
        con = duckdb.connect()
        try:
            cols = [
                r[0]
                for r in con.execute(
                    "describe select * from read_parquet(?)", [duckdb_path(path)]
                ).fetchall()
            ]
        except duckdb.Error as exc:
            raise IngestError("unreadable_file", f"not a readable Parquet file: {exc}") from exc
        finally:
            con.close()
    else:
        cols = _read_table(path)[0] if kind == "xlsx" else _csv_header(path)
        cols = [nfc(c).strip().lower() for c in cols]
    for feed, key in (
        ("dossiers", "dossier_id"),
        ("submissions", "indicator_code"),
        ("tasks", "task_id"),
    ):
        if key in cols:
            return feed
    raise IngestError(
        "unknown_feed",
        "cannot tell which feed this is (no dossier_id, indicator_code or task_id column)",
    )


def _read_feed_rows(path: Path, feed: str, report: FileReport) -> tuple[dict[str, int], list[Row]]:
    """Column positions and non-blank numbered rows of a small feed file; checks the header."""
    header, rows = _read_table(path)
    report.rows_read = len(rows)  # counted first: a file rejected whole still says what it held
    report.extra_columns = _check_columns(feed, header)
    if not rows:
        raise IngestError("empty_file", "the file has a header but no rows")
    return {name: i for i, name in enumerate(header) if name}, rows


def _formula_problems(index: dict[str, int], cells: list[Any], row_number: int) -> list[Problem]:
    return [
        Problem(
            row_number,
            column,
            str(cells[i]),
            "formula_not_computed",
            f"{column} is a formula with no saved value: open the file in Excel and save it",
        )
        for column, i in index.items()
        if i < len(cells) and isinstance(cells[i], Uncomputed)
    ]


def _check_columns(feed: str, header: list[str]) -> list[str]:
    """Return the extra columns; raise for missing or duplicated ones."""
    dupes = sorted(c for c, n in Counter(header).items() if n > 1)
    if dupes:
        raise IngestError("duplicate_columns", f"duplicated column(s): {', '.join(dupes)}")
    missing = [c for c in FEED_COLUMNS[feed] if c not in header]
    if missing:
        raise IngestError("missing_columns", f"missing column(s): {', '.join(missing)}")
    return [c for c in header if c not in FEED_COLUMNS[feed] and c]


# ----------------------------------------------------------------------------- the loader
class Loader:
    """Loads files into the raw layer over one write connection."""

    def __init__(self, settings: Settings, con: duckdb.DuckDBPyConnection | None = None) -> None:
        self.settings = settings
        # read first, outside any file's verdict: a missing or empty key stops the run
        self.pads = hmac_pads(settings.pseudonym_key())
        self.con = con or connect(settings.warehouse_db, memory_limit=settings.duckdb_memory_limit)
        self.ref: Reference = load_reference(settings.seeds_dir)
        self.today = dt.date.today()
        self._unit_validity_loaded = False

    def close(self) -> None:
        self.con.close()

    # -- bookkeeping ----------------------------------------------------------------------
    def _already_loaded(self, digest: str) -> bool:
        row = self.con.execute(
            "select 1 from raw.load_files where content_hash = ? and status = 'loaded'", [digest]
        ).fetchone()
        return row is not None

    def _new_load_ids(self, count: int) -> list[int]:
        """``count`` load ids after every id recorded, drawn inside the caller's transaction
        (one writer at a time: the writer lock). Not from a sequence: a sequence's value is
        kept apart from the rows, and after a kill -9 DuckDB gave back ids already written
        (every later load then failed on the load_files key)."""
        row = self.con.execute("select coalesce(max(load_id), 0) from raw.load_files").fetchone()
        newest = int(row[0]) if row else 0
        return list(range(newest + 1, newest + 1 + count))

    def _quarantine(
        self, load_id: int, feed: str | None, path: Path, problems: list[Problem]
    ) -> None:
        if not problems:
            return
        self.con.executemany(
            "insert into raw.quarantine (load_id, feed, file_name, row_number, column_name, value,"
            " reason_code, reason_en, reason_vi, unit_code, period, indicator_code, dimension)"
            " values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    load_id,
                    feed,
                    path.name,
                    p.row_number,
                    p.column,
                    p.value,
                    p.code,
                    p.message,
                    REASONS_VI.get(p.code, p.code),
                    p.unit_code,
                    p.period,
                    p.indicator_code,
                    p.dimension,
                )
                for p in problems
            ],
        )

    def _record(self, load_id: int, digest: str, kind: str, report: FileReport) -> None:
        self.con.execute(
            "insert into raw.load_files (load_id, feed, file_name, file_path, content_hash,"
            " file_format, loaded_at, status, rows_read, rows_accepted, rows_superseded,"
            " rows_quarantined, extra_columns, message, file_modified_at)"
            " values (?, ?, ?, ?, ?, ?, now()::timestamp, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                load_id,
                report.feed or "unknown",
                report.path.name,
                str(report.path),
                digest,
                kind,
                report.status,
                report.rows_read,
                report.accepted,
                report.superseded,
                report.quarantined,
                report.extra_columns,
                report.message,
                dt.datetime.fromtimestamp(report.path.stat().st_mtime),
            ],
        )

    def _write_rejection_file(self, path: Path, load_id: int, problems: list[Problem]) -> None:
        """Copy a rejected file, or list the rejected rows, in the quarantine folder."""
        folder = self.settings.quarantine_dir
        folder.mkdir(parents=True, exist_ok=True)
        # the quarantine holds files as sent, citizen IDs and all: private to the owner
        # (the folder 700: Settings.ensure_dirs; each file 600)
        if problems and problems[0].row_number is None:
            copy = folder / f"{load_id:06d}_{path.name}"
            shutil.copy2(path, copy)
            copy.chmod(0o600)
        listing = folder / f"{load_id:06d}_{path.stem}.rejected.csv"
        fd = os.open(listing, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with open(fd, "w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["file", "row", "column", "value", "reason", "ly_do"])
            for p in problems:
                writer.writerow(
                    [
                        spreadsheet_safe(path.name),
                        p.row_number or "",
                        p.column or "",
                        spreadsheet_safe(p.value or ""),
                        p.message,
                        REASONS_VI.get(p.code, p.code),
                    ]
                )

    def _ensure_unit_validity(self) -> None:
        """A temp table of every unit and agency code with its validity, for the dossier checks."""
        if self._unit_validity_loaded:
            return
        import pyarrow as pa

        # a department code retired by the March 2025 merger still names its successor
        validities = self.ref.all_validities() + self.ref.retired_agency_validities()
        table = pa.table(
            {
                "code": [v.code for v in validities],
                "valid_from": [v.valid_from for v in validities],
                "valid_to": [v.valid_to for v in validities],
            }
        )
        self.con.register("unit_validity_arrow", table)
        self.con.execute(
            "create or replace temp table unit_validity as select * from unit_validity_arrow"
        )
        self.con.unregister("unit_validity_arrow")
        self._unit_validity_loaded = True

    # -- entry points ---------------------------------------------------------------------
    def load_all(self, paths: Iterable[Path]) -> list[FileReport]:
        """Load files in order; consecutive Parquet files go through ``load_parquet`` together."""
        reports: list[FileReport] = []
        pending: list[Path] = []
        for path in paths:
            if path.suffix.lower() == ".parquet":
                pending.append(path)
                continue
            reports += self.load_parquet(pending)
            pending = []
            reports.append(self.load(path))
        return reports + self.load_parquet(pending)

    def load(self, path: Path) -> FileReport:
        """Load one file in a transaction of its own."""
        path = path.resolve()
        kind = SUFFIXES.get(path.suffix.lower(), path.suffix.lower().lstrip(".") or "unknown")
        report = FileReport(path=path, feed=None, status="loaded")
        try:
            digest = _hash(path)
        except OSError as exc:  # gone, not a file, not ours to read: said, nothing recorded
            if file_verdict(exc) is None:
                raise
            report.status = "rejected"
            report.message = f"cannot open the file: {exc.strerror or exc}"
            report.reasons["unreadable_file"] += 1
            return report
        if self._already_loaded(digest):
            report.status = "already_loaded"
            return report
        self.con.execute("begin transaction")
        (load_id,) = self._new_load_ids(1)
        problems: list[Problem] = []
        try:
            report.feed = detect_feed(path)
            if kind == "parquet" or (kind == "csv" and report.feed == "dossiers"):
                if report.feed != "dossiers":
                    raise IngestError(
                        "unknown_feed", "only the dossier feed is accepted as Parquet"
                    )
                problems = self._load_dossiers([(path, load_id, report)], kind)[load_id]
            elif report.feed == "submissions":
                problems = self._load_submissions(path, load_id, report)
            elif report.feed == "tasks":
                problems = self._load_tasks(path, load_id, report)
            else:
                raise IngestError("unknown_feed", f"{report.feed} files must be CSV or Parquet")
        except Exception as exc:  # a reader of one bad file raises anything: a verdict each
            self.con.execute("rollback")
            verdict = file_verdict(exc)
            if verdict is None:
                raise
            self.con.execute("begin transaction")
            report.status, report.message = "rejected", str(verdict)
            problems = [Problem(None, None, None, verdict.code, str(verdict))]
            report.reasons[verdict.code] += 1
        self._finish(load_id, digest, kind, report, problems)
        self.con.execute("commit")
        if problems:
            self._write_rejection_file(path, load_id, problems)
        return report

    def _finish(
        self, load_id: int, digest: str, kind: str, report: FileReport, problems: list[Problem]
    ) -> None:
        report.quarantined = report.rows_read - report.accepted - report.superseded
        if report.status == "rejected":
            report.quarantined = report.rows_read
        self._quarantine(load_id, report.feed, report.path, problems)
        self._record(load_id, digest, kind, report)

    def load_parquet(self, paths: list[Path]) -> list[FileReport]:
        """Load Parquet dossier files together: one read of all the files, one transaction.

        Files with the same columns and types are read by DuckDB in one scan, in parallel
        across files; each still gets its own load id, report and quarantine. A file that is
        not a plain dossier file (unreadable, another feed, missing or extra columns, no rows)
        is loaded on its own by ``load``, which says what is wrong with it."""
        reports: dict[Path, FileReport] = {}
        groups: dict[tuple[tuple[str, str], ...], list[tuple[Path, str]]] = {}
        seen: set[str] = set()
        for path in (p.resolve() for p in paths):
            try:
                digest = _hash(path)
            except OSError:
                reports[path] = self.load(path)  # which says why it cannot be opened
                continue
            if digest in seen or self._already_loaded(digest):
                reports[path] = FileReport(path=path, feed=None, status="already_loaded")
                continue
            seen.add(digest)
            signature = self._plain_dossier_signature(path)
            if signature is None:
                reports[path] = self.load(path)
            else:
                groups.setdefault(signature, []).append((path, digest))
        for group in groups.values():
            for start in range(0, len(group), PARQUET_BATCH_FILES):
                for report in self._load_parquet_group(group[start : start + PARQUET_BATCH_FILES]):
                    reports[report.path] = report
        return [reports[p.resolve()] for p in paths]

    def _plain_dossier_signature(self, path: Path) -> tuple[tuple[str, str], ...] | None:
        """The columns and types of a Parquet dossier file with exactly the contract's columns
        and at least one row; None for any other file."""
        if path.parent.name in FEED_COLUMNS and path.parent.name != "dossiers":
            return None  # another feed's folder: ``load`` rejects it
        try:
            described = self.con.execute(
                "describe select * from read_parquet(?)", [duckdb_path(path)]
            ).fetchall()
            rows = self.con.execute(
                "select sum(num_rows) from parquet_file_metadata(?)", [duckdb_path(path)]
            ).fetchone()
        except duckdb.Error:
            return None
        names = sorted(nfc(r[0]).strip().lower() for r in described)
        if names != sorted(DOSSIER_COLUMNS) or not rows or not rows[0]:
            return None
        return tuple((r[0], r[1]) for r in described)

    def _load_parquet_group(self, group: list[tuple[Path, str]]) -> list[FileReport]:
        self.con.execute("begin transaction")
        entries = [
            (path, load_id, FileReport(path=path, feed="dossiers", status="loaded"))
            for (path, _), load_id in zip(group, self._new_load_ids(len(group)), strict=True)
        ]
        try:
            problems = self._load_dossiers(entries, "parquet")
        except Exception as exc:
            self.con.execute("rollback")
            if file_verdict(exc) is None:
                raise
            # one of them cannot be read after all: each on its own, so the others still load
            return [self.load(path) for path, _ in group]
        for (_path, load_id, report), (_, digest) in zip(entries, group, strict=True):
            self._finish(load_id, digest, "parquet", report, problems[load_id])
        self.con.execute("commit")
        for path, load_id, _ in entries:
            if problems[load_id]:
                self._write_rejection_file(path, load_id, problems[load_id])
        return [report for _, _, report in entries]

    # -- dossiers: all in SQL -------------------------------------------------------------
    def _load_dossiers(
        self, entries: list[tuple[Path, int, FileReport]], kind: str
    ) -> dict[int, list[Problem]]:
        """Check and insert dossier files (one CSV, or Parquet files of one schema) in the open
        transaction; fill in each file's report and return its problems, by load id."""
        con = self.con
        reports = {load_id: report for _, load_id, report in entries}
        try:
            if kind == "parquet":
                # a view, not a copy: the checks and the insert each read the files (in
                # parallel, only the columns they need). Each row's load id comes from the
                # index of its file in the list: no file name carried on every row, no join
                listed = ", ".join(sql_literal(duckdb_path(path)) for path, _, _ in entries)
                ids = ", ".join(str(int(load_id)) for _, load_id, _ in entries)
                con.execute(
                    "create or replace temp view incoming as "
                    "select * exclude (file_row_number), "
                    f"[{ids}][file_index::bigint + 1]::bigint as _load_id, "
                    "file_row_number + 1 as _row_number "
                    f"from read_parquet([{listed}], file_row_number = true)"
                )
            else:
                ((path, load_id, _),) = entries
                con.execute(
                    "create or replace temp table incoming as select *, "
                    f"{int(load_id)}::bigint as _load_id, 0::bigint as _row_number "
                    "from read_csv(?, all_varchar = true, header = true, "
                    "normalize_names = false, encoding = 'utf-8')",
                    [duckdb_path(path)],
                )
                # insertion order is kept (preserve_insertion_order is on in this connection):
                # the n-th data row is line n + 1 of the file (line 1 is the header)
                con.execute(
                    "update incoming set _row_number = rowid - (select min(rowid) from incoming) + 2"
                )
            described = con.execute("describe incoming").fetchall()
            for load_id, count in con.execute(
                "select _load_id, count(*) from incoming group by all"
            ).fetchall():
                reports[load_id].rows_read = int(count)
        except duckdb.Error as exc:
            raise IngestError(
                "unreadable_file", f"cannot read the file: {str(exc).splitlines()[0]}"
            ) from exc
        for path, _, _ in entries:  # DuckDB's readers rename a duplicate (`x`, `x_1`)
            _check_columns("dossiers", _file_header(con, path, kind))
        actual = {
            nfc(r[0]).strip().lower(): (r[0], r[1])
            for r in described
            if r[0] not in ("_row_number", "_load_id")
        }
        extras = _check_columns("dossiers", list(actual))
        for report in reports.values():
            report.extra_columns = extras
            if report.rows_read == 0:
                raise IngestError("empty_file", "the file has a header but no rows")

        def text(col: str) -> str:
            name, typ = actual[col]
            ident = sql_identifier(name)
            return f"nullif(trim({ident}), '')" if typ == "VARCHAR" else f"{ident}::varchar"

        def native(col: str) -> bool:
            """The column already has the contract's type (a typed Parquet file)."""
            return actual[col][1] == DOSSIER_COLUMNS[col].upper() != "VARCHAR"

        def typed(col: str) -> str:
            name, typ = actual[col]
            if native(col):
                return sql_identifier(name)
            if typ == "VARCHAR":
                return f"try_cast({text(col)} as {DOSSIER_COLUMNS[col]})"
            return f"try_cast({sql_identifier(name)} as {DOSSIER_COLUMNS[col]})"

        # the checks of one row: (condition, column, value shown, reason code, message)
        row_checks: list[tuple[str, str, str, str, str]] = []
        for col, target in DOSSIER_COLUMNS.items():
            if col in DOSSIER_REQUIRED:
                row_checks.append(
                    (f"{text(col)} is null", col, "null", "missing_value", f"{col} is required")
                )
            if target != "varchar" and not native(col):
                row_checks.append(
                    (
                        f"{text(col)} is not null and {typed(col)} is null",
                        col,
                        text(col),
                        "bad_type",
                        f"{col} is not a valid {target}",
                    )
                )
            if col in DOSSIER_ENUMS:
                allowed = ", ".join(f"'{v}'" for v in DOSSIER_ENUMS[col])
                row_checks.append(
                    (
                        f"lower({text(col)}) not in ({allowed})",
                        col,
                        text(col),
                        "bad_value",
                        f"{col} must be one of: {', '.join(DOSSIER_ENUMS[col])}",
                    )
                )
        fee = ("fee_amount", text("fee_amount"))
        row_checks.append((f"{typed('fee_amount')} < 0", *fee, "negative", NEGATIVE_FEE))
        received = typed("received_at")
        for col, message in (
            ("due_at", "due_at is before received_at"),
            ("finished_at", "finished_at is before received_at"),
            ("updated_at", "updated_at (the version) is before received_at"),
        ):
            row_checks.append(
                (f"{typed(col)} < {received}", col, text(col), "impossible_date", message)
            )
        for col in ("received_at", "updated_at"):
            row_checks.append(
                (
                    f"{typed(col)} > $latest",
                    col,
                    text(col),
                    "future_date",
                    f"{col} lies in the future",
                )
            )
        # one pass over the rows: the rows with any problem, then a row per problem
        found = ", ".join(
            f"case when {cond} then {{'column_name': {sql_literal(col)}, 'value': {value}, "
            f"'code': {sql_literal(code)}, 'message': {sql_literal(message)}}} end"
            for cond, col, value, code, message in row_checks
        )
        any_problem = " or ".join(f"coalesce({cond}, false)" for cond, *_ in row_checks)
        checks = [
            "select _load_id, _row_number, p.column_name, p.value, p.code, p.message from ("
            f"select _load_id, _row_number, unnest(list_filter([{found}], x -> x is not null)) "
            f"as p from incoming where {any_problem})"
        ]
        self._ensure_unit_validity()
        for col in ("unit_code", "agency_code"):
            checks.append(_unit_check_sql(col, text(col), f"{received}::date"))
        # the same version twice in a file: the repeated keys by grouping, then their copies
        # after the first (no sort of every row)
        keyed = (
            f"select _load_id, _row_number, {text('source_system')} as k_source, "
            f"{text('dossier_id')} as k_id, {typed('updated_at')} as k_updated from incoming"
        )
        checks.append(
            "select _load_id, _row_number, 'dossier_id', k_id, 'duplicate_row', "
            "'the same dossier version (source, id, updated_at) appears earlier in the file' "
            "from (select i.*, row_number() over (partition by i._load_id, i.k_source, i.k_id, "
            f"i.k_updated order by i._row_number) as k from ({keyed}) as i "
            "semi join (select _load_id, k_source, k_id, k_updated "
            f"from ({keyed}) where k_id is not null group by all having count(*) > 1) as twice "
            "on i._load_id = twice._load_id and i.k_id = twice.k_id "
            "and i.k_source is not distinct from twice.k_source "
            "and i.k_updated is not distinct from twice.k_updated) "
            "where k > 1"
        )
        con.execute(
            "create or replace temp table problems as "
            + " union all ".join(f"({c})" for c in checks),
            {"latest": dt.datetime.now() + dt.timedelta(days=1)},
        )
        problems: dict[int, list[Problem]] = {load_id: [] for load_id in reports}
        for row in con.execute("select * from problems order by 1, 2, 3").fetchall():
            problems[row[0]].append(Problem(*row[1:]))
        # a row is superseded unless it is the version the marts keep: the newest updated_at,
        # then the later load (within a load a dossier's versions differ in updated_at: the same
        # one twice is quarantined above). Worked out before the insert, from the files' good
        # rows, and recorded on the rows themselves (_superseded_by_load_id), so the marts take
        # the current versions by a filter instead of ranking every version on every build.
        # One aggregate finds each dossier's winner in the batch (ordered by one bigint:
        # updated_at in microseconds, then the load's place in the batch; an overflow fails
        # loudly, years from now); older loads are read only for the current versions of the
        # dossiers the batch touches; the batch is read again only for the few dossiers with
        # several versions in it
        first, span = min(reports), max(reports) - min(reports) + 1
        # the key as it is stored (source_system lower-cased, as in the insert below)
        key_source, key_id = f"lower({text('source_system')})", text("dossier_id")
        key_updated = typed("updated_at")
        order = "epoch_us(updated_at) * $span + (_load_id - $first)"
        con.execute(
            f"""
            create or replace temp table superseded as
            with good as (
                select {key_source} as source_system, {key_id} as dossier_id,
                       {key_updated} as updated_at, _load_id, _row_number
                from incoming anti join problems using (_load_id, _row_number)
            ),
            newest as (
                select source_system, dossier_id, count(*) as n_versions,
                       max(updated_at) as updated_at,
                       arg_max(_load_id, {order}) as load_id,
                       arg_max(_row_number, {order}) as row_number
                from good
                group by all
            )
            -- the batch's versions that lose to a later one in the batch
            select g._load_id, g._row_number, n.load_id as by_load_id
            from good as g
            inner join newest as n
                on g.source_system = n.source_system and g.dossier_id = n.dossier_id
            where n.n_versions > 1 and (g._load_id <> n.load_id or g._row_number <> n.row_number)
            union all
            -- of the batch's newest version and an older load's current one (load ids only grow:
            -- "older" is a range the row groups' min/max can skip), the loser: the batch's when
            -- the older is later, else the older's (a tie: the later load wins)
            select
                case when later then load_id else older_load_id end,
                case when later then row_number else older_row_number end,
                case when later then older_load_id else load_id end
            from (
                select n.load_id, n.row_number, o._load_id as older_load_id,
                       o._row_number as older_row_number, o.updated_at > n.updated_at as later
                from newest as n
                inner join raw.dossiers as o
                    on n.source_system = o.source_system and n.dossier_id = o.dossier_id
                where o._load_id < $first and o._superseded_by_load_id is null
            )
            """,
            {"first": first, "span": span},
        )
        lost = dict(
            con.execute(
                "select _load_id, count(*) from superseded where _load_id >= $first group by all",
                {"first": first},
            ).fetchall()
        )
        quarantined = dict(
            con.execute(
                "select _load_id, count(distinct _row_number) from problems group by all"
            ).fetchall()
        )
        for load_id, report in reports.items():
            inserted = report.rows_read - int(quarantined.get(load_id, 0))
            report.superseded = int(lost.get(load_id, 0))
            report.accepted = inserted - report.superseded
        con.execute(
            "update raw.dossiers as d set _superseded_by_load_id = s.by_load_id "
            "from superseded as s "
            "where s._load_id < $first and d._load_id = s._load_id "
            "and d._row_number = s._row_number",
            {"first": first},
        )
        outer, inner = self.pads
        select_cols = []
        for col in DOSSIER_COLUMNS:
            if col == "applicant_id":
                select_cols.append(
                    f"case when {text(col)} is null then null else "
                    f"sha256($outer || unhex(sha256($inner || encode({text(col)})))) end"
                )
            elif col in DOSSIER_ENUMS:
                select_cols.append(f"lower({text(col)})")
            elif DOSSIER_COLUMNS[col] == "varchar":
                select_cols.append(text(col))
            else:
                select_cols.append(typed(col))
        extra_sql = (
            "json_object(" + ", ".join(f"{sql_literal(c)}, {text(c)}" for c in extras) + ")"
            if extras
            else "null::json"
        )
        # rows of Parquet files carry their row number: insertion order need not be kept
        con.execute(f"set preserve_insertion_order = {'false' if kind == 'parquet' else 'true'}")
        try:
            con.execute(
                f"insert into raw.dossiers select {', '.join(select_cols)}, {extra_sql}, "
                "_load_id, _row_number, s.by_load_id from incoming "
                "anti join problems using (_load_id, _row_number) "
                "left join superseded as s using (_load_id, _row_number)",
                {"outer": outer, "inner": inner},
            )
        finally:
            con.execute("set preserve_insertion_order = true")
        for load_id, report in reports.items():
            report.reasons.update(Counter(p.code for p in problems[load_id]))
        con.execute("drop table problems")
        con.execute("drop table superseded")
        con.execute("drop view incoming" if kind == "parquet" else "drop table incoming")
        return problems

    # -- submissions: Python, cell by cell -------------------------------------------------
    def _load_submissions(self, path: Path, load_id: int, report: FileReport) -> list[Problem]:
        index, rows = _read_feed_rows(path, "submissions", report)
        problems: list[Problem] = []
        good: list[tuple[int, dict[str, Any]]] = []
        for row_number, cells in rows:
            record, row_problems = self._check_submission(index, cells, row_number)
            if row_problems:
                problems.extend(row_problems)
            else:
                record["extra"] = {
                    c: _cell_text(cells, index[c]) for c in report.extra_columns
                } or None
                good.append((row_number, record))
        # the same unit/period/indicator/dimension twice in one file: identical → duplicate,
        # different → both quarantined (which one is right cannot be known)
        seen: dict[tuple, list[tuple[int, dict[str, Any]]]] = {}
        for row_number, record in good:
            key = (
                record["unit_code"],
                record["period"],
                record["indicator_code"],
                record["dimension"],
            )
            seen.setdefault(key, []).append((row_number, record))
        keep: list[tuple[int, dict[str, Any]]] = []
        for entries in seen.values():
            figures = {tuple((k, v) for k, v in r.items() if k != "extra") for _, r in entries}
            if len(figures) == 1:  # one row, or identical copies: keep the first
                keep.append(entries[0])
                rejected, message = entries[1:], f"duplicate of row {entries[0][0]}"
            else:
                rejected = entries
                message = (
                    "conflicting rows for the same unit, period, indicator and dimension "
                    f"(rows {', '.join(str(n) for n, _ in entries)})"
                )
            problems += [
                Problem(
                    n,
                    None,
                    None,
                    "duplicate_row",
                    message,
                    unit_code=r["unit_code"],
                    period=r["period"],
                    indicator_code=r["indicator_code"],
                    dimension=r["dimension"] or "",
                )
                for n, r in rejected
            ]
        if keep:
            self.con.executemany(
                "insert into raw.submissions values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        r["unit_code"],
                        r["period"],
                        r["as_of"],
                        r["indicator_code"],
                        r["dimension"],
                        r["numerator"],
                        r["denominator"],
                        r["value"],
                        r["target"],
                        r["rank"],
                        r["ranked_of"],
                        json.dumps(r["extra"], ensure_ascii=False) if r["extra"] else None,
                        load_id,
                        n,
                    )
                    for n, r in sorted(keep, key=lambda x: x[0])
                ],
            )
        report.accepted = len(keep)
        report.reasons.update(Counter(p.code for p in problems))
        return problems

    def _check_submission(
        self, index: dict[str, int], cells: list[Any], row_number: int
    ) -> tuple[dict[str, Any], list[Problem]]:
        problems: list[Problem] = []

        def bad(column: str | None, value: Any, code: str, message: str) -> None:
            problems.append(
                Problem(row_number, column, None if value is None else str(value), code, message)
            )

        text = {
            c: _cell_text(cells, index[c])
            for c in ("unit_code", "period", "as_of", "indicator_code", "dimension")
        }
        unit, indicator = text["unit_code"], text["indicator_code"].lower()
        period = None
        if not unit:
            bad("unit_code", unit, "missing_value", "unit_code is required")
        if not text["period"]:
            bad("period", "", "missing_value", "period is required")
        else:
            try:
                period = parse_period(text["period"])
            except ValueError as exc:
                bad("period", text["period"], "bad_period", str(exc))
        if period and period.start > self.today:
            bad(
                "period",
                text["period"],
                "future_period",
                f"period {period.code} lies in the future",
            )
        if unit:
            validities = self.ref.validities(unit)
            if not validities:
                bad("unit_code", unit, "unknown_unit", f"unknown unit code '{unit}'")
            elif period and not any(v.overlaps(period.start, period.end) for v in validities):
                bad(
                    "unit_code",
                    unit,
                    "unit_not_valid_in_period",
                    f"unit '{unit}' did not exist in {period.code}",
                )
        spec = self.ref.indicators.get(indicator)
        if not indicator:
            bad("indicator_code", "", "missing_value", "indicator_code is required")
        elif spec is None:
            bad(
                "indicator_code",
                indicator,
                "unknown_indicator",
                f"unknown indicator code '{indicator}'",
            )
        as_of = None
        if text["as_of"]:
            as_of = _parse_date(text["as_of"])
            if as_of is None:
                bad(
                    "as_of",
                    text["as_of"],
                    "bad_type",
                    "as_of must be a date (YYYY-MM-DD or DD/MM/YYYY)",
                )
            elif as_of > self.today:
                bad("as_of", text["as_of"], "future_period", "as_of lies in the future")
        numbers: dict[str, ParsedNumber | None] = {}
        for col in ("numerator", "denominator", "value", "target", "rank", "ranked_of"):
            try:
                numbers[col] = _cell_number(cells, index[col])
            except NumberFormatError as exc:
                numbers[col] = None
                bad(col, _cell_text(cells, index[col]), "bad_number", str(exc))
                continue
            parsed = numbers[col]
            if parsed is not None and parsed.value < 0:
                bad(col, _cell_text(cells, index[col]), "negative", f"{col} must not be negative")
            if parsed is not None and parsed.percent_sign and col not in ("value", "target"):
                bad(
                    col, _cell_text(cells, index[col]), "bad_number", f"{col} is a count: no % sign"
                )
        num, den, val = numbers["numerator"], numbers["denominator"], numbers["value"]
        is_rate = spec is not None and spec["unit"] == "rate"
        unreadable = {p.column for p in problems if p.code == "bad_number"}
        if (num is None) != (den is None) and not unreadable & {"numerator", "denominator"}:
            bad(
                "numerator" if num is None else "denominator",
                None,
                "counts_incomplete",
                "give both numerator and denominator, or neither",
            )
        if (
            num is None
            and den is None
            and val is None
            and not any(p.code == "bad_number" for p in problems)
        ):
            bad("value", None, "no_figures", "the row needs numerator and denominator, or value")
        if is_rate and num and den and num.value > den.value:
            bad(
                "numerator",
                _cell_text(cells, index["numerator"]),
                "numerator_above_denominator",
                f"numerator {num.value:g} is above denominator {den.value:g}",
            )
        if spec is not None and spec["unit"] in ("rate", "points") and val and val.value > 100:
            bad(
                "value",
                _cell_text(cells, index["value"]),
                "rate_above_100",
                f"value {val.value:g} is above 100",
            )
        if is_rate and num and den and val and den.value > 0:
            computed = 100 * num.value / den.value
            # "beyond rounding": one unit of the last decimal typed (30,54 for 30,535 passes)
            tolerance = 10 ** (-val.decimals) + 1e-9
            if abs(computed - val.value) > tolerance:
                bad(
                    "value",
                    _cell_text(cells, index["value"]),
                    "value_conflict",
                    f"value {val.value:g} disagrees with {num.value:g} / {den.value:g} = {computed:.4f}%",
                )
        rank, ranked_of = numbers["rank"], numbers["ranked_of"]
        if rank and ranked_of and rank.value > ranked_of.value:
            bad(
                "rank",
                _cell_text(cells, index["rank"]),
                "rank_above_ranked_of",
                "rank is above the number of units ranked",
            )
        record = {
            "unit_code": unit,
            "period": period.code if period else None,
            "as_of": as_of,
            "indicator_code": indicator,
            "dimension": text["dimension"] or None,
            **{k: (v.value if v else None) for k, v in numbers.items()},
        }
        formulas = _formula_problems(index, cells, row_number)
        if formulas:  # the row cannot be judged until Excel has computed it
            problems = formulas
        for p in problems:
            p.unit_code = unit or None
            p.period = period.code if period else (text["period"] or None)
            p.indicator_code = indicator or None
            p.dimension = text["dimension"]
        return record, problems

    # -- tasks -----------------------------------------------------------------------------
    def _load_tasks(self, path: Path, load_id: int, report: FileReport) -> list[Problem]:
        index, rows = _read_feed_rows(path, "tasks", report)
        problems: list[Problem] = []
        good = []
        for n, cells in rows:
            t = {c: _cell_text(cells, index[c]) for c in TASK_COLUMNS}
            row_problems = _formula_problems(index, cells, n)
            for col in ("unit_code", "year", "task_id", "status", "updated_at"):
                if not t[col]:
                    row_problems.append(Problem(n, col, "", "missing_value", f"{col} is required"))
            if t["unit_code"] and not self.ref.validities(t["unit_code"]):
                row_problems.append(
                    Problem(
                        n,
                        "unit_code",
                        t["unit_code"],
                        "unknown_unit",
                        f"unknown unit code '{t['unit_code']}'",
                    )
                )
            if t["status"] and t["status"] not in ("done", "in_progress", "not_started"):
                row_problems.append(
                    Problem(
                        n,
                        "status",
                        t["status"],
                        "bad_value",
                        "status must be done, in_progress or not_started",
                    )
                )
            if t["origin"] and t["origin"] not in ("central", "provincial"):
                row_problems.append(
                    Problem(
                        n,
                        "origin",
                        t["origin"],
                        "bad_value",
                        "origin must be central or provincial",
                    )
                )
            # ASCII digits only: str.isdigit() also takes "2024²", which int() refuses
            year = int(t["year"]) if re.fullmatch(r"[0-9]{1,4}", t["year"]) else None
            if t["year"] and year is None:
                row_problems.append(
                    Problem(n, "year", t["year"], "bad_type", "year must be a whole number")
                )
            deadline = _parse_date(t["deadline"]) if t["deadline"] else None
            if t["deadline"] and deadline is None:
                row_problems.append(
                    Problem(n, "deadline", t["deadline"], "bad_type", "deadline must be a date")
                )
            updated = _parse_timestamp(t["updated_at"]) if t["updated_at"] else None
            if t["updated_at"] and updated is None:
                row_problems.append(
                    Problem(
                        n,
                        "updated_at",
                        t["updated_at"],
                        "bad_type",
                        "updated_at must be a timestamp",
                    )
                )
            if row_problems:
                problems.extend(row_problems)
                continue
            extra = {c: _cell_text(cells, index[c]) for c in report.extra_columns}
            good.append(
                (
                    t["unit_code"],
                    year,
                    t["task_id"],
                    t["title"],
                    t["origin"] or None,
                    deadline,
                    t["status"],
                    updated,
                    json.dumps(extra, ensure_ascii=False) if extra else None,
                    load_id,
                    n,
                )
            )
        if good:
            self.con.executemany(
                "insert into raw.tasks values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", good
            )
        superseded = self.con.execute(
            """
            select count(*) from raw.tasks t
            where t._load_id = $load_id and exists (
                select 1 from raw.tasks o
                where o.unit_code = t.unit_code and o.year = t.year and o.task_id = t.task_id
                  and (o.updated_at > t.updated_at
                       or (o.updated_at = t.updated_at and (o._load_id, o._row_number) > (t._load_id, t._row_number))))
            """,
            {"load_id": load_id},
        ).fetchone()[0]  # type: ignore[index]
        report.superseded = int(superseded)
        report.accepted = len(good) - report.superseded
        report.reasons.update(Counter(p.code for p in problems))
        return problems


def _unit_check_sql(column: str, code: str, day: str) -> str:
    """Rows whose unit (or agency) code is unknown, or did not exist on the day received.

    Checked per distinct (code, day) pair, so that millions of rows cost a few thousand lookups.
    """
    return f"""
        select i._load_id, i._row_number, '{column}', i.code,
               case when b.known then 'unit_not_valid_in_period' else 'unknown_unit' end,
               case when b.known then '{column} ' || i.code || ' did not exist on ' || i.day
                    else 'unknown {column} ' || i.code end
        from (select _load_id, _row_number, {code} as code, {day} as day from incoming) as i
        inner join (
            select p.code, p.day, count(v.code) > 0 as known
            from (select distinct {code} as code, {day} as day from incoming) as p
            left join unit_validity as v on p.code = v.code
            where p.code is not null
            group by p.code, p.day
            having count(v.code) = 0 or (p.day is not null and count(*) filter (
                where v.valid_from <= p.day and (v.valid_to is null or v.valid_to >= p.day)) = 0)
        ) as b on i.code = b.code and i.day is not distinct from b.day"""


def _cell_text(cells: list[Any], i: int) -> str:
    value = cells[i] if i < len(cells) else None
    if value is None:
        return ""
    if isinstance(value, tuple):  # percent-formatted XLSX number
        value = value[1]
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return nfc(str(value)).strip()


def _cell_number(cells: list[Any], i: int) -> ParsedNumber | None:
    value = cells[i] if i < len(cells) else None
    if isinstance(value, tuple):
        number = round(float(value[1]), 10)
        return ParsedNumber(number, _decimals(number), True)
    if isinstance(value, bool):
        raise NumberFormatError(f"'{value}' is not a number")
    if isinstance(value, int | float):
        return ParsedNumber(float(value), _decimals(float(value)))
    return parse_number("" if value is None else str(value))


def _decimals(number: float) -> int:
    text = repr(number)
    return 0 if "e" in text or text.endswith(".0") else len(text.split(".")[1])


def _parse_date(text: str) -> dt.date | None:
    text = text.strip()[:10]
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def _parse_timestamp(text: str) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(text.strip())
    except ValueError:
        day = _parse_date(text)
        return dt.datetime.combine(day, dt.time()) if day else None


def spreadsheet_safe(text: str) -> str:
    """Neutralise formula injection when a value is written back into a spreadsheet or CSV."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def ingest(
    settings: Settings, paths: Iterable[Path], con: duckdb.DuckDBPyConnection | None = None
) -> list[FileReport]:
    """Load every feed file under ``paths``; returns one report per file."""
    settings.ensure_dirs()
    loader = Loader(settings, con)
    try:
        return loader.load_all(iter_feed_files(paths))
    finally:
        if con is None:
            loader.close()
