"""Every sign-up path of the specs, in Chromium, through the public entry of the
production stack with REALM_ENV=production: GitHub, a further OpenID Connect provider
and WAYF (SAML, from its signed metadata) each sign a new user up, who verifies the
address through the relays' DKIM-signed mail and its short link, and lands in the
portal with the country and timezone of the address the balancer in front forwarded.
Google and Microsoft: their buttons, and Keycloak's redirect to them with the spec's
scopes (no sign-in: no Google or Microsoft here)."""

from __future__ import annotations

import re
import secrets
import time
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import Browser, BrowserContext, Page, Route, expect

from mail.dkim_keys import load as load_dkim_keys
from tests.deploy.conftest import GITHUB_CLIENT_ID, OIDC_CLIENT_ID
from tests.deploy.stack import (
    DANISH_ADDRESS,
    PUBLIC_URL,
    REALM,
    Deployment,
    accept_the_licence,
    wait_for,
)
from tests.e2e.browser import Screenshots
from tests.fakes.github import FakeGitHub, GitHubUser
from tests.fakes.oidc_provider import FakeOidcProvider, OidcUser
from tests.fakes.saml_idp import SamlIdentityProvider, make_test_user
from tests.support.dkim_check import verifies

BUTTONS = {"google": "Google", "github": "GitHub", "microsoft": "Microsoft", "wayf": "WAYF",
           "example-oidc": "Example OpenID Connect provider"}
PORTAL = re.compile(re.escape(PUBLIC_URL) + r"/?(\?.*)?$")


def browser_from_denmark(browser: Browser) -> BrowserContext:
    return browser.new_context(ignore_https_errors=True,
                               extra_http_headers={"X-Forwarded-For": DANISH_ADDRESS})


def login_page(context: BrowserContext) -> Page:
    page = context.new_page()
    page.goto(f"{PUBLIC_URL}/login")  # the portal sends the visitor to Keycloak's page
    page.wait_for_selector("input[name=username]")
    assert page.url.startswith(f"{PUBLIC_URL}/realms/{REALM}/")
    return page


def finish_sign_up(page: Page, deployment: Deployment, email: str, shots: Screenshots) -> None:
    """Keycloak's first-login pages, the verification mail at the upstream, its short
    link on the public host, and the portal with the place of the address."""
    review = page.locator("#kc-idp-review-profile-form, #kc-update-profile-form")
    resend = page.get_by_role("link", name="Resend Verification Email")
    expect(review.or_(resend).first).to_be_visible(timeout=30_000)
    if review.count():
        expect(page.locator("input[name=email]")).to_have_value(email)
        page.locator("[type=submit]").first.click()
    expect(resend).to_be_visible(timeout=30_000)
    shots.take(page, "verify email")
    wait_for(f"a mail to {email}", lambda: any(email in r for r, _ in deployment.mail.raw), 60)
    raw = next(raw for r, raw in deployment.mail.raw if email in r)
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    assert message["Subject"] == "Verify Email Address"
    assert verifies(raw, load_dkim_keys(deployment.secrets_dir, "idpack")) == [True, True]
    link = re.search(rb"https://localhost:18443/s/[A-Za-z0-9_-]+", raw)
    assert link, raw
    page.goto(link.group(0).decode())
    accept_the_licence(page)
    page.wait_for_url(PORTAL, timeout=30_000)
    deadline = time.monotonic() + 30
    while "Europe/Copenhagen" not in page.content():  # the geo worker polls the events
        assert time.monotonic() < deadline, page.content()
        time.sleep(1)
        page.reload()
    expect(page.get_by_text(email)).to_be_visible()
    expect(page.get_by_text("DK", exact=True)).to_be_visible()
    shots.take(page, "portal")


def test_the_login_page_offers_every_provider_and_google_and_microsoft_ask_the_specs_scopes(
        browser: Browser, deployment: Deployment) -> None:
    context = browser_from_denmark(browser)
    providers = {"google": "https://accounts.google.com/",
                 "microsoft": "https://login.microsoftonline.com/"}

    def stand_in(route: Route) -> None:  # no request leaves the machine
        route.fulfill(status=200, body="the provider would sign in here")

    for url in providers.values():
        context.route(f"{url}**", stand_in)
    page = login_page(context)
    for alias, name in BUTTONS.items():
        expect(page.locator(f"#social-{alias}")).to_contain_text(name)
    Screenshots("deploy-sign-up").take(page, "login page with every provider")
    for alias, url in providers.items():
        page = login_page(context)
        with page.expect_request(re.compile(re.escape(url) + ".*")) as redirected:
            page.locator(f"#social-{alias}").click()
        query = parse_qs(urlsplit(redirected.value.url).query)
        assert query["scope"] == ["openid profile email"], alias
        assert query["redirect_uri"] == [
            f"{PUBLIC_URL}/realms/{REALM}/broker/{alias}/endpoint"], alias
        assert query["client_id"][0].startswith(
            {"google": "1234567890-", "microsoft": "00000000-"}[alias])  # README's step 2
    context.close()


def test_sign_up_through_github(browser: Browser, deployment: Deployment,
                                fake_github: FakeGitHub) -> None:
    shots = Screenshots("deploy-github")
    tag = secrets.token_hex(3)
    octocat = GitHubUser(login=f"linus-{tag}", name="Linus Torvalds",
                         email=f"linus-{tag}@example.org")
    fake_github.sign_in(octocat)
    context = browser_from_denmark(browser)
    page = login_page(context)
    page.locator("#social-github").click()
    page.wait_for_url(re.compile(re.escape(fake_github.url) + "/login/oauth/authorize"))
    page.get_by_role("button", name="Authorize").click()

    finish_sign_up(page, deployment, octocat.email, shots)
    context.close()
    asked = fake_github.authorize_requests[-1]
    assert (asked.client_id, asked.scope) == (GITHUB_CLIENT_ID, "openid user email")
    assert asked.redirect_uri == f"{PUBLIC_URL}/realms/{REALM}/broker/github/endpoint"


def test_sign_up_through_the_openid_connect_provider(
        browser: Browser, deployment: Deployment, fake_oidc: FakeOidcProvider) -> None:
    shots = Screenshots("deploy-oidc")
    tag = secrets.token_hex(3)
    ada = OidcUser(given_name="Ada", family_name="Lovelace", email=f"ada-{tag}@example.org",
                   picture=f"https://id.example.org/pictures/ada-{tag}.png", locale="en")
    fake_oidc.sign_in(ada)
    context = browser_from_denmark(browser)
    page = login_page(context)
    page.locator("#social-example-oidc").click()
    page.wait_for_url(re.compile(re.escape(fake_oidc.issuer) + "/authorize"))
    page.get_by_role("button", name="Allow").click()

    finish_sign_up(page, deployment, ada.email, shots)
    context.close()
    asked = fake_oidc.authorization_requests[-1]
    assert (asked["client_id"], asked["scope"]) == (OIDC_CLIENT_ID, "openid profile email")


def test_sign_up_through_wayf_from_its_signed_metadata(
        browser: Browser, deployment: Deployment, wayf: SamlIdentityProvider) -> None:
    shots = Screenshots("deploy-wayf")
    wayf.user = make_test_user(username=f"wayf-{secrets.token_hex(3)}")
    context = browser_from_denmark(browser)
    page = login_page(context)
    page.locator("#social-wayf").click()
    page.wait_for_selector("#username")
    assert page.url.startswith(wayf.sso_url)
    page.fill("#username", wayf.user.username)
    page.fill("#password", wayf.user.password)
    page.click("#login")  # the signed Response, POSTed back to Keycloak by the page

    finish_sign_up(page, deployment, wayf.user.mail, shots)
    context.close()
    [user] = deployment.admin().realm(REALM).users_by_email(wayf.user.mail)
    assert user["attributes"]["wayfTargetedId"] == [wayf.user.targeted_id]
    assert user["attributes"]["orgId"] == [wayf.user.schac_home_organization]
