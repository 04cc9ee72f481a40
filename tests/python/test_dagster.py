"""Dagster: the definitions load and validate, and the refresh job materialises everything."""

from __future__ import annotations

import importlib
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest

from conftest import make_settings
from de06.generate import GenerateConfig, generate

pytestmark = pytest.mark.slow


def published_indicator_values(home: Path) -> int:
    """Rows of fct_indicator_values in the published database of the warehouse at ``home``."""
    con = duckdb.connect(str(home / "published" / "de06.duckdb"), read_only=True)
    try:
        return int(con.execute("select count(*) from marts.fct_indicator_values").fetchone()[0])
    finally:
        con.close()


def reported_values(home: Path) -> int:
    """Published indicator values that come from submissions."""
    con = duckdb.connect(str(home / "published" / "de06.duckdb"), read_only=True)
    try:
        return int(
            con.execute(
                "select count(*) from marts.fct_indicator_values where source = 'reported'"
            ).fetchone()[0]
        )
    finally:
        con.close()


def _load_defs(env: dict[str, str]):
    os.environ.update(env)
    import de06.defs.assets
    import de06.defs.dbt
    import de06.defs.definitions

    for module in (de06.defs.dbt, de06.defs.assets, de06.defs.definitions):
        importlib.reload(module)
    return de06.defs.definitions.defs


def home_env(home: Path) -> dict[str, str]:
    """The environment the definitions and `de06` read for the warehouse at ``home``."""
    settings = make_settings(home)
    return {
        "DE06_HOME": str(settings.home),
        "DE06_DBT_TARGET_PATH": str(settings.dbt_target_dir),
        "DAGSTER_HOME": str(settings.dagster_home),
        **settings.dbt_env(),
    }


def new_home(home: Path, manifest: Path) -> dict[str, str]:
    """A fresh warehouse home with its Dagster instance config and the session's dbt manifest
    (the definitions read it when imported)."""
    settings = make_settings(home)
    settings.ensure_dirs()
    settings.write_dagster_instance_config()
    settings.dbt_target_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy2(manifest, settings.dbt_target_dir / "manifest.json")
    return home_env(home)


@pytest.fixture
def dagster_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dbt_manifest: Path
) -> dict[str, str]:
    env = new_home(tmp_path / "home", dbt_manifest)
    for key in env:
        monkeypatch.setenv(key, env[key])
    return env


@dataclass
class FirstRun:
    """A warehouse the refresh job built, for the current month, from nothing (a first run
    builds every month): three months of dossiers and the task register. The submissions of the
    same generated feeds wait in ``generated`` for the test that lands them."""

    home: Path
    pristine: Path  # the home as the run left it (``restored`` puts it back)
    generated: Path
    result: Any  # dagster's ExecuteInProcessResult
    partition: str  # the current month's key when the run started


@pytest.fixture(scope="module")
def first_run(tmp_path_factory: pytest.TempPathFactory, dbt_manifest: Path) -> FirstRun:
    """Built once for the module; each test that writes works on it as the run left it
    (``restored``), at the same path: dbt's saved parse (``partial_parse.msgpack``, parsed here
    for this home) stays valid only where the profile's values (the database's path) are the
    same, and without it every dbt step of every Dagster run parses the whole project again
    (about 10 s each under load)."""
    import datetime as dt

    import dagster as dg

    from de06.pipeline import run_dbt

    root = tmp_path_factory.mktemp("dagster_first_run")
    home, generated = root / "home", root / "generated"
    env = new_home(home, dbt_manifest)
    run_dbt(make_settings(home), ["parse", "--quiet"])  # this home's saved parse
    generate(
        make_settings(home).seeds_dir,
        generated,
        GenerateConfig(seed=5, start_month="2025-05", months=3, dossiers_per_month=600),
    )
    for feed in ("dossiers", "tasks"):
        shutil.copytree(generated / feed, home / "landing" / feed, dirs_exist_ok=True)
    vietnam_now = dt.datetime.now(dt.UTC) + dt.timedelta(hours=7)  # UTC+7, no summer time
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        defs = _load_defs(env)  # imported with this home's environment set (see conftest)
        from de06.defs.runs import refresh_current_month

        with dg.DagsterInstance.get() as instance:
            result = refresh_current_month(defs, instance)
    pristine = root / "pristine"
    shutil.copytree(home, pristine)
    return FirstRun(home, pristine, generated, result, vietnam_now.strftime("%Y-%m-01"))


def restored(run: FirstRun, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The first run's warehouse home (databases, Dagster instance, dbt target) as the run left
    it, whatever an earlier test did to it, its environment set; returns the environment."""
    shutil.rmtree(run.home)
    shutil.copytree(run.pristine, run.home)
    env = home_env(run.home)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


def test_definitions_validate(dagster_home: dict[str, str]) -> None:
    dagster = str(Path(sys.executable).with_name("dagster"))
    proc = subprocess.run(
        [dagster, "definitions", "validate", "-m", "de06.defs"],
        env={**os.environ, **dagster_home},
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_asset_graph_groups_and_schedule(dagster_home: dict[str, str]) -> None:
    defs = _load_defs(dagster_home)
    graph = defs.resolve_asset_graph()
    groups: dict[str, set[str]] = {}
    for key in graph.get_all_asset_keys():
        groups.setdefault(graph.get(key).group_name, set()).add("/".join(key.path))
    assert {"raw/dossiers", "raw/submissions", "raw/tasks"} <= groups["raw_feeds"]
    assert "marts/fct_indicator_values" in groups["marts"]
    assert "staging/stg_dossier_feed__dossier_versions" in groups["staging"]
    assert groups["published"] == {"published/warehouse"}
    # its dbt steps start dbt through de06-dbt, which dies with the step (test_writer_lock.py)
    assert Path(defs.resources["dbt"].dbt_executable).name == "de06-dbt"
    import dagster as dg

    parents = {
        "/".join(k.path) for k in graph.get(dg.AssetKey(["published", "warehouse"])).parent_keys
    }
    assert parents == {
        "marts/dim_unit",
        "marts/dim_indicator",
        "marts/fct_indicator_values",
        "marts/fct_indicator_values_current_units",
        "marts/fct_task_progress",
        "marts/fct_submission_status",
        "marts/fct_dossier_reconciliation",
        "marts/fct_index_766",
        "marts/fct_index_766_published",
        "marts/fct_index_766_published_groups",
        "marts/fct_index_766_what_if",
        "marts/fct_dossier_counts_monthly",
        "marts/dim_date",
    }
    schedule = defs.resolve_schedule_def("daily_refresh")
    assert schedule.cron_schedule == "0 2 * * *"
    assert schedule.execution_timezone == "Asia/Ho_Chi_Minh"
    # the incremental dossier models, and only they, are partitioned by month
    partitioned = {
        "/".join(k.path) for k in graph.get_all_asset_keys() if graph.get(k).is_partitioned
    }
    assert partitioned == {
        "intermediate/int_dossiers__enriched",
        "intermediate/int_dossier_counts__monthly",
        "intermediate/int_dossier_reconciliation__pairs",
        "intermediate/int_dossier_reconciliation__monthly",
        "marts/fct_dossier_counts_monthly",
    }


SNAPSHOT = Path(__file__).parent / "snapshots" / "asset_graph.txt"


def asset_graph_snapshot(defs: Any) -> str:
    """One line per asset: group, key, monthly partitions or not, and its parents."""
    graph = defs.resolve_asset_graph()
    lines = []
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        parents = ", ".join(sorted(k.to_user_string() for k in node.parent_keys)) or "-"
        partitions = "monthly" if node.is_partitioned else "-"
        lines.append(f"{node.group_name}\t{key.to_user_string()}\t{partitions}\t{parents}")
    return "\n".join(lines) + "\n"


def test_asset_graph_matches_its_snapshot(dagster_home: dict[str, str]) -> None:
    """The asset graph (groups, partitions, dependencies) as reviewed in
    tests/python/snapshots/asset_graph.txt. After an intended change, rewrite the snapshot with
    DE06_UPDATE_SNAPSHOTS=1 and review its diff with the change."""
    current = asset_graph_snapshot(_load_defs(dagster_home))
    if os.environ.get("DE06_UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text(current)
    expected = SNAPSHOT.read_text()
    if current != expected:
        import difflib

        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(keepends=True),
                current.splitlines(keepends=True),
                "snapshot",
                "current",
            )
        )
        pytest.fail(f"the asset graph changed (DE06_UPDATE_SNAPSHOTS=1 to accept):\n{diff}")


def _month_rows(home: Path, table: str, months: tuple[str, ...]) -> list[tuple]:
    con = duckdb.connect(str(home / "de06.duckdb"), read_only=True)
    try:
        return con.execute(
            f"select * from intermediate.{table} where received_month in "
            f"({', '.join('?' for _ in months)}) order by all",
            list(months),
        ).fetchall()
    finally:
        con.close()


def test_a_partitioned_run_then_a_backfill_of_two_months(
    first_run: FirstRun, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The refresh job for the current month materialises everything (a first run builds all
    months); then two months of the monthly counts are lost, and `de06 backfill 2025-05 2025-06`
    (one Dagster run over the two partitions) recomputes them from raw."""
    import dagster as dg

    from de06.cli import main
    from de06.defs.runs import RANGE_END_TAG, RANGE_START_TAG

    result = first_run.result
    assert result.success, [e.message for e in result.all_events if e.is_failure]
    assert result.dagster_run.tags["dagster/partition"] == first_run.partition
    materialized = {"/".join(e.asset_key.path) for e in result.get_asset_materialization_events()}
    assert {"raw/dossiers", "marts/fct_indicator_values", "published/warehouse"} <= materialized
    checks = {
        ("/".join(e.asset_key.path), e.check_name): e.passed
        for e in result.get_asset_check_evaluations()
    }
    home = Path(restored(first_run, monkeypatch)["DE06_HOME"])
    assert published_indicator_values(home) > 0
    # the dbt steps built and tested, but left the unit tests out (`make test` runs them)
    built = [
        r["unique_id"]
        for path in (home / "dbt_target").glob("*_dbt_assets*/run_results.json")
        for r in json.loads(path.read_text())["results"]
    ]
    assert sum(u.startswith("model.") for u in built) >= 39
    assert sum(u.startswith("test.") for u in built) > 150
    assert not [u for u in built if u.startswith("unit_test.")]
    assert checks[("marts/fct_indicator_values", "great_expectations")] is True
    assert checks[("raw/submissions", "great_expectations")] is True
    assert sum(1 for passed in checks.values() if passed) > 50  # dbt's tests as checks too
    assert not list((home / "landing").rglob("*.parquet"))  # moved to the archive

    months = ("2025-05-01", "2025-06-01")
    tables = ("int_dossier_counts__monthly", "int_dossier_reconciliation__monthly")
    before = {t: _month_rows(home, t, months) for t in tables}
    assert all(len(rows) > 100 for rows in before.values())
    with duckdb.connect(str(home / "de06.duckdb")) as con:  # two months lost
        for table in tables:
            con.execute(
                f"delete from intermediate.{table} where received_month in (?, ?)", list(months)
            )
    assert main(["backfill", "2025-05", "2025-06"]) == 0
    assert {t: _month_rows(home, t, months) for t in tables} == before
    with dg.DagsterInstance.get() as instance:
        (run,) = instance.get_runs(dg.RunsFilter(tags={RANGE_START_TAG: "2025-05-01"}))
        assert run.tags[RANGE_END_TAG] == "2025-06-01"
        assert run.status == dg.DagsterRunStatus.SUCCESS
        partitions = instance.get_materialized_partitions(
            dg.AssetKey(["intermediate", "int_dossier_counts__monthly"])
        )
    assert {"2025-05-01", "2025-06-01"} <= partitions
    assert "2025-07-01" not in partitions  # built by the first run, but not as its partition
    assert main(["backfill", "2025-13"]) == 2  # a clear refusal, no run


def test_a_failed_blocking_check_stops_publishing(
    first_run: FirstRun, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A clear citizen ID slipped into the raw layer of a published warehouse: dbt passes, the
    GX check on raw/dossiers fails, Dagster records the failed check, and the published database
    stays as it was."""
    import hashlib

    import dagster as dg

    from de06.defs.runs import refresh_current_month

    dagster_home = restored(first_run, monkeypatch)
    home = Path(dagster_home["DE06_HOME"])
    defs = _load_defs(dagster_home)
    with dg.instance_for_test(temp_dir=dagster_home["DAGSTER_HOME"]) as instance:
        published = home / "published" / "de06.duckdb"
        before = hashlib.sha256(published.read_bytes()).hexdigest()
        with duckdb.connect(str(home / "de06.duckdb")) as con:
            con.execute(
                "insert into raw.dossiers select * replace ("
                "'leak-1' as dossier_id, '079012345678' as applicant_key) "
                # a current version: a superseded one would leave dossier leak-1 without one,
                # and dbt's test of that would stop the refresh before the gate
                "from raw.dossiers where _superseded_by_load_id is null limit 1"
            )
        result = refresh_current_month(defs, instance)
        evaluations = {
            ("/".join(e.asset_key.path), e.check_name): e
            for e in result.get_asset_check_evaluations()
        }
    assert not result.success
    failed = evaluations[("raw/dossiers", "great_expectations")]
    assert failed.passed is False
    assert "pseudonym" in str(failed.metadata["failures"].value)
    assert hashlib.sha256(published.read_bytes()).hexdigest() == before
    # the same from the command line: a non-zero exit and a message naming what failed where
    de06 = str(Path(sys.executable).with_name("de06"))
    proc = subprocess.run(
        [de06, "refresh"], env={**os.environ, **dagster_home}, capture_output=True, text=True
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "de06 refresh FAILED: quality gate failed" in proc.stderr
    assert "the published database was left as it was" in proc.stderr
    assert "on raw.dossiers: applicant_key is a 64-character HMAC pseudonym" in proc.stderr
    assert "1 row(s) found" in proc.stderr
    assert hashlib.sha256(published.read_bytes()).hexdigest() == before


# a run of the monthly submissions job, all of it or (argument "publish") only its publish step,
# as a manual run from the UI would be
RUN_SUBMISSIONS = """
import sys
import dagster as dg
from de06.defs.definitions import defs

name, only = sys.argv[1], sys.argv[2]
selection = [dg.AssetKey(["published", "warehouse"])] if only == "publish" else None
with dg.DagsterInstance.get() as instance:
    result = defs.resolve_job_def("submissions_refresh").execute_in_process(
        instance=instance, asset_selection=selection, raise_on_error=False,
        tags={"started_by": name},
    )
print("RUN", result.run_id, "success" if result.success else "failure")
sys.exit(0 if result.success else 1)
"""


def test_two_overlapping_runs_both_succeed(
    first_run: FirstRun, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two runs in two processes, on one warehouse and one Dagster instance, the second started
    while the first is under way: their writing steps queue on the writer lock instead of
    failing on DuckDB's. The first is the monthly submissions job, on a warehouse a first
    refresh built (as in production); the second, its publish step alone (a manual run), which
    needs the warehouse while the first writes it. (Until issue 29 the second was the whole job
    again: the same proof, a run's work more.)"""
    import time

    import dagster as dg

    dagster_home = restored(first_run, monkeypatch)
    home = Path(dagster_home["DE06_HOME"])
    settings = make_settings(home, **dagster_home)
    assert reported_values(home) == 0  # no submissions yet
    shutil.copytree(
        first_run.generated / "submissions",
        settings.landing_dir / "submissions",
        dirs_exist_ok=True,
    )

    def started(name: str) -> bool:
        # started, not only created: a run's record exists before its start is recorded, and
        # a second run launched in between may record its start first (CI, 2026-12-06)
        with dg.DagsterInstance.get() as instance:
            return bool(
                instance.get_runs(
                    dg.RunsFilter(tags={"started_by": name}, statuses=[dg.DagsterRunStatus.STARTED])
                )
            )

    with dg.DagsterInstance.get() as instance:  # the first run's instance, copied
        assert not instance.get_runs(dg.RunsFilter(job_name="submissions_refresh"))
    env = {**os.environ, **dagster_home}

    def launch(name: str, only: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-c", RUN_SUBMISSIONS, name, only],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    runs = [launch("first", "all")]
    deadline = time.monotonic() + 300
    while not started("first"):  # the second starts while the first is under way
        assert runs[0].poll() is None, runs[0].communicate()[0][-4000:]
        assert time.monotonic() < deadline, "the first run did not start"
        time.sleep(0.5)
    runs.append(launch("second", "publish"))
    outputs = [run.communicate(timeout=900)[0] for run in runs]
    for run, output in zip(runs, outputs, strict=True):
        assert run.returncode == 0, output[-4000:]
        assert "Could not set lock" not in output
    with dg.DagsterInstance.get() as instance:
        records = instance.get_run_records(dg.RunsFilter(job_name="submissions_refresh"))
        assert len(records) == 2
        assert {r.dagster_run.status for r in records} == {dg.DagsterRunStatus.SUCCESS}
        # they overlapped: each started before the other ended
        by_name = {r.dagster_run.tags["started_by"]: r for r in records}
        (a, b) = (by_name["first"], by_name["second"])
        assert a.start_time and b.start_time and a.end_time and b.end_time
        assert a.start_time < b.start_time < a.end_time
        # the second run was its publish step alone
        steps = {
            e.step_key
            for e in instance.all_logs(b.dagster_run.run_id)
            if e.dagster_event and e.dagster_event.event_type_value == "STEP_SUCCESS"
        }
        assert steps == {"published__warehouse"}, steps
    assert reported_values(home) > 0  # the submissions reached the published marts
