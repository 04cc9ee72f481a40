"""The dashboard in a real browser: `de06 dashboard` (Streamlit on 127.0.0.1) over a copy of the
session's published database, every page opened in headless Chromium, key figures read off the
page and compared with the marts, and a new publish picked up without a restart.

The screenshots are the README's pictures: DE06_UPDATE_SNAPSHOTS=1 writes two to docs/images/.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from conftest import free_port, serving, vn_percent
from test_data_docs_browser import CHROMIUM, FLAGS, needs_chromium

pytestmark = [pytest.mark.slow, needs_chromium]

IMAGES = Path(__file__).parents[2] / "docs" / "images"


@pytest.fixture
def dashboard(built, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    published = tmp_path / "published" / "de06.duckdb"
    published.parent.mkdir()
    shutil.copyfile(built.settings.published_db, published)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with serving(
        [str(Path(sys.executable).with_name("de06")), "dashboard", "--port", str(port)],
        {**os.environ, "DE06_HOME": str(tmp_path / "home"), "DE06_PUBLISHED_DB": str(published)},
        f"{url}/_stcore/health",
        tmp_path / "streamlit.log",
        timeout=90,
    ):
        yield url, published
    assert "Traceback" not in (tmp_path / "streamlit.log").read_text()


def test_every_page_shows_the_marts_figures(dashboard, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    url, published = dashboard
    con = duckdb.connect(str(published), read_only=True)
    try:
        quarter = con.execute(
            "select max(period) from marts.fct_indicator_values where period_grain = 'quarter' "
            "and unit_level = 'province' and is_headline"
        ).fetchone()[0]
        national = dict(
            con.execute(
                "select indicator_code, value from marts.fct_indicator_values_current_units "
                "where unit_level = 'nation' and period = ? and is_headline and dimension = ''",
                [quarter],
            ).fetchall()
        )
        hanoi = {
            code: (value, attainment)
            for code, value, attainment in con.execute(
                "select indicator_code, value, attainment "
                "from marts.fct_indicator_values_current_units "
                "where unit_code = '01' and unit_level = 'province' and period = ? "
                "and is_headline and dimension = ''",
                [quarter],
            ).fetchall()
        }
        hanoi_online, hanoi_online_attainment = hanoi["online_dossier_rate"]
        ranked = con.execute(
            "select f.unit_code, u.unit_name, f.value from marts.fct_indicator_values f "
            "join marts.dim_unit u using (unit_key) where f.indicator_code = 'online_dossier_rate' "
            "and f.period = ? and f.unit_level = 'province' and f.is_headline "
            "order by f.rank, f.unit_code",
            [quarter],
        ).fetchall()
        ranked_q2 = con.execute(
            "select count(*) from marts.fct_indicator_values where indicator_code = "
            "'online_dossier_rate' and period = '2025-Q2' and unit_level = 'province' and is_headline"
        ).fetchone()[0]
        trend_first = con.execute(
            "select period, value from marts.fct_indicator_values_current_units "
            "where unit_level = 'nation' and indicator_code = 'online_dossier_rate' "
            "and period_grain = 'month' and is_headline order by period limit 1"
        ).fetchone()
        # the newest period is on the portal's scale: the province ranked first among those
        # with a full total, its total, the portal's own total and a component of each kind
        index_first = con.execute(
            "select distinct f.unit_code, f.scale_total, g.total_points, f.rank_shown_of "
            "from marts.fct_index_766 f join marts.fct_index_766_published_groups g "
            "on f.unit_code = g.unit_code and f.period = g.period "
            "where f.unit_level = 'province' and f.period = (select max(period) from "
            "marts.fct_index_766 where unit_level = 'province') and f.rank_shown = 1"
        ).fetchone()
        index_components = dict(
            con.execute(
                "select scale_points_source, count(*) from marts.fct_index_766 "
                "where unit_code = ? and period = (select max(period) from marts.fct_index_766 "
                "where unit_level = 'province') group by all",
                [index_first[0]],
            ).fetchall()
        )
        run_id = con.execute("select run_id from meta.publish_log").fetchone()[0]
        total, passed = con.execute(
            "select count(*), count(*) filter (where success) from meta.validation_results"
        ).fetchone()
    finally:
        con.close()
    assert len(ranked) == 34 and ranked_q2 == 63

    shots: dict[str, Path] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})

            def open_page(path: str, ready: str) -> str:
                page.goto(f"{url}/{path}", wait_until="domcontentloaded")
                page.get_by_test_id(ready).first.wait_for(timeout=60_000)
                page.wait_for_timeout(800)  # charts draw after the tables
                assert not page.get_by_test_id("stException").count(), path
                shots[path or "national"] = tmp_path / f"dashboard_{path or 'national'}.png"
                page.screenshot(path=str(shots[path or "national"]))
                return page.inner_text("main")

            # the national scorecard: the newest quarter, every headline indicator
            text = open_page("", "scorecard")
            card = page.locator('[data-indicator="online_dossier_rate"]')
            assert vn_percent(national["online_dossier_rate"]) in card.inner_text()
            assert vn_percent(national["on_time_rate"]) in text
            assert "Toàn quốc" in text and "Quý" in text

            # the provincial scorecard (Hà Nội first), status colours from the attainment
            text = open_page("province", "scorecard")
            card = page.locator('[data-indicator="online_dossier_rate"]')
            assert vn_percent(hanoi_online) in card.inner_text()
            assert hanoi_online_attainment in (card.get_attribute("class") or "")
            assert "Hà Nội" in text

            # the ranking: 34 provinces in the newest quarter, 63 in the second quarter of 2025
            text = open_page("ranking", "ranking")
            rows = page.get_by_test_id("ranking").locator("tbody tr")
            assert rows.count() == 34
            first = rows.first.inner_text()
            assert ranked[0][1] in first and vn_percent(ranked[0][2]) in first
            page.get_by_test_id("stSelectbox").nth(2).click()
            page.get_by_role("option", name="Quý II/2025").click()
            expect(page.get_by_text("63 đơn vị được xếp hạng")).to_be_visible(timeout=30_000)
            # the table follows the caption in the rerun: wait for it too
            expect(page.get_by_test_id("ranking").locator("tbody tr")).to_have_count(
                63, timeout=30_000
            )

            # trends re-based on today's units: the nation's first month
            text = open_page("trends", "trend")
            first_row = page.get_by_test_id("trend").locator("tbody tr", has_text="Việt Nam")
            assert vn_percent(trend_first[1]) in first_row.inner_text()
            assert page.get_by_test_id("stVegaLiteChart").count() == 1

            # the 766 index on the portal's scale: the province ranked first, its total out
            # of 100 beside the portal's, no band; its components recomputed or published
            text = open_page("index-766", "index-ranking")
            first_row = page.get_by_test_id("index-ranking").locator("tbody tr").first.inner_text()
            assert index_first[0] in first_row and f"1/{index_first[3]}" in first_row
            assert f"{index_first[1]:.2f}".replace(".", ",") in first_row
            assert f"{index_first[2]:.2f}".replace(".", ",") in first_row
            assert "Thang điểm của Cổng DVC quốc gia" in text and "Xếp loại" not in text
            components = page.get_by_test_id("index-components").inner_text()
            assert components.count("(Cổng)") == index_components["published"]
            assert index_components["recomputed"] >= 5
            assert page.get_by_test_id("index-groups").locator("tbody tr").count() == 6

            # freshness and quality: which refresh, how many checks passed
            text = open_page("quality", "submissions")
            assert run_id in text and f"{passed}/{total}" in text

            # a new publish replaces the file: the next reload shows it, no restart
            staged = published.with_name(".next.duckdb")
            shutil.copyfile(published, staged)
            con = duckdb.connect(str(staged))
            con.execute("update meta.publish_log set run_id = 'second-publish'")
            con.close()
            os.replace(staged, published)
            text = open_page("quality", "submissions")
            assert "second-publish" in text and run_id not in text

            # the English switch
            page.goto(url, wait_until="domcontentloaded")
            page.get_by_test_id("scorecard").wait_for(timeout=60_000)
            page.get_by_text("English", exact=True).click()
            expect(page.get_by_role("heading", name="Nation")).to_be_visible(timeout=30_000)
            expect(page.locator('[data-indicator="online_dossier_rate"]')).to_contain_text(
                "Share of dossiers received online", timeout=30_000
            )
            expect(page.get_by_text("Period type", exact=True)).to_be_visible()
            assert "None" not in page.inner_text("main")
        finally:
            browser.close()
    assert all(shot.stat().st_size > 20_000 for shot in shots.values())
    if os.environ.get("DE06_UPDATE_SNAPSHOTS") == "1":
        IMAGES.mkdir(parents=True, exist_ok=True)
        for name in ("province", "ranking"):
            shutil.copyfile(shots[name], IMAGES / f"dashboard_{name}.png")
