"""The generator's dossiers as a provincial system sends them to the national portal's
synchronisation API (feed ``dvcqg``, docs/feeds.md): one file per province and batch, each
dossier version a payload with a status update of the same time (so that the version's time
travels with it), the handling unit by the name the portal's units go by.

Only what the payload can say survives the trip: ``representable`` gives the dossier-feed rows
of the same dossiers as the payload expresses them (no online level, rating or sync time; a
payment channel only when online; `returned` sent as not accepted, which ends, by the portal's
rule, at that step of the log), which is what the two feeds
must load identically. Written by DuckDB (``COPY … (FORMAT json)``): a million dossiers in
seconds, never as Python objects. Dossiers received before the reorganisation (when districts
received dossiers, a name the payload cannot place) are not written.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pyarrow as pa

from de06.reference import REFORM_DATE, Reference, read_seed_csv

DATE = "%Y%m%d%H%M%S"
# the dossier feed's status -> the portal's code (returned: not accepted, the closest)
STATUS_CODES = {
    "received": "2",
    "processing": "4",
    "finished": "10",
    "withdrawn": "7",
    "rejected": "3",
    "returned": "3",
}
CHANNEL_CODES = {"direct": "1", "online": "2", "postal": "3"}


def unit_names(ref: Reference, seeds_dir: Path) -> pa.Table:
    """Each agency code of the 34-province era, its province and the name its system sends:
    a department "Sở Tư pháp", a commune "UBND Phường Việt Trì"."""
    rows: list[tuple[str, str, str]] = []
    for code in ref.provinces_new:
        rows += [(f"{code}.{d['dept_code']}", code, d["name_vi"]) for d in ref.departments]
    for row in read_seed_csv(seeds_dir / "admin_units" / "admin_communes_2025_07.csv"):
        rows.append((row["code"], row["province_code"], f"UBND {row['full_name']}"))
    codes, provinces, names = zip(*rows, strict=True)
    return pa.table({"agency_code": codes, "province": provinces, "name": names})


def _case(column: str, mapping: dict[str, str]) -> str:
    whens = " ".join(f"when '{k}' then '{v}'" for k, v in mapping.items())
    return f"case {column} {whens} end"


def representable(relation: str) -> str:
    """SQL of ``relation``'s dossier rows as the payload can carry them."""
    return f"""
        select
            * replace (
                null::varchar as online_level,
                case when payment_channel = 'online' then 'online' end as payment_channel,
                case when status = 'returned' then 'rejected' else status end as status,
                -- a dossier not accepted ends, by the portal's rule, at its log's step 3
                case
                    when finished_at is null and status in ('returned', 'rejected') then updated_at
                    else finished_at
                end as finished_at,
                null::varchar as satisfaction,
                null::timestamp as synced_national_at
            )
        from {relation}
        where received_at >= date '{REFORM_DATE.isoformat()}'
    """


def write_payloads(
    con: duckdb.DuckDBPyConnection, relation: str, names: pa.Table, out: Path, batch: str
) -> list[Path]:
    """Write the provincial dossier versions of ``relation`` (the dossier feed's columns) as
    payload files ``dvcqg__<province>__<batch>-v<n>.jsonl`` (JSON lines): the n-th version of
    each dossier in batch n, so that a file holds each dossier once, with a status update of
    the version's time. Returns the files."""
    out.mkdir(parents=True, exist_ok=True)
    con.register("payload_unit_names", names)
    try:
        con.execute(
            f"""
            create or replace temp table payload_versions as
            select
                d.*,
                n.name as unit_name,
                n.province as agency_province,
                row_number() over (partition by d.dossier_id order by d.updated_at) as version
            from ({representable(relation)}) as d
            inner join payload_unit_names as n on d.agency_code = n.agency_code
            where d.source_system = 'provincial'
            """
        )
        groups = con.execute(
            "select distinct agency_province, version from payload_versions order by all"
        ).fetchall()
        written: list[Path] = []
        for province, version in groups:
            path = out / f"dvcqg__{province}__{batch}-v{version}.jsonl"
            params = {"province": province, "version": version}
            where = "where agency_province = $province and version = $version"
            # JSON lines: the dossiers, then their status updates (each element with its own
            # fields only), written by DuckDB and put together
            parts = [path.with_suffix(".part1"), path.with_suffix(".part2")]
            con.execute(
                f"copy (select {_payload_columns()} from payload_versions {where} "
                f"order by dossier_id) to '{_quoted(parts[0])}' (format json)",
                params,
            )
            con.execute(
                f"""copy (select dossier_id as "MaHoSo",
                    strftime(updated_at, '{DATE}') as "ThoiDiemXuLy",
                    {_case("status", STATUS_CODES)} as "TrangThai"
                    from payload_versions {where} order by dossier_id)
                to '{_quoted(parts[1])}' (format json)""",
                params,
            )
            with path.open("wb") as whole:
                for part in parts:
                    with part.open("rb") as piece:
                        shutil.copyfileobj(piece, whole)
                    part.unlink()
            written.append(path)
        return written
    finally:
        con.unregister("payload_unit_names")


def _quoted(path: Path) -> str:
    return str(path).replace("'", "''")


def _payload_columns() -> str:
    return f"""
        dossier_id as "MaHoSo",
        procedure_code || '.000.00.00.H' || agency_province as "MaTTHC",
        {_case("channel", CHANNEL_CODES)} as "KenhThucHien",
        applicant_id as "SoGiayToChuHoSo",
        strftime(received_at, '{DATE}') as "NgayTiepNhan",
        coalesce(strftime(due_at, '{DATE}'), '') as "NgayHenTra",
        {_case("status", STATUS_CODES)} as "TrangThaiHoSo",
        coalesce(strftime(finished_at, '{DATE}'), '') as "NgayKetThucXuLy",
        unit_name as "DonViXuLy",
        case when is_digitized then '1' else '0' end as "HoSoCoThanhPhanSoHoa",
        case when identity_verified then '1' else '0' end as "TaiKhoanDuocXacThucVoiVNeID",
        case when payment_channel = 'online' then '1' else '0' end as "DuocThanhToanTrucTuyen",
        case when fee_amount > 0
            then [{{'TenPhiLePhi': 'Lệ phí', 'Gia': cast(fee_amount as varchar)}}]
            else [] end as "DanhSachLePhi",
        [{{'DuocSoHoa': '0', 'DuocTaiSuDung': case when reused_data then '1' else '0' end}}]
            as "TaiLieuNop",
        case when has_e_result
            then [{{'TenGiayTo': 'Kết quả', 'DuongDanTepTinKetQua': 'https://kq/' || dossier_id}}]
            else [] end as "DanhSachGiayToKetQua"
    """


def write_both(dossier_files: list[Path], seeds_dir: Path, out: Path, batch: str) -> list[Path]:
    """The provincial dossiers of ``dossier_files`` (the generator's Parquet files)
    received after the reorganisation, twice: as payload files under ``out/dvcqg/`` and, as
    the payload expresses them, as one dossier-feed Parquet file under ``out/dossiers/``.
    Loaded, the two give the same raw rows (tests/python/test_dvcqg.py) and the same marts.
    Returns the payload files."""
    from de06.reference import load_reference

    con = duckdb.connect()
    try:
        files = [str(p) for p in dossier_files]
        con.execute(f"create view generated as select * from read_parquet({files!r})")
        (out / "dossiers").mkdir(parents=True, exist_ok=True)
        con.execute(
            f"copy (select * from ({representable('generated')}) "
            "where source_system = 'provincial' order by dossier_id, updated_at) "
            f"to '{_quoted(out / 'dossiers' / f'dossiers_{batch}.parquet')}' (format parquet)"
        )
        names = unit_names(load_reference(seeds_dir), seeds_dir)
        return write_payloads(con, "generated", names, out / "dvcqg", batch)
    finally:
        con.close()


def as_payload(landing: Path, seeds_dir: Path, batch: str) -> list[Path]:
    """In the generator's output ``landing``: the provincial dossiers received after the
    reorganisation in its Parquet months, written instead as payload files under
    ``landing/dvcqg/`` (as the payload can carry them: ``representable``), the Parquet files
    keeping the rest (a month left empty is removed). The CSV months stay as they are: the
    demo then lands all three of the dossier feed's forms. Returns the payload files."""
    from de06.reference import load_reference

    months = sorted((landing / "dossiers").glob("dossiers_provincial_*.parquet"))
    if not months:
        return []
    con = duckdb.connect()
    try:
        files = [str(p) for p in months]
        con.execute(f"create view generated as select * from read_parquet({files!r})")
        names = unit_names(load_reference(seeds_dir), seeds_dir)
        written = write_payloads(con, "generated", names, landing / "dvcqg", batch)
        con.execute("drop view generated")
        kept = f"not (source_system = 'provincial' and received_at >= date '{REFORM_DATE}')"
        for month in months:
            rest = month.with_suffix(".rest")
            con.execute(
                f"copy (select * from read_parquet('{_quoted(month)}') where {kept}) "
                f"to '{_quoted(rest)}' (format parquet)"
            )
            (rows,) = con.execute(
                f"select count(*) from read_parquet('{_quoted(rest)}')"
            ).fetchone() or (0,)
            if rows:
                rest.replace(month)
            else:
                rest.unlink()
                month.unlink()
        return written
    finally:
        con.close()
