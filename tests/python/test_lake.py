"""The raw layer exported as Parquet for Spark, and Spark's tables copied back (de06.lake), on
small warehouses made here; the whole round trip through Spark is in test_spark.py."""

from __future__ import annotations

import shutil
import unicodedata
from pathlib import Path

import duckdb
import pytest

from conftest import make_settings
from de06.lake import (
    RAW_TABLES,
    export_raw,
    export_raw_if_changed,
    import_spark_tables,
    spark_table_dirs,
)
from de06.warehouse import connect

# "Hà Nội" typed with combining marks (NFD), as some systems export it
DECOMPOSED = unicodedata.normalize("NFD", "Hà Nội")
COMPOSED = unicodedata.normalize("NFC", "Hà Nội")


def test_the_two_spellings_differ() -> None:
    assert DECOMPOSED != COMPOSED and len(DECOMPOSED) > len(COMPOSED)


@pytest.fixture
def warehouse(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    con = connect(tmp_path / "de06.duckdb")
    con.execute(
        "insert into raw.tasks (unit_code, year, task_id, title, origin, status, _load_id, "
        "_row_number) values (?, 2025, ?, ?, 'decision', 'done', 1, 1), "
        "('01', 2025, 'T-2', 'plain', 'decision', 'done', 1, 2)",
        [DECOMPOSED, DECOMPOSED, DECOMPOSED],
    )
    return con


def test_export_writes_every_raw_table_and_normalises_only_the_typed_codes(
    warehouse: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    raw_dir = tmp_path / "raw"
    exported = export_raw(warehouse, raw_dir)
    assert [e.table for e in exported] == list(RAW_TABLES)
    assert {e.table: e.rows for e in exported}["tasks"] == 2
    rows = duckdb.sql(
        f"select unit_code, task_id, title from read_parquet('{raw_dir}/tasks/*.parquet') "
        "order by _row_number"
    ).fetchall()
    # unit_code and title are NFC-normalised, as the staging models do on DuckDB; the task id
    # is not (staging passes it through there too)
    assert rows[0] == (COMPOSED, DECOMPOSED, COMPOSED)
    assert rows[1] == ("01", "T-2", "plain")
    # an empty table is still a table Spark can read, with its columns
    columns = duckdb.sql(f"describe select * from read_parquet('{raw_dir}/quarantine/*.parquet')")
    assert "reason_code" in [row[0] for row in columns.fetchall()]


def test_an_export_replaces_the_previous_one_whole(
    warehouse: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    raw_dir = tmp_path / "raw"
    export_raw(warehouse, raw_dir)
    warehouse.execute("delete from raw.tasks where task_id = 'T-2'")
    export_raw(warehouse, raw_dir)
    count = duckdb.sql(f"select count(*) from read_parquet('{raw_dir}/tasks/*.parquet')")
    assert count.fetchone() == (1,)
    # nothing left of the swaps: one folder per table
    assert sorted(p.name for p in raw_dir.iterdir()) == sorted(RAW_TABLES)


def test_an_unchanged_raw_layer_is_not_exported_again(
    warehouse: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """A Dagster run on Spark exports before each dbt step: only a change to raw writes."""
    raw_dir = tmp_path / "raw"
    assert [e.table for e in export_raw_if_changed(warehouse, raw_dir)] == list(RAW_TABLES)
    assert export_raw_if_changed(warehouse, raw_dir) == []
    # a load: a row appended
    warehouse.execute(
        "insert into raw.tasks (unit_code, year, task_id, title, origin, status, _load_id, "
        "_row_number) values ('02', 2025, 'T-3', 'new', 'decision', 'done', 2, 1)"
    )
    assert len(export_raw_if_changed(warehouse, raw_dir)) == len(RAW_TABLES)
    count = duckdb.sql(f"select count(*) from read_parquet('{raw_dir}/tasks/*.parquet')")
    assert count.fetchone() == (3,)
    assert export_raw_if_changed(warehouse, raw_dir) == []
    # a load that only marks older versions superseded (no new row in this table)
    warehouse.execute(
        "insert into raw.dossiers (source_system, dossier_id, _load_id, _row_number) "
        "values ('provincial', 'D-1', 3, 1)"
    )
    export_raw_if_changed(warehouse, raw_dir)
    warehouse.execute("update raw.dossiers set _superseded_by_load_id = 4")
    assert len(export_raw_if_changed(warehouse, raw_dir)) == len(RAW_TABLES)
    # a table folder gone, or asked to
    shutil.rmtree(raw_dir / "quarantine")
    assert len(export_raw_if_changed(warehouse, raw_dir)) == len(RAW_TABLES)
    assert len(export_raw_if_changed(warehouse, raw_dir, force=True)) == len(RAW_TABLES)
    assert export_raw_if_changed(warehouse, raw_dir) == []


def spark_like_table(warehouse_dir: Path, schema: str, name: str, sql: str, parts: int) -> None:
    """A table folder as Spark writes it: part files and a _SUCCESS marker."""
    folder = warehouse_dir / f"{schema}.db" / name
    folder.mkdir(parents=True)
    for part in range(parts):
        duckdb.sql(f"copy ({sql} where n % {parts} = {part}) to '{folder}/part-{part:05}.parquet'")
    (folder / "_SUCCESS").touch()


def test_import_replaces_the_schema_with_sparks_tables(tmp_path: Path) -> None:
    spark_warehouse = tmp_path / "spark" / "warehouse"
    spark_like_table(
        spark_warehouse, "marts", "fct_a", "select n, n * 0.5 as half from range(10) t(n)", 3
    )
    spark_like_table(spark_warehouse, "marts", "dim_b", "select n from range(4) t(n)", 1)
    (spark_warehouse / "marts.db" / "not_a_table").mkdir()  # no Parquet file in it
    con = connect(tmp_path / "de06.duckdb")
    con.execute("create schema marts")
    con.execute("create table marts.fct_a as select 99 as n")  # from an earlier build
    con.execute("create table marts.retired as select 1 as n")  # a mart Spark no longer has

    counts = import_spark_tables(con, spark_warehouse, "marts")

    assert counts == {"dim_b": 4, "fct_a": 10}
    tables = con.execute(
        "select table_name from duckdb_tables() where schema_name = 'marts' order by 1"
    ).fetchall()
    assert tables == [("dim_b",), ("fct_a",)]
    assert con.execute("select sum(n), sum(half) from marts.fct_a").fetchone() == (45, 22.5)


def test_import_without_tables_fails_and_keeps_the_warehouse(tmp_path: Path) -> None:
    con = connect(tmp_path / "de06.duckdb")
    con.execute("create schema marts")
    con.execute("create table marts.fct_a as select 1 as n")
    assert spark_table_dirs(tmp_path / "nowhere", "marts") == {}
    with pytest.raises(RuntimeError, match="no table in schema marts"):
        import_spark_tables(con, tmp_path / "nowhere", "marts")
    assert con.execute("select n from marts.fct_a").fetchone() == (1,)


def test_spark_settings_default_under_home_and_follow_their_variables(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "home")
    assert settings.spark_dir == tmp_path / "home" / "spark"
    assert settings.spark_raw_dir == tmp_path / "home" / "spark" / "raw"
    assert settings.dbt_artifacts_dir == settings.dbt_target_dir
    moved = make_settings(
        tmp_path / "home",
        DE06_DBT_TARGET="spark",
        DE06_SPARK_DIR=str(tmp_path / "lake"),
    )
    assert moved.spark_raw_dir == tmp_path / "lake" / "raw"
    env = moved.dbt_env()
    assert env["DE06_SPARK_DIR"] == str(tmp_path / "lake")
    assert env["DE06_DBT_TARGET"] == "spark"
    # the Spark target keeps its own dbt artifacts (no full re-parse on every switch)
    assert env["DBT_TARGET_PATH"] == str(moved.dbt_target_dir / "spark")


def test_the_thrift_target_is_spark_and_its_port_is_checked(tmp_path: Path) -> None:
    thrift = make_settings(
        tmp_path / "home", DE06_DBT_TARGET="spark_thrift", DE06_SPARK_PORT="10123"
    )
    assert thrift.on_spark and not make_settings(tmp_path / "home").on_spark
    assert thrift.dbt_env()["DE06_SPARK_PORT"] == "10123"
    assert thrift.dbt_artifacts_dir == thrift.dbt_target_dir / "spark_thrift"
    for bad in ("0", "70000", "ten"):
        with pytest.raises(ValueError, match="DE06_SPARK_PORT"):
            make_settings(tmp_path / "home", DE06_SPARK_PORT=bad)


def test_the_spark_server_runs_with_the_session_targets_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`de06 spark-server` starts Spark with the `spark` output's settings from profiles.yml,
    rendered for this home (one place for both targets), and listens on 127.0.0.1 only."""
    from de06.spark_server import server_command, spark_conf

    monkeypatch.setenv("DE06_SPARK_CORES", "1")
    settings = make_settings(tmp_path / "home", DE06_DBT_TARGET="spark_thrift")
    conf = spark_conf(settings)
    spark_dir = tmp_path / "home" / "spark"
    assert conf["spark.master"] == "local[1]"
    assert conf["spark.sql.warehouse.dir"] == f"{spark_dir}/warehouse"
    assert (
        f"databaseName={spark_dir}/metastore_db;"
        in conf["spark.hadoop.javax.jdo.option.ConnectionURL"]
    )
    assert conf["spark.sql.session.timeZone"] == "UTC"
    assert "{{" not in "".join(conf.values())
    command = server_command(settings, 10123)
    assert command[0].endswith("bin/spark-submit")
    assert "org.apache.spark.sql.hive.thriftserver.HiveThriftServer2" in command
    assert "spark.sql.warehouse.dir=" + f"{spark_dir}/warehouse" in command
    assert command[-5:] == [
        "--hiveconf",
        "hive.server2.thrift.port=10123",
        "--hiveconf",
        "hive.server2.thrift.bind.host=127.0.0.1",
        "spark-internal",
    ]
