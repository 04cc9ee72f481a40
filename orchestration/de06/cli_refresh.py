"""``de06 refresh`` (and the demo's refresh): run it with progress, report what it did."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from de06.settings import Settings


def print_reports(reports: list[Any]) -> None:
    for report in reports:
        print("  " + report.line())


def refresh_and_report(
    settings: Settings,
    full_refresh: bool = False,
    quiet: bool = False,
    summary_json: Path | None = None,
) -> int:
    from de06.pipeline import StepFailed, refresh
    from de06.progress import Progress

    try:
        result = refresh(settings, full_refresh=full_refresh, progress=Progress(quiet=quiet))
    except StepFailed as exc:
        print(f"\nde06 refresh FAILED: {exc}", file=sys.stderr)
        return 1
    print("Loaded:" if result.reports else "Nothing waiting in the landing folder.")
    print_reports(result.reports)
    gate, published = result.gate, result.published
    assert gate is not None and published is not None
    unchanged = [name for name, scope in gate.scopes.items() if scope.skip]
    print(
        f"Quality gate passed: {len(gate.outcomes)} expectations, {len(gate.warnings)} "
        f"warning(s); {len(unchanged)} of {len(gate.scopes)} suites had nothing new to check"
    )
    for warning in gate.warnings:
        print("  - " + warning.describe())
    total = sum(published.tables.values())
    print(
        f"Published {len(published.tables)} marts ({total:,} rows) to {published.path}: "
        f"{published.rows_written:,} rows written"
        + (f", {len(published.tables) - len(published.written)} marts unchanged"
           if published.incremental else " (a new file)")
    )  # fmt: skip
    for written in published.written.values():
        print("  - " + written)
    if summary_json is not None:
        summary_json.write_text(json.dumps(refresh_summary(result), indent=2))
    return 0


def refresh_summary(result: Any) -> dict[str, object]:
    """A refresh's figures, for a benchmark or a log: its steps' seconds, what it did."""
    gate, published = result.gate, result.published
    return {
        "run_id": result.run_id,
        "steps": dict(result.steps),
        "files": len(result.reports),
        "rows_read": sum(r.rows_read for r in result.reports),
        "rows_accepted": sum(r.accepted for r in result.reports),
        "expectations": len(gate.outcomes),
        "suites_checked": [n for n, s in gate.scopes.items() if not s.skip],
        "publish_incremental": published.incremental,
        "rows_published": sum(published.tables.values()),
        "rows_written": published.rows_written,
        "marts_written": published.written,
    }
