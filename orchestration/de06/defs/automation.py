"""What starts runs and what watches them: schedules, the landing sensor, freshness checks and
the run-failure sensor. Each is built by a function of the settings, so tests can build them
for a warehouse of their own.

(No `from __future__ import annotations` here: Dagster inspects the context annotations.)
"""

import datetime as dt
import hashlib
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import dagster as dg

from de06.defs.partitions import TIMEZONE, current_month_key
from de06.ingest import iter_feed_files
from de06.settings import Settings

# a job, or an asset job from define_asset_job (its class is not exported by dagster)
AssetJob = Any
# a file modified less than this long ago may still be being copied in: wait for it
SETTLE_SECONDS = 30
# how late each raw feed may be before its freshness check warns: dossiers arrive daily,
# submissions and the task register after each monthly deadline
FEED_FRESHNESS = {
    "dossiers": dt.timedelta(hours=26),
    "submissions": dt.timedelta(days=35),
    "tasks": dt.timedelta(days=35),
}


def daily_refresh_schedule(
    job: AssetJob, partitions: dg.MonthlyPartitionsDefinition
) -> dg.ScheduleDefinition:
    """Every night: load yesterday's dossiers and rebuild. The run is for the current month's
    partition; the incremental models also take in late versions of older dossiers."""

    @dg.schedule(
        name="daily_refresh",
        job=job,
        cron_schedule="0 2 * * *",
        execution_timezone=TIMEZONE,
        description=(
            "Every night at 02:00 Vietnam time: yesterday's dossiers, everything rebuilt "
            "(the current month's partition; late versions of older months come along)."
        ),
    )
    def _schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        now = context.scheduled_execution_time or dt.datetime.now(dt.UTC)
        return dg.RunRequest(
            partition_key=current_month_key(partitions, now), tags={"de06/trigger": "daily"}
        )

    return _schedule


def monthly_submissions_schedule(settings: Settings, job: AssetJob) -> dg.ScheduleDefinition:
    """The morning after the submission deadline (``DE06_SUBMISSION_DEADLINE_DAY``), 06:00."""
    day = settings.submission_deadline_day + 1
    return dg.ScheduleDefinition(
        name="monthly_submissions",
        job=job,
        cron_schedule=f"0 6 {day} * *",
        execution_timezone=TIMEZONE,
        description=(
            f"Day {day} of every month at 06:00 Vietnam time, the morning after the reporting "
            f"deadline (day {settings.submission_deadline_day}, DE06_SUBMISSION_DEADLINE_DAY): "
            "load the submissions and build the indicators they feed."
        ),
    )


def landing_fingerprint(landing: Path, now: float | None = None) -> tuple[str, list[Path]]:
    """A digest of the settled feed files waiting in ``landing`` (path, size, mtime), and them.

    Files modified in the last ``SETTLE_SECONDS`` are left for the next tick: they may still be
    being copied in.
    """
    now = time.time() if now is None else now
    settled: list[Path] = []
    digest = hashlib.sha256()
    for path in iter_feed_files([landing]) if landing.exists() else []:
        stat = path.stat()
        if now - stat.st_mtime < SETTLE_SECONDS:
            continue
        settled.append(path)
        digest.update(f"{path.relative_to(landing)}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16], settled


def landing_sensor(
    settings: Settings, job: AssetJob, partitions: dg.MonthlyPartitionsDefinition
) -> dg.SensorDefinition:
    """New files in the landing folder start an ingest-and-refresh run (once per set of files:
    the run key is their fingerprint, and the refresh moves them to the archive), for the
    current month's partition, like the daily refresh."""

    @dg.sensor(
        name="landing_files",
        job=job,
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=f"Watches {settings.landing_dir} for feed files (CSV, XLSX, Parquet).",
    )
    def _sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
        fingerprint, files = landing_fingerprint(settings.landing_dir)
        if not files:
            return dg.SkipReason(f"no settled feed files in {settings.landing_dir}")
        if fingerprint == context.cursor:
            return dg.SkipReason(f"{len(files)} file(s) already requested ({fingerprint})")
        names = sorted(str(p.relative_to(settings.landing_dir)) for p in files)
        context.log.info(f"{len(names)} feed file(s) waiting: {', '.join(names[:20])}")
        return dg.SensorResult(
            run_requests=[
                dg.RunRequest(
                    run_key=f"landing-{fingerprint}",
                    partition_key=current_month_key(partitions, dt.datetime.now(dt.UTC)),
                    tags={"de06/trigger": "landing", "de06/files": str(len(files))},
                )
            ],
            cursor=fingerprint,
        )

    return _sensor


def feed_freshness_checks(raw_keys: Sequence[dg.AssetKey]) -> list[dg.AssetChecksDefinition]:
    """One freshness check per raw feed: warn when it was not loaded within its window."""
    checks: list[dg.AssetChecksDefinition] = []
    for key in raw_keys:
        window = FEED_FRESHNESS.get(key.path[-1])
        if window is not None:
            checks.extend(
                dg.build_last_update_freshness_checks(
                    assets=[key], lower_bound_delta=window, timezone=TIMEZONE
                )
            )
    return checks


def record_failure(settings: Settings, entry: dict[str, object]) -> Path:
    """Append one failure to the run-failures log (JSON lines, newest last)."""
    path = settings.run_failures_log
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(entry, ensure_ascii=False) + "\n")
    return path


def run_failure_sensor(settings: Settings) -> dg.SensorDefinition:
    """Every failed run of this code location, recorded where the team looks: the
    run-failures log beside the warehouse (``de06 info``) and the sensor's own log."""

    @dg.run_failure_sensor(
        name="record_run_failures",
        monitor_all_code_locations=False,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=f"Appends every failed run to {settings.run_failures_log}.",
    )
    def _sensor(context: dg.RunFailureSensorContext) -> None:
        run = context.dagster_run
        failed_steps = sorted(
            {
                event.step_key
                for event in context.get_step_failure_events()
                if event.step_key is not None
            }
        )
        entry: dict[str, object] = {
            "recorded_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "run_id": run.run_id,
            "job": run.job_name,
            "tags": dict(run.tags),
            "failed_steps": failed_steps,
            "message": context.failure_event.message,
        }
        path = record_failure(settings, entry)
        context.log.error(f"run {run.run_id} of {run.job_name} failed; recorded in {path}")

    return _sensor
