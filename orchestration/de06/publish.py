"""Write–audit–publish: write the new published file beside the old one, swap it in atomically.

Readers open the published file read-only. The new file is written beside it and renamed over
it (``os.replace``, atomic on one filesystem): a reader sees the old database or the new one,
never half of one, a reader holding the old file keeps reading it, and no reader ever holds a
lock the writer needs. A publish that fails (a full disk) removes its half-written copy; one
that was killed leaves it, and the next publish (under the same writer lock, so no other is
writing one) removes it first.

The new file starts as a copy of the published one (a file copy: seconds for gigabytes), in
which only the partitions that changed are replaced (``publish_plan``): the cost follows what
changed, not the size of the marts. With no usable published file, or ``everything``, the marts
are copied whole into an empty file, as before.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import glob
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from de06.publish_plan import PUBLISHED_SCHEMAS, PublishPlan, TableChange, plan, store

TARGET = "publish_target"


@dataclass(frozen=True)
class PublishResult:
    path: Path
    tables: dict[str, int]
    published_at: dt.datetime
    written: dict[str, str] = field(default_factory=dict)  # table -> what was written
    rows_written: int = 0
    incremental: bool = False


def leftovers(target: Path) -> list[Path]:
    """Half-written copies of ``target`` (and their WAL files) that a killed publish left."""
    return sorted(target.parent.glob(f".{glob.escape(target.name)}.*.tmp*"))


def remove(paths: list[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


def publish(
    con: duckdb.DuckDBPyConnection,
    target: Path,
    run_id: str,
    plan_: PublishPlan | None = None,
    everything: bool = False,
) -> PublishResult:
    """Publish the warehouse's marts, plus run metadata, as ``target``.

    ``plan_`` is what the gate checked (``publish_plan.plan``, under the same writer lock);
    without one it is made here."""
    target.parent.mkdir(parents=True, exist_ok=True)
    remove(leftovers(target))
    if plan_ is None:
        plan_ = plan(con, target, everything=everything)
    if not plan_.tables:
        raise RuntimeError("nothing to publish: the warehouse has no marts (run the dbt build)")
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        if plan_.from_previous:
            shutil.copyfile(target, tmp)
        result = _write(con, tmp, run_id, plan_)
    except BaseException:
        remove([tmp, tmp.with_name(tmp.name + ".wal")])
        raise
    os.replace(tmp, target)
    return PublishResult(target, *result, incremental=plan_.from_previous)


def _write(
    con: duckdb.DuckDBPyConnection, tmp: Path, run_id: str, plan_: PublishPlan
) -> tuple[dict[str, int], dt.datetime, dict[str, str], int]:
    published_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    quoted = str(tmp).replace("'", "''")
    con.execute(f"attach '{quoted}' as {TARGET}")
    written: dict[str, str] = {}
    rows_written = 0
    try:  # no transaction: the file is the unit (a failure discards it)
        for schema in (*PUBLISHED_SCHEMAS, "meta"):
            con.execute(f"create schema if not exists {TARGET}.{schema}")
        for table in plan_.dropped:
            con.execute(f"drop table if exists {TARGET}.{_name(table)}")
        for change in plan_.changes.values():
            rows_written += _replace(con, change)
            written[change.table] = change.describe()
        counts = {
            table: sum(count for count, _ in state.parts.values())
            for table, state in plan_.tables.items()
        }
        con.execute(
            f"create or replace table {TARGET}.meta.publish_log as "
            "select ?::varchar as run_id, ?::timestamp as published_at_utc, ?::json as row_counts,"
            " ?::json as written",
            [run_id, published_at, json.dumps(counts), json.dumps(written)],
        )
        con.execute(f"drop table if exists {TARGET}.meta.validation_results")
        has_results = con.execute(
            "select count(*) from information_schema.tables where table_catalog = "
            "current_database() and table_schema = 'quality' and table_name = 'validation_results'"
        ).fetchone()[0]  # type: ignore[index]
        if has_results:
            con.execute(
                f"create table {TARGET}.meta.validation_results as "
                "select * from quality.validation_results where run_id = ?",
                [run_id],
            )
        store(con, TARGET, plan_)
    except BaseException:
        # the first error is the one to tell (a detach after it fails again, saying less)
        with contextlib.suppress(duckdb.Error):
            con.execute(f"detach {TARGET}")
        raise
    con.execute(f"detach {TARGET}")  # its checkpoint writes the copy: it can fail too
    return counts, published_at, written, rows_written


def _name(table: str) -> str:
    schema, name = table.split(".", 1)
    return f'{schema}."{name}"'


def _replace(con: duckdb.DuckDBPyConnection, change: TableChange) -> int:
    """Write one table's changed rows into the new file; return how many rows were written."""
    name = _name(change.table)
    if change.whole:
        con.execute(f"drop table if exists {TARGET}.{name}")
        con.execute(f"create table {TARGET}.{name} as select * from {name}")
        row = con.execute(f"select count(*) from {TARGET}.{name}").fetchone()
        return int(row[0]) if row else 0
    column = f'"{change.partition_column}"::varchar'
    parts = [p for p in change.parts or () if p is not None]
    where = f"({column} in (select unnest($parts::varchar[]))"
    where += f" or {column} is null)" if None in (change.parts or ()) else ")"
    con.execute(f"delete from {TARGET}.{name} where {where}", {"parts": parts})
    row = con.execute(
        f"insert into {TARGET}.{name} select * from {name} where {where}", {"parts": parts}
    ).fetchone()
    return int(row[0]) if row else 0
