"""Progress of long work: which step, how much is done, an estimate of what is left.

On a terminal a line redrawn in place (a bar); in a log or CI, plain lines: the start and end
of each step, and a line per tenth of a step's work (or per 30 s, whichever comes first), so
that a log shows the work advancing without a line per file. ``quiet`` prints nothing. Progress
goes to stderr: stdout keeps the results (reports, figures) for whoever reads them.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TextIO

BAR = 24


def _clock(seconds: float) -> str:
    seconds = max(0, round(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}" if seconds >= 60 else f"{seconds} s"


@dataclass
class Progress:
    quiet: bool = False
    stream: TextIO = field(default_factory=lambda: sys.stderr)
    tty: bool | None = None
    # the steps done: (name, seconds)
    steps: list[tuple[str, float]] = field(default_factory=list)
    _step: str = ""
    _started: float = 0.0
    _last_line: float = 0.0
    _last_tenth: int = -1

    def __post_init__(self) -> None:
        if self.tty is None:
            self.tty = bool(getattr(self.stream, "isatty", lambda: False)())

    def _write(self, text: str, end: str = "\n") -> None:
        if not self.quiet:
            self.stream.write(text + end)
            self.stream.flush()

    @contextlib.contextmanager
    def step(self, name: str, detail: str = "") -> Iterator[Progress]:
        """Around a step: its start, then its end with the time it took (or that it failed)."""
        self._step, self._started = name, time.monotonic()
        self._last_line, self._last_tenth = self._started, -1
        self._write(f"▶ {name}" + (f": {detail}" if detail else ""))
        try:
            yield self
        except BaseException:
            self._clear()
            self._write(f"✗ {name} failed after {_clock(time.monotonic() - self._started)}")
            raise
        seconds = time.monotonic() - self._started
        self.steps.append((name, seconds))
        self._clear()
        self._write(f"✓ {name} in {seconds:.1f} s")

    def begin(self, name: str) -> None:
        """Count the time of step ``name`` from now, for ``update``, without a line of its own
        (for a caller that prints its steps' lines itself)."""
        self._step, self._started = name, time.monotonic()
        self._last_line, self._last_tenth = self._started, -1

    def note(self, text: str) -> None:
        """A line of its own (over the bar, on a terminal)."""
        self._clear()
        self._write(text)

    def _clear(self) -> None:
        if self.tty and not self.quiet:
            self.stream.write("\r\033[K")

    def update(self, done: float, total: float, what: str = "") -> None:
        """``done`` of ``total`` (files, bytes, rows) of the current step; ``what`` says what
        was counted. The estimate assumes the rest goes at the pace so far."""
        if self.quiet or total <= 0:
            return
        now = time.monotonic()
        share = min(1.0, done / total)
        elapsed = now - self._started
        left = f", about {_clock(elapsed / share - elapsed)} left" if 0 < share < 1 else ""
        text = f"{self._step}: {share:6.1%} {what}{left}"
        if self.tty:
            filled = round(share * BAR)
            self.stream.write(f"\r\033[K[{'#' * filled}{'.' * (BAR - filled)}] {text}")
            self.stream.flush()
            return
        tenth = int(share * 10)
        if tenth > self._last_tenth or now - self._last_line >= 30:
            self._last_tenth, self._last_line = tenth, now
            self._write("  " + text)
