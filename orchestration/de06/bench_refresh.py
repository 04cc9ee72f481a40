"""``de06 bench scale``, the refresh as the schedule runs it: ``de06 refresh`` end to end.

After the dossier path's steps, three refreshes of the same warehouse home, each a child
process, each timed step by step (``de06 refresh --summary-json``):

  r0  the first refresh after the full build: nothing new lands; dbt build (its tests), the
      gate on every row, a new published file: what the first publish of a warehouse costs
  rm  a held-back month lands (but its last day): ingest, build, gate and publish of a month
  rd  that last day's versions land: the daily refresh

The held-back month is the data set's last, after the new month of step (c). Its last day is
the versions dated on the month's last day of receipt; versions dated after it are left out
(they have not happened yet on that day).
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

from de06.ingest.sqltext import duckdb_path, sql_literal

REFRESH_STEPS = ("ingest", "build", "gate", "publish")


def split_last_day(files: list[Path], month_dir: Path, day_dir: Path) -> tuple[dt.date, int, int]:
    """Write each file's versions before the month's last day into ``month_dir`` and those of
    that day into ``day_dir`` (same names); return the day and the rows of each."""
    for folder in (month_dir, day_dir):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
    con = duckdb.connect()
    try:
        sources = [duckdb_path(f) for f in files]
        row = con.execute(
            "select max(received_at)::date from read_parquet($files)", {"files": sources}
        ).fetchone()
        assert row and row[0], "the held-back month has no dossiers"
        day: dt.date = row[0]
        counts = [0, 0]
        for path in files:
            for index, (folder, where) in enumerate(
                (
                    (month_dir, "updated_at < $day"),
                    (day_dir, "updated_at >= $day and updated_at < $day + interval 1 day"),
                )
            ):
                target = sql_literal(str(folder / path.name))
                con.execute(
                    f"copy (select * from read_parquet($file) where {where}) "
                    f"to {target} (format parquet)",
                    {"file": duckdb_path(path), "day": day},
                )
                counts[index] += int(
                    con.execute(
                        "select count(*) from read_parquet($f)",
                        {"f": duckdb_path(folder / path.name)},
                    ).fetchone()[0]  # type: ignore[index]
                )
        return day, counts[0], counts[1]
    finally:
        con.close()


def land(files: list[Path], landing: Path) -> None:
    """Copy dossier files into the landing folder, as a feed would deliver them."""
    target = landing / "dossiers"
    target.mkdir(parents=True, exist_ok=True)
    for path in files:
        shutil.copyfile(path, target / path.name)


def refreshes(
    step: Callable[[str, str, list[str], int], Any],
    de06: str,
    landing: Path,
    root: Path,
    month: str,
) -> dict[str, dict[str, object]]:
    """Split the held-back month (``root``/held_back) into its days before the last and its
    last; run r0, rm and rd through ``step`` (which measures a child process); return each
    refresh's summary (its steps' seconds and what it did)."""
    month_dir, day_dir = root / "held_month", root / "held_day"
    day, month_rows, day_rows = split_last_day(
        sorted((root / "held_back").glob("*.parquet")), month_dir, day_dir
    )
    summaries: dict[str, dict[str, object]] = {}
    for name, label, folder, rows in (
        ("r0", "first refresh: every row checked and published", None, 0),
        ("rm", f"month {month} but its last day: de06 refresh", month_dir, month_rows),
        ("rd", f"day {day}: de06 refresh", day_dir, day_rows),
    ):
        land(sorted(folder.glob("*.parquet")) if folder else [], landing)
        summary_file = root / "logs" / f"{name}.json"
        step(name, label, [de06, "refresh", "--summary-json", str(summary_file)], rows)
        summaries[name] = json.loads(summary_file.read_text())
    return summaries


def refresh_lines(steps: list[dict[str, Any]], summaries: dict[str, Any]) -> list[str]:
    """The refreshes' table: each step's seconds, then the whole (the child's wall time)."""
    lines = [f"{'de06 refresh':<50}" + "".join(f"{s:>9}" for s in REFRESH_STEPS) + f"{'total':>9}"]
    for s in steps:
        summary = summaries.get(s["name"])
        if summary is None:
            continue
        parts = summary["steps"]
        lines.append(
            f"{s['name'] + ' ' + s['label']:<50}"
            + "".join(f"{parts.get(p, 0):>8.1f}s" for p in REFRESH_STEPS)
            + f"{s['seconds']:>8.1f}s"
        )
        lines.append(
            f"{'':<5}{summary['rows_accepted']:,} rows accepted, "
            f"{len(summary['suites_checked'])} suites with rows to check, "
            f"{summary['rows_written']:,} of {summary['rows_published']:,} published rows written"
        )
    return lines
