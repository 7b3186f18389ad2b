"""The sidecar's /docs in Chromium: Swagger UI from the installed package (nothing from
the internet), under the page's Content-Security-Policy, where a developer pastes a
token and tries an RPC."""

from __future__ import annotations

import json

from playwright.sync_api import Browser, Request, expect

from tests.e2e.accounts.conftest import service_token
from tests.e2e.browser import Screenshots
from tests.e2e.stack import Stack


def test_a_developer_pastes_a_token_and_tries_lookup_users(browser: Browser,
                                                           stack: Stack) -> None:
    shots = Screenshots("api-docs")
    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []
    foreign: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    def note(request: Request) -> None:
        if not request.url.startswith(stack.sidecar_url):
            foreign.append(request.url)

    page.on("request", note)
    page.goto(f"{stack.sidecar_url}/docs")

    operation = page.locator("#operations-default-lookupUsers")
    expect(operation).to_be_visible()
    shots.take(page, "docs")
    page.locator("button.authorize").first.click()
    page.locator(".auth-container input").first.fill(service_token(stack))
    page.locator(".auth-btn-wrapper button.authorize").click()
    page.locator(".auth-btn-wrapper button.btn-done").click()
    operation.locator(".opblock-summary").click()
    # (the page opens operations ready to try: no "Try it out" click needed)
    operation.locator("textarea.body-param__text").fill(json.dumps({"users": ["nobody-docs"]}))
    operation.locator("button.execute").click()

    status = operation.locator(".live-responses-table tbody .response-col_status").first
    expect(status).to_have_text("200")
    expect(operation.locator(".live-responses-table")).to_contain_text('"nobody-docs": null')
    shots.take(page, "lookupUsers tried")
    assert foreign == []
    assert not [e for e in errors if "Content Security Policy" in e], errors
    context.close()
