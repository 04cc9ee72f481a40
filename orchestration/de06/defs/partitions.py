"""Monthly partitions of the dossier assets, and how a partition reaches dbt.

A partition is a month of received dossiers. A run over a range of partitions passes the range
to dbt in the environment, ``DE06_DOSSIER_MONTHS_FROM`` / ``DE06_DOSSIER_MONTHS_TO`` (on a
command line the vars ``dossier_months_from`` / ``_to`` do the same; as ``--vars`` a new range
would make dbt parse the whole project again): the incremental dossier models recompute those
months from raw, on top of what was loaded since they last ran (they
follow the loads, so a daily run on the current month also takes in a late version of an older
dossier). See docs/design.md, "Incremental refreshes".
"""

import datetime as dt
from pathlib import Path

import dagster as dg

from de06.project_vars import history_start

TIMEZONE = "Asia/Ho_Chi_Minh"
# the dbt models Dagster partitions by month (a tag in models/intermediate/_intermediate__models.yml)
DOSSIER_MONTHS_TAG = "dossier_months"


def dossier_months(project_dir: Path) -> dg.MonthlyPartitionsDefinition:
    """One partition per month from ``history_start`` up to and including the current month."""
    return dg.MonthlyPartitionsDefinition(
        start_date=history_start(project_dir).isoformat(), end_offset=1, timezone=TIMEZONE
    )


def current_month_key(partitions: dg.MonthlyPartitionsDefinition, now: dt.datetime) -> str:
    """The partition of the month ``now`` falls in (Vietnam time)."""
    keys = partitions.get_partition_keys(current_time=now)
    assert keys, "the partitions start after now"
    return keys[-1]


def month_range_env(first: str, last: str) -> dict[str, str]:
    """The dbt step's environment for a range of partition keys (``YYYY-MM-01``, inclusive;
    read by the macro ``dossier_month_range``)."""
    return {"DE06_DOSSIER_MONTHS_FROM": first, "DE06_DOSSIER_MONTHS_TO": last}
