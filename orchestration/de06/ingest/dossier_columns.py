"""The dossier feed's columns as SQL: each column of the files being loaded (the view or table
``incoming``) as the file has it, its text trimmed (blank as null), lower-cased for an
enumeration, typed as the contract types it. Used by the checks (``dossier_checks``), the
marking of superseded versions and the insert (``dossiers``)."""

from __future__ import annotations

from dataclasses import dataclass

from de06.contracts import DOSSIERS
from de06.ingest.sqltext import sql_identifier

FEED = DOSSIERS
TYPES = {c.name: c.type for c in FEED.columns}
# the personal column: stored only as its pseudonym
PERSONAL = next(c.name for c in FEED.columns if c.stored_as)


# text columns whose values are mostly unique (the dossier's id, the applicant's): read as
# plain strings, not dictionaries (a function of a dictionary column runs once per value in
# the dictionary; of one of these, once per row)
UNIQUE_TEXT = frozenset(
    {c.name for c in FEED.columns if c.name in FEED.key and c.type == "varchar" and not c.values}
    | {PERSONAL}
)


def as_text(name: str, unique: bool = False) -> str:
    """A text column's value: trimmed, blank as null. DuckDB's ``trim`` takes the spaces
    (Unicode's, NBSP and U+3000 among them) off both ends and copies every string it is given;
    for a column of ``unique`` values it is called only on a value that starts or ends with a
    space or is not all ASCII (a third of the cost on unique ids). A column of few values keeps
    the plain ``trim``, which DuckDB runs once per value of the column's dictionary."""
    col = sql_identifier(name)
    if not unique:
        return f"nullif(trim({col}), '')"
    return (
        f"nullif(case when starts_with({col}, ' ') or ends_with({col}, ' ') "
        f"or strlen({col}) <> length({col}) then trim({col}) else {col} end, '')"
    )


@dataclass(frozen=True)
class Incoming:
    """The columns of the files being loaded (view or table ``incoming``), by contract name:
    each as the file has it (name, DuckDB type), and SQL for its text and its typed value."""

    actual: dict[str, tuple[str, str]]
    # the text columns already trimmed, blank as null and enumerations lower-case (a feed that
    # mapped its rows in SQL, as the sync payload does): used as they are
    clean: bool = False

    def text(self, col: str) -> str:
        name, typ = self.actual[col]
        if typ == "VARCHAR":
            return sql_identifier(name) if self.clean else as_text(name, col in UNIQUE_TEXT)
        return f"{sql_identifier(name)}::varchar"

    def missing(self, col: str) -> str:
        """SQL true when the value is null or blank (a typed column is not cast to text for
        it)."""
        name, typ = self.actual[col]
        return (
            f"{sql_identifier(name)} is null" if typ != "VARCHAR" else f"{self.text(col)} is null"
        )

    def lowered(self, col: str) -> str:
        """An enumeration's text, lower-case."""
        return self.text(col) if self.clean else f"lower({self.text(col)})"

    def native(self, col: str) -> bool:
        """The column already has the contract's type (a typed Parquet file)."""
        return self.actual[col][1] == TYPES[col].upper() != "VARCHAR"

    def typed(self, col: str) -> str:
        name, typ = self.actual[col]
        if self.native(col):
            return sql_identifier(name)
        if typ == "VARCHAR":
            return f"try_cast({self.text(col)} as {TYPES[col]})"
        return f"try_cast({sql_identifier(name)} as {TYPES[col]})"
