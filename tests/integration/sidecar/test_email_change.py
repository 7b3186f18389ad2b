"""updateUserInfo and verifyUserInfo: names at once, a new email only through the link."""

from __future__ import annotations

import re
import secrets

from flask import Flask
from flask.testing import FlaskClient

from extensions.sidecar import email_change
from extensions.sidecar.context import STORE
from tests.support.sidecar import SidecarRealm, bearer
from tests.support.smtp_peer import Received


def test_names_change_at_once_and_a_new_email_only_through_its_link(
        client: FlaskClient, sidecar_realm: SidecarRealm, mail: tuple[int, Received]) -> None:
    name = f"sam-{secrets.token_hex(3)}"
    user_id = sidecar_realm.user(name)
    me = bearer(sidecar_realm.token(name))
    new_address = f"{name}.new@example.org"

    response = client.post("/auth/users/updateUserInfo", headers=me, json={
        "firstNames": "Samuel", "lastName": "Newname", "email": new_address},
        environ_base={"REMOTE_ADDR": "198.51.100.7"})

    assert response.status_code == 204
    user = sidecar_realm.api.user(user_id)
    assert (user["firstName"], user["lastName"]) == ("Samuel", "Newname")
    assert user["email"] == f"{name}@example.org"  # pending until confirmed
    [message] = mail[1].to(new_address)
    assert message["From"] == "MikroCloud <no-reply@mikrocloud.com>"
    body = message.get_content()
    assert "24 hours" in body
    link = re.search(r"http://sidecar\.test(/auth/users/verifyUserInfo\?id=\S+)", body)
    assert link is not None

    confirmed = client.get(link.group(1))
    again = client.get(link.group(1))

    assert (confirmed.status_code, confirmed.location) == (302, "http://portal.test/?success=true")
    user = sidecar_realm.api.user(user_id)
    assert (user["email"], user["emailVerified"]) == (new_address, True)
    assert (again.status_code, again.location) == (302, "http://portal.test/?success=false")


def test_unknown_and_expired_links_fail_back_to_the_portal(app: Flask,
                                                          client: FlaskClient) -> None:
    store = app.extensions[STORE]
    token = "expired-token-" + secrets.token_hex(8)
    store.put(email_change.NAMESPACE, email_change._key(token),
              {"user_id": "x", "email": "x@example.org", "created": 0}, 60)

    assert client.get("/auth/users/verifyUserInfo?id=nothing").location == (
        "http://portal.test/?success=false")
    assert client.get(f"/auth/users/verifyUserInfo?id={token}").location == (
        "http://portal.test/?success=false")
    assert client.get("/auth/users/verifyUserInfo").location == (
        "http://portal.test/?success=false")


def test_at_most_10_updates_per_ip_in_two_hours(client: FlaskClient,
                                                sidecar_realm: SidecarRealm) -> None:
    name = f"tina-{secrets.token_hex(3)}"
    sidecar_realm.user(name)
    me = bearer(sidecar_realm.token(name))
    ip = {"REMOTE_ADDR": f"203.0.113.{secrets.randbelow(250) + 1}"}

    answers = [client.post("/auth/users/updateUserInfo", headers=me,
                           json={"firstNames": f"Tina{i}"}, environ_base=ip).status_code
               for i in range(11)]
    other_ip = client.post("/auth/users/updateUserInfo", headers=me, json={"firstNames": "T"},
                           environ_base={"REMOTE_ADDR": "192.0.2.99"})

    assert answers == [204] * 10 + [429]
    assert other_ip.status_code == 204
    refused = client.post("/auth/users/updateUserInfo", headers=me, json={}, environ_base=ip)
    assert refused.json["errorCode"] == "TOO_MANY_REQUESTS"
    assert int(refused.headers["Retry-After"]) > 7000
