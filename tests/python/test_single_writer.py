"""One writer at a time; readers of the published copy are never disturbed by a publish."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb

from de06.ingest import DOSSIER_COLUMNS
from de06.publish import publish
from de06.settings import Settings
from de06.warehouse import connect
from test_ingest import dossier_rows, write_csv


def test_concurrent_ingests_queue_instead_of_failing(settings: Settings, tmp_path: Path) -> None:
    files = [
        write_csv(
            tmp_path / f"batch{i}" / "dossiers.csv",
            list(DOSSIER_COLUMNS),
            dossier_rows({"dossier_id": f"D{i}"}),
        )
        for i in range(3)
    ]
    de06 = str(Path(sys.executable).with_name("de06"))
    env = {**os.environ, "DE06_HOME": str(settings.home)}
    procs = [
        subprocess.Popen(
            [de06, "ingest", str(f)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for f in files
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], outputs
    con = duckdb.connect(str(settings.warehouse_db), read_only=True)
    assert con.execute("select count(*) from raw.dossiers").fetchone()[0] == 3
    con.close()


def test_publish_swaps_the_file_under_open_readers(settings: Settings) -> None:
    con = connect(settings.warehouse_db)
    con.execute("create schema marts; create table marts.t as select 1 as version")
    publish(con, settings.published_db, run_id="first")
    reader = duckdb.connect(str(settings.published_db), read_only=True)
    assert reader.execute("select version from marts.t").fetchone()[0] == 1
    con.execute("create or replace table marts.t as select 2 as version")
    publish(con, settings.published_db, run_id="second")
    con.close()
    # the open reader keeps reading the database it opened, whole and without error
    assert reader.execute("select version from marts.t").fetchone()[0] == 1
    assert reader.execute("select run_id from meta.publish_log").fetchone()[0] == "first"
    reader.close()
    fresh = duckdb.connect(str(settings.published_db), read_only=True)
    assert fresh.execute("select version from marts.t").fetchone()[0] == 2
    assert fresh.execute("select run_id from meta.publish_log").fetchone()[0] == "second"
    fresh.close()
    assert not list(settings.published_db.parent.glob(".*.tmp"))
