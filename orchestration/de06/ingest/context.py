"""What a feed's loader works with: the write connection (inside the transaction the ledger
opened for the file), the reference data, today's date and the pseudonym key's pads."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from de06.reference import Reference


def hmac_pads(key: bytes) -> tuple[bytes, bytes]:
    """The outer and inner HMAC-SHA256 pads, so that DuckDB can compute the HMAC in SQL."""
    if len(key) > 64:
        key = hashlib.sha256(key).digest()
    key = key.ljust(64, b"\0")
    return bytes(b ^ 0x5C for b in key), bytes(b ^ 0x36 for b in key)


@dataclass
class LoadContext:
    con: duckdb.DuckDBPyConnection
    ref: Reference
    pads: tuple[bytes, bytes]
    seeds_dir: Path  # the reference the portal's unit names are matched to
    today: dt.date = field(default_factory=dt.date.today)
    _unit_validity_loaded: bool = False

    def ensure_unit_validity(self) -> None:
        """A temp table ``unit_validity`` of every unit and agency code with its validity, for
        the checks in SQL (made once per connection)."""
        if self._unit_validity_loaded:
            return
        import pyarrow as pa

        # a department code retired by the March 2025 merger still names its successor
        validities = self.ref.unit_validities
        table = pa.table(
            {
                "code": [v.code for v in validities],
                "valid_from": [v.valid_from for v in validities],
                "valid_to": [v.valid_to for v in validities],
            }
        )
        self.con.register("unit_validity_arrow", table)
        self.con.execute(
            "create or replace temp table unit_validity as select * from unit_validity_arrow"
        )
        self.con.unregister("unit_validity_arrow")
        self._unit_validity_loaded = True
