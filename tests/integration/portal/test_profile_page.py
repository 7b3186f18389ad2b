"""The portal's profile page over HTTP: what a signed-in user may change, through the
sidecar with their own token, and what is refused."""

from __future__ import annotations

import secrets
import time

import requests

from tests.support.portal import Browser, PortalStack, visible_text
from tests.support.sidecar import PASSWORD


def signed_in(stack: PortalStack,
              attributes: dict[str, list[str]] | None = None) -> tuple[Browser, str, str]:
    name = f"petra-{secrets.token_hex(3)}"
    user_id = stack.realm.user(name, attributes=attributes or {})
    browser = Browser()
    browser.sign_in(stack.portal_url, name, PASSWORD)
    return browser, name, user_id


def test_names_place_and_details_change_and_show(stack: PortalStack) -> None:
    browser, _, user_id = signed_in(stack, attributes={"country": ["DK"],
                                                       "timezone": ["Europe/Copenhagen"]})
    form = browser.get(f"{stack.portal_url}/profile")
    assert 'value="DK" selected' in form.text

    saved = browser.submit(form, "csrf_token", firstNames="Petra", lastName="Holm",
                           country="SE", timezone="Europe/Stockholm",
                           department="Physics", position="Professor")

    assert saved.url == f"{stack.portal_url}/profile?saved=1"
    assert "Your profile is saved." in visible_text(saved)
    user = stack.realm.api.user(user_id)
    assert (user["firstName"], user["lastName"]) == ("Petra", "Holm")
    assert {k: v for k, v in user["attributes"].items()
            if k in ("country", "timezone", "department", "position")} == {
        "country": ["SE"], "timezone": ["Europe/Stockholm"], "department": ["Physics"],
        "position": ["Professor"]}
    home = visible_text(browser.get(stack.portal_url))
    assert "Sweden SE" in home
    assert "Europe/Stockholm" in home


def test_a_value_outside_the_lists_is_refused_and_nothing_changes(stack: PortalStack) -> None:
    browser, _, user_id = signed_in(stack)
    form = browser.get(f"{stack.portal_url}/profile")

    refused = browser.submit(form, "csrf_token", country="XX", firstNames="Changed")

    assert refused.status_code == 400
    assert "country: is not an ISO 3166-1 alpha-2 country code" in visible_text(refused)
    assert 'value="Changed"' in refused.text  # what the user typed is kept on the form
    assert stack.realm.api.user(user_id)["firstName"] != "Changed"


def test_a_new_email_waits_for_its_link(stack: PortalStack) -> None:
    browser, name, user_id = signed_in(stack)
    new_address = f"{name}.new@example.org"
    form = browser.get(f"{stack.portal_url}/profile")

    sent = browser.submit(form, "csrf_token", email=new_address)

    assert "We sent a link to your new address" in visible_text(sent)
    assert stack.realm.api.user(user_id)["email"] == f"{name}@example.org"
    deadline = time.monotonic() + 10
    while not stack.mail.to(new_address):
        assert time.monotonic() < deadline, "no mail to the new address"
        time.sleep(0.2)


def test_a_change_needs_the_pages_token_and_a_session(stack: PortalStack) -> None:
    browser, _, user_id = signed_in(stack)
    before = stack.realm.api.user(user_id)

    forged = browser.http.post(f"{stack.portal_url}/profile", timeout=10,
                               data={"csrf_token": "guess", "firstNames": "Forged"})
    anonymous = requests.post(f"{stack.portal_url}/profile", timeout=10,
                              data={"firstNames": "Forged"}, allow_redirects=False)
    signed_out = requests.get(f"{stack.portal_url}/profile", timeout=10,
                              allow_redirects=False)

    assert forged.status_code == 400
    assert (anonymous.status_code, anonymous.headers["Location"]) == (302, "/login")
    assert (signed_out.status_code, signed_out.headers["Location"]) == (302, "/login")
    assert stack.realm.api.user(user_id)["firstName"] == before["firstName"]
