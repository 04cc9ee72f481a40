"""Reading feed files: which files, which feed, their header and rows (CSV in UTF-8 or
UTF-16, XLSX, Parquet). A file that cannot be read gets a verdict (``IngestError``) naming
what is wrong, never a traceback."""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import duckdb

from de06.contracts import FEEDS
from de06.ingest.cells import Row, Uncomputed
from de06.ingest.sqltext import duckdb_path, nfc
from de06.ingest.verdicts import FileReport, IngestError

SUFFIXES = {
    ".csv": "csv",
    ".parquet": "parquet",
    ".xlsx": "xlsx",
    ".json": "json",
    ".jsonl": "json",
}
HEADER_SEARCH_ROWS = 10  # title rows above the header row are skipped, up to this many


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def iter_feed_files(paths: Iterable[Path]) -> Iterator[Path]:
    """The files named, and the feed files under the folders named. A JSON file in a folder is
    a feed file when a feed told by its name claims it (``portal766__…``, ``dvcqg__…``, or in
    such a feed's folder): other JSON (a generator's summary, a tool's settings) is not a
    feed."""
    named = [feed.name for feed in FEEDS.values() if feed.name_pattern]
    for path in paths:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if not child.is_file() or child.suffix.lower() not in SUFFIXES:
                    continue
                if SUFFIXES[child.suffix.lower()] == "json" and not any(
                    child.parent.name == feed or child.name.lower().startswith(f"{feed}__")
                    for feed in named
                ):
                    continue
                yield child
        else:
            yield path


def csv_delimiter(first_line: str) -> str:
    """The header's most frequent of tab (Excel's "Unicode text"), ``;`` (Excel in a
    comma-decimal locale) and ``,`` (the default, also on a tie)."""
    counts = {d: first_line.count(d) for d in ("\t", ";", ",")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > counts[","] else ","


def csv_header(path: Path) -> list[str]:
    with path.open("rb") as handle:
        head = decode(handle.read(1 << 20), final=False)
    lines = head.splitlines()[:-1] or head.splitlines()  # the last line may be cut short
    if not lines:
        return []
    rows = list(csv.reader(lines, delimiter=csv_delimiter(lines[0])))
    numbered = [(n, r) for n, r in enumerate(rows, start=1) if any(c.strip() for c in r)]
    return find_header(numbered)[0] if numbered else []


def decode(raw: bytes, final: bool = True) -> str:
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


def read_table(path: Path) -> tuple[list[str], list[Row]]:
    """Header and data rows of a small CSV or XLSX file, each row with its number in the file
    (a spreadsheet's row number). Cells are str, or numbers, dates and ``Uncomputed`` from XLSX.
    Blank rows are dropped; title rows above the header are skipped (see ``find_header``)."""
    kind = SUFFIXES.get(path.suffix.lower())
    rows: list[list[Any]]
    if kind == "csv":
        text = decode(path.read_bytes())
        delimiter = csv_delimiter(text.split("\n", 1)[0])
        rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    elif kind == "xlsx":
        rows = xlsx_rows(path)
    else:
        raise IngestError("unreadable_file", f"unsupported file type '{path.suffix}'")
    numbered = [
        (n, r)
        for n, r in enumerate(rows, start=1)
        if any(str(c).strip() for c in r if c is not None)
    ]
    if not numbered:
        raise IngestError("empty_file", "the file is empty")
    header, first_data = find_header(numbered)
    return header, [(n, r) for n, r in numbered if n >= first_data]


def xlsx_rows(path: Path) -> list[list[Any]]:
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


def header_names(cells: list[Any]) -> list[str]:
    return [nfc(str(c if c is not None else "")).strip().lower() for c in cells]


def find_header(numbered: list[Row]) -> tuple[list[str], int]:
    """The header (names normalised) and the number of the first data row.

    The header is the first row, among the first few, that names a feed's key column; rows
    above it are titles. When the row below it names columns where it has blanks, the two form
    one header (a group heading merged over several columns, the names in the row below).
    Without a key column the first row is taken (and its missing columns are reported).
    """
    keys = {feed.detect_by for feed in FEEDS.values() if feed.detect_by}
    known = {c for feed in FEEDS.values() for c in feed.column_names}
    for i, (n, cells) in enumerate(numbered[:HEADER_SEARCH_ROWS]):
        header = header_names(cells)
        if not keys & set(header):
            continue
        if i + 1 < len(numbered):
            n_below, below_cells = numbered[i + 1]
            below = header_names(below_cells)
            named_below = [name for name in below if name]
            if named_below and set(named_below) <= known:
                width = max(len(header), len(below))
                header += [""] * (width - len(header))
                below += [""] * (width - len(below))
                merged = [lower or upper for upper, lower in zip(header, below, strict=True)]
                return merged, n_below + 1
        return header, n + 1
    n, cells = numbered[0]
    return header_names(cells), n + 1


def file_header(con: duckdb.DuckDBPyConnection, path: Path, kind: str) -> list[str]:
    """The column names a CSV or Parquet file declares, as written (normalised, not
    deduplicated)."""
    if kind == "parquet":  # an unreadable schema gets its verdict from file_verdict
        rows = con.execute(
            "select name from parquet_schema(?) where num_children is null",
            [duckdb_path(path)],
        ).fetchall()
        names = [str(r[0]) for r in rows]
    else:
        names = csv_header(path)
    return [nfc(n).strip().lower() for n in names]


def detect_feed(path: Path) -> str:
    """Which feed a file belongs to: by its folder (landing/<feed>/), by its name (a feed
    told by its name, e.g. ``portal766__…``), else by its header."""
    if path.parent.name in FEEDS:
        return path.parent.name
    for feed in FEEDS.values():
        if feed.name_pattern and path.name.lower().startswith(f"{feed.name}__"):
            return feed.name
    kind = SUFFIXES.get(path.suffix.lower())
    if kind == "json":
        named = " or ".join(f.name_pattern_words for f in FEEDS.values() if f.name_pattern)
        raise IngestError("unknown_feed", f"a JSON file must be named {named}")
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
        cols = read_table(path)[0] if kind == "xlsx" else csv_header(path)
        cols = [nfc(c).strip().lower() for c in cols]
    for feed in FEEDS.values():
        if feed.detect_by and feed.detect_by in cols:
            return feed.name
    *first, last = [feed.detect_by for feed in FEEDS.values() if feed.detect_by]
    raise IngestError(
        "unknown_feed", f"cannot tell which feed this is (no {', '.join(first)} or {last} column)"
    )


def read_feed_rows(path: Path, feed: str, report: FileReport) -> tuple[dict[str, int], list[Row]]:
    """Column positions and non-blank numbered rows of a small feed file; checks the header."""
    header, rows = read_table(path)
    report.rows_read = len(rows)  # counted first: a file rejected whole still says what it held
    report.extra_columns = check_columns(feed, header)
    if not rows:
        raise IngestError("empty_file", "the file has a header but no rows")
    return {name: i for i, name in enumerate(header) if name}, rows


def check_columns(feed: str, header: list[str]) -> list[str]:
    """Return the extra columns; raise for missing or duplicated ones."""
    dupes = sorted(c for c, n in Counter(header).items() if n > 1)
    if dupes:
        raise IngestError("duplicate_columns", f"duplicated column(s): {', '.join(dupes)}")
    declared = FEEDS[feed].column_names
    missing = [c for c in declared if c not in header]
    if missing:
        raise IngestError("missing_columns", f"missing column(s): {', '.join(missing)}")
    return [c for c in header if c not in declared and c]
