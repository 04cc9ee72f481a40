"""Dossiers as provincial systems send them to the national portal's synchronisation API
(feed ``dvcqg``): each payload field mapped to the dossier feed as the issue's mapping says,
worked out by hand (province 25 is Phú Thọ after 1 July 2025: "Sở Tư pháp" is 25.STP and "UBND
Phường Việt Trì" its ward 07900); the applicant's identifiers never stored clear; bad payloads
named by row and field, quarantined, the rest loaded; the same dossiers sent as the dossier
feed's CSV give the same raw rows."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from conftest import make_settings
from de06.ingest import ingest
from de06.settings import Settings
from test_ingest import query

CLEAR_ID = "001099012345"
OTHER_ID = "079188000111"

# a finished online dossier of the justice department: every field the mapping reads
FULL = {
    "MaHoSo": "H25.01-250801-0001",
    "MaTTHC": "1.001612.000.00.00.H25",
    "TenTTHC": "Cấp bản sao trích lục hộ tịch",
    "KenhThucHien": "2",
    "SoGiayToChuHoSo": CLEAR_ID,
    "ChuHoSo": "Nguyễn Văn A",
    "NgayTiepNhan": "20250801080000",
    "NgayHenTra": "20250805170000",
    "TrangThaiHoSo": "10",
    "NgayKetThucXuLy": "20250804100000",
    "NgayTra": "20250804150000",
    "DonViXuLy": "Sở Tư pháp",
    "HoSoCoThanhPhanSoHoa": "0",
    "TaiKhoanDuocXacThucVoiVNeID": "1",
    "DuocThanhToanTrucTuyen": "2",
    "DanhSachLePhi": [{"TenPhiLePhi": "Lệ phí", "Gia": "50000"}, {"Gia": 20000}],
    "TaiLieuNop": [{"DuocSoHoa": "1", "DuocTaiSuDung": "0", "DuocLayTuKhoDMQG": "0"}],
    "DanhSachGiayToKetQua": [{"TenGiayTo": "Bản sao", "DuongDanTepTinKetQua": "https://k/q.pdf"}],
    "DinhDanhCHS": [{"LoaiDinhDanh": "1", "SoDinhDanh": CLEAR_ID}],
}
# a ward's dossier still being processed: no channel (direct), no fee, no lists
WARD = {
    "MaHoSo": "H25.07900-250802-0002",
    "MaTTHC": "2.000001.000.00.00.H25",
    "NgayTiepNhan": "20250802081500",
    "NgayHenTra": "20250806170000",
    "TrangThaiHoSo": "5",
    "NgayKetThucXuLy": "",
    "DonViXuLy": "UBND Phường Việt Trì",
    "DinhDanhCHS": [{"LoaiDinhDanh": "1", "SoDinhDanh": OTHER_ID}],
}
# the justice department's dossier's process log: the newest step is its version's time
LOG = [
    {"MaHoSo": FULL["MaHoSo"], "NguoiXuLy": "Trần B", "ThoiDiemXuLy": "20250801080000",
     "TrangThai": "2", "PhongBanXuLy": "Bộ phận một cửa"},
    {"MaHoSo": FULL["MaHoSo"], "NguoiXuLy": "Lê C", "ThoiDiemXuLy": "20250805090000",
     "TrangThai": "10", "NgayBatDau": "20250804150000"},
]  # fmt: skip

RAW_COLUMNS = (
    "source_system, dossier_id, agency_code, unit_code, procedure_code, received_at, channel, "
    "online_level, due_at, finished_at, status, fee_amount, payment_channel, is_digitized, "
    "has_e_result, reused_data, identity_verified, applicant_key, satisfaction, "
    "synced_national_at, updated_at"
)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "home")


def write(path: Path, elements: list[dict[str, Any]], lines: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if lines:
        path.write_text("\n".join(json.dumps(e, ensure_ascii=False) for e in elements) + "\n")
    else:
        path.write_text(json.dumps(elements, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def rows(settings: Settings) -> dict[str, dict[str, Any]]:
    names = [c.strip() for c in RAW_COLUMNS.split(",")]
    found = query(settings, f"select {RAW_COLUMNS} from raw.dossiers order by dossier_id")
    return {r[1]: dict(zip(names, r, strict=True)) for r in found}


def test_each_payload_field_maps_to_the_dossier_feed(settings: Settings, tmp_path: Path) -> None:
    path = write(tmp_path / "dvcqg__25__20250806-001.json", [FULL, WARD, *LOG])
    (report,) = ingest(settings, [path])
    assert (report.feed, report.rows_read, report.accepted, report.quarantined) == (
        "dvcqg",
        4,
        4,
        0,
    ), report.line()
    got = rows(settings)
    full, ward = got[FULL["MaHoSo"]], got[WARD["MaHoSo"]]
    assert {k: full[k] for k in full if k != "applicant_key"} == {
        "source_system": "provincial",
        "dossier_id": "H25.01-250801-0001",
        "agency_code": "25.STP",
        "unit_code": "25",  # a department's dossier: the province
        "procedure_code": "1.001612",  # the national part of MaTTHC
        "received_at": dt("2025-08-01 08:00:00"),
        "channel": "online",  # KenhThucHien 2
        "online_level": None,  # the payload does not say
        "due_at": dt("2025-08-05 17:00:00"),
        "finished_at": dt("2025-08-04 10:00:00"),
        "status": "finished",  # TrangThaiHoSo 10, result handed over
        "fee_amount": 70000,  # 50 000 + 20 000
        "payment_channel": "online",  # DuocThanhToanTrucTuyen 2: a provincial gateway
        "is_digitized": True,  # HoSoCoThanhPhanSoHoa 0, but a document digitised
        "has_e_result": True,  # a result document with a file link
        "reused_data": False,
        "identity_verified": True,
        "satisfaction": None,  # not in the payload
        "synced_national_at": None,
        "updated_at": dt("2025-08-05 09:00:00"),  # the newest step of its log
    }
    assert {k: ward[k] for k in ("agency_code", "unit_code", "channel", "status")} == {
        "agency_code": "07900",
        "unit_code": "07900",
        "channel": "direct",  # no KenhThucHien: direct, as the portal counts it
        "status": "processing",  # 5, supplement requested
    }
    assert (ward["fee_amount"], ward["payment_channel"], ward["finished_at"]) == (0, None, None)
    assert ward["updated_at"] == dt("2025-08-02 08:15:00")  # no log: its newest date
    # the process log, every step kept, the status code as sent
    log = query(
        settings,
        "select province_code, dossier_id, status, status_code, processed_at, department, "
        "started_at, _row_number from raw.dvcqg order by processed_at",
    )
    assert log == [
        ("25", FULL["MaHoSo"], "received", "2", dt("2025-08-01 08:00:00"), "Bộ phận một cửa",
         None, 3),
        ("25", FULL["MaHoSo"], "finished", "10", dt("2025-08-05 09:00:00"), None,
         dt("2025-08-04 15:00:00"), 4),
    ]  # fmt: skip
    (extra,) = query(
        settings, "select extra_columns from raw.dossiers where dossier_id = ?", [WARD["MaHoSo"]]
    )[0]
    assert json.loads(extra)["trangthaihoso"] == "5"  # the code as sent, kept


def test_the_log_ends_processing_where_the_payload_does_not(
    settings: Settings, tmp_path: Path
) -> None:
    """No NgayKetThucXuLy: the end of processing is the portal's rule over the dossier's steps
    in the file. A supplement request (5) ends the clock, even before a later step processed
    (9); else processed (9) before result handed over (10); else stopped (8) or not accepted
    (3). A NgayKetThucXuLy sent wins over the log; a dossier with no ending step stays open."""

    def dossier(name: str, status: str, end: str = "") -> dict[str, Any]:
        return dict(WARD, MaHoSo=name, TrangThaiHoSo=status, NgayKetThucXuLy=end)

    def step(name: str, code: str, at: str) -> dict[str, Any]:
        return {"MaHoSo": name, "ThoiDiemXuLy": at, "TrangThai": code}

    elements = [
        dossier("SUPPLEMENT", "9"),
        step("SUPPLEMENT", "2", "20250802090000"),
        step("SUPPLEMENT", "5", "20250803100000"),
        step("SUPPLEMENT", "9", "20250807100000"),
        dossier("PROCESSED", "10"),
        step("PROCESSED", "10", "20250805160000"),
        step("PROCESSED", "9", "20250805110000"),
        dossier("STOPPED", "8"),
        step("STOPPED", "4", "20250803080000"),
        step("STOPPED", "8", "20250804080000"),
        dossier("SENT", "10", "20250804120000"),
        step("SENT", "9", "20250805080000"),
        dossier("OPEN", "4"),
        step("OPEN", "4", "20250803080000"),
    ]
    (report,) = ingest(settings, [write(tmp_path / "dvcqg__25__log.json", elements)])
    assert report.quarantined == 0, report.line()
    got = {k: (v["finished_at"], v["status"]) for k, v in rows(settings).items()}
    assert got == {
        "SUPPLEMENT": (dt("2025-08-03 10:00:00"), "finished"),
        "PROCESSED": (dt("2025-08-05 11:00:00"), "finished"),
        "STOPPED": (dt("2025-08-04 08:00:00"), "rejected"),
        "SENT": (dt("2025-08-04 12:00:00"), "finished"),
        "OPEN": (None, "processing"),
    }


def test_the_log_in_another_file_makes_a_new_version_or_ends_one(
    settings: Settings, tmp_path: Path
) -> None:
    """Status updates sent in a file without their dossier. Worked by hand:
    - LATE (processing, received 2 Aug 08:15, loaded the day before) gets, in a later load, a
      supplement request on 3 Aug 10:00 and processed on 7 Aug 10:00: a new version, finished,
      its time the newest step (7 Aug 10:00), its end the supplement request (3 Aug 10:00),
      attributed to that newest step's row (3 of its file); the old version is superseded by
      that file's load.
    - EARLY's log (processed 5 Aug 11:00, handed over 16:00) comes in a file loaded before its
      dossier's, in the same run; the dossier (handed over, NgayTra 16:00, no NgayKetThucXuLy)
      is not older than its log: one version, ended by the log at 11:00.
    - BEFORE's log says processed on 1 Aug, before its receipt on 2 Aug: the version it would
      make is impossible, so the status update is refused and named, the dossier left open.
    - NOBODY's update names no dossier yet: kept in the log, no version made."""

    def dossier(name: str, status: str, **more: str) -> dict[str, Any]:
        return dict(WARD, MaHoSo=name, TrangThaiHoSo=status, NgayKetThucXuLy="", **more)

    def step(name: str, code: str, at: str) -> dict[str, Any]:
        return {"MaHoSo": name, "ThoiDiemXuLy": at, "TrangThai": code}

    day1 = write(
        tmp_path / "d1" / "dvcqg__25__a.json", [dossier("LATE", "4"), dossier("BEFORE", "4")]
    )
    (first,) = ingest(settings, [day1])
    assert first.accepted == 2, first.line()
    log = write(tmp_path / "d2" / "dvcqg__25__1.json", [
        step("EARLY", "9", "20250805110000"),
        step("EARLY", "10", "20250805160000"),
        step("LATE", "5", "20250803100000"),
        step("LATE", "9", "20250807100000"),
        step("BEFORE", "9", "20250801100000"),
        step("NOBODY", "2", "20250801100000"),
    ])  # fmt: skip
    payload = write(tmp_path / "d2" / "dvcqg__25__2.json",
                    [dossier("EARLY", "10", NgayTra="20250805160000")])  # fmt: skip
    log_report, payload_report = ingest(settings, [log, payload])
    assert (log_report.rows_read, log_report.accepted, log_report.quarantined) == (6, 5, 1)
    assert log_report.reasons == {"impossible_date": 1}, log_report.line()
    assert payload_report.accepted == 1, payload_report.line()
    (load_id,) = query(
        settings, "select load_id from raw.load_files where file_name = 'dvcqg__25__1.json'"
    )[0]
    versions = query(
        settings,
        "select dossier_id, status, updated_at, finished_at, _superseded_by_load_id, "
        "_load_id = ? as from_log, _row_number from raw.dossiers order by dossier_id, updated_at",
        [load_id],
    )
    assert versions == [
        ("BEFORE", "processing", dt("2025-08-02 08:15:00"), None, None, False, 2),
        ("EARLY", "finished", dt("2025-08-05 16:00:00"), dt("2025-08-05 11:00:00"), None, False, 1),
        ("LATE", "processing", dt("2025-08-02 08:15:00"), None, load_id, False, 1),
        ("LATE", "finished", dt("2025-08-07 10:00:00"), dt("2025-08-03 10:00:00"), None, True, 4),
    ]
    assert query(settings, "select dossier_id from raw.dvcqg order by all") == [
        ("EARLY",), ("EARLY",), ("LATE",), ("LATE",), ("NOBODY",)
    ]  # fmt: skip
    (rejected,) = [p for p in settings.quarantine_dir.iterdir() if "dvcqg__25__1" in p.name]
    text = rejected.read_text("utf-8")
    assert "finished_at is before received_at" in text and "json,5,finished_at" in text, text


def dt(text: str) -> Any:
    import datetime

    return datetime.datetime.fromisoformat(text)


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("1", "received"),
        ("2", "received"),
        ("3", "rejected"),
        ("4", "processing"),
        ("5", "processing"),
        ("6", "processing"),
        ("7", "withdrawn"),
        ("8", "rejected"),
        ("9", "finished"),
        ("10", "finished"),
    ],
)
def test_the_portals_status_codes(code: str, status: str) -> None:
    from de06.contracts import DVCQG_STATUSES

    assert DVCQG_STATUSES[code] == status


def test_json_lines_and_numbers_sent_as_numbers(settings: Settings, tmp_path: Path) -> None:
    numeric = {**WARD, "KenhThucHien": 3, "DuocThanhToanTrucTuyen": 1, "TrangThaiHoSo": 9,
               "NgayKetThucXuLy": "20250803100000", "DanhSachLePhi": [{"Gia": 15000}]}  # fmt: skip
    path = write(tmp_path / "dvcqg__25__b2.jsonl", [numeric], lines=True)
    (report,) = ingest(settings, [path])
    assert report.accepted == 1, report.line()
    row = rows(settings)[WARD["MaHoSo"]]
    assert (row["channel"], row["status"], row["fee_amount"], row["payment_channel"]) == (
        "postal",
        "finished",
        15000,
        "online",
    )


def test_the_applicants_identifiers_are_never_stored_clear(
    settings: Settings, tmp_path: Path
) -> None:
    good = write(tmp_path / "dvcqg__25__ok.json", [FULL, WARD])
    bad = dict(FULL, MaHoSo="H25-BAD", NgayTiepNhan="not a date")
    cut = tmp_path / "dvcqg__25__cut.json"
    cut.write_text(json.dumps([FULL, WARD], ensure_ascii=False)[:400])
    reports = ingest(settings, [good, write(tmp_path / "dvcqg__25__bad.json", [bad]), cut])
    assert [r.status for r in reports] == ["loaded", "loaded", "rejected"]
    assert "Malformed JSON" in (reports[2].message or ""), reports[2].line()
    keys = {r[0] for r in query(settings, "select applicant_key from raw.dossiers")}
    assert len(keys) == 2 and all(len(k) == 64 for k in keys)  # two pseudonyms (hex SHA-256)
    # the clear ID is in no table and no quarantine file (the file cut short is not copied)
    for table in ("dossiers", "dvcqg", "quarantine", "load_files"):
        text = query(settings, f"select cast(list(t) as varchar) from raw.{table} as t")[0][0]
        assert CLEAR_ID not in (text or "") and OTHER_ID not in (text or ""), table
    quarantined = list(settings.quarantine_dir.iterdir())
    assert quarantined and not any(p.suffix == ".json" for p in quarantined)
    for p in quarantined:
        assert CLEAR_ID not in p.read_text(encoding="utf-8-sig")


def test_files_loaded_together_fail_one_by_one(settings: Settings, tmp_path: Path) -> None:
    """Five files in one ingest, read together: an empty one, a truncated one and one with a
    list that is not a list. Each gets its own verdict, with its own words; the good ones and
    the good elements load."""
    one = dict(WARD, TrangThaiHoSo="4")
    names = ("a", "b", "c", "d", "e")
    write(tmp_path / "in" / "dvcqg__25__a.json", [one])
    write(tmp_path / "in" / "dvcqg__25__b.json", [])
    write(tmp_path / "in" / "dvcqg__25__c.json", [dict(one, MaHoSo="C")])
    (tmp_path / "in" / "dvcqg__25__d.json").write_text('[{"MaHoSo": "D", "NgayTi', "utf-8")
    write(tmp_path / "in" / "dvcqg__25__e.json", [dict(one, MaHoSo="E1"),
                                                  dict(one, MaHoSo="E2", TaiLieuNop="1")])  # fmt: skip
    reports = ingest(settings, [tmp_path / "in" / f"dvcqg__25__{n}.json" for n in names])
    got = [(r.status, r.accepted, r.quarantined) for r in reports]
    assert got == [("loaded", 1, 0), ("rejected", 0, 0), ("loaded", 1, 0), ("rejected", 0, 0),
                   ("loaded", 1, 1)], [r.line() for r in reports]  # fmt: skip
    assert "no dossier" in (reports[1].message or "")
    assert "Malformed JSON" in (reports[3].message or ""), reports[3].line()
    assert sorted(rows(settings)) == sorted([WARD["MaHoSo"], "C", "E1"])
    # read together (every file readable, the lists as JSON), then an empty file fails the
    # transaction: each file again alone, the one with a bad list still loads its good element
    write(tmp_path / "in2" / "dvcqg__25__f.json", [dict(one, MaHoSo="F")])
    write(tmp_path / "in2" / "dvcqg__25__g.json", [])
    write(tmp_path / "in2" / "dvcqg__25__h.json", [dict(one, MaHoSo="H1"),
                                                   dict(one, MaHoSo="H2", TaiLieuNop="1")])  # fmt: skip
    again = ingest(settings, [tmp_path / "in2" / f"dvcqg__25__{n}.json" for n in "fgh"])
    got = [(r.status, r.accepted, r.quarantined) for r in again]
    assert got == [("loaded", 1, 0), ("rejected", 0, 0), ("loaded", 1, 1)], got


def test_bad_payloads_are_named_by_row_and_field_and_the_rest_loads(
    settings: Settings, tmp_path: Path
) -> None:
    elements = [
        FULL,  # 1: good
        dict(WARD, MaHoSo="", TrangThaiHoSo="4"),  # 2: no MaHoSo
        dict(WARD, MaHoSo="S3", TrangThaiHoSo="11"),  # 3: no such status
        dict(WARD, MaHoSo="S4", KenhThucHien="9"),  # 4: no such channel
        dict(WARD, MaHoSo="S5", NgayTiepNhan="20251302080000"),  # 5: month 13
        # 6: finished before it was received
        dict(WARD, MaHoSo="S6", TrangThaiHoSo="9", NgayKetThucXuLy="20250701080000"),
        dict(WARD, MaHoSo="S7", DonViXuLy="Sở Không Có Thật"),  # 7: no such unit
        dict(WARD, MaHoSo="S8", DanhSachLePhi=[{"Gia": "năm mươi nghìn"}]),  # 8: fee not a number
        {"MaHoSo": "S9", "ThoiDiemXuLy": "2025-08-01", "TrangThai": "4"},  # 9: a bad step time
        {"MaHoSo": "S10", "ThoiDiemXuLy": "20250801080000", "TrangThai": "12"},  # 10: no such code
        dict(WARD, MaHoSo="S11"),  # 11: good
    ]
    path = write(tmp_path / "dvcqg__25__bad.json", elements)
    (report,) = ingest(settings, [path])
    assert (report.rows_read, report.accepted, report.quarantined) == (11, 2, 9), report.line()
    assert sorted(rows(settings)) == [FULL["MaHoSo"], "S11"]
    listed = next(settings.quarantine_dir.glob("*.rejected.csv"))
    with listed.open(encoding="utf-8-sig") as handle:
        said = {(int(r["row"]), r["column"], r["ly_do"]) for r in csv.DictReader(handle)}
    assert said == {
        (2, "MaHoSo", "Thiếu giá trị bắt buộc"),
        (3, "TrangThaiHoSo", "Giá trị không hợp lệ"),
        (4, "KenhThucHien", "Giá trị không hợp lệ"),
        (5, "NgayTiepNhan", "Sai kiểu dữ liệu"),
        (6, "NgayKetThucXuLy", "Ngày không thể xảy ra (trước ngày tiếp nhận)"),
        (7, "DonViXuLy", "Không khớp được tên đơn vị với danh mục"),
        (8, "DanhSachLePhi", "Giá trị không hợp lệ"),
        (9, "ThoiDiemXuLy", "Sai kiểu dữ liệu"),
        (10, "TrangThai", "Giá trị không hợp lệ"),
    }


def test_a_list_field_that_is_not_a_list_refuses_its_element_not_the_file(
    settings: Settings, tmp_path: Path
) -> None:
    """A list sent as a text or an object: DuckDB cannot type the file's lists, so the file
    is read again with its lists as JSON; the element is named, the rest read as they would
    have been (FULL's fee 50 000 + 20 000 sent as a number, its pseudonym from DinhDanhCHS)."""
    elements = [
        dict(FULL, SoGiayToChuHoSo=""),  # 1: good; the applicant from DinhDanhCHS
        dict(WARD, MaHoSo="S2", DanhSachLePhi="50000"),  # 2: a text, not a list
        dict(WARD, MaHoSo="S3", TaiLieuNop={"DuocSoHoa": "1"}),  # 3: an object, not a list
        dict(WARD, MaHoSo="S4", DinhDanhCHS=OTHER_ID),  # 4: the identifier not in its list
        dict(WARD, MaHoSo="S5", SoGiayToChuHoSo=CLEAR_ID),  # 5: good; FULL's applicant
    ]
    (report,) = ingest(settings, [write(tmp_path / "dvcqg__25__lists.json", elements)])
    assert (report.rows_read, report.accepted, report.quarantined) == (5, 2, 3), report.line()
    loaded = rows(settings)
    got = loaded[FULL["MaHoSo"]]
    assert (got["fee_amount"], got["is_digitized"], got["has_e_result"]) == (70000, True, True)
    assert got["applicant_key"] is not None
    assert got["applicant_key"] == loaded["S5"]["applicant_key"]
    listed = next(settings.quarantine_dir.glob("*.rejected.csv"))
    text = listed.read_text("utf-8-sig")
    with listed.open(encoding="utf-8-sig") as handle:
        said = {(int(r["row"]), r["column"], r["ly_do"]) for r in csv.DictReader(handle)}
    assert said == {
        (2, "DanhSachLePhi", "Sai kiểu dữ liệu"),
        (3, "TaiLieuNop", "Sai kiểu dữ liệu"),
        (4, "DinhDanhCHS", "Sai kiểu dữ liệu"),
    }, text
    assert OTHER_ID not in text  # the identifier sent wrongly is not shown either


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("dvcqg__99__b.json", "bad_file_name"),  # no province 99
        ("dvcqg_25_b.json", "unknown_feed"),  # not the feed's name
        ("dvcqg__25__b;drop table raw.dossiers.json", "bad_file_name"),
    ],
)
def test_a_file_the_feed_cannot_read_is_refused_whole(
    settings: Settings, tmp_path: Path, name: str, why: str
) -> None:
    (report,) = ingest(settings, [write(tmp_path / name, [FULL])])
    assert report.status == "rejected" and report.reasons[why] == 1, report.line()
    assert query(settings, "select count(*) from raw.dossiers") == [(0,)]


def test_a_dossier_sent_again_with_a_later_status_wins(settings: Settings, tmp_path: Path) -> None:
    first = write(tmp_path / "dvcqg__25__1.json", [dict(FULL, TrangThaiHoSo="4",
                  NgayKetThucXuLy="", NgayTra="", DanhSachGiayToKetQua=[])])  # fmt: skip
    second = write(tmp_path / "dvcqg__25__2.json", [FULL, *LOG])
    ingest(settings, [first, second])
    versions = query(
        settings,
        "select status, _superseded_by_load_id is null from raw.dossiers order by updated_at",
    )
    assert versions == [("processing", False), ("finished", True)]
    # the same file again changes nothing
    (again,) = ingest(settings, [second])
    assert again.status == "already_loaded"


def test_the_same_dossiers_as_the_dossier_feed_give_the_same_rows(tmp_path: Path) -> None:
    """The ward's dossier written by hand in the dossier feed's CSV, as the mapping says it
    should read: the raw rows of both feeds are equal, pseudonym included."""
    via_payload = make_settings(tmp_path / "a")
    ingest(via_payload, [write(tmp_path / "dvcqg__25__x.json", [WARD])])
    via_csv = make_settings(tmp_path / "b")
    header = [c.strip() for c in RAW_COLUMNS.split(",")]
    header[header.index("applicant_key")] = "applicant_id"
    values = {
        "source_system": "provincial",
        "dossier_id": WARD["MaHoSo"],
        "agency_code": "07900",
        "unit_code": "07900",
        "procedure_code": "2.000001",
        "received_at": "2025-08-02 08:15:00",
        "channel": "direct",
        "due_at": "2025-08-06 17:00:00",
        "status": "processing",
        "fee_amount": "0",
        "is_digitized": "false",
        "has_e_result": "false",
        "reused_data": "false",
        "identity_verified": "false",
        "applicant_id": OTHER_ID,
        "updated_at": "2025-08-02 08:15:00",
    }
    path = tmp_path / "b_in" / "dossiers.csv"
    path.parent.mkdir()
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerow([values.get(c, "") for c in header])
    (report,) = ingest(via_csv, [path])
    assert report.accepted == 1, report.line()
    assert rows(via_payload) == rows(via_csv)


@pytest.mark.slow
def test_the_generators_dossiers_load_the_same_through_either_feed(tmp_path: Path) -> None:
    """Two months of generated dossiers after the reorganisation, every province: written as
    payload files (de06.generate_dvcqg, by DuckDB) and, as the payload expresses them, as the
    dossier feed's Parquet. Loaded into two warehouses with the same pseudonym key, the raw
    dossier versions are the same rows, which version is current included: nothing the
    staging models read differs, so neither do the marts."""
    from de06.generate import GenerateConfig, generate
    from de06.generate_dvcqg import write_both

    parquet_home, payload_home = make_settings(tmp_path / "p"), make_settings(tmp_path / "j")
    config = GenerateConfig(
        seed=3, start_month="2025-07", months=3, dossiers_per_month=3_000, portal_export=False
    )
    generate(parquet_home.seeds_dir, tmp_path / "gen", config)
    months = sorted((tmp_path / "gen" / "dossiers").glob("dossiers_provincial_*.parquet"))
    assert len(months) == 2  # the newest month comes as CSV
    payloads = write_both(months, parquet_home.seeds_dir, tmp_path / "both", "b1")
    assert len(payloads) > 34  # every province, first and later versions
    (as_parquet,) = ingest(parquet_home, [tmp_path / "both" / "dossiers"])
    as_payload = ingest(payload_home, payloads)
    assert as_parquet.quarantined == 0 and all(r.quarantined == 0 for r in as_payload)
    columns = RAW_COLUMNS + ", _superseded_by_load_id is null as is_current"
    parquet_rows = sorted(query(parquet_home, f"select {columns} from raw.dossiers"), key=str)
    payload_rows = sorted(query(payload_home, f"select {columns} from raw.dossiers"), key=str)
    assert len(parquet_rows) == as_parquet.rows_read > 5_000
    assert parquet_rows == payload_rows
    assert sum(r.rows_read for r in as_payload) == 2 * len(payload_rows)  # and a step each


@pytest.mark.slow
def test_the_generator_writes_part_of_its_dossiers_as_payload(tmp_path: Path) -> None:
    """``de06 generate --payload`` (and ``de06 demo --payload``): the provincial dossiers
    received after the reorganisation in the Parquet months go as payload instead; loaded, the
    warehouse holds every version it would have held from the Parquet alone, the same
    dossiers with the same dates, units and fees, and for the payload's what the payload
    cannot say empty (no rating)."""
    import shutil

    from de06.generate import GenerateConfig, generate
    from de06.generate_dvcqg import as_payload

    plain_home, payload_home = make_settings(tmp_path / "p"), make_settings(tmp_path / "j")
    config = GenerateConfig(seed=5, start_month="2025-06", months=3, dossiers_per_month=1_500,
                            provinces=6, portal_export=False)  # fmt: skip
    generate(plain_home.seeds_dir, tmp_path / "plain", config)
    shutil.copytree(tmp_path / "plain", tmp_path / "mixed")
    written = as_payload(tmp_path / "mixed", payload_home.seeds_dir, "t")
    assert written and all(p.parent.name == "dvcqg" for p in written)
    import duckdb

    left = duckdb.sql(
        "select count(*) from read_parquet($files) where received_at >= date '2025-07-01' "
        "and source_system = 'provincial'",
        params={"files": str(tmp_path / "mixed" / "dossiers" / "*.parquet")},
    ).fetchall()
    assert left == [(0,)]
    plain = ingest(plain_home, [tmp_path / "plain" / "dossiers"])
    mixed = ingest(payload_home, [tmp_path / "mixed" / "dossiers", tmp_path / "mixed" / "dvcqg"])
    assert all(r.quarantined == 0 for r in [*plain, *mixed])
    assert {r.feed for r in mixed} == {"dossiers", "dvcqg"}
    same = (
        "select source_system, dossier_id, received_at, updated_at, agency_code, unit_code, "
        "fee_amount, _superseded_by_load_id is null from raw.dossiers"
    )
    assert sorted(query(plain_home, same), key=str) == sorted(query(payload_home, same), key=str)
    rated = (
        "select count(*) filter (where satisfaction is not null) from raw.dossiers "
        "where source_system = 'provincial' and received_at >= date '2025-07-01' "
        "and updated_at < date '2025-08-01'"
    )
    (with_rating,) = query(plain_home, rated)[0]
    assert with_rating > 0 and query(payload_home, rated) == [(0,)]


# what says where or when a row was loaded or built, not what the dossiers are
LINEAGE = ("load_id", "last_load_id", "built_at", "source_file", "source_row_number")


@pytest.mark.slow
def test_the_two_feeds_give_the_same_marts(tmp_path: Path) -> None:
    """The same generated dossiers (two months after the reorganisation, every province),
    one warehouse fed the payload files, the other the dossier feed's Parquet: after `dbt seed`
    and `dbt run`
    every mart holds the same rows, column for column, but for lineage (load ids)."""
    from de06.generate import GenerateConfig, generate
    from de06.generate_dvcqg import write_both
    from de06.pipeline import run_dbt

    homes = {"parquet": make_settings(tmp_path / "p"), "payload": make_settings(tmp_path / "j")}
    config = GenerateConfig(
        seed=5, start_month="2025-07", months=2, dossiers_per_month=1_500, portal_export=False
    )
    generate(homes["parquet"].seeds_dir, tmp_path / "gen", config)
    months = sorted((tmp_path / "gen" / "dossiers").glob("dossiers_provincial_*.parquet"))
    payloads = write_both(months, homes["parquet"].seeds_dir, tmp_path / "both", "b1")
    ingest(homes["parquet"], [tmp_path / "both" / "dossiers"])
    ingest(homes["payload"], payloads)
    for settings in homes.values():
        run_dbt(settings, ["seed"])
        run_dbt(settings, ["run"])
    import duckdb

    con = duckdb.connect()
    try:
        con.execute(f"attach '{homes['parquet'].warehouse_db}' as p (read_only)")
        con.execute(f"attach '{homes['payload'].warehouse_db}' as j (read_only)")
        marts = [
            t
            for (t,) in con.execute(
                "select table_name from duckdb_tables() where database_name = 'p' "
                "and schema_name = 'marts' order by 1"
            ).fetchall()
        ]
        assert "fct_indicator_values" in marts and "fct_index_766" in marts
        compared = 0
        for mart in marts:
            columns = [
                c
                for (c,) in con.execute(
                    "select column_name from duckdb_columns() where database_name = 'p' "
                    "and schema_name = 'marts' and table_name = ? order by column_index",
                    [mart],
                ).fetchall()
                if c not in LINEAGE
            ]
            listed = ", ".join(f'"{c}"' for c in columns)
            for a, b in (("p", "j"), ("j", "p")):
                (differing,) = con.execute(
                    f"select count(*) from (select {listed} from {a}.marts.{mart} "
                    f"except all select {listed} from {b}.marts.{mart})"
                ).fetchone()
                assert differing == 0, (mart, a, b)
            (rows,) = con.execute(f"select count(*) from p.marts.{mart}").fetchone()
            compared += rows
        assert compared > 10_000
    finally:
        con.close()
