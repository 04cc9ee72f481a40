"""Great Expectations' SQL path on DuckDB, made to work (GX issue 11579).

GX runs each metric query inside ``with engine.connect() as connection`` and reads the rows
after that block has closed the connection. duckdb-engine drops a closed connection's pending
results, so every metric comes back empty (``IndexError`` inside ``resolve_metric_bundle``,
"Observed: N/A"). GX already keeps one persisted connection, on a ``StaticPool`` engine, for
the dialects listed in ``_PERSISTED_CONNECTION_DIALECTS`` (SQLite, SQL Server, ...); listing
DuckDB there keeps the connection open while GX reads, and the expectations run as SQL inside
DuckDB: no table is pulled into pandas.

This touches a private name of GX. ``tests/python/test_quality_sql.py`` fails loudly if an
upgrade removes it or if the SQL path returns empty results again; ``enable_duckdb_sql`` raises
here rather than letting the gate pass on empty results.
"""

from __future__ import annotations

import sys


class _DialectName(str):
    """A dialect name that GX treats like one of its ``GXSqlDialect`` members."""

    @property
    def value(self) -> str:
        return str(self)


def import_great_expectations() -> None:
    """Import Great Expectations with pyspark out of its sight (once per process).

    GX imports pyspark whenever it is installed (the ``spark`` target installs it), and pyspark
    4's Spark Connect module, imported from a ``python -c`` process without grpc, takes itself
    for a doctest run and calls ``sys.exit(0)``: a Dagster run that validated from such a
    process stopped with success and no result. The suites never use Spark, so GX is imported
    as if pyspark were absent; pyspark itself stays importable for everything else."""
    if "great_expectations" in sys.modules:
        return
    hide = "pyspark" not in sys.modules
    if hide:
        sys.modules["pyspark"] = None  # type: ignore[assignment]  # import pyspark -> ImportError
    try:
        import great_expectations  # noqa: F401
    finally:
        if hide:
            del sys.modules["pyspark"]


def enable_duckdb_sql() -> None:
    """Make GX keep its DuckDB connection open while it reads query results (idempotent)."""
    import great_expectations.execution_engine.sqlalchemy_execution_engine as engine_module

    dialects = getattr(engine_module, "_PERSISTED_CONNECTION_DIALECTS", None)
    if not isinstance(dialects, tuple):
        raise RuntimeError(
            "great_expectations no longer has _PERSISTED_CONNECTION_DIALECTS: the DuckDB "
            "workaround in de06/quality/gx_duckdb.py must be revisited (GX issue 11579)"
        )
    if "duckdb" not in dialects:
        engine_module._PERSISTED_CONNECTION_DIALECTS = (*dialects, _DialectName("duckdb"))  # type: ignore[assignment]


def close_duckdb_connections() -> int:
    """Close every DuckDB connection GX holds in this process; return how many engines.

    GX opens the database through several SQLAlchemy engines (the data source's own, pooled,
    for its connection test and table metadata; one per execution engine, with the persisted
    connection checked out), and ``SqlAlchemyExecutionEngine.close`` leaves that connection
    open. Without this the warehouse file would stay open: DuckDB would refuse this process's
    next connection with other settings, and every other process while it lasts.
    """
    import gc

    import sqlalchemy
    from great_expectations.execution_engine.sqlalchemy_execution_engine import (
        SqlAlchemyExecutionEngine,
    )

    closed = 0
    for obj in gc.get_objects():
        if isinstance(obj, SqlAlchemyExecutionEngine) and obj.dialect_name == "duckdb":
            if obj._connection is not None:
                obj._connection.close()
                obj._connection = None
        elif isinstance(obj, sqlalchemy.engine.Engine) and obj.dialect.name == "duckdb":
            obj.dispose()
            closed += 1
    return closed
