"""The registration journey in Chromium, against what `make run` starts: register on the
hosted page, get the DKIM-signed "Verify Email Address" mail through the relay, follow
its short link, set a password (Keycloak 26 asks for it once the address is proven),
and land in the portal with the country and timezone of the registration address."""

from __future__ import annotations

import re
import secrets
import time
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

from playwright.sync_api import Browser, Page, expect

from idpack.keycloak.admin import KeycloakAdminClient
from idpack.store import open_store
from idpack.store.short_links import NAMESPACE
from mail.dkim_keys import load as load_dkim_keys
from tests.e2e.browser import Screenshots
from tests.e2e.mail import mails_to, short_link_in, text_of, wait_for_mails
from tests.e2e.stack import Stack
from tests.support.dkim_check import opendkim_results, verifies
from tests.support.geo_database import DENMARK

STRONG_PASSWORD = "Blue-Kettle-42!"
LIFESPAN = "actionTokenGeneratedByUserLifespan.verify-email"


def register(page: Page, stack: Stack, name: str, shots: Screenshots | None = None) -> str:
    """Fill the hosted registration page; the new user's email."""
    email = f"{name}-{secrets.token_hex(3)}@example.org"
    page.goto(f"{stack.portal_url}/register")
    page.wait_for_selector("input[name=firstName]")
    if shots:
        shots.take(page, "registration page")
    page.fill("input[name=firstName]", name.title())
    page.fill("input[name=lastName]", "Hansen")
    page.fill("input[name=email]", email)
    if page.locator("input[name=username]").count():
        page.fill("input[name=username]", email.split("@")[0])
    page.locator("[type=submit]").first.click()
    expect(page.get_by_role("link", name="Resend Verification Email")).to_be_visible()
    return email


def test_register_verify_by_short_link_and_land_in_the_portal(
        browser: Browser, stack: Stack, keycloak_admin: KeycloakAdminClient) -> None:
    shots = Screenshots("registration-journey")
    context = browser.new_context(extra_http_headers={"X-Forwarded-For": DENMARK})
    page = context.new_page()
    started = time.monotonic()
    page.goto(stack.portal_url)
    shots.take(page, "portal signed out")

    email = register(page, stack, "nina", shots)
    shots.take(page, "verify email")

    # Not verified: the portal is out of reach, Keycloak keeps the user at its pages.
    other = context.new_page()
    other.goto(f"{stack.portal_url}/login")
    assert not other.url.startswith(stack.portal_url)
    other.close()

    [raw] = wait_for_mails(stack, email, 1)
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    assert message["From"].addresses[0].addr_spec == "no-reply@mikrocloud.com"
    assert message["Subject"] == "Verify Email Address"
    delivered = next(i for i, (recipients, _) in enumerate(stack.mail.raw) if email in recipients)
    assert stack.mail.greetings[delivered] == "mailman.mikrocloud.com"  # the sending host
    keys = load_dkim_keys(stack.home / "dkim", "idpack")
    assert verifies(raw, keys) == [True, True]
    assert opendkim_results(raw, keys) == {"rsa-sha256": "pass", "ed25519-sha256": "pass"}
    text = text_of(message)
    assert "action-token" not in text
    assert "24 hours" in text
    found = re.search(rf"{re.escape(stack.sidecar_url)}/s/[A-Za-z0-9_-]+", text)
    assert found, text

    page.goto(found.group(0))  # the short link: 302 to Keycloak's action link
    page.wait_for_selector("input[name=password-new]")
    page.fill("input[name=password-new]", "weak")
    page.fill("input[name=password-confirm]", "weak")
    page.locator("[type=submit]").first.click()
    expect(page.get_by_text(re.compile("at least 8 characters", re.IGNORECASE))).to_be_visible()
    shots.take(page, "weak password refused")
    page.fill("input[name=password-new]", STRONG_PASSWORD)
    page.fill("input[name=password-confirm]", STRONG_PASSWORD)
    page.locator("[type=submit]").first.click()

    page.wait_for_url(re.compile(re.escape(stack.portal_url) + r"/?(\?.*)?$"))
    deadline = time.monotonic() + 10
    while "Europe/Copenhagen" not in page.content():
        assert time.monotonic() < deadline, page.content()
        time.sleep(0.5)
        page.reload()
    expect(page.get_by_text(email)).to_be_visible()
    expect(page.get_by_text("Nina", exact=True)).to_be_visible()
    expect(page.get_by_text("DK", exact=True)).to_be_visible()
    shots.take(page, "portal profile")
    print(f"registration journey in the browser: {time.monotonic() - started:.1f} s")

    # The guess was wrong: the user says where they are on the profile page, and it
    # stays so (the geo worker fills only what is empty, and has settled this event).
    page.get_by_role("link", name="Edit profile").click()
    page.select_option("#country", "SE")
    page.select_option("#timezone", "Europe/Stockholm")
    shots.take(page, "profile page")
    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    shots.take(page, "profile page on a phone")
    page.set_viewport_size({"width": 1280, "height": 720})
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Your profile is saved.")).to_be_visible()
    time.sleep(2)  # a few of the geo worker's polls
    page.reload()
    expect(page.locator("#country")).to_have_value("SE")
    expect(page.locator("#timezone")).to_have_value("Europe/Stockholm")
    page.goto(stack.portal_url)
    expect(page.get_by_text("SE", exact=True)).to_be_visible()
    expect(page.get_by_text("Europe/Stockholm")).to_be_visible()
    [user] = keycloak_admin.realm(stack.realm).users_by_email(email)
    assert user["attributes"]["country"] == ["SE"]
    assert user["attributes"]["timezone"] == ["Europe/Stockholm"]
    context.close()


def test_at_most_five_verification_mails_a_minute(browser: Browser, stack: Stack) -> None:
    shots = Screenshots("resend-limit")
    context = browser.new_context(extra_http_headers={"X-Forwarded-For": DENMARK})
    page = context.new_page()
    email = register(page, stack, "ole")  # mail 1
    wait_for_mails(stack, email, 1)

    for sent in range(2, 6):  # mails 2 to 5, by the page's link
        time.sleep(1.1)  # past Keycloak's own 1 s cooldown (realm-config), so the relay decides
        page.get_by_role("link", name="Resend Verification Email").click()
        wait_for_mails(stack, email, sent)
    time.sleep(1.1)
    page.get_by_role("link", name="Resend Verification Email").click()  # the 6th
    expect(page.get_by_text(re.compile("5 emails a minute", re.IGNORECASE))
           ).to_be_visible()
    shots.take(page, "sixth mail refused")

    time.sleep(2)  # nothing more arrives: the relay refused the 6th
    assert len(mails_to(stack, email)) == 5
    context.close()


def test_an_expired_link_says_so_and_a_new_mail_can_be_requested(
        browser: Browser, stack: Stack, keycloak_admin: KeycloakAdminClient) -> None:
    """A realm whose verification links live 8 seconds instead of 24 hours."""
    shots = Screenshots("expired-link")
    api = keycloak_admin.realm(stack.realm)
    attributes = api.get().get("attributes") or {}
    api.update({"attributes": {**attributes, LIFESPAN: "8"}})
    context = browser.new_context(extra_http_headers={"X-Forwarded-For": DENMARK})
    try:
        page = context.new_page()
        email = register(page, stack, "kaj")
        [first] = wait_for_mails(stack, email, 1)
        short_link = short_link_in(stack, first)
        target = open_store(str(stack.home / "store.sqlite")).get(
            NAMESPACE, short_link.rsplit("/", 1)[1])
        assert target is not None
        time.sleep(9)

        mail_client = browser.new_context()  # links opened from the mail: no session
        expired = mail_client.new_page()
        expired.goto(short_link)  # the short link knows its token's expiry: 410
        expect(expired.get_by_text("This link has expired")).to_be_visible()
        shots.take(expired, "expired short link")
        expired.goto(str(target["target"]))  # and Keycloak refuses the token itself
        expect(expired.get_by_text(re.compile("expired|no longer valid", re.IGNORECASE))
               .first).to_be_visible()
        shots.take(expired, "keycloak expired page")
        mail_client.close()

        api.update({"attributes": {**attributes, LIFESPAN: attributes.get(LIFESPAN, "86400")}})
        page.get_by_role("link", name="Resend Verification Email").click()  # > 1 s after
        second = wait_for_mails(stack, email, 2)[1]
        page.goto(short_link_in(stack, second))
        page.wait_for_selector("input[name=password-new]")  # verified: now the password
        shots.take(page, "new link works")
    finally:
        api.update({"attributes": attributes})
        context.close()


def test_a_link_opened_on_another_device_offers_the_way_to_the_portal(
        browser: Browser, stack: Stack) -> None:
    """Registered on a laptop, the mail opened on a phone: the phone has none of the
    registration's session, so Keycloak cannot carry on to the portal by itself; its
    page must still lead there (the portal client's baseUrl)."""
    laptop = browser.new_context(extra_http_headers={"X-Forwarded-For": DENMARK})
    email = register(laptop.new_page(), stack, "olga")
    [raw] = wait_for_mails(stack, email, 1)
    link = short_link_in(stack, raw)
    laptop.close()

    phone = browser.new_context(viewport={"width": 390, "height": 844})
    page = phone.new_page()
    page.goto(link)
    # Keycloak's pages without the registration's session: a confirmation of the
    # address ("Click here to proceed"), the password the user sets, then its note.
    for _ in range(3):
        page.wait_for_load_state()
        proceed = page.get_by_role("link", name=re.compile("Click here to proceed"))
        if proceed.count():
            proceed.click()
        elif page.locator("input[name=password-new]").count():
            page.fill("input[name=password-new]", STRONG_PASSWORD)
            page.fill("input[name=password-confirm]", STRONG_PASSWORD)
            page.locator("[type=submit]").first.click()
        else:
            break
    Screenshots("verify-on-another-device").take(page, "after the link")
    if not page.url.startswith(stack.portal_url):
        onward = page.locator(f"a[href^='{stack.portal_url}']")
        expect(onward.first).to_be_visible()
        onward.first.click()
        page.wait_for_url(re.compile(re.escape(stack.portal_url) + r"/?.*"))
    phone.close()
