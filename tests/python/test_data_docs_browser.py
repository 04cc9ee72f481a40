"""Data Docs in a real browser: headless Chromium, offline, styled from the site's own files.

The site is served on 127.0.0.1 by a local HTTP server; Chromium (Debian's /usr/bin/chromium,
driven by Playwright, no browser download) opens the index and a validation page. Every request
must stay on the local server and succeed; Bootstrap, Font Awesome and bootstrap-table must
have taken effect. A control copy of the index pointing at the CDNs again must fail the same
checks, so the test can tell styled from unstyled. Screenshots are kept in the quality folder.
"""

from __future__ import annotations

import functools
import http.server
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import Built
from de06.quality.docs_offline import LOCAL_COPIES, VENDOR, external_resources, localise_page

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists() and not os.environ.get("CI"),
    reason="Chromium is not installed (.ci/run installs it; apt-get install chromium)",
)


@pytest.fixture(scope="module")
def site(built: Built) -> Path:
    assert built.result.gate is not None and built.result.gate.data_docs is not None
    return built.result.gate.data_docs.parent


@pytest.fixture(scope="module")
def server(site: Path) -> Iterator[str]:
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


def open_page(url: str, screenshot: Path) -> dict:
    """Load ``url`` in headless Chromium; what it requested, what failed, and what took effect."""
    from playwright.sync_api import sync_playwright

    requested: list[str] = []
    failed: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("request", lambda r: requested.append(r.url))
            page.on("requestfailed", lambda r: failed.append(r.url))
            page.goto(url, wait_until="load")
            page.wait_for_timeout(500)  # bootstrap-table renders after load
            effect = page.evaluate(
                """() => ({
                    navbar: getComputedStyle(document.querySelector('nav.navbar')).display,
                    icons: document.fonts.check('900 16px "Font Awesome 6 Free"'),
                    tables: document.querySelectorAll('.bootstrap-table').length,
                })"""
            )
            page.screenshot(path=str(screenshot), full_page=False)
        finally:
            browser.close()
    return {"requested": requested, "failed": failed, **effect}


def test_no_page_fetches_anything_from_outside(site: Path) -> None:
    pages = list(site.rglob("*.html"))
    assert len(pages) >= 10  # the index, suites and validation results
    outside = {p.relative_to(site): external_resources(p.read_text()) for p in pages}
    assert {k: v for k, v in outside.items() if v} == {}
    for local in LOCAL_COPIES.values():
        assert (site / VENDOR / local).is_file(), local


def test_localise_page_leaves_unknown_cdn_assets_visible() -> None:
    html = (
        '<link rel="stylesheet" href="https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/'
        'bootstrap.min.css"/><script src="https://cdn.example.org/new.js"></script>'
        '<a href="https://greatexpectations.io">GX</a>'
    )
    out = localise_page(html, "../")
    assert '"../static/vendor/bootstrap.min.css"' in out
    assert external_resources(out) == ["https://cdn.example.org/new.js"]  # links are not fetched


@needs_chromium
def test_index_and_a_validation_page_are_styled_offline(
    site: Path, server: str, built: Built
) -> None:
    validation = sorted((site / "validations").rglob("*.html"))[0]
    shots = built.settings.quality_dir
    pages = [(site / "index.html", "data_docs_index.png"), (validation, "data_docs_validation.png")]
    for path, shot in pages:
        url = server + path.relative_to(site).as_posix()
        seen = open_page(url, shots / shot)
        assert seen["failed"] == [], seen["failed"]
        assert all(r.startswith(server) for r in seen["requested"]), seen["requested"]
        assert any("static/vendor/bootstrap.min.css" in r for r in seen["requested"])
        assert seen["navbar"] == "flex"  # Bootstrap's .navbar (unstyled: block)
        assert seen["icons"] is True  # Font Awesome's font loaded from the site
        assert seen["tables"] >= 1  # bootstrap-table's script ran
        assert (shots / shot).stat().st_size > 10_000


@needs_chromium
def test_the_same_page_pointing_at_the_cdns_is_unstyled_here(
    site: Path, server: str, built: Built
) -> None:
    """The control: GX's own links (no internet here) fail, and the checks above notice."""
    html = (site / "index.html").read_text()
    for url, local in LOCAL_COPIES.items():
        html = html.replace(f'"{VENDOR.as_posix()}/{local}"', f'"{url}"')
    (site / "index_cdn_control.html").write_text(html)
    try:
        seen = open_page(server + "index_cdn_control.html", built.settings.quality_dir / "cdn.png")
    finally:
        (site / "index_cdn_control.html").unlink()
    assert any(not r.startswith(server) for r in seen["requested"])
    assert seen["failed"]
    assert seen["navbar"] != "flex"
