"""Dagster: the definitions load and validate, and the refresh job materialises everything."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from conftest import make_settings
from de06.generate import GenerateConfig, generate
from de06.pipeline import run_dbt

pytestmark = pytest.mark.slow


def published_indicator_values(home: Path) -> int:
    """Rows of fct_indicator_values in the published database of the warehouse at ``home``."""
    con = duckdb.connect(str(home / "published" / "de06.duckdb"), read_only=True)
    try:
        return int(con.execute("select count(*) from marts.fct_indicator_values").fetchone()[0])
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


@pytest.fixture
def dagster_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    settings = make_settings(tmp_path / "home")
    settings.ensure_dirs()
    settings.write_dagster_instance_config()
    env = {
        "DE06_HOME": str(settings.home),
        "DE06_DBT_TARGET_PATH": str(settings.dbt_target_dir),
        "DAGSTER_HOME": str(settings.dagster_home),
        **settings.dbt_env(),
    }
    for key in env:
        monkeypatch.setenv(key, env[key])
    run_dbt(settings, ["parse", "--quiet"])
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
        "marts/fct_index_766_what_if",
    }
    schedule = defs.resolve_schedule_def("daily_refresh")
    assert schedule.cron_schedule == "0 2 * * *"
    assert schedule.execution_timezone == "Asia/Ho_Chi_Minh"


def test_refresh_job_materialises_everything_in_process(dagster_home: dict[str, str]) -> None:
    import dagster as dg

    home = Path(dagster_home["DE06_HOME"])
    generate(
        make_settings(home).seeds_dir,
        home / "landing",
        GenerateConfig(seed=5, start_month="2025-05", months=3, dossiers_per_month=600),
    )
    defs = _load_defs(dagster_home)
    job = defs.resolve_job_def("refresh")
    with dg.instance_for_test(temp_dir=dagster_home["DAGSTER_HOME"]) as instance:
        result = job.execute_in_process(instance=instance, raise_on_error=False)
        assert result.success, [e.message for e in result.all_events if e.is_failure]
        materialized = {
            "/".join(e.asset_key.path) for e in result.get_asset_materialization_events()
        }
        assert {"raw/dossiers", "marts/fct_indicator_values", "published/warehouse"} <= materialized
        checks = {
            ("/".join(e.asset_key.path), e.check_name): e.passed
            for e in result.get_asset_check_evaluations()
        }
    assert published_indicator_values(home) > 0
    assert checks[("marts/fct_indicator_values", "great_expectations")] is True
    assert checks[("raw/submissions", "great_expectations")] is True
    assert sum(1 for passed in checks.values() if passed) > 50  # dbt's tests as checks too
    assert not list((home / "landing").rglob("*.parquet"))  # moved to the archive


def test_a_failed_blocking_check_stops_publishing(dagster_home: dict[str, str]) -> None:
    """A clear citizen ID slipped into the raw layer: dbt passes, the GX check on raw/dossiers
    fails, Dagster records the failed check, and the published database stays as it was."""
    import hashlib

    import dagster as dg

    home = Path(dagster_home["DE06_HOME"])
    generate(
        make_settings(home).seeds_dir,
        home / "landing",
        GenerateConfig(seed=7, start_month="2025-09", months=1, dossiers_per_month=300),
    )
    defs = _load_defs(dagster_home)
    job = defs.resolve_job_def("refresh")
    with dg.instance_for_test(temp_dir=dagster_home["DAGSTER_HOME"]) as instance:
        assert job.execute_in_process(instance=instance, raise_on_error=False).success
        published = home / "published" / "de06.duckdb"
        before = hashlib.sha256(published.read_bytes()).hexdigest()
        with duckdb.connect(str(home / "de06.duckdb")) as con:
            con.execute(
                "insert into raw.dossiers select * replace ("
                "'leak-1' as dossier_id, '079012345678' as applicant_key) "
                "from raw.dossiers limit 1"
            )
        result = job.execute_in_process(instance=instance, raise_on_error=False)
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


RUN_REFRESH = """
import sys
import dagster as dg
from de06.defs.definitions import defs

with dg.DagsterInstance.get() as instance:
    result = defs.resolve_job_def("refresh").execute_in_process(
        instance=instance, raise_on_error=False, tags={"started_by": sys.argv[1]}
    )
print("RUN", result.run_id, "success" if result.success else "failure")
sys.exit(0 if result.success else 1)
"""


def test_two_overlapping_runs_both_succeed(dagster_home: dict[str, str]) -> None:
    """Two refresh runs started together in two processes, on one warehouse and one Dagster
    instance: their writing steps queue on the writer lock instead of failing on DuckDB's."""
    home = Path(dagster_home["DE06_HOME"])
    generate(
        make_settings(home).seeds_dir,
        home / "landing",
        GenerateConfig(seed=9, start_month="2025-06", months=2, dossiers_per_month=400),
    )
    import dagster as dg

    with dg.DagsterInstance.get() as instance:  # create its storage once, before both runs
        assert not instance.get_runs()
    env = {**os.environ, **dagster_home}
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", RUN_REFRESH, name],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for name in ("first", "second")
    ]
    outputs = [run.communicate(timeout=900)[0] for run in runs]
    for run, output in zip(runs, outputs, strict=True):
        assert run.returncode == 0, output[-4000:]
        assert "Could not set lock" not in output
    with dg.DagsterInstance.get() as instance:
        records = instance.get_run_records(dg.RunsFilter(job_name="refresh"))
        assert len(records) == 2
        assert {r.dagster_run.status for r in records} == {dg.DagsterRunStatus.SUCCESS}
        # they overlapped: each started before the other ended
        (a, b) = sorted(records, key=lambda r: r.start_time or 0)
        assert a.start_time and b.start_time and a.end_time
        assert b.start_time < a.end_time
    assert published_indicator_values(home) > 0
