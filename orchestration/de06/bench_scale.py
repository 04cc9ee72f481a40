"""``de06 bench scale``: the dossier path at a chosen size, against hand-written DuckDB SQL.

One data set is generated (all Parquet); its last month is held back as "the new month". In a
fresh warehouse home, each step runs as a child process of this one, and its wall time and peak
memory (the child and everything it starts) are measured:

  setup  seeds, submissions and tasks (small; not timed as a step of the dossier path)
  a0     baseline: DuckDB's own ``read_parquet`` of the dossier files into a table
  a      ``de06 ingest`` of the same files into the raw layer
  b      ``de06 dbt run --full-refresh``: every model, from all of raw
  d      the floor: ``bench_floor.sql``, one hand-written script computing the dossier figures
         of the marts straight from the files
  c      the new month: ``de06 ingest`` of its files, then ``de06 dbt run`` (incremental)
  r0, rm, rd  ``de06 refresh`` end to end, step by step: the first refresh, a held-back month,
         its last day (``bench_refresh``)

Then (b) and (d) are compared figure by figure; the benchmark fails if they differ. Ratios:
(a)/(a0), (b)/(d) and (c)/(b).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path

import duckdb

from de06 import project_vars
from de06.bench import fresh_home, generate_apart, home_env
from de06.bench_refresh import refresh_lines, refreshes
from de06.generate import GenerateConfig
from de06.progress import Progress
from de06.settings import Settings

# a child process: DuckDB's own read_parquet into a table (DuckDB's defaults but the memory
# limit, which every step shares)
BASELINE = """
import os, sys, duckdb
files = sys.argv[2:]
con = duckdb.connect(sys.argv[1], config={"memory_limit": os.environ["DE06_DUCKDB_MEMORY_LIMIT"]})
con.execute("create or replace table dossiers as select * from read_parquet($files)",
            {"files": files})
con.close()
"""

# a child process: the floor script over the files, the warehouse attached read-only
FLOOR = """
import json, os, sys, duckdb
out, warehouse, script, nation_key = sys.argv[1:5]
files = json.loads(sys.argv[5])
con = duckdb.connect(out, config={"memory_limit": os.environ["DE06_DUCKDB_MEMORY_LIMIT"]})
con.execute("attach '" + warehouse.replace("'", "''") + "' as wh (read_only)")
con.execute("set variable dossier_files = ?", [files])
con.execute("set variable nation_key = ?", [nation_key])
con.execute(open(script, encoding="utf-8").read())
con.execute("detach wh")
con.close()
"""

INDICATOR_COMPARISON = """
with warehouse as (
    select v.unit_key, v.period, v.indicator_code, v.numerator, v.denominator, v.value
    from wh.marts.fct_indicator_values as v
    inner join wh.reference.indicators as i using (indicator_code)
    where i.source = 'dossiers' and v.source = 'computed'
),
both_sides as (
    select
        coalesce(w.unit_key, f.unit_key) as unit_key,
        coalesce(w.period, f.period) as period,
        coalesce(w.indicator_code, f.indicator_code) as indicator_code,
        w.unit_key is not null as in_warehouse,
        f.unit_key is not null as in_floor,
        w.numerator is not distinct from f.numerator
        and w.denominator is not distinct from f.denominator
        and w.value is not distinct from f.value as same
    from warehouse as w
    full outer join floor_indicator_values as f
        using (unit_key, period, indicator_code)
)
select
    count(*),
    count(*) filter (where not in_floor),
    count(*) filter (where not in_warehouse),
    count(*) filter (where in_warehouse and in_floor and not same),
    list(unit_key || ' ' || period || ' ' || indicator_code) filter (where not same)[1:5]
from both_sides
"""

RECONCILIATION_COUNTS = (
    "n_provincial",
    "n_portal",
    "n_matched",
    "n_only_provincial",
    "n_only_portal",
    "n_status_mismatch",
    "n_unit_mismatch",
    "n_matched_via_successor",
)

RECONCILIATION_COMPARISON = f"""
with both_sides as (
    select
        coalesce(w.unit_key, f.unit_key) as unit_key,
        coalesce(w.period, f.period) as period,
        w.unit_key is not null as in_warehouse,
        f.unit_key is not null as in_floor,
        {" and ".join(f"w.{c} is not distinct from f.{c}" for c in RECONCILIATION_COUNTS)}
        and w.self_reported_sync_rate is not distinct from
            f.n_provincial_says_synced / nullif(f.n_provincial, 0) as same
    from wh.marts.fct_dossier_reconciliation as w
    full outer join floor_reconciliation as f using (unit_key, period)
)
select
    count(*),
    count(*) filter (where not in_floor),
    count(*) filter (where not in_warehouse),
    count(*) filter (where in_warehouse and in_floor and not same),
    list(unit_key || ' ' || period) filter (where not same)[1:5]
from both_sides
"""


@dataclass
class Step:
    """One measured step: wall seconds, peak resident memory (MB) and rows handled."""

    name: str
    label: str
    seconds: float
    peak_mb: float
    rows: int

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


@dataclass
class Agreement:
    """How the warehouse's figures compare with the floor's, per mart."""

    mart: str
    rows: int
    only_in_warehouse: int
    only_in_floor: int
    differing: int
    examples: list[str]

    @property
    def agrees(self) -> bool:
        return self.rows > 0 and not (
            self.only_in_warehouse or self.only_in_floor or self.differing
        )


def run_measured(
    cmd: list[str],
    env: dict[str, str],
    cwd: Path,
    log: Path,
    on_line: Callable[[str], None] | None = None,
) -> tuple[float, float]:
    """Run a child process; return its wall seconds and the peak RSS (MB) of it and its children.
    Its output goes to ``log``, each line to ``on_line`` as well.

    The peak comes from ``wait4``: Linux reports the largest resident set of the process and of
    every descendant it waited for (dbt under ``de06 dbt``, say)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w", encoding="utf-8") as out:
        started = time.perf_counter()
        proc = subprocess.Popen(
            cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        assert proc.stdout is not None
        pipe = proc.stdout

        def copy() -> None:  # the lines as they come, to the log and to on_line
            for raw in pipe:
                line = raw.decode("utf-8", errors="replace")
                out.write(line)
                out.flush()
                if on_line is not None:
                    on_line(line.rstrip("\r\n"))

        reader = threading.Thread(target=copy, daemon=True)
        reader.start()
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        reader.join()
        pipe.close()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        tail = log.read_text(encoding="utf-8", errors="replace")[-3000:]
        raise RuntimeError(f"{' '.join(cmd[:4])} failed (exit {proc.returncode}); {log}:\n{tail}")
    return seconds, usage.ru_maxrss / 1024


# dbt's line for a node done: "12 of 49 OK created sql table model ..."
DBT_NODE = re.compile(r"\b(\d+) of (\d+) (?:OK|ERROR|SKIP|PASS|WARN|FAIL)\b")


@dataclass
class ChildLines:
    """A step's child told as the bench's progress: its own step lines and estimates
    (``de06 ingest``, ``de06 refresh``) passed on, indented; dbt's nodes done of all, with an
    estimate of what is left."""

    progress: Progress

    def __call__(self, line: str) -> None:
        node = DBT_NODE.search(line)
        if node:
            done, total = int(node[1]), int(node[2])
            self.progress.update(done, total, f"{done} of {total} dbt nodes")
        elif line.startswith(("▶", "✓", "✗")) or (line.startswith("  ") and "%" in line):
            self.progress.note("      " + line.strip())


def _split_new_month(
    data: Path, history: Path, new_month: Path, held: Path, month: str, last: str
) -> None:
    """Move the dossier files into history/, new_month/ (``month``'s) and held/ (``last``'s,
    the held-back month of the refresh steps)."""
    for folder in (history, new_month, held):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
    for path in sorted((data / "dossiers").glob("*.parquet")):
        target = {month: new_month, last: held}.get(path.stem[-7:], history)
        path.rename(target / path.name)


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def _parquet_rows(files: list[Path]) -> int:
    con = duckdb.connect()
    try:
        return int(
            con.execute(
                "select sum(num_rows) from parquet_file_metadata($f)",
                {"f": [str(f) for f in files]},
            ).fetchone()[0]  # type: ignore[index]
        )
    finally:
        con.close()


def slowest_models(run_results: Path, count: int = 8) -> list[tuple[str, float]]:
    """The dbt models that took longest in the last dbt run, from its run_results.json."""
    results = json.loads(run_results.read_text())["results"]
    timed = sorted(results, key=lambda r: -r["execution_time"])[:count]
    return [(r["unique_id"].split(".")[-1], round(r["execution_time"], 1)) for r in timed]


def compare(warehouse_db: Path, floor_db: Path) -> list[Agreement]:
    """The warehouse's dossier figures against the floor's, row by row."""
    con = duckdb.connect(str(floor_db), read_only=True)
    try:
        quoted = str(warehouse_db).replace("'", "''")
        con.execute(f"attach '{quoted}' as wh (read_only)")
        out = []
        for mart, sql in (
            ("fct_indicator_values (dossier indicators)", INDICATOR_COMPARISON),
            ("fct_dossier_reconciliation", RECONCILIATION_COMPARISON),
        ):
            rows, only_w, only_f, differing, examples = con.execute(sql).fetchone()  # type: ignore[misc]
            out.append(Agreement(mart, rows, only_w, only_f, differing, list(examples or [])))
        return out
    finally:
        con.close()


def floor_script() -> Path:
    return Path(str(resources.files("de06") / "bench_floor.sql"))


def _generate(root: Path, config: GenerateConfig, log: Callable[[str], None]) -> list[str]:
    """Generate the data set and split its dossier files: history/, new_month/ (the month
    before the last), held_back/ (the last). Returns the months, as YYYY-MM."""
    data = root / "generated"
    shutil.rmtree(data, ignore_errors=True)
    started = time.perf_counter()
    summary = generate_apart(Settings.from_env().seeds_dir, data, config)
    first_month = dt.date.fromisoformat(str(summary["months"][0]) + "-01")  # type: ignore[index]
    months = [_add_months(first_month, n).strftime("%Y-%m") for n in range(config.months)]
    _split_new_month(
        data, root / "history", root / "new_month", root / "held_back", months[-2], months[-1]
    )
    log(f"  generated {config.months} months in {time.perf_counter() - started:.0f} s")
    return months


def _setup(de06: str, data: Path, env: dict[str, str], home: Path, logs: Path) -> None:
    """The warehouse before the dossier path: submissions, tasks and seeds (small, not timed
    as a step)."""
    run_measured(
        [de06, "ingest", str(data / "submissions"), str(data / "tasks")],
        env,
        home,
        logs / "setup_ingest.log",
    )
    run_measured([de06, "dbt", "seed"], env, home, logs / "setup_seed.log")


def bench_scale(
    root: Path,
    config: GenerateConfig,
    log: Callable[[str], None] = print,
    progress: Progress | None = None,
) -> dict[str, object]:
    """Generate, then run and measure steps a0, a, b, d, c, r0, rm, rd; return the figures.
    ``log`` tells each step's start and end; ``progress`` what its child says of its own."""
    lines = ChildLines(progress or Progress(quiet=True))
    root = root.resolve()
    root.mkdir(parents=True, exist_ok=True)
    data, history, new_month = root / "generated", root / "history", root / "new_month"
    months = _generate(root, config, log)
    last = months[-2]  # the new month of step (c); the month after it is held back

    settings = fresh_home(root, "home")
    home, env = settings.home, home_env(settings)  # with the memory limit every step shares
    de06 = str(Path(sys.executable).with_name("de06"))
    logs = root / "logs"
    history_files = sorted(history.glob("*.parquet"))
    new_files = sorted(new_month.glob("*.parquet"))
    history_rows, new_rows = _parquet_rows(history_files), _parquet_rows(new_files)
    steps: list[Step] = []

    def step(name: str, label: str, cmd: list[str], rows: int) -> Step:
        log(f"▶ {name:<3} {label} ({rows:,} rows; its output: {logs / name}.log)")
        lines.progress.begin(f"{name} {label}")
        seconds, peak = run_measured(cmd, env, home, logs / f"{name}.log", lines)
        measured = Step(name, label, seconds, peak, rows)
        steps.append(measured)
        log(f"✓ {name:<3} {label:<44} {seconds:8.1f} s {peak:8.0f} MB")
        return measured

    _setup(de06, data, env, home, logs)
    baseline_db = root / "baseline.duckdb"
    baseline_db.unlink(missing_ok=True)
    step(
        "a0",
        "read_parquet into a table (DuckDB alone)",
        [sys.executable, "-c", BASELINE, str(baseline_db), *map(str, history_files)],
        history_rows,
    )
    baseline_db.unlink(missing_ok=True)
    step("a", "ingest (de06 ingest)", [de06, "ingest", str(history)], history_rows)
    step(
        "b",
        "full build (dbt run --full-refresh)",
        [de06, "dbt", "run", "--full-refresh"],
        history_rows,
    )
    slowest = {"b": slowest_models(settings.dbt_target_dir / "run_results.json")}
    floor_db = root / "floor.duckdb"
    floor_db.unlink(missing_ok=True)
    history_start = project_vars.history_start(settings.project_dir).isoformat()
    step(
        "d",
        "floor (hand-written DuckDB SQL)",
        [
            sys.executable,
            "-c",
            FLOOR,
            str(floor_db),
            str(settings.warehouse_db),
            str(floor_script()),
            f"VN@{history_start}",
            json.dumps([str(f) for f in history_files]),
        ],
        history_rows,
    )
    agreements = compare(settings.warehouse_db, floor_db)
    _log_agreements(agreements, log)
    step("c1", f"new month {last}: ingest", [de06, "ingest", str(new_month)], new_rows)
    step("c", f"new month {last}: dbt run (incremental)", [de06, "dbt", "run"], new_rows)
    slowest["c"] = slowest_models(settings.dbt_target_dir / "run_results.json")
    summaries = refreshes(step, de06, settings.landing_dir, root, months[-1])
    figures = _figures(config, steps, agreements, slowest, settings.warehouse_db)
    figures["refresh"] = summaries
    figures["published_mb"] = settings.published_db.stat().st_size / 2**20
    return figures  # floor.duckdb stays, with the floor's tables, for a look at any difference


def _log_agreements(agreements: list[Agreement], log: Callable[[str], None]) -> None:
    for agreement in agreements:
        verdict = "same" if agreement.agrees else "DIFFERENT"
        log(
            f"  b vs d, {agreement.mart}: {agreement.rows:,} rows, {verdict}"
            + (
                ""
                if agreement.agrees
                else f" (only in the warehouse {agreement.only_in_warehouse}, only in the floor "
                f"{agreement.only_in_floor}, differing {agreement.differing}; "
                f"e.g. {agreement.examples})"
            )
        )


def _figures(
    config: GenerateConfig,
    steps: list[Step],
    agreements: list[Agreement],
    slowest: Mapping[str, object],
    warehouse_db: Path,
) -> dict[str, object]:
    """The steps' figures and the ratios the targets are stated in."""
    a0, a, b, d, c_ingest, c = (
        next(s for s in steps if s.name == n) for n in ("a0", "a", "b", "d", "c1", "c")
    )
    return {
        "dossiers": config.dossiers_per_month * (config.months - 2),
        "dossier_rows": a.rows,
        "new_month_rows": c.rows,
        "config": asdict(config),
        "steps": [{**asdict(s), "rows_per_second": s.rows_per_second} for s in steps],
        "agreement": [{**asdict(x), "agrees": x.agrees} for x in agreements],
        "slowest_models": slowest,
        "ratios": {
            "ingest_vs_read_parquet": a.seconds / a0.seconds,
            "full_build_vs_floor": b.seconds / d.seconds,
            "incremental_vs_full_build": c.seconds / b.seconds,
            "incremental_with_ingest_vs_full_build": (c.seconds + c_ingest.seconds) / b.seconds,
            # the ingest marks superseded versions, work the floor does in its script: the whole
            # path from the files to the marts, against the floor (which reads the files itself)
            "files_to_marts_vs_floor": (a.seconds + b.seconds) / d.seconds,
        },
        "peak_mb": max(s.peak_mb for s in steps),
        "warehouse_mb": warehouse_db.stat().st_size / 2**20,
        "self_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def report(figures: dict[str, object]) -> str:
    steps = figures["steps"]
    ratios = figures["ratios"]
    assert isinstance(steps, list) and isinstance(ratios, dict)
    lines = [
        f"dossiers: {figures['dossiers']:,} ({figures['dossier_rows']:,} rows with versions and "
        f"the portal's copy; the new month {figures['new_month_rows']:,} rows)",
        f"{'step':<50}{'wall':>9}{'peak':>10}{'rows/s':>12}",
    ]
    for s in steps:
        lines.append(
            f"{s['name'] + ' ' + s['label']:<50}{s['seconds']:>8.1f}s{s['peak_mb']:>7.0f} MB"
            f"{s['rows_per_second']:>12,.0f}"
        )
    lines += [
        f"(a)/(a0) ingest vs read_parquet:      {ratios['ingest_vs_read_parquet']:.2f}  (target <= 1.5)",
        f"(b)/(d)  full build vs the floor:     {ratios['full_build_vs_floor']:.2f}  (target <= 1.5)",
        f"(a+b)/(d) files to marts vs the floor: {ratios['files_to_marts_vs_floor']:.2f}",
        f"(c)/(b)  incremental month vs full:   {ratios['incremental_vs_full_build']:.2f}  (target <= 0.10)",
        f"         with its ingest:             {ratios['incremental_with_ingest_vs_full_build']:.2f}",
        f"peak memory of any step: {figures['peak_mb']:,.0f} MB (target < 8,192 at 50 M dossiers)",
        # a child inherits the resident high-water mark of the process that starts it
        f"the benchmark's own peak: {figures['self_peak_mb']:,.0f} MB (no step's peak reads "
        "below it)",
    ]
    refresh = figures.get("refresh")
    if isinstance(refresh, dict):
        lines += refresh_lines(steps, refresh)
    slowest = figures["slowest_models"]
    assert isinstance(slowest, dict)
    for name, models in slowest.items():
        lines.append(
            f"slowest models in ({name}): " + ", ".join(f"{m} {t}s" for m, t in models[:5])
        )
    agreement = figures["agreement"]
    assert isinstance(agreement, list)
    for x in agreement:
        lines.append(
            f"(b) = (d) on {x['mart']}: {'yes' if x['agrees'] else 'NO'} ({x['rows']:,} rows)"
        )
    return "\n".join(lines)
