"""The dossier feed (hồ sơ thủ tục hành chính): checked and inserted by DuckDB, in SQL, no
Python per row. Its contract is ``de06.contracts.DOSSIERS``.

One CSV file, or Parquet files of one schema read in one scan, go through the same steps in
the transaction the ledger opened: read (``_read_incoming``), find the problems of every row
(``dossier_checks.find_problems``: one pass for the row checks, one lookup per distinct unit
and day, the same version twice), work out which versions lose (``_mark_superseded``), and insert the rest
with ``applicant_id`` replaced by its HMAC pseudonym (``_insert``).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import duckdb

from de06.ingest.context import LoadContext
from de06.ingest.dossier_checks import find_problems
from de06.ingest.dossier_columns import FEED, PERSONAL, Incoming, as_text
from de06.ingest.files import check_columns, file_header
from de06.ingest.sqltext import duckdb_path, nfc, sql_identifier, sql_literal
from de06.ingest.verdicts import FileReport, IngestError, Problem

Entry = tuple[Path, int, FileReport]  # a file, its load id, its report


def load(ctx: LoadContext, path: Path, load_id: int, report: FileReport) -> list[Problem]:
    """One CSV or Parquet dossier file."""
    kind = "parquet" if path.suffix.lower() == ".parquet" else "csv"
    return load_files(ctx, [(path, load_id, report)], kind)[load_id]


def load_files(ctx: LoadContext, entries: list[Entry], kind: str) -> dict[int, list[Problem]]:
    """Check and insert dossier files (one CSV, or Parquet files of one schema) in the open
    transaction; fill in each file's report and return its problems, by load id."""
    reports = {load_id: report for _, load_id, report in entries}
    _read_incoming(ctx, entries, kind, reports)
    for path, _, _ in entries:  # DuckDB's readers rename a duplicate (`x`, `x_1`)
        check_columns(FEED.name, file_header(ctx.con, path, kind))
    return check_and_insert(ctx, reports, pseudonymised=kind != "parquet")


def check_and_insert(
    ctx: LoadContext,
    reports: dict[int, FileReport],
    pseudonymised: bool,
    more_checks: tuple[str, ...] = (),
    allow_empty: bool = False,
    older_than: int | None = None,
    internal: tuple[str, ...] = (),
    clean: bool = False,
) -> dict[int, list[Problem]]:
    """Check the rows of ``incoming`` (a view or temp table of dossier rows by contract name,
    with ``_load_id`` and ``_row_number``; ``applicant_id`` already a pseudonym when
    ``pseudonymised``), insert those without a problem and mark the versions that lose.
    ``more_checks``: a feed's own checks, selects of (load id, row number, column, value,
    code, message) from ``incoming``. Fills in each file's report; returns the problems by
    load id, and drops ``incoming``. ``allow_empty``: a file may bring no dossier rows (a
    sync-payload file of status updates only). ``older_than``: the load ids below it are
    older loads, whose current versions the batch's may supersede (by default the batch's
    first: a version made later for loads already inserted passes one past their last).
    ``internal``: columns of ``incoming`` for ``more_checks`` only, neither the contract's nor
    extra columns. ``clean``: its text columns are trimmed, blank as null, enumerations
    lower-case (``Incoming.clean``)."""
    con = ctx.con
    described = con.execute("describe incoming").fetchall()
    actual = {
        nfc(r[0]).strip().lower(): (r[0], r[1])
        for r in described
        if r[0] not in ("_row_number", "_load_id", *internal)
    }
    extras = check_columns(FEED.name, list(actual))
    for report in reports.values():
        report.extra_columns = extras
        if report.rows_read == 0 and not allow_empty:
            raise IngestError("empty_file", "the file has a header but no rows")
    cols = Incoming(actual, clean)
    problems = find_problems(ctx, cols, reports, more_checks)
    _mark_superseded(con, cols, reports, older_than)
    _insert(ctx, cols, extras, pseudonymised)
    for load_id, report in reports.items():
        report.reasons.update(Counter(p.code for p in problems[load_id]))
    for table in ("problems", "superseded"):
        con.execute(f"drop table {table}")
    is_view = con.execute(
        "select count(*) from duckdb_views() where view_name = 'incoming' and temporary"
    ).fetchone()
    con.execute("drop view incoming" if is_view and is_view[0] else "drop table incoming")
    return problems


def pseudonym_sql(text: str) -> str:
    """HMAC-SHA256 of a text in SQL, with the key's pads as parameters ``$outer``, ``$inner``."""
    return (
        f"case when {text} is null then null else "
        f"sha256($outer || unhex(sha256($inner || encode({text})))) end"
    )


def _read_incoming(
    ctx: LoadContext, entries: list[Entry], kind: str, reports: dict[int, FileReport]
) -> list[tuple[str, str]]:
    """``incoming``: the files' rows with their load id and row number; counts each file's
    rows into its report; returns the columns and their types.

    Parquet files are read through a view (nothing copied); a CSV file is copied into a
    temporary table (its rows numbered in file order) with ``applicant_id`` already replaced
    by its pseudonym: the clear ID is written to no table, temporary or not, where DuckDB might
    spill it to disk."""
    con = ctx.con
    try:
        if kind == "parquet":
            # a view, not a copy: the checks and the insert each read the files (in parallel,
            # only the columns they need). Each row's load id comes from the index of its
            # file in the list: no file name carried on every row, no join
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
            read = (
                "read_csv($path, all_varchar = true, header = true, "
                "normalize_names = false, encoding = 'utf-8')"
            )
            named = [
                str(r[0])
                for r in con.execute(
                    f"describe select * from {read}", {"path": duckdb_path(path)}
                ).fetchall()
            ]
            personal = [n for n in named if nfc(n).strip().lower() == PERSONAL]
            replaced = ", ".join(
                f"{pseudonym_sql(as_text(n, unique=True))} as {sql_identifier(n)}" for n in personal
            )
            outer, inner = ctx.pads
            # the rows in file order (numbered below)
            con.execute("set preserve_insertion_order = true")
            con.execute(
                f"create or replace temp table incoming as select * "
                f"{f'replace ({replaced})' if replaced else ''}, "
                f"{int(load_id)}::bigint as _load_id, 0::bigint as _row_number from {read}",
                {"path": duckdb_path(path)}
                | ({"outer": outer, "inner": inner} if personal else {}),
            )
            # insertion order is kept: the n-th data row is line n + 1 of the file (line 1 is
            # the header)
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
    return [(str(r[0]), str(r[1])) for r in described]


# the rows of the batch that lose to a later version (the batch's own, or an older load's
# current one), and for an older load's current version that loses to the batch, the batch's
# load (``in_batch`` tells which): one aggregate finds each dossier's winner in the batch
# (ordered by one bigint: updated_at in microseconds, then the load's place in the batch; an
# overflow fails loudly, years from now); older loads are read only for the current versions
# of the dossiers the batch touches; the batch is read again only for the few dossiers with
# several versions in it
SUPERSEDED_SQL = """
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
select g._load_id, g._row_number, n.load_id as by_load_id, true as in_batch
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
    case when later then older_load_id else load_id end,
    later
from (
    select n.load_id, n.row_number, o._load_id as older_load_id,
           o._row_number as older_row_number, o.updated_at > n.updated_at as later
    from newest as n
    inner join raw.dossiers as o
        on n.source_system = o.source_system and n.dossier_id = o.dossier_id
    where o._load_id < $older and o._superseded_by_load_id is null
)
"""


def _mark_superseded(
    con: duckdb.DuckDBPyConnection,
    cols: Incoming,
    reports: dict[int, FileReport],
    older_than: int | None = None,
) -> None:
    """A row is superseded unless it is the version the marts keep: the newest updated_at,
    then the later load (within a load a dossier's versions differ in updated_at: the same one
    twice is quarantined). Worked out before the insert, from the files' good rows, and
    recorded on the rows themselves (``_superseded_by_load_id``), so that the marts take the
    current versions by a filter instead of ranking every version on every build."""
    first, span = min(reports), max(reports) - min(reports) + 1
    con.execute(
        SUPERSEDED_SQL.format(
            # the key as it is stored (source_system lower-cased, as in the insert)
            key_source=cols.lowered("source_system"),
            key_id=cols.text("dossier_id"),
            key_updated=cols.typed("updated_at"),
            order="epoch_us(updated_at) * $span + (_load_id - $first)",
        ),
        {"first": first, "span": span, "older": first if older_than is None else older_than},
    )
    lost = dict(
        con.execute(
            "select _load_id, count(*) from superseded where in_batch group by all"
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
        "where not s.in_batch and d._load_id = s._load_id and d._row_number = s._row_number"
    )


def _insert(ctx: LoadContext, cols: Incoming, extras: list[str], pseudonymised: bool) -> None:
    """Insert the rows without a problem, as the contract stores them: enumerations lower-case,
    types cast, ``applicant_id`` as its HMAC-SHA256 pseudonym (computed inside the insert from
    Parquet, already in ``incoming`` from CSV)."""
    select_cols = []
    for column in FEED.columns:
        col = column.name
        if column.stored_as and pseudonymised:  # pseudonymised as it was read
            select_cols.append(cols.text(col))
        elif column.stored_as:
            select_cols.append(pseudonym_sql(cols.text(col)))
        elif column.values:
            select_cols.append(cols.lowered(col))
        elif column.type == "varchar":
            select_cols.append(cols.text(col))
        else:
            select_cols.append(cols.typed(col))
    # to_json of a struct: the same object as json_object, a fifth of the cost
    extra_sql = (
        "to_json({" + ", ".join(f"{sql_literal(c)}: {cols.text(c)}" for c in extras) + "})"
        if extras
        else "null::json"
    )
    outer, inner = ctx.pads
    # every row carries its load and row number: insertion order need not be kept (set back
    # after; a CSV or JSON read sets it again, whatever an earlier file's failure left)
    ctx.con.execute("set preserve_insertion_order = false")
    ctx.con.execute(
        f"insert into raw.dossiers select {', '.join(select_cols)}, {extra_sql}, "
        "_load_id, _row_number, s.by_load_id from incoming "
        "anti join problems using (_load_id, _row_number) "
        "left join (from superseded where in_batch) as s using (_load_id, _row_number)",
        {} if pseudonymised else {"outer": outer, "inner": inner},
    )
    ctx.con.execute("set preserve_insertion_order = true")
