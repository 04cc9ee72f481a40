"""Write–audit–publish: copy the marts into a fresh file and swap it in atomically.

Readers open the published file read-only. The new file is written beside it and renamed over
it (``os.replace``, atomic on one filesystem): a reader sees the old database or the new one,
never half of one, and no reader ever holds a lock the writer needs. A publish that fails
(a full disk) removes its half-written copy; one that was killed leaves it, and the next
publish (under the same writer lock, so no other is writing one) removes it first.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import glob
import json
import os
from dataclasses import dataclass
from pathlib import Path

import duckdb

PUBLISHED_SCHEMAS = ("marts",)


@dataclass(frozen=True)
class PublishResult:
    path: Path
    tables: dict[str, int]
    published_at: dt.datetime


def leftovers(target: Path) -> list[Path]:
    """Half-written copies of ``target`` (and their WAL files) that a killed publish left."""
    return sorted(target.parent.glob(f".{glob.escape(target.name)}.*.tmp*"))


def remove(paths: list[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


def publish(con: duckdb.DuckDBPyConnection, target: Path, run_id: str) -> PublishResult:
    """Copy every table of the published schemas, plus run metadata, into ``target``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    remove(leftovers(target))
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        result = _write(con, tmp, run_id)
    except BaseException:
        remove([tmp, tmp.with_name(tmp.name + ".wal")])
        raise
    os.replace(tmp, target)
    return PublishResult(target, *result)


def _write(
    con: duckdb.DuckDBPyConnection, tmp: Path, run_id: str
) -> tuple[dict[str, int], dt.datetime]:
    tables = [
        (schema, name)
        for schema, name in con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_catalog = current_database() and table_type = 'BASE TABLE' "
            f"and table_schema in ({', '.join('?' for _ in PUBLISHED_SCHEMAS)}) order by 1, 2",
            list(PUBLISHED_SCHEMAS),
        ).fetchall()
    ]
    if not tables:
        raise RuntimeError("nothing to publish: the warehouse has no marts (run the dbt build)")
    published_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    counts: dict[str, int] = {}
    quoted = str(tmp).replace("'", "''")
    con.execute(f"attach '{quoted}' as publish_target")
    try:
        for schema in (*PUBLISHED_SCHEMAS, "meta"):
            con.execute(f"create schema publish_target.{schema}")
        for schema, name in tables:
            con.execute(
                f'create table publish_target.{schema}."{name}" as select * from {schema}."{name}"'
            )
            counts[f"{schema}.{name}"] = int(
                con.execute(f'select count(*) from publish_target.{schema}."{name}"').fetchone()[0]  # type: ignore[index]
            )
        con.execute(
            "create table publish_target.meta.publish_log as "
            "select ?::varchar as run_id, ?::timestamp as published_at_utc, ?::json as row_counts",
            [run_id, published_at, json.dumps(counts)],
        )
        has_results = con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = 'quality' and table_name = 'validation_results'"
        ).fetchone()[0]  # type: ignore[index]
        if has_results:
            con.execute(
                "create table publish_target.meta.validation_results as "
                "select * from quality.validation_results where run_id = ?",
                [run_id],
            )
    except BaseException:
        # the first error is the one to tell (a detach after it fails again, saying less)
        with contextlib.suppress(duckdb.Error):
            con.execute("detach publish_target")
        raise
    con.execute("detach publish_target")  # its checkpoint writes the copy: it can fail too
    return counts, published_at
