"""Sign-up through outside identity providers (GitHub, a further OpenID Connect provider)
in Chromium, against `make run`'s stack with the providers pointed at local fakes
(tests/fakes). Whatever the provider, the new user verifies the email through the
relay's mail and its short link before reaching the portal, and gets the country and
timezone of the address they signed up from.

The steps every provider shares live here; the provider's own part (its button, its
consent page, what it was asked) in the test modules."""

from __future__ import annotations

import re
import time
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

from playwright.sync_api import Page, expect

from idpack.keycloak.realm_admin import RealmAdmin
from mail.dkim_keys import load as load_dkim_keys
from tests.e2e.browser import Screenshots
from tests.e2e.mail import short_link_in, text_of, wait_for_mails
from tests.e2e.stack import Stack
from tests.support.dkim_check import verifies

PROVIDER_BUTTONS = {"github": "GitHub", "example-oidc": "Example OpenID Connect provider"}
RESEND = "Resend Verification Email"


def open_hosted_login(page: Page, stack: Stack, shots: Screenshots) -> None:
    """The portal's /login: Keycloak's themed login page, with a button per provider."""
    page.goto(f"{stack.portal_url}/login")
    page.wait_for_selector("input[name=username]")
    for alias, name in PROVIDER_BUTTONS.items():
        button = page.locator(f"#social-{alias}")
        expect(button).to_be_visible()
        expect(button).to_contain_text(name)
    shots.take(page, "login page with the provider buttons")


def finish_first_login(page: Page, stack: Stack, email: str, shots: Screenshots) -> None:
    """Back at Keycloak from the provider: its first-login pages (the profile review,
    if it asks), the verify-email page, the mail through the relay, its short link, and
    the portal showing the profile with the country and timezone of the address."""
    review = page.locator("#kc-idp-review-profile-form, #kc-update-profile-form")
    resend = page.get_by_role("link", name=RESEND)
    expect(review.or_(resend).first).to_be_visible(timeout=30_000)
    if review.count():
        shots.take(page, "review profile")
        expect(page.locator("input[name=email]")).to_have_value(email)
        page.locator("[type=submit]").first.click()
    expect(resend).to_be_visible(timeout=30_000)  # linked only once the address is proven
    shots.take(page, "verify email")

    # Not verified yet: the portal stays out of reach.
    other = page.context.new_page()
    other.goto(f"{stack.portal_url}/login")
    assert not other.url.startswith(stack.portal_url), other.url
    other.close()

    [raw] = wait_for_mails(stack, email, 1)
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    assert message["From"].addresses[0].addr_spec == "no-reply@mikrocloud.com"
    assert message["Subject"] == "Verify Email Address"
    assert verifies(raw, load_dkim_keys(stack.home / "dkim", "idpack")) == [True, True]
    assert "action-token" not in text_of(message)
    link = short_link_in(stack, raw)

    page.goto(link)  # 302 to Keycloak's action link, which verifies and carries on
    page.wait_for_url(re.compile(re.escape(stack.portal_url) + r"/?(\?.*)?$"),
                      timeout=30_000)
    deadline = time.monotonic() + 15
    while "Europe/Copenhagen" not in page.content():  # the geo worker polls events
        assert time.monotonic() < deadline, page.content()
        time.sleep(0.5)
        page.reload()
    expect(page.get_by_text(email)).to_be_visible()
    expect(page.get_by_text("DK", exact=True)).to_be_visible()
    shots.take(page, "portal profile")


def user_with_place(api: RealmAdmin, email: str, seconds: float = 10) -> dict[str, Any]:
    """The user's full representation once the geo worker has written the place."""
    deadline = time.monotonic() + seconds
    while True:
        [user] = api.users_by_email(email)
        attributes = user.get("attributes") or {}
        if attributes.get("country") and attributes.get("timezone"):
            return user
        assert time.monotonic() < deadline, user
        time.sleep(0.5)


def federated_identities(api: RealmAdmin, user_id: str) -> list[dict[str, Any]]:
    links: list[dict[str, Any]] = api.client.send(
        "GET", f"{api.base}/users/{user_id}/federated-identity")
    return links
