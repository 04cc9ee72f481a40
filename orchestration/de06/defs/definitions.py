"""The root Definitions: thin, each part from its own module."""

from __future__ import annotations

import dagster as dg

from de06.defs.assets import published_warehouse, quality_checks, raw_feeds
from de06.defs.dbt import dbt_resource, warehouse_dbt_assets

refresh_job = dg.define_asset_job(
    "refresh",
    selection=dg.AssetSelection.all(),
    description="Ingest the landing folder, dbt build, quality gate, publish (like `de06 refresh`).",
    executor_def=dg.in_process_executor,
)

daily_refresh = dg.ScheduleDefinition(
    name="daily_refresh",
    job=refresh_job,
    cron_schedule="0 2 * * *",
    execution_timezone="Asia/Ho_Chi_Minh",
    description="Every night at 02:00 Vietnam time.",
)

defs = dg.Definitions(
    assets=[raw_feeds, warehouse_dbt_assets, published_warehouse],
    asset_checks=quality_checks,
    jobs=[refresh_job],
    schedules=[daily_refresh],
    resources={"dbt": dbt_resource()},
)
