"""Security 3: nobody takes an email address without proving they own it.

Keycloak's account API used to take a new address straight away (204, unverified, no
required action), and lookupUserWithEmail then answered the taker for it."""

from __future__ import annotations

import secrets

import pytest
import requests
from flask.testing import FlaskClient

from idpack.keycloak.oidc import account_api
from tests.support.sidecar import SidecarRealm, bearer

pytestmark = pytest.mark.integration


def unique(name: str) -> str:
    return f"{name}-{secrets.token_hex(3)}"


def test_the_account_api_refuses_an_email_change(sidecar_realm: SidecarRealm) -> None:
    mallory = unique("mallory")
    user_id = sidecar_realm.user(mallory)
    headers = {**bearer(sidecar_realm.token(mallory)), "Accept": "application/json"}
    account = account_api(sidecar_realm.keycloak.url, sidecar_realm.name) + "/"
    me = requests.get(account, headers=headers, timeout=10).json()

    answer = requests.post(account, headers=headers, timeout=10,
                           json={**me, "email": "victim@example.org"})

    assert answer.status_code == 400, answer.text
    assert answer.json()["errorMessage"] == "error-user-attribute-read-only"
    user = sidecar_realm.api.user(user_id)
    assert (user["email"], user["emailVerified"]) == (f"{mallory}@example.org", True)


def test_lookups_answer_only_verified_addresses(sidecar_realm: SidecarRealm,
                                                client: FlaskClient) -> None:
    service = bearer(sidecar_realm.service_token())
    unproven, proven = unique("unproven"), unique("proven")
    sidecar_realm.user(unproven, verified=False)
    sidecar_realm.user(proven)

    for name, expected in ((unproven, 404), (proven, 200)):
        with_email = client.post("/auth/users/lookup/with-email", headers=service,
                                 json={"email": f"{name}@example.org"})
        email = client.post("/auth/users/lookup/email", headers=service,
                            json={"userId": name})
        assert (with_email.status_code, email.status_code) == (expected, expected), name
    assert client.post("/auth/users/lookup/email", headers=service,
                       json={"userId": proven}).json == {"email": f"{proven}@example.org"}
