"""Running the refresh job in this process: a month range (``de06 backfill``) or the current
month (what the daily schedule and the landing sensor request)."""

import datetime as dt
import re

import dagster as dg

from de06.defs.partitions import current_month_key

# Dagster's tags for a run over a range of partitions (a single-run backfill)
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"
MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
# every event still reaches the instance (the UI); the console shows INFO and above
CONSOLE_INFO = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}


def month_keys(
    partitions: dg.MonthlyPartitionsDefinition, first: str, last: str | None = None
) -> tuple[str, str]:
    """Partition keys for months given as ``YYYY-MM`` (inclusive), checked against the
    partitions: a clear error for a bad or unknown month, or a range that runs backwards."""
    last = last or first
    for month in (first, last):
        if not MONTH.match(month):
            raise ValueError(f"months are written YYYY-MM, got {month!r}")
    if last < first:
        raise ValueError(f"the range runs backwards: {first} .. {last}")
    keys = (f"{first}-01", f"{last}-01")
    known = partitions.get_partition_keys(current_time=dt.datetime.now(dt.UTC))
    for month, key in zip((first, last), keys, strict=True):
        if key not in known:
            raise ValueError(
                f"no partition for {month}: the partitions run from {known[0][:7]} "
                f"to {known[-1][:7]}"
            )
    return keys


def refresh_months(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    first: str,
    last: str | None = None,
    tags: dict[str, str] | None = None,
) -> dg.ExecuteInProcessResult:
    """One run of the refresh job over months ``first`` .. ``last`` (``YYYY-MM``)."""
    job = defs.resolve_job_def("refresh")
    assert isinstance(job.partitions_def, dg.MonthlyPartitionsDefinition)
    start, end = month_keys(job.partitions_def, first, last)
    run_tags = {RANGE_START_TAG: start, RANGE_END_TAG: end, "de06/trigger": "backfill"}
    return job.execute_in_process(
        instance=instance,
        tags={**run_tags, **(tags or {})},
        raise_on_error=False,
        run_config=CONSOLE_INFO,  # the terminal gets the steps, not every event
    )


def refresh_current_month(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    tags: dict[str, str] | None = None,
    checks: set[dg.AssetCheckKey] | None = None,
) -> dg.ExecuteInProcessResult:
    """One run of the refresh job for the current month, like the daily schedule's: every
    asset, and every asset check or only ``checks``."""
    job = defs.resolve_job_def("refresh")
    assert isinstance(job.partitions_def, dg.MonthlyPartitionsDefinition)
    key = current_month_key(job.partitions_def, dt.datetime.now(dt.UTC))
    if checks is not None:
        graph = defs.resolve_asset_graph()
        job = job.get_subset(
            asset_selection=set(graph.materializable_asset_keys), asset_check_selection=checks
        )
    return job.execute_in_process(
        instance=instance, partition_key=key, tags=tags or {}, raise_on_error=False
    )
