"""End-to-end tests: Debian's Chromium, driven by Playwright, against the application served on 127.0.0.1
by pytest-django's live server, with a real Celery worker on the real Redis where messages are involved."""

import json
import os
import re
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from tests import factories
from tests.support.auth import authenticator_for, totp_code

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("HJP_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture(scope="package")
def browser():
    """One Chromium for the e2e tests. Playwright's sync API runs an event loop in this thread, so Django is
    told the ORM calls the tests make meanwhile are safe (they are synchronous); undone when the package ends."""
    assert shutil.which(CHROMIUM) or Path(CHROMIUM).exists(), f"Chromium is not installed at {CHROMIUM}"
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def new_page(browser, live_server):
    """Open a page in a fresh browser context (its own cookies, its own authenticators), at desktop width unless
    told otherwise; at another host name for the live server if told (passkeys need `localhost`, not an IP)."""
    contexts = []

    def open_page(viewport=DESKTOP, host: str = "") -> Page:
        base_url = live_server.url.replace("127.0.0.1", host) if host else live_server.url
        context = browser.new_context(viewport=viewport, base_url=base_url)
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        page.console_errors = []
        page.on("pageerror", lambda exc: page.console_errors.append(str(exc)))
        return page

    yield open_page
    for context in contexts:
        context.close()


def sign_in(page: Page, user, password: str = factories.PASSWORD) -> None:
    """Sign in as a person does: the password, then a code from their authenticator app (set up for them
    here if they have none), computed as the app computes it."""
    device = authenticator_for(user)
    page.goto("/accounts/login/")
    page.get_by_label("Email address").fill(user.email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/accounts/verify/"))
    pass_second_step(page, device)
    expect(page).not_to_have_url(re.compile(r"/accounts/(login|verify)/"))


def pass_second_step(page: Page, device) -> None:
    """Type the code `device` shows now on the second step (choosing it where the user has several)."""
    choice = page.get_by_role("radio", name=device.name)
    if choice.count():
        choice.check()
    page.get_by_label("Code from your authenticator app").fill(totp_code(device))
    page.get_by_role("button", name="Continue").click()


def axe_violations(page: Page, impacts=("serious", "critical")) -> list[dict]:
    """Run axe-core (installed from the npm registry) in the page; the serious and critical violations."""
    page.evaluate(AXE.read_text())
    result = page.evaluate(
        "() => axe.run(document, {runOnly: {type: 'tag', values: "
        "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']}})"
    )
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
        if v["impact"] in impacts
    ]


def assert_accessible(page: Page) -> None:
    violations = axe_violations(page)
    assert not violations, f"{page.url}:\n{json.dumps(violations, indent=2)}"


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{re.sub(r'[^a-z0-9-]+', '-', name.lower())}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


WIDE_ELEMENTS = """() => { const width = window.innerWidth; const wide = [];
  for (const el of document.querySelectorAll('body *')) {
    const box = el.getBoundingClientRect();
    if (box.right > width + 1 && !el.closest('.table-responsive')) wide.push(`${el.tagName}.${el.className}`);
  }
  return wide.slice(0, 8); }"""


def assert_fits_width(page: Page) -> None:
    """Nothing makes the page scroll sideways (a table may scroll inside its own .table-responsive box)."""
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{page.url} scrolls sideways by {overflow}px: {page.evaluate(WIDE_ELEMENTS)}"
