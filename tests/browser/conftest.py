"""Headless Chromium through Playwright, against the live test server and a real worker."""

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent.parent.parent / "test-artifacts"

# Playwright's sync API runs an event loop in this thread; the ORM calls of the tests are
# still plain synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


# Chromium reports every Content-Security-Policy violation on the console of the page; htmx
# reports there an attribute it cannot parse (it then drops part of it) or would have to eval.
CSP_MARKERS = (
    "Content Security Policy",
    "Content-Security-Policy",
    "htmx:syntax:error",
    "htmx:evalDisallowedError",
)
csp_violations: list[str] = []


def _watch_for_csp_violations(context) -> None:  # type: ignore[no-untyped-def]
    def on_console(message) -> None:  # type: ignore[no-untyped-def]
        if any(marker in message.text for marker in CSP_MARKERS):
            csp_violations.append(f"{message.page.url if message.page else '?'}: {message.text}")

    context.on("console", on_console)


class CspWatchingBrowser:
    """The Playwright browser, whose every new context records CSP violations."""

    def __init__(self, browser) -> None:  # type: ignore[no-untyped-def]
        self._browser = browser

    def new_context(self, **options):  # type: ignore[no-untyped-def]
        context = self._browser.new_context(**options)
        _watch_for_csp_violations(context)
        return context

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(self._browser, name)


@pytest.fixture(autouse=True)
def no_csp_violations() -> Iterator[None]:
    """Every browser test fails if a page broke the Content-Security-Policy."""
    csp_violations.clear()
    yield
    assert not csp_violations, "Content-Security-Policy violations:\n" + "\n".join(csp_violations)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"Chromium is required on CI and was not found at {CHROMIUM}")
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
            ],
        )
        yield CspWatchingBrowser(browser)
        browser.close()


@pytest.fixture
def page(browser, live_server) -> Iterator[object]:  # type: ignore[no-untyped-def]
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1400, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def worker(transactional_db, tmp_path) -> Iterator[object]:  # type: ignore[no-untyped-def]
    from tests.workers import start_worker, stop_worker

    process = start_worker(tmp_path / "worker.log")
    yield process
    stop_worker(process)


def screenshot(page, name: str) -> Path:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def log_in(page, username: str, password: str) -> None:  # type: ignore[no-untyped-def]
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url("**/")
