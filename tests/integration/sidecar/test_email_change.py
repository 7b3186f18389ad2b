"""updateUserInfo and verifyUserInfo: names at once, a new email only through the link."""

from __future__ import annotations

import re
import secrets
import threading
import time

from flask import Flask
from flask.testing import FlaskClient

from extensions.sidecar import email_change
from extensions.sidecar.context import DIRECTORY, STORE
from extensions.sidecar.directory import Directory
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

    asked = client.get(link.group(1))  # a page with a button: the GET changes nothing
    assert asked.status_code == 200
    assert sidecar_realm.api.user(user_id)["email"] == f"{name}@example.org"
    token = link.group(1).split("id=", 1)[1]
    confirmed = client.post("/auth/users/verifyUserInfo", data={"id": token})
    again = client.post("/auth/users/verifyUserInfo", data={"id": token})

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
    assert client.post("/auth/users/verifyUserInfo", data={"id": token}).location == (
        "http://portal.test/?success=false")


def test_at_most_10_email_changes_per_user_in_two_hours(
        client: FlaskClient, sidecar_realm: SidecarRealm) -> None:
    """Each email change mails a link: the limit keeps anyone from mailing strangers
    through us. Names, country and time zone change without limit (the portal sends
    every user's edits from its own address)."""
    name = f"tina-{secrets.token_hex(3)}"
    sidecar_realm.user(name)
    me = bearer(sidecar_realm.token(name))
    ip = {"REMOTE_ADDR": f"203.0.113.{secrets.randbelow(250) + 1}"}

    answers = [client.post("/auth/users/updateUserInfo", headers=me, environ_base=ip,
                           json={"email": f"{name}.{i}@example.org"}).status_code
               for i in range(11)]
    other_ip = client.post("/auth/users/updateUserInfo", headers=me,
                           json={"email": f"{name}.x@example.org"},
                           environ_base={"REMOTE_ADDR": "192.0.2.99"})
    names = [client.post("/auth/users/updateUserInfo", headers=me, environ_base=ip,
                         json={"firstNames": f"Tina{i}"}).status_code for i in range(12)]

    assert answers == [204] * 10 + [429]
    assert other_ip.status_code == 429  # the same user from elsewhere: 10 in all
    assert names == [204] * 12
    refused = client.post("/auth/users/updateUserInfo", headers=me, environ_base=ip,
                          json={"email": f"{name}.y@example.org"})
    assert refused.json["errorCode"] == "TOO_MANY_REQUESTS"
    assert int(refused.headers["Retry-After"]) > 7000
    # Another user from that address has ten of their own.
    other = f"uma-{secrets.token_hex(3)}"
    sidecar_realm.user(other)
    from_there = client.post("/auth/users/updateUserInfo", environ_base=ip,
                             headers=bearer(sidecar_realm.token(other)),
                             json={"email": f"{other}.new@example.org"})
    assert from_there.status_code == 204


def test_country_and_time_zone_are_the_users_to_change(client: FlaskClient,
                                                       sidecar_realm: SidecarRealm) -> None:
    name = f"vera-{secrets.token_hex(3)}"
    user_id = sidecar_realm.user(name, attributes={"country": ["DK"],
                                                   "timezone": ["Europe/Copenhagen"]})
    me = bearer(sidecar_realm.token(name))

    wrong = [client.post("/auth/users/updateUserInfo", headers=me, json=body)
             for body in ({"country": "XX"}, {"country": "dk"}, {"timezone": "Mars/Olympus"})]
    changed = client.post("/auth/users/updateUserInfo", headers=me,
                          json={"country": "NO", "timezone": "Europe/Oslo"})
    after_change = dict(sidecar_realm.api.user(user_id)["attributes"])
    cleared = client.post("/auth/users/updateUserInfo", headers=me, json={"timezone": ""})

    assert [w.status_code for w in wrong] == [400, 400, 400]
    assert wrong[2].json["why"] == ("timezone: is not an IANA time zone name, such as "
                                    "Europe/Copenhagen")
    assert changed.status_code == 204
    assert (after_change["country"], after_change["timezone"]) == (["NO"], ["Europe/Oslo"])
    assert cleared.status_code == 204
    attributes = sidecar_realm.api.user(user_id)["attributes"]
    assert attributes["country"] == ["NO"]
    assert "timezone" not in attributes
    info = client.get("/auth/users/userInfo", headers=me).json
    assert (info["country"], info["timezone"]) == ("NO", None)


def test_a_change_of_the_users_own_is_kept_beside_the_followers_write(
        app: Flask, client: FlaskClient, sidecar_realm: SidecarRealm) -> None:
    """The follower gives a new user a uid (a read, then a write of the attributes) while
    the user changes country and names: neither undoes the other. Found as a flake: the
    follower's write, of attributes read before the RPC's, put the old country back."""
    name = f"wyn-{secrets.token_hex(3)}"
    user_id = sidecar_realm.user(name, attributes={"country": ["DK"]})
    me = bearer(sidecar_realm.token(name))
    people: Directory = app.extensions[DIRECTORY]
    has_read, go_on = threading.Event(), threading.Event()

    def follower_change(user: dict[str, object]) -> dict[str, list[str]]:
        has_read.set()  # holds what it read while the RPC comes in
        go_on.wait(10)
        return {"uid": ["4242"]}

    follower = threading.Thread(target=people.writes.set_attributes,
                                args=(user_id, follower_change))
    follower.start()
    assert has_read.wait(10)
    answers: list[int] = []
    rpc = threading.Thread(target=lambda: answers.append(client.post(
        "/auth/users/updateUserInfo", headers=me,
        json={"country": "NO", "lastName": "Changed"}).status_code))
    rpc.start()
    time.sleep(0.3)  # the RPC would have written by now, were it not waiting its turn
    go_on.set()
    follower.join(10)
    rpc.join(10)

    user = sidecar_realm.api.user(user_id)
    assert answers == [204]
    assert user["attributes"]["country"] == ["NO"]
    assert user["attributes"]["uid"] == ["4242"]
    assert user["lastName"] == "Changed"
