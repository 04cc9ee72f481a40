"""Dossiers as provincial one-stop systems send them to the national portal's synchronisation
API: files ``dvcqg__<province code>__<batch>.json`` (a JSON array, or JSON lines with
``.jsonl``), each element a dossier payload (``MaHoSo``, ``MaTTHC``, ``NgayTiepNhan``, …) or a
status update of the process log (``MaHoSo``, ``ThoiDiemXuLy``, ``TrangThai``, …). The
contract of the process log is ``de06.contracts.DVCQG``; the dossiers are versions of the
dossier feed (``source_system`` = ``provincial``), checked and inserted by its own checks
(``de06.ingest.dossiers.check_and_insert``), so that the marts cannot tell the two feeds apart.

DuckDB reads the file (``read_json``: streamed, never a whole file as Python objects) and maps
each payload in SQL; the handling unit (``DonViXuLy``) is matched by name within the province
the file name gives (``de06.portal_units``, the rules and override seed of the portal's 766
export). The applicant's identifiers (``SoGiayToChuHoSo``, ``DinhDanhCHS[].SoDinhDanh``) are
replaced by their keyed pseudonym as the file is read: the clear ID is written to no table.
The mapping, field by field, with its confidence: docs/feeds.md.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from pathlib import Path

from de06.contracts import DVCQG, DVCQG_CHANNELS, DVCQG_STATUSES
from de06.ingest import dossiers
from de06.ingest.context import LoadContext
from de06.ingest.sqltext import duckdb_path, sql_literal
from de06.ingest.verdicts import FileReport, IngestError, Problem
from de06.portal_units import unit_names

FEED = DVCQG
NAME = re.compile(FEED.name_pattern or "", re.IGNORECASE)
# the payload's fields read, as text (numbers sent as numbers are read as their text) or, for
# the lists, as JSON
TEXT_FIELDS = (
    "MaHoSo",
    "MaTTHC",
    "KenhThucHien",
    "SoGiayToChuHoSo",
    "NgayTiepNhan",
    "NgayHenTra",
    "TrangThaiHoSo",
    "NgayTra",
    "NgayKetThucXuLy",
    "NgayTuChoi",
    "DonViXuLy",
    "HoSoCoThanhPhanSoHoa",
    "TaiKhoanDuocXacThucVoiVNeID",
    "DuocThanhToanTrucTuyen",
    # a status update
    "ThoiDiemXuLy",
    "TrangThai",
    "PhongBanXuLy",
    "NgayBatDau",
    "NgayKetThucTheoQuyDinh",
)
LIST_FIELDS = ("TaiLieuNop", "DanhSachLePhi", "DanhSachGiayToKetQua", "DinhDanhCHS")
DATE_FORMAT = "%Y%m%d%H%M%S"
# the dossier columns made from another's field (said only when that field is not)
DERIVED = ("updated_at", "unit_code")
# the dossier feed's column <- the payload's field, for the messages
FIELD_OF = {
    "dossier_id": "MaHoSo",
    "agency_code": "DonViXuLy",
    "unit_code": "DonViXuLy",
    "procedure_code": "MaTTHC",
    "received_at": "NgayTiepNhan",
    "channel": "KenhThucHien",
    "due_at": "NgayHenTra",
    "finished_at": "NgayKetThucXuLy",
    "status": "TrangThaiHoSo",
    "fee_amount": "DanhSachLePhi",
    "updated_at": "NgayTiepNhan",
}


def parse_name(path: Path) -> tuple[str, str]:
    """The province code and the batch the file name gives."""
    match = NAME.fullmatch(path.name)
    if match is None:
        raise IngestError(
            "bad_file_name", f"the file name must be {FEED.name_pattern_words}: '{path.name}'"
        )
    return match["province"], match["batch"]


def _text(field: str) -> str:
    return f"nullif(trim(p.\"{field}\"), '')"


def _date(field: str) -> str:
    """A payload date (``yyyyMMddHHmmss``, local time) as the dossier feed's timestamp text;
    a value that is not such a date stays as sent, for the type check to name it."""
    value = _text(field)
    return (
        f"coalesce(strftime(try_strptime({value}, '{DATE_FORMAT}'), '%Y-%m-%d %H:%M:%S'), {value})"
    )


def _flag(field: str) -> str:
    return f"coalesce({_text(field)} = '1', false)"


def _any_item(list_field: str, condition: str) -> str:
    """Any item of a list field (JSON) meets ``condition`` (on ``x``, a JSON item)."""
    return (
        f'coalesce(list_bool_or(list_transform(cast(p."{list_field}" as json[]), '
        f"lambda x: {condition})), false)"
    )


def _mapping(text_to_code: dict[str, str], field: str, default: str | None = None) -> str:
    """A coded field to the feed's value; an unknown code stays as sent (the check names it)."""
    cases = " ".join(
        f"when {sql_literal(code)} then {sql_literal(value)}"
        for code, value in text_to_code.items()
    )
    missing = sql_literal(default) if default else "null"
    return (
        f"case coalesce({_text(field)}, '') when '' then {missing} {cases} else {_text(field)} end"
    )


def _read(ctx: LoadContext, path: Path, load_id: int) -> None:
    """``payloads``: every element of the file with its number (1-based), the applicant's
    identifiers already pseudonymised (the first identifier given)."""
    columns = {f: "VARCHAR" for f in TEXT_FIELDS} | {f: "JSON" for f in LIST_FIELDS}
    spec = "{" + ", ".join(f"'{name}': '{typ}'" for name, typ in columns.items()) + "}"
    applicant = (
        "coalesce(nullif(trim(\"SoGiayToChuHoSo\"), ''), "
        "nullif(trim(cast(\"DinhDanhCHS\" as json[])[1] ->> 'SoDinhDanh'), ''))"
    )
    outer, inner = ctx.pads
    kept = ", ".join(f'"{f}"' for f in (*TEXT_FIELDS, *LIST_FIELDS) if f != "SoGiayToChuHoSo")
    try:
        ctx.con.execute("set preserve_insertion_order = true")
        ctx.con.execute(
            "create or replace temp table payloads as select "
            f"{int(load_id)}::bigint as _load_id, row_number() over () as _row_number, {kept}, "
            f"{dossiers.pseudonym_sql(applicant)} as applicant_key "
            f"from read_json($path, format = 'auto', columns = {spec})",
            {"path": duckdb_path(path), "outer": outer, "inner": inner},
        )
    except Exception as exc:  # DuckDB's reader: a truncated or malformed file
        message = str(exc).splitlines()[0]
        raise IngestError("unreadable_file", f"cannot read the JSON: {message}") from exc


def _match_units(ctx: LoadContext, province: str) -> None:
    """``handlers``: each handling unit's name and day of receipt, with the warehouse's agency
    and unit codes it names (null when no unit, or two, have the name)."""
    names = unit_names(ctx.seeds_dir)
    pairs = ctx.con.execute(
        f"select distinct {_text('DonViXuLy')} as name, "
        f"cast(try_strptime({_text('NgayTiepNhan')}, '{DATE_FORMAT}') as date) as day "
        "from payloads as p where name is not null and day is not null"
    ).fetchall()
    rows: list[tuple[str, dt.date, str | None, str | None]] = []
    for name, day in pairs:
        unit = names.unit(province, name, day)
        if unit is None:
            rows.append((name, day, None, None))
        elif unit.level in ("agency",):
            rows.append((name, day, unit.code, unit.code.split(".", 1)[0]))
        else:
            rows.append((name, day, unit.code, unit.code))
    ctx.con.execute(
        "create or replace temp table handlers "
        "(name varchar, day date, agency_code varchar, unit_code varchar)"
    )
    if rows:
        ctx.con.executemany("insert into handlers values (?, ?, ?, ?)", rows)


def _dossier_rows(ctx: LoadContext) -> int:
    """``incoming``: the dossier payloads as dossier-feed rows (contract names, text), the
    sent codes kept beside them (extra columns). Returns how many."""
    is_dossier = f"({_text('MaTTHC')} is not null or {_text('NgayTiepNhan')} is not null)"
    received = f"try_strptime({_text('NgayTiepNhan')}, '{DATE_FORMAT}')"
    ends = ", ".join(
        f"try_strptime({_text(f)}, '{DATE_FORMAT}')"
        for f in ("NgayTiepNhan", "NgayKetThucXuLy", "NgayTra", "NgayTuChoi")
    )
    fee = (
        'coalesce(list_sum(list_transform(cast(p."DanhSachLePhi" as json[]), '
        "lambda x: try_cast(x ->> 'Gia' as decimal(18, 0)))), 0)"
    )
    ctx.con.execute(
        f"""
        create or replace temp table incoming as
        select
            'provincial' as source_system,
            {_text("MaHoSo")} as dossier_id,
            coalesce(h.agency_code, {_text("DonViXuLy")}) as agency_code,
            coalesce(h.unit_code, {_text("DonViXuLy")}) as unit_code,
            regexp_extract({_text("MaTTHC")}, '[0-9]\\.[0-9]{{6}}') as procedure_code,
            {_date("NgayTiepNhan")} as received_at,
            {_mapping(DVCQG_CHANNELS, "KenhThucHien", "direct")} as channel,
            null::varchar as online_level,
            {_date("NgayHenTra")} as due_at,
            {_date("NgayKetThucXuLy")} as finished_at,
            {_mapping(DVCQG_STATUSES, "TrangThaiHoSo")} as status,
            cast({fee} as varchar) as fee_amount,
            case when {_text("DuocThanhToanTrucTuyen")} in ('1', '2') then 'online' end
                as payment_channel,
            cast({_flag("HoSoCoThanhPhanSoHoa")}
                or {_any_item("TaiLieuNop", "(x ->> 'DuocSoHoa') = '1'")} as varchar) as is_digitized,
            cast({_any_item("DanhSachGiayToKetQua", "nullif(trim(x ->> 'DuongDanTepTinKetQua'), '') is not null")}
                as varchar) as has_e_result,
            cast({_any_item("TaiLieuNop", "(x ->> 'DuocTaiSuDung') = '1' or (x ->> 'DuocLayTuKhoDMQG') = '1'")}
                as varchar) as reused_data,
            cast({_flag("TaiKhoanDuocXacThucVoiVNeID")} as varchar) as identity_verified,
            p.applicant_key as applicant_id,
            null::varchar as satisfaction,
            null::varchar as synced_national_at,
            -- the version: the newest date the payload gives, or its newest status update
            strftime(greatest({ends}, u.last_update), '%Y-%m-%d %H:%M:%S') as updated_at,
            {_text("TrangThaiHoSo")} as "TrangThaiHoSo",
            {_text("KenhThucHien")} as "KenhThucHien",
            {_text("MaTTHC")} as "MaTTHC",
            {_text("DonViXuLy")} as "DonViXuLy",
            {_text("DuocThanhToanTrucTuyen")} as "DuocThanhToanTrucTuyen",
            p._load_id,
            p._row_number
        from payloads as p
        left join handlers as h
            on {_text("DonViXuLy")} = h.name and cast({received} as date) = h.day
        left join (
            select {_text("MaHoSo")} as dossier_id,
                max(try_strptime({_text("ThoiDiemXuLy")}, '{DATE_FORMAT}')) as last_update
            from payloads as p
            where not {is_dossier}
            group by all
        ) as u on {_text("MaHoSo")} = u.dossier_id
        where {is_dossier}
        """
    )
    (count,) = ctx.con.execute("select count(*) from incoming").fetchone() or (0,)
    return int(count)


def _payload_checks() -> tuple[str, ...]:
    """The checks the payload needs beyond the dossier feed's: a handling unit that matches
    no unit by name, a fee that is not a number."""
    unmatched = (
        "select _load_id, _row_number, 'DonViXuLy' as column_name, \"DonViXuLy\" as value, "
        "'unmatched_unit' as code, "
        "'DonViXuLy names no unit of the province (or two): settle it in "
        "seeds/index_766/index_766_unit_overrides.csv' as message "
        'from incoming as i where "DonViXuLy" is not null and not exists '
        '(select 1 from handlers as h where h.name = i."DonViXuLy" and h.agency_code is not null)'
    )
    bad_fee = (
        "select p._load_id, p._row_number, 'DanhSachLePhi' as column_name, "
        "cast(p.\"DanhSachLePhi\" as varchar) as value, 'bad_value' as code, "
        "'DanhSachLePhi[].Gia is not a whole number of VND' as message "
        'from payloads as p where list_bool_or(list_transform(cast(p."DanhSachLePhi" as json[]), '
        "lambda x: (x ->> 'Gia') is not null and try_cast(x ->> 'Gia' as decimal(18, 0)) is null))"
    )
    return (unmatched, bad_fee)


def _named(problems: list[Problem]) -> list[Problem]:
    """The dossier feed's problems in the payload's words: its field beside the column. A row
    whose handling unit matches no name is said once (not also as an unknown unit code), and
    the agency and unit both named by DonViXuLy once."""
    unmatched = {p.row_number for p in problems if p.code == "unmatched_unit"}
    undated = {p.row_number for p in problems if p.column == "received_at"}
    named: dict[tuple[int | None, str | None], Problem] = {}
    # a problem of a derived column (the version from the dates, the unit from the agency) last
    for p in sorted(problems, key=lambda p: p.column in DERIVED):
        if p.code in ("unknown_unit", "unit_not_valid_in_period") and (
            p.row_number in unmatched or p.row_number in undated
        ):
            continue  # no unit matched by name, or no day to match it on: said once
        field = FIELD_OF.get(p.column or "")
        if field and p.column:
            p.message = p.message.replace(p.column, f"{field} ({p.column})", 1)
            p.column = field
        named.setdefault((p.row_number, p.column), p)
    return list(named.values())


def _status_updates(ctx: LoadContext, province: str, load_id: int) -> tuple[int, list[Problem]]:
    """Insert the file's status updates into raw.dvcqg (the process log); returns how many
    were read and the problems of those refused."""
    processed = f"try_strptime({_text('ThoiDiemXuLy')}, '{DATE_FORMAT}')"
    status = _mapping(DVCQG_STATUSES, "TrangThai")
    ctx.con.execute(
        f"""
        create or replace temp table updates as
        select
            p._row_number,
            {_text("MaHoSo")} as dossier_id,
            {status} as status,
            {_text("TrangThai")} as status_code,
            {_text("ThoiDiemXuLy")} as processed_text,
            {processed} as processed_at,
            {_text("PhongBanXuLy")} as department,
            try_strptime({_text("NgayBatDau")}, '{DATE_FORMAT}') as started_at,
            try_strptime({_text("NgayKetThucTheoQuyDinh")}, '{DATE_FORMAT}') as due_by_rule_at
        from payloads as p
        where {_text("MaTTHC")} is null and {_text("NgayTiepNhan")} is null
        """
    )
    allowed = ", ".join(sql_literal(v) for v in set(DVCQG_STATUSES.values()))
    checks = [
        ("dossier_id is null", "MaHoSo", "null", "missing_value", "MaHoSo is required"),
        (
            "processed_text is null",
            "ThoiDiemXuLy",
            "null",
            "missing_value",
            "ThoiDiemXuLy is required (a status update, or a dossier without NgayTiepNhan)",
        ),
        (
            "processed_text is not null and processed_at is null",
            "ThoiDiemXuLy",
            "processed_text",
            "bad_type",
            "ThoiDiemXuLy is not a date yyyyMMddHHmmss",
        ),
        (
            "processed_at > $latest",
            "ThoiDiemXuLy",
            "processed_text",
            "future_date",
            "ThoiDiemXuLy lies in the future",
        ),
        (
            f"status is null or status not in ({allowed})",
            "TrangThai",
            "status_code",
            "bad_value",
            "TrangThai is not a status code of the portal (1-10)",
        ),
    ]
    problems: list[Problem] = []
    latest = dt.datetime.now() + dt.timedelta(days=1)
    for condition, column, value, code, message in checks:
        for row, shown in ctx.con.execute(
            f"select _row_number, {value} from updates where {condition} order by 1",
            {"latest": latest} if "$latest" in condition else {},
        ).fetchall():
            problems.append(Problem(int(row), column, shown, code, message))
    refused = sorted({p.row_number for p in problems if p.row_number is not None})
    ctx.con.execute(
        "insert into raw.dvcqg select $province, dossier_id, status, status_code, processed_at, "
        "department, started_at, due_by_rule_at, null::json, $load_id, _row_number "
        "from updates where not list_contains($refused, _row_number)",
        {"province": province, "load_id": load_id, "refused": refused},
    )
    (count,) = ctx.con.execute("select count(*) from updates").fetchone() or (0,)
    ctx.con.execute("drop table updates")
    return int(count), problems


def load(ctx: LoadContext, path: Path, load_id: int, report: FileReport) -> list[Problem]:
    province, _ = parse_name(path)
    if province not in ctx.ref.provinces_old and province not in ctx.ref.provinces_new:
        raise IngestError(
            "bad_file_name", f"the file name's province '{province}' is not a province code"
        )
    _read(ctx, path, load_id)
    (elements,) = ctx.con.execute("select count(*) from payloads").fetchone() or (0,)
    if not elements:
        raise IngestError("empty_file", "the file holds no dossier or status update")
    report.rows_read = int(elements)
    _match_units(ctx, province)
    n_dossiers = _dossier_rows(ctx)
    n_updates, problems = _status_updates(ctx, province, load_id)
    report.reasons.update(Counter(p.code for p in problems))
    report.accepted = n_updates - len({p.row_number for p in problems})
    if n_dossiers:
        part = FileReport(path=path, feed=report.feed, status="loaded", rows_read=n_dossiers)
        found = dossiers.check_and_insert(
            ctx, {load_id: part}, pseudonymised=True, more_checks=_payload_checks()
        )
        named = _named(found[load_id])
        problems += named
        report.reasons.update(Counter(p.code for p in named))
        report.extra_columns = part.extra_columns
        report.accepted += part.accepted
        report.superseded = part.superseded
    else:
        ctx.con.execute("drop table incoming")
    ctx.con.execute("drop table payloads")
    ctx.con.execute("drop table handlers")
    return sorted(problems, key=lambda p: (p.row_number or 0, p.column or ""))
