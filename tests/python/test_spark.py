"""The same project on Spark: the session's generated feeds refreshed with the ``spark`` target
(a local Spark session inside dbt, Java 17) in two steps, a full build and then an incremental
one, and every mart compared with a DuckDB build that took the same two steps, row for row and
value for value.

Step 1 lands the submissions, the tasks and the dossiers up to September 2025 (August's and
September's versions only as far as 20 September), with five dossiers received in June 2024
that no other dossier shares a month with. Step 2 lands the rest: the later versions of August
and September (they replace versions of months already built), the last three months, and the
five June dossiers moved into July (June is left with no dossiers). On Spark, step 2 replaces
whole partitions with ``insert_overwrite``: the months and periods those changes touch, and
June's partitions are dropped.

Both steps go the whole way a scheduled refresh does: ingest (into DuckDB's raw layer), the raw
tables exported as Parquet, ``dbt build`` on Spark (models, data tests and unit tests, all on
Spark), Spark's marts copied back, the quality gate, the publish. Step 1 is ``de06 refresh``;
step 2 is the Dagster refresh job as the daily schedule runs it (the current month's
partition), its dbt steps on Spark and its checks as Dagster asset checks.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

from conftest import PERIOD_CHAIN_INTERMEDIATE, Built, make_settings
from de06.lake import RAW_TABLES, spark_table_dirs
from de06.pipeline import RefreshResult, ingest_landing, refresh, run_dbt
from de06.settings import Settings

pytestmark = pytest.mark.slow

CUT = "2025-09-20 00:00:00"  # step 1 has August's and September's versions until then
LATE_AT = "2026-01-20 08:00:00"  # the June dossiers' move (after every generated version)
STEP_2_MONTHS = ["2025-08", "2025-09", "2025-10", "2025-11", "2025-12"]


@pytest.fixture(scope="module")
def steps(built: Built, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The two landings (folders laid out as the landing folder), made once from the session's
    generated feeds."""
    root = tmp_path_factory.mktemp("spark_steps")
    first, second = root / "1", root / "2"
    generated = built.generated
    shutil.copytree(generated / "submissions", first / "submissions")
    shutil.copytree(generated / "tasks", first / "tasks")
    (first / "dossiers").mkdir()
    (second / "dossiers").mkdir(parents=True)
    con = duckdb.connect()
    for path in sorted((generated / "dossiers").iterdir()):
        month = path.stem.rsplit("_", 1)[-1]
        if month in STEP_2_MONTHS:
            shutil.copy2(path, second / "dossiers" / path.name)
        else:
            shutil.copy2(path, first / "dossiers" / path.name)
        if month in ("2025-08", "2025-09"):
            early = first / "dossiers" / f"{path.stem}_early.parquet"
            con.execute(
                f"copy (select * from read_parquet('{path}') "
                f"where updated_at < timestamp '{CUT}') to '{early}' (format parquet)"
            )
    july = generated / "dossiers" / "dossiers_provincial_2024-07.parquet"
    june = f"""
        select * replace (
            'LATE-' || dossier_id as dossier_id,
            received_at - interval 31 day as received_at,
            due_at - interval 31 day as due_at,
            finished_at - interval 31 day as finished_at,
            synced_national_at - interval 31 day as synced_national_at)
        from (
            select * from read_parquet('{july}')
            qualify row_number() over (partition by dossier_id order by updated_at desc) = 1
        )
        where unit_code not like '%.%' and day(received_at) <= 28
        order by dossier_id limit 5"""
    con.execute(
        f"copy ({june}) to '{first}/dossiers/dossiers_provincial_2024-06_late.parquet' "
        "(format parquet)"
    )
    con.execute(
        f"""copy (select * replace (
                received_at + interval 31 day as received_at,
                due_at + interval 31 day as due_at,
                finished_at + interval 31 day as finished_at,
                synced_national_at + interval 31 day as synced_national_at,
                timestamp '{LATE_AT}' as updated_at)
            from ({june}))
        to '{second}/dossiers/dossiers_provincial_2024-06_moved.parquet' (format parquet)"""
    )
    con.close()
    return first, second


def land(step: Path, settings: Settings) -> None:
    shutil.copytree(step, settings.landing_dir, dirs_exist_ok=True)


@dataclass
class SparkBuilt:
    settings: Settings
    first: RefreshResult  # step 1: `de06 refresh`
    second: Any  # step 2: the Dagster run (dagster's ExecuteInProcessResult)


def dagster_refresh(settings: Settings) -> Any:
    """The refresh job for the current month, in this process, with the definitions loaded
    for ``settings`` (they read their settings from the environment when imported)."""
    import dagster as dg

    env = {
        **settings.dagster_env(),
        "DE06_HOME": str(settings.home),
        "DE06_DBT_TARGET_PATH": str(settings.dbt_target_dir),
    }
    settings.write_dagster_instance_config()
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        patch.delenv("DE06_PUBLISHED_DB", raising=False)
        for name in [m for m in sys.modules if m.startswith("de06.defs")]:
            del sys.modules[name]  # import them anew, for these settings
        try:
            from de06.defs.definitions import defs
            from de06.defs.runs import refresh_current_month

            with dg.DagsterInstance.get() as instance:
                return refresh_current_month(defs, instance)
        finally:
            for name in [m for m in sys.modules if m.startswith("de06.defs")]:
                del sys.modules[name]  # the next importer gets its own settings


@pytest.fixture(scope="module")
def on_spark(built: Built, steps: tuple[Path, Path]) -> Iterator[SparkBuilt]:
    if shutil.which("java") is None:
        pytest.fail("the Spark tests need Java 17: apt-get install openjdk-17-jre-headless")
    settings = make_settings(built.settings.home.parent / "spark_home", DE06_DBT_TARGET="spark")
    settings.ensure_dirs()
    # step 1: `de06 refresh`, a full build
    land(steps[0], settings)
    first = refresh(settings, run_id="spark")
    # step 2: the daily Dagster run, incremental
    land(steps[1], settings)
    yield SparkBuilt(settings, first, dagster_refresh(settings))


@pytest.fixture(scope="module")
def on_duckdb(built: Built, steps: tuple[Path, Path]) -> Settings:
    """The same two steps on DuckDB (its incremental runs equal a full rebuild:
    test_incremental.py)."""
    settings = make_settings(built.settings.home.parent / "twin_home")
    settings.ensure_dirs()
    run_dbt(settings, ["seed"])
    for step in steps:
        land(step, settings)
        ingest_landing(settings)
        run_dbt(settings, ["run"])
    return settings


def mart_models(built: Built) -> list[str]:
    """The marts, from their YAML (not from either database)."""
    path = built.settings.project_dir / "models" / "marts" / "_marts__models.yml"
    models = yaml.safe_load(path.read_text(encoding="utf-8"))["models"]
    return sorted(m["name"] for m in models)


def columns(con: duckdb.DuckDBPyConnection, catalog: str, table: str) -> list[tuple[str, str]]:
    return [
        (str(name), str(kind))
        for name, kind in con.execute(
            "select column_name, data_type from duckdb_columns() "
            "where database_name = ? and schema_name = 'marts' and table_name = ? "
            "order by column_index",
            [catalog, table],
        ).fetchall()
    ]


def differing_rows(con: duckdb.DuckDBPyConnection, left: str, right: str) -> tuple[int, int]:
    """Rows of ``left`` missing from ``right`` and the other way round, as multisets: every
    value must be equal (doubles to the last bit; nulls match nulls)."""

    def missing(rows: str, other: str) -> str:
        return f"select count(*) from (select * from ({rows}) except all select * from ({other}))"

    only_left = con.execute(missing(left, right)).fetchone()
    only_right = con.execute(missing(right, left)).fetchone()
    assert only_left is not None and only_right is not None
    return int(only_left[0]), int(only_right[0])


@pytest.fixture(scope="module")
def both(on_duckdb: Settings, on_spark: SparkBuilt) -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect()
    con.execute(f"attach '{on_duckdb.warehouse_db}' as on_duckdb (read_only)")
    con.execute(f"attach '{on_spark.settings.published_db}' as on_spark (read_only)")
    yield con
    con.close()


def test_the_spark_refresh_loads_builds_checks_and_publishes(on_spark: SparkBuilt) -> None:
    result = on_spark.first
    assert result.reports and all(r.status != "rejected" for r in result.reports)
    assert result.gate is not None and result.gate.passed
    assert result.published is not None
    # the raw layer went out as Parquet, one folder per table, where the Spark target reads it
    for table in RAW_TABLES:
        assert list((on_spark.settings.spark_raw_dir / table).glob("*.parquet")), table


def test_the_dagster_run_on_spark_loads_builds_checks_and_publishes(on_spark: SparkBuilt) -> None:
    result = on_spark.second
    assert result.success, [e.message for e in result.all_events if e.is_failure]
    materialized = {"/".join(e.asset_key.path) for e in result.get_asset_materialization_events()}
    assert {
        "raw/dossiers",
        "intermediate/int_dossiers__enriched",
        "marts/fct_indicator_values",
        "published/warehouse",
    } <= materialized
    checks = {
        ("/".join(e.asset_key.path), e.check_name): e.passed
        for e in result.get_asset_check_evaluations()
    }
    # Great Expectations on the three layers (in DuckDB, after the copy back) ...
    for key in (
        "raw/dossiers",
        "staging/stg_dossier_feed__dossier_versions",
        "marts/fct_indicator_values",
    ):
        assert checks[(key, "great_expectations")] is True, key
    # ... and dbt's data tests, run on Spark: none failed but a warning
    dbt_checks = [
        e
        for e in result.get_asset_check_evaluations()
        if e.check_name not in ("great_expectations", "freshness_check")
    ]
    assert len(dbt_checks) > 50
    assert not [e.check_name for e in dbt_checks if not e.passed and e.severity.value == "ERROR"]
    assert not list(on_spark.settings.landing_dir.rglob("*.parquet"))  # moved to the archive


def test_every_mart_was_built_by_spark(built: Built, on_spark: SparkBuilt) -> None:
    """Spark holds a table for every mart, and what was published is what Spark wrote."""
    spark_marts = spark_table_dirs(on_spark.settings.spark_dir / "warehouse", "marts")
    assert sorted(spark_marts) == mart_models(built)
    published = duckdb.connect(str(on_spark.settings.published_db), read_only=True)
    con = duckdb.connect()
    for name, folder in spark_marts.items():
        row = con.execute(f"select count(*) from read_parquet('{folder}/*.parquet')").fetchone()
        rows = published.execute(f"select count(*) from marts.{name}").fetchone()
        assert row is not None and rows == row, name
    published.close()


@pytest.mark.parametrize(
    "mart",
    [
        "dim_date",
        "dim_indicator",
        "dim_unit",
        "fct_dossier_counts_monthly",
        "fct_dossier_reconciliation",
        "fct_index_766",
        "fct_index_766_what_if",
        "fct_indicator_values",
        "fct_indicator_values_current_units",
        "fct_submission_status",
        "fct_task_progress",
    ],
)
def test_mart_equals_the_duckdb_build(
    built: Built, both: duckdb.DuckDBPyConnection, mart: str
) -> None:
    assert mart in mart_models(built)
    on_duckdb = columns(both, "on_duckdb", mart)
    assert on_duckdb, f"{mart}: not in the DuckDB build"
    # same names, same order, same types
    assert columns(both, "on_spark", mart) == on_duckdb
    rows = both.execute(f"select count(*) from on_duckdb.marts.{mart}").fetchone()
    assert rows is not None and rows[0] > 0, f"{mart}: empty, nothing compared"
    names = ", ".join(f'"{name}"' for name, _ in on_duckdb)
    left = f"select {names} from on_duckdb.marts.{mart}"
    right = f"select {names} from on_spark.marts.{mart}"
    assert differing_rows(both, left, right) == (0, 0)


def test_the_comparison_sees_one_changed_value(both: duckdb.DuckDBPyConnection) -> None:
    """The comparison above can fail: one value changed in one row is two differing rows."""
    names = "unit_key, period, indicator_code, dimension, source, value"
    left = f"select {names} from on_duckdb.marts.fct_indicator_values"
    changed = (
        f"select {names.replace('value', 'case when rn = 1 then value + 1e-12 else value end')} "
        f"from (select *, row_number() over () as rn from on_spark.marts.fct_indicator_values "
        "where value is not null)"
        f" union all select {names} from on_spark.marts.fct_indicator_values where value is null"
    )
    assert differing_rows(both, left, changed) == (1, 1)


def test_the_second_spark_run_replaced_partitions(
    on_duckdb: Settings, on_spark: SparkBuilt
) -> None:
    """Step 2 on Spark was incremental: partitions replaced, not tables rebuilt; and the
    partitions Spark holds are the months and periods the DuckDB build has rows for."""
    warehouse = on_spark.settings.spark_dir / "warehouse" / "intermediate.db"
    twin = duckdb.connect(str(on_duckdb.warehouse_db), read_only=True)

    def held(table: str, column: str) -> set[str]:
        return {p.name.removeprefix(f"{column}=") for p in (warehouse / table).glob(f"{column}=*")}

    def rows_in(table: str, column: str) -> set[str]:
        found = twin.execute(f"select distinct {column}::varchar from intermediate.{table}")
        return {str(value) for (value,) in found.fetchall()}

    # June 2024 lost its five dossiers: its partitions were dropped, July's kept
    for table in ("int_dossiers__enriched", "int_dossier_counts__monthly"):
        assert "2024-07-01" in held(table, "received_month"), table
        assert "2024-06-01" not in held(table, "received_month"), table
        assert held(table, "received_month") == rows_in(table, "received_month"), table
    assert held("int_dossier_backlog__month_ends", "snapshot_month") == rows_in(
        "int_dossier_backlog__month_ends", "snapshot_month"
    )
    # the unit × period models computed the periods the change log named (June 2024's among
    # them), not every period as a full build or a change to a whole input does
    marks = warehouse / "period_watermarks"
    con = duckdb.connect()
    for model in PERIOD_CHAIN_INTERMEDIATE:
        row = con.execute(
            f"select periods, why from read_parquet('{marks}/*.parquet') where model = ? "
            "order by recorded_at desc limit 1",
            [model],
        ).fetchone()
        assert row is not None, model
        periods, why = row
        assert why == "changed months", (model, why)
        assert "2024-06" in periods and "2024-07" in periods, model
        assert held(model, "period") == rows_in(model, "period"), model
    twin.close()
