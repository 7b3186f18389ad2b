"""UCloud's service licence agreement on Keycloak's terms page: a user accepts the
realm's newest version at sign-in (Keycloak's TERMS_AND_CONDITIONS required action,
the page submitted as a browser submits it), retrievePrincipal answers the accepted
version, and a newer version declared for the realm has the sidecar's background check
ask every user again at the next sign-in, except those UCloud recorded as having
accepted it."""

from __future__ import annotations

import datetime
import secrets
import time
from collections.abc import Iterator

import pyotp
import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient

from extensions.sidecar.context import DIRECTORY
from extensions.sidecar.directory import Directory
from extensions.sidecar.licence import ACCEPTED_AT, REQUIRED_ACTION, VERSIONS
from extensions.sidecar.user_index import IndexTiming, UserIndex
from idpack.keycloak.admin import KeycloakAdminClient, ServiceAccountLogin
from idpack.keycloak.user_writes import UserWrites
from tests.support.portal import LoopbackCookieJar, button_form, form_with
from tests.support.realm import SECRETS
from tests.support.registration import CODE_CHALLENGE
from tests.support.sidecar import PASSWORD, SidecarRealm, bearer


def moment(seconds_from_now: float) -> str:
    at = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=seconds_from_now)
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def terms(sidecar_realm: SidecarRealm, app: Flask) -> Iterator[None]:
    """The terms page on for the test's length (the rest of the package signs in
    without it): the required action enabled, not a default one; afterwards no versions,
    in the realm and in the package's sidecar (which keeps them a minute)."""
    api = sidecar_realm.api
    action = next(a for a in api.required_actions() if a["alias"] == REQUIRED_ACTION)
    api.update_required_action(REQUIRED_ACTION, {**action, "enabled": True})
    try:
        yield
    finally:
        api.update({"attributes": {VERSIONS: ""}})
        app.extensions[DIRECTORY]._licence = (0.0, None)
        api.update_required_action(REQUIRED_ACTION, {**action, "enabled": False})
        for user in api.all_users():
            full = api.user(user["id"])
            if REQUIRED_ACTION in (full.get("requiredActions") or []):
                api.update_user(full["id"], {**full, "requiredActions": [
                    a for a in full["requiredActions"] if a != REQUIRED_ACTION]})


def checking_index(sidecar_realm: SidecarRealm, tmp_path: object) -> tuple[UserIndex, Directory]:
    """The sidecar's follower, stepped by hand, a whole round of the check a step."""
    people = Directory(KeycloakAdminClient.for_service_account(
        sidecar_realm.keycloak.url, ServiceAccountLogin(
            sidecar_realm.name, "idpack-sidecar", SECRETS["IDPACK_SIDECAR_CLIENT_SECRET"])),
        sidecar_realm.name)
    index = people.follow_users(f"{tmp_path}/index.sqlite",
                                IndexTiming(scan_seconds=0, scan_page=10_000), start=False)
    index.catch_up()
    return index, people


USED: set[str] = set()


def unused_code(code: pyotp.TOTP) -> str:
    """The current code, or the next one where this one was used (Keycloak refuses a
    code twice)."""
    while (current := code.now()) in USED:
        time.sleep(0.5)
    USED.add(current)
    return current


def sign_in(sidecar_realm: SidecarRealm, username: str, code: pyotp.TOTP) -> list[str]:
    """Sign in on Keycloak's pages as a browser does (the portal's client), accepting
    the terms where asked; the forms submitted (username, otp, accept), ending with
    where Keycloak sends the browser."""
    http = requests.Session()
    http.cookies = LoopbackCookieJar()
    page = http.get(f"{sidecar_realm.keycloak.url}/realms/{sidecar_realm.name}/protocol/"
                    "openid-connect/auth", timeout=30, params={
                        "client_id": "portal", "response_type": "code", "scope": "openid",
                        "redirect_uri": "http://127.0.0.1:3000/",
                        "code_challenge": CODE_CHALLENGE, "code_challenge_method": "S256"})
    seen: list[str] = []
    forms = [("username", {"username": username, "password": PASSWORD}),
             ("otp", {"otp": ""}), ("accept", {"accept": "Accept"})]
    while page.status_code == 200:
        field, values = next(((f, v) for f, v in forms
                              if f'name="{f}"' in page.text or f"name='{f}'" in page.text),
                             (None, {}))
        assert field is not None, page.text[:2000]
        assert field not in seen, (seen, page.text[:2000])  # a page asked again: refused
        seen.append(field)
        action, defaults = form_with(page, field) if field != "accept" else \
            button_form(page, "accept")
        if field == "otp":
            values = {"otp": unused_code(code)}
        page = http.post(action, data={**defaults, **values}, allow_redirects=False, timeout=30)
        while page.status_code == 302 and page.headers["Location"].startswith(
                sidecar_realm.keycloak.url):
            page = http.get(page.headers["Location"], allow_redirects=False, timeout=30)
    assert page.status_code == 302, page.text[:2000]
    seen.append(page.headers["Location"].split("?")[0])
    return seen


def principal_version(client: FlaskClient, app: Flask, sidecar_realm: SidecarRealm,
                      username: str) -> int:
    app.extensions[DIRECTORY]._licence = (0.0, None)  # no minute's wait for the realm's
    answer = client.post("/auth/users/retrievePrincipal", json={"username": username},
                         headers=bearer(sidecar_realm.service_token()))
    assert answer.status_code == 200, answer.json
    return int(answer.json["serviceLicenseAgreement"])


def required_actions(sidecar_realm: SidecarRealm, username: str) -> list[str]:
    [user] = sidecar_realm.api.users_by_username(username)
    return list(user.get("requiredActions") or [])


def test_a_newer_licence_is_asked_for_at_the_next_sign_in_and_answered_by_retrieve_principal(
        terms: None, sidecar_realm: SidecarRealm, client: FlaskClient, app: Flask,
        tmp_path: object) -> None:
    api = sidecar_realm.api
    name = f"lic-{secrets.token_hex(3)}"
    _, code = sidecar_realm.user_with_totp(name)
    agreed_in_ucloud = f"lic-ucloud-{secrets.token_hex(3)}"
    sidecar_realm.user(agreed_in_ucloud, attributes={"serviceLicenseAgreement": ["2"]})
    api.update({"attributes": {VERSIONS: f"1@{moment(-3600)}"}})
    index, people = checking_index(sidecar_realm, tmp_path)

    index.step()  # the background check finds who has not accepted version 1
    assert required_actions(sidecar_realm, name) == [REQUIRED_ACTION]
    assert principal_version(client, app, sidecar_realm, name) == 0
    pages = sign_in(sidecar_realm, name, code)
    assert pages == ["username", "otp", "accept", "http://127.0.0.1:3000/"]
    [user] = api.users_by_username(name)
    assert user["attributes"][ACCEPTED_AT]  # Keycloak's record of the moment
    assert principal_version(client, app, sidecar_realm, name) == 1
    time.sleep(1.1)  # version 2 dates after that acceptance (Keycloak keeps seconds)

    api.update({"attributes": {VERSIONS: f"1@{moment(-3600)} 2@{moment(0)}"}})
    people._licence = (0.0, None)  # read again now, not after the minute it is kept
    index.step()
    assert required_actions(sidecar_realm, name) == [REQUIRED_ACTION]
    assert required_actions(sidecar_realm, agreed_in_ucloud) == []  # UCloud recorded 2
    assert principal_version(client, app, sidecar_realm, name) == 1
    assert principal_version(client, app, sidecar_realm, agreed_in_ucloud) == 2
    assert sign_in(sidecar_realm, name, code) == ["username", "otp", "accept",
                                                  "http://127.0.0.1:3000/"]
    assert principal_version(client, app, sidecar_realm, name) == 2
    index.step()
    assert required_actions(sidecar_realm, name) == []  # asked once, not again


def test_a_write_that_read_the_user_before_they_accepted_keeps_the_acceptance(
        terms: None, sidecar_realm: SidecarRealm) -> None:
    """The geo worker or the follower reads a new user, the user accepts the terms,
    then the write lands: Keycloak's record of the acceptance stays (the user profile
    lets no Admin API write touch it), so the user is not asked again."""
    api = sidecar_realm.api
    name = f"lic-race-{secrets.token_hex(3)}"
    user_id, code = sidecar_realm.user_with_totp(name)
    api.update({"attributes": {VERSIONS: f"1@{moment(-3600)}"}})
    writes = UserWrites(api)
    assert writes.add_required_action(user_id, REQUIRED_ACTION)

    def meanwhile(user: dict[str, object]) -> dict[str, list[str]]:
        assert sign_in(sidecar_realm, name, code)[-2] == "accept"
        return {"country": ["DK"]}

    writes.set_attributes(user_id, meanwhile)

    attributes = api.user(user_id)["attributes"]
    assert attributes["country"] == ["DK"]
    assert attributes.get(ACCEPTED_AT), attributes
