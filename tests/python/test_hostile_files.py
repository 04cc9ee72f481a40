"""Files written by an adversary: what a file holds (its header, its name) is data, never SQL
nor a pattern (issue 30)."""

from __future__ import annotations

import csv
import json
import stat
from pathlib import Path

import duckdb
import pytest

from conftest import make_settings
from de06.ingest import DOSSIER_COLUMNS, SUBMISSION_COLUMNS, ingest, sql_identifier, sql_literal
from de06.settings import Settings
from test_ingest import dossier_rows, query, write_csv

SECRET = "the pseudonym key or any file the process can read"


@pytest.mark.parametrize(
    "column",
    [
        # an extra column whose name closes the identifier and reads a file into the row
        """x", read_text('{secret}') as "y""",
        "ghi chú' -- ; drop table raw.load_files; --",
        'a"b',
        "it's",
    ],
)
def test_a_header_cell_is_a_name_never_sql(settings: Settings, tmp_path: Path, column: str) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET, encoding="utf-8")
    column = column.replace("{secret}", str(secret))
    path = write_csv(
        tmp_path / "dossiers" / "d.csv",
        [*DOSSIER_COLUMNS, column],
        [[*row, "note"] for row in dossier_rows({})],
    )
    (report,) = ingest(settings, [path])
    assert report.status == "loaded", report.message
    assert report.extra_columns == [column.strip().lower()]
    extras = query(settings, "select extra_columns::varchar from raw.dossiers")
    assert len(extras) == 1
    assert SECRET not in extras[0][0]
    # the extra cell is kept under the header's own text
    assert json.loads(extras[0][0]) == {column.strip().lower(): "note"}
    assert query(settings, "select count(*) from raw.load_files") == [(1,)]


def test_quoting_helpers_round_trip() -> None:
    con = duckdb.connect()
    for text in ["plain", "it's", 'a"b', "x'); drop table t; --", "\\n", "ghi chú"]:
        assert con.execute(f"select {sql_literal(text)}").fetchone() == (text,)
        assert con.execute(f"select 1 as {sql_identifier(text)}").description[0][0] == text


def test_a_glob_character_in_a_file_name_names_that_file_alone(
    settings: Settings, tmp_path: Path
) -> None:
    """DuckDB's readers take `?`, `*` and `[...]` in a path as a pattern: `d?.csv` would also
    read `d1.csv` and load its rows under the other file's name."""
    folder = tmp_path / "dossiers"
    odd = write_csv(folder / "d?[x]*.csv", list(DOSSIER_COLUMNS), dossier_rows({}))
    write_csv(folder / "d1[x]2.csv", list(DOSSIER_COLUMNS), dossier_rows({"dossier_id": "N1"}))
    write_csv(folder / "dA[x]B.csv", list(DOSSIER_COLUMNS), dossier_rows({"dossier_id": "N2"}))
    (report,) = ingest(settings, [odd])
    assert report.status == "loaded" and report.rows_read == 1, report.message
    assert query(settings, "select dossier_id from raw.dossiers") == [
        (dossier_rows({})[0][list(DOSSIER_COLUMNS).index("dossier_id")],)
    ]
    assert query(settings, "select file_name from raw.load_files") == [("d?[x]*.csv",)]


def test_a_glob_character_in_a_parquet_file_name(settings: Settings, tmp_path: Path) -> None:
    folder = tmp_path / "dossiers"
    csv_path = write_csv(tmp_path / "src.csv", list(DOSSIER_COLUMNS), dossier_rows({}))
    con = duckdb.connect()
    folder.mkdir()
    for n, name in enumerate(("p*.parquet", "p1.parquet", "p2.parquet")):
        written = folder / f"{n}.parquet"
        con.execute(
            f"copy (select * from read_csv('{csv_path}', all_varchar = true)) "
            f"to '{written}' (format parquet)"
        )
        written.rename(folder / name)
    con.close()
    (report,) = ingest(settings, [folder / "p*.parquet"])
    assert report.status == "loaded" and report.rows_read == 1, report.message
    assert query(settings, "select count(*) from raw.dossiers") == [(1,)]


def test_a_duplicated_header_column_is_refused_not_renamed(
    settings: Settings, tmp_path: Path
) -> None:
    """DuckDB's CSV reader renames the second `status` to `status_1`, which then passed as an
    extra column, its values silently set aside."""
    path = write_csv(
        tmp_path / "dossiers" / "d.csv",
        [*DOSSIER_COLUMNS, "Status "],
        [[*row, "finished"] for row in dossier_rows({})],
    )
    (report,) = ingest(settings, [path])
    assert report.status == "rejected"
    assert report.reasons == {"duplicate_columns": 1}
    assert "status" in (report.message or "")
    assert query(settings, "select count(*) from raw.dossiers") == [(0,)]


def test_what_holds_citizen_ids_is_private_to_the_owner(settings: Settings, tmp_path: Path) -> None:
    """A file rejected whole is kept in quarantine as sent (its citizen IDs too): the folder
    700, the copy and its listing 600. And a file name that Excel would read as a formula is
    shown as text in the listing."""
    path = tmp_path / "dossiers" / "=HYPERLINK(1).csv"
    path.parent.mkdir()
    path.write_text("not,a,dossier,header\n1,2,3,4\n", encoding="utf-8")
    (report,) = ingest(settings, [path])
    assert report.status == "rejected"
    assert stat.S_IMODE(settings.quarantine_dir.stat().st_mode) == 0o700
    kept = sorted(settings.quarantine_dir.iterdir())
    assert len(kept) == 2  # the file and its listing
    assert {stat.S_IMODE(p.stat().st_mode) for p in kept} == {0o600}
    listing = next(p for p in kept if p.name.endswith(".rejected.csv"))
    cells = list(csv.reader(listing.read_text(encoding="utf-8-sig").splitlines()))
    assert cells[1][0] == "'=HYPERLINK(1).csv"
    assert stat.S_IMODE(settings.archive_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE(settings.pseudonym_key_file.parent.stat().st_mode) == 0o700


@pytest.mark.parametrize("content", ["", "\n", "short"])
def test_an_empty_or_short_pseudonym_key_is_refused(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: str
) -> None:
    """An empty key file (a crash between creating it and writing it, before keys were
    written whole) made every pseudonym reversible: now nothing is loaded with it."""
    monkeypatch.delenv("DE06_PSEUDONYM_KEY")
    settings.pseudonym_key_file.write_text(content)
    path = write_csv(tmp_path / "dossiers" / "d.csv", list(DOSSIER_COLUMNS), dossier_rows({}))
    with pytest.raises(ValueError, match="pseudonym key"):
        ingest(settings, [path])
    monkeypatch.setenv("DE06_PSEUDONYM_KEY", "")
    with pytest.raises(ValueError, match="DE06_PSEUDONYM_KEY"):
        settings.pseudonym_key()


def test_a_new_pseudonym_key_is_written_whole_and_kept(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DE06_PSEUDONYM_KEY")
    first = settings.pseudonym_key()
    assert len(first) == 64
    assert stat.S_IMODE(settings.pseudonym_key_file.stat().st_mode) == 0o600
    assert settings.pseudonym_key() == first
    assert [p.name for p in settings.pseudonym_key_file.parent.iterdir()] == ["pseudonym.key"]


def test_one_broken_file_gets_a_verdict_and_the_rest_of_the_batch_loads(
    settings: Settings, tmp_path: Path
) -> None:
    """A Parquet file whose footer reads but whose pages do not (read only when the rows are
    checked), a CSV cell over Python's 128 KB field limit, a year "2024²" (str.isdigit() takes
    it, int() does not): each raised out of the ingest, stopping the batch, and every later
    run failed on the same file."""
    source = write_csv(tmp_path / "src.csv", list(DOSSIER_COLUMNS), dossier_rows({}))
    folder = tmp_path / "batch"
    (folder / "dossiers").mkdir(parents=True)
    con = duckdb.connect()
    good, bad = folder / "dossiers" / "a_good.parquet", folder / "dossiers" / "b_bad.parquet"
    many = (
        f"select * replace ('D' || i as dossier_id) "
        f"from read_csv('{source}', all_varchar = true), range(5000) as r(i)"
    )
    con.execute(f"copy ({many}) to '{good}' (format parquet)")
    con.execute(f"copy ({many}) to '{bad}' (format parquet)")
    con.close()
    corrupt = bytearray(bad.read_bytes())
    for at in range(200, len(corrupt) // 2, 97):  # the pages; the footer stays whole
        corrupt[at] ^= 0xFF
    bad.write_bytes(bytes(corrupt))
    from test_bad_input_corpus import TASK, task

    write_csv(folder / "tasks" / "tasks.csv", TASK, [task(year="2024²"), task(task_id="T2")])
    write_csv(folder / "tasks" / "tasks_huge_cell.csv", TASK, [task(title="x" * 200_000)])
    reports = {r.path.name: r for r in ingest(settings, [folder])}
    assert reports["a_good.parquet"].status == "loaded"
    assert reports["a_good.parquet"].accepted == 5000
    assert reports["b_bad.parquet"].status == "rejected"
    assert "b_bad.parquet" not in (reports["b_bad.parquet"].message or "x")  # said by the report
    assert reports["b_bad.parquet"].reasons == {"unreadable_file": 1}
    assert reports["tasks.csv"].status == "loaded"
    assert (reports["tasks.csv"].accepted, reports["tasks.csv"].quarantined) == (1, 1)
    assert query(
        settings, "select column_name, value from raw.quarantine where file_name = 'tasks.csv'"
    ) == [("year", "2024²")]
    huge = reports["tasks_huge_cell.csv"]
    assert (huge.status, huge.reasons) == ("rejected", {"unreadable_file": 1})
    assert "field limit" in (huge.message or "")
    # the next run goes on: what loaded is not loaded twice, what was refused is refused again
    again = {r.path.name: r.status for r in ingest(settings, [folder])}
    assert again == {
        name: "already_loaded" if r.status == "loaded" else "rejected"
        for name, r in reports.items()
    }
    assert query(settings, "select count(*) from raw.dossiers where dossier_id like 'D%'") == [
        (5000,)
    ]


def test_a_file_that_cannot_be_opened_is_said_and_the_rest_loads(
    settings: Settings, tmp_path: Path
) -> None:
    """A path that vanished or cannot be opened (a dangling link here: the tests run as root,
    who opens any mode) raised out of the ingest before its verdict."""
    folder = tmp_path / "dossiers"
    good = write_csv(folder / "good.csv", list(DOSSIER_COLUMNS), dossier_rows({}))
    gone = folder / "gone.parquet"
    gone.symlink_to(folder / "nowhere.parquet")
    lost, loaded = ingest(settings, [gone, good])
    assert lost.path.name == "nowhere.parquet"  # where the link points
    assert (lost.status, lost.reasons) == ("rejected", {"unreadable_file": 1})
    assert "cannot open" in (lost.message or "")
    assert loaded.status == "loaded"
    assert query(settings, "select count(*) from raw.dossiers") == [(1,)]


def test_a_file_over_the_size_limits_is_refused_before_it_is_read(tmp_path: Path) -> None:
    """A junk sheet over DE06_MAX_SHEET_MB, a dossier file over DE06_MAX_FILE_MB: each is
    refused whole with the limit named, before it is parsed and without a copy in the
    quarantine; the files within the limits load."""
    settings = make_settings(tmp_path / "home", DE06_MAX_SHEET_MB="1", DE06_MAX_FILE_MB="2")
    settings.ensure_dirs()
    junk = tmp_path / "submissions" / "junk.csv"
    junk.parent.mkdir()
    junk.write_text(
        ",".join(SUBMISSION_COLUMNS) + "\n" + ("x," * 10 + "x\n") * 60_000, encoding="utf-8"
    )  # 1.3 MB: over the sheet limit, under the file limit
    big = write_csv(
        tmp_path / "dossiers" / "big.csv",
        list(DOSSIER_COLUMNS),
        dossier_rows(*({"dossier_id": f"B{i}"} for i in range(15_000))),
    )  # 2.4 MB
    good = write_csv(tmp_path / "dossiers" / "good.csv", list(DOSSIER_COLUMNS), dossier_rows({}))
    assert junk.stat().st_size > 2**20 and big.stat().st_size > 2 * 2**20
    reports = {r.path.name: r for r in ingest(settings, [junk, big, good])}
    assert reports["good.csv"].status == "loaded"
    for name, limit, variable in [
        ("junk.csv", "1 MB for submissions files", "DE06_MAX_SHEET_MB"),
        ("big.csv", "2 MB for feed files", "DE06_MAX_FILE_MB"),
    ]:
        report = reports[name]
        assert report.status == "rejected"
        assert limit in report.message and variable in report.message, report.message
        assert report.reasons == {"file_too_large": 1}
    assert query(
        settings,
        "select file_name, reason_code, reason_vi from raw.quarantine order by file_name",
    ) == [
        ("big.csv", "file_too_large", "Tệp vượt quá giới hạn dung lượng"),
        ("junk.csv", "file_too_large", "Tệp vượt quá giới hạn dung lượng"),
    ]
    kept = sorted(p.name for p in settings.quarantine_dir.iterdir())
    assert kept == ["000001_junk.rejected.csv", "000002_big.rejected.csv"]
    listing = (settings.quarantine_dir / "000002_big.rejected.csv").read_text(encoding="utf-8-sig")
    assert "not copied into the quarantine (over 1 MB)" in listing and str(big) in listing


def test_a_workbook_that_unpacks_to_far_more_than_it_weighs_is_refused(tmp_path: Path) -> None:
    """A "zip bomb": a 30 KB workbook whose sheet unpacks to 30 MB (openpyxl would hold it all).
    A workbook counts as a tenth of its unpacked content against DE06_MAX_SHEET_MB."""
    import zipfile

    settings = make_settings(tmp_path / "home", DE06_MAX_SHEET_MB="2")
    settings.ensure_dirs()
    bomb = tmp_path / "submissions" / "bomb.xlsx"
    bomb.parent.mkdir()
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", "<c>0</c>" * 4_000_000)
    assert bomb.stat().st_size < 2**17
    (report,) = ingest(settings, [bomb])
    assert report.status == "rejected"
    assert report.reasons == {"file_too_large": 1}
    assert "3.1 MB, over the limit of 2 MB" in report.message, report.message
