"""Security 2-1: "Forgot password?" never stands in for the second factor.

Keycloak's built-in reset-credentials flow made whoever followed the mailed link set up
an authenticator of their own (its conditional "Reset OTP" step), choose a password and
sign in; the owner's authenticator kept working beside the new one. The realm's reset
flow now asks for a code of the authenticator the account has (or one of its recovery
codes) before the password changes, and never adds one; a user who has none sets one up
before getting in, as at any password sign-in."""

from __future__ import annotations

import html
import re
import secrets
from urllib.parse import urljoin

import pytest

from tests.security.hosted import (
    Outcome,
    fill,
    finish_setup,
    forgot_password,
    mail_link,
    open_link,
    post,
    start,
)
from tests.support.portal import Browser, form_with, visible_text
from tests.support.sidecar import PASSWORD, SidecarRealm
from tests.support.smtp_peer import Received

pytestmark = pytest.mark.integration


def unique(name: str) -> str:
    return f"{name}-{secrets.token_hex(3)}"


def reset_link(browser: Browser, realm: SidecarRealm, mail: tuple[int, Received],
               username: str) -> str:
    """The link of the reset mail asked for in `browser` (opened in another browser,
    Keycloak ends the reset on "Your account has been updated", without a session)."""
    before = len(mail[1].to(f"{username}@example.org"))
    forgot_password(browser, realm.keycloak.url, realm.name, username)
    return mail_link(mail[1], f"{username}@example.org", before + 1)


def otp_ids(realm: SidecarRealm, user_id: str) -> list[str]:
    return sorted(c["id"] for c in realm.api.credentials(user_id) if c["type"] == "otp")


def test_the_reset_link_asks_the_existing_authenticator_before_the_password(
        sidecar_realm: SidecarRealm, mail: tuple[int, Received]) -> None:
    name = unique("tove")
    user_id, authenticator = sidecar_realm.user_with_totp(name)
    before = otp_ids(sidecar_realm, user_id)
    browser = Browser()

    first = open_link(browser, reset_link(browser, sidecar_realm, mail, name))

    assert 'name="otp"' in first.page.text, first.page.text[:2000]  # a code, nothing else
    assert "totpSecret" not in first.page.text
    assert 'name="password-new"' not in first.page.text
    wrong = fill(browser, first.page, "otp", otp="000000")
    assert not wrong.signed_in
    assert 'name="otp"' in wrong.page.text
    assert 'name="password-new"' not in wrong.page.text
    right = fill(browser, wrong.page, "otp", otp=authenticator.now())
    assert 'name="password-new"' in right.page.text
    done = finish_setup(browser, right)
    assert done.signed_in
    assert otp_ids(sidecar_realm, user_id) == before  # the one it had, no other


def test_a_user_without_an_authenticator_gets_in_only_after_setting_one_up(
        sidecar_realm: SidecarRealm, mail: tuple[int, Received]) -> None:
    """The mailbox and a new password alone never open a session: Keycloak's own flow
    ended on "Your account has been updated" (sign in again); the realm's has the user
    set up an authenticator on the way in, as a first password sign-in would."""
    name = unique("ulla")
    user_id = sidecar_realm.user(name)
    browser = Browser()

    outcome = open_link(browser, reset_link(browser, sidecar_realm, mail, name))
    asked: list[str] = []  # the pages on the way in, in order
    while not outcome.signed_in and len(asked) < 4:
        step = next((s for s in ("totpSecret", "password-new") if s in outcome.page.text), None)
        if step is None:
            break
        asked.append(step)
        outcome = finish_setup(browser, outcome, steps=1)

    assert outcome.signed_in, visible_text(outcome.page)
    assert asked[0] in ("totpSecret", "password-new")
    assert sorted(asked) == ["password-new", "totpSecret"]
    assert len(otp_ids(sidecar_realm, user_id)) == 1


def recovery_codes(realm: SidecarRealm, name: str, code: str) -> list[str]:
    """Signed in with password and code, the user sets up recovery codes (the account
    console's action) and keeps them: what the page shows once."""
    browser = Browser()
    login = start(browser, realm.keycloak.url, realm.name,
                  kc_action="CONFIGURE_RECOVERY_AUTHN_CODES")
    asked = fill(browser, login, "username", username=name, password=PASSWORD)
    shown = fill(browser, asked.page, "otp", otp=code)
    _, inputs = form_with(shown.page, "generatedRecoveryAuthnCodes")
    kept = fill(browser, shown.page, "generatedRecoveryAuthnCodes")
    assert kept.signed_in, kept.page.text[:2000]
    return inputs["generatedRecoveryAuthnCodes"].split(",")


def choose(browser: Browser, page_outcome: Outcome, method: str) -> Outcome:
    """"Try another way", then the sign-in method named `method`."""
    page = page_outcome.page
    action = re.search(r'<form id="kc-select-try-another-way-form"[^>]*action="([^"]+)"',
                       page.text)
    assert action, "no Try another way on the page"
    listed = post(browser, urljoin(page.url, html.unescape(action.group(1))),
                  {"tryAnotherWay": "on"})
    for form in listed.page.text.split("<form")[1:]:
        if method in form:
            execution = re.search(r'name="authenticationExecution" value="([^"]+)"', form)
            target = re.search(r'action="([^"]+)"', form)
            assert execution
            assert target
            return post(browser, urljoin(listed.page.url, html.unescape(target.group(1))),
                        {"authenticationExecution": execution.group(1)})
    raise AssertionError(f"{method} is not offered:\n{listed.page.text[:3000]}")


def test_a_recovery_code_stands_in_for_a_lost_authenticator(
        sidecar_realm: SidecarRealm, mail: tuple[int, Received]) -> None:
    name = unique("vagn")
    user_id, authenticator = sidecar_realm.user_with_totp(name)
    codes = recovery_codes(sidecar_realm, name, authenticator.now())
    browser = Browser()

    asked = open_link(browser, reset_link(browser, sidecar_realm, mail, name))
    by_code = choose(browser, asked, "Recovery")
    wrong = fill(browser, by_code.page, "recoveryCodeInput", recoveryCodeInput="AAAA-BBBB-CCCC")
    assert 'name="password-new"' not in wrong.page.text
    right = fill(browser, wrong.page, "recoveryCodeInput", recoveryCodeInput=codes[0])
    done = finish_setup(browser, right)

    assert done.signed_in, visible_text(done.page)
    assert [c["type"] for c in sidecar_realm.api.credentials(user_id)].count("otp") == 1
