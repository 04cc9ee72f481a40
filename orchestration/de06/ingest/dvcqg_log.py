"""The sync payload's process log (feed ``dvcqg``): the status updates (``MaHoSo``,
``ThoiDiemXuLy``, ``TrangThai``, …) kept as sent in ``raw.dvcqg``, and what they tell the
dossier versions wherever they arrive, in the dossier's file or in another:

- ``complete_ends``: a version the batch brought without ``NgayKetThucXuLy`` ends, by the
  portal's rule (``de06.ingest.dvcqg_sql.log_end``), over the dossier's whole log as known now
  (every load's status updates up to the version's time), not only its own file's;
- ``log_versions``: status updates in a file without their dossier make a new version of it
  when they are newer than its current version (the newest step's status and time), or end it
  where the log did not before. The version is the current one's fields with the log's status,
  time and end, attributed to the newest status update (its load and row), and goes through
  the dossier feed's checks like any other.
"""

from __future__ import annotations

import datetime as dt

from de06.contracts import DVCQG_STATUSES
from de06.ingest import dossiers
from de06.ingest.context import LoadContext
from de06.ingest.dvcqg_sql import DATE_FORMAT, coded, field_date, field_text, is_dossier, log_end
from de06.ingest.sqltext import sql_literal
from de06.ingest.verdicts import FileReport, Problem

# the end of processing by the portal's rule, over raw.dvcqg (alias l)
STORED_LOG_END = log_end("l.processed_at", "l.status_code")
# a dossier version's columns as stored, but for those a status update changes
COPIED = (
    "source_system, dossier_id, agency_code, unit_code, procedure_code, received_at, channel, "
    "online_level, due_at, fee_amount, payment_channel, is_digitized, has_e_result, "
    "reused_data, identity_verified, applicant_key as applicant_id, satisfaction, "
    "synced_national_at"
)


def stage_status_updates(ctx: LoadContext) -> None:
    """``updates``: the files' status updates (the elements that are not dossiers), typed."""
    processed = field_date("ThoiDiemXuLy")
    status = coded(DVCQG_STATUSES, "TrangThai")
    ctx.con.execute(
        f"""
        create or replace temp table updates as
        select
            p._load_id,
            p.province,
            p._row_number,
            {field_text("MaHoSo")} as dossier_id,
            {status} as status,
            {field_text("TrangThai")} as status_code,
            {field_text("ThoiDiemXuLy")} as processed_text,
            {processed} as processed_at,
            {field_text("PhongBanXuLy")} as department,
            {field_date("NgayBatDau")} as started_at,
            {field_date("NgayKetThucTheoQuyDinh")} as due_by_rule_at
        from payloads as p
        where not {is_dossier()}
        """
    )


def insert_status_updates(ctx: LoadContext) -> tuple[dict[int, int], dict[int, list[Problem]]]:
    """Insert the staged status updates into raw.dvcqg (the process log); returns how many
    each file holds and the problems of those refused, by load id."""
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
    problems: dict[int, list[Problem]] = {}
    latest = dt.datetime.now() + dt.timedelta(days=1)
    refused: set[tuple[int, int]] = set()
    for condition, column, value, code, message in checks:
        for load_id, row, shown in ctx.con.execute(
            f"select _load_id, _row_number, {value} from updates where {condition} order by 1, 2",
            {"latest": latest} if "$latest" in condition else {},
        ).fetchall():
            problems.setdefault(load_id, []).append(Problem(int(row), column, shown, code, message))
            refused.add((load_id, int(row)))
    ctx.con.execute("create or replace temp table refused (_load_id bigint, _row_number bigint)")
    if refused:
        ctx.con.executemany("insert into refused values (?, ?)", sorted(refused))
    ctx.con.execute(
        "insert into raw.dvcqg select province, dossier_id, status, status_code, processed_at, "
        "department, started_at, due_by_rule_at, null::json, _load_id, _row_number "
        "from updates anti join refused using (_load_id, _row_number)"
    )
    counts = dict(ctx.con.execute("select _load_id, count(*) from updates group by all").fetchall())
    ctx.con.execute("drop table updates")
    ctx.con.execute("drop table refused")
    return {int(k): int(v) for k, v in counts.items()}, problems


def complete_ends(ctx: LoadContext, first: int, last: int) -> None:
    """The batch's dossier versions sent without ``NgayKetThucXuLy``: their end of processing
    by the portal's rule over the dossier's log as known now, up to the version's time (an end
    before receipt is not taken: the version stays open)."""
    ctx.con.execute(
        f"""
        update raw.dossiers as d set finished_at = e.log_end
        from (
            select d._load_id, d._row_number, d.received_at, {STORED_LOG_END} as log_end
            from raw.dossiers as d
            inner join raw.dvcqg as l
                on d.dossier_id = l.dossier_id and l.processed_at <= d.updated_at
            where d._load_id between $first and $last
                and d.source_system = 'provincial'
                and d.finished_at is null
            group by all
        ) as e
        where d._load_id = e._load_id and d._row_number = e._row_number
            and e.log_end >= e.received_at
        """,
        {"first": first, "last": last},
    )


def log_versions(ctx: LoadContext, reports: dict[int, FileReport]) -> dict[int, list[Problem]]:
    """New dossier versions from the batch's status updates in files without the dossier (see
    the module). Returns the problems of the versions refused by the dossier feed's checks,
    said on their status update, which is then refused too (taken out of raw.dvcqg and counted
    quarantined)."""
    first, last = min(reports), max(reports)
    sent_end = f"try_strptime(c.extra_columns ->> 'ngayketthucxuly', '{DATE_FORMAT}')"
    newer = "k.newest > c.updated_at"
    ctx.con.execute(
        f"""
        create or replace temp table incoming as
        with batch_log as (
            select
                _load_id,
                dossier_id,
                max(processed_at) as newest,
                arg_max(_row_number, processed_at) as row_number,
                arg_max(status, processed_at) as status,
                arg_max(status_code, processed_at) as status_code
            from raw.dvcqg
            anti join (
                select _load_id, dossier_id from raw.dossiers
                where _load_id between $first and $last and source_system = 'provincial'
            ) using (_load_id, dossier_id)
            where _load_id between $first and $last
            group by all
        ),
        current_versions as (
            select * from raw.dossiers
            semi join batch_log using (dossier_id)
            where source_system = 'provincial' and _superseded_by_load_id is null
        ),
        candidates as (
            select b.*, greatest(b.newest, c.updated_at) as version_at
            from batch_log as b
            inner join current_versions as c using (dossier_id)
        ),
        ends as (
            select k._load_id, k.dossier_id, {STORED_LOG_END} as log_end
            from candidates as k
            inner join raw.dvcqg as l
                on k.dossier_id = l.dossier_id and l.processed_at <= k.version_at
            group by all
        )
        select
            {", ".join("c." + c.strip() for c in COPIED.split(","))},
            coalesce({sent_end}, e.log_end, c.finished_at) as finished_at,
            case when {newer} then k.status else c.status end as status,
            k.version_at as updated_at,
            case when {newer} then k.status_code else c.extra_columns ->> 'trangthaihoso' end
                as "TrangThaiHoSo",
            c.extra_columns ->> 'mathtc' as "MaTTHC",
            c.extra_columns ->> 'duocthanhtoantructuyen' as "DuocThanhToanTrucTuyen",
            c.extra_columns ->> 'ngayketthucxuly' as "NgayKetThucXuLy",
            k._load_id,
            k.row_number as _row_number
        from candidates as k
        inner join current_versions as c using (dossier_id)
        left join ends as e on k._load_id = e._load_id and k.dossier_id = e.dossier_id
        where {newer}
            or ({sent_end} is null and e.log_end is distinct from c.finished_at)
        """,
        {"first": first, "last": last},
    )
    made = dict(ctx.con.execute("select _load_id, count(*) from incoming group by all").fetchall())
    parts = {
        load_id: FileReport(path=report.path, feed=report.feed, status="loaded",
                            rows_read=int(made.get(load_id, 0)))
        for load_id, report in reports.items()
    }  # fmt: skip
    found = dossiers.check_and_insert(
        ctx, parts, pseudonymised=True, allow_empty=True, older_than=last + 1, clean=True
    )
    refused = [(load_id, p) for load_id, problems in found.items() for p in problems]
    for load_id, p in refused:
        p.message = f"the dossier's version this status update makes: {p.message}"
        ctx.con.execute(
            "delete from raw.dvcqg where _load_id = ? and _row_number = ?", [load_id, p.row_number]
        )
    return found
