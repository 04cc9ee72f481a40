"""The quality gate: Great Expectations suites, versioned as JSON files beside this module.

Each suite names a table of the warehouse and a list of expectations with a severity
(``blocking`` stops publishing, ``warning`` is reported). Suites run through Great Expectations'
SQL data source, inside DuckDB: no table is read into Python (GX's DuckDB bug 11579 is worked
around in ``gx_duckdb``). Results are stored as rows in ``quality.validation_results`` and
rendered as Data Docs under the quality folder.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from de06.publish_plan import PublishPlan
from de06.quality.docs_offline import localise
from de06.quality.gx_duckdb import (
    close_duckdb_connections,
    enable_duckdb_sql,
    import_great_expectations,
)
from de06.quality.scope import EVERY_ROW, Scope, record_marks, table_type

SUITES_DIR = Path(__file__).resolve().parent / "suites"
RESULTS_DDL = """
create schema if not exists quality;
create table if not exists quality.validation_results (
    run_id varchar not null,
    suite varchar not null,
    table_name varchar not null,
    expectation varchar not null,
    column_name varchar,
    severity varchar not null,
    success boolean not null,
    observed_value varchar,
    unexpected_count bigint,
    element_count bigint,
    validated_at_utc timestamp not null,
    description varchar,             -- what a SQL check looks for (unexpected_rows_expectation)
    scope varchar,                   -- the rows checked (quality/scope.py): every row, or which
    scope_digest varchar             -- their state, for a later step of the same run
);
alter table quality.validation_results add column if not exists description varchar;
alter table quality.validation_results add column if not exists scope varchar;
alter table quality.validation_results add column if not exists scope_digest varchar;
"""


@dataclass(frozen=True)
class Suite:
    name: str
    table: str
    description: str
    expectations: list[dict[str, Any]]
    scope: dict[str, str] | None = None  # how its rows can be scoped (quality/scope.py)

    @classmethod
    def load(cls, path: Path) -> Suite:
        data = json.loads(path.read_text(encoding="utf-8"))
        for exp in data["expectations"]:
            if exp.get("severity") not in ("blocking", "warning"):
                raise ValueError(f"{path.name}: {exp['type']} needs severity blocking or warning")
        return cls(
            data["name"],
            data["table"],
            data.get("description", ""),
            data["expectations"],
            data.get("scope"),
        )


def load_suites(directory: Path = SUITES_DIR) -> list[Suite]:
    return [Suite.load(p) for p in sorted(directory.glob("*.json"))]


@dataclass
class ExpectationOutcome:
    suite: str
    table: str
    expectation: str
    column: str | None
    severity: str
    success: bool
    observed_value: str | None
    unexpected_count: int | None
    element_count: int | None
    description: str | None = None
    scope: str | None = None
    scope_digest: str | None = None

    def describe(self) -> str:
        where = f"{self.table}.{self.column}" if self.column else self.table
        detail = f"observed {self.observed_value}" if self.observed_value else ""
        if self.expectation == "unexpected_rows_expectation" and self.observed_value:
            detail = f"{self.observed_value} row(s) found"  # GX observes the rows' count
        if self.unexpected_count:
            detail = f"{self.unexpected_count} unexpected of {self.element_count} rows"
        if self.description:
            detail = f"{self.description} — {detail}"
        if self.scope and self.scope != EVERY_ROW:
            detail = f"{detail} (rows checked: {self.scope})"
        return f"[{self.severity}] {self.expectation} on {where}: {detail}".rstrip(": ")


@dataclass
class GateResult:
    run_id: str
    outcomes: list[ExpectationOutcome] = field(default_factory=list)
    data_docs: Path | None = None
    scopes: dict[str, Scope] = field(default_factory=dict)  # the rows each suite checked
    plan: PublishPlan | None = None  # what the publish writes: the marts' suites checked it

    @property
    def blocking_failures(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success and o.severity == "blocking"]

    @property
    def warnings(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success and o.severity == "warning"]

    @property
    def passed(self) -> bool:
        return not self.blocking_failures

    def by_suite(self) -> dict[str, list[ExpectationOutcome]]:
        out: dict[str, list[ExpectationOutcome]] = {}
        for o in self.outcomes:
            out.setdefault(o.suite, []).append(o)
        return out


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def run_gate(
    database: Path,
    quality_dir: Path,
    run_id: str,
    suites: list[Suite] | None = None,
    scopes: dict[str, Scope] | None = None,
    memory_limit: str | None = None,
) -> GateResult:
    """Validate every suite inside DuckDB, on its scope's rows (``quality.scope``; default every
    row), store the results and the load marks of the suites that passed, build Data Docs.
    ``memory_limit``: DuckDB's, for GX's connection (else DuckDB's default, 80 % of the
    machine's memory: at 50 M dossiers the first gate over every row held 13.8 GB).

    The caller holds the writer lock and no connection of its own: GX reads through a
    read-only connection of its own (DuckDB refuses two connections with different settings
    in one process), and the results are stored afterwards. A suite whose scope is empty
    (nothing changed) is not run: its ``scopes`` entry says why.
    """
    suites = load_suites() if suites is None else suites
    quality_dir.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(database), read_only=True) as con:
        present = {s.table for s in suites if table_type(con, s.table) is not None}
    result = GateResult(run_id)
    result.scopes = {s.name: (scopes or {}).get(s.name) or Scope(s.name, s.table) for s in suites}
    checked = [s for s in suites if s.table in present and not result.scopes[s.name].skip]
    for suite in suites:
        if suite.table not in present:
            result.outcomes.append(
                ExpectationOutcome(
                    suite.name, suite.table, "table_exists", None, "blocking", False,
                    "missing", None, None,
                )
            )  # fmt: skip
    if checked:  # else nothing changed: no GX (its import alone costs seconds)
        result.outcomes[:0] = _run_checkpoint(
            database, quality_dir, run_id, checked, result, memory_limit
        )
    failed = {o.suite for o in result.blocking_failures}
    with duckdb.connect(str(database)) as con:
        store_results(con, result)
        record_marks(
            con,
            run_id,
            {s.name: result.scopes[s.name] for s in checked if s.name not in failed},
        )
    return result


def _run_checkpoint(
    database: Path,
    quality_dir: Path,
    run_id: str,
    suites: list[Suite],
    result: GateResult,
    memory_limit: str | None = None,
) -> list[ExpectationOutcome]:
    """The suites through Great Expectations' SQL data source; Data Docs built."""
    import_great_expectations()
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    enable_duckdb_sql()
    context = gx.get_context(mode="file", project_root_dir=str(quality_dir))
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    source = context.data_sources.add_or_update_sql(  # type: ignore[call-arg]
        "warehouse_duckdb",
        connection_string=f"duckdb:///{database}",
        kwargs={
            "connect_args": {"read_only": True}
            | ({"config": {"memory_limit": memory_limit}} if memory_limit else {})
        },
    )
    started = time.time()
    try:
        outcomes = _validate(context, source, suites, run_id, result.scopes)
    finally:
        # GX keeps its DuckDB connection open (see gx_duckdb): close it, or the database file
        # would stay open in this process and lock out the next writer
        close_duckdb_connections()
    docs = quality_dir / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"
    result.data_docs = docs if docs.exists() else None
    left = localise(docs.parent, since=started - 1)
    if left:
        logging.getLogger(__name__).warning("Data Docs still load from the internet: %s", left)
    return outcomes


def _exception_message(info: dict[str, Any] | None) -> str | None:
    """The first exception GX reports for a result (flat, or nested per metric)."""
    if not info:
        return None
    if info.get("raised_exception"):
        return str(info.get("exception_message"))
    for value in info.values():
        if isinstance(value, dict) and value.get("exception_message"):
            return str(value["exception_message"])
    return None


def _validate(
    context: Any, source: Any, suites: list[Suite], run_id: str, scopes: dict[str, Scope]
) -> list[ExpectationOutcome]:
    """Run the suites in one checkpoint (computed by SQL in DuckDB), so that the Data Docs are
    built once: a suite's expectations on its scope's view, those marked ``whole`` (or all,
    when the scope is every row) on the table."""
    import great_expectations as gx
    import great_expectations.expectations as gxe
    from great_expectations.checkpoint import UpdateDataDocsAction
    from great_expectations.core.run_identifier import RunIdentifier

    if not suites:
        return []
    validations = []
    # the GX suite's name -> (our suite, the scope's label)
    names: dict[str, tuple[Suite, str]] = {}
    for suite in suites:
        scope = scopes[suite.name]
        schema, table = suite.table.split(".", 1)
        whole = [e for e in suite.expectations if scope.where is None or e.get("whole")]
        scoped = [e for e in suite.expectations if scope.where is not None and not e.get("whole")]
        for gx_name, (asset_schema, asset_table), expectations, label in (
            (suite.name, (schema, table), whole, EVERY_ROW),
            (suite.name + "@scope", ("quality", scope.view), scoped, scope.label),
        ):
            if not expectations:
                continue
            asset_name = gx_name.replace(".", "__").replace("@", "__")
            try:
                asset = source.get_asset(asset_name)
            except LookupError:
                asset = source.add_table_asset(
                    asset_name, table_name=asset_table, schema_name=asset_schema
                )
            try:
                batch_def = asset.get_batch_definition("whole")
            except KeyError:
                batch_def = asset.add_batch_definition_whole_table("whole")
            gx_suite = gx.ExpectationSuite(name=gx_name, meta={"description": suite.description})
            for exp in expectations:
                cls = getattr(gxe, _camel(exp["type"]))
                gx_suite.add_expectation(cls(**exp["kwargs"], meta={"severity": exp["severity"]}))
            gx_suite = context.suites.add_or_update(gx_suite)
            validations.append(
                context.validation_definitions.add_or_update(
                    gx.ValidationDefinition(name=gx_name, data=batch_def, suite=gx_suite)
                )
            )
            names[gx_name] = (suite, label)
    checkpoint = context.checkpoints.add_or_update(
        gx.Checkpoint(
            name="gate__" + "__".join(sorted(names)).replace(".", "_")[:200],
            validation_definitions=validations,
            actions=[UpdateDataDocsAction(name="docs")],
        )
    )
    run = checkpoint.run(run_id=RunIdentifier(run_name=run_id))  # the Data Docs show our run
    return _outcomes(run, names, scopes)


def _outcomes(
    run: Any, names: dict[str, tuple[Suite, str]], scopes: dict[str, Scope]
) -> list[ExpectationOutcome]:
    """A checkpoint run's results as our outcomes (``names``: GX suite -> ours, scope label)."""
    outcomes: list[ExpectationOutcome] = []
    for validation_result in run.run_results.values():
        suite, label = names[validation_result.suite_name]
        for r in validation_result.results:
            cfg = r.expectation_config
            assert cfg is not None  # GX always returns the configuration it validated
            res = r.result or {}
            observed = res.get("observed_value")
            error = _exception_message(r.exception_info)
            if error:
                observed = f"error: {error}"
            outcomes.append(
                ExpectationOutcome(
                    suite=suite.name,
                    table=suite.table,
                    expectation=cfg.type,
                    column=cfg.kwargs.get("column"),
                    severity=(cfg.meta or {}).get("severity", "blocking"),
                    success=bool(r.success),
                    observed_value=None if observed is None else str(observed)[:500],
                    unexpected_count=res.get("unexpected_count"),
                    element_count=res.get("element_count"),
                    description=cfg.kwargs.get("description") or cfg.description,
                    scope=label,
                    scope_digest=scopes[suite.name].digest,
                )
            )
    return outcomes


def store_results(con: duckdb.DuckDBPyConnection, result: GateResult) -> None:
    con.execute(RESULTS_DDL)
    if not result.outcomes:
        return
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    con.executemany(
        "insert into quality.validation_results (run_id, suite, table_name, expectation, "
        "column_name, severity, success, observed_value, unexpected_count, element_count, "
        "validated_at_utc, description, scope, scope_digest) "
        "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                result.run_id,
                o.suite,
                o.table,
                o.expectation,
                o.column,
                o.severity,
                o.success,
                o.observed_value,
                o.unexpected_count,
                o.element_count,
                now,
                o.description,
                o.scope,
                o.scope_digest,
            )
            for o in result.outcomes
        ],
    )


def stored_results(con: duckdb.DuckDBPyConnection, run_id: str) -> list[ExpectationOutcome]:
    """The outcomes already stored for ``run_id`` (empty when the gate has not run)."""
    con.execute(RESULTS_DDL)
    rows = con.execute(
        "select suite, table_name, expectation, column_name, severity, success, observed_value, "
        "unexpected_count, element_count, description, scope, scope_digest "
        "from quality.validation_results "
        "where run_id = ?",
        [run_id],
    ).fetchall()
    return [ExpectationOutcome(*row) for row in rows]
