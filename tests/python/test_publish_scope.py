"""A publish writes only what changed, and the gate checks what the publish writes.

The publish copies the last published file and replaces the partitions whose rows differ
(de06/publish_plan.py); the gate's mart suites check those partitions, its raw and staging
suites the loads after the last one they passed (de06/quality/scope.py). The expected figures
below are counted by hand from the rows each test writes.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from de06 import pipeline
from de06.ingest import DOSSIER_COLUMNS
from de06.pipeline import StepFailed, check_and_publish, ingest_landing
from de06.publish import publish
from de06.quality import Suite
from de06.quality.scope import EVERY_ROW
from de06.settings import Settings
from de06.warehouse import connect
from test_ingest import dossier_rows, write_csv

# three periods of ten rows each; a whole dimension; an empty mart
MARTS = """
create schema if not exists marts;
create or replace table marts.f as
    select i as id, '2025-0' || (i // 10 + 1) as period, i * 1.5 as value from range(30) t (i);
create or replace table marts.d as select i as k, 'unit ' || i as name from range(5) t (i);
create or replace table marts.e as select 1 as x where false;
"""


def rows(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple]:
    return sorted(con.execute(f"select * from {table}").fetchall())


def same_marts(con: duckdb.DuckDBPyConnection, published: Path) -> None:
    """Every mart of the warehouse, row for row, in ``published`` and nothing more."""
    con.execute(f"attach '{published}' as p (read_only)")
    try:
        tables = con.execute(
            "select table_catalog, table_name from information_schema.tables "
            "where table_schema = 'marts' order by 2"
        ).fetchall()
        mine = sorted(t for c, t in tables if c != "p")
        assert sorted(t for c, t in tables if c == "p") == mine
        for table in mine:
            assert rows(con, f"p.marts.{table}") == rows(con, f"marts.{table}"), table
    finally:
        con.execute("detach p")


def test_a_publish_writes_what_changed_and_equals_a_whole_copy(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute(MARTS)
    target = tmp_path / "published" / "p.duckdb"
    first = publish(con, target, "first")
    assert not first.incremental and first.rows_written == 30 + 5
    assert set(first.written) == {"marts.f", "marts.d", "marts.e"}

    # nothing changed: nothing written (the dimension rebuilt with the same rows included)
    con.execute("create or replace table marts.d as select i as k, 'unit ' || i as name "
                "from range(5) t (i)")  # fmt: skip
    again = publish(con, target, "again")
    assert again.incremental and again.written == {} and again.rows_written == 0

    # one value in 2025-02, 2025-01 gone, a new 2025-04 of 3 rows, the dimension grown by one
    con.execute("update marts.f set value = -1 where id = 12")
    con.execute("delete from marts.f where period = '2025-01'")
    con.execute("insert into marts.f select i, '2025-04', 0 from range(30, 33) t (i)")
    con.execute("insert into marts.d values (5, 'unit 5')")
    changed = publish(con, target, "changed")
    assert changed.written == {
        "marts.f": "marts.f: period 2025-01, 2025-02, 2025-04",
        "marts.d": "marts.d: whole",
    }
    assert changed.rows_written == 10 + 3 + 6  # 2025-02 and 2025-04 inserted, d whole
    assert changed.tables == {"marts.f": 23, "marts.d": 6, "marts.e": 0}
    same_marts(con, target)

    # a column's type changed: that mart whole; a mart dropped: gone from the published file
    con.execute("create or replace table marts.f as select id, period, value::varchar as value "
                "from marts.f")  # fmt: skip
    con.execute("drop table marts.e")
    retyped = publish(con, target, "retyped")
    assert retyped.written == {"marts.f": "marts.f: whole"}
    same_marts(con, target)
    with duckdb.connect(str(target), read_only=True) as reader:
        assert reader.execute("select run_id, written from meta.publish_log").fetchone() == (
            "retyped",
            '{"marts.f": "marts.f: whole"}',
        )
    # the file a whole copy would write holds the same rows
    whole = publish(con, tmp_path / "whole" / "p.duckdb", "whole", everything=True)
    assert not whole.incremental and whole.tables == retyped.tables
    con.close()


def test_a_published_file_without_fingerprints_is_written_anew(tmp_path: Path) -> None:
    """A file an older version published (no meta.publish_fingerprints) is not trusted."""
    target = tmp_path / "p.duckdb"
    with duckdb.connect(str(target)) as old:
        old.execute("create schema marts; create table marts.f as select 1 as stale")
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute(MARTS)
    result = publish(con, target, "new")
    assert not result.incremental and result.rows_written == 35
    same_marts(con, target)
    con.close()


def test_an_open_reader_keeps_its_snapshot_through_an_incremental_publish(
    tmp_path: Path,
) -> None:
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute(MARTS)
    target = tmp_path / "p.duckdb"
    publish(con, target, "first")
    reader = duckdb.connect(str(target), read_only=True)
    con.execute("update marts.f set value = 0 where period = '2025-03'")
    assert publish(con, target, "second").written == {"marts.f": "marts.f: period 2025-03"}
    assert reader.execute("select sum(value) from marts.f where period = '2025-03'").fetchone() == (
        sum(i * 1.5 for i in range(20, 30)),
    )
    reader.close()
    with duckdb.connect(str(target), read_only=True) as fresh:
        assert fresh.execute(
            "select sum(value) from marts.f where period = '2025-03'"
        ).fetchone() == (0,)
    con.close()


# --- the gate, scoped (Great Expectations: slow) ---------------------------------------------

THINGS = Suite(
    name="marts.f",
    table="marts.f",
    description="values are not negative",
    expectations=[
        {"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 1},
         "severity": "blocking", "whole": True},
        {"type": "unexpected_rows_expectation",
         "kwargs": {"unexpected_rows_query": "select id from {batch} where value < 0"},
         "severity": "blocking"},
    ],
    scope={"by": "partition"},
)  # fmt: skip


@pytest.mark.slow
def test_the_gate_checks_the_periods_the_publish_writes(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pipeline, "load_suites", lambda: [THINGS])
    con = connect(settings.warehouse_db)
    con.execute(MARTS)
    con.close()
    gate, published = check_and_publish(settings, "first")
    assert gate.scopes["marts.f"].label == EVERY_ROW and published.rows_written == 35

    def change(sql: str) -> None:
        with duckdb.connect(str(settings.warehouse_db)) as c:
            c.execute(sql)

    # a run rebuilds 2025-03 with a bad row: caught, in that period, and nothing published
    change("update marts.f set value = -3 where id = 25")
    with pytest.raises(StepFailed, match=r"1 row\(s\) found \(rows checked: period 2025-03\)"):
        check_and_publish(settings, "bad-march")
    with duckdb.connect(str(settings.published_db), read_only=True) as reader:
        assert reader.execute("select min(value) from marts.f").fetchone() == (0,)

    # mended, and 2025-01 tampered with although no run rebuilt it: its rows differ from the
    # published ones, so it is in scope too (a bad row cannot hide in an unchanged period)
    change("update marts.f set value = 37.5 where id = 25")
    change("update marts.f set value = -1 where id = 1")
    with pytest.raises(StepFailed, match=r"rows checked: period 2025-01\)"):
        check_and_publish(settings, "bad-january")
    change("update marts.f set value = 1.5 where id = 1")
    gate, published = check_and_publish(settings, "mended")
    # back to the published rows: nothing to check or write
    assert gate.scopes["marts.f"].skip and gate.outcomes == [] and published.written == {}

    change("update marts.f set value = 99 where id = 29")
    gate, published = check_and_publish(settings, "march")
    by_scope = {o.expectation: o.scope for o in gate.outcomes}
    assert by_scope == {
        "expect_table_row_count_to_be_between": EVERY_ROW,  # "whole": the table
        "unexpected_rows_expectation": "period 2025-03",
    }
    assert published.written == {"marts.f": "marts.f: period 2025-03"}
    # a full refresh checks every row
    gate, published = check_and_publish(settings, "full", everything=True)
    assert {o.scope for o in gate.outcomes} == {EVERY_ROW} and published.rows_written == 35


@pytest.mark.slow
def test_raw_suites_check_the_loads_after_the_last_they_passed(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shipped raw.dossiers suite: a load that fails stays in scope until it passes."""
    from de06.quality import load_suites

    [dossiers] = [s for s in load_suites() if s.name == "raw.dossiers"]
    monkeypatch.setattr(pipeline, "load_suites", lambda: [dossiers])

    def load(name: str) -> None:
        write_csv(
            settings.landing_dir / "dossiers" / f"{name}.csv",
            list(DOSSIER_COLUMNS),
            dossier_rows({"dossier_id": name}),
        )
        ingest_landing(settings)

    def scope(run_id: str) -> tuple[str, bool]:
        result = pipeline.gate(settings, run_id)
        return result.scopes["raw.dossiers"].label, result.passed

    load("D1")
    assert scope("one") == (EVERY_ROW, True)  # no mark yet: every row; the mark moves to 1
    assert scope("none") == ("no load after 1", True)
    load("D2")
    with duckdb.connect(str(settings.warehouse_db)) as con:  # a bad value in load 2
        con.execute("update raw.dossiers set channel = 'fax' where dossier_id = 'D2'")
    assert scope("two") == ("loads 2–2", False)
    load("D3")
    assert scope("three") == ("loads 2–3", False)  # load 2 is still in scope
    with duckdb.connect(str(settings.warehouse_db)) as con:
        con.execute("update raw.dossiers set channel = 'online' where dossier_id = 'D2'")
    assert scope("mended") == ("loads 2–3", True)
    assert scope("after") == ("no load after 3", True)
    # a row slipped into a load already checked (by hand: the ingest never does) changes the
    # load's count: that load is checked again
    with duckdb.connect(str(settings.warehouse_db)) as con:
        con.execute(
            "insert into raw.dossiers select * replace ('D9' as dossier_id, 'fax' as channel) "
            "from raw.dossiers where dossier_id = 'D1'"
        )
    assert scope("slipped") == ("no load after 3, and loads 1 whose rows changed", False)
    with duckdb.connect(str(settings.warehouse_db)) as con:
        con.execute("delete from raw.dossiers where dossier_id = 'D9'")
    assert scope("removed") == ("no load after 3", True)
