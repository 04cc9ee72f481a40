"""What the ingest says of a file and its rows: the problems found, the file's report, and
the verdict on a file that cannot be loaded as a whole."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from de06.contracts import REASONS
from de06.faults import machine_fault


def declared(code: str) -> str:
    """A reason code, refused unless de06.contracts.REASONS names it in both languages."""
    if code not in REASONS:
        raise ValueError(f"reason code {code!r} is not declared in de06.contracts.REASONS")
    return code


class IngestError(Exception):
    """A file that cannot be loaded as a whole (it is quarantined, the rest still loads)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = declared(code)


def file_verdict(exc: BaseException) -> IngestError | None:
    """What to say of a file whose reading raised ``exc``: an ``IngestError`` naming what broke
    (the file is quarantined and the rest still loads), or None when the fault is the
    machine's (a full disk, no memory): then the run stops with nothing committed and the file
    waits in landing for the next run, instead of being refused for it."""
    if isinstance(exc, IngestError):
        return exc
    if not isinstance(exc, Exception) or machine_fault(exc) is not None:
        return None
    text = str(exc).strip()
    first = text.splitlines()[0] if text else ""
    return IngestError("unreadable_file", f"cannot read the file ({type(exc).__name__}): {first}")


@dataclass
class Problem:
    row_number: int | None
    column: str | None
    value: str | None
    code: str
    message: str
    # the row's unit, period, indicator and dimension as typed (submissions), so that its unit's
    # submission status can count it and a corrected later submission can resolve it
    unit_code: str | None = None
    period: str | None = None
    indicator_code: str | None = None
    dimension: str | None = None

    def __post_init__(self) -> None:
        declared(self.code)


@dataclass
class FileReport:
    path: Path
    feed: str | None
    status: str  # loaded | already_loaded | rejected
    rows_read: int = 0
    accepted: int = 0
    superseded: int = 0
    quarantined: int = 0
    extra_columns: list[str] = field(default_factory=list)
    message: str = ""
    reasons: Counter[str] = field(default_factory=Counter)

    def line(self) -> str:
        name = self.path.name
        if self.status == "already_loaded":
            return f"{name}: already loaded (same content), nothing changed"
        if self.status == "rejected":
            return f"{name}: REJECTED — {self.message}"
        text = (
            f"{name} [{self.feed}]: {self.rows_read} read, {self.accepted} accepted, "
            f"{self.superseded} superseded, {self.quarantined} quarantined"
        )
        if self.reasons:
            text += " (" + ", ".join(f"{k}: {v}" for k, v in sorted(self.reasons.items())) + ")"
        if self.extra_columns:
            text += f"; extra columns kept: {', '.join(self.extra_columns)}"
        return text
