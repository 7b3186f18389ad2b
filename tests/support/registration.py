"""Signing up on Keycloak's hosted registration page over plain HTTP, as a browser at a
chosen address would (X-Forwarded-For, which the harness's Keycloak trusts from
loopback): what the geo worker's tests and benchmark start from."""

from __future__ import annotations

import html
import re

import requests

PASSWORD = "Corr3ct-Horse!"
PORTAL = "http://127.0.0.1:3000/"
# A fixed PKCE pair (RFC 7636's example): the portal client requires S256.
CODE_CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
FORM_ACTION = re.compile(r'<form[^>]*id="kc-register-form"[^>]*action="([^"]+)"')


def register(keycloak_url: str, realm: str, username: str, address: str,
             portal: str = PORTAL, verify: bool | str = True) -> None:
    """Sign up on the hosted registration page as a browser at `address` would (through a
    deployment's proxy: its public URL, its portal, its certificate)."""
    session = requests.Session()
    if verify is not True:  # a deployment's own certificate, whatever the environment says
        session.trust_env = False
        session.verify = verify
    forwarded = {"X-Forwarded-For": address}
    page = session.get(f"{keycloak_url}/realms/{realm}/protocol/openid-connect/registrations",
                       params={"client_id": "portal", "response_type": "code",
                               "scope": "openid", "redirect_uri": portal,
                               "code_challenge": CODE_CHALLENGE,
                               "code_challenge_method": "S256"},
                       headers=forwarded, timeout=10)
    assert page.status_code == 200, page.text[:500]
    action = FORM_ACTION.search(page.text)
    assert action, "no registration form on the page"
    # Keycloak marks its cookies Secure; this plain-HTTP test server is local.
    for cookie in session.cookies:
        cookie.secure = False
    done = session.post(html.unescape(action.group(1)), data={
        "firstName": username.title(), "lastName": "Tester",
        "email": f"{username}@example.org", "username": username,
        "password": PASSWORD, "password-confirm": PASSWORD,
    }, headers=forwarded, allow_redirects=False, timeout=10)
    assert done.status_code == 302, done.text[:500]
