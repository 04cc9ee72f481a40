"""The dbt project's variables (``vars:`` in dbt_project.yml), read by Python as dbt reads
them: the reference dates (the first day the warehouse holds, the July 2025 reorganisation)
are declared there once, for the models, the ingest's unit validity, the generator and
Dagster's partitions alike."""

from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path
from typing import Any


@cache
def dbt_vars(project_dir: Path) -> dict[str, Any]:
    import yaml  # type: ignore[import-untyped]  # comes with dbt and dagster

    project = yaml.safe_load((project_dir / "dbt_project.yml").read_text(encoding="utf-8"))
    return dict(project["vars"])


def date_var(project_dir: Path, name: str) -> dt.date:
    """A date variable (``YYYY-MM-DD``)."""
    return dt.date.fromisoformat(str(dbt_vars(project_dir)[name]))


def history_start(project_dir: Path) -> dt.date:
    """The first day the warehouse holds; the March 2025 unit list is valid from it."""
    return date_var(project_dir, "history_start")


def reform_date(project_dir: Path) -> dt.date:
    """The two-level local government: 63 -> 34 provinces, districts abolished."""
    return date_var(project_dir, "reform_date")
