"""Benchmark: the quality gate on millions of dossier rows, next to ingest and ``dbt build``.

Not a test (nothing here asserts a time): it prints figures measured in one run on one machine.
Each step runs in its own process so that its peak memory (max RSS, from ``wait4``) is its own:

1. generate the sample feeds (``de06 generate``) sized to about ``--rows`` raw dossier rows;
2. ``de06 ingest`` them;
3. ``dbt build`` (seeds, models, dbt tests, unit tests);
4. the raw dossier suite alone, through Great Expectations' SQL data source inside DuckDB,
   twice (the first run also creates the GX project and Data Docs site);
5. the whole gate (every suite: raw feeds and marts);
6. the baseline the gate replaced: the raw dossier table loaded into pandas (what GX's pandas
   path starts with), on the same data. ``--skip-pandas`` leaves it out.

    .venv/bin/python tests/benchmarks/quality_at_scale.py --rows 10000000 --home /tmp/bench

Results go to stdout and to ``<home>/benchmark.json``; docs/design.md quotes them.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROWS_PER_DOSSIER = 2.2  # provincial versions plus the national portal's copies (measured)
MONTHS = 24


def run_step(name: str, code: str, env: dict[str, str]) -> dict[str, float | str]:
    """Run ``code`` in a fresh Python process; wall time and the child's own peak RSS."""
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    code_ = os.waitstatus_to_exitcode(status)
    if code_ != 0:
        raise SystemExit(f"step {name} failed with exit {code_}")
    peak_mb = usage.ru_maxrss / 1024  # Linux: kilobytes
    print(f"== {name}: {seconds:,.1f} s, peak {peak_mb:,.0f} MB", flush=True)
    return {"step": name, "seconds": round(seconds, 1), "peak_mb": round(peak_mb)}


def gate_step(name: str, run_id: str, env: dict[str, str], raw_only: bool = False) -> dict:
    """The quality gate (or its raw dossier suite only), as ``de06 refresh`` runs it."""
    pick = '[s for s in load_suites() if s.name == "raw.dossiers"]' if raw_only else "None"
    return run_step(
        name,
        f"""
        from de06.pipeline import gate
        from de06.quality import load_suites
        from de06.settings import Settings
        result = gate(Settings.from_env(), "{run_id}", {pick})
        print(len(result.outcomes), "expectations,", len(result.blocking_failures), "failed")
        """,
        env,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="raw dossier rows, about")
    parser.add_argument("--home", type=Path, default=None, help="DE06_HOME for the run")
    parser.add_argument("--skip-pandas", action="store_true")
    args = parser.parse_args()
    home = (args.home or Path(tempfile.mkdtemp(prefix="de06-bench-"))).resolve()
    home.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "DE06_HOME": str(home), "DAGSTER_HOME": str(home / "dagster")}
    per_month = math.ceil(args.rows / ROWS_PER_DOSSIER / MONTHS)
    steps = [
        run_step(
            "generate",
            f"""
            from de06.generate import GenerateConfig, generate
            from de06.settings import Settings
            s = Settings.from_env()
            generate(s.seeds_dir, s.landing_dir,
                     GenerateConfig(months={MONTHS}, dossiers_per_month={per_month}))
            """,
            env,
        ),
        run_step(
            "ingest",
            """
            from de06.pipeline import ingest_landing
            from de06.settings import Settings
            reports = ingest_landing(Settings.from_env())
            assert all(r.status != "rejected" for r in reports)
            """,
            env,
        ),
        run_step(
            "dbt build",
            """
            from de06.pipeline import build
            from de06.settings import Settings
            build(Settings.from_env())
            """,
            env,
        ),
        gate_step("gate: raw.dossiers suite (SQL in DuckDB)", "bench-raw", env, raw_only=True),
        gate_step("gate: raw.dossiers suite again (GX project warm)", "bench-raw2", env, True),
        gate_step("gate: every suite (SQL in DuckDB)", "bench-all", env),
    ]
    if not args.skip_pandas:
        steps.append(
            run_step(
                "baseline: raw.dossiers into pandas (load only, no checks)",
                """
                import duckdb
                from de06.settings import Settings
                con = duckdb.connect(str(Settings.from_env().warehouse_db), read_only=True)
                frame = con.execute("select * from raw.dossiers").df()
                print(len(frame), "rows in pandas")
                """,
                env,
            )
        )
    import duckdb

    with duckdb.connect(str(home / "de06.duckdb"), read_only=True) as con:
        counts = dict(
            con.execute(
                "select 'raw_dossier_rows', count(*) from raw.dossiers union all "
                "select 'dossiers', count(distinct (source_system, dossier_id)) from raw.dossiers"
            ).fetchall()
        )
    size_mb = (home / "de06.duckdb").stat().st_size / 2**20
    summary = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "rows": counts,
        "warehouse_mb": round(size_mb),
        "steps": steps,
    }
    (home / "benchmark.json").write_text(json.dumps(summary, indent=2))
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
