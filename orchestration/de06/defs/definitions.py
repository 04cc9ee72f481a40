"""The root Definitions: thin, each part from its own module."""

from __future__ import annotations

import dagster as dg

from de06.defs.assets import RAW_TABLES, published_warehouse, quality_checks, raw_feeds
from de06.defs.automation import (
    daily_refresh_schedule,
    feed_freshness_checks,
    landing_sensor,
    monthly_submissions_schedule,
    run_failure_sensor,
)
from de06.defs.dbt import (
    DOSSIER_MONTHS,
    SETTINGS,
    dbt_resource,
    dossier_dbt_assets,
    warehouse_dbt_assets,
)

refresh_job = dg.define_asset_job(
    "refresh",
    selection=dg.AssetSelection.all(),
    description=(
        "Ingest the landing folder, dbt build, quality gate, publish (like `de06 refresh`); "
        "partitioned by month: a run recomputes its months of dossiers from raw."
    ),
    executor_def=dg.in_process_executor,
)

submissions_job = dg.define_asset_job(
    "submissions_refresh",
    # the raw feeds load together (one multi-asset); then only what the submissions feed
    selection=dg.AssetSelection.assets(raw_feeds)
    | dg.AssetSelection.assets(dg.AssetKey(["raw", "submissions"])).downstream(),
    description="Ingest the landing folder, then build, check and publish what submissions feed.",
    executor_def=dg.in_process_executor,
)

freshness_checks = feed_freshness_checks([dg.AssetKey(["raw", t]) for t in RAW_TABLES])

defs = dg.Definitions(
    assets=[raw_feeds, dossier_dbt_assets, warehouse_dbt_assets, published_warehouse],
    asset_checks=[*quality_checks, *freshness_checks],
    jobs=[refresh_job, submissions_job],
    schedules=[
        daily_refresh_schedule(refresh_job, DOSSIER_MONTHS),
        monthly_submissions_schedule(SETTINGS, submissions_job),
    ],
    sensors=[
        landing_sensor(SETTINGS, refresh_job, DOSSIER_MONTHS),
        run_failure_sensor(SETTINGS),
        dg.build_sensor_for_freshness_checks(
            freshness_checks=freshness_checks, default_status=dg.DefaultSensorStatus.RUNNING
        ),
    ],
    resources={"dbt": dbt_resource()},
)
