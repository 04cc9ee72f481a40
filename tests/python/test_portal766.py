"""The national portal's 766 export as the fourth feed: names matched to units, files loaded
idempotently with their capture date, and every bad file or unit named and quarantined while
the rest loads. Expected outcomes are worked out by hand from spec/index766.md §2 and the unit
lists in seeds/admin_units (province 25 is Phú Thọ after 1 July 2025, ward 07900 its Phường
Việt Trì; 01 is Thành phố Hà Nội)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from conftest import make_settings
from de06.ingest import FileReport, ingest
from de06.portal_units import UnitNames, fold
from de06.settings import PROJECT_DIR, Settings
from test_ingest import query

SEEDS = PROJECT_DIR / "seeds"
AFTER = dt.date(2025, 9, 30)  # a period end in the 34-province era
BEFORE = dt.date(2025, 3, 31)


@pytest.fixture(scope="module")
def names() -> UnitNames:
    return UnitNames(SEEDS)


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("UBND Phường Việt Trì", "07900"),
        ("UỶ BAN NHÂN DÂN PHƯỜNG VIỆT TRÌ", "07900"),  # spelt out, upper case, old tone mark
        ("Sở Công Thương - Tỉnh Phú Thọ", "25.SCT"),
        ("Sở Công Thương – tỉnh Phú Thọ", "25.SCT"),  # an en dash, lower case
        ("Sở Văn hoá, Thể thao và Du lịch", "25.SVHTTDL"),  # "hoá": the old tone placement
        ("Công an tỉnh Phú Thọ", "25.CA"),
        ("Văn phòng UBND tỉnh Phú Thọ", "25.VPUB"),
        ("Bảo hiểm xã hội tỉnh Phú Thọ", "25.BHXH"),
        ("UBND tỉnh Phú Thọ", "25"),
        ("Sở Tư pháp", "25.STP"),
        ("Sở Kế hoạch và Đầu tư", None),  # merged into Finance on 1 March 2025
        ("UBND Xã Không Có Thật", None),
        ("Việt Trì", None),  # without its type word: not guessed
    ],
)
def test_portal_names_are_matched_within_the_province(
    names: UnitNames, name: str, code: str | None
) -> None:
    unit = names.unit("25", name, AFTER)
    assert (unit.code if unit else None) == code


def test_provinces_and_the_era_of_the_period(names: UnitNames) -> None:
    assert names.province("UBND tỉnh Phú Thọ", AFTER) == "25"
    assert names.province("UBND Thành phố Hà Nội", AFTER) == "01"
    # Vĩnh Phúc (26) was merged into Phú Thọ on 1 July 2025: a province before, none after
    assert names.province("UBND tỉnh Vĩnh Phúc", BEFORE) == "26"
    assert names.province("UBND tỉnh Vĩnh Phúc", AFTER) is None
    assert names.unit("25", "Sở Kế hoạch và Đầu tư", BEFORE) is not None
    assert names.unit("01", "Sở Tư pháp thành phố Hà Nội", AFTER).code == "01.STP"  # type: ignore[union-attr]
    assert fold("UBND  Phường\u00a0Việt Trì") == fold("Ủy ban nhân dân phường Việt Trì")


def test_the_override_seed_settles_what_names_cannot(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS, seeds)
    (tmp_path / "dbt_project.yml").write_text((PROJECT_DIR / "dbt_project.yml").read_text())
    overrides = seeds / "index_766" / "index_766_unit_overrides.csv"
    overrides.write_text(
        "province_code,portal_name,unit_code,note\n"
        "25,Trung tâm Phục vụ hành chính công tỉnh,25.VPUB,the centre answers to the office\n"
    )
    unit = UnitNames(seeds).unit("25", "TRUNG TÂM PHỤC VỤ HÀNH CHÍNH CÔNG TỈNH", AFTER)
    assert unit is not None and unit.code == "25.VPUB"


# ---------------------------------------------------------------- the files


def unit(i: int, name: str, **fields: Any) -> dict[str, Any]:
    return {"departmentId": i, "departmentName": name, **fields}


def metric(code: str, num: Any, den: Any, score: Any, top: float) -> dict[str, Any]:
    return {"code": code, "numerator": num, "denominator": den, "score": score, "maxScore": top}


def transparency(children: list[dict[str, Any]]) -> dict[str, Any]:
    overview = unit(1, "UBND tỉnh Phú Thọ", departmentType="PROVINCE", totalScore=5.59,
                    totalMaxScore=18, metrics=[metric("PUBLISH_ON_TIME", 373, 400, 5.59, 6)])  # fmt: skip
    return {"code": "OK", "message": None, "data": {"overview": overview, "evaluation": children}}


GOOD_CHILDREN = [
    unit(2, "Sở Công Thương - Tỉnh Phú Thọ", totalScore=6, metrics=[
        metric("PUBLISH_ON_TIME", 373, 400, 5.59, 6), metric("DOSSIER_SYNC", 0, 0, None, 6)]),
    unit(3, "UBND Phường Việt Trì", totalScore=5.59, metrics=[
        metric("PUBLISH_ON_TIME", 373, 400, 5.59, 6)]),
]  # fmt: skip


def write(folder: Path, name: str, answer: Any) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    text = answer if isinstance(answer, str) else json.dumps(answer, ensure_ascii=False)
    path.write_text(text, encoding="utf-8")
    return path


def one(settings: Settings, path: Path) -> FileReport:
    (report,) = ingest(settings, [path])
    return report


def test_an_export_loads_each_unit_and_metric_with_its_capture(
    settings: Settings, tmp_path: Path
) -> None:
    path = write(tmp_path, "portal766__transparency__2025-09__2025-10-05.json",
                 transparency(GOOD_CHILDREN))  # fmt: skip
    report = one(settings, path)
    assert (report.status, report.feed, report.rows_read, report.accepted) == (
        "loaded", "portal766", 3, 3)  # fmt: skip
    rows = query(
        settings,
        "select unit_code, metric_code, numerator, denominator, score, captured_on, is_parent"
        " from raw.portal766 order by _row_number, metric_code",
    )
    day = dt.date(2025, 10, 5)
    assert rows == [
        ("25", "CKMB", None, None, 5.59, day, True),  # the unit's points on the page
        ("25", "PUBLISH_ON_TIME", 373.0, 400.0, 5.59, day, True),
        ("25.SCT", "CKMB", None, None, 6.0, day, False),
        ("25.SCT", "DOSSIER_SYNC", 0.0, 0.0, None, day, False),  # null stays null, not 0
        ("25.SCT", "PUBLISH_ON_TIME", 373.0, 400.0, 5.59, day, False),
        ("07900", "CKMB", None, None, 5.59, day, False),
        ("07900", "PUBLISH_ON_TIME", 373.0, 400.0, 5.59, day, False),
    ]
    assert one(settings, path).status == "already_loaded"


def test_an_unmatched_or_broken_unit_is_quarantined_and_the_rest_loads(
    settings: Settings, tmp_path: Path
) -> None:
    children = [
        *GOOD_CHILDREN,
        unit(4, "UBND Xã Không Có Thật", totalScore=1),
        unit(5, "Sở Tư pháp - Tỉnh Phú Thọ", totalScore="=1+1"),  # a formula, not a number
        unit(6, "Sở Y tế - Tỉnh Phú Thọ", metrics=[metric("PUBLISH_ON_TIME", -1, 400, 0, 6)]),
        unit(7, "Sở Công Thương", totalScore=3),  # the same unit as departmentId 2
        unit(2, "UBND Phường Thanh Miếu", totalScore=3),  # departmentId 2 again
        {"departmentName": "Sở Xây dựng - Tỉnh Phú Thọ"},  # no departmentId
    ]
    path = write(tmp_path, "portal766__transparency__2025-09.json", transparency(children))
    report = one(settings, path)
    assert (report.status, report.rows_read, report.accepted, report.quarantined) == (
        "loaded", 9, 3, 6)  # fmt: skip
    problems = query(
        settings,
        "select row_number, column_name, value, reason_code from raw.quarantine order by row_number",
    )
    assert problems == [
        (4, "departmentName", "UBND Xã Không Có Thật", "unmatched_unit"),
        (5, "totalScore", "=1+1", "bad_number"),
        (6, "PUBLISH_ON_TIME.numerator", None, "negative"),
        (7, "departmentName", "Sở Công Thương", "duplicate_row"),
        (8, "departmentId", "2", "duplicate_row"),
        (9, "departmentId", None, "missing_value"),
    ]
    assert query(settings, "select count(distinct unit_code) from raw.portal766") == [(3,)]
    listing = next(settings.quarantine_dir.glob("*.rejected.csv")).read_text(encoding="utf-8-sig")
    assert "UBND Xã Không Có Thật" in listing and "'=1+1" in listing  # a formula made text


@pytest.mark.parametrize(
    ("name", "content", "reason", "says"),
    [
        ("portal766__transparency.json", None, "bad_file_name", "must be named"),
        ("portal766__ranking__2025-09.json", None, "bad_file_name", "unknown page 'ranking'"),
        ("portal766__transparency__2025-13.json", None, "bad_file_name", "is not a period"),
        ("portal766__transparency__2025-H2.json", None, "bad_file_name", "months, quarters"),
        ("portal766__transparency__2025-09__2025-31-10.json", None, "bad_file_name", "not a date"),
        ("portal766__transparency__2025-09__2025-08-01.json", None, "bad_file_name", "captured on"),
        ("portal766__transparency__2099-01.json", None, "future_period", "has not begun"),
        ("portal766__transparency__2025-09'; drop table x;--.json", None, "bad_file_name",
         "is not a period"),
        ("portal766__transparency__2025-09.json", '{"code": "OK", "data": {"overview": {"dep',
         "unreadable_file", "line 1, column"),
        ("portal766__transparency__2025-09.json", "[1, 2]", "unreadable_file", "not the portal"),
        ("portal766__transparency__2025-09.json",
         '{"code": "ERR_TIMEOUT", "message": "Hệ thống bận", "data": null}',
         "unreadable_file", "not the portal"),
        ("portal766__transparency__2025-09.json",
         '{"code": "ERR_TIMEOUT", "message": "Hệ thống bận", "data": {}}',
         "portal_error", "Hệ thống bận"),
        ("portal766__transparency__2025-09.json", '{"code": "OK", "data": {}}', "empty_file",
         "no units"),
        ("portal766__transparency__2025-09.json",
         json.dumps(transparency(GOOD_CHILDREN), ensure_ascii=False).replace(
             "UBND tỉnh Phú Thọ", "UBND tỉnh Xa Lạ"),
         "unmatched_unit", "UBND tỉnh Xa Lạ"),
        ("notes.json", "{}", "unknown_feed", "must be named portal766__"),
    ],
)  # fmt: skip
def test_a_file_that_cannot_be_loaded_says_why_and_is_quarantined_whole(
    settings: Settings, tmp_path: Path, name: str, content: str | None, reason: str, says: str
) -> None:
    path = write(tmp_path, name, content or transparency(GOOD_CHILDREN))
    report = one(settings, path)
    assert report.status == "rejected" and report.reasons == {reason: 1}, report.line()
    assert says in report.message, report.message
    assert query(settings, "select count(*) from raw.portal766") == [(0,)]
    (copy,) = [p for p in settings.quarantine_dir.iterdir() if not p.name.endswith(".csv")]
    assert copy.read_bytes() == path.read_bytes()


def test_a_later_capture_supersedes_an_earlier_one_and_both_are_kept(
    settings: Settings, tmp_path: Path
) -> None:
    final = write(tmp_path, "portal766__transparency__2025-09__2025-10-05.json",
                  transparency(GOOD_CHILDREN))  # fmt: skip
    provisional = write(tmp_path, "portal766__transparency__2025-09__2025-09-20.json",
                        transparency(GOOD_CHILDREN[:1]))  # fmt: skip
    assert one(settings, final).accepted == 3
    late = one(settings, provisional)  # loaded after the final one: superseded on arrival
    assert (late.status, late.accepted, late.superseded) == ("loaded", 0, 2)
    assert query(
        settings, "select captured_on, count(*) from raw.portal766 group by all order by 1"
    ) == [(dt.date(2025, 9, 20), 5), (dt.date(2025, 10, 5), 7)]


def test_a_json_file_in_a_landing_folder_is_a_feed_file_only_when_named_as_one(
    settings: Settings, tmp_path: Path
) -> None:
    landing = tmp_path / "landing"
    write(landing, "generated.json", "{}")  # a generator's summary: not a feed file
    write(landing / "portal766", "september.json", "{}")  # in the feed's folder: it is
    write(landing, "portal766__transparency__2025-09.json", transparency(GOOD_CHILDREN))
    reports = {r.path.name: r for r in ingest(settings, [landing])}
    assert set(reports) == {"september.json", "portal766__transparency__2025-09.json"}
    assert reports["september.json"].reasons == {"bad_file_name": 1}
    assert reports["portal766__transparency__2025-09.json"].status == "loaded"


def test_an_override_then_a_reload_loads_the_unit_refused_before(tmp_path: Path) -> None:
    """A name the rules cannot match is quarantined; once the override seed names its unit,
    `de06 ingest --reload` loads the same file again and the unit with it (a later load wins
    over the earlier one, as in every feed)."""
    project = tmp_path / "project"
    shutil.copytree(SEEDS, project / "seeds")
    (project / "dbt_project.yml").write_text((PROJECT_DIR / "dbt_project.yml").read_text())
    settings = make_settings(tmp_path / "home", DE06_PROJECT_DIR=str(project))
    centre = unit(9, "Trung tâm Phục vụ hành chính công tỉnh Phú Thọ", totalScore=4)
    path = write(tmp_path, "portal766__transparency__2025-09__2025-10-05.json",
                 transparency([*GOOD_CHILDREN, centre]))  # fmt: skip
    first = one(settings, path)
    assert (first.accepted, first.reasons) == (3, {"unmatched_unit": 1})
    (project / "seeds" / "index_766" / "index_766_unit_overrides.csv").write_text(
        "province_code,portal_name,unit_code,note\n"
        "25,Trung tâm Phục vụ hành chính công tỉnh Phú Thọ,25.VPUB,the centre of the office\n",
        encoding="utf-8",
    )
    assert one(settings, path).status == "already_loaded"
    (again,) = ingest(settings, [path], reload=True)
    assert (again.status, again.accepted, again.quarantined) == ("loaded", 4, 0)
    assert query(
        settings,
        "select _load_id, count(distinct unit_code) from raw.portal766 group by 1 order by 1",
    ) == [(1, 3), (2, 4)]  # the refused "already loaded" took no load id
