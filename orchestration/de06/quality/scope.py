"""Which rows each suite checks: what changed since the last checked state, not the whole table.

A suite says in its JSON how it can be scoped (``"scope"``):

- ``{"by": "partition"}`` (the marts): the partitions the publish will write
  (``publish_plan``: those whose rows differ from the published file's). An unchanged partition
  holds the rows the published file holds, and those passed the gate of the run that published
  them: no publish writes what its gate did not check. A mart with no changed partition is not
  checked again.
- ``{"by": "load", "column": "_load_id", "feed": "dossiers"}`` (raw and staging): the rows of
  loads after the newest load the suite last passed on (``quality.gate_marks``); with no new
  load of its feed (``raw.load_files.feed``; any feed when none is named), nothing to check.
  A row, once loaded, does not change (a later version is a new row), so a row that passed
  once still passes; a raw table's rows are also counted per load, and a load already checked
  whose count changed since (a row added to it, or removed, by hand) is checked again.
- none: every row.

An expectation that must see the whole table (a row count, a comparison with the month before)
says ``"whole": true``; it runs on the table, the others on the scope (a view
``quality."gate_batch__<suite>"``, which is also how an analyst sees what was checked). Asked
for ``everything`` (a full refresh), every suite checks every row.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import duckdb

from de06.publish_plan import PublishPlan

MARKS_DDL = """
create schema if not exists quality;
create table if not exists quality.gate_marks (
    suite varchar primary key,
    through_load_id bigint not null,   -- the newest load this suite passed on
    run_id varchar not null,
    recorded_at_utc timestamp not null
);
create table if not exists quality.gate_mark_counts (
    suite varchar not null,
    load_id bigint not null,           -- a load this suite passed on, and its rows then
    row_count bigint not null
);
"""
EVERY_ROW = "every row"


@dataclass(frozen=True)
class Scope:
    """The rows a suite checks in this run: ``where`` a condition on the table (None: every
    row); ``skip``: none changed; ``digest`` names the rows' state (a stored result is reused
    only for the same digest); ``through_load_id``: the mark to record if the suite passes."""

    suite: str
    table: str
    where: str | None = None
    label: str = EVERY_ROW
    digest: str = ""
    skip: bool = False
    through_load_id: int | None = None
    counts: tuple[tuple[int, int], ...] | None = None  # a raw table's rows per load, to keep

    @property
    def view(self) -> str:
        return "gate_batch__" + self.suite.replace(".", "__")


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def partition_scope(name: str, table: str, plan: PublishPlan | None) -> Scope:
    state = plan.tables.get(table) if plan else None
    if plan is None or state is None:
        return Scope(name, table)
    change = plan.scope(table)
    if change is None:
        return Scope(name, table, label="unchanged since the last publish", skip=True)
    if change.whole or change.parts is None:
        return Scope(name, table, digest=_md5(repr(sorted(state.parts.items(), key=str))))
    parts = [p for p in change.parts if p is not None and p in state.parts]
    if not parts and None not in state.parts:
        # only partitions that are gone: nothing left to check
        return Scope(name, table, label="partitions removed only", skip=True)
    column = f"{_quote(change.partition_column or '')}::varchar"
    conditions = [f"{column} in ({', '.join(_literal(p) for p in parts)})"] if parts else []
    if None in change.parts:
        conditions.append(f"{column} is null")
    shown = ", ".join(parts[:6]) + (f", … ({len(parts)})" if len(parts) > 6 else "")
    digest = _md5(repr([(p, state.parts.get(p)) for p in change.parts]))
    return Scope(name, table, " or ".join(conditions), f"{change.partition_column} {shown}", digest)


def load_scope(
    con: duckdb.DuckDBPyConnection,
    name: str,
    table: str,
    setting: dict[str, str],
    everything: bool,
) -> Scope:
    # the newest load of the suite's feed, or of any (the load log is small; the table may be a
    # view over tens of millions of rows)
    column, feed = setting["column"], setting.get("feed")
    row = con.execute(
        "select max(load_id) from raw.load_files where $feed is null or feed = $feed",
        {"feed": feed},
    ).fetchone()
    newest = None if not row or row[0] is None else int(row[0])
    mark_row = con.execute(
        "select through_load_id from quality.gate_marks where suite = ?", [name]
    ).fetchone()
    mark = None if everything or not mark_row else int(mark_row[0])
    counts, altered = _load_counts(con, name, table, column, mark)
    if mark is None or newest is None:
        return Scope(name, table, digest=f"all-{newest}", through_load_id=newest, counts=counts)
    if newest <= mark and not altered:
        return Scope(name, table, label=f"no load after {mark}", skip=True, digest=f"{mark}")
    where = f"{_quote(column)} > {mark}"
    label = f"loads {mark + 1}–{newest}" if newest > mark else f"no load after {mark}"
    if altered:
        where += f" or {_quote(column)} in ({', '.join(str(i) for i in altered)})"
        label += f", and loads {', '.join(str(i) for i in altered[:6])} whose rows changed"
    return Scope(
        name,
        table,
        where,
        label,
        f"{mark}-{newest}-{altered}",
        through_load_id=max(newest, mark),
        counts=counts,
    )


def _load_counts(
    con: duckdb.DuckDBPyConnection, name: str, table: str, column: str, mark: int | None
) -> tuple[tuple[tuple[int, int], ...] | None, list[int]]:
    """A raw table's rows per load, and the loads up to the mark whose count differs from the
    one kept when the suite last passed (a row added or removed since in a load already
    checked: checked again). A view is not counted (what it shows is counted in raw)."""
    if table_type(con, table) != "BASE TABLE":
        return None, []
    schema, relation = table.split(".", 1)
    counts = tuple(
        (int(load), int(rows))
        for load, rows in con.execute(
            f"select {_quote(column)}, count(*) from {_quote(schema)}.{_quote(relation)} "
            "group by all order by 1"
        ).fetchall()
        if load is not None
    )
    if mark is None:
        return counts, []
    kept = dict(
        con.execute(
            "select load_id, row_count from quality.gate_mark_counts where suite = ?", [name]
        ).fetchall()
    )
    altered = [load for load, rows in counts if load <= mark and kept.get(load) != rows]
    return counts, altered


def table_type(con: duckdb.DuckDBPyConnection, table: str) -> str | None:
    """``BASE TABLE`` or ``VIEW`` for ``schema.name`` in the connection's database; None when
    there is none."""
    schema, relation = table.split(".", 1)
    row = con.execute(
        "select table_type from information_schema.tables where table_catalog = "
        "current_database() and table_schema = ? and table_name = ?",
        [schema, relation],
    ).fetchone()
    return None if row is None else str(row[0])


def scopes(
    con: duckdb.DuckDBPyConnection,
    suites: list[tuple[str, str, dict[str, str] | None]],
    plan: PublishPlan | None,
    everything: bool = False,
) -> dict[str, Scope]:
    """The scope of each suite (name, table, its ``scope`` setting) present in the warehouse,
    and their views made (the caller holds the writer lock and ``con`` writes)."""
    con.execute(MARKS_DDL)
    out: dict[str, Scope] = {}
    for name, table, setting in suites:
        by = (setting or {}).get("by")
        if table_type(con, table) is None or by is None or (by == "partition" and everything):
            scope = Scope(name, table)  # every row (a missing table: the gate reports it)
        elif by == "partition":
            scope = partition_scope(name, table, plan)
        elif by == "load":
            scope = load_scope(con, name, table, setting or {}, everything)
        else:
            raise ValueError(f"suite {name}: unknown scope {setting}")
        if scope.where is not None:
            schema, relation = table.split(".", 1)
            con.execute(
                f"create or replace view quality.{_quote(scope.view)} as select * from "
                f"{_quote(schema)}.{_quote(relation)} where {scope.where}"
            )
        out[name] = scope
    return out


def record_marks(con: duckdb.DuckDBPyConnection, run_id: str, passed: dict[str, Scope]) -> None:
    """After a run of the suites: each load-scoped suite that passed moves its mark."""
    con.execute(MARKS_DDL)
    for scope in passed.values():
        if scope.through_load_id is None:
            continue
        con.execute(
            "insert or replace into quality.gate_marks values (?, ?, ?, now() at time zone 'UTC')",
            [scope.suite, scope.through_load_id, run_id],
        )
        if scope.counts is not None:
            con.execute("delete from quality.gate_mark_counts where suite = ?", [scope.suite])
            con.execute(
                "insert into quality.gate_mark_counts select $suite, unnest($loads), unnest($rows)",
                {
                    "suite": scope.suite,
                    "loads": [load for load, _ in scope.counts],
                    "rows": [rows for _, rows in scope.counts],
                },
            )
