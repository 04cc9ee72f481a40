"""The dossier feed's checks, in SQL over ``incoming`` (``dossier_columns.Incoming``): one
pass for the row checks (required, type, enumeration, the fee's sign, dates before receipt or
in the future), one lookup per distinct unit and day, the same version twice in a file. Each
problem is a row of the temp table ``problems`` (load id, row number, column, value, code,
message)."""

from __future__ import annotations

import datetime as dt

import duckdb

from de06.ingest.context import LoadContext
from de06.ingest.dossier_columns import FEED, Incoming
from de06.ingest.sqltext import sql_literal
from de06.ingest.verdicts import FileReport, Problem

NEGATIVE_FEE = "fee_amount must not be negative"
Check = tuple[str, str, str, str, str]  # condition, column, value shown, reason code, message


def row_checks(cols: Incoming) -> list[Check]:
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


def find_problems(
    ctx: LoadContext,
    cols: Incoming,
    reports: dict[int, FileReport],
    more_checks: tuple[str, ...] = (),
) -> dict[int, list[Problem]]:
    """The temp table ``problems`` (load id, row number, column, value, code, message) and
    its rows by load id."""
    checks_of_rows = row_checks(cols)
    # one pass over the rows: the rows with any problem, then a row per problem
    found = ", ".join(
        f"case when {cond} then {{'column_name': {sql_literal(col)}, 'value': {value}, "
        f"'code': {sql_literal(code)}, 'message': {sql_literal(message)}}} end"
        for cond, col, value, code, message in checks_of_rows
    )
    any_problem = " or ".join(f"coalesce({cond}, false)" for cond, *_ in checks_of_rows)
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
    for table in ("bad_units", "repeated_keys"):  # the two checks' own, read by ``problems``
        ctx.con.execute(f"drop table {table}")
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
