"""What a publish must write: the marts' partitions that differ from the published file's.

Every mart is fingerprinted by partition: by its period column when it has one (``period``,
``received_month``: a run of the dossier and period models rewrites whole periods), else as a
whole. A partition's fingerprint is its row count and the sum of its rows' hashes (DuckDB's
``hash`` of the row; a sum, not an xor, so that two equal rows do not cancel), plus the table's
columns and types. The published file keeps the fingerprints of what it holds
(``meta.publish_fingerprints``); a partition whose fingerprint is the same in the warehouse holds
the same rows (but for a 64-bit hash collision) and is neither copied nor checked again: it was
checked by the gate of the run that published it.

The fingerprints are computed from the rows, not from what dbt says it rebuilt: a mart rebuilt
whole by a run (the dimensions, say) that came out the same is not copied, a partition changed
by hand or by a run whose publish failed is, and a published file written by an older version
(no fingerprints) or a missing one means everything.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

PUBLISHED_SCHEMAS = ("marts",)
# a mart's partitions: its first column of these (dbt rewrites them whole: docs/design.md)
PARTITION_COLUMNS = ("period", "received_month")
FINGERPRINTS_DDL = """
create table {target}.meta.publish_fingerprints (
    table_name varchar not null,     -- schema.table
    columns_md5 varchar not null,    -- the columns and their types, in order
    partition_column varchar,        -- null: the table is one partition
    part varchar,                    -- the partition's value, as text
    row_count bigint not null,
    row_hash_sum hugeint not null
)
"""


@dataclass(frozen=True)
class TableState:
    """A table's columns and its partitions' fingerprints: {part: (rows, hash sum)}."""

    columns_md5: str
    partition_column: str | None
    parts: dict[str | None, tuple[int, int]]


@dataclass(frozen=True)
class TableChange:
    """What changed in one table: ``parts`` None means the whole table (new, its columns
    changed, or not partitioned); else the partitions to replace (changed, new or gone)."""

    table: str
    partition_column: str | None
    parts: tuple[str | None, ...] | None

    @property
    def whole(self) -> bool:
        return self.parts is None

    def describe(self) -> str:
        if self.parts is None:
            return f"{self.table}: whole"
        shown = ", ".join(str(p) for p in self.parts[:6])
        more = f", … ({len(self.parts)})" if len(self.parts) > 6 else ""
        return f"{self.table}: {self.partition_column} {shown}{more}"


@dataclass
class PublishPlan:
    """The warehouse's marts against the published file: what to write, what to drop."""

    tables: dict[str, TableState]
    changes: dict[str, TableChange] = field(default_factory=dict)
    dropped: list[str] = field(default_factory=list)
    from_previous: bool = False  # start from a copy of the published file

    @property
    def unchanged(self) -> list[str]:
        return sorted(set(self.tables) - set(self.changes))

    def scope(self, table: str) -> TableChange | None:
        """The rows of ``table`` this publish writes (None: none, the table is unchanged)."""
        return self.changes.get(table)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def published_tables(con: duckdb.DuckDBPyConnection, catalog: str | None = None) -> list[str]:
    """The base tables of the published schemas in ``catalog`` (default: the warehouse)."""
    where = "table_catalog = current_database()" if catalog is None else "table_catalog = ?"
    params: list[object] = [] if catalog is None else [catalog]
    rows = con.execute(
        "select table_schema || '.' || table_name from information_schema.tables "
        f"where {where} and table_type = 'BASE TABLE' "
        f"and table_schema in ({', '.join('?' for _ in PUBLISHED_SCHEMAS)}) order by 1",
        [*params, *PUBLISHED_SCHEMAS],
    ).fetchall()
    return [r[0] for r in rows]


def fingerprint(con: duckdb.DuckDBPyConnection, table: str) -> TableState:
    """One table's state in the warehouse (one scan: a hash per row, summed per partition)."""
    schema, name = table.split(".", 1)
    columns = con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_catalog = current_database() and table_schema = ? and table_name = ? "
        "order by ordinal_position",
        [schema, name],
    ).fetchall()
    names = [c[0] for c in columns]
    column = next((c for c in PARTITION_COLUMNS if c in names), None)
    md5 = hashlib.md5(repr(columns).encode(), usedforsecurity=False).hexdigest()
    part = f"{_quote(column)}::varchar" if column else "null::varchar"
    rows = con.execute(
        f"select {part}, count(*), coalesce(sum(hash(t)), 0) "
        f"from {_quote(schema)}.{_quote(name)} as t group by all"
    ).fetchall()
    return TableState(md5, column, {r[0]: (int(r[1]), int(r[2])) for r in rows if r[1]})


def stored_fingerprints(con: duckdb.DuckDBPyConnection, catalog: str) -> dict[str, TableState]:
    """The fingerprints a published file (attached as ``catalog``) keeps of its tables."""
    rows = con.execute(
        "select table_name, columns_md5, partition_column, part, row_count, row_hash_sum "
        f"from {_quote(catalog)}.meta.publish_fingerprints"
    ).fetchall()
    states: dict[str, TableState] = {}
    for table, md5, column, part, count, hashes in rows:
        state = states.setdefault(table, TableState(md5, column, {}))
        if count:  # an empty table is kept as one row of none
            state.parts[part] = (int(count), int(hashes))
    return states


def plan(con: duckdb.DuckDBPyConnection, published: Path, everything: bool = False) -> PublishPlan:
    """Fingerprint the warehouse's marts and compare them with the published file's."""
    tables = {t: fingerprint(con, t) for t in published_tables(con)}
    result = PublishPlan(tables)
    before = None if everything else _published_state(con, published)
    if before is None:
        result.changes = {t: TableChange(t, s.partition_column, None) for t, s in tables.items()}
        return result
    result.from_previous = True
    result.dropped = sorted(set(before) - set(tables))
    for table, now in tables.items():
        old = before.get(table)
        if (
            old is None
            or old.columns_md5 != now.columns_md5
            or old.partition_column != now.partition_column
            or now.partition_column is None
        ):
            if old != now:  # new, its columns changed, or a whole table that changed
                result.changes[table] = TableChange(table, now.partition_column, None)
            continue
        parts = sorted(
            (p for p in set(now.parts) | set(old.parts) if now.parts.get(p) != old.parts.get(p)),
            key=lambda p: (p is None, p or ""),
        )
        if parts:
            result.changes[table] = TableChange(table, now.partition_column, tuple(parts))
    return result


def _published_state(
    con: duckdb.DuckDBPyConnection, published: Path
) -> dict[str, TableState] | None:
    """The published file's fingerprints; None when there is no file or it keeps none (an
    older version wrote it) or it cannot be read: then everything is written anew."""
    if not published.exists():
        return None
    quoted = str(published).replace("'", "''")
    try:
        con.execute(f"attach '{quoted}' as publish_previous (read_only)")
    except duckdb.Error:
        return None
    try:
        has = con.execute(
            "select count(*) from information_schema.tables where table_catalog = "
            "'publish_previous' and table_schema = 'meta' and table_name = 'publish_fingerprints'"
        ).fetchone()
        if not has or not has[0]:
            return None
        return stored_fingerprints(con, "publish_previous")
    finally:
        con.execute("detach publish_previous")


def store(con: duckdb.DuckDBPyConnection, target: str, plan_: PublishPlan) -> None:
    """Write the warehouse's fingerprints into the new published file (attached as ``target``)."""
    con.execute(f"drop table if exists {_quote(target)}.meta.publish_fingerprints")
    con.execute(FINGERPRINTS_DDL.format(target=_quote(target)))
    con.executemany(
        f"insert into {_quote(target)}.meta.publish_fingerprints values (?, ?, ?, ?, ?, ?)",
        [
            (table, state.columns_md5, state.partition_column, part, count, hashes)
            for table, state in plan_.tables.items()
            for part, (count, hashes) in (state.parts or {None: (0, 0)}).items()
        ],
    )
