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


PARENT = """
import subprocess, sys, time
child = subprocess.Popen(sys.argv[1:])
print(child.pid, flush=True)
time.sleep(120)
"""


def alive(pid: int) -> bool:
    """Running (a zombie waiting to be reaped has ended)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def child_after_parent_killed(command: list[str]) -> bool:
    """Start ``command`` from a parent process, kill the parent with SIGKILL once the child
    runs ``sleep``; True when the child is still running 1 s later (then it is killed). The
    kernel sends the parent-death signal as the parent exits: a child that dies of it is gone
    in milliseconds."""
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, *command], stdout=subprocess.PIPE, text=True
    )
    assert parent.stdout is not None
    pid = int(parent.stdout.readline())
    deadline = time.monotonic() + 10
    while not Path(f"/proc/{pid}/cmdline").read_bytes().startswith(b"sleep\0"):
        assert time.monotonic() < deadline, "the child never became sleep"
        time.sleep(0.05)
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 1
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    survived = alive(pid)
    if survived:
        os.kill(pid, signal.SIGKILL)
    return survived


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl(PR_SET_PDEATHSIG)")
def test_a_child_started_through_de06_dbt_dies_with_its_parent() -> None:
    """Dagster's dbt steps start `de06-dbt` (dagster-dbt passes it no descriptor of the writer
    lock): when the step's process is killed, the kernel kills the dbt it started, which would
    otherwise write on without the lock. A plain child outlives the same kill."""
    assert Path(pipeline.dbt_executable(dying_with_parent=True)).name == "de06-dbt"
    dying = [
        sys.executable,
        "-c",
        "from de06.child import exec_dying_with_parent as e; e(['sleep', '30'])",
    ]
    assert child_after_parent_killed(dying) is False
    assert child_after_parent_killed(["sleep", "30"]) is True
