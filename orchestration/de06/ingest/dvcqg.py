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
from typing import Any

import pyarrow as pa

from de06.contracts import DVCQG, DVCQG_CHANNELS, DVCQG_STATUSES
from de06.ingest import dossiers
from de06.ingest.context import LoadContext
from de06.ingest.dossiers import Entry
from de06.ingest.dvcqg_log import (
    complete_ends,
    insert_status_updates,
    log_versions,
    stage_status_updates,
)
from de06.ingest.dvcqg_sql import (
    any_item,
    coded,
    field_date,
    field_flag,
    field_text,
    is_dossier,
)
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
# the lists, as DuckDB reads them: only the fields the mapping reads (others are ignored)
LIST_FIELDS = {
    "TaiLieuNop": 'STRUCT("DuocSoHoa" VARCHAR, "DuocTaiSuDung" VARCHAR, '
    '"DuocLayTuKhoDMQG" VARCHAR)[]',
    "DanhSachLePhi": 'STRUCT("Gia" VARCHAR)[]',
    "DanhSachGiayToKetQua": 'STRUCT("DuongDanTepTinKetQua" VARCHAR)[]',
    "DinhDanhCHS": 'STRUCT("SoDinhDanh" VARCHAR)[]',
}
# the era of a dossier's unit list, by its day of receipt (yyyyMMdd, compared as text: no
# date parsed for it; a date that is not one is refused by its own check): $reform_day
AFTER_REFORM = f"(left({field_text('NgayTiepNhan')}, 8) >= $reform_day)"
# the applicant's identifiers: read only into their pseudonym, kept in no table (not even a
# temporary one, which DuckDB may spill to disk)
PERSONAL = ("SoGiayToChuHoSo", "DinhDanhCHS")
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


def _read(ctx: LoadContext, entries: list[Entry]) -> None:
    """``payloads``: every element of the files with its file's load id and province and its
    number in the file (1-based), the applicant's identifiers already pseudonymised (the first
    identifier given). A list field that is not a list of objects (``"DanhSachLePhi":
    "50000"``) does not make the file unreadable: the files are read again with the lists as
    JSON, and such an element names its field (``_bad_list``, which a check refuses)."""
    try:
        _read_files(ctx, entries, lists_as_json=False)
    except IngestError as exc:
        try:
            _read_files(ctx, entries, lists_as_json=True)
        except IngestError:
            raise exc from None  # truncated or malformed: the first reading's words
    files = ", ".join(
        f"({i}, {int(load_id)}, {sql_literal(parse_name(path)[0])})"
        for i, (path, load_id, _) in enumerate(entries)
    )
    # each file's load id, province and first row (a few rows); the elements are not copied
    # again: ``payloads`` is a view, each reader joins the files' table
    ctx.con.execute(
        "create or replace temp table payload_files as "
        "select f.*, m.first_rowid, m.n_elements from (select file_index, "
        "min(rowid) as first_rowid, count(*) as n_elements "
        "from payloads_read group by file_index) as m "
        f"inner join (values {files}) as f (file_index, _load_id, province) "
        "on m.file_index = f.file_index"
    )
    ctx.con.execute(
        "create or replace temp view payloads as "
        "select f._load_id, f.province, r.rowid - f.first_rowid + 1 as _row_number, "
        "r.* exclude (file_index) "
        "from payloads_read as r inner join payload_files as f on r.file_index = f.file_index"
    )


def _read_files(ctx: LoadContext, entries: list[Entry], lists_as_json: bool) -> None:
    """``payloads_read``: one read of every file, in file order and each file's order
    (insertion order is kept: a row's place in the table is its place in its file)."""
    lists = {f: "JSON" for f in LIST_FIELDS} if lists_as_json else LIST_FIELDS
    columns = {f: "VARCHAR" for f in TEXT_FIELDS} | lists
    spec = "{" + ", ".join(f"'{name}': '{typ}'" for name, typ in columns.items()) + "}"
    typed = {f: f'try_cast("{f}" as {typ})' for f, typ in LIST_FIELDS.items()}
    if lists_as_json:  # each list typed on its own; the first that is not a list is named
        bad = " ".join(
            f'when "{f}" is not null and (json_type("{f}") <> \'ARRAY\' '
            f"or {typed[f]} is null) then {sql_literal(f)}"
            for f in LIST_FIELDS
        )
        lists_sql = ", ".join(f'{typed[f]} as "{f}"' for f in LIST_FIELDS if f not in PERSONAL)
        bad_sql = f"case {bad} end as _bad_list"
    else:
        lists_sql = ", ".join(f'"{f}"' for f in LIST_FIELDS if f not in PERSONAL)
        bad_sql = "null::varchar as _bad_list"
    ids = typed["DinhDanhCHS"] if lists_as_json else '"DinhDanhCHS"'
    applicant = (
        "coalesce(nullif(trim(\"SoGiayToChuHoSo\"), ''), "
        f"nullif(trim(({ids})[1].\"SoDinhDanh\"), ''))"
    )
    outer, inner = ctx.pads
    kept = ", ".join(f'"{f}"' for f in TEXT_FIELDS if f not in PERSONAL)
    listed = ", ".join(sql_literal(duckdb_path(path)) for path, _, _ in entries)
    try:
        ctx.con.execute("set preserve_insertion_order = true")
        ctx.con.execute(
            "create or replace temp table payloads_read as select file_index, "
            f"{kept}, {lists_sql}, {bad_sql}, "
            f"{dossiers.pseudonym_sql(applicant)} as applicant_key "
            f"from read_json([{listed}], format = 'auto', columns = {spec})",
            {"outer": outer, "inner": inner},
        )
    except Exception as exc:  # DuckDB's reader: a truncated or malformed file
        # DuckDB quotes the value it could not type: it may be an applicant's identifier
        message = re.sub(r"(but got \w+):.*", r"\1", str(exc).splitlines()[0])
        raise IngestError("unreadable_file", f"cannot read the JSON: {message}") from exc


def _match_units(ctx: LoadContext) -> dt.date:
    """``handlers``: each handling unit's name in its file's province, before or after the
    reorganisation (the era of its unit list) by the day of receipt, with the warehouse's
    agency and unit codes it names (null when no unit, or two, have the name). One lookup per
    province, name and era. Returns the reorganisation's date."""
    names = unit_names(ctx.seeds_dir)
    reform = names.reform_date
    pairs = ctx.con.execute(
        # distinct per file first, on the read itself (no row numbers), then per province
        "select distinct f.province, n.name, n.after from (select distinct file_index, "
        f"{field_text('DonViXuLy')} as name, {AFTER_REFORM} as after from payloads_read as p "
        'where p."DonViXuLy" is not null) as n '
        "inner join payload_files as f on n.file_index = f.file_index "
        "where n.name is not null and n.after is not null",
        {"reform_day": reform.strftime("%Y%m%d")},
    ).fetchall()
    found: dict[str, list[Any]] = {k: [] for k in ("province", "name", "after", "agency", "unit")}
    for province, name, after in pairs:
        unit = names.unit(province, name, reform if after else reform - dt.timedelta(days=1))
        found["province"].append(province)
        found["name"].append(name)
        found["after"].append(after)
        found["agency"].append(unit.code if unit else None)
        found["unit"].append(
            None
            if unit is None
            else unit.code.split(".")[0]
            if unit.level == "agency"
            else unit.code
        )
    table = pa.table(
        {
            "province": pa.array(found["province"], pa.string()),
            "name": pa.array(found["name"], pa.string()),
            "after": pa.array(found["after"], pa.bool_()),
            "agency_code": pa.array(found["agency"], pa.string()),
            "unit_code": pa.array(found["unit"], pa.string()),
        }
    )
    ctx.con.register("handlers_arrow", table)
    ctx.con.execute("create or replace temp table handlers as select * from handlers_arrow")
    ctx.con.unregister("handlers_arrow")
    return reform


def _dossier_rows(ctx: LoadContext, reform: dt.date) -> None:
    """``incoming``: the dossier payloads as dossier-feed rows (contract names; the dates,
    fee and flags already typed, so the dossier feed's checks skip their types), the sent
    codes kept beside them (extra columns)."""
    ends = ", ".join(
        field_date(f) for f in ("NgayTiepNhan", "NgayKetThucXuLy", "NgayTra", "NgayTuChoi")
    )
    fee = (
        'coalesce(list_sum(list_transform(p."DanhSachLePhi", '
        'lambda x: try_cast(x."Gia" as decimal(18, 0)))), 0)'
    )
    ctx.con.execute(
        f"""
        create or replace temp table incoming as
        select
            'provincial' as source_system,
            {field_text("MaHoSo")} as dossier_id,
            coalesce(h.agency_code, {field_text("DonViXuLy")}) as agency_code,
            coalesce(h.unit_code, {field_text("DonViXuLy")}) as unit_code,
            nullif(regexp_extract({field_text("MaTTHC")}, '[0-9]\\.[0-9]{{6}}'), '')
                as procedure_code,
            {field_date("NgayTiepNhan")} as received_at,
            {coded(DVCQG_CHANNELS, "KenhThucHien", "direct")} as channel,
            null::varchar as online_level,
            {field_date("NgayHenTra")} as due_at,
            -- the end of processing as sent; else by the portal's rule over the dossier's
            -- log, once the batch's status updates are stored (dvcqg_log.complete_ends)
            {field_date("NgayKetThucXuLy")} as finished_at,
            {coded(DVCQG_STATUSES, "TrangThaiHoSo")} as status,
            cast({fee} as bigint) as fee_amount,
            case when {field_text("DuocThanhToanTrucTuyen")} in ('1', '2') then 'online' end
                as payment_channel,
            {field_flag("HoSoCoThanhPhanSoHoa")}
                or {any_item("TaiLieuNop", "x.DuocSoHoa = '1'")} as is_digitized,
            {any_item("DanhSachGiayToKetQua", "nullif(trim(x.DuongDanTepTinKetQua), '') is not null")}
                as has_e_result,
            {any_item("TaiLieuNop", "x.DuocTaiSuDung = '1' or x.DuocLayTuKhoDMQG = '1'")}
                as reused_data,
            {field_flag("TaiKhoanDuocXacThucVoiVNeID")} as identity_verified,
            p.applicant_key as applicant_id,
            null::varchar as satisfaction,
            null::timestamp as synced_national_at,
            -- the version: the newest date the payload gives, or its newest status update
            greatest({ends}, u.last_update) as updated_at,
            {field_text("TrangThaiHoSo")} as "TrangThaiHoSo",
            {field_text("MaTTHC")} as "MaTTHC",
            {field_text("DuocThanhToanTrucTuyen")} as "DuocThanhToanTrucTuyen",
            {field_text("NgayKetThucXuLy")} as "NgayKetThucXuLy",
            {_payload_problems()} as _problems,
            -- a name looked up that matched no unit (or two): agency_code is then the name
            h.name is not null and h.agency_code is null as _unmatched,
            p._load_id,
            p._row_number
        from payloads as p
        left join handlers as h
            on p.province = h.province
                and {field_text("DonViXuLy")} = h.name
                and {AFTER_REFORM} = h.after
        left join (
            select _load_id, dossier_id, max(processed_at) as last_update
            from updates
            group by all
        ) as u on p._load_id = u._load_id and {field_text("MaHoSo")} = u.dossier_id
        where {is_dossier()}
        """,
        {"reform_day": reform.strftime("%Y%m%d")},
    )


def _payload_checks() -> tuple[str, ...]:
    """The checks the payload needs beyond the dossier feed's: those found as the elements
    were mapped (``_problems``: ``_payload_problems``), and a handling unit that matches no
    unit by name."""
    in_payload = (
        "select _load_id, _row_number, x.column_name, x.value, x.code, x.message from ("
        "select _load_id, _row_number, unnest(_problems) as x from incoming "
        "where len(_problems) > 0)"
    )
    unmatched = (
        "select _load_id, _row_number, 'DonViXuLy' as column_name, agency_code as value, "
        "'unmatched_unit' as code, "
        "'DonViXuLy names no unit of the province (or two): settle it in "
        "seeds/index_766/index_766_unit_overrides.csv' as message from incoming where _unmatched"
    )
    return (in_payload, unmatched)


def _payload_problems() -> str:
    """SQL: a dossier element's problems the dossier feed's checks cannot see, as a list of
    (column, value, code, message): a date that is not ``yyyyMMddHHmmss``, a fee that is not a
    number, a list that is not a list. Computed as the element is mapped (no second scan)."""

    def problem(condition: str, column: str, value: str, code: str, message: str) -> str:
        return (
            f"case when {condition} then {{'column_name': {column}, 'value': {value}, "
            f"'code': '{code}', 'message': {message}}} end"
        )

    found = [
        problem(
            f"{field_text(field)} is not null and {field_date(field)} is null",
            f"'{field}'",
            field_text(field),
            "bad_type",
            f"'{field} is not a date yyyyMMddHHmmss'",
        )
        for field in ("NgayTiepNhan", "NgayHenTra", "NgayKetThucXuLy")
    ]
    found.append(
        problem(
            'coalesce(list_bool_or(list_transform(p."DanhSachLePhi", lambda x: x."Gia" is not '
            'null and try_cast(x."Gia" as decimal(18, 0)) is null)), false)',
            "'DanhSachLePhi'",
            'cast(p."DanhSachLePhi" as varchar)',
            "bad_value",
            "'DanhSachLePhi[].Gia is not a whole number of VND'",
        )
    )
    found.append(
        problem(
            "p._bad_list is not null",
            "p._bad_list",
            "null::varchar",
            "bad_type",
            "p._bad_list || ' is not a list of objects'",
        )
    )
    return f"list_filter([{', '.join(found)}], lambda y: y is not null)"


def _named(problems: list[Problem]) -> list[Problem]:
    """The dossier feed's problems in the payload's words: its field beside the column. A row
    whose handling unit matches no name is said once (not also as an unknown unit code), and
    the agency and unit both named by DonViXuLy once."""
    unmatched = {p.row_number for p in problems if p.code == "unmatched_unit"}
    undated = {p.row_number for p in problems if p.column in ("received_at", "NgayTiepNhan")}
    named: dict[tuple[int | None, str | None], Problem] = {}
    # a problem of a derived column (the version from the dates, the unit from the agency) last
    for p in sorted(problems, key=lambda p: (p.column in DERIVED, p.code == "missing_value")):
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


# what ``prepare`` leaves for ``load_files`` (dropped by ``discard``)
STAGED = ("payloads_read", "payload_files", "handlers", "incoming", "updates")


def load(ctx: LoadContext, path: Path, load_id: int, report: FileReport) -> list[Problem]:
    """One payload file, read in the open transaction (the loader's way of saying why a file
    it could not prepare is refused; on a failure its rollback drops what was made)."""
    prepare(ctx, [(path, load_id, report)])
    problems = load_files(ctx, [(path, load_id, report)])[load_id]
    discard(ctx)
    return problems


def prepare(ctx: LoadContext, entries: list[Entry]) -> None:
    """Read the files and map their elements, before the loader opens its transaction: the
    temp tables made here are committed, so DuckDB scans them in parallel (a table made inside
    a transaction is scanned by one thread: the checks and the insert took twice as long), and
    a list DuckDB cannot type does not abort the transaction (``_read`` reads again). Nothing
    here writes to the warehouse's tables."""
    for path, _, _ in entries:
        province, _ = parse_name(path)
        if province not in ctx.ref.provinces_old and province not in ctx.ref.provinces_new:
            raise IngestError(
                "bad_file_name", f"the file name's province '{province}' is not a province code"
            )
    _read(ctx, entries)
    reform = _match_units(ctx)
    stage_status_updates(ctx)
    _dossier_rows(ctx, reform)


def discard(ctx: LoadContext) -> None:
    """Drop what ``prepare`` made (whatever a failure left)."""
    ctx.con.execute("drop view if exists payloads")
    for table in STAGED:
        ctx.con.execute(f"drop table if exists {table}")


def load_files(ctx: LoadContext, entries: list[Entry]) -> dict[int, list[Problem]]:
    """Payload files together, in the open transaction, once ``prepare`` has read them: one
    pass of the checks. Fills in each file's report; returns each file's problems by load id.
    A file without elements raises (the loader then loads each file on its own)."""
    reports = {load_id: report for _, load_id, report in entries}
    elements = dict(ctx.con.execute("select _load_id, n_elements from payload_files").fetchall())
    for load_id, report in reports.items():
        report.rows_read = int(elements.get(load_id, 0))
        if not report.rows_read:
            raise IngestError("empty_file", "the file holds no dossier or status update")
    n_updates, problems = insert_status_updates(ctx)
    parts = {
        load_id: FileReport(path=report.path, feed=report.feed, status="loaded")
        for load_id, report in reports.items()
    }
    counted = dict(
        ctx.con.execute("select _load_id, count(*) from incoming group by all").fetchall()
    )
    for load_id, part in parts.items():
        part.rows_read = int(counted.get(load_id, 0))
    found = dossiers.check_and_insert(
        ctx,
        parts,
        pseudonymised=True,
        more_checks=_payload_checks(),
        allow_empty=True,
        internal=("_problems", "_unmatched"),
        clean=True,
    )
    complete_ends(ctx, min(reports), max(reports))
    from_log = log_versions(ctx, reports)
    for load_id, report in reports.items():
        mine = problems.get(load_id, []) + from_log[load_id]
        report.reasons.update(Counter(p.code for p in mine))
        named = _named(found[load_id])
        report.reasons.update(Counter(p.code for p in named))
        part = parts[load_id]
        report.extra_columns = part.extra_columns if part.rows_read else []
        report.accepted = n_updates.get(load_id, 0) - len({p.row_number for p in mine})
        report.accepted += part.accepted
        report.superseded = part.superseded
        problems[load_id] = sorted(
            [*mine, *named], key=lambda p: (p.row_number or 0, p.column or "")
        )
    return {load_id: problems.get(load_id, []) for load_id in reports}
