"""The refresh, step by step: ingest the landing folder, build with dbt, run the gate, publish.

``de06 refresh`` runs these functions directly; the Dagster assets call the same functions.
Every step that writes the warehouse holds the writer lock (one writer per database file).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
import shutil
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from de06.faults import machine_fault
from de06.ingest import FileReport, ingest, iter_feed_files
from de06.progress import Progress
from de06.publish import PublishResult, publish
from de06.publish_plan import PublishPlan, plan
from de06.quality import GateResult, Suite, load_suites, run_gate, stored_results
from de06.quality.scope import Scope, scopes
from de06.settings import Settings
from de06.warehouse import connect


class StepFailed(RuntimeError):
    """A refresh step failed; the message says which and why."""


# the writer locks this process holds: (lock file, thread) -> (open lock file, depth)
_HELD: dict[tuple[str, int], list[Any]] = {}


def writer_lock_path(settings: Settings) -> Path:
    return settings.warehouse_db.with_name(settings.warehouse_db.name + ".writer.lock")


@contextlib.contextmanager
def writer_lock(settings: Settings) -> Iterator[None]:
    """Serialise writers of the warehouse across processes (an flock on a file beside it).

    Re-entrant within a thread: a refresh holds it from its ingest through its publish, and
    the steps it calls take it again without waiting for themselves (another thread waits, as
    another process does). The lock belongs to the open file, not to the process: a child
    started by ``run_dbt`` shares it (``held_lock_fds``), so a dbt whose parent was killed
    keeps the warehouse locked until it ends, instead of writing beside the next writer."""
    path = writer_lock_path(settings)
    key = (str(path), threading.get_ident())
    held = _HELD.get(key)
    if held is not None:
        held[1] += 1
        try:
            yield
        finally:
            held[1] -= 1
        return
    settings.home.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # waits for the writer before us
        _HELD[key] = [handle, 1]
        try:
            yield
        finally:
            del _HELD[key]
            fcntl.flock(handle, fcntl.LOCK_UN)


def held_lock_fds() -> tuple[int, ...]:
    """The descriptors of the writer locks this thread holds, for a child to inherit."""
    me = threading.get_ident()
    return tuple(held[0].fileno() for (_, thread), held in _HELD.items() if thread == me)


def dbt_executable(dying_with_parent: bool = False) -> str:
    """The dbt beside this Python, or on PATH; with ``dying_with_parent``, ``de06-dbt``
    (de06/child.py), which becomes that dbt once the kernel will kill it with its parent."""
    candidate = Path(sys.executable).with_name("de06-dbt" if dying_with_parent else "dbt")
    return str(candidate) if candidate.exists() else candidate.name


def run_dbt(settings: Settings, args: Sequence[str], check: bool = True) -> int:
    """Run dbt with the project's settings in the environment; output goes to our stdout."""
    env = {**os.environ, **settings.dbt_env()}
    cmd = [dbt_executable(), *args]
    if args and args[0] not in ("--version", "-v"):
        cmd += [
            "--project-dir",
            str(settings.project_dir),
            "--profiles-dir",
            str(settings.project_dir),
        ]
    proc = subprocess.run(
        cmd, env=env, cwd=settings.project_dir, check=False, pass_fds=held_lock_fds()
    )
    if check and proc.returncode != 0:
        raise StepFailed(f"dbt {' '.join(args)} failed (exit {proc.returncode}); see the log above")
    return proc.returncode


def ingest_landing(settings: Settings, progress: Progress | None = None) -> list[FileReport]:
    """Load what waits in the landing folder and move each file to the archive."""
    settings.ensure_dirs()
    # listed, loaded and archived under the lock: a run that waited for another one finds
    # only what that one left (listing first would make it load files already archived)
    with writer_lock(settings):
        files = list(iter_feed_files([settings.landing_dir]))
        if not files:
            return []
        reports = ingest(settings, files, progress=progress)
        stamp = dt.datetime.now().strftime("%Y%m%dT%H%M%S")
        for report in reports:
            # a file already loaded is archived too, not deleted: a run killed after its load
            # committed and before the archive left the only copy of its bytes here
            relative = report.path.relative_to(settings.landing_dir)
            destination = settings.archive_dir / stamp / relative
            destination.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            shutil.move(str(report.path), destination)
            destination.chmod(0o600)  # as sent: citizen IDs and all
    return reports


# dbt's unit tests check the models' SQL on fixed inputs, not the data, so a refresh does not
# run them ("only in development or CI": docs.getdbt.com/docs/build/unit-tests); `make test`
# does, on DuckDB and on Spark. 16 unit tests cost about 9 s of every build.
REFRESH_EXCLUDES = ("unit_test",)


def refresh_build_args(environ: Mapping[str, str] | None = None) -> list[str]:
    """What a refresh's ``dbt build`` leaves out: the unit tests, and whatever
    ``DBT_EXCLUDE_RESOURCE_TYPES`` names (dbt reads the variable only when the command line
    has no ``--exclude-resource-type``, so the two are merged here)."""
    named = (os.environ if environ is None else environ).get("DBT_EXCLUDE_RESOURCE_TYPES", "")
    types = dict.fromkeys([*named.replace(",", " ").split(), *REFRESH_EXCLUDES])
    return ["--exclude-resource-type", *types]


def build(
    settings: Settings,
    select: Sequence[str] = (),
    full_refresh: bool = False,
    on_built: Callable[[], object] | None = None,
    quiet: bool = False,
) -> None:
    """``dbt build`` (seeds, models, data tests; not the unit tests: ``refresh_build_args``) on
    the warehouse.

    The dossier models are incremental: they take in what was loaded since they last ran.
    ``full_refresh`` rebuilds them from all of raw (after a change to their columns or to the
    reference seeds they join). ``on_built`` is called once dbt is done on the target's engine:
    on Spark, before its marts are copied into DuckDB (``spark_build``)."""
    with writer_lock(settings):
        connect(settings.warehouse_db).close()  # the raw layer exists even with no data yet
        args = ["build", *refresh_build_args()] + (["--select", *select] if select else [])
        if full_refresh:
            args.append("--full-refresh")
        if quiet:
            args.append("--quiet")  # errors only
        with spark_build(settings, force_export=full_refresh):
            run_dbt(settings, args)
            if on_built is not None:
                on_built()


@contextlib.contextmanager
def spark_build(
    settings: Settings, force_export: bool = False, marts: bool = True, duckdb_views: bool = True
) -> Iterator[None]:
    """Around a dbt step on the Spark target (docs/spark.md); nothing on the DuckDB target.
    The caller holds the writer lock.

    Before: the raw layer exported as Parquet where Spark reads it, if it changed since the
    last export. After: Spark's marts copied into the DuckDB warehouse (``marts``), and the
    reference seeds and staging views built there too (``duckdb_views``), so that the quality
    gate and the publish run as on the DuckDB target. A Dagster step that built no mart, or no
    seed or staging model, skips what it did not change."""
    if not settings.on_spark:
        yield
        return
    from de06.lake import export_for_spark, import_spark_marts

    export_for_spark(settings, force=force_export)
    yield
    if marts:
        import_spark_marts(settings)
    if duckdb_views:
        on_duckdb = replace(settings, dbt_target="duckdb")
        # one dbt invocation for both (each costs a few seconds to start); their tests ran
        # on Spark
        views = ["build", "--select", "resource_type:seed", "staging"]
        run_dbt(on_duckdb, [*views, "--exclude-resource-type", "test", "unit_test"])


def _scopes(
    settings: Settings, suites: list[Suite], everything: bool
) -> tuple[PublishPlan, dict[str, Scope]]:
    """What the publish would write (the marts' changed partitions) and the rows each suite
    checks (quality/scope.py). The caller holds the writer lock."""
    con = connect(settings.warehouse_db)  # the raw layer exists even with no data yet
    try:
        plan_ = plan(con, settings.published_db, everything=everything)
        return plan_, scopes(con, [(s.name, s.table, s.scope) for s in suites], plan_, everything)
    finally:
        con.close()


def gate(
    settings: Settings,
    run_id: str,
    suites: list[Suite] | None = None,
    everything: bool = False,
) -> GateResult:
    """Run the quality suites (all by default) on what changed since the last publish (every
    row with ``everything``) and store their results under ``run_id``. The result carries the
    publish plan its mart suites were scoped by."""
    suites = load_suites() if suites is None else suites
    with writer_lock(settings):
        plan_, scoped = _scopes(settings, suites, everything)
        result = run_gate(
            settings.warehouse_db,
            settings.quality_dir,
            run_id,
            suites,
            scoped,
            settings.duckdb_memory_limit,
        )
    result.plan = plan_
    return result


def gate_for_run(settings: Settings, run_id: str, everything: bool = False) -> GateResult:
    """The gate's verdict for a run, on the warehouse as it is now: the results stored for the
    run where the rows they checked are still the rows in scope (the same digest), plus a run
    of every other suite that has rows to check. The caller holds the writer lock through the
    publish of ``result.plan``."""
    suites = load_suites()
    with writer_lock(settings):
        plan_, scoped = _scopes(settings, suites, everything)
        con = connect(settings.warehouse_db)
        try:
            stored = stored_results(con, run_id)
        finally:
            con.close()
        current = (
            {o.suite for o in stored if o.scope_digest == scoped[o.suite].digest}
            if stored
            else set()
        )
        reused = [o for o in stored if o.suite in current]
        missing = [s for s in suites if s.name not in current and not scoped[s.name].skip]
        result = (
            run_gate(
                settings.warehouse_db,
                settings.quality_dir,
                run_id,
                missing,
                scoped,
                settings.duckdb_memory_limit,
            )
            if missing
            else GateResult(run_id)
        )
    result.outcomes = reused + result.outcomes
    result.scopes = scoped
    result.plan = plan_
    return result


def publish_marts(
    settings: Settings, run_id: str, plan_: PublishPlan | None = None, everything: bool = False
) -> PublishResult:
    """Publish the marts: ``plan_``'s changed partitions into a copy of the published file
    (made now, when not given), or every mart with ``everything``."""
    with writer_lock(settings):
        con = connect(settings.warehouse_db)
        try:
            return publish(con, settings.published_db, run_id, plan_, everything)
        except Exception as exc:
            what = machine_fault(exc)
            if what is None:
                raise
            raise StepFailed(
                f"publish failed: {what}; the published database was left as it was (the "
                "half-written copy was removed): free space and run the refresh again"
            ) from exc
        finally:
            con.close()


@dataclass
class RefreshResult:
    run_id: str
    reports: list[FileReport] = field(default_factory=list)
    gate: GateResult | None = None
    published: PublishResult | None = None
    steps: list[tuple[str, float]] = field(default_factory=list)  # (step, seconds)


def refresh(
    settings: Settings,
    run_id: str | None = None,
    full_refresh: bool = False,
    on_built: Callable[[], object] | None = None,
    progress: Progress | None = None,
) -> RefreshResult:
    """The scheduled job: ingest landing, build, gate, publish only if the gate passes.
    ``on_built`` is called once dbt's build is done on the target's engine: on Spark, before
    its marts are copied into DuckDB; what follows (the copy, the gate, the publish) reads and
    writes DuckDB only, and the Spark test stops its Spark server there."""
    result = RefreshResult(
        run_id or dt.datetime.now().strftime("%Y%m%dT%H%M%S-") + uuid.uuid4().hex[:6]
    )
    # dbt is quieted only when asked (`de06 refresh --quiet`); called without a progress, its
    # log goes on as before
    quiet_dbt = progress is not None and progress.quiet
    progress = progress or Progress(quiet=True)
    result.steps = progress.steps
    # one lock from the ingest through the publish: no other writer between the build, the
    # gate that checks it and the publish of what the gate checked
    with writer_lock(settings):
        with progress.step("ingest", f"the landing folder {settings.landing_dir}"):
            result.reports = ingest_landing(settings, progress)
        with progress.step("build", "dbt build" + (" --full-refresh" if full_refresh else "")):
            build(settings, full_refresh=full_refresh, on_built=on_built, quiet=quiet_dbt)
        result.gate, result.published = check_and_publish(
            settings, result.run_id, everything=full_refresh, progress=progress
        )
    return result


def check_and_publish(
    settings: Settings, run_id: str, everything: bool = False, progress: Progress | None = None
) -> tuple[GateResult, PublishResult]:
    """Run the gate; publish only if no blocking expectation failed, else raise StepFailed.
    Under one writer lock: nothing can change the marts between the gate and the publish, which
    writes what the gate checked (its plan). ``everything``: every row checked and published."""
    progress = progress or Progress(quiet=True)
    with writer_lock(settings):
        with progress.step("gate", "every row" if everything else "what changed"):
            verdict = gate(settings, run_id, everything=everything)
        if not verdict.passed:
            failures = "\n".join("  - " + o.describe() for o in verdict.blocking_failures)
            raise StepFailed(
                f"quality gate failed ({len(verdict.blocking_failures)} blocking); "
                f"the published database was left as it was:\n{failures}"
            )
        with progress.step("publish", str(settings.published_db)):
            return verdict, publish_marts(settings, run_id, verdict.plan, everything)
