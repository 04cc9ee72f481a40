"""The writer lock: one writer from a refresh's build through its publish, and a dbt whose
parent was killed keeps the warehouse locked until it ends (issue 30)."""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from de06 import pipeline
from de06.quality import GateResult
from de06.settings import Settings


def locked_by_another(settings: Settings) -> bool:
    """True when a writer lock is held on another open file (this process's or another's)."""
    with pipeline.writer_lock_path(settings).open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False


def test_the_lock_is_reentrant_in_a_thread_and_exclusive_across_threads(
    settings: Settings,
) -> None:
    entered = threading.Event()
    with pipeline.writer_lock(settings):
        with pipeline.writer_lock(settings):  # the same thread: no wait for itself
            assert locked_by_another(settings)
        assert locked_by_another(settings)  # the inner exit does not let go

        def other() -> None:
            with pipeline.writer_lock(settings):
                entered.set()

        thread = threading.Thread(target=other)
        thread.start()
        assert not entered.wait(0.5)  # another thread waits, as another process does
    assert entered.wait(10)
    thread.join()
    assert not locked_by_another(settings)


def test_a_refresh_holds_one_lock_from_its_ingest_through_its_publish(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The gate and the publish took the lock each on its own: another writer could change
    the marts between the gate that checked them and the publish."""
    seen: list[str] = []

    def step(name: str, result: object = None):  # type: ignore[no-untyped-def]
        def run(*args: object, **kwargs: object) -> object:
            seen.append(f"{name}: {'locked' if locked_by_another(settings) else 'FREE'}")
            return result

        return run

    monkeypatch.setattr(pipeline, "ingest_landing", step("ingest", []))
    monkeypatch.setattr(pipeline, "build", step("build"))
    monkeypatch.setattr(pipeline, "gate", step("gate", GateResult("r")))
    monkeypatch.setattr(pipeline, "publish_marts", step("publish"))
    pipeline.refresh(settings, run_id="r")
    assert seen == ["ingest: locked", "build: locked", "gate: locked", "publish: locked"]
    assert not locked_by_another(settings)


def test_a_dbt_whose_parent_was_killed_keeps_the_warehouse_locked(
    settings: Settings, tmp_path: Path
) -> None:
    """`de06` killed with SIGKILL while its dbt runs: dbt goes on writing the warehouse. It
    used to do so without the lock, and the next refresh failed on DuckDB's own file lock
    (or wrote beside it); now dbt holds the lock it inherited until it ends."""
    started = tmp_path / "dbt.pid"
    fake_dbt = tmp_path / "dbt"
    fake_dbt.write_text(f"#!/bin/sh\necho $$ > {started}\nexec sleep 60\n")
    fake_dbt.chmod(0o755)
    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                from de06 import pipeline
                from de06.settings import Settings
                pipeline.dbt_executable = lambda: {str(fake_dbt)!r}
                settings = Settings.from_env()
                with pipeline.writer_lock(settings):
                    pipeline.run_dbt(settings, ["build"])
                """
            ),
        ],
        env={**os.environ, "DE06_HOME": str(settings.home)},
    )
    deadline = time.monotonic() + 60
    while not (started.exists() and started.read_text().strip()):
        assert time.monotonic() < deadline and parent.poll() is None
        time.sleep(0.05)
    child = int(started.read_text())
    parent.send_signal(signal.SIGKILL)
    parent.wait(timeout=30)
    try:
        assert locked_by_another(settings)  # the orphaned dbt still holds it
    finally:
        os.kill(child, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while locked_by_another(settings):
        assert time.monotonic() < deadline
        time.sleep(0.05)
