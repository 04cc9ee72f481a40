"""Text from files made safe for where it goes: SQL identifiers and literals, paths for
DuckDB's readers (never globbed), cells written back into a spreadsheet."""

from __future__ import annotations

import atexit
import hashlib
import shutil
import tempfile
import unicodedata
from pathlib import Path


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
        folder = Path(tempfile.mkdtemp(prefix="de06-links-"))  # mode 700
        atexit.register(shutil.rmtree, folder, True)
        _links.append(folder)
    link = _links[0] / (hashlib.sha256(text.encode()).hexdigest()[:24] + path.suffix.lower())
    if not link.is_symlink():
        link.symlink_to(path.resolve())
    return str(link)


def spreadsheet_safe(text: str) -> str:
    """Neutralise formula injection when a value is written back into a spreadsheet or CSV."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
