"""Data Docs that work offline: their CSS, scripts and fonts served from the site itself.

Great Expectations' page templates load Bootstrap, jQuery, bootstrap-table, Font Awesome and
Vega from public CDNs, and the navbar logo from an S3 bucket (with the data context's id as a
tracking parameter). With no internet the pages come out unstyled. After each build,
``localise`` copies the same versions, vendored in ``docs_assets/`` (MIT; Font Awesome's fonts
under the SIL OFL, see ``docs_assets/licenses``), into ``static/vendor/`` of the site and points
every page at them with relative links, so the site is browsable from disk or any local server.

Vega is not vendored: it draws only profiling charts, which our suites never render; its script
tags are dropped. Any other external resource left in a page (a GX upgrade adding a CDN asset)
is returned by ``localise`` and listed by the browser test, which fails on it.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

ASSETS_DIR = Path(__file__).resolve().parent / "docs_assets"
VENDOR = Path("static") / "vendor"

# every CDN address GX 1.x templates use -> the vendored file (same library and version)
LOCAL_COPIES = {
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": "bootstrap.min.css",
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": "bootstrap.min.js",
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": "popper.min.js",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css": (
        "bootstrap-table.min.css"
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js": (
        "bootstrap-table.min.js"
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/"
    "bootstrap-table-filter-control.min.js": "bootstrap-table-filter-control.min.js",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/"
    "bootstrap-table-filter-control.min.css": "bootstrap-table-filter-control.min.css",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/"
    "bootstrap-table-filter-control.css": "bootstrap-table-filter-control.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/"
    "bootstrap-datepicker.min.css": "bootstrap-datepicker.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/"
    "bootstrap-datepicker.min.js": "bootstrap-datepicker.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css": (
        "fontawesome/css/all.min.css"
    ),
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/"
    "bootstrap-prefers-dark.css": "bootstrap-prefers-dark.css",
}
_VEGA = re.compile(r'<script src="https://cdn\.jsdelivr\.net/npm/vega[^"]*"></script>\s*')
_LOGO = re.compile(r'"https://great-expectations-web-assets\.s3[^"]*/([\w.-]+\.png)[^"]*"')
_INTEGRITY = re.compile(r'\s+(integrity|crossorigin)="[^"]*"')
_RESOURCE = re.compile(r'<(?:script|link|img)\b[^>]*?\b(?:src|href)="(https?://[^"]+)"')


def localise_page(html: str, site_root: str) -> str:
    """``html`` with its CDN resources pointing into ``site_root`` (a relative path)."""
    html = _VEGA.sub("", html)
    html = _LOGO.sub(lambda m: f'"{site_root}static/images/{m.group(1)}"', html)
    for url, local in LOCAL_COPIES.items():
        html = html.replace(f'"{url}"', f'"{site_root}{VENDOR.as_posix()}/{local}"')
    # subresource-integrity hashes name the CDN's bytes; local files need none
    return _INTEGRITY.sub("", html)


def external_resources(html: str) -> list[str]:
    """Addresses of scripts, stylesheets and images a page would still fetch from outside."""
    return _RESOURCE.findall(html)


def localise(site: Path, since: float = 0.0) -> list[str]:
    """Vendor the assets into ``site`` and rewrite its pages changed since ``since`` (epoch
    seconds). Returns the external resources left in those pages (none, if GX is as known)."""
    if not (site / "index.html").exists():
        return []
    shutil.copytree(ASSETS_DIR, site / VENDOR, dirs_exist_ok=True)
    left: list[str] = []
    for page in site.rglob("*.html"):
        if page.stat().st_mtime < since:
            continue
        root = os.path.relpath(site, page.parent)
        root = "" if root == "." else root + "/"
        html = page.read_text(encoding="utf-8")
        new = localise_page(html, root)
        if new != html:
            page.write_text(new, encoding="utf-8")
        left += external_resources(new)
    return sorted(set(left))
