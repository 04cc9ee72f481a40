"""The load ledger: which files were loaded (``raw.load_files``, one row per attempt, by
the SHA-256 of the file's bytes), the load ids, and the quarantine (``raw.quarantine`` and
the rejection listings beside the warehouse)."""

from __future__ import annotations

import csv
import datetime as dt
import os
import shutil
from pathlib import Path

import duckdb

from de06.contracts import reason_vi
from de06.ingest.sqltext import spreadsheet_safe
from de06.ingest.verdicts import FileReport, Problem


class Ledger:
    """The ledger's rows, written over the loader's connection inside its transactions."""

    def __init__(
        self, con: duckdb.DuckDBPyConnection, quarantine_dir: Path, copy_limit_mb: int
    ) -> None:
        self.con = con
        self.quarantine_dir = quarantine_dir
        # a file rejected whole is copied into the quarantine up to this size; a larger one is
        # named in its listing only (it stays where it was sent from, or in the archive)
        self.copy_limit = copy_limit_mb * 1024 * 1024

    def already_loaded(self, digest: str) -> bool:
        row = self.con.execute(
            "select 1 from raw.load_files where content_hash = ? and status = 'loaded'", [digest]
        ).fetchone()
        return row is not None

    def new_load_ids(self, count: int) -> list[int]:
        """``count`` load ids after every id recorded (one writer at a time: DuckDB's file
        lock keeps other processes out, and a loader loads one group at a time; drawn inside
        the caller's transaction, or just before it). Not from a sequence: a sequence's value is
        kept apart from the rows, and after a kill -9 DuckDB gave back ids already written
        (every later load then failed on the load_files key)."""
        row = self.con.execute("select coalesce(max(load_id), 0) from raw.load_files").fetchone()
        newest = int(row[0]) if row else 0
        return list(range(newest + 1, newest + 1 + count))

    def quarantine(
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
                    reason_vi(p.code),
                    p.unit_code,
                    p.period,
                    p.indicator_code,
                    p.dimension,
                )
                for p in problems
            ],
        )

    def record(self, load_id: int, digest: str, kind: str, report: FileReport) -> None:
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

    def write_rejection_file(
        self, path: Path, load_id: int, problems: list[Problem], copy_file: bool = True
    ) -> None:
        """Copy a rejected file (unless ``copy_file`` is false: its feed carries personal data
        that only its reading pseudonymises), or list the rejected rows, in the quarantine
        folder."""
        folder = self.quarantine_dir
        folder.mkdir(parents=True, exist_ok=True)
        # the quarantine holds files as sent, citizen IDs and all: private to the owner
        # (the folder 700: Settings.ensure_dirs; each file 600)
        if problems and problems[0].row_number is None and copy_file:
            if path.stat().st_size <= self.copy_limit:
                copy = folder / f"{load_id:06d}_{path.name}"
                shutil.copy2(path, copy)
                copy.chmod(0o600)
            else:
                message = (
                    f"not copied into the quarantine (over {self.copy_limit >> 20} MB): {path}"
                )
                problems = [*problems, Problem(None, None, None, problems[0].code, message)]
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
                        reason_vi(p.code),
                    ]
                )
