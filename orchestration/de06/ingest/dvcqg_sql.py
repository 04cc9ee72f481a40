"""The national portal's sync payload (feed ``dvcqg``) in SQL: a field's text, date, flag or
code as the mapping reads it (docs/feeds.md), over the temp table ``payloads`` (alias ``p``)
of ``de06.ingest.dvcqg``, and the end of a dossier's processing by the portal's rule."""

from __future__ import annotations

from de06.ingest.sqltext import sql_literal

DATE_FORMAT = "%Y%m%d%H%M%S"


def field_text(field: str) -> str:
    return f"nullif(trim(p.\"{field}\"), '')"


def is_dossier() -> str:
    """SQL: the element is a dossier (it has a procedure or a day of receipt); else it is a
    status update."""
    return f"({field_text('MaTTHC')} is not null or {field_text('NgayTiepNhan')} is not null)"


def field_date(field: str) -> str:
    """A payload date (``yyyyMMddHHmmss``, local time) as a timestamp; null when empty or not
    such a date (a check names the field: ``_payload_checks``)."""
    return f"try_strptime({field_text(field)}, '{DATE_FORMAT}')"


def field_flag(field: str) -> str:
    return f"coalesce({field_text(field)} = '1', false)"


def any_item(list_field: str, condition: str) -> str:
    """Any item of a list field (a list of structs) meets ``condition`` (on ``x``, an item)."""
    return f'coalesce(list_bool_or(list_transform(p."{list_field}", lambda x: {condition})), false)'


def coded(text_to_code: dict[str, str], field: str, default: str | None = None) -> str:
    """A coded field to the feed's value; an unknown code stays as sent (the check names it)."""
    cases = " ".join(
        f"when {sql_literal(code)} then {sql_literal(value)}"
        for code, value in text_to_code.items()
    )
    missing = sql_literal(default) if default else "null"
    return f"case coalesce({field_text(field)}, '') when '' then {missing} {cases} else {field_text(field)} end"


def log_end(step: str, code: str) -> str:
    """SQL (an aggregate over a dossier's status updates, ``step`` its time and ``code`` its
    code as sent): when its processing ended by the portal's rule, where the payload gives no
    ``NgayKetThucXuLy``: the first supplement request (5) ends the clock; else the first step
    processed (9), then result handed over (10), then stopped (8) or not accepted (3)."""
    firsts = ", ".join(
        f"min({step}) filter (where {code} in ({', '.join(repr(c) for c in codes)}))"
        for codes in (("5",), ("9",), ("10",), ("8", "3"))
    )
    return f"coalesce({firsts})"
