"""``de06 bench payload``: the same dossiers loaded as the national portal's sync payload (JSON
lines, feed ``dvcqg``) and as the dossier feed's Parquet, each by ``de06 ingest`` into a fresh
warehouse, in the same run: wall time and peak memory of each, and their ratio (issue 32's
target: the payload at most 3× the Parquet). The dossiers are the generator's after the
reorganisation, written both ways by ``de06.generate_dvcqg.write_both``; the two raw tables
are then compared row for row.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import duckdb

from de06.bench import fresh_home, generate_apart, home_env
from de06.bench_scale import run_measured
from de06.generate import GenerateConfig
from de06.generate_dvcqg import write_both


def bench_payload(root: Path, config: GenerateConfig) -> dict[str, object]:
    root.mkdir(parents=True, exist_ok=True)
    data = root / "data"
    started = time.perf_counter()
    generate_apart(fresh_home(root, "generator").seeds_dir, data, config)
    months = sorted((data / "dossiers").glob("dossiers_provincial_*.parquet"))
    both = root / "both"
    payloads = write_both(months, fresh_home(root, "writer").seeds_dir, both, "bench")
    prepared = time.perf_counter() - started
    de06 = str(Path(sys.executable).with_name("de06"))
    figures: dict[str, object] = {"prepare_seconds": round(prepared, 1)}
    homes = {}
    for name, source in (("parquet", both / "dossiers"), ("payload", both / "dvcqg")):
        home = fresh_home(root, f"home_{name}")
        seconds, peak = run_measured(
            [de06, "ingest", str(source)], home_env(home), root, root / "logs" / f"{name}.log"
        )
        figures[name] = {
            "seconds": round(seconds, 2),
            "peak_mb": round(peak),
            "bytes": sum(p.stat().st_size for p in source.iterdir()),
            "files": len(list(source.iterdir())),
        }
        homes[name] = home
    figures["payload_files"] = len(payloads)
    parquet, payload = figures["parquet"], figures["payload"]
    assert isinstance(parquet, dict) and isinstance(payload, dict)
    figures["ratio"] = round(payload["seconds"] / parquet["seconds"], 2)
    figures["rows"], figures["differing_rows"] = _compare(homes["parquet"].warehouse_db,
                                                          homes["payload"].warehouse_db)  # fmt: skip
    return figures


def _compare(parquet_db: Path, payload_db: Path) -> tuple[int, int]:
    """The raw dossier versions in the Parquet warehouse, and how many of them the payload's
    does not hold the same (and the other way round). Pseudonyms differ (each home its key)."""
    columns = (
        "source_system, dossier_id, agency_code, unit_code, procedure_code, received_at, "
        "channel, online_level, due_at, finished_at, status, fee_amount, payment_channel, "
        "is_digitized, has_e_result, reused_data, identity_verified, satisfaction, "
        "synced_national_at, updated_at, _superseded_by_load_id is null"
    )
    con = duckdb.connect()
    try:
        con.execute(f"attach '{parquet_db}' as a (read_only)")
        con.execute(f"attach '{payload_db}' as b (read_only)")
        (rows,) = con.execute("select count(*) from a.raw.dossiers").fetchone() or (0,)
        differing = 0
        for x, y in (("a", "b"), ("b", "a")):
            (n,) = con.execute(
                f"select count(*) from (select {columns} from {x}.raw.dossiers "
                f"except all select {columns} from {y}.raw.dossiers)"
            ).fetchone() or (0,)
            differing += int(n)
        return int(rows), differing
    finally:
        con.close()


def report(figures: dict[str, object]) -> str:
    parquet, payload = figures["parquet"], figures["payload"]
    assert isinstance(parquet, dict) and isinstance(payload, dict)
    lines = [
        f"dossier versions: {figures['rows']:,} ({figures['payload_files']} payload files)",
        f"Parquet ingest:  {parquet['seconds']:7.2f} s  peak {parquet['peak_mb']:,} MB  "
        f"{parquet['bytes'] / 1e6:,.0f} MB in {parquet['files']} file(s)",
        f"payload ingest:  {payload['seconds']:7.2f} s  peak {payload['peak_mb']:,} MB  "
        f"{payload['bytes'] / 1e6:,.0f} MB in {payload['files']} file(s)",
        f"payload / Parquet: {figures['ratio']:.2f}  (target <= 3)",
        f"raw rows differing between the two warehouses: {figures['differing_rows']}",
    ]
    return "\n".join(lines)


def main(root: Path, dossiers: int, seed: int) -> int:
    """Run the benchmark on ``dossiers`` dossiers over July-December 2025; print and save the
    figures; fail when the two warehouses differ."""
    months = 6
    config = GenerateConfig(
        seed=seed,
        start_month="2025-07",
        months=months,
        dossiers_per_month=max(1, round(dossiers / months)),
        portal_export=False,
        csv_months=0,
    )
    print(f"Benchmark: {dossiers:,} dossiers as sync payload and as Parquet, in {root}")
    figures = bench_payload(root, config)
    name = root / f"bench_payload_{dossiers}.json"
    name.write_text(json.dumps(figures, indent=2))
    print(report(figures))
    print(f"Figures: {name}")
    return 0 if figures["differing_rows"] == 0 else 1
