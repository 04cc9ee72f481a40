"""dbt models as Dagster assets: one DbtProject, one translator, one @dbt_assets.

The manifest must exist when this module is imported: ``de06 dbt parse`` (the Makefile and the
tests do it) or ``DbtProject.prepare_if_dev`` under ``dagster dev``.
"""

import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

from de06.pipeline import dbt_executable, writer_lock
from de06.settings import Settings

SETTINGS = Settings.from_env()
# dbt reads its paths from these variables (profiles.yml); the resource inherits os.environ
for _name, _value in SETTINGS.dbt_env().items():
    os.environ.setdefault(_name, _value)

PROJECT = DbtProject(
    project_dir=SETTINGS.project_dir,
    profiles_dir=SETTINGS.project_dir,
    target_path=SETTINGS.dbt_target_dir,
    target=SETTINGS.dbt_target,
)
PROJECT.prepare_if_dev()

RAW_GROUP = "raw_feeds"


def mart_keys() -> list[dg.AssetKey]:
    """Every dbt model in the marts schema (what the published database copies)."""
    manifest = json.loads(Path(PROJECT.manifest_path).read_text())
    return sorted(
        (
            dg.AssetKey(["marts", node["name"]])
            for node in manifest["nodes"].values()
            if node["resource_type"] == "model" and node["schema"] == "marts"
        ),
        key=lambda k: k.to_user_string(),
    )


WRITER_POOL = "duckdb_writer"


class De06Translator(DagsterDbtTranslator):
    """All dbt → Dagster naming in one place: keys are [schema, name], groups are layers."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return dg.AssetKey(["raw", dbt_resource_props["name"]])
        return dg.AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "source":
            return RAW_GROUP
        if dbt_resource_props["resource_type"] == "seed":
            return "reference"
        return str(dbt_resource_props["fqn"][1])  # models/<layer>/...

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> list[str]:
        return ["team:data-engineering"]


@dbt_assets(
    manifest=PROJECT.manifest_path,
    dagster_dbt_translator=De06Translator(),
    project=PROJECT,
    pool=WRITER_POOL,
)
def warehouse_dbt_assets(context: dg.AssetExecutionContext, dbt: DbtCliResource) -> Iterator[Any]:
    """``dbt build``: seeds, models, data tests and unit tests (tests become asset checks).

    Under the writer lock like every other writer: runs that overlap (a schedule, a sensor, a
    manual run; also across Dagster instances and `de06 refresh`) queue here instead of failing
    on DuckDB's file lock.
    """
    with writer_lock(SETTINGS):
        yield from dbt.cli(["build"], context=context).stream()


def dbt_resource() -> DbtCliResource:
    return DbtCliResource(
        project_dir=PROJECT,
        profiles_dir=str(SETTINGS.project_dir),
        dbt_executable=dbt_executable(),  # the venv's dbt, even when the venv is not on PATH
    )
