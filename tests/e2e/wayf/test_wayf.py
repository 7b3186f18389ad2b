"""WAYF (SAML) in Chromium, against what `make run` starts: the `wayf` provider imported
from the metadata file of a local SAML identity provider (tests/fakes/saml_idp.py,
pysaml2), a sign-in through it that creates the user on first login with WAYF's
attributes mapped, the email still to be verified through the relay's mail and short
link (WAYF is linked only once it was followed), and the portal at the end; the next
sign-in goes straight to the portal.

The IdP publishes signed metadata at a URL, as WAYF does; the realm declares it as
environments/production.yaml declares WAYF (tests/e2e/wayf/conftest.py), so provisioning
fetches it, verifies its signature, and imports what was signed. When the IdP rotates
the key its assertions are signed with, `idpack realm refresh-metadata` follows."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

import requests
from defusedxml import ElementTree  # type: ignore[import-untyped]
from playwright.sync_api import Browser, Page, expect

from idpack.commands.stack_files import StackFiles, local_secrets
from idpack.keycloak.admin import KeycloakAdminClient
from idpack.keycloak.target import KeycloakTarget
from tests.e2e.browser import Screenshots
from tests.e2e.mail import text_of, wait_for_mails
from tests.e2e.wayf.conftest import WayfStack
from tests.fakes.saml_idp import (
    EDU_PERSON_TARGETED_ID,
    GN,
    MAIL,
    SCHAC_HOME_ORGANIZATION,
    SN,
)
from tests.support.geo_database import DENMARK

MD = "{urn:oasis:names:tc:SAML:2.0:metadata}"
DS = "{http://www.w3.org/2000/09/xmldsig#}"
PERSISTENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
URI = "urn:oasis:names:tc:SAML:2.0:attrname-format:uri"
# realm-config/mikrocloud.yaml's five WAYF mappers: attribute name -> user attribute.
MAPPERS = {
    "eduPersonTargetedID": (EDU_PERSON_TARGETED_ID, "wayfTargetedId"),
    "mail": (MAIL, "email"),
    "gn": (GN, "firstName"),
    "sn": (SN, "lastName"),
    "schacHomeOrganization": (SCHAC_HOME_ORGANIZATION, "orgId"),
}


def identity_provider(keycloak: KeycloakTarget, realm: str, alias: str) -> dict[str, object]:
    found: dict[str, object] = KeycloakAdminClient.connect(keycloak).send(
        "GET", f"/admin/realms/{realm}/identity-provider/instances/{alias}")
    return found


def identity_provider_mappers(keycloak: KeycloakTarget, realm: str,
                              alias: str) -> list[dict[str, object]]:
    found: list[dict[str, object]] = KeycloakAdminClient.connect(keycloak).send(
        "GET", f"/admin/realms/{realm}/identity-provider/instances/{alias}/mappers")
    return found


def test_wayf_imported_from_its_signed_metadata_with_its_five_mappers(
        wayf: WayfStack, keycloak: KeycloakTarget) -> None:
    """Admin API only: what provisioning made of the signed metadata and the mappers,
    which come from realm-config/mikrocloud.yaml alone."""
    root = ElementTree.fromstring(wayf.idp.metadata_xml())
    descriptor = root.find(f"{MD}IDPSSODescriptor")
    assert descriptor is not None
    certificate = descriptor.find(f"{MD}KeyDescriptor[@use='signing']/{DS}KeyInfo/"
                                  f"{DS}X509Data/{DS}X509Certificate")
    assert certificate is not None
    assert certificate.text
    sso = {e.get("Binding", "").rsplit(":", 1)[-1]: e.get("Location")
           for e in descriptor.findall(f"{MD}SingleSignOnService")}
    assert sso == {"HTTP-Redirect": wayf.idp.sso_url, "HTTP-POST": wayf.idp.sso_url}

    idp = identity_provider(keycloak, wayf.stack.realm, "wayf")
    assert idp["providerId"] == "saml"
    assert idp["displayName"] == "WAYF"
    assert idp["enabled"] is True
    # Every user verifies the email: the first login links WAYF only once the mailed
    # link was followed, and trusts the address from then on.
    assert idp["trustEmail"] is True
    assert idp["firstBrokerLoginFlowAlias"] == "mikrocloud first broker login"
    config = idp["config"]
    assert isinstance(config, dict)
    # From the signed metadata, through Keycloak's own import:
    assert config["idpEntityId"] == root.get("entityID") == wayf.idp.entity_id
    assert config["singleSignOnServiceUrl"] == wayf.idp.sso_url
    assert config["signingCertificate"] == re.sub(r"\s", "", certificate.text)
    assert config["validateSignature"] == "true"  # a signing key in the metadata
    assert config["wantAuthnRequestsSigned"] == "false"
    # From realm-config (declared config wins over the metadata):
    assert config["nameIDPolicyFormat"] == PERSISTENT
    assert config["principalType"] == "ATTRIBUTE"
    assert config["principalAttribute"] == EDU_PERSON_TARGETED_ID
    assert config["syncMode"] == "IMPORT"
    assert config["postBindingResponse"] == "true"
    assert config["postBindingAuthnRequest"] == "true"

    mappers = {m["name"]: m for m in identity_provider_mappers(keycloak, wayf.stack.realm,
                                                                "wayf")}
    assert set(mappers) == set(MAPPERS)
    for name, (attribute, user_attribute) in MAPPERS.items():
        mapper = mappers[name]
        assert mapper["identityProviderMapper"] == "saml-user-attribute-idp-mapper", name
        mapper_config = mapper["config"]
        assert isinstance(mapper_config, dict)
        assert mapper_config["attribute.name"] == attribute, name
        assert mapper_config["user.attribute"] == user_attribute, name
        assert mapper_config["syncMode"] == "INHERIT", name
        assert mapper_config["attribute.name.format"] == "ATTRIBUTE_FORMAT_URI", name

    # What WAYF is told to release: Keycloak's SP metadata requests the five attributes
    # by their urn:oid names in the uri NameFormat.
    descriptor_xml = requests.get(wayf.sp_descriptor_url, timeout=10).text
    sp = ElementTree.fromstring(descriptor_xml.encode())
    requested = {a.get("Name"): a.get("NameFormat") for a in sp.iter(f"{MD}RequestedAttribute")}
    assert requested == {attribute: URI for attribute, _ in MAPPERS.values()}


def sign_in_at_the_idp(page: Page, wayf: WayfStack, shots: Screenshots) -> None:
    page.wait_for_selector("#username")
    assert page.url.startswith(wayf.idp.sso_url)
    expect(page.get_by_text(f"{wayf.stack.keycloak_url}/realms/{wayf.stack.realm}")
           ).to_be_visible()  # the AuthnRequest's issuer: Keycloak's SP entity ID
    shots.take(page, "wayf test idp login")
    page.fill("#username", wayf.idp.user.username)
    page.fill("#password", "not-the-password")
    page.click("#login")
    expect(page.get_by_text("Wrong username or password.")).to_be_visible()
    page.fill("#username", wayf.idp.user.username)
    page.fill("#password", wayf.idp.user.password)
    page.click("#login")  # a signed Response, POSTed back to Keycloak by the page
    page.wait_for_url(f"{wayf.stack.keycloak_url}/**")
    assert sorted(wayf.idp.released_attributes()) == sorted(a for a, _ in MAPPERS.values()), \
        "the IdP released what Keycloak's SP metadata requests: see the mappers' NameFormat"


def test_sign_in_through_wayf_creates_the_user_who_verifies_the_email(
        browser: Browser, wayf: WayfStack, keycloak: KeycloakTarget) -> None:
    shots = Screenshots("wayf-signin")
    stack, user = wayf.stack, wayf.idp.user
    api = KeycloakAdminClient.connect(keycloak).realm(stack.realm)
    assert api.users_by_email(user.mail) == []
    context = browser.new_context(extra_http_headers={"X-Forwarded-For": DENMARK})
    page = context.new_page()
    started = time.monotonic()

    page.goto(f"{stack.portal_url}/login")
    wayf_button = page.get_by_role("link", name="WAYF")
    expect(wayf_button).to_be_visible()
    shots.take(page, "keycloak login page with wayf")
    wayf_button.click()
    sign_in_at_the_idp(page, wayf, shots)

    # First login: Keycloak made the user from the assertion (nothing was missing, so
    # no review-profile page) and asks for the email to be verified before anything
    # else, WAYF being linked to the account only then.
    expect(page.get_by_role("link", name="Resend Verification Email")).to_be_visible()
    expect(page.get_by_text(user.mail)).to_be_visible()
    shots.take(page, "verify email after first wayf login")
    [created] = api.users_by_email(user.mail)
    assert created["emailVerified"] is False
    assert created["firstName"] == user.gn
    assert created["lastName"] == user.sn
    assert created["attributes"]["wayfTargetedId"] == [user.targeted_id]
    assert created["attributes"]["orgId"] == [user.schac_home_organization]
    # Not linked to WAYF before the mailed link is followed: until then nobody can sign
    # in to this account (tests/security/test_provider_links.py).
    admin = KeycloakAdminClient.connect(keycloak)
    links_path = f"/admin/realms/{stack.realm}/users/{created['id']}/federated-identity"
    assert admin.send("GET", links_path) == []

    # Not verified: the portal is out of reach.
    other = context.new_page()
    other.goto(f"{stack.portal_url}/login")
    assert not other.url.startswith(stack.portal_url)
    other.close()

    [raw] = wait_for_mails(stack, user.mail, 1)
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    assert message["Subject"] == "Verify Email Address"
    assert message["From"].addresses[0].addr_spec == "no-reply@mikrocloud.com"
    found = re.search(rf"{re.escape(stack.sidecar_url)}/s/[A-Za-z0-9_-]+", text_of(message))
    assert found, text_of(message)
    page.goto(found.group(0))  # the short link: 302 to Keycloak's action link, then on

    page.wait_for_url(re.compile(re.escape(stack.portal_url) + r"/?(\?.*)?$"))
    expect(page.get_by_text(user.mail)).to_be_visible()
    expect(page.get_by_text(user.gn, exact=True)).to_be_visible()
    expect(page.get_by_text(user.sn, exact=True)).to_be_visible()
    expect(page.get_by_text(user.schac_home_organization, exact=True)).to_be_visible()
    deadline = time.monotonic() + 10
    while "Europe/Copenhagen" not in page.content():  # the geo worker, as for passwords
        assert time.monotonic() < deadline, page.content()
        time.sleep(0.5)
        page.reload()
    expect(page.get_by_text("DK", exact=True)).to_be_visible()
    shots.take(page, "portal profile of the wayf user")
    print(f"WAYF sign-in in the browser: {time.monotonic() - started:.1f} s")

    [verified] = api.users_by_email(user.mail)
    assert verified["id"] == created["id"]
    assert verified["emailVerified"] is True
    assert verified["email"] == user.mail
    assert verified["firstName"] == user.gn
    assert verified["lastName"] == user.sn
    attributes = verified["attributes"]
    assert attributes["orgId"] == [user.schac_home_organization]
    assert attributes["wayfTargetedId"] == [user.targeted_id]
    assert attributes["country"] == ["DK"]
    assert attributes["timezone"] == ["Europe/Copenhagen"]
    assert not verified.get("requiredActions")
    assert [(link["identityProvider"], link["userId"]) for link in
            admin.send("GET", links_path)] == [("wayf", user.targeted_id)]
    context.close()

    # The next sign-in, in a fresh browser: the WAYF identity is linked, so it goes
    # straight to the portal, and no second user appears.
    again = browser.new_context(extra_http_headers={"X-Forwarded-For": DENMARK})
    page = again.new_page()
    page.goto(f"{stack.portal_url}/login")
    page.get_by_role("link", name="WAYF").click()
    page.wait_for_selector("#username")
    page.fill("#username", user.username)
    page.fill("#password", user.password)
    page.click("#login")
    page.wait_for_url(re.compile(re.escape(stack.portal_url) + r"/?(\?.*)?$"))
    expect(page.get_by_text(user.mail)).to_be_visible()
    assert [u["id"] for u in api.users_by_email(user.mail)] == [created["id"]]
    assert len(wait_for_mails(stack, user.mail, 1)) == 1  # no new verification mail
    again.close()


def test_a_key_wayf_rotates_is_followed_by_refresh_metadata(
        browser: Browser, wayf: WayfStack, keycloak: KeycloakTarget) -> None:
    """WAYF signs with a new key: Keycloak refuses the assertions until the metadata
    refresh has applied the new certificate, and takes them after, with no rebuild."""
    stack, user = wayf.stack, wayf.idp.user
    wayf.idp.rotate_signing_key()

    def sign_in() -> Page:
        context = browser.new_context(extra_http_headers={"X-Forwarded-For": DENMARK})
        page = context.new_page()
        page.goto(f"{stack.portal_url}/login")
        page.get_by_role("link", name="WAYF").click()
        page.wait_for_selector("#username")
        page.fill("#username", user.username)
        page.fill("#password", user.password)
        page.click("#login")  # the IdP's page POSTs the Response on to Keycloak
        page.wait_for_url(lambda url: not url.startswith(wayf.idp.base_url))
        page.wait_for_load_state()
        return page

    refused = sign_in()
    expect(refused.locator("#kc-error-message")).to_be_visible()
    refused.context.close()

    secrets = local_secrets(StackFiles(stack.home), {})
    refreshed = subprocess.run(
        [sys.executable, "-m", "idpack", "realm", "refresh-metadata", "--realm", stack.realm,
         *[arg for path in wayf.files for arg in ("-f", str(path))]],
        env={**os.environ, **secrets, "KEYCLOAK_URL": keycloak.url,
             "KEYCLOAK_ADMIN": keycloak.admin_user,
             "KEYCLOAK_ADMIN_PASSWORD": keycloak.admin_password,
             "IDPACK_HOME": str(stack.home)},
        capture_output=True, text=True, timeout=120, check=False)
    assert refreshed.returncode == 0, refreshed.stderr
    assert "wayf: metadata" in refreshed.stderr
    assert "applied: config.signingCertificate" in refreshed.stderr

    accepted = sign_in()
    expect(accepted.locator("#kc-error-message")).to_have_count(0)
    accepted.wait_for_url(re.compile(re.escape(stack.portal_url) + r"/?(\?.*)?$"))
    expect(accepted.get_by_text(user.mail)).to_be_visible()
    accepted.context.close()
