"""The 766 index and the dossier reconciliation on the end-to-end warehouse.

Expected figures are recounted from the generated feed files with plain DuckDB SQL, not taken
from the marts: the outage scenario (province 80's merged department 80.SNNMT unseen by the
national portal from 1 March 2025 for six weeks, then filed there under the old code 80.STNMT),
the sync component it costs, the worked example of docs/design.md (Quảng Nam 2024) and the
what-if plans.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import duckdb
import pytest

from conftest import E2E_CONFIG, Built
from de06.generate import GenerateConfig
from de06.reference import load_reference

DOCS = Path(__file__).resolve().parents[2] / "docs" / "design.md"
CFG: GenerateConfig = E2E_CONFIG
AGENCY = f"{CFG.outage_province}.{CFG.outage_dept}"
OLD_CODE = f"{CFG.outage_province}.{CFG.outage_old_dept}"


def seed_checks() -> list[dict[str, str]]:
    path = DOCS.parents[1] / "seeds" / "reconciliation" / "reconciliation_checks.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def published(built: Built, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(built.settings.published_db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def from_files(built: Built, sql: str) -> list[tuple]:
    """Run ``sql`` over views of the generated files: ``provincial`` and ``portal``."""
    folder = built.generated / "dossiers"
    con = duckdb.connect()
    try:
        con.execute(
            "create view provincial as select dossier_id, agency_code, unit_code, received_at "
            f"from read_parquet('{folder}/dossiers_provincial_*.parquet')"
        )
        con.execute(
            "create view portal as select dossier_id, agency_code, unit_code, received_at, status "
            f"from read_parquet('{folder}/dossiers_national_portal_*.parquet')"
        )
        return con.execute(sql).fetchall()
    finally:
        con.close()


def reconciliation(built: Built, unit: str, period: str) -> dict:
    con = duckdb.connect(str(built.settings.published_db), read_only=True)
    try:
        cur = con.execute(
            "select * from marts.fct_dossier_reconciliation where unit_code = ? and period = ?",
            [unit, period],
        )
        names = [d[0] for d in cur.description]
        rows = cur.fetchall()
    finally:
        con.close()
    assert len(rows) == 1, (unit, period, rows)
    return dict(zip(names, rows[0], strict=True))


@pytest.mark.parametrize(
    ("period", "start", "end"),
    [("2025-03", "2025-03-01", "2025-04-01"), ("2025-04", "2025-04-01", "2025-05-01")],
)
def test_the_outage_agency_reconciles_against_a_recount_of_the_files(
    built: Built, period: str, start: str, end: str
) -> None:
    window_end = "2025-04-12"  # outage_start + outage_days
    assert CFG.outage_start == "2025-03-01" and CFG.outage_days == 42
    (expected,) = from_files(
        built,
        f"""
        with ours as (
            select distinct dossier_id, min(received_at) as received_at from provincial
            where agency_code = '{AGENCY}'
                and received_at >= '{start}' and received_at < '{end}'
            group by dossier_id
        )
        select
            count(*),
            count(*) filter (where dossier_id not in (select dossier_id from portal)),
            count(*) filter (where dossier_id in (
                select dossier_id from portal where agency_code = '{OLD_CODE}')),
            count(*) filter (where received_at < '{window_end}'),
            count(*) filter (where received_at < '{window_end}'
                and dossier_id in (select dossier_id from portal))
        from ours
        """,
    )
    n_provincial, n_only_provincial, n_old_code, n_in_window, n_in_window_on_portal = expected
    assert n_provincial > 5, "the scenario needs dossiers to show"
    assert n_in_window_on_portal == 0  # nothing from the outage weeks reached the portal
    row = reconciliation(built, AGENCY, period)
    assert row["n_provincial"] == n_provincial
    assert row["n_only_provincial"] == n_only_provincial
    assert row["n_only_provincial"] >= n_in_window
    # after the outage the portal files the department under its old code: still matched,
    # under the successor, and not counted as a unit mismatch
    assert row["n_matched_via_successor"] == n_old_code
    assert row["n_unit_mismatch"] == 0
    if period == "2025-04":
        assert n_old_code > 0
    # flagged as the seed says: past the share, on enough dossiers
    check = next(c for c in seed_checks() if c["check_code"] == "not_synchronised")
    flagged = (
        n_provincial >= int(check["min_dossiers"])
        and n_only_provincial > float(check["max_share"]) * n_provincial
    )
    assert ("not_synchronised" in (row["flags"] or "")) == flagged
    assert row["self_reported_sync_rate"] > 0.8  # the provincial system believes it sent them


def test_the_province_loses_the_sync_points_of_the_outage(built: Built) -> None:
    province = CFG.outage_province
    rows = published(
        built,
        """select period, rate, points, points_lost, max_points, index_score, total_points,
                  computed_max_points, rank
           from marts.fct_index_766
           where unit_code = ? and unit_level = 'province' and component_code = 'ckmb_sync'
               and period in ('2025-02', '2025-03', '2025-05')
           order by period""",
        [province],
    )
    by_period = {r[0]: r for r in rows}
    assert set(by_period) == {"2025-02", "2025-03", "2025-05"}
    march = reconciliation(built, province, "2025-03")
    assert "not_synchronised" in march["flags"]
    # the province's March counts, recounted from the files: its departments' dossiers and its
    # communes' (communes as they were before 1 July 2025)
    ref = load_reference(built.settings.seeds_dir)
    rows = from_files(
        built,
        """select dossier_id, any_value(unit_code), bool_or(dossier_id in (select dossier_id from portal))
           from provincial where received_at >= '2025-03-01' and received_at < '2025-04-01'
           group by dossier_id""",
    )
    ours = [
        on_portal
        for _, unit, on_portal in rows
        if unit == province
        or (unit in ref.communes_old and ref.commune_province_old(unit) == province)
    ]
    assert march["n_provincial"] == len(ours)
    assert march["n_matched"] == sum(ours)
    _, rate, points, lost, max_points, index_score, total, computed_max, rank = by_period["2025-03"]
    # the index scores what the portal really holds, not what the province says it sent
    assert rate == pytest.approx(march["n_matched"] / march["n_provincial"])
    assert march["self_reported_sync_rate"] - rate > 0.2
    assert max_points == 6
    assert points == pytest.approx(6 * rate)
    assert lost > 1.0
    assert index_score == pytest.approx(100 * total / computed_max)
    for quiet in ("2025-02", "2025-05"):
        assert by_period[quiet][3] < 0.5
    # had the outage dossiers reached the portal the province would rank higher
    (n_outage,) = from_files(
        built,
        f"""select count(distinct dossier_id) from provincial
            where agency_code = '{AGENCY}' and received_at >= '2025-03-01'
                and received_at < '2025-04-01'
                and dossier_id not in (select dossier_id from portal)""",
    )[0]
    counterfactual = 100 * (total + 6 * n_outage / march["n_provincial"]) / computed_max
    better = published(
        built,
        """select count(distinct unit_key) from marts.fct_index_766
           where unit_level = 'province' and period = '2025-03' and index_score > ?""",
        [counterfactual],
    )[0][0]
    assert better + 1 < rank


def test_the_worked_example_holds_the_published_group_points(built: Built) -> None:
    rows = published(
        built,
        """select group_code, any_value(group_max_points), any_value(published_group_points),
                  any_value(published_score), any_value(published_rank),
                  any_value(published_ranked_of), any_value(weights_version), count(*)
           from marts.fct_index_766
           where unit_code = '49' and unit_level = 'province' and period = '2024'
           group by group_code order by group_code""",
    )
    groups = {r[0]: r for r in rows}
    assert set(groups) == {"CKMB", "TDGQ", "CLGQ", "TTTT", "MDHL", "MDSH"}
    published_points = {g: r[2] for g, r in groups.items()}
    assert published_points == pytest.approx(
        {"CKMB": 13.2, "TDGQ": 18.4, "CLGQ": 7.7, "TTTT": 7.6, "MDHL": 17.6, "MDSH": 15.6}
    )
    assert sum(published_points.values()) == pytest.approx(80.1)
    assert {(r[3], r[4], r[5], r[6]) for r in rows} == {(80.1, 21, 63, "766-2024")}
    assert all(r[2] <= r[1] for r in rows)
    assert sum(r[7] for r in rows) == 14  # every component of the version, computed or not


def test_what_if_plans_reach_the_next_band_and_no_fewer_dossiers_would(built: Built) -> None:
    con = duckdb.connect(str(built.settings.published_db), read_only=True)
    try:
        rows = con.execute(
            """select unit_key, period, component_code, numerator, denominator, full_points_at,
                      max_points, points, points_per_dossier, dossiers_to_full_points,
                      total_points, computed_max_points, next_band_min_score, plan_dossiers
               from marts.fct_index_766_what_if
               where unit_level in ('province', 'agency') and next_band_reachable
               order by unit_key, period, points_per_dossier desc, component_code"""
        ).fetchall()
    finally:
        con.close()
    plans: dict[tuple[str, str], list[tuple]] = {}
    for r in rows:
        plans.setdefault((r[0], r[1]), []).append(r)
    assert len(plans) > 100

    def index_with(plan: list[tuple], extra: dict[str, int]) -> float:
        total = plan[0][10]
        for _, _, code, num, den, thr, mx, pts, *_ in plan:
            new = min(mx, mx * (num + extra.get(code, 0)) / (thr * den))
            total += new - pts
        return 100 * total / plan[0][11]

    for key, plan in plans.items():
        needed = plan[0][12]
        extra = {r[2]: r[13] for r in plan}
        assert all(0 <= r[13] <= r[9] for r in plan), key
        assert index_with(plan, extra) >= needed - 1e-9, key
        used = [r for r in plan if r[13] > 0]
        assert used, key
        # components are taken whole, in order of points per dossier; the last one partly
        assert all(r[13] == r[9] for r in used[:-1]), key
        one_fewer = dict(extra, **{used[-1][2]: used[-1][13] - 1})
        assert index_with(plan, one_fewer) < needed, key


def test_the_documented_scenario_query_shows_the_outage(built: Built) -> None:
    text = DOCS.read_text(encoding="utf-8")
    match = re.search(r"<!-- scenario-query -->\s*```sql\n(.*?)```", text, re.S)
    assert match, "docs/design.md lost its scenario query"
    sql = match.group(1).replace("'80'", f"'{CFG.outage_province}'")
    con = duckdb.connect(str(built.settings.published_db), read_only=True)
    try:
        cur = con.execute(sql)
        names = [d[0] for d in cur.description]
        rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    finally:
        con.close()
    by_period = {r["period"]: r for r in rows}
    assert {"2025-02", "2025-03", "2025-05"} <= set(by_period)
    assert "not_synchronised" in by_period["2025-03"]["flags"]
    assert (
        by_period["2025-02"]["flags"] is None
        or "not_synchronised" not in by_period["2025-02"]["flags"]
    )
    assert by_period["2025-03"]["sync_points_lost"] > 1.0
    assert by_period["2025-03"]["portal_has_pct"] < by_period["2025-03"]["says_synced_pct"] - 20


def test_the_portals_export_is_held_as_published_and_its_rules_reproduced(built: Built) -> None:
    """The generated export (de06.generate_portal766, the portal's rules in plain Python) loads
    whole: every unit matched, every published group and total kept as published, and every
    confirmed component's points_by_rule equal to the published points to the cent."""
    exports = sorted((built.generated / "portal766").rglob("portal766__*.json"))
    assert exports, "the generator wrote no export"
    units_published: set[tuple[str, str, str]] = set()
    groups_published: dict[tuple[str, str, str, str], float] = {}
    for path in exports:
        page, period = path.name.split("__")[1:3]
        province = path.parent.name  # the generator writes a folder per province
        data = json.loads(path.read_text(encoding="utf-8"))["data"]
        tree = page.endswith("-tree")
        parent = data["parent" if tree else "overview"]
        for n, unit in enumerate([parent, *data["children" if tree else "evaluation"]]):
            units_published.add((province, unit["departmentName"], period))
            score = unit.get("totalScore") if not tree or n == 0 else unit.get("score")
            groups_published[(province, unit["departmentName"], period, GROUP_OF_PAGE[page])] = (
                score
            )
    rows = published(
        built,
        "select province_code, portal_department_name, period, group_code, group_points,"
        " total_points, groups_published from marts.fct_index_766_published_groups",
    )
    held = {(prov, name, period, group): points for prov, name, period, group, points, *_ in rows}
    assert held == groups_published
    groups_of_unit: dict[tuple[str, str, str], list[float]] = {}
    for (prov, name, period, _), points in groups_published.items():
        groups_of_unit.setdefault((prov, name, period), []).append(points)
    for prov, name, period, _, _, total, count in rows:
        assert count == 6 and total is not None, (prov, name, period)
        assert total == pytest.approx(sum(groups_of_unit[(prov, name, period)]), abs=1e-9)
    by_status = dict(
        published(
            built,
            "select rule_status, count(*) filter (where points_by_rule is not null"
            " and points is not null and points_by_rule <> points)"
            " from marts.fct_index_766_published group by all",
        )
    )
    assert by_status["confirmed"] == 0
    (components,) = published(
        built,
        "select count(*), count(distinct component_code),"
        " count(distinct (province_code, portal_department_name))"
        " from marts.fct_index_766_published where rule_status = 'confirmed'"
        " and points_by_rule is not null",
    )
    assert components[1] == 16 and components[2] == len({(r, n) for r, n, _ in units_published})
    assert raw_quarantine_of(built, "portal766") == []


# the export's numerators the dossier feed recomputes, and the monthly measure (or, for the
# counts judged at a period's end, the measure's stem: `<stem>_at_<grain>_end`) of each
RECOMPUTED_FROM = {
    "PROGRESS_ON_TIME": ("n_in_time", "n_received"),
    "DOSSIER_RECEIVING_SATISFACTION": ("n_receiving_satisfied", "n_received"),
    "ORIGINAL_RESULT_AVAILABLE": ("n_e_result", "n_received"),
    "SO_HOA_GIAY_TO_GIAI_QUYET": ("n_digitized_e_result", "n_received"),
    "REUSED_DIGITIZED_DATA": ("n_reused_data", "n_received"),
    "CITIZEN_DATA_CONNECTED_DOSSIER": ("n_identity_verified", "n_received"),
    "ONLINE_PAYMENT": ("n_paid_online", "n_fee_charged"),
}
JUDGED_AT_PERIOD_END = {"n_in_time", "n_receiving_satisfied"}


def test_the_warehouse_counts_the_portals_copy_as_the_portal_does(built: Built) -> None:
    """The generator writes the export's numerators and denominators from the portal's copy of
    the dossiers in its own SQL (de06.generate_portal766.COUNTS_SQL: in time judged at the
    period's end, satisfied = in time and not rated dissatisfied, an electronic result on a
    finished dossier, term A over the dossiers with a fee). The warehouse's monthly measures
    of the same copy (source `national_portal`), summed over each period's months, with the
    period's own grain for the counts judged at its end, give the same figures for every unit
    and period: the definitions agree. A unit without dossiers is the export's 0 / 0."""
    wh = duckdb.connect(str(built.settings.warehouse_db), read_only=True)
    try:
        months: dict[tuple[str, str], dict[str, int]] = {}
        columns = [
            c
            for c, *_ in wh.execute(
                "describe intermediate.int_dossier_measures__monthly"
            ).fetchall()
        ]
        for row in wh.execute(
            "select * from intermediate.int_dossier_measures__monthly"
            " where source_system = 'national_portal'"
        ).fetchall():
            r = dict(zip(columns, row, strict=True))
            months[(r["unit_key"], r["received_month"].strftime("%Y-%m"))] = r
    finally:
        wh.close()
    exported = published(
        built,
        "select unit_key, period, period_grain, period_start, component_code, numerator,"
        " denominator from marts.fct_index_766_published"
        " where unit_key is not null and list_contains(?, component_code)",
        [list(RECOMPUTED_FROM)],
    )
    assert exported
    differing, judged_later = [], 0
    for unit_key, period, grain, start, component, numerator, denominator in exported:
        n_months = {"month": 1, "quarter": 3}[grain]
        held = [
            months.get((unit_key, f"{start.year}-{start.month + i:02d}"), {})
            for i in range(n_months)
        ]
        num, den = RECOMPUTED_FROM[component]
        column = f"{num}_at_{grain}_end" if num in JUDGED_AT_PERIOD_END else num
        ours = (sum(m.get(column) or 0 for m in held), sum(m.get(den) or 0 for m in held))
        if ours != (numerator, denominator):
            differing.append((unit_key, period, component, ours, (numerator, denominator)))
        if (
            component == "PROGRESS_ON_TIME"
            and sum(m.get("n_in_time") or 0 for m in held) != numerator
        ):
            judged_later += 1
    assert differing == []
    # judged at the newest update instead, in-time counts would differ for many units
    assert judged_later > 50


GROUP_OF_PAGE = {
    "transparency": "CKMB",
    "dvc-progress-tree": "TDGQ",
    "provide-online-tree": "CLGQ",
    "formality-online-payment-tree": "TTTT",
    "handling-satisfaction": "MDHL",
    "dossier-digitized": "MDSH",
}


def raw_quarantine_of(built: Built, feed: str) -> list[tuple]:
    con = duckdb.connect(str(built.settings.warehouse_db), read_only=True)
    try:
        return con.execute("select * from raw.quarantine where feed = ?", [feed]).fetchall()
    finally:
        con.close()
