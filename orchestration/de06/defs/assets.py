"""Ingest, quality gate and publishing as Dagster assets and checks.

(No `from __future__ import annotations` here: Dagster inspects the context annotations.)
"""

import contextlib
from collections.abc import Iterator

import dagster as dg
import duckdb

from de06.contracts import RAW_TABLES  # the feeds' tables and the ingest's own
from de06.defs.dbt import RAW_GROUP, SETTINGS, WRITER_POOL, mart_keys
from de06.pipeline import gate, gate_for_run, ingest_landing, publish_marts, writer_lock
from de06.quality import Suite, load_suites


@contextlib.contextmanager
def retry_when_locked(retries: int = 3, wait_seconds: int = 30) -> Iterator[None]:
    """A process outside the pipeline holding the DuckDB file (an analyst who opened the
    warehouse instead of the published copy) is transient: retry the step, don't fail the run.
    Our own writers queue on the writer lock and the duckdb_writer pool instead."""
    try:
        yield
    except duckdb.IOException as error:
        if "lock" not in str(error).lower():
            raise
        raise dg.RetryRequested(max_retries=retries, seconds_to_wait=wait_seconds) from error


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            ["raw", table],
            group_name=RAW_GROUP,
            description=f"raw.{table}, loaded by `de06 ingest` from the landing folder",
            owners=["team:data-engineering"],
        )
        for table in RAW_TABLES
    ],
    pool=WRITER_POOL,
)
def raw_feeds(context: dg.AssetExecutionContext) -> Iterator[dg.MaterializeResult]:
    """Load what waits in the landing folder (files move to the archive once loaded)."""
    with retry_when_locked():
        reports = ingest_landing(SETTINGS)
    for report in reports:
        context.log.info(report.line())
    rows = {
        "files": len(reports),
        "rows_read": sum(r.rows_read for r in reports),
        "rows_accepted": sum(r.accepted for r in reports),
        "rows_quarantined": sum(r.quarantined for r in reports),
    }
    for table in RAW_TABLES:
        yield dg.MaterializeResult(asset_key=["raw", table], metadata=rows)


SUITES = load_suites()


def _layer_checks(layer: str, suites: list[Suite]) -> dg.AssetChecksDefinition:
    """The suites of one layer (raw, staging, marts) as blocking checks evaluated in one step:
    one Great Expectations context for the layer instead of one per suite (about 0.8 s each).
    A job that selects some of the layer's assets runs only their checks."""
    by_key = {dg.AssetKey(suite.table.split(".")): suite for suite in suites}

    @dg.multi_asset_check(
        specs=[
            dg.AssetCheckSpec(
                "great_expectations", asset=key, blocking=True, description=suite.description
            )
            for key, suite in by_key.items()
        ],
        name=f"{layer}_great_expectations",
        can_subset=True,
        pool=WRITER_POOL,
    )
    def _checks(context: dg.AssetCheckExecutionContext) -> Iterator[dg.AssetCheckResult]:
        selected = {
            check.asset_key: by_key[check.asset_key]
            for check in sorted(context.selected_asset_check_keys, key=str)
            if check.asset_key in by_key
        }
        result = gate(SETTINGS, context.run.run_id, list(selected.values()))
        for key, suite in selected.items():
            outcomes = [o for o in result.outcomes if o.suite == suite.name]
            failed = [o for o in outcomes if not o.success]
            blocking = [o for o in failed if o.severity == "blocking"]
            yield dg.AssetCheckResult(
                asset_key=key,
                check_name="great_expectations",
                passed=not blocking,
                severity=dg.AssetCheckSeverity.ERROR if blocking else dg.AssetCheckSeverity.WARN,
                metadata={
                    "expectations": len(outcomes),
                    "failed": len(failed),
                    "failures": "\n".join(o.describe() for o in failed) or "none",
                },
            )

    return _checks


def _layer(suite: Suite) -> str:
    return suite.table.split(".")[0]


quality_checks = [
    _layer_checks(layer, [s for s in SUITES if _layer(s) == layer])
    for layer in sorted({_layer(s) for s in SUITES})
]


@dg.asset(
    key=["published", "warehouse"],
    deps=mart_keys(),
    group_name="published",
    pool=WRITER_POOL,
    description="The read-only published database, swapped in atomically after the gate passed.",
    owners=["team:data-engineering"],
)
def published_warehouse(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    # the checks of this run gate publishing; suites not yet validated in this run run now
    # under one writer lock: the publish writes what the gate checked
    with retry_when_locked(), writer_lock(SETTINGS):
        result = gate_for_run(SETTINGS, context.run_id)
        if not result.passed:
            failures = "; ".join(o.describe() for o in result.blocking_failures)
            raise dg.Failure(f"quality gate failed, nothing published: {failures}")
        published = publish_marts(SETTINGS, context.run_id, result.plan)
    return dg.MaterializeResult(
        metadata={
            "path": str(published.path),
            "tables": len(published.tables),
            "rows": sum(published.tables.values()),
        }
    )
