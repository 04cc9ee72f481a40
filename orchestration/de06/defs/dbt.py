"""dbt models as Dagster assets: one DbtProject, one translator, two @dbt_assets (the dossier
path, whose runs Dagster partitions by month, and the rest of the warehouse).

The manifest must exist when this module is imported: ``de06 dbt parse`` (the Makefile and the
tests do it) or ``DbtProject.prepare_if_dev`` under ``dagster dev``.

The same assets run on either dbt target (``DE06_DBT_TARGET``). On Spark each dbt step exports
the raw layer first, if it changed, and copies what it built back into DuckDB after
(``pipeline.spark_build``), so the quality checks and the publish read DuckDB on both.
"""

import json
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets
from packaging import version

from de06.defs.partitions import DOSSIER_MONTHS_TAG, dossier_months, month_range_env
from de06.pipeline import dbt_executable, refresh_build_args, spark_build, writer_lock
from de06.settings import Settings

SETTINGS = Settings.from_env()
# dbt reads its paths from these variables (profiles.yml); the resource inherits os.environ
for _name, _value in SETTINGS.dbt_env().items():
    os.environ.setdefault(_name, _value)
# Dagster runs the dbt graph in several steps (the monthly-partitioned dossier models sit between
# unpartitioned ones). A test belongs to the step that builds the last of its parents: dbt's
# default ("eager") would also run it in an earlier step, before its other parent exists.
os.environ.setdefault("DBT_INDIRECT_SELECTION", "buildable")

PROJECT = DbtProject(
    project_dir=SETTINGS.project_dir,
    profiles_dir=SETTINGS.project_dir,
    target_path=SETTINGS.dbt_artifacts_dir,  # the target's own (the Spark target has one)
    # no `target`: profiles.yml picks it from DE06_DBT_TARGET (set above). dagster-dbt would pass
    # `--target`, and dbt then finds "config target changed" and parses the whole project again
    # in every step (4-5 s each) instead of reusing the partial parse
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


DOSSIER_MONTHS = dossier_months(SETTINGS.project_dir)


@dbt_assets(
    manifest=PROJECT.manifest_path,
    select=f"tag:{DOSSIER_MONTHS_TAG}",
    name="dossier_dbt_assets",
    partitions_def=DOSSIER_MONTHS,
    # a backfill of a range of months is one dbt run over the range, not one run per month
    backfill_policy=dg.BackfillPolicy.single_run(),
    dagster_dbt_translator=De06Translator(),
    project=PROJECT,
    pool=WRITER_POOL,
)
def dossier_dbt_assets(context: dg.AssetExecutionContext, dbt: DbtCliResource) -> Iterator[Any]:
    """The incremental dossier models, partitioned by the month dossiers were received in.

    A run recomputes its months from raw (``partitions.month_range_env``) and, like every
    incremental run, whatever was loaded since the models last ran.
    """
    keys = context.partition_key_range
    months = month_range_env(keys.start, keys.end)
    with writer_lock(SETTINGS), spark_build(SETTINGS, **spark_copies(context)):
        with extra_environ(months):  # dagster-dbt gives dbt a copy of os.environ
            invocation = dbt.cli(["build", *refresh_build_args()], context=context)
        yield from invocation.stream()


@dbt_assets(
    manifest=PROJECT.manifest_path,
    exclude=f"tag:{DOSSIER_MONTHS_TAG}",
    name="warehouse_dbt_assets",
    dagster_dbt_translator=De06Translator(),
    project=PROJECT,
    pool=WRITER_POOL,
)
def warehouse_dbt_assets(context: dg.AssetExecutionContext, dbt: DbtCliResource) -> Iterator[Any]:
    """``dbt build`` of everything else: seeds, models and data tests (they become asset
    checks); not the unit tests, as in ``de06 refresh`` (``pipeline.refresh_build_args``).

    Under the writer lock like every other writer: runs that overlap (a schedule, a sensor, a
    manual run; also across Dagster instances and `de06 refresh`) queue here instead of failing
    on DuckDB's file lock.
    """
    with writer_lock(SETTINGS), spark_build(SETTINGS, **spark_copies(context)):
        yield from dbt.cli(["build", *refresh_build_args()], context=context).stream()


@contextmanager
def extra_environ(values: Mapping[str, str]) -> Iterator[None]:
    """``values`` in os.environ while dagster-dbt starts a dbt process (``DbtCliResource.cli``
    copies os.environ into the process's environment and has no argument for more), then the
    environment as it was. A step runs in one thread: nothing else reads it meanwhile. Not
    ``unittest.mock.patch.dict(os.environ, ...)``: that restores by clearing the whole
    environment and filling it again, and a thread starting a process in that instant (the
    Spark test's DuckDB twin builds beside the run) would start it with no PATH."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def spark_copies(context: dg.AssetExecutionContext) -> dict[str, bool]:
    """On the Spark target, what a dbt step copies into the DuckDB warehouse after it
    (``pipeline.spark_build``): the marts if it built one; the seeds and staging views if it
    built one of them (the staging suites of the gate read them in DuckDB)."""
    schemas = {key.path[0] for key in context.selected_asset_keys}
    return {"marts": "marts" in schemas, "duckdb_views": bool(schemas & {"reference", "staging"})}


class De06DbtCliResource(DbtCliResource):
    """dagster-dbt's resource, without a `dbt --version` subprocess or an in-process adapter per
    step (measured with `de06 bench dagster`, docs/benchmarks.md).

    dagster-dbt asks the dbt executable for its version (to tell dbt Core from Fusion) once per
    resource instance, which is once per step: 3.4 s each on this machine, in a run of four
    dbt steps. The executable is the dbt-core installed beside this code (pinned in
    pyproject.toml), so its version is read from the package instead.
    """

    @cached_property
    def _cli_version(self) -> version.Version:
        from dbt.version import __version__ as dbt_version

        return version.parse(dbt_version)

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> Any:
        """No in-process dbt adapter (1.5 s per step): it serves only the row counts and column
        metadata fetched after a build, which this project does not ask for. dagster-dbt runs
        without one for dbt Fusion."""
        return None


def dbt_resource() -> DbtCliResource:
    return De06DbtCliResource(
        project_dir=PROJECT,  # type: ignore[arg-type]  # its __init__ takes a DbtProject
        profiles_dir=str(SETTINGS.project_dir),
        # the venv's dbt (even when the venv is not on PATH), through `de06-dbt`: killed when
        # the step's process dies (dagster-dbt gives it no descriptor of the writer lock)
        dbt_executable=dbt_executable(dying_with_parent=True),
    )
