"""Ingest: idempotence, versions, quarantine with file/row/column, pseudonyms, submissions."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import hmac
import shutil
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import TEST_KEY
from de06.cli import main
from de06.ingest import DOSSIER_COLUMNS, SUBMISSION_COLUMNS, ingest
from de06.settings import Settings

BASE = {
    "source_system": "provincial",
    "dossier_id": "D1",
    "agency_code": "70.STP",
    "unit_code": "70",
    "procedure_code": "1.001612",
    "received_at": "2024-03-01 08:00:00",
    "channel": "online",
    "online_level": "full",
    "due_at": "2024-03-05 08:00:00",
    "finished_at": "",
    "status": "processing",
    "fee_amount": "0",
    "payment_channel": "",
    "is_digitized": "true",
    "has_e_result": "false",
    "reused_data": "false",
    "identity_verified": "true",
    "applicant_id": "070123456789",
    "satisfaction": "",
    "synced_national_at": "",
    "updated_at": "2024-03-01 09:00:00",
}


def write_csv(
    path: Path, header: list[str], rows: list[list[str]], encoding: str = "utf-8"
) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def dossier_rows(*changes: dict[str, str]) -> list[list[str]]:
    return [[{**BASE, **c}[col] for col in DOSSIER_COLUMNS] for c in changes]


def query(settings: Settings, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(settings.warehouse_db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def test_same_file_twice_changes_nothing(settings: Settings, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "dossiers" / "d.csv", list(DOSSIER_COLUMNS), dossier_rows({}))
    first = ingest(settings, [path])
    second = ingest(settings, [path])
    assert [r.status for r in first] == ["loaded"]
    assert [r.status for r in second] == ["already_loaded"]
    assert query(settings, "select count(*) from raw.dossiers") == [(1,)]
    assert query(settings, "select count(*) from raw.load_files") == [(1,)]


def test_applicant_id_is_stored_only_as_its_hmac(settings: Settings, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "dossiers" / "d.csv", list(DOSSIER_COLUMNS), dossier_rows({}))
    ingest(settings, [path])
    expected = hmac.new(TEST_KEY.encode(), b"070123456789", hashlib.sha256).hexdigest()
    assert query(settings, "select applicant_key from raw.dossiers") == [(expected,)]
    columns = [
        r[0]
        for r in query(
            settings,
            "select column_name from information_schema.columns where table_name = 'dossiers'",
        )
    ]
    assert "applicant_id" not in columns
    # the clear ID appears nowhere in the database file
    assert b"070123456789" not in settings.warehouse_db.read_bytes()


def test_bad_rows_are_quarantined_with_row_and_column(settings: Settings, tmp_path: Path) -> None:
    rows = dossier_rows(
        {},  # row 2: good
        {"dossier_id": "D2", "received_at": "2024-02-30 08:00:00"},  # row 3: impossible date
        {"dossier_id": "D3", "channel": "fax"},  # row 4: unknown channel
        {"dossier_id": "D4", "fee_amount": "-5"},  # row 5: negative fee
        {"dossier_id": ""},  # row 6: no id
        {},  # row 7: the same version as row 2 again
        {
            "dossier_id": "D7",
            "status": "finished",
            "finished_at": "2024-03-02 10:00:00",
            "updated_at": "2024-03-02 10:00:00",
        },  # row 8: good
    )
    path = write_csv(tmp_path / "dossiers" / "bad.csv", list(DOSSIER_COLUMNS), rows)
    [report] = ingest(settings, [path])
    assert (report.rows_read, report.accepted, report.superseded, report.quarantined) == (
        7,
        2,
        0,
        5,
    )
    found = query(
        settings,
        "select row_number, column_name, value, reason_code from raw.quarantine order by row_number",
    )
    assert found == [
        (3, "received_at", "2024-02-30 08:00:00", "bad_type"),
        (4, "channel", "fax", "bad_value"),
        (5, "fee_amount", "-5", "negative"),
        (6, "dossier_id", None, "missing_value"),
        (7, "dossier_id", "D1", "duplicate_row"),
    ]
    assert sorted(r[0] for r in query(settings, "select dossier_id from raw.dossiers")) == [
        "D1",
        "D7",
    ]
    listing = next(settings.quarantine_dir.glob("*bad.rejected.csv"))
    assert "received_at" in listing.read_text(encoding="utf-8-sig")


def test_versions_are_kept_and_the_newest_wins(settings: Settings, tmp_path: Path) -> None:
    first = write_csv(
        tmp_path / "dossiers" / "v1.csv",
        list(DOSSIER_COLUMNS),
        dossier_rows(
            {},
            {
                "status": "finished",
                "finished_at": "2024-03-02 08:00:00",
                "updated_at": "2024-03-02 08:00:00",
            },
        ),
    )
    [r1] = ingest(settings, [first])
    assert (r1.accepted, r1.superseded) == (1, 1)
    # a late correction arrives in another file; an out-of-date copy too
    late = write_csv(
        tmp_path / "dossiers" / "v2.csv",
        list(DOSSIER_COLUMNS),
        dossier_rows(
            {
                "status": "finished",
                "finished_at": "2024-03-02 08:00:00",
                "has_e_result": "true",
                "updated_at": "2024-04-01 08:00:00",
            },
            {"updated_at": "2024-03-01 08:30:00"},
        ),
    )
    [r2] = ingest(settings, [late])
    assert (r2.rows_read, r2.accepted, r2.superseded, r2.quarantined) == (2, 1, 1, 0)
    assert query(settings, "select count(*) from raw.dossiers") == [(4,)]


def test_parquet_and_extra_columns(settings: Settings, tmp_path: Path) -> None:
    table = pa.table({c: [v] for c, v in BASE.items()} | {"ghi_chu": ["thêm"]})
    path = tmp_path / "dossiers" / "d.parquet"
    path.parent.mkdir(parents=True)
    pq.write_table(table, path)
    [report] = ingest(settings, [path])
    assert report.status == "loaded" and report.extra_columns == ["ghi_chu"]
    assert query(settings, "select extra_columns->>'ghi_chu' from raw.dossiers") == [("thêm",)]


def typed_parquet(path: Path, *changes: dict[str, object]) -> Path:
    """A Parquet dossier file with the contract's types (as systems export them)."""

    def cell(col: str, text: str) -> object:
        kind = DOSSIER_COLUMNS[col]
        if text == "":
            return None
        if kind == "timestamp":
            return dt.datetime.fromisoformat(text)
        if kind == "bigint":
            return int(text)
        if kind == "boolean":
            return text == "true"
        return text

    types = {"timestamp": pa.timestamp("us"), "bigint": pa.int64(), "boolean": pa.bool_()}
    rows = [{c: cell(c, v) for c, v in BASE.items()} | dict(ch) for ch in changes]
    table = pa.table(
        {
            c: pa.array([r[c] for r in rows], type=types.get(DOSSIER_COLUMNS[c], pa.string()))
            for c in DOSSIER_COLUMNS
        }
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)
    return path


def test_parquet_files_load_together_each_with_its_own_report(
    settings: Settings, tmp_path: Path
) -> None:
    folder = tmp_path / "dossiers"
    typed_parquet(
        folder / "p1.parquet",
        {},  # row 1: good, superseded by p2's newer version of D1
        {"dossier_id": "D2", "fee_amount": -5},  # row 2: negative fee
        {},  # row 3: the same version as row 1 again
    )
    typed_parquet(
        folder / "p2.parquet",
        {"status": "finished", "finished_at": dt.datetime(2024, 3, 2, 8)}
        | {"updated_at": dt.datetime(2024, 3, 2, 8)},  # row 1: D1's newer version
        {"dossier_id": "D9", "unit_code": "99999"},  # row 2: no such unit
    )
    (folder / "p3.parquet").write_bytes(b"PAR1 not really a Parquet file")
    shutil.copy(folder / "p1.parquet", folder / "p4_copy_of_p1.parquet")
    reports = {r.path.name: r for r in ingest(settings, [folder])}
    p1, p2, p3, p4 = (
        reports[f"p{i}{s}"]
        for i, s in ((1, ".parquet"), (2, ".parquet"), (3, ".parquet"), (4, "_copy_of_p1.parquet"))
    )
    assert (p1.status, p1.rows_read, p1.accepted, p1.superseded, p1.quarantined) == (
        "loaded",
        3,
        0,
        1,
        2,
    )
    assert (p2.status, p2.rows_read, p2.accepted, p2.superseded, p2.quarantined) == (
        "loaded",
        2,
        1,
        0,
        1,
    )
    assert p3.status == "rejected" and p3.message.startswith("cannot read the file")
    assert p3.reasons == {"unreadable_file": 1}
    assert p4.status == "already_loaded"
    found = query(
        settings,
        "select l.file_name, q.row_number, q.column_name, q.reason_code from raw.quarantine q "
        "join raw.load_files l using (load_id) where q.row_number is not null order by 1, 2",
    )
    assert found == [
        ("p1.parquet", 2, "fee_amount", "negative"),
        ("p1.parquet", 3, "dossier_id", "duplicate_row"),
        ("p2.parquet", 2, "unit_code", "unknown_unit"),
    ]
    loaded = query(
        settings,
        "select l.file_name, d.dossier_id, d._row_number, d.status from raw.dossiers d "
        "join raw.load_files l on d._load_id = l.load_id order by 1",
    )
    assert loaded == [("p1.parquet", "D1", 1, "processing"), ("p2.parquet", "D1", 1, "finished")]
    ids = query(settings, "select count(distinct load_id) from raw.load_files")
    assert ids == [(3,)]


def test_the_same_version_in_two_files_counts_once_for_the_later_load(
    settings: Settings, tmp_path: Path
) -> None:
    """A row is accepted only if it is the version the marts keep (newest updated_at, then the
    later load); the same version sent in two files of one run, and again in a later run."""
    folder = tmp_path / "dossiers"
    newer = {"status": "finished", "finished_at": dt.datetime(2024, 3, 2, 8)} | {
        "updated_at": dt.datetime(2024, 3, 2, 8)
    }
    typed_parquet(folder / "a.parquet", {}, {"dossier_id": "D2"})
    typed_parquet(folder / "b.parquet", {}, newer | {"dossier_id": "D2"}, {"dossier_id": "D3"})
    a, b = ingest(settings, [folder / "a.parquet", folder / "b.parquet"])
    # D1: the same version in a and b, b is the later load; D2: b's version is newer; D3: b only
    assert (a.rows_read, a.accepted, a.superseded) == (2, 0, 2)
    assert (b.rows_read, b.accepted, b.superseded) == (3, 3, 0)
    # later: D1's version again (the later load wins the tie), D2's old version, a new D4
    c = typed_parquet(folder / "c.parquet", {}, {"dossier_id": "D2"}, {"dossier_id": "D4"})
    [c_report] = ingest(settings, [c])
    assert (c_report.rows_read, c_report.accepted, c_report.superseded) == (3, 2, 1)
    # each version records the load whose version replaced it (none: the current one)
    marked = query(
        settings,
        "select f.file_name, d.dossier_id, s.file_name from raw.dossiers as d "
        "join raw.load_files as f on d._load_id = f.load_id "
        "left join raw.load_files as s on d._superseded_by_load_id = s.load_id order by 1, 2",
    )
    assert marked == [
        ("a.parquet", "D1", "b.parquet"),
        ("a.parquet", "D2", "b.parquet"),
        ("b.parquet", "D1", "c.parquet"),  # the same version again: the later load wins
        ("b.parquet", "D2", None),
        ("b.parquet", "D3", None),
        ("c.parquet", "D1", None),
        ("c.parquet", "D2", "b.parquet"),  # an old version sent late: the current one stays
        ("c.parquet", "D4", None),
    ]


def test_current_versions_follow_the_rule_over_many_batches(
    settings: Settings, tmp_path: Path
) -> None:
    """Random versions of a few dossiers, in files ingested alone or together, in several
    runs: after each run every dossier has exactly one unmarked version, the one the rule picks
    (worked out here in Python: the newest updated_at, then the later load, then the later row),
    and every other version names the load of that version or of one that beat it then."""
    import random

    rng = random.Random(7)
    hours = [dt.datetime(2024, 3, 1, 8) + dt.timedelta(hours=h) for h in range(6)]
    loads: list[tuple[str, list[tuple[str, dt.datetime]]]] = []  # in load order
    n = 0
    for run in range(5):
        files = []
        for _ in range(rng.randint(1, 3)):
            n += 1
            # a dossier's versions differ in updated_at within one file (a repeat is quarantined)
            rows = {(f"D{rng.randint(1, 8)}", rng.choice(hours)) for _ in range(rng.randint(1, 6))}
            name = f"f{n:02d}.parquet"
            versions = sorted(rows)
            rng.shuffle(versions)
            typed_parquet(
                tmp_path / f"run{run}" / name,
                *({"dossier_id": d, "updated_at": u} for d, u in versions),
            )
            files.append((name, versions))
        reports = ingest(settings, [tmp_path / f"run{run}"])
        assert all(r.quarantined == 0 for r in reports)
        loads += sorted(files)  # files of one folder load in name order
        expected = {}
        for place, (name, versions) in enumerate(loads):
            for row, (dossier, updated) in enumerate(versions):
                key = (updated, place, row)
                if dossier not in expected or key > expected[dossier][0]:
                    expected[dossier] = (key, name)
        current = query(
            settings,
            "select d.dossier_id, f.file_name, d.updated_at from raw.dossiers as d "
            "join raw.load_files as f on d._load_id = f.load_id "
            "where d._superseded_by_load_id is null order by 1",
        )
        assert current == [
            (dossier, name, key[0]) for dossier, (key, name) in sorted(expected.items())
        ], f"after run {run}"
        # a replaced version names a later version: newer, or as new from a later load
        stale = query(
            settings,
            "select count(distinct (d._load_id, d._row_number)) "
            "from raw.dossiers as d join raw.dossiers as w "
            "on w.dossier_id = d.dossier_id and w._load_id = d._superseded_by_load_id "
            "and (w.updated_at, w._load_id) > (d.updated_at, d._load_id)",
        )
        marked = query(
            settings, "select count(*) from raw.dossiers where _superseded_by_load_id is not null"
        )
        assert stale == marked


def test_a_warehouse_from_before_the_superseded_column_is_marked_once(
    settings: Settings, tmp_path: Path
) -> None:
    """raw.dossiers without _superseded_by_load_id (as before this column): the next
    connection adds it and marks the versions already there by the same rule."""
    folder = tmp_path / "dossiers"
    typed_parquet(folder / "a.parquet", {}, {"dossier_id": "D2"})
    typed_parquet(folder / "b.parquet", {"updated_at": dt.datetime(2024, 3, 1, 10)})
    ingest(settings, [folder])
    con = duckdb.connect(str(settings.warehouse_db))
    con.execute("alter table raw.dossiers drop column _superseded_by_load_id")
    con.close()
    ingest(settings, [typed_parquet(tmp_path / "c.parquet", {"dossier_id": "D3"})])
    assert query(
        settings,
        "select f.file_name, d.dossier_id, s.file_name from raw.dossiers as d "
        "join raw.load_files as f on d._load_id = f.load_id "
        "left join raw.load_files as s on d._superseded_by_load_id = s.load_id order by 1, 2",
    ) == [
        ("a.parquet", "D1", "b.parquet"),
        ("a.parquet", "D2", None),
        ("b.parquet", "D1", None),
        ("c.parquet", "D3", None),
    ]


def test_a_bad_file_does_not_stop_the_others(settings: Settings, tmp_path: Path) -> None:
    missing = write_csv(
        tmp_path / "dossiers" / "a_missing.csv", ["dossier_id", "unit_code"], [["X", "70"]]
    )
    empty = tmp_path / "dossiers" / "b_empty.csv"
    empty.write_text("")
    header_only = write_csv(tmp_path / "dossiers" / "c_header.csv", list(DOSSIER_COLUMNS), [])
    good = write_csv(tmp_path / "dossiers" / "d_good.csv", list(DOSSIER_COLUMNS), dossier_rows({}))
    reports = ingest(settings, [tmp_path / "dossiers"])
    status = {r.path.name: (r.status, r.message) for r in reports}
    by_name = {r.path.name: r for r in reports}
    assert (by_name["a_missing.csv"].rows_read, by_name["a_missing.csv"].quarantined) == (1, 1)
    assert status["a_missing.csv"][0] == "rejected"
    assert "missing column(s): source_system" in status["a_missing.csv"][1]
    assert status["b_empty.csv"][0] == "rejected"
    assert status["c_header.csv"][0] == "rejected"
    assert status["d_good.csv"][0] == "loaded"
    assert query(settings, "select count(*) from raw.dossiers") == [(1,)]
    assert (settings.quarantine_dir / "000001_a_missing.csv").exists()
    del missing, header_only, good


SUB_HEADER = list(SUBMISSION_COLUMNS)


def sub(
    unit: str,
    period: str,
    code: str,
    num: str = "",
    den: str = "",
    value: str = "",
    dimension: str = "",
    rank: str = "",
    ranked_of: str = "",
    as_of: str = "",
) -> list[str]:
    return [unit, period, as_of, code, dimension, num, den, value, "", rank, ranked_of]


def test_submissions_parse_vietnamese_numbers(settings: Settings, tmp_path: Path) -> None:
    rows = [
        sub("52", "2023-H1", "social_cashless_share", "142", "127.450"),
        sub("70", "2023-H1", "school_fee_cashless_share", "428", "432", "99,07%"),
        sub("70", "2023-H1", "procedure_time_cut_rate", "8.502", "27.843,5", "30,54"),
        sub("70", "2023-H1", "eid_activation_rate", value="89,8"),
        sub("70", "2023-H1", "index_766_score", value="80,1", rank="8", ranked_of="63"),
    ]
    path = write_csv(tmp_path / "submissions" / "s.csv", SUB_HEADER, rows, encoding="utf-8-sig")
    [report] = ingest(settings, [path])
    assert (report.accepted, report.quarantined) == (5, 0), report.line()
    got = query(
        settings,
        "select unit_code, indicator_code, numerator, denominator, value, rank, ranked_of "
        "from raw.submissions order by _row_number",
    )
    assert got == [
        ("52", "social_cashless_share", 142.0, 127450.0, None, None, None),
        ("70", "school_fee_cashless_share", 428.0, 432.0, 99.07, None, None),
        ("70", "procedure_time_cut_rate", 8502.0, 27843.5, 30.54, None, None),
        ("70", "eid_activation_rate", None, None, 89.8, None, None),
        ("70", "index_766_score", None, None, 80.1, 8, 63),
    ]


@pytest.mark.parametrize(
    ("row", "reason", "column"),
    [
        (sub("99", "2024-H1", "eid_activation_rate", value="50"), "unknown_unit", "unit_code"),
        (sub("01", "2024-H1", "no_such", value="50"), "unknown_indicator", "indicator_code"),
        (
            sub("01", "2024-H1", "school_fee_cashless_share", "433", "432"),
            "numerator_above_denominator",
            "numerator",
        ),
        (sub("01", "2024-H1", "eid_activation_rate", value="100,5"), "rate_above_100", "value"),
        (sub("01", "2099-H1", "eid_activation_rate", value="50"), "future_period", "period"),
        (sub("01", "2024-H7", "eid_activation_rate", value="50"), "bad_period", "period"),
        (sub("01", "2024-H1", "eid_activation_rate"), "no_figures", "value"),
        (sub("01", "2024-H1", "social_cashless_share", "-1", "10"), "negative", "numerator"),
        (sub("01", "2024-H1", "social_cashless_share", "5"), "counts_incomplete", "denominator"),
        (sub("01", "2024-H1", "social_cashless_share", "1", "4", "30"), "value_conflict", "value"),
        (sub("01", "2024-H1", "eid_activation_rate", value="1,234"), "bad_number", "value"),
        (sub("75", "2026-H1", "eid_activation_rate", value="50"), None, None),  # Đồng Nai after
        (
            sub("70", "2026-H1", "eid_activation_rate", value="50"),
            "unit_not_valid_in_period",
            "unit_code",
        ),
        (
            sub("01", "2024-H1", "index_766_score", value="80", rank="64", ranked_of="63"),
            "rank_above_ranked_of",
            "rank",
        ),
    ],
)
def test_submission_rules(
    settings: Settings, tmp_path: Path, row: list[str], reason: str | None, column: str | None
) -> None:
    path = write_csv(tmp_path / "submissions" / "s.csv", SUB_HEADER, [row])
    [report] = ingest(settings, [path])
    assert report.rows_read == report.accepted + report.superseded + report.quarantined == 1
    found = query(settings, "select reason_code, column_name, row_number from raw.quarantine")
    assert found == ([] if reason is None else [(reason, column, 2)])


def test_conflicting_rows_in_one_file_are_both_quarantined(
    settings: Settings, tmp_path: Path
) -> None:
    rows = [
        sub("01", "2024-H1", "eid_activation_rate", value="50"),
        sub("01", "2024-H1", "eid_activation_rate", value="50"),  # identical: a duplicate
        sub("02", "2024-H1", "eid_activation_rate", value="50"),
        sub("02", "2024-H1", "eid_activation_rate", value="60"),  # conflict
    ]
    path = write_csv(tmp_path / "submissions" / "s.csv", SUB_HEADER, rows)
    [report] = ingest(settings, [path])
    assert (report.rows_read, report.accepted, report.quarantined) == (4, 1, 3)


def test_quarantined_rows_name_their_unit_period_indicator_and_dimension(
    settings: Settings, tmp_path: Path
) -> None:
    """What the submission status needs to count a rejected row and to see it resolved."""
    rows = [
        sub("01", "2024-H1", "vneid_integrated_documents", dimension="driving_licence", value="-5"),
        sub("01", "2024-h1", "eid_activation_rate", value="120"),
        sub("02", "2024-H1", "eid_activation_rate", value="50"),
        sub("02", "2024-H1", "eid_activation_rate", value="60"),
    ]
    path = write_csv(tmp_path / "submissions" / "s.csv", SUB_HEADER, rows)
    ingest(settings, [path])
    found = query(
        settings,
        "select row_number, reason_code, unit_code, period, indicator_code, dimension "
        "from raw.quarantine order by row_number",
    )
    assert found == [
        (2, "negative", "01", "2024-H1", "vneid_integrated_documents", "driving_licence"),
        (3, "rate_above_100", "01", "2024-H1", "eid_activation_rate", ""),
        (4, "duplicate_row", "02", "2024-H1", "eid_activation_rate", ""),
        (5, "duplicate_row", "02", "2024-H1", "eid_activation_rate", ""),
    ]


def test_utf16_tab_text_is_read_and_windows_1258_is_rejected(
    settings: Settings, tmp_path: Path
) -> None:
    """Excel's "Unicode text" (UTF-16 with BOM, tab-separated) loads; a legacy Windows-1258
    file is not valid UTF-8 and is rejected whole with a clear message, never guessed at."""
    rows = [sub("01", "2024-H1", "eid_activation_rate", value="89,8", dimension="Hà Nội")]
    text = "\n".join("\t".join(r) for r in [SUB_HEADER, *rows]) + "\n"
    unicode_text = tmp_path / "submissions" / "unicode.txt.csv"
    unicode_text.parent.mkdir(parents=True, exist_ok=True)
    unicode_text.write_bytes(text.encode("utf-16"))  # BOM + little-endian, as Excel saves it
    legacy = tmp_path / "submissions" / "legacy.csv"
    legacy_text = text.replace("\t", ",").replace("89,8", "89.8").replace("Hà Nội", "Hà Nam")
    legacy.write_bytes(legacy_text.encode("cp1258"))  # "à" is byte 0xE0: not UTF-8
    good, bad = ingest(settings, [unicode_text, legacy])
    assert (good.status, good.accepted, good.quarantined) == ("loaded", 1, 0), good.line()
    assert query(settings, "select value, dimension from raw.submissions") == [(89.8, "Hà Nội")]
    assert bad.status == "rejected" and "not UTF-8" in bad.message
    assert query(
        settings, "select reason_code from raw.quarantine where file_name = 'legacy.csv'"
    ) == [("unreadable_file",)]


def test_xlsx_submission_with_percent_cells(settings: Settings, tmp_path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(SUB_HEADER)
    ws.append(
        ["70", "2023-H1", None, "school_fee_cashless_share", None, 428, 432, None, None, None, None]
    )
    ws.append(
        ["70", "2023-H1", None, "eid_activation_rate", None, None, None, 0.898, None, None, None]
    )
    ws["H3"].number_format = "0.0%"  # shown as 89,8% — the cell holds 0.898
    ws.append(
        ["01", "2023-H1", None, "eid_activation_rate", None, None, None, "91,5", None, None, None]
    )
    path = tmp_path / "submissions" / "s.xlsx"
    path.parent.mkdir(parents=True)
    wb.save(path)
    [report] = ingest(settings, [path])
    assert (report.accepted, report.quarantined) == (3, 0), report.line()
    values = query(
        settings, "select unit_code, numerator, value from raw.submissions order by _row_number"
    )
    assert values[0] == ("70", 428.0, None)
    assert values[1][2] == pytest.approx(89.8)
    assert values[2][2] == pytest.approx(91.5)


def test_cli_ingest_exit_status(
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DE06_HOME", str(settings.home))
    monkeypatch.setenv("DE06_DBT_TARGET_PATH", str(settings.dbt_target_dir))
    bad = tmp_path / "only_bad" / "x.csv"
    bad.parent.mkdir()
    bad.write_text("a,b\n1,2\n")
    assert main(["ingest", str(bad.parent)]) == 1  # nothing could be read at all
    good = write_csv(tmp_path / "mixed" / "dossiers.csv", list(DOSSIER_COLUMNS), dossier_rows({}))
    (tmp_path / "mixed" / "y.csv").write_text("a,b\n1,2\n")
    assert main(["ingest", str(good.parent)]) == 0
    out = capsys.readouterr().out
    assert "REJECTED" in out and "1 accepted" in out


def test_semicolon_csv_outside_a_feed_folder(settings: Settings, tmp_path: Path) -> None:
    """Excel in a comma-decimal locale writes `;`-separated CSV; the header tells the feed."""
    path = tmp_path / "inbox" / "bao_cao.csv"
    path.parent.mkdir()
    path.write_text(
        ";".join(SUB_HEADER) + "\n" + "70;2023-H1;;school_fee_cashless_share;;428;432;99,07;;;\n",
        encoding="utf-8-sig",
    )
    [report] = ingest(settings, [path])
    assert (report.feed, report.accepted) == ("submissions", 1), report.line()
    assert query(settings, "select numerator, denominator, value from raw.submissions") == [
        (428.0, 432.0, 99.07)
    ]


def test_a_text_cell_is_trimmed_as_duckdb_trims_it() -> None:
    """The loader trims a unique id only when it starts or ends with a space or is not all
    ASCII (a copy of every id saved): the same value as DuckDB's ``trim`` for every kind of
    space at either end (NBSP and U+3000 are spaces to it, a tab is not)."""
    from de06.ingest.dossier_columns import as_text

    values = [
        None, "", " ", "   ", "\u00a0", "\u3000", "a", " a", "a ", " a ", "\u00a0a", "a\u00a0",
        "\u3000Hà Nội\u3000", "Hà Nội", "\ta", "a\t", "\t", "x y", "ạ", " ạ ", "\u2003a",
    ]  # fmt: skip
    con = duckdb.connect()
    con.execute("create table t (i int, v varchar)")
    con.executemany("insert into t values (?, ?)", list(enumerate(values)))
    rows = con.execute(
        f"select i, {as_text('v', unique=True)}, nullif(trim(v), '') from t order by i"
    ).fetchall()
    assert [(fast, slow) for _, fast, slow in rows if fast != slow] == []
    by_index = {i: fast for i, fast, _ in rows}
    assert (by_index[2], by_index[10], by_index[12], by_index[14]) == (None, "a", "Hà Nội", "\ta")
