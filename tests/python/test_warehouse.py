"""End to end on generated data: ingest → dbt build → gate → publish, checked against figures
recomputed here from the generated files with pandas (not with the project's SQL)."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from conftest import Built, make_settings, markdown_sql_statements
from de06.pipeline import StepFailed, check_and_publish
from de06.reference import REFORM_DATE, load_reference

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def dossiers(built: Built) -> pd.DataFrame:
    """Newest version of every provincial dossier, with its province as of its received day."""
    folder = built.generated / "dossiers"
    frames = [pd.read_parquet(p) for p in sorted(folder.glob("dossiers_provincial_*.parquet"))]
    frames += [
        pd.read_csv(
            p,
            dtype={"unit_code": str, "agency_code": str, "applicant_id": str},
            keep_default_na=False,
            parse_dates=["received_at", "due_at", "updated_at"],
        )
        for p in sorted(folder.glob("dossiers_provincial_*.csv"))
    ]
    for frame in frames[-1:]:
        frame["finished_at"] = pd.to_datetime(frame["finished_at"].replace("", None))
        for col in ("is_digitized", "has_e_result", "reused_data", "identity_verified"):
            frame[col] = frame[col].astype(str).str.lower() == "true"
    df = pd.concat(frames, ignore_index=True)
    df = df.sort_values("updated_at").drop_duplicates("dossier_id", keep="last")
    ref = load_reference(built.settings.seeds_dir)
    before = df["received_at"].dt.date < REFORM_DATE

    def province(code: str, is_before: bool) -> str:
        if len(code) == 2:
            return code
        return ref.commune_province_old(code) if is_before else ref.communes_new[code]

    df["province"] = [province(c, b) for c, b in zip(df["unit_code"], before, strict=True)]
    df["quarter"] = df["received_at"].dt.to_period("Q").astype(str).str.replace("Q", "-Q")
    return df


def mart(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> pd.DataFrame:
    return con.execute(sql, params or []).df()


def test_published_database_holds_only_the_marts(
    built: Built, published: duckdb.DuckDBPyConnection
) -> None:
    schemas = {
        r[0]
        for r in published.execute(
            "select distinct table_schema from information_schema.tables"
        ).fetchall()
    }
    assert schemas == {"marts", "meta"}
    tables = {
        r[0]
        for r in published.execute(
            "select table_name from information_schema.tables where table_schema = 'marts'"
        ).fetchall()
    }
    assert {"dim_unit", "dim_indicator", "fct_indicator_values"} <= tables
    with pytest.raises(duckdb.Error):
        published.execute("create table marts.x (a int)")


def test_no_personal_data_in_published_text(
    built: Built, published: duckdb.DuckDBPyConnection
) -> None:
    columns = published.execute(
        "select table_schema, table_name, column_name from information_schema.columns "
        "where data_type = 'VARCHAR'"
    ).fetchall()
    pattern = r"(^|[^0-9])(\d{12}|0\d{9})([^0-9]|$)"  # citizen ID, phone number
    for schema, table, column in columns:
        hits = published.execute(
            f'select count(*) from {schema}."{table}" where regexp_matches("{column}", ?)',
            [pattern],
        ).fetchone()[0]
        assert hits == 0, f"{schema}.{table}.{column} holds {hits} ID-like values"


@pytest.mark.parametrize("quarter", ["2024-Q4", "2025-Q3"])
def test_online_rate_per_province_matches_recomputation(
    published: duckdb.DuckDBPyConnection, dossiers: pd.DataFrame, quarter: str
) -> None:
    q = dossiers[dossiers["quarter"] == quarter]
    expected = q.groupby("province").agg(
        numerator=("channel", lambda s: int((s == "online").sum())), denominator=("channel", "size")
    )
    got = mart(
        published,
        "select unit_code as province, numerator, denominator, ranked_of from marts.fct_indicator_values "
        "where unit_level = 'province' and period = ? and indicator_code = 'online_dossier_rate' "
        "and source = 'computed'",
        [quarter],
    ).set_index("province")
    assert len(got) == (63 if quarter == "2024-Q4" else 34)
    assert (got["ranked_of"] == len(got)).all()
    pd.testing.assert_frame_equal(
        got[["numerator", "denominator"]].sort_index().astype(int),
        expected.sort_index().astype(int),
        check_names=False,
    )


def test_on_time_and_payment_rates_nationally(
    published: duckdb.DuckDBPyConnection, dossiers: pd.DataFrame
) -> None:
    q = dossiers[dossiers["quarter"] == "2025-Q1"]
    finished = q[(q["status"] == "finished") & q["finished_at"].notna()]
    on_time = int((finished["finished_at"] <= finished["due_at"]).sum())
    paid = q[(q["fee_amount"] > 0) & (q["payment_channel"].fillna("") != "")]
    paid_online = int((paid["payment_channel"] == "online").sum())
    got = dict(
        (r[0], (r[1], r[2]))
        for r in published.execute(
            "select indicator_code, numerator, denominator from marts.fct_indicator_values "
            "where unit_level = 'nation' and period = '2025-Q1' and source = 'computed'"
        ).fetchall()
    )
    assert got["on_time_rate"] == (on_time, len(finished))
    assert got["online_payment_rate"] == (paid_online, len(paid))
    assert got["online_dossier_rate"][1] == len(q)


def test_worked_examples_from_the_source_reports(published: duckdb.DuckDBPyConnection) -> None:
    rows = {
        (r[0], r[1]): r[2:]
        for r in published.execute(
            "select unit_code, indicator_code, numerator, denominator, value, has_counts "
            "from marts.fct_indicator_values where period = '2023-H1' and source = 'reported'"
        ).fetchall()
    }
    # Bình Định 2023-H1: 142 of 127.450 beneficiaries paid cashless = 0,11%
    assert rows[("52", "social_cashless_share")][:2] == (142, 127450)
    assert round(rows[("52", "social_cashless_share")][2] * 100, 2) == 0.11
    # Bình Phước 2023-H1: 428 of 432 schools = 99,07%; 8.502 of 27.843,5 days cut = 30,54%
    assert round(rows[("70", "school_fee_cashless_share")][2] * 100, 2) == 99.07
    assert rows[("70", "procedure_time_cut_rate")][:2] == (8502, 27843.5)
    # from the counts: 30.53495…% (the report printed 30,54; ingest accepts it within rounding)
    assert rows[("70", "procedure_time_cut_rate")][2] == pytest.approx(0.3053495429813)
    # a rate without counts stays on its unit
    assert rows[("70", "eid_activation_rate")] == (None, None, pytest.approx(0.898), False)


def test_units_before_and_after_the_reorganisation(published: duckdb.DuckDBPyConnection) -> None:
    def provinces_on(day: str) -> int:
        return published.execute(
            "select count(*) from marts.dim_unit where unit_level = 'province' "
            "and valid_from <= ?::date and coalesce(valid_to, date '9999-12-31') >= ?::date",
            [day, day],
        ).fetchone()[0]

    assert provinces_on("2025-06-30") == 63
    assert provinces_on("2025-07-01") == 34
    successor = published.execute(
        "select successor_unit_code, valid_to from marts.dim_unit where unit_key = '70@2020-01-01'"
    ).fetchone()
    assert successor[0] == "75" and str(successor[1]) == "2025-06-30"
    # provinces are not ranked over the year 2025, which straddles the reorganisation
    ranks = published.execute(
        "select count(rank) from marts.fct_indicator_values "
        "where unit_level = 'province' and period = '2025' and source = 'computed'"
    ).fetchone()[0]
    assert ranks == 0


def test_the_ingests_unit_validity_is_the_warehouses(
    built: Built, published: duckdb.DuckDBPyConnection
) -> None:
    """The ingest checks a unit code against its validity in Python (de06.reference), the
    marts against int_units (SQL): both read the same seeds and dbt variables, and agree on
    every unit, level and day."""
    ref = load_reference(built.settings.seeds_dir)
    python = {(v.code, v.level, v.valid_from, v.valid_to) for v in ref.all_validities()}
    sql = set(
        published.execute(
            "select unit_code, unit_level, valid_from, valid_to from marts.dim_unit"
        ).fetchall()
    )
    assert len(sql) > 3000  # 63 + 34 provinces, their districts, communes and departments
    assert python == sql


def test_nothing_lost_at_ingest(built: Built) -> None:
    for report in built.result.reports:
        assert report.rows_read == report.accepted + report.superseded + report.quarantined, (
            report.line()
        )
    bad = {r.path.name: r for r in built.result.reports if r.quarantined}
    assert sum(r.quarantined for r in bad.values()) == 6  # the generator's deliberately bad rows


def test_the_unit_tests_pass_and_the_refresh_left_them_out(built: Built) -> None:
    """dbt's unit tests (the models' SQL on fixed inputs) are not part of a refresh's build
    (``pipeline.refresh_build_args``): they run here, on the built warehouse, and pass."""
    import json

    from de06.pipeline import run_dbt

    target = built.settings.dbt_artifacts_dir
    assert run_dbt(built.settings, ["test", "--select", "test_type:unit"], check=False) == 0
    results = json.loads((target / "run_results.json").read_text())["results"]
    units = [r for r in results if r["unique_id"].startswith("unit_test.")]
    assert len(units) >= 16 and {r["status"] for r in units} == {"pass"}
    # nothing else ran but the project's on-run-start hook
    assert {r["unique_id"].split(".")[0] for r in results} == {"unit_test", "operation"}


def test_failing_gate_leaves_published_database_unchanged(built: Built, tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "copy")
    settings.ensure_dirs()
    shutil.copy2(built.settings.warehouse_db, settings.warehouse_db)
    shutil.copy2(built.settings.published_db, settings.published_db)
    before = hashlib.sha256(settings.published_db.read_bytes()).hexdigest()
    con = duckdb.connect(str(settings.warehouse_db))
    con.execute(
        "update marts.fct_indicator_values set numerator = denominator + 1 "
        "where unit_code = '01' and period = '2024-Q4' and indicator_code = 'online_dossier_rate'"
    )
    con.close()
    with pytest.raises(StepFailed) as failure:
        check_and_publish(settings, run_id="tampered")
    message = str(failure.value)
    assert "expect_column_pair_values_a_to_be_greater_than_b" in message
    assert "marts.fct_indicator_values" in message
    assert hashlib.sha256(settings.published_db.read_bytes()).hexdigest() == before
    stored = (
        duckdb.connect(str(settings.warehouse_db), read_only=True)
        .execute(
            "select count(*) from quality.validation_results where run_id = 'tampered' and not success"
        )
        .fetchone()[0]
    )
    assert stored >= 1


GATE_THEN_PUBLISH = """
import sys
from de06.pipeline import check_and_publish
from de06.settings import Settings
print("started", flush=True)
# killed: every row checked and copied (a gate that runs long enough to be killed in);
# again: what changed only, as a refresh does
check_and_publish(Settings.from_env(), run_id=sys.argv[1], everything=sys.argv[1] == "killed")
"""


def test_a_gate_or_publish_killed_part_way_then_run_again_publishes_the_same_marts(
    built: Built, tmp_path: Path
) -> None:
    """`kill -9` in the gate (Great Expectations validating the marts), then again in the
    publish (its copy half-written): each time the published database is still the one before,
    byte for byte; the gate and publish run a third time (of what changed: nothing) remove the
    half-written copy and publish the same marts as the uninterrupted refresh did."""
    settings = make_settings(tmp_path / "copy")
    settings.ensure_dirs()
    shutil.copy2(built.settings.warehouse_db, settings.warehouse_db)
    shutil.copy2(built.settings.published_db, settings.published_db)
    before = hashlib.sha256(settings.published_db.read_bytes()).hexdigest()
    env = {**os.environ, **settings.dbt_env(), "DE06_HOME": str(settings.home)}

    def start() -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [sys.executable, "-c", GATE_THEN_PUBLISH, "killed"],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None and proc.stdout.readline() == "started\n"
        return proc

    in_gate = start()
    time.sleep(7)  # Great Expectations imported (about 5 s), the validations under way
    assert in_gate.poll() is None, "the gate ended before it could be killed"
    in_gate.kill()
    in_gate.wait()
    assert hashlib.sha256(settings.published_db.read_bytes()).hexdigest() == before
    in_publish = start()
    folder = settings.published_db.parent
    while not list(folder.glob(".de06.duckdb.*.tmp")):  # the copy is being written
        assert in_publish.poll() is None, "the publish ended before it could be killed"
        time.sleep(0.002)
    in_publish.kill()
    in_publish.wait()
    assert hashlib.sha256(settings.published_db.read_bytes()).hexdigest() == before
    assert list(folder.glob(".de06.duckdb.*.tmp"))  # left behind by the kill
    again = subprocess.run(
        [sys.executable, "-c", GATE_THEN_PUBLISH, "again"], env=env, capture_output=True, text=True
    )
    assert again.returncode == 0, again.stderr[-3000:]
    assert sorted(p.name for p in settings.published_db.parent.iterdir()) == ["de06.duckdb"]
    con = duckdb.connect(str(settings.published_db), read_only=True)
    try:
        con.execute(f"attach '{built.settings.published_db}' as clean (read_only)")
        tables = [r[0] for r in con.execute(
            "select table_name from duckdb_tables() where database_name = 'clean' "
            "and schema_name = 'marts'"
        ).fetchall()]  # fmt: skip
        assert len(tables) > 10
        for table in tables:
            differing = con.execute(
                f"select count(*) from ((from marts.{table} except all from clean.marts.{table}) "
                f"union all (from clean.marts.{table} except all from marts.{table}))"
            ).fetchone()
            assert differing == (0,), table
        assert con.execute("select run_id from meta.publish_log").fetchall() == [("again",)]
    finally:
        con.close()


def test_scorecard(built: Built) -> None:
    from de06.scorecard import scorecard

    text = scorecard(built.settings.published_db)
    assert "Đồng Nai" in text and "Toàn quốc" in text
    assert re.search(r"\d{1,3},\d{2}%", text)
    # the recomputed 766 index, its rank among the 34 provinces and its band
    assert "Chỉ số 766" in text
    assert re.search(r"\d{2},\d{2} +\d{1,2}/34 \(thang Cổng\)", text)


@pytest.mark.parametrize(
    "period, month_end", [("2024-12", "2024-12-31"), ("2025-Q3", "2025-09-30")]
)
def test_overdue_backlog_matches_recomputation(
    published: duckdb.DuckDBPyConnection, dossiers: pd.DataFrame, period: str, month_end: str
) -> None:
    """Open and past due at the period's end; a quarter takes its last month end (snapshot)."""
    t = pd.Timestamp(month_end) + pd.Timedelta(days=1)
    dropped = dossiers["status"].isin(["returned", "withdrawn", "rejected"])
    closed = dossiers["finished_at"].where(~dropped, dossiers["updated_at"])
    overdue = (
        (dossiers["received_at"] < t) & (dossiers["due_at"] < t) & (closed.isna() | (closed >= t))
    )
    expected = int(overdue.sum())
    by_province = dossiers[overdue].groupby("province").size()
    got = mart(
        published,
        "select unit_level, unit_code, value from marts.fct_indicator_values "
        "where indicator_code = 'overdue_backlog' and period = ? and source = 'computed' "
        "and unit_level in ('nation', 'province')",
        [period],
    )
    assert expected > 0  # the generated data must exercise the rule
    assert int(got.loc[got["unit_level"] == "nation", "value"].iloc[0]) == expected
    provinces = got[got["unit_level"] == "province"].set_index("unit_code")["value"]
    assert provinces.sum() == expected
    for code, count in by_province.items():
        assert provinces[code] == count, code


def test_current_units_put_binh_phuoc_inside_dong_nai(
    published: duckdb.DuckDBPyConnection, dossiers: pd.DataFrame
) -> None:
    """Today's Đồng Nai 75 in 2024 = old Đồng Nai 75 + Bình Phước 70, counted from the files."""
    year = dossiers[dossiers["received_at"].dt.year == 2024]
    mine = year[year["province"].isin(["70", "75"])]
    got = mart(
        published,
        "select numerator, denominator, rebase_status, rebase_source_units, ranked_of "
        "from marts.fct_indicator_values_current_units where unit_code = '75' "
        "and unit_level = 'province' and period = '2024' and indicator_code = 'online_dossier_rate' "
        "and source = 'computed'",
    ).iloc[0]
    assert int(got["numerator"]) == int((mine["channel"] == "online").sum())
    assert int(got["denominator"]) == len(mine)
    assert got["rebase_status"] == "exact"
    assert got["rebase_source_units"] == "70@2020-01-01, 75@2020-01-01"
    assert got["ranked_of"] == 34  # ranked among today's provinces, even for 2024


def test_task_progress_matches_the_register(
    built: Built, published: duckdb.DuckDBPyConnection
) -> None:
    tasks = pd.read_csv(built.generated / "tasks" / "tasks_register.csv", dtype={"unit_code": str})
    counts = tasks.pivot_table(
        index=["unit_code", "year"], columns="status", values="task_id", aggfunc="count"
    ).fillna(0)
    got = mart(
        published,
        "select unit_code, plan_year as year, tasks_done as done, tasks_in_progress as in_progress, "
        "tasks_not_started as not_started, tasks_total, completion_rate from marts.fct_task_progress "
        "where unit_level = 'province'",
    ).set_index(["unit_code", "year"])
    assert len(got) == len(counts)
    for col in ("done", "in_progress", "not_started"):
        assert (got[col].sort_index() == counts[col].sort_index().astype(int)).all(), col
    assert (got["completion_rate"] == got["done"] / got["tasks_total"]).all()
    nation = mart(
        published,
        "select plan_year, tasks_total from marts.fct_task_progress where unit_level = 'nation'",
    ).set_index("plan_year")["tasks_total"]
    assert nation.to_dict() == tasks.groupby("year").size().to_dict()


def test_submission_status_finds_the_missing_and_late_reports(
    published: duckdb.DuckDBPyConnection,
) -> None:
    """The generator leaves one province out of each half-year and sends two 40 days after its
    end (the calendar allows 15)."""
    got = mart(
        published,
        "select period, sum(expected) as expected, sum(received) as received, sum(late) as late, "
        "sum(missing) as missing from marts.fct_submission_status where expected = 1 "
        "group by period order by period",
    ).set_index("period")
    for period, provinces in (("2024-H2", 63), ("2025-H1", 63), ("2025-H2", 34)):
        row = got.loc[period]
        assert (row["expected"], row["missing"], row["late"]) == (provinces, 1, 2), period
        assert row["received"] == provinces - 1


def test_readme_queries_run_on_the_published_marts(published: duckdb.DuckDBPyConnection) -> None:
    """The example queries of the README bind against the published marts (names and columns)."""
    statements = markdown_sql_statements(Path(__file__).resolve().parents[2] / "README.md")
    statements = [s for s in statements if "intermediate." not in s]  # warehouse-only
    assert len(statements) >= 8
    answered = 0
    for sql in statements:
        answered += len(published.sql(sql).fetchall()) > 0
    assert answered >= len(statements) - 1  # the 2024-H1 roll-up is outside the test data
