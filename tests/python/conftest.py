"""Shared fixtures: isolated warehouse homes and one warehouse built end to end per session."""

from __future__ import annotations

import json
import os
import re
import resource
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from de06.generate import GenerateConfig, generate
from de06.pipeline import RefreshResult, refresh
from de06.settings import Settings

TEST_KEY = "test-pseudonym-key"
# small but complete: every province before and after 1 July 2025, 18 months
# the unit × period models, incremental by period (macros/incremental_periods.sql)
PERIOD_CHAIN_INTERMEDIATE = [
    "int_indicator_values__dossiers",
    "int_indicator_values__assessed",
    "int_indicator_values__target_attainment",
    "int_index_766__measures",
    "int_index_766__composite_terms",
    "int_index_766__components",
    "int_index_766__scores",
]
PERIOD_CHAIN_MARTS = [
    "fct_indicator_values",
    "fct_indicator_values_current_units",
    "fct_index_766",
    "fct_index_766_what_if",
]
E2E_CONFIG = GenerateConfig(seed=11, start_month="2024-07", months=18, dossiers_per_month=2_500)


# What runs first when the suite is spread over workers (`pytest -n 2`, as `make test` does):
# the longest units, so that the workers finish together. A unit is a module, or every test
# that reads the session's end-to-end build (`built`), which one worker builds once.
E2E_GROUP = "e2e"
LONGEST_FIRST = (
    "test_spark",
    E2E_GROUP,
    "test_dagster",
    "test_incremental",
    "test_feed_subsets",
    "test_dagster_ui",
    "test_bench_scale",
)


@pytest.hookimpl(tryfirst=True)  # before `-m "not slow"` deselects
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test that reads the session's end-to-end build is slow (the build takes a minute and a
    half): the fast loop, `pytest -m "not slow"`, never builds it. Each test also gets its
    xdist group (its module, or the end-to-end group), and the longest groups run first."""
    groups: dict[str, str] = {}
    for item in items:
        group = item.module.__name__ if item.module else item.nodeid.split("::")[0]
        if "built" in getattr(item, "fixturenames", ()):
            group = E2E_GROUP
            item.add_marker(pytest.mark.slow)
        item.add_marker(pytest.mark.xdist_group(group))
        groups[item.nodeid] = group

    def rank(item: pytest.Item) -> int:
        group = groups[item.nodeid]
        return LONGEST_FIRST.index(group) if group in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)  # stable: the collection order within a rank


def pytest_collection_finish(session: pytest.Session) -> None:
    """Under `--dist loadgroup` each worker marks its tests' node ids with their group, and the
    scheduler sends a group to one worker. When a pytest release stops the marking (pytest 9.2
    did: pytest-xdist issue 1386) the groups are lost without a word, and both workers build
    the same end-to-end warehouse and the same Spark: refuse to run instead."""
    if not getattr(session.config.option, "loadgroup", False) or not session.items:
        return
    if not any("@" in item.nodeid for item in session.items):
        raise pytest.UsageError(
            "pytest-xdist's --dist loadgroup lost the test groups with this pytest "
            f"({pytest.__version__}): install the pinned one (requirements.lock)"
        )


def _cpu_seconds() -> float:
    own, children = (
        resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """With DE06_TEST_CPU_LOG set to a file, each test appends a JSON line: its node id and the
    CPU seconds (this process and the subprocesses it waited for) and wall seconds of its setup,
    call and teardown. On two cores the suite's wall time follows its CPU time, not its waits:
    docs/testing.md reads the suite's costs from this log."""
    log = os.environ.get("DE06_TEST_CPU_LOG")
    cpu, wall = _cpu_seconds(), time.monotonic()
    yield
    if log:
        line = {
            "test": item.nodeid,
            "cpu": round(_cpu_seconds() - cpu, 2),
            "wall": round(time.monotonic() - wall, 2),
        }
        with open(log, "a", encoding="utf-8") as out:
            out.write(json.dumps(line) + "\n")


@pytest.fixture(autouse=True)
def _environment_as_found() -> Iterator[None]:
    """Importing the Dagster definitions sets dbt's variables (the warehouse's paths) in
    os.environ (de06/defs/dbt.py), once per process. A test that imports them would leave its
    paths to every later test on its worker: take back what a test added."""
    before = set(os.environ)
    yield
    for name in set(os.environ) - before:
        if name.startswith(("DE06_", "DBT_")):
            del os.environ[name]


def make_settings(home: Path, **extra: str) -> Settings:
    env = {
        **os.environ,
        "DE06_HOME": str(home),
        "DE06_DBT_TARGET_PATH": str(home / "dbt_target"),
        **extra,
    }
    # every test home is its own world: no database or Dagster instance from outside it
    # (.ci/run exports DAGSTER_HOME for the whole job)
    for name in ("DE06_WAREHOUSE_DB", "DE06_PUBLISHED_DB", "DAGSTER_HOME"):
        if name not in extra:
            env.pop(name, None)
    return Settings.from_env(env)


@pytest.fixture(autouse=True)
def _pseudonym_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DE06_PSEUDONYM_KEY", TEST_KEY)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    s = make_settings(tmp_path / "home")
    s.ensure_dirs()
    return s


@dataclass
class Built:
    settings: Settings
    generated: Path
    result: RefreshResult


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    """Generate, ingest, dbt build, gate and publish once for the whole session."""
    os.environ["DE06_PSEUDONYM_KEY"] = TEST_KEY
    home = tmp_path_factory.mktemp("e2e") / "home"
    settings = make_settings(home)
    settings.ensure_dirs()
    generated = home.parent / "generated"
    generate(settings.seeds_dir, generated, E2E_CONFIG)
    # the landing folder gets a copy; the originals stay for independent recomputation
    import shutil

    shutil.copytree(generated, settings.landing_dir, dirs_exist_ok=True)
    result = refresh(settings, run_id="e2e")
    yield Built(settings, generated, result)


@pytest.fixture(scope="session")
def dbt_manifest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """dbt's manifest from one `dbt parse` for the whole session: the Dagster definitions read it
    when imported, and it is the same for every warehouse home (a parse costs ~10 s)."""
    from de06.pipeline import run_dbt

    settings = make_settings(tmp_path_factory.mktemp("dbt_parse") / "home")
    settings.ensure_dirs()
    run_dbt(settings, ["parse", "--quiet"])
    return settings.dbt_target_dir / "manifest.json"


@pytest.fixture(scope="module")
def published(built: Built) -> Iterator[duckdb.DuckDBPyConnection]:
    """The session's published database, read-only, as an analyst opens it."""
    con = duckdb.connect(str(built.settings.published_db), read_only=True)
    yield con
    con.close()


def markdown_sql_statements(path: Path) -> list[str]:
    """Every statement of the ```sql blocks of a Markdown file (README, analyst guide)."""
    blocks = re.findall(r"```sql\n(.*?)```", path.read_text(encoding="utf-8"), flags=re.S)
    return [s.strip() for block in blocks for s in block.split(";") if s.strip()]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(cmd: list[str], env: dict[str, str], ready_url: str, log: Path, timeout: float):
    """Start a local server (its own session, so the children it starts stop with it), wait
    until ``ready_url`` answers 200, and kill the whole session afterwards (some of them ignore
    SIGTERM)."""
    with log.open("w") as out:
        proc = subprocess.Popen(
            cmd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    with urllib.request.urlopen(ready_url, timeout=5) as response:
                        if response.status == 200:
                            break
                except OSError:
                    pass
                assert proc.poll() is None, log.read_text()[-3000:]
                assert time.monotonic() < deadline, f"{cmd[:2]} did not start in {timeout:.0f} s"
                time.sleep(0.5)
            yield proc
        finally:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)


def vn_percent(fraction: float) -> str:
    """99,07% — written here, not imported from the project, so its formatting is checked."""
    return f"{fraction * 100:.2f}".replace(".", ",") + "%"
