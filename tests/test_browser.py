"""A person signs in through Swagger UI and calls the API, in a real browser.

The hub runs in a thread on a real port with its own database and the demo network; headless
Chromium (Debian's /usr/bin/chromium, driven by Playwright) walks the explorer's
authorization-code + PKCE flow through the hub's login and consent pages, then uses the token.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from cbs_network import create_app
from cbs_network.http.docs import EXPLORER_SCOPES

from .conftest import make_settings
from .helpers import free_port

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
# As root on a machine with a closed network: no sandbox, and no background calls to Google.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 15_000


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.fixture(scope="module")
def chromium_path() -> str:
    if not Path(CHROMIUM).exists():
        message = f"{CHROMIUM} is missing (apt-get install chromium)"
        if _in_ci():
            pytest.fail(message + "; CI must run the browser test")
        pytest.skip(message)
    return CHROMIUM


@pytest.fixture(scope="module")
def live_hub(make_database_url) -> Iterator[tuple[str, dict]]:
    """The hub serving a freshly seeded demo network; yields (base URL, demo credentials)."""
    from cbs_network.demo import seed_demo

    port = free_port()
    public_url = f"http://127.0.0.1:{port}"
    app = create_app(make_settings(make_database_url(), public_url=public_url), RATELIMIT_ENABLED=False)
    database = app.extensions["cbs_db"]
    with app.app_context():
        session = database.session()
        credentials = seed_demo(session=session, public_url=public_url)
        session.commit()
        database.session.remove()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield public_url, credentials
    finally:
        server.shutdown()
        thread.join(timeout=10)
        database.engine.dispose()


def _csp_violations(context) -> list[str]:  # type: ignore[no-untyped-def]
    """Chromium reports each thing the Content-Security-Policy blocked on the console."""
    found: list[str] = []
    context.on(
        "console",
        lambda message: found.append(f"{message.location} {message.text}") if "Content Security Policy" in message.text else None,
    )
    return found


def test_sign_in_through_swagger_ui_and_list_organizations(chromium_path, live_hub, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT_MS)
    base, credentials = live_hub
    coordinator = next(user for user in credentials["users"] if user["role"] == "coordinator")

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        context = browser.new_context()
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        elsewhere: list[str] = []  # the explorer must not reach any other host
        context.on("request", lambda r: None if r.url.startswith((base, "data:", "blob:")) else elsewhere.append(r.url))
        violations = _csp_violations(context)  # of the explorer's page and of the sign-in popup
        popup = None
        try:
            page.goto(f"{base}/docs/")
            page.locator(".auth-wrapper button.authorize").click()
            # A person is offered the authorization-code flow only: client credentials are for systems.
            flows = page.locator(".dialog-ux .auth-container")
            expect(flows).to_have_count(1)
            flow = flows.filter(has_text="authorizationCode")
            expect(flow).to_have_count(1)
            expect(page.locator(".dialog-ux")).not_to_contain_text("clientCredentials")
            expect(flow.locator("input[data-name=clientId]")).to_have_value(credentials["explorer_client_id"])
            # initOAuth preselects a coordinator's scopes; others can still be ticked.
            expect(flow.locator("input[type=checkbox]:checked")).to_have_count(len(EXPLORER_SCOPES))
            expect(flow.locator('input[data-value="committees:write"]')).to_be_checked()
            expect(flow.locator('input[data-value="audit:read"]')).not_to_be_checked()

            with page.expect_popup() as popup_info:
                flow.locator("button.authorize").click()
            popup = popup_info.value
            popup.wait_for_url("**/oauth/login**")
            popup.fill("input[name=email]", coordinator["email"])
            popup.fill("input[name=password]", coordinator["password"])
            popup.click("button[type=submit]")
            popup.wait_for_url("**/oauth/authorize**")
            with popup.expect_event("close"):
                popup.get_by_role("button", name="Allow").click()
            popup = None

            # Swagger UI exchanged the code (with its PKCE verifier) and now offers Logout.
            # (Swagger UI labels its buttons with aria-label, so locate them by class or text.)
            expect(flow.locator("button", has_text="Logout")).to_be_visible()
            page.locator(".dialog-ux .close-modal").click()

            operation = page.locator(".opblock-get").filter(
                has=page.locator('.opblock-summary-path[data-path="/api/v1/organizations"]')
            )
            operation.locator(".opblock-summary").click()
            operation.locator("button.try-out__btn").click()
            operation.locator("button.execute").click()

            live = operation.locator(".live-responses-table .response")
            expect(live.locator(".response-col_status").first).to_have_text("200")
            body = json.loads(live.locator(".response-col_description pre").first.inner_text())
            assert body["items"], body
            assert all("id" in item and "name" in item for item in body["items"])
            assert not elsewhere, elsewhere
            assert not violations, violations
        except Exception:
            for name, target in (("docs", page), ("popup", popup)):
                if target is not None and not target.is_closed():
                    shot = tmp_path / f"browser-{name}.png"
                    target.screenshot(path=str(shot), full_page=True)
                    print(f"screenshot of the {name} page: {shot}")
            raise
        finally:
            browser.close()


def test_redoc_renders_the_reference_and_loads_nothing_from_another_host(chromium_path, live_hub):
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT_MS)
    base, _credentials = live_hub
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context()
            violations = _csp_violations(context)
            elsewhere: list[str] = []  # a request the CSP blocks is still reported here
            context.on("request", lambda r: None if r.url.startswith((base, "data:", "blob:")) else elsewhere.append(r.url))
            page = context.new_page()
            page.goto(f"{base}/redoc")
            # ReDoc renders the whole (large) spec before anything shows: slow on a busy machine.
            expect(page.locator("h1").first).to_contain_text("CBS Network Hub", timeout=4 * TIMEOUT_MS)
            expect(page.get_by_text("/api/v1/organizations").first).to_be_attached()
            # The sidebar footer (where ReDoc would show Redocly's logo) has rendered.
            expect(page.get_by_text("API docs by Redocly")).to_be_attached()
            page.wait_for_load_state("networkidle")
            assert not elsewhere, elsewhere
            assert not violations, violations
        finally:
            browser.close()
