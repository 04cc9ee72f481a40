"""``de06 bench dagster``: the whole refresh through Dagster against the same steps run directly.

One data set is generated once and copied into two fresh warehouse homes. In each, the refresh
runs twice, each time in a process of its own: first with all the data waiting in the landing
folder, then with nothing new (the fixed cost of a run). Directly means ``de06 refresh``; through
Dagster means the ``refresh`` job in-process for the current month, as the daily schedule runs
it. The overhead is Dagster's wall time over the direct one, minus one; the aim is under a third.
Dagster's slowest steps are listed from the run's step statistics.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from de06.generate import GenerateConfig, generate
from de06.settings import Settings

# run in a child process with the home's environment; prints one JSON line
DAGSTER_RUN = """
import json, sys
import dagster as dg
from de06.defs.definitions import defs
from de06.defs.runs import refresh_current_month

with dg.DagsterInstance.get() as instance:
    result = refresh_current_month(defs, instance, tags={"de06/trigger": "bench"})
    stats = instance.get_run_step_stats(result.run_id)
steps = sorted(
    ((s.step_key, (s.end_time or 0) - (s.start_time or 0)) for s in stats),
    key=lambda s: -s[1],
)
print("BENCH " + json.dumps({"success": result.success, "steps": steps}))
"""


@dataclass
class Round:
    """One refresh: which way, which run (1 = all data, 2 = nothing new), wall seconds."""

    way: str
    run: int
    seconds: float
    steps: list[tuple[str, float]] = field(default_factory=list)


def generate_apart(seeds_dir: Path, out: Path, config: GenerateConfig) -> dict[str, object]:
    """``generate`` in a process of its own, so that the benchmark stays small: a child
    inherits its parent's resident high-water mark across fork and exec, and ``wait4``
    reports it as the child's peak (at 50 M dossiers the generator left the benchmark at
    8.9 GB, and every step reported 8,917 MB, DuckDB's read of the files among them)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(generate, seeds_dir, out, config).result()


def home_env(settings: Settings) -> dict[str, str]:
    """The environment of a child process working on ``settings``' home."""
    env = {
        **os.environ,
        **settings.dagster_env(),
        "DE06_HOME": str(settings.home),
        "DE06_DBT_TARGET_PATH": str(settings.dbt_target_dir),
    }
    for name in ("DE06_WAREHOUSE_DB", "DE06_PUBLISHED_DB"):
        env.pop(name, None)  # each home keeps its own databases
    return env


def fresh_home(root: Path, name: str, landing_from: Path | None = None) -> Settings:
    """A fresh warehouse home under ``root`` (with a copy of ``landing_from`` waiting to load)."""
    home = root / name
    shutil.rmtree(home, ignore_errors=True)
    env = {
        k: v for k, v in os.environ.items() if k not in ("DE06_WAREHOUSE_DB", "DE06_PUBLISHED_DB")
    }
    env.update({"DE06_HOME": str(home), "DE06_DBT_TARGET_PATH": str(home / "dbt_target")})
    env.pop("DAGSTER_HOME", None)
    settings = Settings.from_env(env)
    settings.ensure_dirs()
    settings.write_dagster_instance_config()
    if landing_from is not None:
        shutil.copytree(landing_from, settings.landing_dir, dirs_exist_ok=True)
    return settings


def _timed(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[float, str]:
    started = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(
            f"{' '.join(cmd[:3])} failed (exit {proc.returncode}):\n{proc.stdout[-3000:]}"
            f"\n{proc.stderr[-3000:]}"
        )
    return seconds, proc.stdout


def bench_dagster(root: Path, config: GenerateConfig) -> dict[str, object]:
    """Generate once, refresh twice each way; return the figures (also printed)."""
    root.mkdir(parents=True, exist_ok=True)
    data = root / "generated"
    shutil.rmtree(data, ignore_errors=True)
    seeds = Settings.from_env().seeds_dir
    summary = generate(seeds, data, config)
    direct = fresh_home(root, "direct", data)
    dagster = fresh_home(root, "dagster", data)
    de06 = str(Path(sys.executable).with_name("de06"))
    rounds: list[Round] = []
    for run in (1, 2):
        seconds, _ = _timed([de06, "refresh"], home_env(direct), direct.home)
        rounds.append(Round("direct", run, seconds))
        print(f"  direct  run {run}: {seconds:7.1f} s", flush=True)
        if run == 1:  # the definitions read the dbt manifest at import
            _timed([de06, "dbt", "parse", "--quiet"], home_env(dagster), dagster.home)
        seconds, out = _timed([sys.executable, "-c", DAGSTER_RUN], home_env(dagster), dagster.home)
        line = next(x for x in out.splitlines() if x.startswith("BENCH "))
        result = json.loads(line.removeprefix("BENCH "))
        if not result["success"]:
            raise RuntimeError(f"the Dagster refresh failed in {dagster.home}")
        rounds.append(Round("dagster", run, seconds, [tuple(s) for s in result["steps"][:6]]))
        print(f"  dagster run {run}: {seconds:7.1f} s", flush=True)
    figures: dict[str, object] = {
        "dossier_rows": summary["dossier_rows"],
        "config": asdict(config),
        "rounds": [asdict(r) for r in rounds],
    }
    for run in (1, 2):
        d = next(r.seconds for r in rounds if r.way == "direct" and r.run == run)
        g = next(r.seconds for r in rounds if r.way == "dagster" and r.run == run)
        figures[f"overhead_run{run}"] = g / d - 1
    return figures


def report(figures: dict[str, object]) -> str:
    rounds = figures["rounds"]
    assert isinstance(rounds, list)
    lines = [f"dossier rows generated: {figures['dossier_rows']:,}"]
    lines.append(f"{'run':<28}{'direct':>10}{'dagster':>10}{'overhead':>10}")
    for run, label in ((1, "1: all data waiting"), (2, "2: nothing new")):
        d = next(r["seconds"] for r in rounds if r["way"] == "direct" and r["run"] == run)
        g = next(r["seconds"] for r in rounds if r["way"] == "dagster" and r["run"] == run)
        lines.append(f"{label:<28}{d:>9.1f}s{g:>9.1f}s{g / d - 1:>9.0%}")
    for r in rounds:
        if r["way"] == "dagster":
            slowest = ", ".join(f"{k} {s:.1f}s" for k, s in r["steps"][:4])
            lines.append(f"dagster run {r['run']} slowest steps: {slowest}")
    return "\n".join(lines)
