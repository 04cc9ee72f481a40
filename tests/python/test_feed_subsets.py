"""The warehouse builds, passes its gate and publishes with any subset of the feeds present."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from conftest import make_settings
from de06.generate import GenerateConfig, generate
from de06.pipeline import refresh

pytestmark = pytest.mark.slow

SMALL = GenerateConfig(seed=5, start_month="2025-05", months=3, dossiers_per_month=400)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("subsets") / "generated"
    generate(make_settings(out.parent / "unused").seeds_dir, out, SMALL)
    return out


PARSED = "partial_parse.msgpack"


@pytest.fixture
def empty_home(generated: Path) -> Iterator[Path]:
    """An empty warehouse home, at the same path for every case, with dbt's saved parse of the
    case before: dbt reuses a saved parse only where the profile's values (the database's
    path) are the same, and parsing the whole project again costs about 10 s a case."""
    home = generated.parent / "home"
    saved = generated.parent / PARSED
    if home.exists():
        shutil.rmtree(home)
    settings = make_settings(home)
    settings.ensure_dirs()
    if saved.exists():
        settings.dbt_artifacts_dir.mkdir(parents=True, exist_ok=True)
        shutil.copy2(saved, settings.dbt_artifacts_dir / PARSED)
    yield home
    if (settings.dbt_artifacts_dir / PARSED).exists():
        shutil.copy2(settings.dbt_artifacts_dir / PARSED, saved)


@pytest.mark.parametrize(
    "feeds, present, absent",
    [
        (("submissions",), {"reported", "derived"}, {"computed"}),
        (("dossiers",), {"computed"}, {"reported"}),
        (("tasks",), {"computed", "derived"}, {"reported"}),
    ],
)
def test_any_subset_of_the_feeds_builds(
    generated: Path, empty_home: Path, feeds: tuple[str, ...], present: set[str], absent: set[str]
) -> None:
    settings = make_settings(empty_home)
    assert not settings.warehouse_db.exists()  # built from nothing
    for feed in feeds:
        shutil.copytree(generated / feed, settings.landing_dir / feed, dirs_exist_ok=True)
    result = refresh(settings, run_id="subset")
    assert result.published is not None
    with duckdb.connect(str(settings.published_db), read_only=True) as con:
        sources = {
            row[0]
            for row in con.sql("select distinct source from marts.fct_indicator_values").fetchall()
        }
        tasks = con.sql("select count(*) from marts.fct_task_progress").fetchone()
        status = con.sql("select count(*) from marts.fct_submission_status").fetchone()
    assert present <= sources, sources
    assert not absent & sources, sources
    assert (tasks is not None and tasks[0] > 0) == ("tasks" in feeds)
    # the calendar expects provinces' reports whether or not any arrived
    assert status is not None and status[0] > 0
