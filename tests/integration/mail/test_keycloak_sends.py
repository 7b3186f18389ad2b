"""Keycloak itself sends a verification mail through the relay to a real upstream."""

from __future__ import annotations

import secrets
import time
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest

from idpack.keycloak.admin import KeycloakAdminClient
from idpack.keycloak.errors import KeycloakRequestError
from idpack.keycloak.realm_admin import RealmAdmin
from idpack.store.short_links import NAMESPACE
from mail.delivery import deliver_due
from mail.dkim_keys import load as load_keys
from mail.relay import Relay
from tests.support.dkim_check import maildir_messages, opendkim_results, verifies
from tests.support.realm import SECRETS, apply, load


def realm_mailing_through(relay: Relay, keycloak_admin: KeycloakAdminClient, realm: str,
                          name: str) -> tuple[RealmAdmin, str, str]:
    """The MikroCloud realm sending through `relay`, and a new user of it: the realm's
    API, the user's address and id."""
    env = {**SECRETS, "IDPACK_SMTP_PORT": str(relay.settings.port)}
    apply(keycloak_admin, load(realm, env=env))
    api = keycloak_admin.realm(realm)
    address = f"{name.lower()}-{secrets.token_hex(3)}@example.org"
    user_id = api.create_user({"username": address.split("@")[0], "email": address,
                               "enabled": True, "firstName": name, "lastName": "Mail"})
    return api, address, user_id


def test_keycloaks_verification_mail_arrives_shortened_and_signed(
        relay: Relay, keycloak_admin: KeycloakAdminClient, fresh_realm_name: str) -> None:
    api, address, user_id = realm_mailing_through(relay, keycloak_admin, fresh_realm_name,
                                                  "Kim")

    api.send_verify_email(user_id)

    maildir = Path(relay.settings.upstream.removeprefix("maildir:"))
    deadline = time.monotonic() + 30
    while not maildir_messages(maildir):
        deliver_due(relay.spool, relay.upstream, relay.backoff)
        assert time.monotonic() < deadline, "no mail arrived"
        time.sleep(0.2)
    [raw] = maildir_messages(maildir)
    message = BytesParser(policy=policy.default).parsebytes(raw)

    assert message["From"].addresses[0].addr_spec == "no-reply@mikrocloud.com"
    assert message["From"].addresses[0].display_name == "MikroCloud"
    assert message["To"].addresses[0].addr_spec == address
    texts = [part.get_content() for part in message.walk()
             if part.get_content_maintype() == "text"]
    assert texts
    assert all("action-token" not in text for text in texts)
    assert all("https://mkcld.link/s/" in text for text in texts)
    code = texts[0].split("https://mkcld.link/s/")[1][:16]
    stored_link = relay.pipeline.store.get(NAMESPACE, code)
    assert stored_link is not None
    assert "/login-actions/action-token?key=" in stored_link["target"]
    assert stored_link["expires"] > time.time() + 86000  # the token's own 24 h
    keys = load_keys(relay.settings.dkim_keys_dir, relay.settings.dkim_selector)
    assert verifies(raw, keys) == [True, True]
    assert opendkim_results(raw, keys) == {"rsa-sha256": "pass", "ed25519-sha256": "pass"}


def test_the_admin_api_gets_no_sixth_verification_mail_in_a_minute(
        relay: Relay, keycloak_admin: KeycloakAdminClient, fresh_realm_name: str) -> None:
    """The limit is the relay's, so it holds however Keycloak is asked to send."""
    api, _, user_id = realm_mailing_through(relay, keycloak_admin, fresh_realm_name, "Often")

    for _ in range(5):
        api.send_verify_email(user_id)
    with pytest.raises(KeycloakRequestError) as refused:
        api.send_verify_email(user_id)

    assert refused.value.status == 500  # Keycloak's answer when its mail is not taken
    assert len(relay.spool.queued()) == 5
    assert relay.metrics.refused.labels("rate-limit")._value.get() == 1
