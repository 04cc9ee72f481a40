"""Incremental dossier models: any sequence of incremental runs gives the full rebuild's tables.

The feeds arrive in three batches, with late versions: dossiers finished months after they were
received, received dates corrected into another month (one month left with no dossiers at all),
units corrected, a stale version older than the one already loaded, and dossiers only the portal
had that reach the provincial system in another month; then ratings corrected in one month (the
unit × period models recompute its periods and their neighbours, no other), and a submission
for a period no dossier touches (they see it by the change log's fingerprints). After each batch the
models run incrementally (the second batch's run killed part way, then run again), then once
more with a partition's month range and nothing new. Every mart and
every incremental model is copied aside after the last batch and again after the month range;
then the whole project is rebuilt with --full-refresh, and both copies must be identical to it
row for row.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path

import duckdb
import pytest

from conftest import PERIOD_CHAIN_INTERMEDIATE, PERIOD_CHAIN_MARTS, make_settings
from de06.generate import GenerateConfig, generate
from de06.pipeline import dbt_executable, ingest_landing, run_dbt
from de06.settings import Settings

pytestmark = pytest.mark.slow

CONFIG = GenerateConfig(seed=13, start_month="2025-01", months=8, dossiers_per_month=800)
LATE_AT = "2025-09-25 08:00:00"  # the corrections' version time (after every generated version)
INCREMENTAL = [
    "int_dossiers__enriched",
    "int_dossiers__backlog_candidates",
    "int_dossier_counts__monthly",
    "int_dossier_reconciliation__pairs",
    "int_dossier_reconciliation__monthly",
    "int_dossier_backlog__month_ends",
    # incremental by period (the marts of the chain are compared as marts)
    *PERIOD_CHAIN_INTERMEDIATE,
]
# when a row was computed (the next run's watermarks), not what it says: left out of the comparison
WHEN_COMPUTED = {
    "int_dossiers__enriched": ["built_at"],
    "int_dossiers__backlog_candidates": ["built_at"],
    "int_dossier_backlog__month_ends": ["last_load_id", "enriched_built_at"],
}


def _run_killed_after(settings: Settings, line: str) -> None:
    """`dbt run`, killed with SIGKILL as soon as it prints ``line``."""
    proc = subprocess.Popen(
        [dbt_executable(), "run", "--project-dir", str(settings.project_dir),
         "--profiles-dir", str(settings.project_dir)],
        env={**os.environ, **settings.dbt_env()},
        cwd=settings.project_dir,
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    printed = []
    for printed_line in proc.stdout:
        printed.append(printed_line)
        if line in printed_line:
            proc.kill()
            break
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "".join(printed[-30:])


def _newest(path: Path) -> str:
    """SQL for the newest version of every dossier in a generated file."""
    return (
        f"(select * from read_parquet('{path}') "
        "qualify row_number() over (partition by dossier_id order by updated_at desc) = 1)"
    )


def _write(con: duckdb.DuckDBPyConnection, sql: str, path: Path) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    con.execute(f"copy ({sql}) to '{path}' (format parquet)")
    return int(con.execute(f"select count(*) from read_parquet('{path}')").fetchone()[0])  # type: ignore[index]


def _land(generated: Path, settings: Settings, months: list[str], extra: list[Path]) -> None:
    for month in months:
        for source in ("provincial", "national_portal"):
            name = f"dossiers_{source}_{month}.parquet"
            target = settings.landing_dir / "dossiers" / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(generated / "dossiers" / name, target)
    for path in extra:
        shutil.move(str(path), settings.landing_dir / "dossiers" / path.name)


# nation-level figures for a month: dossiers received (provincial), pairs only on the portal
RECEIVED = (
    "select sum(n_received) from intermediate.int_dossier_counts__monthly "
    "where source_system = 'provincial' and unit_level = 'nation' and received_month = ?"
)
ONLY_PORTAL = (
    "select n_only_portal from intermediate.int_dossier_reconciliation__monthly "
    "where unit_level = 'nation' and received_month = ?"
)


def _rows(settings: Settings, sql: str, params: list[object] | None = None) -> list[tuple]:
    """A query's rows from the warehouse, read-only (no other process holds it between runs)."""
    con = duckdb.connect(str(settings.warehouse_db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def _nation(settings: Settings, sql: str, month: str) -> int:
    """One nation-level figure of an intermediate model for a month (0 when it has no row)."""
    rows = _rows(settings, sql, [month])
    return int(rows[0][0]) if rows and rows[0][0] is not None else 0


def _periods_computed(settings: Settings) -> dict[str, set[str] | None]:
    """The periods each unit × period model computed in its last run (None: every one)."""
    rows = _rows(settings, "select model, periods from intermediate.period_watermarks")
    return {model: None if periods is None else set(periods) for model, periods in rows}


def _reported(settings: Settings, period: str) -> int:
    """Reported values of a period in fct_indicator_values."""
    sql = "select count(*) from marts.fct_indicator_values where period = ? and source = 'reported'"
    return int(_rows(settings, sql, [period])[0][0])


def _set_aside(settings: Settings, schema: str) -> list[tuple[str, str]]:
    """Copy every mart and every incremental model into ``schema``; return (schema, table)s."""
    warehouse = duckdb.connect(str(settings.warehouse_db))
    try:
        marts = [
            r[0]
            for r in warehouse.execute(
                "select table_name from information_schema.tables "
                "where table_schema = 'marts' order by 1"
            ).fetchall()
        ]
        assert len(marts) >= 9
        tables = [("marts", t) for t in marts] + [("intermediate", t) for t in INCREMENTAL]
        warehouse.execute(f"create schema if not exists {schema}")
        for source, table in tables:
            warehouse.execute(
                f"create or replace table {schema}.{table} as select * from {source}.{table}"
            )
    finally:
        warehouse.close()
    return tables


def test_incremental_runs_equal_a_full_rebuild(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "home")
    settings.ensure_dirs()
    generated = tmp_path / "generated"
    generate(settings.seeds_dir, generated, CONFIG)
    # CSV months are written for the last month only; use the Parquet months before it
    jan = generated / "dossiers" / "dossiers_provincial_2025-01.parquet"
    may = generated / "dossiers" / "dossiers_provincial_2025-05.parquet"
    work = tmp_path / "corrections"
    con = duckdb.connect()

    # batch 1: three months, submissions and tasks, and five dossiers received in December 2024
    # the 2023 submission arrives last, alone: a change no dossier month names
    historic = "submissions_2023-H1_historic.csv"
    shutil.copytree(
        generated / "submissions",
        settings.landing_dir / "submissions",
        dirs_exist_ok=True,
        ignore=shutil.ignore_patterns(historic),
    )
    shutil.copytree(generated / "tasks", settings.landing_dir / "tasks", dirs_exist_ok=True)
    december = work / "dossiers_provincial_2024-12_late.parquet"
    assert (
        _write(
            con,
            f"""select * replace (
                    'LATE-' || dossier_id as dossier_id,
                    received_at - interval 31 day as received_at,
                    due_at - interval 31 day as due_at,
                    finished_at - interval 31 day as finished_at,
                    synced_national_at - interval 31 day as synced_national_at)
                from {_newest(jan)} where unit_code not like '%.%' order by dossier_id limit 5""",
            december,
        )
        == 5
    )
    _land(generated, settings, ["2025-01", "2025-02", "2025-03"], [december])
    ingest_landing(settings)
    run_dbt(settings, ["seed"])
    run_dbt(settings, ["run"])
    jan_before, feb_before = (
        _nation(settings, RECEIVED, "2025-01-01"),
        _nation(settings, RECEIVED, "2025-02-01"),
    )
    assert _nation(settings, RECEIVED, "2024-12-01") == 5

    # batch 2: three more months and late versions of January dossiers
    corrections = work / "dossiers_provincial_2025-01_corrections.parquet"
    _write(
        con,
        f"""
        with jan as (select *, row_number() over (order by dossier_id) as k from {_newest(jan)}),
        other as (select k, unit_code as other_unit, agency_code as other_agency from jan)
        -- finished late, months after they were received
        select * exclude (k) replace (
                'finished' as status,
                received_at + interval 40 day as finished_at,
                timestamp '{LATE_AT}' as updated_at)
        from jan where status in ('received', 'processing') and k > 300 and k % 7 = 0
        union all by name
        -- received date corrected into February (30 dossiers)
        select * exclude (k) replace (
                received_at + interval 31 day as received_at,
                due_at + interval 31 day as due_at,
                finished_at + interval 31 day as finished_at,
                synced_national_at + interval 31 day as synced_national_at,
                timestamp '{LATE_AT}' as updated_at)
        from jan where k in (
            select k from jan where day(received_at) <= 28 order by k limit 30
        )
        union all by name
        -- unit corrected (to the unit of the next dossier)
        select jan.* exclude (k, unit_code, agency_code) replace (
                timestamp '{LATE_AT}' as updated_at),
            other.other_unit as unit_code, other.other_agency as agency_code
        from jan inner join other on other.k = jan.k + 1
        where jan.k between 101 and 130 and jan.k not in (
            select k from jan where day(received_at) <= 28 order by k limit 30
        )
        union all by name
        -- a stale version, older than the one loaded: changes nothing
        select * exclude (k) replace (
                'received' as status, null as finished_at,
                received_at + interval 1 minute as updated_at)
        from jan where k between 201 and 220 and updated_at > received_at + interval 1 minute
        """,
        corrections,
    )
    _land(generated, settings, ["2025-04", "2025-05", "2025-06"], [corrections])
    ingest_landing(settings)
    # the run is killed once the first incremental model has committed its new rows and
    # before the models that read them ran; the next run must still end where a full rebuild
    # does (compared below)
    _run_killed_after(
        settings, "OK created sql incremental model intermediate.int_dossiers__enriched"
    )
    run_dbt(settings, ["run"])
    assert _nation(settings, RECEIVED, "2025-01-01") == jan_before - 30
    assert _nation(settings, RECEIVED, "2025-02-01") == feb_before + 30

    # batch 3: the last months; the December dossiers move to January (December is left
    # empty) and May dossiers finish late
    moved = work / "dossiers_provincial_2024-12_moved.parquet"
    _write(
        con,
        f"""select * replace (
                received_at + interval 31 day as received_at,
                due_at + interval 31 day as due_at,
                finished_at + interval 31 day as finished_at,
                synced_national_at + interval 31 day as synced_national_at,
                timestamp '{LATE_AT}' as updated_at)
            from read_parquet('{settings.archive_dir}/*/dossiers/{december.name}')""",
        moved,
    )
    finished = work / "dossiers_provincial_2025-05_finished.parquet"
    _write(
        con,
        f"""select * replace ('finished' as status, received_at + interval 50 day as finished_at,
                timestamp '{LATE_AT}' as updated_at)
            from {_newest(may)} where status in ('received', 'processing')""",
        finished,
    )
    # the dossiers only the portal had in March (the generator makes few) reach the provincial
    # system, received in May by its account: their pairs leave March, a month no changed
    # version names. Those of June do too, received in April by the province's account:
    # nothing else in this batch touches June, so only their old pairs say where their portal
    # side is
    from_portal = work / "dossiers_provincial_2025-05_from_portal.parquet"
    portal_march = generated / "dossiers" / "dossiers_national_portal_2025-03.parquet"
    portal_june = generated / "dossiers" / "dossiers_national_portal_2025-06.parquet"

    def provincial_copy(days: int) -> str:
        return f"""* replace ('provincial' as source_system,
                    received_at + interval ({days}) day as received_at,
                    due_at + interval ({days}) day as due_at,
                    finished_at + interval ({days}) day as finished_at,
                    synced_national_at + interval ({days}) day as synced_national_at,
                    timestamp '{LATE_AT}' as updated_at)"""

    _write(
        con,
        f"""select {provincial_copy(61)} from {_newest(portal_march)}
            where dossier_id like 'CDVCQG-%' and day(received_at) <= 28
            union all
            select {provincial_copy(-61)} from {_newest(portal_june)}
            where dossier_id like 'CDVCQG-%'""",
        from_portal,
    )
    arrived, arrived_from_june = con.execute(
        "select count(*) filter (where received_at >= '2025-05-01'), "
        f"count(*) filter (where received_at < '2025-05-01') from '{from_portal}'"
    ).fetchall()[0]
    assert arrived >= 1 and arrived_from_june >= 1, (arrived, arrived_from_june)
    only_portal_march = _nation(settings, ONLY_PORTAL, "2025-03-01")
    only_portal_june = _nation(settings, ONLY_PORTAL, "2025-06-01")
    assert only_portal_march >= arrived and only_portal_june >= arrived_from_june
    # dossiers whose backlog changes only at month ends nothing else in this batch names (no
    # dossier received in them changed, and they are not new month ends): January dossiers due
    # in February and finished in time were in fact finished a month late (now overdue at the
    # end of February); March dossiers due in April and finished after its end get another
    # unit, with the same dates (the end of April moves from one unit to the other)
    late_backlog = work / "dossiers_provincial_2025-01_late_backlog.parquet"
    corrected = next(settings.archive_dir.glob(f"*/dossiers/{corrections.name}"))
    march = generated / "dossiers" / "dossiers_provincial_2025-03.parquet"
    finished_late = _write(
        con,
        f"""select * replace (due_at + interval 30 day as finished_at,
                timestamp '{LATE_AT}' as updated_at)
            from {_newest(jan)}
            where status = 'finished' and finished_at <= due_at
                and due_at >= '2025-02-01' and due_at < '2025-03-01'
                and dossier_id not in (select dossier_id from read_parquet('{corrected}'))""",
        late_backlog,
    )
    moved_unit = work / "dossiers_provincial_2025-03_moved_unit.parquet"
    unit_changed = _write(
        con,
        f"""
        with mar as (
            select *, row_number() over (order by dossier_id) as k from {_newest(march)}
        ),
        other as (select k, unit_code as other_unit, agency_code as other_agency from mar)
        select mar.* exclude (k, unit_code, agency_code) replace (
                timestamp '{LATE_AT}' as updated_at),
            other.other_unit as unit_code, other.other_agency as agency_code
        from mar inner join other on other.k = mar.k + 1
        where mar.due_at >= '2025-04-01' and mar.due_at < '2025-05-01'
            and mar.finished_at >= '2025-05-01' and other.other_unit <> mar.unit_code
        """,
        moved_unit,
    )
    assert finished_late >= 1 and unit_changed >= 1, (finished_late, unit_changed)
    # January dossiers finished after the end of the month they fell due in (backlog
    # candidates) were in fact finished an hour after they were received: they leave the
    # candidates, and the month ends they were open at
    finished_early = work / "dossiers_provincial_2025-01_finished_early.parquet"
    left = _write(
        con,
        f"""select * replace (received_at + interval 1 hour as finished_at,
                timestamp '{LATE_AT}' as updated_at)
            from {_newest(jan)}
            where status = 'finished' and due_at > received_at + interval 1 hour
                and finished_at >= date_trunc('month', greatest(due_at, received_at))
                    + interval 1 month
                and dossier_id not in (select dossier_id from read_parquet('{corrected}'))
            order by dossier_id limit 10""",
        finished_early,
    )
    assert left == 10, left
    # the portal sends again its copies of the dossiers batch 2 moved to February, still filed
    # in January there: their pairs' provincial side is in February, which nothing in this
    # batch names; only the old pairs say so
    resent = work / "dossiers_national_portal_2025-01_resent.parquet"
    portal_january = generated / "dossiers" / "dossiers_national_portal_2025-01.parquet"
    moved_to_february = (
        f"select dossier_id from read_parquet('{corrected}') where received_at >= '2025-02-01'"
    )
    resent_count = _write(
        con,
        f"""select * replace (timestamp '{LATE_AT}' as updated_at)
            from {_newest(portal_january)} where dossier_id in ({moved_to_february})""",
        resent,
    )
    assert resent_count >= 1
    resent_ids = [r[0] for r in con.execute(f"select dossier_id from '{resent}'").fetchall()]
    early = [r[0] for r in con.execute(f"select dossier_id from '{finished_early}'").fetchall()]
    candidates = (
        "select count(*) from intermediate.int_dossiers__backlog_candidates "
        "where source_system = 'provincial' and list_contains(?, dossier_id)"
    )
    assert _rows(settings, candidates, [early])[0][0] == 10
    _land(
        generated,
        settings,
        ["2025-07"],
        [moved, finished, from_portal, late_backlog, moved_unit, finished_early, resent],
    )
    shutil.copy2(
        generated / "dossiers" / "dossiers_provincial_2025-08.csv",
        settings.landing_dir / "dossiers" / "dossiers_provincial_2025-08.csv",
    )
    shutil.copy2(
        generated / "dossiers" / "dossiers_national_portal_2025-08.parquet",
        settings.landing_dir / "dossiers" / "dossiers_national_portal_2025-08.parquet",
    )
    reports = ingest_landing(settings)
    assert all(r.quarantined == 0 for r in reports), [r.line() for r in reports if r.quarantined]
    run_dbt(settings, ["run"])
    assert _nation(settings, RECEIVED, "2024-12-01") == 0  # cleared, not left behind
    assert _nation(settings, RECEIVED, "2025-01-01") == jan_before - 30 + 5
    assert _nation(settings, ONLY_PORTAL, "2025-03-01") == only_portal_march - arrived
    assert _nation(settings, ONLY_PORTAL, "2025-06-01") == only_portal_june - arrived_from_june
    assert _rows(settings, candidates, [early])[0][0] == 0  # they left the candidates
    # one pair each, matched across the two months
    split_pairs = (
        "select count(*), count(*) filter (where is_matched and received_month = '2025-02-01' "
        "and portal_received_month = '2025-01-01') "
        "from intermediate.int_dossier_reconciliation__pairs where list_contains(?, dossier_id)"
    )
    assert _rows(settings, split_pairs, [resent_ids]) == [(resent_count, resent_count)]

    # batch 4: the 2023 submission alone. The unit × period models see it through the change
    # log's fingerprint of the submissions (a whole input: every period is recomputed)
    shutil.copy2(generated / "submissions" / historic, settings.landing_dir / "submissions")
    assert [r.status for r in ingest_landing(settings)] == ["loaded"]
    assert _reported(settings, "2023-H1") == 0
    run_dbt(settings, ["run"])
    assert _reported(settings, "2023-H1") > 0
    assert set(_periods_computed(settings).values()) == {None}  # every period

    # batch 4b: the national portal's 766 export of July 2025, alone. The change log takes it
    # by its period's first month: the periods holding July and those whose change columns
    # read them, worked out by hand from the calendar, and no other
    for path in sorted((generated / "portal766").rglob("portal766__*__2025-07__*.json")):
        target = settings.landing_dir / "portal766" / path.parent.name / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    loaded = ingest_landing(settings)
    assert len(loaded) == 18 and {r.status for r in loaded} == {"loaded"}  # 3 provinces × 6
    assert all(r.quarantined == 0 for r in loaded), [r.line() for r in loaded]
    run_dbt(settings, ["run"])
    july = {
        *("2025-07", "2025-Q3", "2025-H2", "2025"),  # the periods holding July
        *("2025-08", "2025-Q4", "2026-H1", "2026"),  # their next periods
        *("2026-07", "2026-Q3", "2026-H2"),  # a year later (2026 is there already)
    }
    assert _periods_computed(settings) == {
        model: july for model in (*PERIOD_CHAIN_INTERMEDIATE, *PERIOD_CHAIN_MARTS)
    }
    assert _rows(
        settings,
        "select count(distinct unit_code) from marts.fct_index_766 "
        "where period = '2025-07' and published_points is not null and unit_level = 'province'",
    ) == [(3,)]

    # batch 5: February's ratings corrected, nothing else. One month changes, so the unit ×
    # period models recompute its periods and those whose change columns read them (worked out
    # by hand from the calendar), and no other
    rated = work / "dossiers_provincial_2025-02_rated.parquet"
    con.execute(f"attach '{settings.warehouse_db}' as warehouse (read_only)")
    assert (
        _write(
            con,
            f"""select * replace ('very_satisfied' as satisfaction,
                                 timestamp '{LATE_AT}' as updated_at)
                from {_newest(generated / "dossiers" / "dossiers_provincial_2025-02.parquet")}
                where status = 'finished' and satisfaction is distinct from 'very_satisfied'
                    and dossier_id not in (  -- not one of the earlier corrections
                        select dossier_id from warehouse.raw.dossiers
                        where updated_at = timestamp '{LATE_AT}')
                order by dossier_id limit 20""",
            rated,
        )
        == 20
    )
    con.execute("detach warehouse")
    shutil.move(str(rated), settings.landing_dir / "dossiers" / rated.name)
    assert [r.status for r in ingest_landing(settings)] == ["loaded"]
    run_dbt(settings, ["run"])
    expected = {
        *("2025-02", "2025-Q1", "2025-H1", "2025"),  # the periods holding February
        *("2025-03", "2025-Q2", "2025-H2", "2026"),  # their next periods
        *("2026-02", "2026-Q1", "2026-H1"),  # a year later (2026 is there already)
    }
    assert _periods_computed(settings) == {
        model: expected for model in (*PERIOD_CHAIN_INTERMEDIATE, *PERIOD_CHAIN_MARTS)
    }
    tables = _set_aside(settings, "after_batches")
    # a partition's month range with nothing new: recomputes February and March as they are
    vars_ = '{"dossier_months_from": "2025-02-01", "dossier_months_to": "2025-03-01"}'
    run_dbt(settings, ["run", "--vars", vars_])
    _set_aside(settings, "after_month_range")

    # rebuild everything; both states set aside must be the rebuild, row for row
    run_dbt(settings, ["run", "--full-refresh"])
    warehouse = duckdb.connect(str(settings.warehouse_db), read_only=True)
    try:
        differences = {}
        for copy in ("after_batches", "after_month_range"):
            for schema, table in tables:
                exclude = (
                    f" exclude ({', '.join(WHEN_COMPUTED[table])})"
                    if table in WHEN_COMPUTED
                    else ""
                )
                full = f"(select *{exclude} from {schema}.{table})"
                incremental = f"(select *{exclude} from {copy}.{table})"
                rows = warehouse.execute(f"select count(*) from {full}").fetchone()[0]  # type: ignore[index]
                only_full = warehouse.execute(
                    f"select count(*) from (from {full} except all from {incremental})"
                ).fetchone()[0]  # type: ignore[index]
                only_incremental = warehouse.execute(
                    f"select count(*) from (from {incremental} except all from {full})"
                ).fetchone()[0]  # type: ignore[index]
                assert rows > 0, table
                if only_full or only_incremental:
                    differences[f"{copy}: {table}"] = (rows, only_full, only_incremental)
        # the corrections reached the marts: January's dossiers moved to February are there
        moved_in = warehouse.execute(
            "select count(*) from intermediate.int_dossiers__enriched "
            "where source_system = 'provincial' and received_month = '2025-02-01' "
            "and dossier_id in (select dossier_id from read_parquet(?) "
            "where received_at >= '2025-02-01')",
            [str(next(settings.archive_dir.glob(f"*/dossiers/{corrections.name}")))],
        ).fetchone()[0]  # type: ignore[index]
    finally:
        warehouse.close()
    assert differences == {}
    assert moved_in == 30
