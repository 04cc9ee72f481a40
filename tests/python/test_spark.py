"""The same project on Spark: the session's generated feeds refreshed with the ``spark`` target
(a local Spark session inside dbt, Java 17), and every mart compared with the DuckDB build of the
same feeds, row for row and value for value.

The refresh on Spark goes the whole way a scheduled one does: ingest (into DuckDB's raw layer),
the raw tables exported as Parquet, ``dbt build`` on Spark (seeds, models, data tests and unit
tests, all on Spark), Spark's marts copied back, the quality gate, the publish.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass

import duckdb
import pytest
import yaml

from conftest import Built, make_settings
from de06.lake import RAW_TABLES, spark_table_dirs
from de06.pipeline import RefreshResult, refresh
from de06.settings import Settings

pytestmark = pytest.mark.slow


@dataclass
class SparkBuilt:
    settings: Settings
    result: RefreshResult


@pytest.fixture(scope="module")
def on_spark(built: Built) -> Iterator[SparkBuilt]:
    if shutil.which("java") is None:
        pytest.fail("the Spark tests need Java 17: apt-get install openjdk-17-jre-headless")
    home = built.settings.home.parent / "spark_home"
    settings = make_settings(home, DE06_DBT_TARGET="spark")
    settings.ensure_dirs()
    shutil.copytree(built.generated, settings.landing_dir, dirs_exist_ok=True)
    yield SparkBuilt(settings, refresh(settings, run_id="spark"))


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
def both(built: Built, on_spark: SparkBuilt) -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect()
    con.execute(f"attach '{built.settings.published_db}' as on_duckdb (read_only)")
    con.execute(f"attach '{on_spark.settings.published_db}' as on_spark (read_only)")
    yield con
    con.close()


def test_the_spark_refresh_loads_builds_checks_and_publishes(on_spark: SparkBuilt) -> None:
    result = on_spark.result
    assert result.reports and all(r.status != "rejected" for r in result.reports)
    assert result.gate is not None and result.gate.passed
    assert result.published is not None
    # the raw layer went out as Parquet, one folder per table, where the Spark target reads it
    for table in RAW_TABLES:
        assert list((on_spark.settings.spark_raw_dir / table).glob("*.parquet")), table


def test_every_mart_was_built_by_spark(built: Built, on_spark: SparkBuilt) -> None:
    """Spark holds a table for every mart, and what was published is what Spark wrote."""
    spark_marts = spark_table_dirs(on_spark.settings.spark_dir / "warehouse", "marts")
    assert sorted(spark_marts) == mart_models(built)
    assert on_spark.result.published is not None
    published = on_spark.result.published.tables
    con = duckdb.connect()
    for name, folder in spark_marts.items():
        row = con.execute(f"select count(*) from read_parquet('{folder}/*.parquet')").fetchone()
        assert row is not None and published[f"marts.{name}"] == row[0], name


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
