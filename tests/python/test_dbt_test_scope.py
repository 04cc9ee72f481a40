"""dbt's dossier tests check the dossiers loaded since they last passed (macros/test_scope.sql).

On a copy of the session's warehouse (its refresh passed every test: each test's mark is its
newest load), one dossier of int_dossiers__enriched is duplicated as a row of a new load,
another as a row of an old one. The scoped test finds the first; the second when the run
recomputes its month, or once every row is tested (no mark: also a full refresh or a change to
the test's code). The staging versions' row tests, likewise, see a bad row of a new load, and
one of an old load only once every row is tested.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb

from conftest import Built, make_settings
from de06.pipeline import run_dbt

SCOPED = [
    "int_dossiers__current",
    "int_dossiers__enriched",
    "int_dossier_reconciliation__pairs",
    "tag:dossier_scope",
    "stg_dossier_feed__dossier_versions",
]
UNIQUE_ENRICHED = "unique_combination_of_columns_int_dossiers__enriched_source_system__dossier_id"
CURRENT = "assert_every_dossier_has_one_current_version"
NOT_NULL = "not_null_stg_dossier_feed__dossier_versions_agency_code"


def test_the_dossier_tests_check_what_was_loaded_since_they_passed(
    built: Built, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path / "home")
    settings.ensure_dirs()
    shutil.copy2(built.settings.warehouse_db, settings.warehouse_db)

    def query(sql: str) -> list[tuple]:
        with duckdb.connect(str(settings.warehouse_db)) as con:
            return con.execute(sql).fetchall()

    def mark(test: str = UNIQUE_ENRICHED) -> tuple:
        [row] = query(
            "select through_load_id, invocation_id from intermediate.dossier_test_marks "
            f"where split_part(test_id, '.', 3) = '{test}'"  # test.de06.<name>[.<hash>]
        )
        return row

    def test(*args: str) -> dict[str, tuple[str, int]]:
        run_dbt(settings, ["test", "--select", *SCOPED, *args], check=False)
        results = json.loads((settings.dbt_target_dir / "run_results.json").read_text())
        return {
            r["unique_id"].split(".")[2]: (r["status"], r["failures"])
            for r in results["results"]
            if r["unique_id"].startswith("test.")
        }

    def failing(results: dict[str, tuple[str, int]]) -> dict[str, tuple[str, int]]:
        return {name: result for name, result in results.items() if result[0] != "pass"}

    [(newest,)] = query("select max(load_id) from raw.load_files")
    through, first_invocation = mark()
    assert through == newest  # the session's refresh passed every test
    [(new, _), (old, old_month)] = query(
        "select dossier_id, strftime(received_month, '%Y-%m-01') "
        "from intermediate.int_dossiers__enriched order by dossier_id limit 2"
    )
    for dossier_id, load_id in ((new, newest + 1), (old, 1)):
        query(
            "insert into intermediate.int_dossiers__enriched select * replace "
            f"({load_id} as load_id) from intermediate.int_dossiers__enriched "
            f"where dossier_id = '{dossier_id}' limit 1"
        )

    # the scoped test finds the new load's duplicate, not the old one's; a test that is not
    # scoped sees both (the monthly counts hold two dossiers too many)
    assert failing(test()) == {
        UNIQUE_ENRICHED: ("fail", 1),
        "assert_months_hold_every_dossier": ("fail", 1),
    }
    assert mark() == (through, first_invocation)  # a failed test keeps its mark
    assert mark(CURRENT)[1] != first_invocation  # one that passed moves it

    query(f"delete from intermediate.int_dossiers__enriched where load_id = {newest + 1}")
    # a run that recomputes the old duplicate's month (a Dagster partition) tests that month too
    in_month = test("--vars", f"{{dossier_months_from: '{old_month}'}}")
    assert in_month[UNIQUE_ENRICHED] == ("fail", 1)
    # otherwise the old duplicate is not the scoped test's to see: it passes, its mark moves
    assert failing(test()) == {"assert_months_hold_every_dossier": ("fail", 1)}
    assert mark()[1] != first_invocation

    # a row test of the staging versions checks the rows of new loads: a missing agency in an
    # old load's row is not its to see (edited in place: not a thing the ingest does), in a
    # new load's row it is
    query(
        "update raw.dossiers set agency_code = null "
        "where rowid = (select min(rowid) from raw.dossiers where _load_id = 1)"
    )
    assert NOT_NULL not in failing(test())
    query(
        f"insert into raw.dossiers select * replace ({newest + 1} as _load_id) "
        "from raw.dossiers where agency_code is null"
    )
    assert failing(test())[NOT_NULL] == ("fail", 1)

    query("drop table intermediate.dossier_test_marks")  # no mark: every row
    everything = test()
    assert everything[UNIQUE_ENRICHED] == ("fail", 1)  # the old load's duplicate
    assert everything[NOT_NULL] == ("fail", 2)  # and the old load's missing agency
