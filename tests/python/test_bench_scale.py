"""``de06 bench scale`` at a small size: every step runs and is measured, and the warehouse's
dossier figures (the full build, b) equal the hand-written floor's (d), which equal a count made
here from the generated files with pyarrow. The comparison itself catches a changed figure."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from de06.bench_scale import bench_scale, compare
from de06.generate import GenerateConfig

pytestmark = pytest.mark.slow

# three months of history, the new month of (c), the held-back month of the refreshes
CONFIG = GenerateConfig(
    seed=21, start_month="2025-02", months=5, dossiers_per_month=700, csv_months=0
)


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, object]]:
    root = tmp_path_factory.mktemp("bench")
    return root, bench_scale(root, CONFIG, log=lambda _: None)


def test_every_step_is_measured(bench: tuple[Path, dict[str, object]]) -> None:
    _, figures = bench
    steps = figures["steps"]
    assert isinstance(steps, list)
    assert [s["name"] for s in steps] == ["a0", "a", "b", "d", "c1", "c", "r0", "rm", "rd"]
    for s in steps:
        assert s["seconds"] > 0 and s["peak_mb"] > 50, s
        assert s["rows"] > 0 or s["name"] == "r0", s  # the first refresh loads nothing
    # the history: 3 months of 700 dossiers, with earlier versions and the portal's copy
    assert figures["dossiers"] == 2100
    assert 2 * 2100 < figures["dossier_rows"] < 3 * 2100  # type: ignore[operator]
    ratios = figures["ratios"]
    assert isinstance(ratios, dict) and set(ratios) >= {
        "ingest_vs_read_parquet",
        "full_build_vs_floor",
        "incremental_vs_full_build",
    }


def test_the_full_build_and_the_floor_agree(bench: tuple[Path, dict[str, object]]) -> None:
    _, figures = bench
    agreement = {x["mart"]: x for x in figures["agreement"]}  # type: ignore[attr-defined]
    assert set(agreement) == {
        "fct_indicator_values (dossier indicators)",
        "fct_dossier_reconciliation",
    }
    for mart, x in agreement.items():
        assert x["agrees"], (mart, x)
        assert x["rows"] > 1000


def _march_by_hand(history: Path) -> tuple[int, int]:
    """Provincial dossiers received in March 2025 and those received online, from the files:
    the newest version of each dossier (pyarrow, not SQL)."""
    tables = [pq.read_table(p) for p in sorted(history.glob("dossiers_provincial_*.parquet"))]
    table = pa.concat_tables(tables).sort_by(
        [("dossier_id", "ascending"), ("updated_at", "descending")]
    )
    ids = table.column("dossier_id").to_pylist()
    first = [i == 0 or ids[i] != ids[i - 1] for i in range(len(ids))]
    newest = table.filter(pa.array(first))
    received = newest.column("received_at")
    in_march = pc.and_(
        pc.greater_equal(received, pa.scalar(dt.datetime(2025, 3, 1), received.type)),
        pc.less(received, pa.scalar(dt.datetime(2025, 4, 1), received.type)),
    )
    march = newest.filter(in_march)
    online = pc.sum(pc.equal(march.column("channel"), "online")).as_py()
    return march.num_rows, int(online)


def test_the_figures_match_a_count_by_hand(bench: tuple[Path, dict[str, object]]) -> None:
    root, _ = bench
    received, online = _march_by_hand(root / "history")
    assert received > 500
    con = duckdb.connect(str(root / "floor.duckdb"), read_only=True)
    try:
        found = con.execute(
            "select numerator, denominator from floor_indicator_values "
            "where unit_key like 'VN@%' and period = '2025-03' "
            "and indicator_code = 'online_dossier_rate'"
        ).fetchall()
    finally:
        con.close()
    assert found == [(float(online), float(received))]


def test_a_changed_or_missing_figure_is_caught(
    bench: tuple[Path, dict[str, object]], tmp_path: Path
) -> None:
    """The warehouse has taken in the new month since (b); the floor has not. So the comparison
    is made twice, with the floor as it is and with one figure changed and one row deleted, in
    periods the new month does not touch: each must add exactly one difference."""
    root, _ = bench
    warehouse = root / "home" / "de06.duckdb"
    floor = tmp_path / "floor.duckdb"
    shutil.copy(root / "floor.duckdb", floor)
    values_before, reconciliation_before = compare(warehouse, floor)
    con = duckdb.connect(str(floor))
    try:
        con.execute(
            "update floor_indicator_values set numerator = numerator + 1 "
            "where unit_key like 'VN@%' and period = '2025-03' "
            "and indicator_code = 'online_dossier_rate'"
        )
        con.execute(
            "delete from floor_reconciliation where unit_key like 'VN@%' and period = '2025-Q1'"
        )
    finally:
        con.close()
    values, reconciliation = compare(warehouse, floor)
    assert values.differing == values_before.differing + 1
    assert (values.only_in_floor, values.only_in_warehouse) == (
        values_before.only_in_floor,
        values_before.only_in_warehouse,
    )
    assert not values.agrees
    assert reconciliation.only_in_warehouse == reconciliation_before.only_in_warehouse + 1
    assert reconciliation.differing == reconciliation_before.differing
    assert not reconciliation.agrees


def test_the_refreshes_are_measured_step_by_step(bench: tuple[Path, dict[str, object]]) -> None:
    """r0 publishes a new file; the month and the day then write only what changed, and load
    exactly the rows held back for them (counted here from the files)."""
    root, figures = bench
    refresh = figures["refresh"]
    assert isinstance(refresh, dict) and set(refresh) == {"r0", "rm", "rd"}
    for summary in refresh.values():
        assert set(summary["steps"]) == {"ingest", "build", "gate", "publish"}
        assert all(seconds >= 0 for seconds in summary["steps"].values())
    first, month, day = refresh["r0"], refresh["rm"], refresh["rd"]
    assert not first["publish_incremental"] and first["rows_accepted"] == 0
    assert first["rows_written"] == first["rows_published"]
    for part, summary in (("held_month", month), ("held_day", day)):
        rows = sum(pq.read_metadata(p).num_rows for p in (root / part).glob("*.parquet"))
        assert rows > 0 and summary["rows_read"] == rows, part
        assert summary["publish_incremental"]
        assert 0 < summary["rows_written"] < summary["rows_published"]
        assert "raw.dossiers" in summary["suites_checked"]
    # the day's versions are those of one day of receipt: fewer than the month's
    assert day["rows_read"] < month["rows_read"]
