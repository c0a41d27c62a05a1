"""Generated reports in a real browser: headless Chromium (Debian's) driven by Playwright.

Serves a reports folder made by kt.run (v1 succeeded, v2 failed with a ``<script>`` in its
error message) on 127.0.0.1 and checks what a reader gets: no console errors, no request
leaving the server, every image loaded, data strings shown as text (no dialog ever opens),
and the links index -> report -> index working. Screenshots go to test-artifacts/.

Needs ``/usr/bin/chromium`` (CI: ``apt-get update && apt-get install -y chromium``); skipped
without it unless ``CI`` is set, where its absence is a failure.
"""

from __future__ import annotations

import functools
import http.server
import importlib.util
import os
import threading
from pathlib import Path

import pytest

import kpitools as kt
from kpitools.runs import RunFailedError

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"

if not CHROMIUM.exists():
    if os.environ.get("CI"):
        pytest.fail("CI needs /usr/bin/chromium: apt-get update && apt-get install -y chromium",
                    pytrace=False)
    pytest.skip("no /usr/bin/chromium (install: apt-get update && apt-get install -y chromium)",
                allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api")

_spec = importlib.util.spec_from_file_location("kpitools_test_fakes", Path(__file__).parent / "notebooks" / "fakes.py")
fakes = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fakes)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # keep test output clean
        pass


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("browser")
    common = dict(reports_dir=root / "reports", notebooks_dir=fakes.copy_notebooks(root / "notebooks"),
                  period="2026-10", progress=False, engine=fakes.FakeEngine())
    data = fakes.write_dataset(root / "data")
    kt.run(data, notebooks=["ok"], **common)
    with pytest.raises(RunFailedError):
        kt.run(data, notebooks=["ok", "fails"], jobs=2, **common)
    handler = functools.partial(_QuietHandler, directory=str(root / "reports"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    with sync_api.sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=str(CHROMIUM),
            headless=True, args=ARGS)
        yield context
        context.close()


def _watch(page, base: str) -> dict[str, list[str]]:
    seen: dict[str, list[str]] = {"console": [], "page": [], "dialogs": [], "failed": [], "foreign": []}
    page.on("console", lambda m: seen["console"].append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: seen["page"].append(str(e)))
    page.on("dialog", lambda d: (seen["dialogs"].append(d.message), d.dismiss()))
    page.on("requestfailed", lambda r: seen["failed"].append(r.url))
    page.on("request", lambda r: None if r.url.startswith((base, "data:")) else seen["foreign"].append(r.url))
    return seen


def _images(page) -> list[dict]:
    return page.eval_on_selector_all(
        "img", "imgs => imgs.map(i => ({src: i.src.slice(0, 30), complete: i.complete, width: i.naturalWidth}))")


def test_index_and_report_in_chromium(site, browser):
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page()
    seen = _watch(page, site)

    page.goto(f"{site}/index.html", wait_until="load")
    assert page.title() == "kpitools reports"
    body = page.inner_text("body")
    # the failed version's error message is data: it shows as text and runs nothing
    assert "boom <script>alert(1)</script>" in body
    assert page.locator("script").count() == 0
    assert [r.inner_text() for r in page.locator("td.status").all()] == ["failed", "succeeded"]
    page.screenshot(path=str(ARTIFACTS / "reports-index.png"), full_page=True)

    page.click('a[href="2026-10/v1/ok.html"]')
    page.wait_for_load_state("load")
    assert page.url == f"{site}/2026-10/v1/ok.html"
    images = _images(page)
    assert len(images) == 2  # the plot and the Markdown logo, both data: URIs
    assert all(i["complete"] and i["width"] > 0 and i["src"].startswith("data:image/png") for i in images)
    assert "<script>alert(1)</script>" in page.inner_text("body")
    assert "read_parquet" not in page.inner_text("body")  # no code cells
    page.screenshot(path=str(ARTIFACTS / "report-ok.png"), full_page=True)

    page.click("nav.kt-nav a")
    page.wait_for_load_state("load")
    assert page.url == f"{site}/index.html"

    # the failed notebook's partial report opens cleanly too, error shown as text
    page.click('a[href="2026-10/v2/fails.html"]')
    page.wait_for_load_state("load")
    text = page.inner_text("body")
    assert "failed: partial output" in text and "before the failure" in text
    assert "ValueError: boom <script>alert(1)</script>" in text
    page.screenshot(path=str(ARTIFACTS / "report-fails.png"), full_page=True)

    assert seen == {"console": [], "page": [], "dialogs": [], "failed": [], "foreign": []}
    page.close()
