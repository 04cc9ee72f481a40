"""The dossier feed (hồ sơ thủ tục hành chính): checked and inserted by DuckDB, in SQL, no
Python per row. Its contract is ``de06.contracts.DOSSIERS``.

One CSV file, or Parquet files of one schema read in one scan, go through the same steps in
the transaction the ledger opened: read (``_read_incoming``), find the problems of every row
(``_find_problems``: one pass for the row checks, one lookup per distinct unit and day, the
same version twice), work out which versions lose (``_mark_superseded``), and insert the rest
with ``applicant_id`` replaced by its HMAC pseudonym (``_insert``).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import duckdb

from de06.contracts import DOSSIERS
from de06.ingest.context import LoadContext
from de06.ingest.files import check_columns, file_header
from de06.ingest.sqltext import duckdb_path, nfc, sql_identifier, sql_literal
from de06.ingest.verdicts import FileReport, IngestError, Problem

FEED = DOSSIERS
TYPES = {c.name: c.type for c in FEED.columns}
NEGATIVE_FEE = "fee_amount must not be negative"
# the personal column: stored only as its pseudonym
PERSONAL = next(c.name for c in FEED.columns if c.stored_as)

Entry = tuple[Path, int, FileReport]  # a file, its load id, its report
Check = tuple[str, str, str, str, str]  # condition, column, value shown, reason code, message


# text columns whose values are mostly unique (the dossier's id, the applicant's): read as
# plain strings, not dictionaries (a function of a dictionary column runs once per value in
# the dictionary; of one of these, once per row)
UNIQUE_TEXT = frozenset(
    {c.name for c in FEED.columns if c.name in FEED.key and c.type == "varchar" and not c.values}
    | {PERSONAL}
)


def as_text(name: str, unique: bool = False) -> str:
    """A text column's value: trimmed, blank as null. DuckDB's ``trim`` takes the spaces
    (Unicode's, NBSP and U+3000 among them) off both ends and copies every string it is given;
    for a column of ``unique`` values it is called only on a value that starts or ends with a
    space or is not all ASCII (a third of the cost on unique ids). A column of few values keeps
    the plain ``trim``, which DuckDB runs once per value of the column's dictionary."""
    col = sql_identifier(name)
    if not unique:
        return f"nullif(trim({col}), '')"
    return (
        f"nullif(case when starts_with({col}, ' ') or ends_with({col}, ' ') "
        f"or strlen({col}) <> length({col}) then trim({col}) else {col} end, '')"
    )


@dataclass(frozen=True)
class Incoming:
    """The columns of the files being loaded (view or table ``incoming``), by contract name:
    each as the file has it (name, DuckDB type), and SQL for its text and its typed value."""

    actual: dict[str, tuple[str, str]]
    # the text columns already trimmed, blank as null and enumerations lower-case (a feed that
    # mapped its rows in SQL, as the sync payload does): used as they are
    clean: bool = False

    def text(self, col: str) -> str:
        name, typ = self.actual[col]
        if typ == "VARCHAR":
            return sql_identifier(name) if self.clean else as_text(name, col in UNIQUE_TEXT)
        return f"{sql_identifier(name)}::varchar"

    def missing(self, col: str) -> str:
        """SQL true when the value is null or blank (a typed column is not cast to text for
        it)."""
        name, typ = self.actual[col]
        return (
            f"{sql_identifier(name)} is null" if typ != "VARCHAR" else f"{self.text(col)} is null"
        )

    def lowered(self, col: str) -> str:
        """An enumeration's text, lower-case."""
        return self.text(col) if self.clean else f"lower({self.text(col)})"

    def native(self, col: str) -> bool:
        """The column already has the contract's type (a typed Parquet file)."""
        return self.actual[col][1] == TYPES[col].upper() != "VARCHAR"

    def typed(self, col: str) -> str:
        name, typ = self.actual[col]
        if self.native(col):
            return sql_identifier(name)
        if typ == "VARCHAR":
            return f"try_cast({self.text(col)} as {TYPES[col]})"
        return f"try_cast({sql_identifier(name)} as {TYPES[col]})"


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
    problems = _find_problems(ctx, cols, reports, more_checks)
    _mark_superseded(con, cols, reports, older_than)
    _insert(ctx, cols, extras, pseudonymised)
    for load_id, report in reports.items():
        report.reasons.update(Counter(p.code for p in problems[load_id]))
    for table in ("problems", "superseded", "bad_units", "repeated_keys"):
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


def _row_checks(cols: Incoming) -> list[Check]:
    """The checks of one row, from the contract (required, type, enumeration) and the
    dossier's own rules (no negative fee, no date before receipt, none in the future)."""
    checks: list[Check] = []
    for column in FEED.columns:
        col, text = column.name, cols.text(column.name)
        if column.required:
            checks.append((cols.missing(col), col, "null", "missing_value", f"{col} is required"))
        if column.type != "varchar" and not cols.native(col):
            checks.append(
                (
                    f"{text} is not null and {cols.typed(col)} is null",
                    col,
                    text,
                    "bad_type",
                    f"{col} is not a valid {column.type}",
                )
            )
        if column.values:
            allowed = ", ".join(sql_literal(v) for v in column.values)
            checks.append(
                (
                    f"{cols.lowered(col)} not in ({allowed})",
                    col,
                    text,
                    "bad_value",
                    f"{col} must be one of: {', '.join(column.values)}",
                )
            )
    fee = cols.typed("fee_amount")
    checks.append((f"{fee} < 0", "fee_amount", cols.text("fee_amount"), "negative", NEGATIVE_FEE))
    received = cols.typed("received_at")
    for col, message in (
        ("due_at", "due_at is before received_at"),
        ("finished_at", "finished_at is before received_at"),
        ("updated_at", "updated_at (the version) is before received_at"),
    ):
        checks.append(
            (f"{cols.typed(col)} < {received}", col, cols.text(col), "impossible_date", message)
        )
    for col in ("received_at", "updated_at"):
        checks.append(
            (
                f"{cols.typed(col)} > $latest",
                col,
                cols.text(col),
                "future_date",
                f"{col} lies in the future",
            )
        )
    return checks


def _find_problems(
    ctx: LoadContext,
    cols: Incoming,
    reports: dict[int, FileReport],
    more_checks: tuple[str, ...] = (),
) -> dict[int, list[Problem]]:
    """The temp table ``problems`` (load id, row number, column, value, code, message) and
    its rows by load id."""
    row_checks = _row_checks(cols)
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
    checks += _unit_checks(ctx, cols) + _duplicate_version_checks(ctx.con, cols)
    checks += more_checks
    ctx.con.execute(
        "create or replace temp table problems as " + " union all ".join(f"({c})" for c in checks),
        {"latest": dt.datetime.now() + dt.timedelta(days=1)},
    )
    problems: dict[int, list[Problem]] = {load_id: [] for load_id in reports}
    for row in ctx.con.execute("select * from problems order by 1, 2, 3").fetchall():
        problems[row[0]].append(Problem(*row[1:]))
    return problems


UNIT_COLUMNS = ("unit_code", "agency_code")


def _unit_checks(ctx: LoadContext, cols: Incoming) -> list[str]:
    """Rows whose unit (or agency) code is unknown, or did not exist on the day received.

    Checked per distinct (code, day) pair, so that millions of rows cost a few thousand
    lookups: the pairs that fail first (one scan of two columns and the day, the temp table
    ``bad_units``), then, only if some do, the rows that carry them."""
    ctx.ensure_unit_validity()
    day = f"{cols.typed('received_at')}::date"
    unit, agency = (cols.text(c) for c in UNIT_COLUMNS)
    ctx.con.execute(f"""
        create or replace temp table bad_units as
        select p.column_name, p.code, p.day, count(v.code) > 0 as known
        from (
            select case when grouping(unit) = 0 then 'unit_code' else 'agency_code' end
                       as column_name,
                   coalesce(unit, agency) as code, day
            from (select {unit} as unit, {agency} as agency, {day} as day from incoming)
            group by grouping sets ((unit, day), (agency, day))
        ) as p
        left join unit_validity as v on p.code = v.code
        where p.code is not null
        group by p.column_name, p.code, p.day
        having count(v.code) = 0 or (p.day is not null and count(*) filter (
            where v.valid_from <= p.day and (v.valid_to is null or v.valid_to >= p.day)) = 0)
    """)  # fmt: skip
    bad = ctx.con.execute("select distinct column_name from bad_units").fetchall()
    return [
        f"""
        select i._load_id, i._row_number, '{column}', i.code,
               case when b.known then 'unit_not_valid_in_period' else 'unknown_unit' end,
               case when b.known then '{column} ' || i.code || ' did not exist on ' || i.day
                    else 'unknown {column} ' || i.code end
        from (select _load_id, _row_number, {cols.text(column)} as code, {day} as day
              from incoming) as i
        inner join (from bad_units where column_name = '{column}') as b
            on i.code = b.code and i.day is not distinct from b.day"""
        for (column,) in sorted(bad)
    ]


def _duplicate_version_checks(con: duckdb.DuckDBPyConnection, cols: Incoming) -> list[str]:
    """The same version twice in a file (load, source, id, updated_at): the keys' hashes seen
    twice first (one scan, a grouping on one number: the temp table ``repeated_keys``); then,
    only if some are, the rows with those hashes, grouped by their keys themselves (a hash
    shared by two different keys is no duplicate), the copies after the first."""
    keyed = (
        f"select _load_id, _row_number, {cols.text('source_system')} as k_source, "
        f"{cols.text('dossier_id')} as k_id, {cols.typed('updated_at')} as k_updated, "
        "hash(_load_id, k_source, k_id, k_updated) as k_hash from incoming"
    )
    con.execute(
        "create or replace temp table repeated_keys as select k_hash "
        f"from ({keyed}) where k_id is not null group by k_hash having count(*) > 1"
    )
    if not con.execute("select count(*) from repeated_keys").fetchone()[0]:  # type: ignore[index]
        return []
    return [
        "select _load_id, _row_number, 'dossier_id', k_id, 'duplicate_row', "
        "'the same dossier version (source, id, updated_at) appears earlier in the file' "
        "from (select i.*, row_number() over (partition by i._load_id, i.k_source, i.k_id, "
        "i.k_updated order by i._row_number) as k "
        f"from ({keyed}) as i semi join repeated_keys using (k_hash)) "
        "where k > 1 and k_id is not null"
    ]


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
