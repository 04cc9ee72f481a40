"""The quality gate validates inside DuckDB through Great Expectations' SQL data source.

GX's SQL path returns empty results on DuckDB out of the box (GX issue 11579); these tests fail
loudly if an upgrade breaks the workaround in de06/quality/gx_duckdb.py, and check that the gate
leaves no connection to the database open behind it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from de06.quality import Suite, load_suites, run_gate
from de06.quality.gx_duckdb import enable_duckdb_sql

SUITE = Suite(
    name="test.things",
    table="test.things",
    description="1,000 rows, 3 unknown colours, 2 malformed codes",
    expectations=[
        {"type": "expect_table_row_count_to_be_between",
         "kwargs": {"min_value": 1000, "max_value": 1000}, "severity": "blocking"},
        {"type": "expect_column_values_to_be_in_set",
         "kwargs": {"column": "colour", "value_set": ["red", "green"]}, "severity": "warning"},
        {"type": "unexpected_rows_expectation",
         "kwargs": {"unexpected_rows_query":
                    "select id from {batch} where not regexp_full_match(code, '\\d{{5}}')"},
         "severity": "blocking"},
    ],
)  # fmt: skip


def make_table(path: Path, table: str, select: str) -> Path:
    """A DuckDB file holding one table (schema created) built by ``select``."""
    with duckdb.connect(str(path)) as con:
        con.execute(f"create schema {table.split('.')[0]}")
        con.execute(f"create table {table} as {select}")
    return path


@pytest.fixture()
def database(tmp_path: Path) -> Path:
    return make_table(
        tmp_path / "w.duckdb",
        "test.things",
        "select i as id, "
        "case when i < 3 then 'blue' when i % 2 = 0 then 'red' else 'green' end as colour, "
        "case when i in (10, 11) then 'x' || i else lpad(i::varchar, 5, '0') end as code "
        "from range(1000) as t (i)",
    )


def test_expectations_are_computed_in_duckdb(database: Path, tmp_path: Path) -> None:
    result = run_gate(database, tmp_path / "quality", "sql", [SUITE])
    by_type = {o.expectation: o for o in result.outcomes}
    assert by_type["expect_table_row_count_to_be_between"].observed_value == "1000"
    assert by_type["expect_table_row_count_to_be_between"].success
    in_set = by_type["expect_column_values_to_be_in_set"]
    assert (in_set.success, in_set.unexpected_count, in_set.element_count) == (False, 3, 1000)
    rows = by_type["unexpected_rows_expectation"]
    assert (rows.success, rows.observed_value) == (False, "2")
    assert [o.expectation for o in result.blocking_failures] == ["unexpected_rows_expectation"]
    with duckdb.connect(str(database), read_only=True) as con:
        stored = con.execute(
            "select count(*) from quality.validation_results where run_id = 'sql'"
        ).fetchone()
    assert stored == (3,)


def test_great_expectations_connection_has_the_memory_limit(database: Path, tmp_path: Path) -> None:
    """GX opens its own DuckDB connection: it gets the warehouse's memory limit, not DuckDB's
    default (80 % of the machine's memory; 13.8 GB held by the first gate at 50 M dossiers)."""
    limited = Suite(
        name="test.things",
        table="test.things",
        description="the setting GX's connection runs with",
        expectations=[
            {"type": "unexpected_rows_expectation",
             "kwargs": {"unexpected_rows_query": "select id from {batch} "
                        "where current_setting('memory_limit') <> '953.6 MiB'"},
             "severity": "blocking"},
        ],
    )  # fmt: skip
    assert run_gate(database, tmp_path / "q1", "limited", [limited], None, "1GB").passed
    assert not run_gate(database, tmp_path / "q2", "default", [limited]).passed


def test_the_gate_leaves_the_database_closed(database: Path, tmp_path: Path) -> None:
    run_gate(database, tmp_path / "quality", "closed", [SUITE])
    # another configuration in this process (refused while GX's connection is open) ...
    with duckdb.connect(str(database), read_only=True) as con:
        assert con.execute("select count(*) from test.things").fetchone() == (1000,)
    # ... and a writer in another process (refused while any connection here is open)
    code = f"import duckdb; duckdb.connect({str(database)!r}).execute('select 1').fetchall()"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_the_workaround_refuses_an_unknown_great_expectations(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import great_expectations.execution_engine.sqlalchemy_execution_engine as engine_module

    monkeypatch.delattr(engine_module, "_PERSISTED_CONNECTION_DIALECTS")
    with pytest.raises(RuntimeError, match="11579"):
        enable_duckdb_sql()


def test_a_province_whose_dossiers_halve_is_flagged(tmp_path: Path) -> None:
    """The distribution check of the shipped fct_indicator_values suite, on a small table:
    province A receives 100 then 40 dossiers (flagged), B 100 then 60 (not)."""
    from de06.quality import load_suites

    shipped = {s.name: s for s in load_suites()}["marts.fct_indicator_values"]
    check = [e for e in shipped.expectations if "fell by more than half" in str(e["kwargs"])]
    assert len(check) == 1 and check[0]["severity"] == "warning"
    path = make_table(
        tmp_path / "w.duckdb",
        "marts.fct_indicator_values",
        "select * from (values "
        "('A@2020-01-01', date '2025-01-01', 100.0), ('A@2020-01-01', date '2025-02-01', 40.0), "
        "('B@2020-01-01', date '2025-01-01', 100.0), ('B@2020-01-01', date '2025-02-01', 60.0)"
        ") as t (unit_key, period_start, denominator), "
        "(select 'online_dossier_rate' as indicator_code, 'computed' as source, "
        "'province' as unit_level, 'month' as period_grain)",
    )
    suite = Suite(shipped.name, shipped.table, shipped.description, check)
    result = run_gate(path, tmp_path / "quality", "drop", [suite])
    (outcome,) = result.outcomes
    assert (outcome.success, outcome.observed_value) == (False, "1")
    assert result.passed  # a warning does not stop publishing
    assert "fell by more than half" in outcome.describe()


def test_the_nothing_lost_check_names_a_file_that_lost_rows(tmp_path: Path) -> None:
    """The staging suite re-checks, on every refresh, that each file's rows add up."""
    [suite] = [s for s in load_suites() if s.name == "staging.load_files"]
    database = make_table(
        tmp_path / "w.duckdb",
        "staging.stg_ingest__load_files",
        "select * from (values "
        "(1, 'a.csv', 'loaded', 10, 7, 1, 2), (2, 'b.csv', 'loaded', 10, 7, 1, 1), "
        "(3, 'c.csv', 'rejected', 4, 0, 0, 4)) "
        "as t (load_id, file_name, load_status, rows_read, rows_accepted, rows_superseded, "
        "rows_quarantined)",
    )
    result = run_gate(database, tmp_path / "quality", "lost", [suite])
    [lost] = [o for o in result.outcomes if o.expectation == "unexpected_rows_expectation"]
    assert (lost.success, lost.observed_value) == (False, "1")  # b.csv: 10 read, 9 accounted for
    assert not result.passed and "nothing lost" in lost.describe()


@pytest.mark.slow  # a process of its own importing GX (4 s): out of the fast loop
def test_great_expectations_imports_in_a_python_c_process_with_pyspark_installed() -> None:
    """pyspark (the spark target's) is installed beside GX; a bare `import great_expectations`
    in a `python -c` process ends it with exit 0 halfway (pyspark's Connect check), which made a
    Dagster run that validated from one stop early. The gate's import must get through."""
    code = (
        "from de06.quality.gx_duckdb import import_great_expectations\n"
        "import_great_expectations()\n"
        "import great_expectations, pyspark\n"
        "print('imported', great_expectations.__version__, pyspark.__version__)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("imported 1.24.1 "), done.stdout + done.stderr
