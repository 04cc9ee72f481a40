"""The loader: each file in a transaction of its own (consecutive Parquet dossier files in
one), its feed's checks, its verdict, its row in the ledger. A file that cannot be loaded
is quarantined whole and the rest still loads; a fault of the machine (a full disk, no
memory) stops the run with nothing of the file committed."""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb

from de06.contracts import FEEDS
from de06.ingest import dossiers, dvcqg, portal766, submissions, tasks
from de06.ingest.context import LoadContext, hmac_pads
from de06.ingest.dossiers import Entry
from de06.ingest.files import SUFFIXES, detect_feed, file_hash, iter_feed_files
from de06.ingest.ledger import Ledger
from de06.ingest.sqltext import duckdb_path, nfc
from de06.ingest.verdicts import FileReport, IngestError, Problem, file_verdict
from de06.progress import Progress
from de06.reference import load_reference
from de06.settings import Settings
from de06.warehouse import connect

# a workbook is counted at a tenth of its unpacked content (XML compresses about that well)
XLSX_UNPACKED_PER_MB = 10


def unpacked_size(path: Path) -> int:
    """The bytes a zip file (an XLSX workbook) holds once unpacked, by its directory; 0 for
    a file that is not a zip (its reader says what is wrong with it)."""
    try:
        with zipfile.ZipFile(path) as archive:
            return sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError):
        return 0


# Parquet dossier files read in one scan (and loaded in one transaction) at most
PARQUET_BATCH_FILES = 100
# sync-payload files loaded together: at most this many, and this many bytes of JSON (what
# one load holds in DuckDB's temporary tables, spilled past its memory limit)
PAYLOAD_BATCH_FILES = 200
PAYLOAD_BATCH_BYTES = 256 << 20


def _payload_groups(batch: list[tuple[Path, str]]) -> Iterator[list[tuple[Path, str]]]:
    group: list[tuple[Path, str]] = []
    size = 0
    for path, digest in batch:
        bytes_ = path.stat().st_size
        if group and (len(group) == PAYLOAD_BATCH_FILES or size + bytes_ > PAYLOAD_BATCH_BYTES):
            yield group
            group, size = [], 0
        group.append((path, digest))
        size += bytes_
    if group:
        yield group


def _is_payload(path: Path) -> bool:
    """A sync-payload file (``dvcqg__…``, or JSON in a ``dvcqg/`` folder)."""
    named = path.name.lower().startswith(f"{dvcqg.FEED.name}__")
    in_folder = path.parent.name == dvcqg.FEED.name
    return SUFFIXES.get(path.suffix.lower()) == "json" and (named or in_folder)


def _hashes(paths: list[Path]) -> dict[Path, str | OSError]:
    """Each file's content hash, or why it cannot be read; two files at a time (hashlib lets
    go of the GIL: a payload is 14 times the bytes of the same dossiers as Parquet)."""

    def one(path: Path) -> str | OSError:
        try:
            return file_hash(path)
        except OSError as exc:
            return exc

    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(paths, pool.map(one, paths), strict=True))


# a feed's files loaded together in the open transaction: their problems by load id
GroupLoad = Callable[[LoadContext, list[Entry]], dict[int, list[Problem]]]
# a feed's work before and after its group's transaction: (prepare, discard)
Staging = tuple[Callable[[LoadContext, list[Entry]], None], Callable[[LoadContext], None]]
# one interface per feed: a file in, its rows accepted or superseded (counted in the report)
# and its problems out, in the transaction the loader opened
FeedLoad = Callable[[LoadContext, Path, int, FileReport], list[Problem]]
FEED_LOADS: dict[str, FeedLoad] = {
    "dossiers": dossiers.load,
    "submissions": submissions.load,
    "tasks": tasks.load,
    "portal766": portal766.load,
    "dvcqg": dvcqg.load,
}


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0  # ``load`` says why


class Loader:
    """Loads files into the raw layer over one write connection."""

    def __init__(
        self,
        settings: Settings,
        con: duckdb.DuckDBPyConnection | None = None,
        reload: bool = False,
        progress: Progress | None = None,
    ) -> None:
        self.settings = settings
        self.progress = progress or Progress(quiet=True)
        # load files again whose bytes were loaded before (a later load wins, as in every feed):
        # after an override or a reference change settles rows the first load refused
        self.reload = reload
        # read first, outside any file's verdict: a missing or empty key stops the run
        pads = hmac_pads(settings.pseudonym_key())
        self.con = con or connect(settings.warehouse_db, memory_limit=settings.duckdb_memory_limit)
        self.ctx = LoadContext(
            self.con, load_reference(settings.seeds_dir), pads, settings.seeds_dir
        )
        self.ledger = Ledger(self.con, settings.quarantine_dir, settings.max_sheet_mb)

    def close(self) -> None:
        self.con.close()

    def load_all(self, paths: Iterable[Path]) -> list[FileReport]:
        """Load files in order; consecutive Parquet files go through ``load_parquet``
        together, consecutive sync-payload files (``dvcqg__…``) through ``load_payloads``.
        Progress is told in bytes of the files (what the loads' time follows)."""
        paths = list(paths)
        sizes = {p: _size(p) for p in paths}
        total = sum(sizes.values())
        reports: list[FileReport] = []

        def done(batch: list[FileReport]) -> None:
            reports.extend(batch)
            loaded = sum(sizes.get(r.path, 0) for r in reports)
            rows = sum(r.rows_read for r in reports)
            self.progress.update(
                loaded, total, f"{len(reports):,} of {len(paths):,} files, {rows:,} rows read"
            )

        pending: list[Path] = []
        payloads: list[Path] = []
        for path in paths:
            if path.suffix.lower() == ".parquet":
                done(self.load_payloads(payloads))
                payloads = []
                pending.append(path)
                continue
            done(self.load_parquet(pending))
            pending = []
            if _is_payload(path):
                payloads.append(path)
                continue
            done(self.load_payloads(payloads))
            payloads = []
            done([self.load(path)])
        done(self.load_parquet(pending))
        done(self.load_payloads(payloads))
        return reports

    def load_payloads(self, paths: list[Path]) -> list[FileReport]:
        """Load sync-payload files together (``PAYLOAD_BATCH_FILES`` at a time): one read of
        the files, one pass of the checks, one transaction; each file keeps its own load id,
        report and quarantine. A system sends a file per batch, often small: their fixed costs
        shared. If one cannot be read, each is loaded on its own by ``load``, which says why."""
        reports: dict[Path, FileReport] = {}
        batch: list[tuple[Path, str]] = []
        seen: set[str] = set()
        digests = _hashes([p.resolve() for p in paths])
        for path in (p.resolve() for p in paths):
            try:
                digest = digests[path]
                if isinstance(digest, OSError):
                    raise digest
                self._refuse_if_too_large(path, "json", dvcqg.FEED.name)
                dvcqg.parse_name(path)
            except (OSError, IngestError):
                reports[path] = self.load(path)  # which says why
                continue
            if digest in seen or (not self.reload and self.ledger.already_loaded(digest)):
                reports[path] = FileReport(path=path, feed=None, status="already_loaded")
                continue
            seen.add(digest)
            batch.append((path, digest))
        for group in _payload_groups(batch):
            for report in self._load_payload_group(group):
                reports[report.path] = report
        return [reports[p.resolve()] for p in paths]

    def _load_payload_group(self, group: list[tuple[Path, str]]) -> list[FileReport]:
        return self._load_group(
            group, dvcqg.FEED.name, "json", dvcqg.load_files, (dvcqg.prepare, dvcqg.discard)
        )

    def load(self, path: Path) -> FileReport:
        """Load one file in a transaction of its own."""
        path = path.resolve()
        kind = SUFFIXES.get(path.suffix.lower(), path.suffix.lower().lstrip(".") or "unknown")
        report = FileReport(path=path, feed=None, status="loaded")
        try:
            digest = file_hash(path)
        except OSError as exc:  # gone, not a file, not ours to read: said, nothing recorded
            if file_verdict(exc) is None:
                raise
            report.status = "rejected"
            report.message = f"cannot open the file: {exc.strerror or exc}"
            report.reasons["unreadable_file"] += 1
            return report
        if not self.reload and self.ledger.already_loaded(digest):
            report.status = "already_loaded"
            return report
        self.con.execute("begin transaction")
        (load_id,) = self.ledger.new_load_ids(1)
        problems: list[Problem] = []
        try:
            self._refuse_if_too_large(path, kind, None)
            report.feed = detect_feed(path)
            self._refuse_if_too_large(path, kind, report.feed)
            if kind not in FEEDS[report.feed].formats:
                formats = " or ".join(f.upper() for f in FEEDS[report.feed].formats)
                raise IngestError("unknown_feed", f"{report.feed} files must be {formats}")
            problems = FEED_LOADS[report.feed](self.ctx, path, load_id, report)
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
            copy = report.feed is None or FEEDS[report.feed].copy_rejected_files
            self.ledger.write_rejection_file(path, load_id, problems, copy_file=copy)
        return report

    def _refuse_if_too_large(self, path: Path, kind: str, feed: str | None) -> None:
        """Over a size limit, a file is refused before it is read (a 200 MB CSV of junk
        would cost gigabytes of memory). Before its feed is known: the file limit, and the
        sheet limit for XLSX (only sheets typed by people come as XLSX, and telling its feed
        reads the whole workbook); then the sheet limit for a feed typed by people."""
        size = path.stat().st_size
        limits = [(self.settings.max_file_mb, "DE06_MAX_FILE_MB", "feed files")]
        if kind == "xlsx" or (feed is not None and FEEDS[feed].parsed_in_python):
            limits.append(
                (self.settings.max_sheet_mb, "DE06_MAX_SHEET_MB", f"{feed or kind} files")
            )
        if kind == "xlsx" and feed is None:
            # a workbook is a zip: what openpyxl holds is its content unpacked, which a small
            # file can multiply a thousandfold (a "zip bomb")
            size = max(size, unpacked_size(path) // XLSX_UNPACKED_PER_MB)
        for limit_mb, variable, what in limits:
            if size > limit_mb * 1024 * 1024:
                raise IngestError(
                    "file_too_large",
                    f"the file is {size / 1024 / 1024:,.1f} MB, over the limit of {limit_mb} MB "
                    f"for {what} (set {variable} to change it; a workbook counts as a tenth of "
                    "its content unpacked); split it or raise the limit",
                )

    def _finish(
        self, load_id: int, digest: str, kind: str, report: FileReport, problems: list[Problem]
    ) -> None:
        report.quarantined = report.rows_read - report.accepted - report.superseded
        if report.status == "rejected":
            report.quarantined = report.rows_read
        self.ledger.quarantine(load_id, report.feed, report.path, problems)
        self.ledger.record(load_id, digest, kind, report)

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
                digest = file_hash(path)
            except OSError:
                reports[path] = self.load(path)  # which says why it cannot be opened
                continue
            if digest in seen or (not self.reload and self.ledger.already_loaded(digest)):
                reports[path] = FileReport(path=path, feed=None, status="already_loaded")
                continue
            seen.add(digest)
            try:  # a file over the limit goes to ``load``, which refuses it
                self._refuse_if_too_large(path, "parquet", None)
                signature = self._plain_dossier_signature(path)
            except IngestError:
                signature = None
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
        if path.parent.name in FEEDS and path.parent.name != dossiers.FEED.name:
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
        if names != sorted(dossiers.FEED.column_names) or not rows or not rows[0]:
            return None
        return tuple((r[0], r[1]) for r in described)

    def _load_parquet_group(self, group: list[tuple[Path, str]]) -> list[FileReport]:
        def load_files(ctx: LoadContext, entries: list[Entry]) -> dict[int, list[Problem]]:
            return dossiers.load_files(ctx, entries, "parquet")

        return self._load_group(group, dossiers.FEED.name, "parquet", load_files)

    def _load_group(
        self,
        group: list[tuple[Path, str]],
        feed: str,
        kind: str,
        load_files: GroupLoad,
        staging: Staging | None = None,
    ) -> list[FileReport]:
        """Files of one feed in one transaction, each with its own load id, report and
        quarantine; if one cannot be read after all, each on its own, so the others load.
        ``staging``: a feed's (prepare, discard), run before the transaction (reading and
        mapping the files into temp tables, which DuckDB then scans in parallel) and after it;
        a group it cannot prepare is loaded file by file, each prepared alone, then ``load``
        says why a file still fails. The load ids are drawn before the transaction: this
        process is the warehouse's one writer (DuckDB's file lock), and loads one group at a
        time."""
        entries = [
            (path, load_id, FileReport(path=path, feed=feed, status="loaded"))
            for (path, _), load_id in zip(group, self.ledger.new_load_ids(len(group)), strict=True)
        ]
        prepare, discard = staging or (None, None)
        try:
            if prepare is not None:
                try:
                    prepare(self.ctx, entries)
                except Exception as exc:
                    if file_verdict(exc) is None:
                        raise
                    return self._one_by_one(group, feed, kind, load_files, staging)
            loaded = self._load_in_transaction(group, entries, feed, kind, load_files)
        finally:
            if discard is not None:
                discard(self.ctx)
        if loaded is None:  # a file failed inside the transaction (rolled back)
            return self._one_by_one(group, feed, kind, load_files, staging)
        return loaded

    def _one_by_one(
        self,
        group: list[tuple[Path, str]],
        feed: str,
        kind: str,
        load_files: GroupLoad,
        staging: Staging | None,
    ) -> list[FileReport]:
        """A group that failed: with staging, each file as a group of its own (prepared
        outside a transaction, as a file DuckDB must read twice needs); a file that fails
        alone, or without staging, by ``load``, which says why."""
        if staging is None or len(group) == 1:
            return [self.load(path) for path, _ in group]
        return [
            report
            for one in group
            for report in self._load_group([one], feed, kind, load_files, staging)
        ]

    def _load_in_transaction(
        self,
        group: list[tuple[Path, str]],
        entries: list[Entry],
        feed: str,
        kind: str,
        load_files: GroupLoad,
    ) -> list[FileReport] | None:
        """The prepared group in one transaction; None when a file fails (rolled back)."""
        self.con.execute("begin transaction")
        try:
            problems = load_files(self.ctx, entries)
        except Exception as exc:
            self.con.execute("rollback")
            if file_verdict(exc) is None:
                raise
            return None
        for (_path, load_id, report), (_, digest) in zip(entries, group, strict=True):
            self._finish(load_id, digest, kind, report, problems[load_id])
        self.con.execute("commit")
        copy_file = FEEDS[feed].copy_rejected_files
        for path, load_id, _ in entries:
            if problems[load_id]:
                self.ledger.write_rejection_file(path, load_id, problems[load_id], copy_file)
        return [report for _, _, report in entries]


def ingest(
    settings: Settings,
    paths: Iterable[Path],
    con: duckdb.DuckDBPyConnection | None = None,
    reload: bool = False,
    progress: Progress | None = None,
) -> list[FileReport]:
    """Load every feed file under ``paths``; returns one report per file. ``reload``: load
    again files whose bytes were loaded before (the new load wins)."""
    settings.ensure_dirs()
    loader = Loader(settings, con, reload, progress)
    try:
        return loader.load_all(iter_feed_files(paths))
    finally:
        if con is None:
            loader.close()
