"""Crashes during ingest: a process killed with SIGKILL part way loses nothing, leaves nothing
that stops the next run, and the next run ends where a clean one does (issue 30)."""

from __future__ import annotations

import hashlib
import os
import re
import resource
import shutil
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from conftest import TEST_KEY, make_settings
from de06.generate import GenerateConfig, generate
from de06.ingest import ingest, iter_feed_files
from de06.pipeline import ingest_landing
from de06.settings import Settings

# small, with every feed and both dossier formats (the last month as CSV)
CONFIG = GenerateConfig(
    seed=23, start_month="2025-05", months=3, dossiers_per_month=400, provinces=6, csv_months=1
)
RAW = ("dossiers", "submissions", "tasks", "quarantine")


@pytest.fixture(scope="module")
def feeds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("crash_feeds")
    generate(make_settings(root / "unused").seeds_dir, root / "feeds", CONFIG)
    return root / "feeds"


def digests(folder: Path) -> list[str]:
    return sorted(
        hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.rglob("*") if p.is_file()
    )


def feed_files(folder: Path) -> list[Path]:
    return list(iter_feed_files([folder]))


def raw_state(settings: Settings) -> dict[str, object]:
    """What a load leaves in raw: each table's rows (without the load ids, which depend on
    the order files came in), and the files recorded as loaded."""
    con = duckdb.connect(str(settings.warehouse_db), read_only=True)
    try:
        state: dict[str, object] = {}
        for table in RAW:
            columns = [
                name
                for (name,) in con.execute(
                    "select column_name from duckdb_columns() "
                    "where schema_name = 'raw' and table_name = ? "
                    "and column_name not in ('load_id', '_load_id', '_superseded_by_load_id') "
                    "order by column_index",
                    [table],
                ).fetchall()
            ]
            listed = ", ".join(f'"{c}"' for c in columns)
            state[table] = con.execute(
                f"select count(*), sum(hash(row({listed}))) from raw.{table}"
            ).fetchone()
        state["superseded"] = con.execute(
            "select count(*) from raw.dossiers where _superseded_by_load_id is not null"
        ).fetchone()
        state["loaded"] = con.execute(
            "select list(content_hash order by content_hash) from raw.load_files "
            "where status = 'loaded'"
        ).fetchone()
        return state
    finally:
        con.close()


@pytest.fixture(scope="module")
def clear_ids(feeds: Path) -> set[bytes]:
    """The applicants' IDs in the feeds, as they are written there."""
    con = duckdb.connect()
    try:
        found = set()
        for path in (feeds / "dossiers").iterdir():
            reader = (
                "read_parquet(?)"
                if path.suffix == ".parquet"
                else "read_csv(?, all_varchar = true)"
            )
            found |= {
                str(r[0]).encode()
                for r in con.execute(
                    f"select distinct applicant_id from {reader} where applicant_id is not null",
                    [str(path)],
                ).fetchall()
            }
    finally:
        con.close()
    # citizen IDs (12 digits) and businesses' tax codes (10)
    assert len(found) > 500 and {len(i) for i in found} == {10, 12}
    assert len(files_holding(feeds / "dossiers", found)) > 1  # the scan sees them where they are
    return found


def files_holding(folder: Path, ids: set[bytes]) -> list[str]:
    """The files under ``folder`` with any of ``ids`` in their bytes (a run of 10 or 12 digits)."""
    return [
        str(p.relative_to(folder))
        for p in sorted(folder.rglob("*"))
        if p.is_file()
        and ids & set(re.findall(rb"(?<![0-9])(?:[0-9]{12}|[0-9]{10})(?![0-9])", p.read_bytes()))
    ]


@pytest.fixture(scope="module")
def clean(feeds: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """The raw layer after one uninterrupted ingest of the feeds."""
    settings = make_settings(tmp_path_factory.mktemp("crash_clean"))
    settings.ensure_dirs()
    with pytest.MonkeyPatch.context() as patch:  # the tests' key (conftest), set per test
        patch.setenv("DE06_PSEUDONYM_KEY", TEST_KEY)
        ingest(settings, feed_files(feeds))
    return raw_state(settings)


@pytest.mark.slow
@pytest.mark.parametrize("after", [0.9, 1.6, 2.4, 3.4])
def test_a_kill_during_ingest_then_an_ingest_equals_a_clean_ingest(
    feeds: Path, clean: dict[str, object], clear_ids: set[bytes], tmp_path: Path, after: float
) -> None:
    """`de06 ingest` killed with SIGKILL ``after`` seconds in (in the import, in the first
    file's transaction, between files, ...: wherever it is, the assertion is the same), then
    run again to the end: the raw layer equals a clean ingest's, row for row. Before load ids
    were drawn inside the transaction, the run after a kill failed on a duplicate load id."""
    settings = make_settings(tmp_path / "home")
    settings.ensure_dirs()
    folder = tmp_path / "feeds"
    shutil.copytree(feeds, folder)
    de06 = str(Path(sys.executable).with_name("de06"))
    env = {**os.environ, **settings.dbt_env(), "DE06_HOME": str(settings.home)}
    proc = subprocess.Popen(
        [de06, "ingest", str(folder)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    time.sleep(after)
    killed = proc.poll() is None
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    again = subprocess.run(
        [de06, "ingest", str(folder)], env=env, capture_output=True, text=True, timeout=300
    )
    assert again.returncode == 0, again.stdout[-2000:] + again.stderr[-2000:]
    assert raw_state(settings) == clean, f"killed mid-run: {killed}"
    # no citizen ID reached any file of the home, the kill's leftovers included: the database
    # and its WAL hold pseudonyms only, the IDs' CSV went through no table in the clear
    assert files_holding(settings.home, clear_ids) == []


def test_files_loaded_before_a_kill_are_archived_not_deleted(feeds: Path, tmp_path: Path) -> None:
    """A refresh killed after its load committed and before the files reached the archive:
    the next one finds them already loaded, and moves them to the archive too (they were
    deleted: the only copy of their bytes lost)."""
    settings = make_settings(tmp_path / "home")
    settings.ensure_dirs()
    some = feed_files(feeds)[:2]
    for path in some:
        target = settings.landing_dir / path.relative_to(feeds)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    expected = digests(settings.landing_dir)
    ingest(settings, feed_files(settings.landing_dir))  # loaded; the archive step never ran
    reports = ingest_landing(settings)
    assert [r.status for r in reports] == ["already_loaded"] * len(some)
    assert feed_files(settings.landing_dir) == []
    assert digests(settings.archive_dir) == expected
    archived = [p for p in settings.archive_dir.rglob("*") if p.is_file()]
    assert {stat.S_IMODE(p.stat().st_mode) for p in archived} == {0o600}  # citizen IDs inside


FULL_DISK = """
import resource, signal, sys
from de06.pipeline import StepFailed, publish_marts
from de06.settings import Settings
# the disk fills while the copy is written: the file-size limit fails a write as a full disk
# does (the signal it sends is ignored, so the write returns an error instead)
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
limit = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
try:
    publish_marts(Settings.from_env(), "full-disk")
except StepFailed as exc:
    print(exc)
    sys.exit(3)
"""


def test_a_publish_that_meets_a_full_disk_or_a_killed_one_leaves_the_published_copy(
    tmp_path: Path,
) -> None:
    """A publish killed part way leaves its half-written copy: the next publish removes it. A
    publish that meets a full disk says so (no traceback), removes its half-written copy, and
    the published database is the one before, byte for byte."""
    from de06.pipeline import publish_marts
    from de06.warehouse import connect

    settings = make_settings(tmp_path / "home")
    settings.ensure_dirs()
    con = connect(settings.warehouse_db)
    con.execute("create schema marts; create table marts.small as select 1 as a")
    con.close()
    publish_marts(settings, "first")
    before = hashlib.sha256(settings.published_db.read_bytes()).hexdigest()
    con = connect(settings.warehouse_db)
    con.execute(
        "create table marts.big as select range as a, md5(range::varchar) as b from range(400000)"
    )
    con.close()
    folder = settings.published_db.parent
    killed = [folder / ".de06.duckdb.4242.tmp", folder / ".de06.duckdb.4242.tmp.wal"]
    for path in killed:
        path.write_bytes(b"half written")
    limit = 2**20  # under the copy (the warehouse is only read: its file does not grow)
    env = {**os.environ, **settings.dbt_env(), "DE06_HOME": str(settings.home)}
    proc = subprocess.run(
        [sys.executable, "-c", FULL_DISK, str(limit)], env=env, capture_output=True, text=True
    )
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "publish failed: IO Error" in proc.stdout and "File too large" in proc.stdout
    assert "the published database was left as it was" in proc.stdout
    assert sorted(p.name for p in folder.iterdir()) == ["de06.duckdb"]
    assert hashlib.sha256(settings.published_db.read_bytes()).hexdigest() == before
    # with room, the same publish goes through
    assert publish_marts(settings, "second").tables["marts.big"] == 400000


def _disk_fills_at(limit: int) -> Callable[[], None]:
    def apply() -> None:  # in the child, before exec: the signal's disposition is inherited
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def test_an_ingest_that_meets_a_full_disk_says_so_and_the_next_loads_everything(
    feeds: Path, clean: dict[str, object], tmp_path: Path
) -> None:
    """The disk fills during `de06 ingest`: a message naming what ran out, no traceback, exit 1,
    no file refused for it; once there is room, the next ingest ends where a clean one does."""
    settings = make_settings(tmp_path / "home")
    settings.ensure_dirs()
    de06 = str(Path(sys.executable).with_name("de06"))
    env = {**os.environ, **settings.dbt_env(), "DE06_HOME": str(settings.home)}
    full = subprocess.run(
        [de06, "ingest", str(feeds)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=_disk_fills_at(100_000),
    )
    assert full.returncode == 1, full.stdout + full.stderr
    assert "de06 ingest FAILED:" in full.stderr and "File too large" in full.stderr, full.stderr
    assert "Traceback" not in full.stderr
    again = subprocess.run(
        [de06, "ingest", str(feeds)], env=env, capture_output=True, text=True, timeout=300
    )
    assert again.returncode == 0, again.stdout[-2000:] + again.stderr[-2000:]
    assert "REJECTED" not in again.stdout
    assert raw_state(settings) == clean
