"""Security 2-2: a provider asserting an address nobody proved gets no way into the
account of the address's owner.

Keycloak's first-login flow made the account, linked to the provider, before anyone
proved the address: the owner, told "Email already exists", recovered it through
"Forgot password?", or simply opened the unexpected verification mail, and the
provider's user signed in to the owner's account (with no second factor). The realm's
first-login flow now links a provider only once the address's owner follows the link
mailed to it, in the browser that signed in through the provider; an account it makes
before that has no way in at all."""

from __future__ import annotations

import secrets

import pytest

from tests.fakes.oidc_provider import FakeOidcProvider, OidcUser
from tests.security.hosted import (
    Outcome,
    fill,
    finish_setup,
    forgot_password,
    link,
    mail_link,
    open_link,
    post,
    press,
    start,
    walk,
)
from tests.support.portal import Browser, visible_text
from tests.support.sidecar import SidecarRealm
from tests.support.smtp_peer import Received

pytestmark = pytest.mark.integration
PROVIDER = "example-oidc"


def unique(name: str) -> str:
    return f"{name}-{secrets.token_hex(3)}"


def through_provider(browser: Browser, realm: SidecarRealm, provider: FakeOidcProvider,
                     user: OidcUser) -> Outcome:
    """Sign in with the realm's `example-oidc` button, as `user` of the provider."""
    provider.sign_in(user)
    login = start(browser, realm.keycloak.url, realm.name)
    button = link(login, rf"/broker/{PROVIDER}/login")
    assert button, "no provider button on the sign-in page"
    consent = browser.get(button)  # the provider's own page
    return post(browser, consent.url, {"decision": "allow"})


def as_the_mailbox_owner(browser: Browser, outcome: Outcome, mail: Received,
                         address: str) -> Outcome:
    """Answer Keycloak's pages as the owner of `address`: a new password, a new
    authenticator, and each verification link that arrives in the mailbox."""
    for _ in range(8):
        if outcome.signed_in:
            return outcome
        text = outcome.page.text
        if 'name="password-new"' in text or "totpSecret" in text:
            outcome = finish_setup(browser, outcome, steps=1)
        elif "mc-resend-verification-email" in text:  # "Verify your email address"
            outcome = open_link(browser, mail_link(mail, address, len(mail.to(address))))
        else:
            return outcome
    return outcome


def federated_links(realm: SidecarRealm, user_id: str) -> list[dict[str, str]]:
    links: list[dict[str, str]] = realm.api.client.send(
        "GET", f"{realm.api.base}/users/{user_id}/federated-identity")
    return links


def test_the_owner_recovers_the_address_and_the_provider_gets_nothing(
        sidecar_realm: SidecarRealm, mail: tuple[int, Received],
        provider: FakeOidcProvider) -> None:
    victim = f"{unique('vera')}@example.org"
    mallory = OidcUser("Mal", "Lory", victim, "https://example.org/m.png")

    pre_hijack = through_provider(Browser(), sidecar_realm, provider, mallory)
    assert not pre_hijack.signed_in

    owner = Browser()  # registration refuses the address, so "Forgot password?"
    registration = owner.get(str(link(start(owner, sidecar_realm.keycloak.url,
                                            sidecar_realm.name), r"/registration")))
    refused = fill(owner, registration, "email", username=unique("vera"), email=victim,
                   firstName="Vera", lastName="Owner")
    assert "already exists" in visible_text(refused.page)
    sent = len(mail[1].to(victim))
    forgot_password(owner, sidecar_realm.keycloak.url, sidecar_realm.name, victim)
    recovered = as_the_mailbox_owner(
        owner, open_link(owner, mail_link(mail[1], victim, sent + 1)), mail[1], victim)
    assert recovered.signed_in, visible_text(recovered.page)

    again = through_provider(Browser(), sidecar_realm, provider, mallory)

    assert not again.signed_in
    [account] = sidecar_realm.api.users_by_email(victim)
    assert account["emailVerified"] is True
    assert federated_links(sidecar_realm, account["id"]) == []


def test_the_unexpected_mail_opened_by_its_owner_links_nothing(
        sidecar_realm: SidecarRealm, mail: tuple[int, Received],
        provider: FakeOidcProvider) -> None:
    victim = f"{unique('wilma')}@example.org"
    mallory = OidcUser("Mal", "Lory", victim, "https://example.org/m.png")
    attacker = Browser()
    waiting = through_provider(attacker, sidecar_realm, provider, mallory)
    assert not waiting.signed_in

    owner = Browser()  # the owner's mail app: no session of the provider's sign-in
    opened = open_link(owner, mail_link(mail[1], victim, 1))
    for _ in range(3):  # every confirmation the page offers, as a curious owner clicks
        proceed = link(opened.page, r"/login-actions/action-token")
        if proceed is None or opened.signed_in:
            break
        opened = open_link(owner, proceed)
    resumed = walk(attacker, attacker.http.get(waiting.page.url, allow_redirects=False,
                                               timeout=30))
    later = through_provider(Browser(), sidecar_realm, provider, mallory)

    assert not resumed.signed_in
    assert not later.signed_in
    [account] = sidecar_realm.api.users_by_email(victim)
    assert federated_links(sidecar_realm, account["id"]) == []


def test_an_existing_account_is_linked_only_through_its_owners_mailbox(
        sidecar_realm: SidecarRealm, mail: tuple[int, Received],
        provider: FakeOidcProvider) -> None:
    owner = unique("xena")
    owner_id = sidecar_realm.user(owner)
    address = f"{owner}@example.org"
    mallory = OidcUser("Mal", "Lory", address, "https://example.org/m.png")
    attacker = Browser()

    asked = through_provider(attacker, sidecar_realm, provider, mallory)
    assert "already exists" in visible_text(asked.page)
    waiting = press(attacker, asked.page, submitAction="linkAccount")

    assert not waiting.signed_in
    mail_link(mail[1], address, 1)  # the owner is asked, by mail
    assert federated_links(sidecar_realm, owner_id) == []


def test_a_provider_sign_up_is_linked_once_the_mail_is_followed(
        sidecar_realm: SidecarRealm, mail: tuple[int, Received],
        provider: FakeOidcProvider) -> None:
    address = f"{unique('grace')}@example.org"
    grace = OidcUser("Grace", "Hopper", address, "https://example.org/g.png")
    browser = Browser()

    waiting = through_provider(browser, sidecar_realm, provider, grace)
    assert not waiting.signed_in
    done = as_the_mailbox_owner(browser, open_link(browser, mail_link(mail[1], address, 1)),
                                mail[1], address)

    assert done.signed_in, visible_text(done.page)
    [account] = sidecar_realm.api.users_by_email(address)
    assert account["emailVerified"] is True
    [linked] = federated_links(sidecar_realm, account["id"])
    assert linked["identityProvider"] == PROVIDER
    assert not sidecar_realm.api.credentials(account["id"])  # the provider is the way in


def test_a_name_changed_on_the_way_gets_no_link_and_no_trust(
        sidecar_realm: SidecarRealm, provider: FakeOidcProvider) -> None:
    """Keycloak mails no confirmation when the profile page changed the username or the
    address (as a taken username makes it ask): the sign-in ends there, unlinked."""
    taken = unique("yrsa")
    sidecar_realm.user(taken)
    address = f"{taken}@example.net"  # the provider's username is the taken one
    browser = Browser()

    asked = through_provider(browser, sidecar_realm, provider,
                             OidcUser("Yrsa", "Twin", address, "https://example.org/y.png"))
    assert "already exists" in visible_text(asked.page)
    review = press(browser, asked.page, submitAction="updateProfile")
    ended = fill(browser, review.page, "username", username=unique("zoe"))

    assert not ended.signed_in
    assert "confirm your email address" in visible_text(ended.page)
    [account] = sidecar_realm.api.users_by_email(address)
    assert account["emailVerified"] is False
    assert federated_links(sidecar_realm, account["id"]) == []
