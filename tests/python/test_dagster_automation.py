"""Dagster automation evaluated with Dagster's own test contexts: the schedules (the monthly one
follows the deadline setting), the landing sensor (new, settled files only, once per set), the
freshness checks per feed and the run-failure sensor (a real failed run, recorded in the log)."""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from conftest import make_settings
from test_dagster import _load_defs, dagster_home  # noqa: F401 (a fixture)

pytestmark = pytest.mark.slow


def _job() -> dg.JobDefinition:
    @dg.op
    def noop() -> None:
        return None

    @dg.job(name="some_job")
    def some_job() -> None:
        noop()

    return some_job


def _monthly_job(tmp_path: Path) -> tuple[dg.MonthlyPartitionsDefinition, Any, Any]:
    """A job partitioned by month like `refresh`: Dagster's test contexts check a tick's
    partitioned run requests against the job's partitions, through a repository."""
    from de06.defs.partitions import dossier_months

    months = dossier_months(make_settings(tmp_path / "unused").project_dir)

    @dg.asset(partitions_def=months)
    def dossiers() -> None:
        return None

    job = dg.define_asset_job("refresh", selection=[dossiers], partitions_def=months)
    return months, job, dossiers


def test_monthly_schedule_follows_the_deadline_setting(tmp_path: Path) -> None:
    from de06.defs.automation import monthly_submissions_schedule

    default = make_settings(tmp_path / "a")
    assert monthly_submissions_schedule(default, _job()).cron_schedule == "0 6 16 * *"
    later = make_settings(tmp_path / "b", DE06_SUBMISSION_DEADLINE_DAY="20")
    schedule = monthly_submissions_schedule(later, _job())
    assert schedule.cron_schedule == "0 6 21 * *"
    assert schedule.execution_timezone == "Asia/Ho_Chi_Minh"
    tick = schedule.evaluate_tick(dg.build_schedule_context())
    assert len(tick.run_requests or []) == 1
    with pytest.raises(ValueError, match="1 to 27"):
        make_settings(tmp_path / "c", DE06_SUBMISSION_DEADLINE_DAY="31")


def test_daily_schedule_requests_the_month_of_its_tick(tmp_path: Path) -> None:
    from de06.defs.automation import daily_refresh_schedule

    months, job, asset = _monthly_job(tmp_path)
    schedule = daily_refresh_schedule(job, months)
    repository = dg.Definitions(
        assets=[asset], jobs=[job], schedules=[schedule]
    ).get_repository_def()
    assert schedule.cron_schedule == "0 2 * * *"
    # 02:00 on 1 March in Vietnam is still 28 February in UTC: the partition is March's
    tick_time = dt.datetime(2025, 2, 28, 19, 0, tzinfo=dt.UTC)
    context = dg.build_schedule_context(
        scheduled_execution_time=tick_time, repository_def=repository
    )
    tick = schedule.evaluate_tick(context)
    (request,) = tick.run_requests or []
    assert request.partition_key == "2025-03-01"
    assert request.tags["de06/trigger"] == "daily"


def _settled(path: Path, text: str = "unit_code,period\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    past = time.time() - 120
    os.utime(path, (past, past))
    return path


def test_landing_sensor_requests_one_run_per_new_set_of_settled_files(tmp_path: Path) -> None:
    from de06.defs.automation import landing_sensor

    settings = make_settings(tmp_path / "home")
    settings.ensure_dirs()
    months, job, asset = _monthly_job(tmp_path)
    sensor = landing_sensor(settings, job, months)
    repository = dg.Definitions(assets=[asset], jobs=[job], sensors=[sensor]).get_repository_def()

    def tick(cursor: str | None):
        context = dg.build_sensor_context(cursor=cursor, repository_def=repository)
        return sensor.evaluate_tick(context)

    empty = tick(None)
    assert not empty.run_requests and "no settled feed files" in (empty.skip_message or "")

    _settled(settings.landing_dir / "submissions" / "a.csv")
    first = tick(None)
    assert len(first.run_requests or []) == 1
    key = first.run_requests[0].run_key
    assert key and key.startswith("landing-") and first.cursor and first.cursor in key
    assert first.run_requests[0].tags["de06/files"] == "1"
    # for the current month's partition (the run also takes in late versions of older months)
    vietnam_now = dt.datetime.now(dt.UTC) + dt.timedelta(hours=7)  # UTC+7, no summer time
    assert first.run_requests[0].partition_key == vietnam_now.strftime("%Y-%m-01")

    again = tick(first.cursor)  # the same files: no second run
    assert not again.run_requests and "already requested" in (again.skip_message or "")

    fresh = settings.landing_dir / "dossiers" / "b.csv"
    fresh.write_text("source_system\n")  # still being copied in: not yet
    assert not tick(first.cursor).run_requests

    _settled(fresh, "source_system\n")
    second = tick(first.cursor)
    assert len(second.run_requests or []) == 1
    assert second.run_requests[0].run_key != key
    assert second.run_requests[0].tags["de06/files"] == "2"

    (settings.landing_dir / "dossiers" / "notes.txt").write_text("not a feed")  # ignored
    assert not tick(second.cursor).run_requests


def test_freshness_check_fails_for_a_feed_never_loaded_and_passes_after_a_load(
    dagster_home: dict[str, str],  # noqa: F811
) -> None:
    _load_defs(dagster_home)
    from de06.defs.automation import feed_freshness_checks

    @dg.asset(key=["raw", "dossiers"])
    def dossiers() -> None:
        return None

    checks = feed_freshness_checks([dg.AssetKey(["raw", "dossiers"])])
    job = dg.define_asset_job("freshness", selection=dg.AssetSelection.checks(*checks))
    defs = dg.Definitions(assets=[dossiers], asset_checks=checks, jobs=[job])
    instance = dg.DagsterInstance.ephemeral()

    def evaluate() -> dg.AssetCheckEvaluation:
        result = defs.resolve_job_def("freshness").execute_in_process(instance=instance)
        (evaluation,) = result.get_asset_check_evaluations()
        return evaluation

    never = evaluate()
    assert not never.passed and never.severity == dg.AssetCheckSeverity.WARN
    dg.materialize([dossiers], instance=instance)
    loaded = evaluate()
    assert loaded.passed
    window = loaded.metadata["dagster/freshness_params"].value["lower_bound_delta_seconds"]
    assert window == 26 * 3600


def test_run_failure_sensor_records_a_failed_run(tmp_path: Path) -> None:
    from de06.defs.automation import run_failure_sensor

    settings = make_settings(tmp_path / "home")

    @dg.op
    def load_the_landing_folder() -> None:
        raise RuntimeError("the landing folder is not readable")

    @dg.job(name="refresh_that_fails")
    def refresh_that_fails() -> None:
        load_the_landing_folder()

    instance = dg.DagsterInstance.ephemeral()
    result = refresh_that_fails.execute_in_process(instance=instance, raise_on_error=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "PIPELINE_FAILURE")
    context = dg.build_run_status_sensor_context(
        sensor_name="record_run_failures",
        dagster_event=failure,
        dagster_instance=instance,
        dagster_run=instance.get_run_by_id(result.run_id),
    ).for_run_failure()
    run_failure_sensor(settings)(context)

    lines = settings.run_failures_log.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1
    entry = json.loads(lines[0])
    assert entry["run_id"] == result.run_id
    assert entry["job"] == "refresh_that_fails"
    assert entry["failed_steps"] == ["load_the_landing_folder"]


def test_the_definitions_wire_schedules_sensors_and_checks(
    dagster_home: dict[str, str],  # noqa: F811
) -> None:
    defs = _load_defs(dagster_home)
    assert defs.resolve_schedule_def("monthly_submissions").cron_schedule == "0 6 16 * *"
    assert defs.resolve_schedule_def("daily_refresh").cron_schedule == "0 2 * * *"
    for name in ("landing_files", "record_run_failures", "freshness_checks_sensor"):
        assert defs.resolve_sensor_def(name) is not None
    graph = defs.resolve_asset_graph()
    freshness = {
        "/".join(k.asset_key.path) for k in graph.asset_check_keys if k.name == "freshness_check"
    }
    assert freshness == {"raw/dossiers", "raw/submissions", "raw/tasks"}
    # the monthly job builds what submissions feed, not the dossier path
    job = defs.resolve_job_def("submissions_refresh")
    selected = {"/".join(k.path) for k in job.asset_layer.executable_asset_keys}
    assert {"raw/submissions", "marts/fct_submission_status", "published/warehouse"} <= selected
    assert "intermediate/int_dossiers__enriched" not in selected
    assert "intermediate/int_dossier_reconciliation__pairs" not in selected


def test_dbt_docs_reach_the_asset_catalog(dagster_home: dict[str, str]) -> None:  # noqa: F811
    """Descriptions, owners and column metadata (names, types, descriptions) come from the dbt
    YAML, docs blocks rendered, so the Dagster UI shows what the dbt docs say."""
    defs = _load_defs(dagster_home)
    node = defs.resolve_asset_graph().get(dg.AssetKey(["marts", "fct_index_766"]))
    assert "Decision 766" in (node.description or "")
    assert node.owners == ["team:data-engineering"]
    columns = {c.name: c for c in node.metadata["dagster/column_schema"].columns}
    assert columns["index_score"].type == "double"
    assert "computed" in (columns["index_score"].description or "")
    assert "{{" not in (columns["unit_key"].description or "")  # the docs block is rendered
    assert str(node.metadata["dagster/table_name"]).endswith("marts.fct_index_766")
