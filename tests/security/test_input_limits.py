"""Security 8: input that used to give 500 (or be taken) gets a 400 that says why.

Deep nesting and a lone surrogate broke the JSON handling; a 262k-character name
reached Keycloak; a userId of "." or "count" became another Admin API path; usernames
with bidi controls or zero-width characters were created."""

from __future__ import annotations

import json
import secrets
from typing import Any

import pytest
from flask.testing import FlaskClient

from extensions.sidecar.rpc import RPCS
from tests.support.sidecar import SidecarRealm, bearer

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def service(sidecar_realm: SidecarRealm) -> dict[str, str]:
    return {**bearer(sidecar_realm.service_token()), "Content-Type": "application/json"}


def test_deeply_nested_json_is_refused(client: FlaskClient, service: dict[str, str]) -> None:
    body = "[" * 1000 + "]" * 1000

    answer = client.post("/auth/users/lookup", headers=service, data=body)

    assert answer.status_code == 400
    assert answer.json == {"why": "Request body nests deeper than 16 levels",
                           "errorCode": "BAD_REQUEST"}


def test_a_lone_surrogate_is_refused(client: FlaskClient, service: dict[str, str],
                                     sidecar_realm: SidecarRealm) -> None:
    name = f"sur-{secrets.token_hex(3)}"
    body = '[{"username": "' + name + '", "firstnames": "\\ud800"}]'

    answer = client.post("/auth/users/register", headers=service, data=body)

    assert answer.status_code == 400
    assert "not valid Unicode" in answer.json["why"]
    assert sidecar_realm.api.users_by_username(name) == []


def test_an_overlong_name_is_refused_before_keycloak(client: FlaskClient,
                                                     service: dict[str, str]) -> None:
    name = f"long-{secrets.token_hex(3)}"

    answer = client.post("/auth/users/register", headers=service,
                         data=json.dumps([{"username": name, "firstnames": "x" * 262_000}]))

    assert answer.status_code == 400
    assert answer.json["why"] == "[0].firstnames: String should have at most 255 characters"


@pytest.mark.parametrize("user_id", [".", "..", "count", "%2e", "../users"])
def test_a_user_id_never_reaches_another_admin_path(client: FlaskClient,
                                                    service: dict[str, str],
                                                    user_id: str) -> None:
    answer = client.post("/auth/users/lookup/email", headers=service,
                         data=json.dumps({"userId": user_id}))
    reset = client.post("/auth/users/password/reset", headers=service,
                        data=json.dumps({"userId": user_id, "newPassword": "Irr3levant!"}))

    assert (answer.status_code, answer.json["errorCode"]) == (404, "NOT_FOUND")
    assert (reset.status_code, reset.json["errorCode"]) == (404, "NOT_FOUND")


@pytest.mark.parametrize("invisible", ["\u202e", "\u200b", "\u2066", "\ufeff"])
def test_usernames_with_invisible_or_bidi_characters_are_refused(
        client: FlaskClient, service: dict[str, str], sidecar_realm: SidecarRealm,
        invisible: str) -> None:
    name = f"adm{invisible}in-{secrets.token_hex(3)}"

    answer = client.post("/auth/users/register", headers=service,
                         data=json.dumps([{"username": name, "password": "Gr8-Password!",
                                           "email": "x@example.org"}]))

    assert answer.status_code == 400
    assert answer.json["why"] == ("[0].username: must not hold control, invisible or "
                                  "direction-changing characters")
    assert sidecar_realm.api.users_by_username(name) == []


def test_every_string_field_of_every_request_is_bounded() -> None:
    unbounded = [f"{spec.name}: {where}" for spec in RPCS if spec.request is not None
                 for where, node in string_fields(spec.request.model_json_schema())
                 if "maxLength" not in node]

    assert unbounded == []


def string_fields(schema: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(where, schema) of every string a JSON schema allows, through $defs, arrays and
    anyOf (pydantic's shapes)."""
    definitions = schema.get("$defs", {})
    found: list[tuple[str, dict[str, Any]]] = []

    def walk(node: dict[str, Any], where: str) -> None:
        if "$ref" in node:
            walk(definitions[node["$ref"].rsplit("/", 1)[-1]], where)
        if node.get("type") == "string" and "enum" not in node:
            found.append((where or "body", node))
        for option in node.get("anyOf", []):
            walk(option, where)
        if isinstance(node.get("items"), dict):
            walk(node["items"], f"{where}[]")
        for name, child in (node.get("properties") or {}).items():
            walk(child, f"{where}.{name}" if where else name)

    walk(schema, "")
    return found
