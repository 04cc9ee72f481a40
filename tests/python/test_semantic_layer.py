"""The semantic layer: MetricFlow's metrics agree with the catalogue and with the marts.

The marts compute each unit's and period's rate from counts grouped at every level at once
(int_dossier_counts__monthly); MetricFlow sums fct_dossier_counts_monthly's receiving-unit rows
with SQL it writes itself. Two paths to the same figures: each query below must give, row for
row, what fct_indicator_values (or its re-based twin) holds.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from pathlib import Path

import duckdb
import pytest
import yaml

from de06.semantic import run_mf

ROOT = Path(__file__).resolve().parents[2]
SEMANTIC_YML = ROOT / "models" / "marts" / "_marts__semantic.yml"
MARTS_YML = ROOT / "models" / "marts" / "_marts__models.yml"
CATALOGUE = ROOT / "seeds" / "catalogue" / "indicators.csv"


def _semantic() -> dict:
    return yaml.safe_load(SEMANTIC_YML.read_text(encoding="utf-8"))


def test_every_summed_dossier_indicator_is_a_ratio_metric_with_the_catalogues_counts():
    with CATALOGUE.open(encoding="utf-8") as f:
        catalogue = {
            r["indicator_code"]: r
            for r in csv.DictReader(f)
            if r["source"] == "dossiers" and r["time_aggregation"] == "sum"
        }
    assert len(catalogue) == 10
    metrics = {m["name"]: m for m in _semantic()["metrics"]}
    for code, row in catalogue.items():
        metric = metrics.get(code)
        assert metric is not None, f"no metric for {code}"
        assert metric["type"] == "ratio"
        assert metric["type_params"] == {
            "numerator": row["numerator_measure"],
            "denominator": row["denominator_measure"],
        }, code
        assert metric["label"] == row["name_vi"]


def test_every_measure_and_dimension_is_a_column_of_its_mart():
    marts = {
        m["name"]: {c["name"] for c in m["columns"]}
        for m in yaml.safe_load(MARTS_YML.read_text(encoding="utf-8"))["models"]
    }
    models = {m["name"]: m for m in _semantic()["semantic_models"]}
    assert set(models) == {"dossiers", "index_766"}
    for model in models.values():
        mart = model["model"].removeprefix("ref('").removesuffix("')")
        names = [x.get("expr", x["name"]) for x in model["measures"] + model["dimensions"]]
        assert names and not set(names) - marts[mart], mart
    assert models["dossiers"]["model"] == "ref('fct_dossier_counts_monthly')"
    # the counts every ratio metric divides are measures that make their own metric
    assert all(x["agg"] == "sum" and x.get("create_metric") for x in models["dossiers"]["measures"])


def _mf_rows(built, tmp_path: Path, *args: str) -> list[dict[str, str]]:
    out = tmp_path / f"mf_{len(list(tmp_path.glob('mf_*.csv')))}.csv"
    proc = run_mf(built.settings, ["query", *args, "--csv", str(out), "--quiet"], capture=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with out.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert rows, f"mf query {args} returned no rows"
    return rows


def _day(text: str) -> dt.date:
    return dt.datetime.fromisoformat(text).date()


def _num(text: str) -> float | None:
    return float(text) if text not in ("", "None", "nan") else None


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


@pytest.mark.slow
def test_rate_by_province_by_quarter_is_the_marts(built, published, tmp_path):
    """The issue's example, "online-dossier rate by province by quarter", as one query, with
    provinces as they were (63 before July 2025, 34 after). The warehouse database is held open
    by a writer meanwhile: MetricFlow reads only the published copy."""
    writer = duckdb.connect(str(built.settings.warehouse_db))
    try:
        rows = _mf_rows(
            built,
            tmp_path,
            "--metrics",
            "online_dossier_rate,n_online,n_received",
            "--group-by",
            "dossier__province_code,metric_time__quarter",
        )
    finally:
        writer.close()
    got = {
        (r["dossier__province_code"], _day(r["metric_time__quarter"])): (
            float(r["n_online"]),
            float(r["n_received"]),
            _num(r["online_dossier_rate"]),
        )
        for r in rows
    }
    expected = {
        (code, start): (num, den, value)
        for code, start, num, den, value in published.execute(
            "select unit_code, period_start, numerator, denominator, value "
            "from marts.fct_indicator_values where indicator_code = 'online_dossier_rate' "
            "and unit_level = 'province' and period_grain = 'quarter' and dimension = ''"
        ).fetchall()
    }
    assert set(got) == set(expected)
    # 63 provinces in a quarter before the reorganisation, 34 after it
    quarters = {q for _, q in got}
    by_quarter = {q: sum(1 for _, x in got if x == q) for q in quarters}
    assert by_quarter[dt.date(2025, 4, 1)] == 63 and by_quarter[dt.date(2025, 7, 1)] == 34
    for key, (num, den, value) in expected.items():
        g_num, g_den, g_value = got[key]
        assert (g_num, g_den) == (num, den), key
        assert _close(g_value, value), (key, g_value, value)


@pytest.mark.slow
def test_rate_by_todays_province_by_year_is_the_rebased_mart(built, published, tmp_path):
    rows = _mf_rows(
        built,
        tmp_path,
        "--metrics",
        "on_time_rate",
        "--group-by",
        "dossier__current_province_code,metric_time__year",
    )
    got = {
        (r["dossier__current_province_code"], _day(r["metric_time__year"])): _num(r["on_time_rate"])
        for r in rows
    }
    expected = dict(
        ((code, start), value)
        for code, start, value in published.execute(
            "select unit_code, period_start, value from marts.fct_indicator_values_current_units "
            "where indicator_code = 'on_time_rate' and unit_level = 'province' "
            "and period_grain = 'year' and dimension = ''"
        ).fetchall()
    )
    assert set(got) == set(expected)
    assert len({code for code, _ in got}) == 34
    assert all(_close(got[k], v) for k, v in expected.items()), "on-time rates differ"


@pytest.mark.slow
def test_national_rate_by_month_and_change_vs_last_year(built, published, tmp_path):
    """No grouping by unit is the nation: each dossier counted once, whatever its level."""
    rows = _mf_rows(
        built,
        tmp_path,
        "--metrics",
        "online_dossier_rate,online_dossier_rate_change_vs_previous_year",
        "--group-by",
        "metric_time__month",
        "--start-time",
        "2024-07-01",
        "--end-time",
        "2025-12-01",
    )
    got = {
        _day(r["metric_time__month"]): (
            _num(r["online_dossier_rate"]),
            _num(r["online_dossier_rate_change_vs_previous_year"]),
        )
        for r in rows
    }
    expected = {
        start: (value, change)
        for start, value, change in published.execute(
            "select period_start, value, change_vs_previous_year from marts.fct_indicator_values "
            "where indicator_code = 'online_dossier_rate' and unit_level = 'nation' "
            "and period_grain = 'month' and dimension = ''"
        ).fetchall()
    }
    assert set(got) == set(expected) and len(got) == 18
    for month, (value, change) in expected.items():
        g_value, g_change = got[month]
        assert _close(g_value, value), month
        # the mart's change is rounded to 9 decimals (percentage points)
        assert (g_change is None) == (change is None), month
        if change is not None:
            assert g_change is not None and abs(g_change - change) < 1e-6, month
    assert any(change is not None for _, change in got.values())


@pytest.mark.slow
def test_766_points_by_group_are_the_marts_scale_points(built, published, tmp_path):
    """The 766 points on the portal's scale as a metric: by unit and group for the quarters,
    each the sum of the group's components in fct_index_766; over the groups, the unit's
    total out of 100."""
    rows = _mf_rows(
        built,
        tmp_path,
        "--metrics",
        "index_766_points",
        "--group-by",
        "index_766__unit_code,index_766__period,index_766__group_code",
        "--where",
        "{{ Dimension('index_766__period_grain') }} = 'quarter' "
        "and {{ Dimension('index_766__unit_level') }} = 'province'",
    )
    got = {
        (r["index_766__unit_code"], r["index_766__period"], r["index_766__group_code"]): _num(
            r["index_766_points"]
        )
        for r in rows
    }
    expected = {
        (code, period, group): points
        for code, period, group, points in published.execute(
            "select unit_code, period, group_code, sum(scale_points) from marts.fct_index_766 "
            "where period_grain = 'quarter' and unit_level = 'province' group by all"
        ).fetchall()
    }
    assert set(got) == set(expected)
    assert all(_close(got[k], v) for k, v in expected.items())
    totals = published.execute(
        "select distinct unit_code, period, scale_total from marts.fct_index_766 "
        "where period_grain = 'quarter' and unit_level = 'province' and scale_total is not null"
    ).fetchall()
    assert len(totals) >= 34  # every province's export of a quarter after July 2025
    for code, period, total in totals:
        summed = sum(v or 0 for (c, p, _), v in got.items() if (c, p) == (code, period))
        assert math.isclose(summed, total, abs_tol=1e-6), (code, period)
