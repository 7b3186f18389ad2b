"""Security 4: "service or person" comes from the token, never from the username.

A user who registered as `service-account-...` used to be taken for a service by the
sidecar, which skipped the email-verification check."""

from __future__ import annotations

import secrets

import pytest
from flask.testing import FlaskClient

from extensions.sidecar.tokens import VerifiedToken
from idpack.keycloak.errors import KeycloakRequestError
from idpack.keycloak.oidc import unverified_claims
from tests.support.portal import Browser, PortalStack, visible_text
from tests.support.sidecar import SidecarRealm, bearer


@pytest.mark.unit
def test_a_person_named_like_a_service_account_is_a_person() -> None:
    person = VerifiedToken({"sub": "u1", "preferred_username": "service-account-mallory",
                            "azp": "portal", "email_verified": False})
    forged = VerifiedToken({"sub": "u1", "preferred_username": "mallory",
                            "azp": "portal", "client_id": "example-service"})

    assert not person.is_service_account
    assert not forged.is_service_account


@pytest.mark.integration
def test_a_service_token_is_a_service_and_a_user_token_is_not(
        sidecar_realm: SidecarRealm) -> None:
    name = f"ann-{secrets.token_hex(3)}"
    sidecar_realm.user(name)

    service = VerifiedToken(unverified_claims(sidecar_realm.service_token()))
    person = VerifiedToken(unverified_claims(sidecar_realm.token(name)))

    assert service.is_service_account
    assert not person.is_service_account


@pytest.mark.integration
def test_the_service_account_namespace_cannot_be_registered(
        sidecar_realm: SidecarRealm, client: FlaskClient) -> None:
    name = f"service-account-{secrets.token_hex(3)}"

    with pytest.raises(KeycloakRequestError) as refused:  # the realm's user profile
        sidecar_realm.user(name)
    answer = client.post("/auth/users/register", json=[{"username": name}],
                         headers=bearer(sidecar_realm.service_token()))

    assert refused.value.status == 400
    assert answer.status_code == 400
    assert "must not start with service-account-" in answer.json["why"]
    assert sidecar_realm.api.users_by_username(name) == []


@pytest.mark.integration
def test_the_registration_page_refuses_a_service_account_name(portal: PortalStack) -> None:
    name = f"service-account-{secrets.token_hex(3)}"
    browser = Browser()
    form = browser.get(f"{portal.portal_url}/register")

    page = browser.submit(form, "email", username=name, email=f"{name}@example.org",
                          firstName="Mal", lastName="Lory")

    assert "may not start with service-account-" in visible_text(page)
    assert portal.realm.api.users_by_username(name) == []
