"""The raw layer as Parquet files, where the ``spark`` target reads it.

``de06 ingest`` checks, quarantines and pseudonymises every file into the DuckDB warehouse
(``raw`` schema); that stays the one place where feeds are read. For the Spark target the raw
tables are then exported, each to ``<spark_raw_dir>/<table>/``, and ``dbt`` registers those
folders as external tables ``raw.<table>`` at the start of every invocation
(``macros/engines/raw_sources.sql``), so the staging models read the same tables on both
engines.

An export replaces a table's folder whole: written beside it, then swapped in by two renames,
so a Spark job never reads a half-written table. The ingest rewrites older rows (it marks the
versions a load supersedes), so a table is exported whole, not appended to.

After the build, ``import_spark_tables`` copies the tables Spark wrote for a schema (the marts)
back into the DuckDB warehouse, from their Parquet files: the quality gate and the publish then
run as on the DuckDB target, and readers get the same published database.

Spark SQL has no Unicode normalisation: the columns that the staging models NFC-normalise on
DuckDB (``macros/engines/text.sql``) are normalised here, in the export, instead.
"""

from __future__ import annotations

import json
import shutil
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb

from de06 import contracts
from de06.settings import Settings

# every raw table the sources name (models/staging/_staging__sources.yml), which
# macros/engines/raw_sources.sql registers on Spark
RAW_TABLES = contracts.RAW_TABLES

# the typed codes the staging models pass through `nfc()`, per raw table: each feed's from its
# contract, and the quarantine's (the unit and dimension of a rejected submission row)
NFC_COLUMNS: dict[str, tuple[str, ...]] = {
    **{feed.name: feed.normalised for feed in contracts.FEEDS.values()},
    "quarantine": ("unit_code", "dimension"),
}


@dataclass(frozen=True)
class ExportedTable:
    table: str
    rows: int
    path: Path
    seconds: float


def _select(con: duckdb.DuckDBPyConnection, table: str) -> str:
    normalised = NFC_COLUMNS.get(table, ())
    columns = [
        row[0]
        for row in con.execute(
            "select column_name from duckdb_columns() "
            "where schema_name = 'raw' and table_name = ? order by column_index",
            [table],
        ).fetchall()
    ]
    missing = set(normalised) - set(columns)
    if missing:
        raise ValueError(f"raw.{table} has no column {sorted(missing)} to normalise")
    exprs = [f"nfc_normalize({c}) as {c}" if c in normalised else c for c in columns]
    return f"select {', '.join(exprs)} from raw.{table}"


def export_raw(con: duckdb.DuckDBPyConnection, raw_dir: Path) -> list[ExportedTable]:
    """Write every raw table of the warehouse behind ``con`` as Parquet under ``raw_dir``."""
    raw_dir.mkdir(parents=True, exist_ok=True)
    exported: list[ExportedTable] = []
    for table in RAW_TABLES:
        started = time.perf_counter()
        final = raw_dir / table
        staging = raw_dir / f".{table}.{uuid.uuid4().hex[:8]}.new"
        staging.mkdir()
        # one file per table is enough for Spark's reader; row groups keep it splittable
        target = staging / "part-0.parquet"
        # COPY answers with the number of rows it wrote: no second read of the file
        row = con.execute(
            f"copy ({_select(con, table)}) to '{target}' "
            "(format parquet, compression zstd, row_group_size 1000000)"
        ).fetchone()
        retired = raw_dir / f".{table}.{uuid.uuid4().hex[:8]}.old"
        if final.exists():
            final.rename(retired)
        staging.rename(final)
        shutil.rmtree(retired, ignore_errors=True)
        exported.append(
            ExportedTable(table, int(row[0]) if row else 0, final, time.perf_counter() - started)
        )
    return exported


def spark_table_dirs(warehouse_dir: Path, schema: str) -> dict[str, Path]:
    """The tables Spark holds in ``schema`` (a folder each under its warehouse folder)."""
    folder = warehouse_dir / f"{schema}.db"
    if not folder.is_dir():
        return {}
    return {
        table.name: table
        for table in sorted(folder.iterdir())
        if table.is_dir() and any(table.glob("*.parquet"))
    }


def import_spark_tables(
    con: duckdb.DuckDBPyConnection, warehouse_dir: Path, schema: str
) -> dict[str, int]:
    """Replace schema ``schema`` of the DuckDB warehouse with Spark's tables of that schema, in
    one transaction; returns their row counts."""
    tables = spark_table_dirs(warehouse_dir, schema)
    if not tables:
        raise RuntimeError(f"Spark has no table in schema {schema} under {warehouse_dir}")
    counts: dict[str, int] = {}
    con.execute("begin transaction")
    try:
        con.execute(f"create schema if not exists {schema}")
        stale = con.execute(
            "select table_name from duckdb_tables() "
            "where database_name = current_database() and schema_name = ?",
            [schema],
        ).fetchall()
        for (name,) in stale:
            if name not in tables:
                con.execute(f'drop table {schema}."{name}"')
        for name, folder in tables.items():
            files = str(folder / "*.parquet").replace("'", "''")
            con.execute(
                f'create or replace table {schema}."{name}" as '
                f"select * from read_parquet('{files}')"
            )
            row = con.execute(f'select count(*) from {schema}."{name}"').fetchone()
            counts[name] = int(row[0]) if row else 0
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return counts


def raw_state(con: duckdb.DuckDBPyConnection) -> dict[str, object]:
    """What tells one state of the raw layer from another: every table's columns and rows,
    the newest load, and how many dossier versions are marked superseded. The ingest only
    appends rows and marks older versions, so any load changes it."""
    state: dict[str, object] = {}
    for table in RAW_TABLES:
        columns = con.execute(
            "select list(column_name order by column_index) from duckdb_columns() "
            "where schema_name = 'raw' and table_name = ?",
            [table],
        ).fetchone()
        rows = con.execute(f"select count(*) from raw.{table}").fetchone()
        state[table] = {"columns": columns[0] if columns else None, "rows": rows[0] if rows else 0}
    newest = con.execute("select max(load_id) from raw.load_files").fetchone()
    superseded = con.execute(
        "select count(*) from raw.dossiers where _superseded_by_load_id is not null"
    ).fetchone()
    state["newest_load"] = newest[0] if newest else None
    state["superseded_versions"] = superseded[0] if superseded else 0
    return state


EXPORTED_STATE = ".exported.json"  # the raw state an export wrote, beside the table folders


def export_raw_if_changed(
    con: duckdb.DuckDBPyConnection, raw_dir: Path, force: bool = False
) -> list[ExportedTable]:
    """``export_raw`` unless the folders already hold the raw layer as it is now (the state
    written by the last export): a Dagster run exports before each of its dbt steps on Spark,
    and only the first after a load has anything to write. Returns the tables written."""
    state = json.dumps(raw_state(con), sort_keys=True, default=str)
    stamp = raw_dir / EXPORTED_STATE
    complete = all((raw_dir / table).is_dir() for table in RAW_TABLES)
    if not force and complete and stamp.is_file() and stamp.read_text() == state:
        return []
    stamp.unlink(missing_ok=True)  # a failed export leaves no stamp behind
    exported = export_raw(con, raw_dir)
    stamp.write_text(state)
    return exported


def export_for_spark(settings: Settings, force: bool = False) -> list[ExportedTable]:
    """The export step of a build on the Spark target (the caller holds the writer lock):
    the raw layer, if it changed since the last export (always with ``force``)."""
    from de06.warehouse import connect

    con = connect(settings.warehouse_db, memory_limit=settings.duckdb_memory_limit)
    try:
        return export_raw_if_changed(con, settings.spark_raw_dir, force=force)
    finally:
        con.close()


def import_spark_marts(settings: Settings) -> dict[str, int]:
    """The marts Spark built, into the DuckDB warehouse (the caller holds the writer lock)."""
    from de06.warehouse import connect

    con = connect(settings.warehouse_db, memory_limit=settings.duckdb_memory_limit)
    try:
        return import_spark_tables(con, settings.spark_dir / "warehouse", "marts")
    finally:
        con.close()
