"""Each RPC against the real Keycloak: the happy path and its documented errors."""

from __future__ import annotations

import html
import re
import secrets
import time
from urllib.parse import parse_qs, urlsplit

from flask.testing import FlaskClient

from idpack.keycloak.oidc import unverified_claims
from tests.support.eventually import eventually
from tests.support.sidecar import PASSWORD, SidecarRealm, bearer
from tests.support.smtp_peer import Received


def unique(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(3)}"


def test_create_new_user_makes_password_users_with_2fa_and_email_verification(
        client: FlaskClient, sidecar_realm: SidecarRealm) -> None:
    service = bearer(sidecar_realm.service_token())
    root = unique("root")
    sidecar_realm.user(root, role="ADMIN")
    admin = bearer(sidecar_realm.token(root))  # only an ADMIN may create an ADMIN
    names = [unique("carol"), unique("dave")]

    response = client.post("/auth/users/register", headers=admin, json=[
        {"username": names[0], "password": "Gr8-Password!", "email": f"{names[0]}@example.org",
         "firstnames": "Carol", "lastname": "Jones", "role": "ADMIN", "orgId": "org-42"},
        {"username": names[1], "password": "Gr8-Password!", "email": f"{names[1]}@example.org",
         "role": None, "firstnames": None, "lastname": None, "orgId": None},
    ])

    assert response.status_code == 200, response.json
    created = response.json
    assert [c["username"] for c in created] == names
    carol = sidecar_realm.api.user(created[0]["userId"])
    assert set(carol["requiredActions"]) == {"CONFIGURE_TOTP", "VERIFY_EMAIL"}
    assert (carol["firstName"], carol["lastName"], carol["emailVerified"]) == (
        "Carol", "Jones", False)
    assert carol["attributes"]["orgId"] == ["org-42"]  # the realm's profile keeps it
    # UCloud names users by username: lookupUsers' subject is the username.
    lookup = client.post("/auth/users/lookup", headers=service, json={"users": names}).json
    assert lookup["results"][names[0]] == {"subject": names[0], "role": "ADMIN",
                                           "uid": lookup["results"][names[0]]["uid"]}
    assert lookup["results"][names[1]] == {"subject": names[1], "role": "USER",
                                           "uid": lookup["results"][names[1]]["uid"]}
    assert all(isinstance(lookup["results"][n]["uid"], int) for n in names)


def test_the_organization_given_at_creation_is_the_users_organization(
        client: FlaskClient, sidecar_realm: SidecarRealm) -> None:
    name = unique("olga")
    created = client.post("/auth/users/register", headers=bearer(sidecar_realm.service_token()),
                          json=[{"username": name, "password": PASSWORD, "orgId": "org-42",
                                 "email": f"{name}@example.org", "firstnames": "Olga",
                                 "lastname": "Berg"}])
    assert created.status_code == 200, created.json
    user_id = created.json[0]["userId"]
    # Ready to sign in (as after the first sign-in's TOTP set-up and verification).
    user = sidecar_realm.api.user(user_id)
    sidecar_realm.api.update_user(user_id, {**user, "emailVerified": True,
                                            "requiredActions": []})

    info = client.get("/auth/users/userInfo", headers=bearer(sidecar_realm.token(name)))

    assert info.json["organization"] == "org-42"
    assert sidecar_realm.api.user(user_id)["attributes"]["orgId"] == ["org-42"]


def test_a_user_made_without_a_password_is_mailed_the_way_in(
        client: FlaskClient, sidecar_realm: SidecarRealm,
        mail: tuple[int, Received]) -> None:
    name = unique("paula")
    address = f"{name}@example.org"

    created = client.post("/auth/users/register", headers=bearer(sidecar_realm.service_token()),
                          json=[{"username": name, "email": address}])

    assert created.status_code == 200, created.json
    user = sidecar_realm.api.user(created.json[0]["userId"])
    assert set(user["requiredActions"]) == {"UPDATE_PASSWORD", "VERIFY_EMAIL",
                                            "CONFIGURE_TOTP"}
    deadline = time.monotonic() + 10
    while not mail[1].to(address):
        assert time.monotonic() < deadline, "Keycloak mailed nothing"
        time.sleep(0.2)
    [message] = mail[1].to(address)
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    link = re.search(r"https?://\S+/login-actions/action-token\?\S+", body.get_content())
    assert link is not None, body.get_content()
    key = parse_qs(urlsplit(html.unescape(link.group(0))).query)["key"][0]
    lifetime = unverified_claims(key)["exp"] - time.time()
    assert 86400 - 60 < lifetime <= 86400  # as long as a verification link


def test_a_password_user_without_an_email_is_refused(
        client: FlaskClient, sidecar_realm: SidecarRealm) -> None:
    name = unique("quinn")

    answer = client.post("/auth/users/register", headers=bearer(sidecar_realm.service_token()),
                         json=[{"username": name, "password": PASSWORD}])

    assert answer.status_code == 400
    assert answer.json["why"].startswith("[0].email: is required")
    assert sidecar_realm.api.users_by_username(name) == []


def test_create_new_user_checks_every_item_before_creating_any(
        client: FlaskClient, sidecar_realm: SidecarRealm) -> None:
    service = bearer(sidecar_realm.service_token())
    good, bad = unique("erin"), "two\nlines"

    response = client.post("/auth/users/register", headers=service, json=[
        {"username": good, "password": "Gr8-Password!"}, {"username": bad}])

    assert response.status_code == 400
    assert response.json == {"why": "[1].username: must not hold control, invisible or "
                                     "direction-changing characters",
                              "errorCode": "BAD_REQUEST"}
    assert sidecar_realm.api.users_by_username(good) == []
    for item, why in [({"username": " "}, "[0].username: must not be blank"),
                      ({"username": "x" * 256}, "[0].username: String should have at most "
                                                "255 characters"),
                      ({"username": "f", "email": "nope"}, "[0].email: is not an email address"),
                      ({"username": "f", "role": "PROVIDER"},
                       "[0].role: must be one of USER, ADMIN, SERVICE"),
                      ({"username": "f", "shoeSize": 9}, "[0].shoeSize: unknown field")]:
        answer = client.post("/auth/users/register", headers=service, json=[item])
        assert (answer.status_code, answer.json["why"]) == (400, why)


def test_a_password_against_the_policy_is_refused_in_keycloaks_words_and_nothing_stays(
        client: FlaskClient, sidecar_realm: SidecarRealm) -> None:
    service = bearer(sidecar_realm.service_token())
    first, second = unique("frank"), unique("grace")

    response = client.post("/auth/users/register", headers=service, json=[
        {"username": first, "password": "Gr8-Password!", "email": f"{first}@example.org"},
        {"username": second, "password": "weak", "email": f"{second}@example.org"}])

    assert response.status_code == 400
    assert response.json["why"].startswith("[1].password: Invalid password:")
    assert sidecar_realm.api.users_by_username(first) == []
    assert sidecar_realm.api.users_by_username(second) == []


def test_an_existing_username_is_409(client: FlaskClient, sidecar_realm: SidecarRealm) -> None:
    name = unique("heidi")
    sidecar_realm.user(name)

    response = client.post("/auth/users/register", headers=bearer(sidecar_realm.service_token()),
                           json=[{"username": name, "password": "Gr8-Password!",
                                  "email": f"{name}-2@example.org"}])

    assert response.status_code == 409
    assert response.json["why"] == f"User '{name}' already exists"


def test_get_user_info_and_optional_info(client: FlaskClient, sidecar_realm: SidecarRealm) -> None:
    name = unique("ivan")
    sidecar_realm.user(name, attributes={"orgId": ["au.dk"],
                                         "organizationFullName": ["Aarhus University"],
                                         "country": ["DK"], "timezone": ["Europe/Copenhagen"]})
    me = bearer(sidecar_realm.token(name))

    info = client.get("/auth/users/userInfo", headers=me)
    assert info.status_code == 200
    assert info.json == {"email": f"{name}@example.org", "firstNames": name.title(),
                         "lastName": "Tester", "organization": "au.dk",
                         "country": "DK", "timezone": "Europe/Copenhagen"}

    update = client.post("/auth/users/optionalInfo", headers=me, json={
        "organizationFullName": "DeiC", "department": "Cloud", "researchField": "Physics"})
    assert update.status_code == 204
    optional = client.get("/auth/users/retrieveOptionalInfo", headers=me).json
    assert optional == {"organizationFullName": "DeiC", "department": "Cloud",
                        "researchField": "Physics", "position": None}
    client.post("/auth/users/optionalInfo", headers=me, json={"position": "Professor"})
    assert client.get("/auth/users/retrieveOptionalInfo", headers=me).json == {
        "organizationFullName": None, "department": None, "researchField": None,
        "position": "Professor"}


def test_change_password_checks_the_current_one(client: FlaskClient,
                                                sidecar_realm: SidecarRealm) -> None:
    name = unique("judy")
    user_id = sidecar_realm.user(name)
    me = bearer(sidecar_realm.token(name))

    wrong = client.post("/auth/users/password", headers=me,
                        json={"currentPassword": "nope", "newPassword": "N3w-Password!"})
    weak = client.post("/auth/users/password", headers=me,
                       json={"currentPassword": PASSWORD, "newPassword": "weak"})
    right = client.post("/auth/users/password", headers=me,
                        json={"currentPassword": PASSWORD, "newPassword": "N3w-Password!"})

    assert (wrong.status_code, wrong.json["why"]) == (400, "Invalid username or password")
    assert weak.status_code == 400
    assert weak.json["why"].startswith("Invalid password")
    assert right.status_code == 204
    assert sidecar_realm.token(name, "N3w-Password!")
    # The check's own session was logged out again; only the test's logins remain.
    clients = {c for s in sidecar_realm.api.user_sessions(user_id)
               for c in s.get("clients", {}).values()}
    assert "idpack-password-check" not in clients


def test_change_password_accepts_a_right_password_of_an_account_not_fully_set_up(
        client: FlaskClient, sidecar_realm: SidecarRealm) -> None:
    name = unique("kim")
    user_id = sidecar_realm.user(name)
    me = bearer(sidecar_realm.token(name))
    user = sidecar_realm.api.user(user_id)
    sidecar_realm.api.update_user(user_id, {**user, "requiredActions": ["CONFIGURE_TOTP"]})

    response = client.post("/auth/users/password", headers=me,
                           json={"currentPassword": PASSWORD, "newPassword": "N3w-Password!"})

    assert response.status_code == 204


def test_users_without_a_password_cannot_change_it(client: FlaskClient,
                                                   sidecar_realm: SidecarRealm) -> None:
    name = unique("leo")
    user_id = sidecar_realm.user(name)
    me = bearer(sidecar_realm.token(name))
    for credential in sidecar_realm.api.credentials(user_id):
        sidecar_realm.api.client.send(
            "DELETE", f"{sidecar_realm.api.base}/users/{user_id}/credentials/{credential['id']}")

    response = client.post("/auth/users/password", headers=me,
                           json={"currentPassword": PASSWORD, "newPassword": "N3w-Password!"})

    assert (response.status_code, response.json["why"]) == (
        400, "Cannot change password for this user")


def test_change_password_with_reset(client: FlaskClient, sidecar_realm: SidecarRealm) -> None:
    name = unique("mia")
    user_id = sidecar_realm.user(name)
    service = bearer(sidecar_realm.service_token())

    response = client.post("/auth/users/password/reset", headers=service,
                           json={"userId": user_id, "newPassword": "R3set-Password!"})
    missing = client.post("/auth/users/password/reset", headers=service,
                          json={"userId": "no-such-user", "newPassword": "R3set-Password!"})

    assert response.status_code == 204
    assert sidecar_realm.token(name, "R3set-Password!")
    assert missing.status_code == 404


def test_lookups_by_id_and_email(client: FlaskClient, sidecar_realm: SidecarRealm) -> None:
    name = unique("nina")
    user_id = sidecar_realm.user(name)
    no_mail = sidecar_realm.user(unique("quinn"), email=None)
    service = bearer(sidecar_realm.service_token())

    email = client.post("/auth/users/lookup/email", headers=service, json={"userId": user_id})
    unknown = client.post("/auth/users/lookup/email", headers=service, json={"userId": "nobody"})
    without = client.post("/auth/users/lookup/email", headers=service, json={"userId": no_mail})
    by_mail = client.post("/auth/users/lookup/with-email", headers=service,
                          json={"email": f"{name}@example.org"})
    nobody = client.post("/auth/users/lookup/with-email", headers=service,
                         json={"email": "nobody@example.org"})

    assert email.json == {"email": f"{name}@example.org"}
    assert (unknown.status_code, unknown.json["why"]) == (404, "Email address not found")
    assert (without.status_code, without.json["why"]) == (404, "Email address not found")
    # UCloud's userId is the username.
    assert by_mail.json == {"userId": name, "firstNames": name.title(), "lastName": "Tester"}
    assert (nobody.status_code, nobody.json["why"]) == (404, "User not found")


def test_an_address_two_users_proved_belongs_to_neither(
        client: FlaskClient, sidecar_realm: SidecarRealm) -> None:
    """lookupUserWithEmail names the one user who proved an address. Where the realm
    allows duplicate addresses (an administrator's switch), an unproven holder does not
    count, and two proven holders make the address nobody's."""
    service = bearer(sidecar_realm.service_token())
    shared = f"{unique('twins')}@example.org"

    def lookup() -> tuple[int, object]:
        found = client.post("/auth/users/lookup/with-email", headers=service,
                            json={"email": shared.upper()})
        return found.status_code, found.json

    sidecar_realm.api.update({"duplicateEmailsAllowed": True})
    made = []
    try:
        oscar = unique("oscar")
        made.append(sidecar_realm.user(oscar, email=shared))
        made.append(sidecar_realm.user(unique("peggy"), email=shared, verified=False))
        one_proven = lookup()
        made.append(sidecar_realm.user(unique("rita"), email=shared))
        two_proven = lookup()
    finally:
        for user_id in made:
            sidecar_realm.api.delete_user(user_id)
        sidecar_realm.api.update({"duplicateEmailsAllowed": False})

    assert one_proven == (200, {"userId": oscar, "firstNames": oscar.title(),
                                "lastName": "Tester"})
    assert two_proven[0] == 404
    assert two_proven[1]["why"] == "User not found"


def test_lookup_users_answers_every_name_and_refuses_more_than_500(
        client: FlaskClient, sidecar_realm: SidecarRealm) -> None:
    service = bearer(sidecar_realm.service_token())
    names = [unique("ruth") for _ in range(3)]
    ids = [sidecar_realm.user(n) for n in names]

    found = eventually(lambda: client.post("/auth/users/lookup", headers=service,
                                           json={"users": [*names, "ghost"]}),
                       lambda answer: all(answer.json["results"][n] for n in names))
    too_many = client.post("/auth/users/lookup", headers=service,
                           json={"users": [f"u{i}" for i in range(501)]})

    # (their uid comes a moment later: the sidecar gives users made elsewhere theirs)
    assert {n: hit and {k: hit[k] for k in ("subject", "role")}
            for n, hit in found.json["results"].items()} == {
        **{n: {"subject": n, "role": "USER"} for n in names}, "ghost": None}
    assert all(sidecar_realm.api.user(i)["username"] in names for i in ids)
    assert too_many.status_code == 400


def test_bad_bodies_are_400_or_413_never_500(client: FlaskClient,
                                             sidecar_realm: SidecarRealm) -> None:
    service = bearer(sidecar_realm.service_token())
    cases = [
        (b"{not json", 400, "Request body is not valid JSON"),
        (b'{"users": "alice"}', 400, "users: Input should be a valid list"),
        (b'{"users": ["a"], "more": 1}', 400, "more: unknown field"),
        (b"[]", 400, "body: must be a JSON object"),
        (b'{}', 400, "users: is required"),
        (b'{"users": ["' + b"a" * 300_000 + b'"]}', 413, "Request body too large"),
    ]
    for body, status, why in cases:
        response = client.post("/auth/users/lookup", headers=service, data=body,
                               content_type="application/json")
        assert (response.status_code, response.json["why"]) == (status, why), body[:40]
