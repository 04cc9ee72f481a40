"""The analyst guide (docs/analysts.md) holds on the published database, and analysts can read
that database from another process while a refresh runs: no errors, every answer from a whole
publish."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from conftest import Built, make_settings, markdown_sql_statements
from de06.generate import GenerateConfig, generate
from de06.pipeline import refresh

# every test here reads the session's end-to-end build
pytestmark = pytest.mark.slow

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "analysts.md"


def guide_queries() -> list[str]:
    return markdown_sql_statements(GUIDE)


def guide_columns() -> dict[str, list[str]]:
    """Each mart section's "Columns:" lines, by the tables its heading names (in order)."""
    named: dict[str, list[str]] = {}
    for section in re.split(r"^### ", GUIDE.read_text(encoding="utf-8"), flags=re.M)[1:]:
        heading, body = section.split("\n", 1)
        tables = re.findall(r"`([\w.]+)`", heading)
        lines = re.findall(r"^Columns: (.*?)\.$", body, flags=re.M | re.S)
        if len(tables) == 1 and len(lines) == 1:
            pairs = [(tables[0], lines[0])]
        else:
            assert len(tables) == len(lines), f"{heading}: one Columns line per table"
            pairs = list(zip(tables, lines, strict=True))
        for table, line in pairs:
            name = table if "." in table else f"marts.{table}"
            named[name] = re.findall(r"`(\w+)`", line)
    return named


def test_every_guide_query_answers(published: duckdb.DuckDBPyConnection) -> None:
    queries = guide_queries()
    assert len(queries) >= 10
    empty = [q.splitlines()[0] for q in queries if not published.sql(q).fetchall()]
    assert empty == []


def test_guide_names_only_columns_the_marts_have(published: duckdb.DuckDBPyConnection) -> None:
    named = guide_columns()
    marts = {
        f"marts.{t}"
        for (t,) in published.execute(
            "select table_name from information_schema.tables where table_schema = 'marts'"
        ).fetchall()
    }
    assert marts <= set(named), f"marts the guide does not describe: {marts - set(named)}"
    for table, columns in named.items():
        have = {r[0] for r in published.execute(f"describe {table}").fetchall()}
        assert columns and set(columns) <= have, (table, sorted(set(columns) - have))


# Another process, as an analyst: until told to stop (and one round after), open the published
# database, read which refresh it is, check every table holds the rows that publish wrote, run
# the guide's queries, close, pause half a second (an analyst, not a busy loop taking a core
# from the refresh: with a fifth of a second, 179 rounds took 38 s of CPU during one refresh).
# Everything that goes wrong is written down, not raised.
READER = r"""
import json, sys, time, duckdb
from pathlib import Path
published, stop, out = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
queries = json.loads(Path(sys.argv[4]).read_text())
seen, errors, incomplete, last = {}, [], [], False
while not last:
    last = stop.exists()
    try:
        con = duckdb.connect(str(published), read_only=True)
        try:
            run_id, counts = con.execute("select run_id, row_counts from meta.publish_log").fetchone()
            for table, rows in json.loads(counts).items():
                got = con.execute(f"select count(*) from {table}").fetchone()[0]
                if got != rows:
                    incomplete.append([run_id, table, got, rows])
            answered = sum(len(con.execute(q).fetchall()) > 0 for q in queries)
        finally:
            con.close()
        seen.setdefault(run_id, []).append(answered)
    except Exception as e:
        errors.append(f"{type(e).__name__}: {e}")
    time.sleep(0.5)
import resource
cpu = resource.getrusage(resource.RUSAGE_SELF)
out.write_text(json.dumps({"seen": seen, "errors": errors, "incomplete": incomplete,
                           "cpu": cpu.ru_utime + cpu.ru_stime}))
"""


def test_analysts_read_while_a_refresh_runs(built: Built, tmp_path: Path) -> None:
    # a copy of the session's warehouse home, so the refresh changes nothing other tests read
    home = tmp_path / "home"
    shutil.copytree(built.settings.home, home)
    settings = make_settings(home)
    before = duckdb.connect(str(settings.published_db), read_only=True)
    first_run, counts_before = before.execute(
        "select run_id, row_counts from meta.publish_log"
    ).fetchone()  # type: ignore[misc]
    before.close()
    # a month after the session's data arrives, so the new publish differs from the old one
    generate(
        settings.seeds_dir,
        settings.landing_dir,
        GenerateConfig(seed=12, start_month="2026-01", months=1, dossiers_per_month=1_500),
    )
    queries_file, stop, out = tmp_path / "queries.json", tmp_path / "stop", tmp_path / "out.json"
    queries = guide_queries()
    queries_file.write_text(json.dumps(queries))
    paths = [settings.published_db, stop, out, queries_file]
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, *map(str, paths)],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(1)  # the reader is under way before the refresh starts
        result = refresh(settings, run_id="during-reads")
        stop.touch()
        _, stderr = reader.communicate(timeout=120)
    finally:
        if reader.poll() is None:
            reader.kill()
    assert reader.returncode == 0, stderr
    report = json.loads(out.read_text())
    rounds = sum(len(r) for r in report["seen"].values())
    print(f"the reader: {rounds} rounds, {report['cpu']:.1f} s of CPU")
    assert report["errors"] == []
    assert report["incomplete"] == []
    seen = report["seen"]
    # it read the old publish while the refresh ran, and the new one after it
    assert set(seen) == {first_run, "during-reads"}
    assert len(seen[first_run]) >= 3
    # every round answered every query (the new month adds rows, it takes none away)
    assert {n for rounds in seen.values() for n in rounds} == {len(queries)}
    counts_after = result.published.tables
    assert sum(counts_after.values()) > sum(json.loads(counts_before).values())
