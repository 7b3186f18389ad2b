"""What the public entry serves and how it redirects (issue 20, point 8): the master
realm stays inside however its path is written, and the seed's registration URL
redirects to the configured public URL, never to the Host a client sent."""

from __future__ import annotations

import requests

from tests.deploy.stack import PUBLIC_URL, REALM


def test_the_master_realm_is_not_served_however_its_path_is_written(
        public: requests.Session) -> None:
    for path in ("/realms/master", "/realms/master/", "/realms/%6Daster",
                 "/realms//master/.well-known/openid-configuration",
                 "/realms/./master/protocol/openid-connect/certs"):
        answer = public.get(f"{PUBLIC_URL}{path}", allow_redirects=False, timeout=10)
        assert answer.status_code == 404, path
    assert public.get(f"{PUBLIC_URL}/realms/{REALM}", timeout=10).status_code == 200


def test_the_registration_redirect_names_the_public_url_not_the_host_sent(
        public: requests.Session) -> None:
    answer = public.get(f"{PUBLIC_URL}/authenticate/register", allow_redirects=False,
                        headers={"Host": "evil.example"}, timeout=10)

    assert answer.status_code == 302
    assert answer.headers["Location"] == f"{PUBLIC_URL}/register"
