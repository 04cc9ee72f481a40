"""The ``de06`` command: demo, ingest, refresh, generate, info, dbt (with the project's
settings), dagster, spark-server, backfill, bench, dashboard, report, mf (README: "The `de06` command")."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from de06.settings import FEEDS, Settings


def _cmd_info(settings: Settings, _: argparse.Namespace) -> int:
    print(json.dumps(settings.as_info(), indent=2, ensure_ascii=False))
    return 0


PAYLOAD_HELP = "Parquet months' provincial dossiers after 1 July 2025 as sync payload instead"


def _cmd_generate(settings: Settings, args: argparse.Namespace) -> int:
    from de06.generate import GenerateConfig, generate

    out = Path(args.out).resolve() if args.out else settings.landing_dir
    cfg = GenerateConfig(
        seed=args.seed,
        start_month=args.start,
        months=args.months,
        dossiers_per_month=args.dossiers_per_month,
        communes_per_province=args.communes,
        provinces=args.provinces,
    )
    started = time.perf_counter()
    summary = generate(settings.seeds_dir, out, cfg)
    if args.payload:
        from de06.generate_dvcqg import as_payload

        summary["payload_files"] = len(as_payload(out, settings.seeds_dir, f"seed{args.seed}"))
    summary["seconds"] = round(time.perf_counter() - started, 2)
    summary["written_to"] = str(out)
    print(json.dumps(summary, indent=2))
    return 0


def _print_reports(reports: list) -> None:
    for report in reports:
        print("  " + report.line())


def _cmd_ingest(settings: Settings, args: argparse.Namespace) -> int:
    from de06.ingest import ingest
    from de06.pipeline import writer_lock

    paths = [Path(p).resolve() for p in args.paths]
    missing = [p for p in paths if not p.exists()]
    for p in missing:
        print(f"de06 ingest: {p}: no such file or folder", file=sys.stderr)
    from de06.progress import Progress

    progress = Progress(quiet=args.quiet)
    with writer_lock(settings), progress.step("ingest", f"{len(paths)} path(s)"):
        reports = ingest(
            settings, [p for p in paths if p.exists()], reload=args.reload, progress=progress
        )
    _print_reports(reports)
    if not reports:
        print("de06 ingest: no feed files found (CSV, XLSX, Parquet)", file=sys.stderr)
        return 1
    readable = [r for r in reports if r.status != "rejected"]
    return 0 if readable else 1


def _cmd_dbt(settings: Settings, args: argparse.Namespace) -> int:
    from de06.pipeline import run_dbt, writer_lock

    settings.ensure_dirs()
    with writer_lock(settings):
        return run_dbt(settings, args.dbt_args, check=False)


def _cmd_mf(settings: Settings, args: argparse.Namespace) -> int:
    from de06.semantic import SemanticLayerError, run_mf

    try:
        return run_mf(settings, args.mf_args).returncode
    except SemanticLayerError as exc:
        print(f"de06 mf: {exc}", file=sys.stderr)
        return 1


def _cmd_dashboard(settings: Settings, args: argparse.Namespace) -> int:
    import os
    import subprocess

    from de06.dashboard import APP

    if not settings.published_db.exists():
        print(
            f"de06 dashboard: no published database at {settings.published_db}: "
            "run `de06 demo` or `de06 refresh` first",
            file=sys.stderr,
        )
        return 1
    streamlit = Path(sys.executable).with_name("streamlit")
    cmd = [
        str(streamlit),
        "run",
        str(APP),
        "--server.address",
        args.host,
        "--server.port",
        str(args.port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--global.developmentMode",
        "false",
        "--runner.magicEnabled",
        "false",
        "--client.toolbarMode",
        "viewer",
    ]
    print(f"Dashboard on http://{args.host}:{args.port} (reads {settings.published_db})")
    env = {**os.environ, "DE06_PUBLISHED_DB": str(settings.published_db)}
    return subprocess.run(cmd, env=env, check=False).returncode


def _cmd_report(settings: Settings, args: argparse.Namespace) -> int:
    from de06.report import ReportError, make_report

    out = Path(args.out).resolve() if args.out else settings.home / "reports"
    try:
        paths = make_report(settings.published_db, args.unit, args.period, out)
    except ReportError as exc:
        print(f"de06 report: {exc}", file=sys.stderr)
        return 1
    for path in paths:
        print(path)
    return 0


def _cmd_refresh(settings: Settings, args: argparse.Namespace) -> int:
    from de06.cli_refresh import refresh_and_report

    summary = Path(args.summary_json) if args.summary_json else None
    return refresh_and_report(settings, args.full_refresh, args.quiet, summary)


def _cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    from de06.generate import GenerateConfig, generate

    settings.ensure_dirs()
    if args.fresh:
        for path in (settings.warehouse_db, settings.published_db):
            path.unlink(missing_ok=True)
        shutil.rmtree(settings.archive_dir, ignore_errors=True)
    started = time.perf_counter()
    print(f"1/3 Generating sample feeds into {settings.landing_dir} ...")
    summary = generate(settings.seeds_dir, settings.landing_dir, GenerateConfig(seed=args.seed))
    months: list[str] = summary["months"]  # type: ignore[assignment]
    first, last = months
    print(
        f"    {summary['dossier_rows']} dossier rows, months {first}..{last}, "
        f"{summary['provinces_before']} provinces before 1 July 2025 and {summary['provinces_after']} after"
    )
    if args.payload:
        from de06.generate_dvcqg import as_payload

        written = as_payload(settings.landing_dir, settings.seeds_dir, f"seed{args.seed}")
        print(f"    provincial dossiers after 1 July 2025 as sync payload: {len(written)} files")
    print("2/3 Refreshing: ingest, dbt build, quality gate, publish ...")
    from de06.cli_refresh import refresh_and_report

    status = refresh_and_report(settings, quiet=args.quiet)
    if status != 0:
        return status
    from de06.pipeline import run_dbt, writer_lock

    with writer_lock(settings):  # dbt docs reads the catalog from the warehouse
        run_dbt(settings, ["docs", "generate", "--static", "--quiet"], check=False)
    print(f"3/3 Done in {time.perf_counter() - started:.0f} s.\n")
    from de06.scorecard import scorecard

    print(scorecard(settings.published_db))
    print("\nWhere to look next (de06 info):")
    print(json.dumps(settings.as_info(), indent=2, ensure_ascii=False))
    print(
        "\nQuery the published marts, e.g.:\n"
        f"  python -c \"import duckdb; print(duckdb.connect('{settings.published_db}', read_only=True)"
        ".sql('select * from marts.fct_indicator_values limit 5'))\""
    )
    print(
        "\nOr: de06 dashboard                                  (http://127.0.0.1:8501)\n"
        "    de06 report --unit 75 --period 2025-Q4            (XLSX and printable HTML)\n"
        "    de06 mf query --metrics online_dossier_rate --group-by "
        "dossier__province_code,metric_time__quarter"
    )
    return 0


def _prepare_dagster(settings: Settings) -> dict[str, str]:
    """The warehouse's Dagster instance config and a parsed dbt manifest (the definitions read
    it at import); returns the environment the definitions need."""
    from de06.pipeline import run_dbt

    settings.ensure_dirs()
    settings.write_dagster_instance_config()
    run_dbt(settings, ["parse", "--quiet"])
    return settings.dagster_env()


def _cmd_dagster(settings: Settings, args: argparse.Namespace) -> int:
    """``dagster dev`` on 127.0.0.1 with the instance under the warehouse folder."""
    import os
    import subprocess

    env = {**os.environ, **_prepare_dagster(settings)}
    dagster = str(Path(sys.executable).with_name("dagster"))
    cmd = [dagster, "dev", "-m", "de06.defs", "--host", "127.0.0.1", "--port", str(args.port)]
    return subprocess.call(cmd, env=env, cwd=settings.home)


def _cmd_spark_server(settings: Settings, args: argparse.Namespace) -> int:
    """A local Spark Thrift server for the ``spark_thrift`` target, until interrupted (Ctrl-C
    or SIGTERM, which stop its JVM too: it runs in a process group of its own)."""
    import signal

    from de06.spark_server import SparkServerError, start, stop

    # SIGTERM's default ends Python without `finally`, leaving the JVM running
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))

    port = args.port or settings.spark_port
    log_path = settings.spark_dir / "thrift-server.log"
    settings.spark_dir.mkdir(parents=True, exist_ok=True)
    with log_path.open("a") as log:
        try:
            proc = start(settings, port, log)
        except SparkServerError as exc:
            print(f"de06 spark-server: {exc} (log: {log_path})", file=sys.stderr)
            return 1
        print(
            f"Spark Thrift server on 127.0.0.1:{port} (tables under {settings.spark_dir}, "
            f"log {log_path}); use DE06_DBT_TARGET=spark_thrift. Ctrl-C or kill {os.getpid()} "
            "stops it."
        )
        try:
            return proc.wait()
        except KeyboardInterrupt:
            return 0
        finally:
            stop(proc)


def _cmd_backfill(settings: Settings, args: argparse.Namespace) -> int:
    """The refresh job over a range of months, in this process, on the Dagster instance under
    the warehouse folder (the run shows in the UI with its partition range)."""
    import os

    os.environ.update(_prepare_dagster(settings))
    import dagster as dg

    from de06.defs.definitions import defs
    from de06.defs.runs import refresh_months

    with dg.DagsterInstance.get() as instance:
        try:
            result = refresh_months(defs, instance, args.first, args.last)
        except ValueError as exc:
            print(f"de06 backfill: {exc}", file=sys.stderr)
            return 2
    months = args.first if not args.last else f"{args.first}..{args.last}"
    if not result.success:
        failed = [e.message for e in result.all_events if e.is_failure]
        print(f"de06 backfill {months} FAILED (run {result.run_id}):", file=sys.stderr)
        for message in failed:
            print("  - " + str(message), file=sys.stderr)
        return 1
    print(f"Backfilled {months}: run {result.run_id} succeeded.")
    return 0


def _cmd_bench(settings: Settings, args: argparse.Namespace) -> int:
    root = Path(args.out) if args.out else settings.home / "bench"
    if args.what == "scale":
        return _bench_scale(root, args)
    if args.what == "payload":
        from de06.bench_payload import main

        return main(root, args.dossiers, args.seed)
    from de06.bench import bench_dagster, report
    from de06.generate import GenerateConfig

    config = GenerateConfig(
        seed=args.seed, months=args.months, dossiers_per_month=args.dossiers_per_month
    )
    print(f"Benchmark: the refresh directly and through Dagster, in {root}")
    figures = bench_dagster(root, config)
    (root / "bench_dagster.json").write_text(json.dumps(figures, indent=2))
    print(report(figures))
    return 0


def _bench_scale(root: Path, args: argparse.Namespace) -> int:
    from de06.bench_scale import bench_scale, report
    from de06.generate import GenerateConfig
    from de06.progress import Progress

    per_month = max(1, round(args.dossiers / args.months))
    config = GenerateConfig(
        seed=args.seed, months=args.months + 2, dossiers_per_month=per_month, csv_months=0
    )
    print(
        f"Benchmark: {per_month * args.months:,} dossiers over {args.months} months, then one "
        f"more month, then the refresh of a held-back month and its last day, in {root}"
    )
    figures = bench_scale(
        root,
        config,
        log=(lambda _: None) if args.quiet else lambda m: print(m, flush=True),
        progress=Progress(quiet=args.quiet),
    )
    name = f"bench_scale_{per_month * args.months}.json"
    (root / name).write_text(json.dumps(figures, indent=2))
    print(report(figures))
    print(f"Figures: {root / name}")
    agreement = figures["agreement"]
    assert isinstance(agreement, list)
    return 0 if all(x["agrees"] for x in agreement) else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="de06", description="Project 06 (Đề án 06) indicator warehouse"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    _add_pipeline_commands(sub)
    _add_operator_commands(sub)
    _add_reader_commands(sub)
    return parser


Subparsers = Any  # argparse's _SubParsersAction: not public


def _add_pipeline_commands(sub: Subparsers) -> None:
    """The data's way in and through: demo, ingest, refresh, generate, dbt."""
    demo = sub.add_parser(
        "demo", help="generate sample data, build, check, publish, show a scorecard"
    )
    demo.add_argument("--seed", type=int, default=6)
    demo.add_argument("--fresh", action="store_true", help="start from an empty warehouse")
    demo.add_argument("--payload", action="store_true", help=PAYLOAD_HELP)
    demo.add_argument("--quiet", action="store_true", help="no progress (results only)")
    demo.set_defaults(func=_cmd_demo)
    ing = sub.add_parser("ingest", help="load feed files (CSV, XLSX, Parquet) into the raw layer")
    ing.add_argument("paths", nargs="+", help="files or folders")
    ing.add_argument(
        "--reload",
        action="store_true",
        help="load files again whose bytes were loaded before (the new load wins): after an "
        "override seed or a reference change settles rows the first load refused",
    )
    ing.add_argument("--quiet", action="store_true", help="no progress (results only)")
    ing.set_defaults(func=_cmd_ingest)
    ref = sub.add_parser("refresh", help="ingest the landing folder, build, check, publish")
    ref.add_argument(
        "--full-refresh",
        action="store_true",
        help="rebuild the incremental dossier models from all of raw (after a change to their "
        "columns or to the reference seeds)",
    )
    ref.add_argument("--quiet", action="store_true", help="no progress (results only)")
    ref.add_argument("--summary-json", help="also write the refresh's figures to this file")
    ref.set_defaults(func=_cmd_refresh)
    gen = sub.add_parser("generate", help="write synthetic feeds (deterministic per seed)")
    gen.add_argument(
        "--out", help=f"folder (default: the landing folder, with {', '.join(FEEDS)}/)"
    )
    gen.add_argument("--seed", type=int, default=6)
    gen.add_argument("--start", default="2024-01", help="first month, YYYY-MM")
    gen.add_argument("--months", type=int, default=24)
    gen.add_argument("--dossiers-per-month", type=int, default=12_000)
    gen.add_argument("--communes", type=int, default=4, help="communes sampled per province")
    gen.add_argument("--provinces", type=int, default=None, help="only the first N old provinces")
    gen.add_argument("--payload", action="store_true", help=PAYLOAD_HELP)
    gen.set_defaults(func=_cmd_generate)
    dbt = sub.add_parser("dbt", help="run dbt with the project's settings, e.g. de06 dbt build")
    dbt.add_argument("dbt_args", nargs=argparse.REMAINDER)
    dbt.set_defaults(func=_cmd_dbt)


def _add_operator_commands(sub: Subparsers) -> None:
    """Running the warehouse: info, dagster, spark-server, backfill, bench."""
    info = sub.add_parser("info", help="print the paths in use as JSON")
    info.set_defaults(func=_cmd_info)
    dag = sub.add_parser("dagster", help="start the Dagster UI (dagster dev) on 127.0.0.1")
    dag.add_argument("--port", type=int, default=3000)
    dag.set_defaults(func=_cmd_dagster)
    spark = sub.add_parser(
        "spark-server",
        help="a local Spark Thrift server for DE06_DBT_TARGET=spark_thrift (one Spark for "
        "every dbt step; docs/spark.md)",
    )
    spark.add_argument("--port", type=int, default=None, help="default: $DE06_SPARK_PORT or 10000")
    spark.set_defaults(func=_cmd_spark_server)
    back = sub.add_parser(
        "backfill",
        help="run the Dagster refresh job over a range of months (recomputed from raw)",
    )
    back.add_argument("first", help="first month, YYYY-MM")
    back.add_argument("last", nargs="?", help="last month, YYYY-MM (default: the first)")
    back.set_defaults(func=_cmd_backfill)
    bench = sub.add_parser(
        "bench",
        help="benchmarks: `de06 bench scale` (the dossier path vs hand-written DuckDB SQL), "
        "`de06 bench dagster` (the refresh through Dagster vs directly), `de06 bench payload` "
        "(the portal's sync payload vs Parquet, the same dossiers)",
    )
    bench.add_argument("what", choices=["dagster", "scale", "payload"])
    bench.add_argument("--out", help="working folder (default: $DE06_HOME/bench)")
    bench.add_argument("--seed", type=int, default=6)
    bench.add_argument("--months", type=int, default=24)
    bench.add_argument(
        "--dossiers-per-month", type=int, default=12_000, help="dagster: per month (demo: 12000)"
    )
    bench.add_argument(
        "--dossiers",
        type=int,
        default=1_000_000,
        help="scale: dossiers over --months (then one more month arrives); payload: dossiers "
        "after July 2025",
    )
    bench.add_argument("--quiet", action="store_true", help="scale: the figures only, no steps")
    bench.set_defaults(func=_cmd_bench)


def _add_reader_commands(sub: Subparsers) -> None:
    """Reading the published database: dashboard, report, mf."""
    dash = sub.add_parser(
        "dashboard",
        help="serve the dashboard (Streamlit) over the published database on 127.0.0.1",
    )
    dash.add_argument("--port", type=int, default=8501)
    dash.add_argument("--host", default="127.0.0.1")
    dash.set_defaults(func=_cmd_dashboard)
    rep = sub.add_parser(
        "report",
        help="the working group's report for a unit and period (XLSX and printable HTML, "
        "Vietnamese), from the published database",
    )
    rep.add_argument("--unit", required=True, help="unit code: 75 (province), VN (nation), ...")
    rep.add_argument("--period", required=True, help="2025-10, 2025-Q4, 2025-H2 or 2025")
    rep.add_argument("--out", help="folder (default: $DE06_HOME/reports)")
    rep.set_defaults(func=_cmd_report)
    mf = sub.add_parser(
        "mf",
        help="query the semantic layer (MetricFlow) on the published database, read-only, e.g. "
        "de06 mf query --metrics online_dossier_rate --group-by "
        "dossier__province_code,metric_time__quarter",
    )
    mf.add_argument("mf_args", nargs=argparse.REMAINDER)
    mf.set_defaults(func=_cmd_mf)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = Settings.from_env()
    try:
        return int(args.func(settings, args))
    except Exception as exc:
        from de06.faults import machine_fault

        what = machine_fault(exc)
        if what is None:
            raise
        # the step rolled back what it had begun (a transaction, a half-written copy removed)
        print(
            f"de06 {args.command} FAILED: {what}. What the step had begun was rolled back; "
            "free space (or memory) and run it again.",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
