"""UCloud's calls beyond the spec (retrievePrincipal, lookupUID, the user iterator) and the
uid every user gets, against the real Keycloak; the iterator across two `idpack sidecar`
processes that share one store."""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient

from extensions.sidecar.context import DIRECTORY
from extensions.sidecar.directory import Directory
from idpack.keycloak.oidc import issuer
from idpack.keycloak.user_import import UserImporter
from idpack.processes import ChildService, free_port, http_ready
from tests.support.eventually import eventually
from tests.support.realm import REPO, SECRETS
from tests.support.sidecar import SidecarRealm, bearer


def unique(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(3)}"


def test_created_users_get_uids_that_lookups_answer_and_lookup_uid_finds(
        client: FlaskClient, sidecar_realm: SidecarRealm) -> None:
    service = bearer(sidecar_realm.service_token())
    names = [unique("una"), unique("ugo")]
    created = client.post("/auth/users/register", headers=service, json=[
        {"username": n, "password": "Gr8-Password!", "email": f"{n}@example.org"}
        for n in names])
    assert created.status_code == 200, created.json

    found = client.post("/auth/users/lookup", headers=service, json={"users": names}).json
    uids = [found["results"][n]["uid"] for n in names]
    assert all(isinstance(uid, int) for uid in uids)
    assert len(set(uids)) == 2
    for name, uid in zip(names, uids, strict=True):  # on the user, for tokens to carry
        [user] = sidecar_realm.api.users_by_username(name)
        assert user["attributes"]["uid"] == [str(uid)]
    by_uid = client.post("/auth/users/lookupUID", headers=service,
                         json={"uids": [uids[0], 987_654_321]}).json
    assert by_uid == {"users": {str(uids[0]): {"subject": names[0], "role": "USER",
                                               "uid": uids[0]},
                                "987654321": None}}


def test_a_uid_is_never_handed_out_again_even_when_redis_loses_its_last_writes(
        app: Flask, client: FlaskClient, sidecar_realm: SidecarRealm) -> None:
    service = bearer(sidecar_realm.service_token())
    people: Directory = app.extensions[DIRECTORY]
    assert people.index is not None
    table = people.index.table
    before = table.state()  # what a Redis snapshot from a moment ago holds
    name = unique("uma")
    client.post("/auth/users/register", headers=service, json=[
        {"username": name, "email": f"{name}@example.org", "password": "Gr8-Password!"}])
    taken = int(sidecar_realm.api.users_by_username(name)[0]["attributes"]["uid"][0])
    # Redis (appendfsync everysec) crashed: the counter, the new entry and the cursors
    # the follower moved since are gone together; only Keycloak and its events know.
    people.index.stop()
    table.forget([table.get_many([name])[name].user_id])
    table.save_state(before)
    table._db().execute("DELETE FROM meta WHERE key = 'uid_counter'")  # type: ignore[attr-defined]

    fresh = people.index.new_uids(3)

    assert min(fresh) > taken
    people.index = people.follow_users(str(table.path))  # type: ignore[attr-defined]


def test_retrieve_principal_answers_ucloud_shapes(
        client: FlaskClient, sidecar_realm: SidecarRealm) -> None:
    service = bearer(sidecar_realm.service_token())
    person = unique("pia")
    sidecar_realm.user(person, role="ADMIN", attributes={
        "principalType": ["password"], "title": ["Dr."], "orcId": ["0000-0002-1825-0097"],
        "serviceLicenseAgreement": ["3"], "orgId": ["sdu.dk"]})
    wayf = unique("wes")
    UserImporter(sidecar_realm.api).run([{
        "username": wayf, "enabled": True, "email": f"{wayf}@example.org",
        "emailVerified": True, "firstName": "Wes", "lastName": "Wayf",
        "attributes": {"principalType": ["wayf"], "wayfTargetedId": [f"{wayf}@wayf.dk"],
                       "uid": ["424242"]},
        "federatedIdentities": [{"identityProvider": "wayf", "userId": f"{wayf}@wayf.dk",
                                 "userName": f"{wayf}@wayf.dk"}]}])

    by_password = eventually(  # its ADMIN role was given through the Admin API
        lambda: client.post("/auth/users/retrievePrincipal", headers=service,
                            json={"username": person}).json,
        lambda answer: isinstance(answer, dict) and answer.get("role") == "ADMIN")
    assert isinstance(by_password, dict)
    assert {**by_password, "uid": None} == {
        "type": "password", "id": person, "role": "ADMIN", "uid": None, "title": "Dr.",
        "firstNames": person.title(), "lastName": "Tester", "phoneNumber": None,
        "orcId": "0000-0002-1825-0097", "email": f"{person}@example.org",
        "twoFactorAuthentication": False, "serviceLicenseAgreement": 3,
        "organizationId": "sdu.dk", "wayfId": None,
        "displayName": f"{person.title()} Tester"}
    by_wayf = client.post("/auth/users/retrievePrincipal", headers=service,
                          json={"username": wayf}).json
    assert (by_wayf["type"], by_wayf["wayfId"], by_wayf["uid"], by_wayf["role"]) == (
        "wayf", f"{wayf}@wayf.dk", 424242, "USER")
    missing = client.post("/auth/users/retrievePrincipal", headers=service,
                          json={"username": unique("nobody")})
    assert (missing.status_code, missing.json["errorCode"]) == (404, "NOT_FOUND")
    user = client.post("/auth/users/retrievePrincipal",
                       headers=bearer(sidecar_realm.token(person)), json={"username": person})
    assert user.status_code == 401  # SERVICE only, as in UCloud


@pytest.fixture
def two_sidecars(sidecar_realm: SidecarRealm, tmp_path: Path) -> Iterator[list[str]]:
    """Two `idpack sidecar` processes, one worker each, on one store (as two replicas on
    one Redis are)."""
    sidecars, urls = [], []
    try:
        for n in range(2):
            port = free_port()
            env = {**os.environ, **SECRETS, "KEYCLOAK_URL": sidecar_realm.keycloak.url,
                   "IDPACK_REALM": sidecar_realm.name, "IDPACK_SIDECAR_PORT": str(port),
                   "IDPACK_SIDECAR_WORKERS": "1", "IDPACK_HOME": str(tmp_path / f"home{n}"),
                   "IDPACK_STORE": str(tmp_path / "shared-store.sqlite"),
                   "IDPACK_SIDECAR_INDEX_USERS": "false",
                   "IDPACK_SIDECAR_ISSUER": issuer(sidecar_realm.keycloak.url,
                                                   sidecar_realm.name)}
            url = f"http://127.0.0.1:{port}"
            sidecars.append(ChildService(f"sidecar{n}", [sys.executable, "-m", "idpack",
                                                         "sidecar"], env,
                                         tmp_path / f"sidecar{n}.log",
                                         http_ready(f"{url}/healthz"), cwd=REPO))
            sidecars[-1].start(timeout=60)
            urls.append(url)
        yield urls
    finally:
        for sidecar in sidecars:
            sidecar.stop(timeout=30)


def test_an_iterator_opened_on_one_sidecar_goes_on_on_the_other(
        two_sidecars: list[str], sidecar_realm: SidecarRealm) -> None:
    tag = secrets.token_hex(2)
    UserImporter(sidecar_realm.api).run({"username": f"walk-{tag}-{n:03d}", "enabled": True}
                                        for n in range(520))
    expected = {u["username"] for u in sidecar_realm.api.all_users()}
    headers = bearer(sidecar_realm.service_token())
    first, second = two_sidecars

    opened = requests.post(f"{first}/auth/users/iterator/open", headers=headers, timeout=30)
    assert opened.status_code == 200, opened.text
    iterator = opened.json()["id"]
    seen: list[str] = []
    pages = 0
    while True:  # the pages come from the two sidecars in turn
        url = (first, second)[pages % 2]
        page = requests.post(f"{url}/auth/users/iterator/next", headers=headers,
                             json={"id": iterator}, timeout=60)
        assert page.status_code == 200, page.text
        pages += 1
        if not page.json():
            break
        assert len(page.json()) <= 250
        seen += [p["id"] for p in page.json()]
    assert pages >= 4  # 3 pages of users at least, then the empty one
    assert sorted(seen) == sorted(expected)  # every user once
    closed = requests.post(f"{second}/auth/users/iterator/close", headers=headers,
                           json={"id": iterator}, timeout=30)
    assert closed.status_code == 200
    gone = requests.post(f"{first}/auth/users/iterator/next", headers=headers,
                         json={"id": iterator}, timeout=30)
    assert (gone.status_code, gone.json()["errorCode"]) == (404, "NOT_FOUND")
