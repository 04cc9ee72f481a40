"""Child processes that die with their parent.

A writer started by the project (dbt, by ``de06`` or by Dagster's dbt steps) must not outlive
the process holding the writer lock: a dbt left writing after its parent was killed would hold
DuckDB's file lock, and the next refresh would fail on it instead of waiting. ``de06`` passes
its lock to the dbt it starts (``pipeline.run_dbt``: the lock outlives the parent as long as
the child holds it). dagster-dbt starts dbt itself and closes every other descriptor, so its
executable is ``de06-dbt``: this module's ``dbt_main``, which asks the kernel to kill it when
its parent dies and then becomes dbt.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from pathlib import Path
from typing import NoReturn

PR_SET_PDEATHSIG = 1  # linux/prctl.h


def die_with_parent() -> bool:
    """SIGKILL this process when the thread that started it ends (Linux; kept across exec).
    False where the kernel offers no such request."""
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    return int(libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)) == 0


def exec_dying_with_parent(argv: list[str]) -> NoReturn:
    """Become ``argv`` (searched on PATH), killed when the parent dies."""
    parent = os.getppid()
    die_with_parent()
    # the parent died before the request took hold (or before this process asked: then it
    # was handed to init already)
    if os.getppid() != parent or parent == 1:
        os._exit(137)
    os.execvp(argv[0], argv)


def dbt_main() -> NoReturn:
    """``de06-dbt``: the dbt installed beside this code, dying with the process that started it."""
    exec_dying_with_parent([str(Path(sys.executable).with_name("dbt")), *sys.argv[1:]])
