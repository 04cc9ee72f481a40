"""The same project on Spark: small generated feeds refreshed on Spark in two steps, a full build
and then an incremental one, and every mart compared with a DuckDB build that took the same two
steps, row for row and value for value.

The feeds: five months from May 2025 (both sides of the July 2025 reorganisation), with five
dossiers received in April that no other dossier shares a month with. Step 1 lands the
submissions, the tasks and the dossiers up to September, August's and September's versions only
as far as 15 September. Step 2 lands the rest: the later versions of August and September (they
replace versions of months already built), and the five April dossiers moved into May (April is
left with no dossiers). On Spark, step 2 replaces whole partitions with ``insert_overwrite``:
the months and periods those changes touch; April's partitions are dropped.

Each step goes the whole way a scheduled refresh does: ingest (into DuckDB's raw layer), the raw
tables exported as Parquet, dbt on Spark, Spark's marts copied back, the quality gate, the
publish.

- Step 1 is the Dagster refresh job as the daily schedule runs it, on the ``spark_thrift``
  target: a local Spark Thrift server (``de06 spark-server``, the ``spark`` output's settings)
  that each of the job's dbt steps connects to, so the job starts one Spark, not one per step.
  Everything is built on Spark: seeds and models; the Great Expectations checks run on what
  came back; and dbt's data tests run as the run's asset checks, one of each kind (every
  generic test once, every ``expression_is_true`` expression, every singular test): what Spark
  can get wrong in a data test is its SQL, and the data itself is the DuckDB twin's, value for
  value (below), on which every data test runs. Then the unit tests run on the same server (a
  refresh leaves them out: ``pipeline.refresh_build_args``).
- Step 2 is ``de06 refresh`` on the same server. It builds the models only
  (``DBT_EXCLUDE_RESOURCE_TYPES``): the seeds did not change, and the tests ran on Spark in step
  1; what step 2 proves is the incremental path, checked by the comparison below.
- Once step 2's dbt build is done on Spark, the server stops (the Derby metastore admits one
  Spark at a time) and the ``spark`` target, a Spark session inside dbt, reads through the
  same catalog what the server wrote (``dbt show``), beside the rest of step 2 (the marts
  copied into DuckDB, the gate, the publish: DuckDB only). Run while step 2 built, on a
  catalog of its own, it saved nothing: the session's JVM took the CPU step 2 needed.

The DuckDB twin takes the same two steps in a thread while Spark works, then runs every data
test. The whole module costs
one Spark start for the builds and one for the session (docs/testing.md has the figures).
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

from conftest import PERIOD_CHAIN_INTERMEDIATE, free_port, make_settings
from de06.generate import GenerateConfig, generate
from de06.lake import RAW_TABLES, spark_table_dirs
from de06.pipeline import RefreshResult, dbt_executable, ingest_landing, refresh, run_dbt
from de06.settings import Settings

pytestmark = pytest.mark.slow

CONFIG = GenerateConfig(
    seed=17, start_month="2025-05", months=5, dossiers_per_month=300, csv_months=0
)
CUT = "2025-09-15 00:00:00"  # step 1 has August's and September's versions until then
LATE_AT = "2025-12-20 08:00:00"  # the April dossiers' move (after every generated version)
STEP_2_MONTHS = ["2025-08", "2025-09"]
EMPTIED, RECEIVER = "2025-04", "2025-05"  # the month left with no dossiers, and where they went
SESSION_SEED = "admin_districts_2025_03"  # the session's read: names like "Ia H'Drai"
MARTS = yaml.safe_load(
    (Path(__file__).parents[2] / "models" / "marts" / "_marts__models.yml").read_text("utf-8")
)["models"]


@pytest.fixture(scope="module")
def steps(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The two landings (folders laid out as the landing folder), from one generated set."""
    root = tmp_path_factory.mktemp("spark_steps")
    generated, first, second = root / "generated", root / "1", root / "2"
    generate(make_settings(root / "unused").seeds_dir, generated, CONFIG)
    shutil.copytree(generated / "submissions", first / "submissions")
    shutil.copytree(generated / "tasks", first / "tasks")
    # the portal's 766 export: July and August first, September and the third quarter after
    for path in sorted((generated / "portal766").rglob("portal766__*.json")):
        period = path.name.split("__")[2]
        step = second if period in ("2025-09", "2025-Q3") else first
        target = step / "portal766" / path.parent.name / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    (first / "dossiers").mkdir()
    (second / "dossiers").mkdir(parents=True)
    con = duckdb.connect()
    for path in sorted((generated / "dossiers").iterdir()):
        month = path.stem.rsplit("_", 1)[-1]
        if month in STEP_2_MONTHS:
            shutil.copy2(path, second / "dossiers" / path.name)
            early = first / "dossiers" / f"{path.stem}_early.parquet"
            con.execute(
                f"copy (select * from read_parquet('{path}') "
                f"where updated_at < timestamp '{CUT}') to '{early}' (format parquet)"
            )
        else:
            shutil.copy2(path, first / "dossiers" / path.name)
    may = generated / "dossiers" / f"dossiers_provincial_{RECEIVER}.parquet"
    april = f"""
        select * replace (
            'LATE-' || dossier_id as dossier_id,
            received_at - interval 31 day as received_at,
            due_at - interval 31 day as due_at,
            finished_at - interval 31 day as finished_at,
            synced_national_at - interval 31 day as synced_national_at)
        from (
            select * from read_parquet('{may}')
            qualify row_number() over (partition by dossier_id order by updated_at desc) = 1
        )
        where unit_code not like '%.%' and day(received_at) <= 28
        order by dossier_id limit 5"""
    con.execute(
        f"copy ({april}) to '{first}/dossiers/dossiers_provincial_{EMPTIED}_late.parquet' "
        "(format parquet)"
    )
    con.execute(
        f"""copy (select * replace (
                received_at + interval 31 day as received_at,
                due_at + interval 31 day as due_at,
                finished_at + interval 31 day as finished_at,
                synced_national_at + interval 31 day as synced_national_at,
                timestamp '{LATE_AT}' as updated_at)
            from ({april}))
        to '{second}/dossiers/dossiers_provincial_{EMPTIED}_moved.parquet' (format parquet)"""
    )
    con.close()
    return first, second


def land(step: Path, settings: Settings) -> None:
    shutil.copytree(step, settings.landing_dir, dirs_exist_ok=True)


@dataclass
class SparkBuilt:
    settings: Settings  # the home's, on the `spark_thrift` target
    first: Any  # step 1: the Dagster run (dagster's ExecuteInProcessResult)
    data_tests: set[str]  # the data tests run on Spark, one of each kind
    as_checks: set[str]  # of those, the ones the Dagster run evaluated as asset checks
    second: RefreshResult  # step 2: `de06 refresh`
    # dbt's unit tests on the server, between the steps, with the chosen data tests that are
    # not asset checks
    unit_tests: list[dict[str, Any]]
    # a seed's rows as the `spark` target (a session) reads them through the server's catalog:
    # all, and those whose name has an apostrophe
    session_counts: tuple[int, int]


def data_tests_of_each_kind(manifest: dict[str, Any]) -> set[str]:
    """The names of dbt's data tests the Dagster run on Spark evaluates: the first of each
    generic test (by name), every ``expression_is_true`` (each its own SQL expression) and
    every singular test."""
    chosen: dict[str, str] = {}
    names: set[str] = set()
    for node in sorted(manifest["nodes"].values(), key=lambda n: n["name"]):
        if node["resource_type"] != "test":
            continue
        kind = (node.get("test_metadata") or {}).get("name")
        if kind is None or kind == "expression_is_true":
            names.add(node["name"])
        else:
            chosen.setdefault(kind, node["name"])
    return names | set(chosen.values())


def dagster_refresh(settings: Settings, data_tests: set[str]) -> tuple[Any, set[str]]:
    """The refresh job for the current month, in this process, with the definitions loaded
    for ``settings`` (they read their settings from the environment when imported): every
    asset, every check but dbt's data tests not in ``data_tests``. Returns the run's result
    and the names of the data tests that are asset checks (not those on a source, nor the
    singular tests that name no model of their own)."""
    import dagster as dg

    env = {
        **settings.dagster_env(),
        "DE06_HOME": str(settings.home),
        "DE06_DBT_TARGET_PATH": str(settings.dbt_target_dir),
    }
    settings.write_dagster_instance_config()
    # importing the definitions sets dbt's variables in os.environ (defs/dbt.py): put back the
    # environment as it was, or a later test on this worker reads this home's paths
    saved = dict(os.environ)
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        patch.delenv("DE06_PUBLISHED_DB", raising=False)
        for name in [m for m in sys.modules if m.startswith("de06.defs")]:
            del sys.modules[name]  # import them anew, for these settings
        try:
            from de06.defs.definitions import defs
            from de06.defs.runs import refresh_current_month

            graph = defs.resolve_asset_graph()
            dbt_tests = {
                key.name
                for key in graph.asset_check_keys
                if key.name not in ("great_expectations", "freshness_check")
            }
            checks = {
                key
                for key in graph.asset_check_keys
                if key.name not in dbt_tests or key.name in data_tests
            }
            with dg.DagsterInstance.get() as instance:
                result = refresh_current_month(defs, instance, checks=checks)
            return result, dbt_tests
        finally:
            for name in [m for m in sys.modules if m.startswith("de06.defs")]:
                del sys.modules[name]  # the next importer gets its own settings
            os.environ.clear()
            os.environ.update(saved)


def session_counts(settings: Settings, table: str) -> tuple[int, int]:
    """A table's rows as the `spark` target (a Spark session inside dbt) reads them, and those
    whose ``name`` has an apostrophe."""
    proc = subprocess.run(
        [
            dbt_executable(),
            "show",
            "--inline",
            f"select count(*) as n, count_if(name like '%''%') as quoted from {table}",
            "--output",
            "json",
            "--quiet",
            "--project-dir",
            str(settings.project_dir),
            "--profiles-dir",
            str(settings.project_dir),
        ],
        # one small query in a fresh JVM: the C1 compiler only (alone 18-19 s instead of 20-24;
        # the server's long run needs C2: docs/testing.md)
        env={
            **os.environ,
            **settings.dbt_env(),
            "DE06_SPARK_JAVA_OPTIONS": "-XX:+UseSerialGC -XX:TieredStopAtLevel=1",
        },
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    shown = json.loads(proc.stdout[proc.stdout.index("{") :])
    return int(shown["show"][0]["n"]), int(shown["show"][0]["quoted"])


def build_on_spark(steps: tuple[Path, Path], home: Path) -> SparkBuilt:
    from de06.spark_server import launch, stop, wait_until_listening

    thrift = make_settings(home, DE06_DBT_TARGET="spark_thrift", DE06_SPARK_PORT=str(free_port()))
    thrift.ensure_dirs()
    with (
        (home.parent / "thrift-server.log").open("w") as log,
        ThreadPoolExecutor(max_workers=1) as pool,
    ):
        server = launch(thrift, thrift.spark_port, log)
        try:
            # the definitions read the manifest (as `de06 dagster` parses first)
            run_dbt(thrift, ["parse", "--quiet"])
            manifest = json.loads((thrift.dbt_artifacts_dir / "manifest.json").read_text())
            data_tests = data_tests_of_each_kind(manifest)
            land(steps[0], thrift)
            wait_until_listening(server, thrift.spark_port)
            # step 1: the daily Dagster run, its four dbt steps on the one Spark
            first, checks = dagster_refresh(thrift, data_tests)
            # the unit tests (a refresh leaves them out: pipeline.refresh_build_args), once, and
            # the chosen data tests that no asset check runs
            others = sorted(data_tests - checks)
            run_dbt(thrift, ["test", "--select", "test_type:unit", *others], check=False)
            unit_tests = json.loads((thrift.dbt_artifacts_dir / "run_results.json").read_text())
            # step 2: `de06 refresh`, the models only (seeds unchanged; tests ran in step 1).
            # Once dbt is done on Spark the server stops (the copy into DuckDB, the gate and
            # the publish read DuckDB only), and the `spark` target (a session; Derby admits
            # one Spark at a time) reads through the same catalog a seed the server wrote,
            # beside them
            land(steps[1], thrift)
            session = make_settings(home, DE06_DBT_TARGET="spark")
            reading: list[Future[tuple[int, int]]] = []

            def built() -> None:
                stop(server)
                reading.append(pool.submit(session_counts, session, f"reference.{SESSION_SEED}"))

            with pytest.MonkeyPatch.context() as patch:
                patch.setenv("DBT_EXCLUDE_RESOURCE_TYPES", "test unit_test seed")
                second = refresh(thrift, run_id="spark-2", on_built=built)
        finally:
            stop(server)
    assert len(reading) == 1
    counts = reading[0].result()
    return SparkBuilt(
        thrift, first, data_tests, data_tests & checks, second, unit_tests["results"], counts
    )


@dataclass
class TwinBuilt:
    settings: Settings
    data_tests: list[dict[str, Any]]  # step 2's dbt build: its models and every data test


def build_on_duckdb(steps: tuple[Path, Path], home: Path) -> TwinBuilt:
    """The same two steps on DuckDB (its incremental runs equal a full rebuild:
    test_incremental.py), then every data test."""
    settings = make_settings(home)
    settings.ensure_dirs()
    # step 1: seeds and models; step 2: the models and every data test (a failed test is
    # reported below, not raised here)
    for step, leave_out, check in zip(
        steps, [["test", "unit_test"], ["seed", "unit_test"]], [True, False], strict=True
    ):
        land(step, settings)
        ingest_landing(settings)
        run_dbt(settings, ["build", "--exclude-resource-type", *leave_out], check=check)
    built = json.loads((settings.dbt_artifacts_dir / "run_results.json").read_text())
    return TwinBuilt(settings, built["results"])


def below_spark(build: Callable[..., TwinBuilt], *args: Any) -> TwinBuilt:
    """``build`` in this thread at nice 10, with the processes it starts (Linux: a thread's
    nice value is its own, and a process started from it inherits it). Spark's steps are the
    module's critical path; the twin has the whole module to finish, in the CPU Spark leaves."""
    os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
    return build(*args)


@pytest.fixture(scope="module")
def builds(
    steps: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory
) -> tuple[SparkBuilt, TwinBuilt]:
    """Both builds at once: the DuckDB twin in a thread while Spark works, in the CPU Spark
    leaves (``below_spark``)."""
    if shutil.which("java") is None:
        pytest.fail("the Spark tests need Java 17: apt-get install openjdk-17-jre-headless")
    root = tmp_path_factory.mktemp("spark")
    with ThreadPoolExecutor(max_workers=1) as pool, pytest.MonkeyPatch.context() as patch:
        # tiny data: one shuffle partition (the profile's default, 4, is for a machine's data;
        # fct_indicator_values_current_units plans and runs in 3.8 s instead of 4.8)
        patch.setenv("DE06_SPARK_SHUFFLE_PARTITIONS", "1")
        # both builds work out submission status on one day, though the module may cross
        # midnight between them (fct_submission_status: the build day by default)
        patch.setenv("DE06_STATUS_DATE", datetime.now(UTC).date().isoformat())
        # the serial collector: a heap this small needs no concurrent GC threads, whose CPU
        # `make test`'s other worker would lose (four of the models' queries in a fresh
        # session: 88 s of CPU instead of 108 s, wall 50 s instead of 58 s). And the JIT
        # compiles only what runs ten times as often as by default: the server spent most of
        # its CPU compiling (jstat: 438 s of compile time, 75,000 methods, for about 510 s of
        # CPU, in `make test`), mostly code Spark generates for one small query and runs a few
        # hundred times. The module alone: 9 min 4 s and 696 s of user CPU instead of 9 min
        # 20 s and 804 s
        patch.setenv("DE06_SPARK_JAVA_OPTIONS", "-XX:+UseSerialGC -XX:CompileThresholdScaling=10")
        twin = pool.submit(below_spark, build_on_duckdb, steps, root / "twin")
        on_spark = build_on_spark(steps, root / "home")
        return on_spark, twin.result()


@pytest.fixture(scope="module")
def on_spark(builds: tuple[SparkBuilt, TwinBuilt]) -> SparkBuilt:
    return builds[0]


@pytest.fixture(scope="module")
def twin(builds: tuple[SparkBuilt, TwinBuilt]) -> TwinBuilt:
    return builds[1]


@pytest.fixture(scope="module")
def on_duckdb(twin: TwinBuilt) -> Settings:
    return twin.settings


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


def test_the_dagster_run_on_spark_loads_builds_checks_and_publishes(on_spark: SparkBuilt) -> None:
    result = on_spark.first
    assert result.success, [e.message for e in result.all_events if e.is_failure]
    materialized = {"/".join(e.asset_key.path) for e in result.get_asset_materialization_events()}
    assert {
        "raw/dossiers",
        "reference/admin_communes_2025_07",
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
    # ... and dbt's data tests, run on Spark, one of each kind: all of those the run chose
    # ran, none failed but a warning
    dbt_checks = [
        e
        for e in result.get_asset_check_evaluations()
        if e.check_name not in ("great_expectations", "freshness_check")
    ]
    assert {e.check_name for e in dbt_checks} == on_spark.as_checks
    assert not [e.check_name for e in dbt_checks if not e.passed and e.severity.value == "ERROR"]
    # the raw layer went out as Parquet, one folder per table, where Spark reads it
    for table in RAW_TABLES:
        assert list((on_spark.settings.spark_raw_dir / table).glob("*.parquet")), table


def test_the_run_on_spark_chose_a_data_test_of_each_kind(on_spark: SparkBuilt) -> None:
    """Every kind of data test runs its SQL on Spark: each generic test (dbt's and the
    project's: tests/dbt/generic), each expression, each singular test. (Until issue 29 all of
    them ran on Spark, about a minute of its run: the others differ only in the table and
    column they name, and the data they check is the DuckDB twin's, checked below.)"""
    manifest = json.loads((on_spark.settings.dbt_artifacts_dir / "manifest.json").read_text())
    tests = [n for n in manifest["nodes"].values() if n["resource_type"] == "test"]
    kinds = {(n.get("test_metadata") or {}).get("name", "singular") for n in tests}
    chosen = [n for n in tests if n["name"] in on_spark.data_tests]
    assert {(n.get("test_metadata") or {}).get("name", "singular") for n in chosen} == kinds
    assert {"not_null", "unique", "relationships", "accepted_values"} <= kinds
    expressions = [
        n
        for n in tests
        if (n.get("test_metadata") or {}).get("name") in ("expression_is_true", None)
    ]
    assert expressions and all(n["name"] in on_spark.data_tests for n in expressions)
    assert len(on_spark.data_tests) < len(tests) / 2


def test_every_data_test_passes_on_the_duckdb_twin(twin: TwinBuilt) -> None:
    """Every data test, on the DuckDB build whose marts equal Spark's value for value (below):
    none failed (a warning is allowed, as in a refresh)."""
    built = [r for r in twin.data_tests if r["unique_id"].startswith("model.")]
    assert len(built) >= 39 and {r["status"] for r in built} == {"success"}
    results = [r for r in twin.data_tests if r["unique_id"].startswith("test.")]
    assert len(results) > 150, len(results)
    assert {r["status"] for r in results} <= {"pass", "warn"}, [
        (r["unique_id"], r["status"]) for r in results if r["status"] not in ("pass", "warn")
    ]


def test_the_unit_tests_pass_on_spark(on_spark: SparkBuilt) -> None:
    """dbt's unit tests, on the Thrift server: all of them, and they passed. (Until issue 29
    they ran inside the Dagster run's dbt steps; a refresh now leaves them out.)"""
    results = [r for r in on_spark.unit_tests if r["unique_id"].startswith("unit_test.")]
    assert len(results) >= 16, len(results)
    assert {r["status"] for r in results} == {"pass"}
    # with them, the chosen data tests no asset check runs (on a source, singular): passed
    others = [r for r in on_spark.unit_tests if r["unique_id"].startswith("test.")]
    assert {r["unique_id"].split(".")[2] for r in others} == (
        on_spark.data_tests - on_spark.as_checks
    )
    assert {r["status"] for r in others} <= {"pass", "warn"}
    # nothing else ran but the project's on-run-start hook
    assert {r["unique_id"].split(".")[0] for r in on_spark.unit_tests} == {
        "unit_test",
        "test",
        "operation",
    }


def test_the_refresh_on_spark_loads_builds_checks_and_publishes(on_spark: SparkBuilt) -> None:
    result = on_spark.second
    assert result.reports and all(r.status != "rejected" for r in result.reports)
    assert result.gate is not None and result.gate.passed
    assert result.published is not None
    assert not list(on_spark.settings.landing_dir.rglob("*.parquet"))  # moved to the archive


def test_a_spark_session_reads_the_tables_the_server_wrote(on_spark: SparkBuilt) -> None:
    """The `spark` target (dbt-spark's session method, with the settings the server ran with)
    opens the same catalog and reads a seed table the server wrote: every row of the CSV, the
    names with an apostrophe too (dbt-spark's own seed loader broke on them)."""
    path = on_spark.settings.project_dir / "seeds" / "admin_units" / f"{SESSION_SEED}.csv"
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    quoted = sum("'" in row["name"] for row in rows)
    assert quoted > 0
    assert on_spark.session_counts == (len(rows), quoted)


def test_every_mart_was_built_by_spark(on_spark: SparkBuilt) -> None:
    """Spark holds a table for every mart, and what was published is what Spark wrote."""
    spark_marts = spark_table_dirs(on_spark.settings.spark_dir / "warehouse", "marts")
    assert sorted(spark_marts) == sorted(m["name"] for m in MARTS)
    published = duckdb.connect(str(on_spark.settings.published_db), read_only=True)
    con = duckdb.connect()
    for name, folder in spark_marts.items():
        row = con.execute(f"select count(*) from read_parquet('{folder}/*.parquet')").fetchone()
        rows = published.execute(f"select count(*) from marts.{name}").fetchone()
        assert row is not None and rows == row, name
    published.close()


@pytest.mark.parametrize("mart", sorted(m["name"] for m in MARTS))
def test_mart_equals_the_duckdb_build(both: duckdb.DuckDBPyConnection, mart: str) -> None:
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

    # April lost its five dossiers: its partitions were dropped, May's kept
    for table in ("int_dossiers__enriched", "int_dossier_counts__monthly"):
        assert f"{RECEIVER}-01" in held(table, "received_month"), table
        assert f"{EMPTIED}-01" not in held(table, "received_month"), table
        assert held(table, "received_month") == rows_in(table, "received_month"), table
    assert held("int_dossier_backlog__month_ends", "snapshot_month") == rows_in(
        "int_dossier_backlog__month_ends", "snapshot_month"
    )
    # the unit × period models computed the periods the change log named (April's among
    # them), not every period as a full build or a change to a whole input does
    marks = warehouse / "period_watermarks"
    con = duckdb.connect()
    for model in PERIOD_CHAIN_INTERMEDIATE:
        row = con.execute(
            f"select periods, why from read_parquet('{marks}/part-*') where model = ? "
            "order by recorded_at desc limit 1",
            [model],
        ).fetchone()
        assert row is not None, model
        periods, why = row
        assert why == "changed months", (model, why)
        assert EMPTIED in periods and RECEIVER in periods, model
        assert held(model, "period") == rows_in(model, "period"), model
    twin.close()
