"""Writers of one user beside each other, against the real Keycloak: the geo worker's
and the sidecar follower's changes to a new user in the same instant both stay, and a
change never undoes what Keycloak wrote between its read and its write."""

from __future__ import annotations

import secrets
import threading
from pathlib import Path

from idpack.keycloak.user_writes import UserWrites
from idpack.store import open_store
from tests.support.sidecar import SidecarRealm

GEO = {"country": ["DK"], "timezone": ["Europe/Copenhagen"]}
FOLLOWER = {"uid": ["4711"], "ucloudRole": ["USER"], "principalType": ["password"]}


def test_two_writers_of_a_new_user_in_the_same_instant_keep_both_changes(
        sidecar_realm: SidecarRealm, tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "store.sqlite"))  # the one both services share
    users = [sidecar_realm.user(f"race-{secrets.token_hex(3)}") for _ in range(6)]
    for user_id in users:
        start = threading.Barrier(2)

        def write(attributes: dict[str, list[str]], user_id: str = user_id,
                  start: threading.Barrier = start) -> None:
            writer = UserWrites(sidecar_realm.api, store)
            start.wait()
            writer.set_attributes(user_id, lambda user: attributes)

        writers = [threading.Thread(target=write, args=(changes,))
                   for changes in (GEO, FOLLOWER)]
        for thread in writers:
            thread.start()
        for thread in writers:
            thread.join(timeout=30)

    for user_id in users:
        attributes = sidecar_realm.api.user(user_id).get("attributes") or {}
        assert {k: attributes.get(k) for k in (*GEO, *FOLLOWER)} == GEO | FOLLOWER


def test_a_change_keeps_what_keycloak_wrote_after_it_read_the_user(
        sidecar_realm: SidecarRealm) -> None:
    api = sidecar_realm.api
    user_id = sidecar_realm.user(f"kept-{secrets.token_hex(3)}", verified=False,
                                 requiredActions=["VERIFY_EMAIL"])

    def meanwhile(user: dict[str, object]) -> dict[str, list[str]]:
        # The user follows the mailed link while the writer holds what it read.
        api.update_user(user_id, {"emailVerified": True, "requiredActions": []})
        return GEO

    UserWrites(api).set_attributes(user_id, meanwhile)

    user = api.user(user_id)
    assert (user["emailVerified"], user.get("requiredActions")) == (True, [])
    assert {k: user["attributes"].get(k) for k in GEO} == GEO
    assert (user["firstName"], user["email"]) == (user["username"].title(),
                                                  f"{user['username']}@example.org")


def test_a_required_action_is_added_once_and_leaves_the_rest(
        sidecar_realm: SidecarRealm) -> None:
    api = sidecar_realm.api
    user_id = sidecar_realm.user(f"asked-{secrets.token_hex(3)}",
                                 attributes={"country": ["DK"]})
    writes = UserWrites(api)

    assert writes.add_required_action(user_id, "UPDATE_PASSWORD")
    assert not writes.add_required_action(user_id, "UPDATE_PASSWORD")

    user = api.user(user_id)
    assert user["requiredActions"] == ["UPDATE_PASSWORD"]
    assert user["attributes"]["country"] == ["DK"]
    assert user["firstName"] == user["username"].title()
