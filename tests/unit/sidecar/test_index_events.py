"""What the user index reads from Keycloak's events (shapes as Keycloak 26.7 writes them,
with adminEventsDetailsEnabled; credentials are stripped by Keycloak)."""

from __future__ import annotations

import json

from extensions.sidecar.index.events import (
    Created,
    Deleted,
    RolesChanged,
    Updated,
    admin_event,
    user_event,
)


def admin(operation: str, resource: str, path: str, rep: object = None) -> dict[str, object]:
    event: dict[str, object] = {"id": "e1", "time": 5, "operationType": operation,
                                "resourceType": resource, "resourcePath": path}
    if rep is not None:
        event["representation"] = json.dumps(rep)
    return event


def test_creations_name_the_user_whether_made_one_by_one_or_imported() -> None:
    made = admin("CREATE", "USER", "users/u1", {"username": "Ada", "enabled": True})
    assert admin_event(made).change == Created("u1", "ada")
    imported = admin("CREATE", "REALM", "users/u2", {
        "id": "u2", "username": "bo", "realmRoles": ["default-roles-x", "ADMIN"],
        "attributes": {"uid": ["42"]}})
    assert admin_event(imported).change == Created("u2", "bo", ("default-roles-x", "ADMIN"), 42)
    assert admin_event(admin("CREATE", "USER", "users/u3")).change == Created("u3", None)


def test_deletions_role_changes_and_renames() -> None:
    assert admin_event(admin("DELETE", "USER", "users/u1")).change == Deleted("u1")
    given = admin("CREATE", "REALM_ROLE_MAPPING", "users/u1/role-mappings/realm",
                  [{"id": "r", "name": "ADMIN"}])
    assert admin_event(given).change == RolesChanged("u1", ("ADMIN",), ())
    taken = admin("DELETE", "REALM_ROLE_MAPPING", "users/u1/role-mappings/realm",
                  [{"id": "r", "name": "ADMIN"}])
    assert admin_event(taken).change == RolesChanged("u1", (), ("ADMIN",))
    joined = admin("CREATE", "GROUP_MEMBERSHIP", "users/u1/groups/g1", {"id": "g1"})
    assert admin_event(joined).change == RolesChanged("u1", None, None)
    renamed = admin("UPDATE", "USER", "users/u1", {"username": "Ada2", "firstName": "A"})
    assert admin_event(renamed).change == Updated("u1", "ada2", None)


def test_what_says_nothing_about_names_or_roles_changes_nothing() -> None:
    assert admin_event(admin("UPDATE", "USER", "users/u1", {"firstName": "A"})).change is None
    assert admin_event(admin("ACTION", "USER", "users/u1/reset-password")).change is None
    assert admin_event(admin("UPDATE", "REALM", "", {"enabled": True})).change is None
    assert admin_event(admin("CREATE", "CLIENT", "clients/c1", {})).change is None


def test_registrations_and_deleted_accounts_from_user_events() -> None:
    registered = {"id": "e2", "time": 7, "type": "REGISTER", "userId": "u9",
                  "details": {"username": "Cy", "email": "cy@example.org"}}
    assert user_event(registered).change == Created("u9", "cy")
    failed = {**registered, "error": "invalid_registration"}
    assert user_event(failed).change is None
    assert user_event({"id": "e3", "time": 8, "type": "DELETE_ACCOUNT",
                       "userId": "u9"}).change == Deleted("u9")
