"""Reading the published database, as the report, the dashboard and analysts do: read-only,
one connection per question (a report, a page rerun), closed after it, so that a new publish
(the file replaced whole) is what the next question sees."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb


@dataclass(frozen=True)
class Publish:
    """Which refresh a published database holds (meta.publish_log)."""

    run_id: str
    published_at: dt.datetime


@contextmanager
def published(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """The published database, read-only, for one question."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        yield con
    finally:
        con.close()


def rows(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[object] = ()) -> list[dict]:
    """A query's rows as dicts by column name."""
    cursor = con.execute(sql, list(params))
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


def publish_info(con: duckdb.DuckDBPyConnection) -> Publish:
    run_id, at = con.execute("select run_id, published_at_utc from meta.publish_log").fetchone()  # type: ignore[misc]
    return Publish(run_id, at)
