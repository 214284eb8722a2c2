"""The docs site that ``make docs`` builds renders in a real browser.

Debian's chromium, driven by playwright, opens the site served on 127.0.0.1: the index, the module, the role and
a guide each show their title, their content (the option table, an example) laid out by the theme's stylesheet,
with no script error and no request for anything off the site. Screenshots go to .build/docsite/screenshots.
"""

from __future__ import annotations

import functools
import shutil
import threading
import typing as t
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import BrowserContext, Page, sync_playwright

from tests.conftest import REPO

SITE = REPO / ".build" / "docsite" / "html"
SCREENSHOTS = REPO / ".build" / "docsite" / "screenshots"
# What works for Debian's chromium as root on a machine whose only network is loopback and package registries.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def site() -> t.Iterator[str]:
    """The built site over HTTP on a free loopback port, stopped after the tests."""
    if not (SITE / "index.html").exists():
        pytest.fail(f"{SITE} has no docs site: run make docs first")
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(SimpleHTTPRequestHandler, directory=str(SITE)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> t.Iterator[BrowserContext]:
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail("chromium is not installed: make release-check installs it (Debian package chromium)")
    with sync_playwright() as playwright:
        # A new, empty profile: nothing from an earlier run (cache, storage) can make a page look right.
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=chromium,
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": 1280, "height": 900},
        )
        try:
            yield context
        finally:
            context.close()


class Visit(t.NamedTuple):
    page: Page
    problems: list[str]


@pytest.fixture
def visit(browser: BrowserContext, site: str) -> t.Iterator[t.Callable[[str], Visit]]:
    pages: list[Page] = []

    def open_page(path: str) -> Visit:
        page = browser.new_page()
        pages.append(page)
        problems: list[str] = []
        page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
        page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
        page.on("requestfailed", lambda request: problems.append(f"failed: {request.url}"))
        page.on("request", lambda request: None if request.url.startswith(site) else problems.append(request.url))
        response = page.goto(site + path, wait_until="networkidle")
        assert response is not None and response.status == 200, path
        return Visit(page, problems)

    yield open_page
    for page in pages:
        page.close()


def _screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def _laid_out_by_the_theme(page: Page) -> None:
    """The navigation sits beside the content, not above it: the stylesheet was loaded and applied."""
    side = page.locator("nav.wy-nav-side").bounding_box()
    content = page.locator("section.wy-nav-content-wrap").bounding_box()
    assert side and content
    assert side["x"] + side["width"] <= content["x"] + 1
    assert side["height"] > 300


def test_index(visit: t.Callable[[str], Visit]) -> None:
    page, problems = visit("index.html")
    _screenshot(page, "index")
    assert "tagscope.registry" in page.title()
    assert page.locator("h1").first.inner_text().lower().startswith("tagscope.registry")
    _laid_out_by_the_theme(page)
    body = page.locator("div[itemprop=articleBody]")
    for link in ("image_tags module", "image_tags lookup", "tag_gate role", "AWX, Automation Platform"):
        assert body.get_by_role("link", name=link).first.is_visible(), link
    assert problems == []


def test_module_page(visit: t.Callable[[str], Visit]) -> None:
    page, problems = visit("image_tags_module.html")
    _screenshot(page, "image_tags_module")
    assert page.title().startswith("tagscope.registry.image_tags module")
    _laid_out_by_the_theme(page)
    options = page.locator("table.ansible-option-table").first
    assert options.is_visible()
    box = options.bounding_box()
    assert box and box["width"] > 600, "the option table is squeezed: the stylesheet did not apply"
    for option in ("images", "password", "auth_registry", "validate_certs"):
        assert options.locator(f"#parameter-{option}").count() == 1, option
    example = page.locator("#examples div.highlight").first
    assert example.is_visible()
    assert "tagscope.registry.image_tags:" in example.inner_text()
    assert problems == []


def test_role_page(visit: t.Callable[[str], Visit]) -> None:
    page, problems = visit("tag_gate_role.html")
    _screenshot(page, "tag_gate_role")
    assert page.title().startswith("tagscope.registry.tag_gate role")
    options = page.locator("table.ansible-option-table").first
    assert options.is_visible()
    assert options.get_by_text("tag_gate_images", exact=True).first.is_visible()
    assert problems == []


def test_guide(visit: t.Callable[[str], Visit]) -> None:
    page, problems = visit("docsite/automation-platform.html")
    _screenshot(page, "guide-automation-platform")
    assert "AWX, Automation Platform and execution environments" in page.title()
    _laid_out_by_the_theme(page)
    example = page.locator("div.highlight").filter(has_text="tagscope.registry.tag_gate").first
    assert example.is_visible()
    table = page.locator("div[itemprop=articleBody] table").first
    assert table.is_visible()
    assert problems == []
