"""Load feed files into the raw layer, idempotently, quarantining what is bad.

* A file is identified by the SHA-256 of its bytes: loading the same bytes again changes nothing.
* Each feed is declared once, in ``de06.contracts`` (columns, types, required, enumerations, key,
  which version wins, reasons in English and Vietnamese), and loaded by its own module behind
  one interface (a file in; rows accepted, superseded, problems out): ``dossiers`` (CSV,
  Parquet; checked by DuckDB itself, in SQL, no Python per row), ``submissions`` and ``tasks``
  (CSV in UTF-8 or UTF-16, XLSX: small files typed by people, parsed in Python with the rules
  of ``de06.numbers``).
* Every row read ends up accepted, superseded (kept, but a newer version wins) or quarantined
  (kept in ``raw.quarantine`` with file, row, column, value and a reason in English and
  Vietnamese). A file bad as a whole is quarantined whole and the rest still loads.
* ``applicant_id`` is replaced by an HMAC-SHA256 pseudonym on the way in.

The modules by job: ``files`` reads (which feed, header, rows), ``cells`` parses what people
type, ``ledger`` keeps ``raw.load_files`` and the quarantine, ``loader`` runs each file in its
transaction and gives the verdict (``verdicts``), ``sqltext`` makes file text safe for SQL,
paths and spreadsheets.
"""

from de06.contracts import DOSSIERS, FEEDS, SUBMISSIONS, TASKS
from de06.ingest.files import detect_feed, iter_feed_files
from de06.ingest.loader import Loader, ingest
from de06.ingest.sqltext import duckdb_path, spreadsheet_safe, sql_identifier, sql_literal
from de06.ingest.verdicts import FileReport, IngestError, Problem, file_verdict

# the contract's columns, as the tests and the generator write files
DOSSIER_COLUMNS: dict[str, str] = {c.name: c.type for c in DOSSIERS.columns}
SUBMISSION_COLUMNS: tuple[str, ...] = SUBMISSIONS.column_names

__all__ = [
    "DOSSIERS",
    "DOSSIER_COLUMNS",
    "FEEDS",
    "SUBMISSIONS",
    "SUBMISSION_COLUMNS",
    "TASKS",
    "FileReport",
    "IngestError",
    "Loader",
    "Problem",
    "detect_feed",
    "duckdb_path",
    "file_verdict",
    "ingest",
    "iter_feed_files",
    "spreadsheet_safe",
    "sql_identifier",
    "sql_literal",
]
