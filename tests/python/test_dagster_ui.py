"""The Dagster UI in a real browser: `de06 dagster` (dagster dev on 127.0.0.1, the instance under
the warehouse folder) serves the asset graph, and headless Chromium shows its six layers.

The screenshot is the README's picture: DE06_UPDATE_SNAPSHOTS=1 writes it to docs/images/.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import free_port, serving
from test_dagster import dagster_home  # noqa: F401 (a fixture)
from test_data_docs_browser import CHROMIUM, FLAGS, needs_chromium

pytestmark = [pytest.mark.slow, needs_chromium]

README_IMAGE = Path(__file__).parents[2] / "docs" / "images" / "asset_graph.png"
GROUPS = ("raw_feeds", "reference", "staging", "intermediate", "marts", "published")


@pytest.fixture
def dagster_ui(dagster_home: dict[str, str], tmp_path: Path) -> Iterator[str]:  # noqa: F811
    port = free_port()
    de06 = str(Path(sys.executable).with_name("de06"))
    url = f"http://127.0.0.1:{port}"
    with serving(
        [de06, "dagster", "--port", str(port)],
        {**os.environ, **dagster_home},
        f"{url}/server_info",
        tmp_path / "dagster_dev.log",
        timeout=180,
    ):
        yield url
    text = (tmp_path / "dagster_dev.log").read_text()
    assert "Error loading repository location" not in text, text[-3000:]


def test_the_asset_graph_in_a_browser(dagster_ui: str, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    shot = tmp_path / "asset_graph.png"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 560})
            page.goto(f"{dagster_ui}/asset-groups", wait_until="networkidle")
            # the first-visit newsletter dialog may open at any moment: Playwright dismisses it
            # before any action it would block
            skip = page.get_by_role("button", name="Skip")
            page.add_locator_handler(skip, lambda locator: locator.click())
            for group in GROUPS:  # the code location loaded: one node per layer
                page.get_by_text(group, exact=True).first.wait_for(timeout=60_000)
            page.get_by_role("button", name="Hide navigation").click()
            page.wait_for_timeout(1500)  # the graph re-centres
            # opened after the last action, no handler ran: dismiss it by hand, with the handler
            # removed first (it would intercept this click, click, then wait for a button gone)
            page.remove_locator_handler(skip)
            if skip.is_visible():
                skip.click()
            expect(skip).to_be_hidden()
            body = page.inner_text("body")
            page.screenshot(path=str(shot))
        finally:
            browser.close()
    assert "Global asset lineage" in body
    assert all(group in body for group in GROUPS)
    assert shot.stat().st_size > 10_000
    if os.environ.get("DE06_UPDATE_SNAPSHOTS") == "1":
        README_IMAGE.parent.mkdir(parents=True, exist_ok=True)
        README_IMAGE.write_bytes(shot.read_bytes())
