"""Faults of the machine, not of the data: a full disk (or quota, or file-size limit), a disk
that fails or was made read-only, no memory. A step that meets one stops with what it had
half-written rolled back or removed, and says what ran out instead of a traceback; the
same input then waits for the next run (it is not refused for the machine's fault)."""

from __future__ import annotations

import errno

MACHINE_ERRNOS = frozenset(
    {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO, errno.EROFS, errno.ENOMEM}
)
# DuckDB's I/O errors carry the operating system's message, not its errno
MACHINE_SIGNS = ("no space left", "disk quota", "file too large", "read-only file system")


def machine_fault(exc: BaseException) -> str | None:
    """What ran out, when ``exc`` is a fault of the machine; None for anything else."""
    import duckdb  # only once something has failed: `de06 --help` does not pay for it

    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if isinstance(exc, (MemoryError, duckdb.OutOfMemoryException)):
        return f"out of memory: {first}"
    if isinstance(exc, OSError) and exc.errno in MACHINE_ERRNOS:
        return f"{exc.strerror or first}: {exc.filename or 'a file'}"
    if isinstance(exc, duckdb.Error):  # an I/O error, or a commit that could not write the WAL
        # the sign may be on a later line ("CHECKPOINT during DETACH failed. ... File too large")
        for line in str(exc).splitlines():
            if any(sign in line.lower() for sign in MACHINE_SIGNS):
                return line.strip()
    return None
