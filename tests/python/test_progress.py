"""Progress on long work: steps, a share done and an estimate; plain lines in a log, a bar
redrawn on a terminal, nothing with ``--quiet``."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from de06.ingest import DOSSIER_COLUMNS
from de06.progress import Progress
from de06.settings import Settings
from test_ingest import dossier_rows, write_csv


def test_a_log_gets_a_line_per_tenth_and_the_step_s_time() -> None:
    out = io.StringIO()
    progress = Progress(stream=out, tty=False)
    with progress.step("ingest", "3 files"):
        for done in range(0, 101):
            progress.update(done, 100, f"{done} rows")
    lines = out.getvalue().splitlines()
    assert lines[0] == "▶ ingest: 3 files"
    shares = [line for line in lines if "%" in line]
    # 0 %, then each tenth once: 11 lines, not 101
    assert len(shares) == 11, shares
    assert shares[5].strip().startswith("ingest:  50.0% 50 rows, about ")
    assert lines[-1].startswith("✓ ingest in ") and [s for s, _ in progress.steps] == ["ingest"]


def test_a_terminal_gets_a_bar_redrawn_in_place() -> None:
    out = io.StringIO()
    progress = Progress(stream=out, tty=True)
    with progress.step("build"):
        progress.update(1, 4, "1 of 4")
    text = out.getvalue()
    assert "\r\033[K[######..................] build:  25.0% 1 of 4" in text
    assert text.count("\n") == 2  # the step's start and end only


def test_a_failed_step_says_so_and_quiet_says_nothing() -> None:
    out = io.StringIO()
    progress = Progress(stream=out, tty=False)
    with pytest.raises(ValueError), progress.step("gate"):
        raise ValueError("bad")
    assert out.getvalue().splitlines()[-1].startswith("✗ gate failed after ")
    quiet = io.StringIO()
    silent = Progress(quiet=True, stream=quiet)
    with silent.step("publish"):
        silent.update(1, 2)
    assert quiet.getvalue() == "" and [s for s, _ in silent.steps] == ["publish"]


def test_de06_ingest_shows_progress_unless_quiet(settings: Settings, tmp_path: Path) -> None:
    for i in range(3):
        write_csv(
            tmp_path / "feeds" / "dossiers" / f"d{i}.csv",
            list(DOSSIER_COLUMNS),
            dossier_rows({"dossier_id": f"P{i}"}),
        )
    de06 = str(Path(sys.executable).with_name("de06"))
    env = {**os.environ, "DE06_HOME": str(settings.home)}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [de06, "ingest", *args], env=env, capture_output=True, text=True, timeout=120
        )

    loud = run(str(tmp_path / "feeds"))
    assert loud.returncode == 0, loud.stderr
    assert "▶ ingest" in loud.stderr and "3 of 3 files, 3 rows read" in loud.stderr
    assert "✓ ingest in " in loud.stderr and "▶" not in loud.stdout  # results stay on stdout
    quiet = run("--quiet", "--reload", str(tmp_path / "feeds"))
    assert quiet.returncode == 0 and quiet.stderr == "", quiet.stderr
    assert quiet.stdout.count("d0.csv") == 1  # the results are still printed


def test_the_bench_tells_its_child_s_progress_and_logs_every_line(tmp_path: Path) -> None:
    """`de06 bench scale` runs each step as a child: the child's own step lines and estimates
    are passed on, dbt's nodes become the step's share with an estimate, and the step's log
    keeps every line."""
    from de06.bench_scale import ChildLines, run_measured

    child = (
        "import functools, sys\n"
        "print = functools.partial(print, flush=True)\n"
        "print('▶ ingest: 1 path(s)', file=sys.stderr)\n"
        "print('  ingest:  50.0% 1 of 2 files, about 3 s left', file=sys.stderr)\n"
        "print('12:00:01  Running with dbt=1.11')\n"
        "for i in range(1, 5):\n"
        "    print(f'12:00:0{i}  {i} of 4 OK created sql table model x{i} [OK in 0.1s]')\n"
        "print('✓ ingest in 0.5 s', file=sys.stderr)\n"
    )
    out = io.StringIO()
    progress = Progress(stream=out, tty=False)
    progress.begin("a ingest")
    log = tmp_path / "a.log"
    seconds, peak = run_measured(
        [sys.executable, "-c", child], dict(os.environ), tmp_path, log, ChildLines(progress)
    )
    told = out.getvalue().splitlines()
    assert told[0] == "      ▶ ingest: 1 path(s)"
    assert told[1] == "      ingest:  50.0% 1 of 2 files, about 3 s left"
    nodes = [line.strip() for line in told if "dbt nodes" in line]
    assert nodes[0].startswith("a ingest:  25.0% 1 of 4 dbt nodes, about ")
    assert nodes[-1] == "a ingest: 100.0% 4 of 4 dbt nodes"
    assert told[-1] == "      ✓ ingest in 0.5 s"
    assert not any("Running with dbt" in line for line in told)
    kept = log.read_text(encoding="utf-8").splitlines()
    assert len(kept) == 8 and "Running with dbt=1.11" in kept[2]
    assert seconds > 0 and peak > 0
