"""The sidecar's user index against the real Keycloak: it holds exactly what Keycloak
holds after a build, a burst of creations and deletions and a restart, and the Keycloak
requests it makes are counted at a recording proxy in front of Keycloak."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from extensions.sidecar.directory import Directory
from extensions.sidecar.index import Entry, IndexTable
from extensions.sidecar.roles import PRIVILEGED, Role, ucloud_role
from extensions.sidecar.user_index import IndexTiming, UserIndex
from idpack.keycloak.admin import KeycloakAdminClient, ServiceAccountLogin
from idpack.keycloak.oidc import issuer
from idpack.keycloak.realm_admin import RealmAdmin
from idpack.keycloak.user_import import UserImporter
from idpack.processes import free_port
from tests.support.realm import REPO, SECRETS
from tests.support.recording_proxy import Recorded, recording_proxy
from tests.support.sidecar import SidecarRealm

View = dict[str, tuple[str, Role]]


@pytest.fixture(scope="module")
def proxy(sidecar_realm: SidecarRealm) -> Iterator[Recorded]:
    with recording_proxy(sidecar_realm.keycloak.url) as recorded:
        yield recorded


def sidecar_directory(keycloak_url: str, realm: str) -> Directory:
    return Directory(KeycloakAdminClient.for_service_account(keycloak_url, ServiceAccountLogin(
        realm, "idpack-sidecar", SECRETS["IDPACK_SIDECAR_CLIENT_SECRET"])), realm)


@pytest.fixture(scope="module")
def index_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("index") / "index.sqlite"


@pytest.fixture(scope="module")
def index(proxy: Recorded, sidecar_realm: SidecarRealm, index_file: Path) -> UserIndex:
    """Built through the proxy, stepped by hand (no thread): each test says when."""
    people = sidecar_directory(proxy.url, sidecar_realm.name)
    built = people.follow_users(str(index_file), IndexTiming(scan_seconds=3600, settle_ms=500),
                                start=False)
    built.catch_up()
    return built


def brief(answers: dict[str, Entry | None]) -> dict[str, tuple[str, Role] | None]:
    return {name: (e.user_id, e.role) if e else None for name, e in answers.items()}


def keycloak_view(api: RealmAdmin) -> View:
    roles: dict[str, Role] = {}
    for role in PRIVILEGED:
        for member in api.role_members(role.value):
            held = {r["name"] for r in api.effective_realm_roles_of_user(member["id"])}
            roles[member["id"]] = ucloud_role(held)
    return {u["username"]: (u["id"], roles.get(u["id"], Role.USER)) for u in api.all_users()}


def index_view(table: IndexTable) -> View:
    return {e.username: (e.user_id, e.role) for e in table.unstamped(sys.maxsize)}


def test_after_a_burst_of_creations_and_deletions_the_index_is_what_keycloak_holds(
        index: UserIndex, sidecar_realm: SidecarRealm, proxy: Recorded) -> None:
    api = sidecar_realm.api
    assert index_view(index.table) == keycloak_view(api)
    tag = secrets.token_hex(2)
    report = UserImporter(api).run({
        "username": f"burst-{tag}-{n:04d}", "enabled": True,
        "email": f"burst-{tag}-{n:04d}@example.org",
        "realmRoles": ["ADMIN"] if n % 100 == 0 else [],
        # as `idpack migrate ucloud` brings them: nothing for the follower to add
        "attributes": {"uid": [str(800_000 + n)], "principalType": ["password"],
                       "ucloudRole": ["ADMIN" if n % 100 == 0 else "USER"]}}
        for n in range(700))
    assert report.added == 700
    made = [sidecar_realm.user(f"made-{tag}-{n}", password=None,
                               role="SERVICE" if n == 0 else None) for n in range(5)]
    with ThreadPoolExecutor(8) as pool:  # as fast as a script of an admin's would
        list(pool.map(api.delete_user, [*list(report.added_ids.values())[:295], *made]))
    sidecar_realm.api.add_realm_role_mappings(report.added_ids[f"burst-{tag}-0699"],
                                              [api.role("PROVIDER")])
    mark = len(proxy.requests)

    index.step()

    assert index_view(index.table) == keycloak_view(api)
    # 1,001 changes cost two event reads; the role given later one read of the user's
    # roles, and its ucloudRole attribute a read and a write.
    assert len(proxy.since(mark)) <= 6, proxy.since(mark)


def test_500_unknown_names_cost_at_most_three_keycloak_requests(
        index: UserIndex, sidecar_realm: SidecarRealm, proxy: Recorded) -> None:
    index.step()
    newcomer = f"newcomer-{secrets.token_hex(3)}"
    newcomer_id = sidecar_realm.user(newcomer, password=None)  # after the last step
    admin = f"new-admin-{secrets.token_hex(3)}"
    admin_id = sidecar_realm.user(admin, password=None, role="ADMIN")
    gone = f"gone-{secrets.token_hex(3)}"
    sidecar_realm.api.delete_user(sidecar_realm.user(gone, password=None))
    unknown = [f"nobody-{n}-{secrets.token_hex(2)}" for n in range(497)]
    time.sleep(index.timing.fresh_seconds)  # made longer ago than a lookup may lag
    mark = len(proxy.requests)

    answers = brief(index.lookup([newcomer.upper(), admin, gone, *unknown]))

    assert answers[newcomer.upper()] == (newcomer_id, Role.USER)
    assert answers[admin] == (admin_id, Role.ADMIN)
    assert answers[gone] is None
    assert all(answers[name] is None for name in unknown)
    assert len(proxy.since(mark)) <= 3, proxy.since(mark)


def test_a_user_made_elsewhere_shows_within_a_second_and_lookups_meanwhile_are_free(
        index: UserIndex, sidecar_realm: SidecarRealm, proxy: Recorded) -> None:
    index.lookup([f"nobody-{secrets.token_hex(3)}"])  # a read of the events, just now
    newcomer = f"late-{secrets.token_hex(3)}"
    newcomer_id = sidecar_realm.user(newcomer, password=None)
    mark = len(proxy.requests)
    shown_after: float | None = None
    started = time.monotonic()
    for _ in range(40):  # a caller asking every 25 ms for a second
        answer = index.lookup([newcomer, f"nobody-{secrets.token_hex(3)}"])[newcomer]
        if answer is not None and shown_after is None:
            assert answer.user_id == newcomer_id
            shown_after = time.monotonic() - started
        time.sleep(0.025)
    assert shown_after is not None
    assert shown_after <= index.timing.fresh_seconds + 0.5
    # 40 lookups: Keycloak saw the reads ahead of them (two requests each), not one each.
    assert len(proxy.since(mark)) <= 8, proxy.since(mark)


def test_known_names_are_answered_without_keycloak(
        index: UserIndex, sidecar_realm: SidecarRealm, proxy: Recorded) -> None:
    name = f"known-{secrets.token_hex(3)}"
    user_id = sidecar_realm.user(name, password=None)
    index.step()
    time.sleep(0.6)  # settled: no event of it is still on its way
    mark = len(proxy.requests)
    assert brief(index.lookup([name])) == {name: (user_id, Role.USER)}
    assert proxy.since(mark) == []


def test_a_restarted_sidecar_catches_up_instead_of_reading_every_user(
        index: UserIndex, sidecar_realm: SidecarRealm, proxy: Recorded,
        index_file: Path) -> None:
    while index.table.state().to_describe:  # earlier tests' users given their uids
        index.step()
    while_down = f"while-down-{secrets.token_hex(3)}"
    while_down_id = sidecar_realm.user(while_down, password=None, attributes={
        "uid": ["77001"], "ucloudRole": ["USER"], "principalType": ["password"]})
    mark = len(proxy.requests)

    restarted = sidecar_directory(proxy.url, sidecar_realm.name).follow_users(
        str(index_file), IndexTiming(scan_seconds=3600), start=False)
    restarted.step()

    # A token, the realm's id, one read of each event stream: no page of users.
    assert not [p for _, p in proxy.since(mark) if "/users?" in p], proxy.since(mark)
    assert len(proxy.since(mark)) <= 4, proxy.since(mark)
    assert restarted.table.get_many([while_down])[while_down].user_id == while_down_id
    assert index_view(restarted.table) == keycloak_view(sidecar_realm.api)


def test_the_background_check_mends_what_no_event_told(
        index: UserIndex, sidecar_realm: SidecarRealm) -> None:
    lost = f"lost-{secrets.token_hex(3)}"
    sidecar_realm.user(lost, password=None)
    index.step()
    index.table.cycle = 0  # as if an earlier round had seen it, then it left unannounced
    index.table.put_many([Entry("ghost-never-in-keycloak", "0000-ghost", Role.USER)])
    index.table.forget([index.table.get_many([lost])[lost].user_id])
    state = index.table.state()
    state.scan_offset = 0
    index.table.save_state(state)
    check = sidecar_directory(sidecar_realm.keycloak.url, sidecar_realm.name).follow_users(
        str(index.table.path), IndexTiming(scan_seconds=0, scan_page=10_000),  # type: ignore[attr-defined]
        start=False)
    check.step()
    assert index_view(check.table) == keycloak_view(sidecar_realm.api)


def test_two_sidecar_workers_share_one_index_and_one_follower(
        sidecar_realm: SidecarRealm, proxy: Recorded, tmp_path: Path) -> None:
    """`idpack sidecar` with 2 workers: the index is built once (not per worker), both
    answer from it, and at rest the replica asks Keycloak less than once a second."""
    port = free_port()
    env = {**os.environ, **SECRETS, "KEYCLOAK_URL": proxy.url, "IDPACK_REALM": sidecar_realm.name,
           "IDPACK_SIDECAR_PORT": str(port), "IDPACK_SIDECAR_WORKERS": "2",
           "IDPACK_HOME": str(tmp_path), "IDPACK_SIDECAR_INDEX": str(tmp_path / "index.sqlite"),
           # tokens name Keycloak itself as their issuer, not the proxy
           "IDPACK_SIDECAR_ISSUER": issuer(sidecar_realm.keycloak.url, sidecar_realm.name)}
    log = tmp_path / "sidecar.log"
    boss = f"boss-{secrets.token_hex(3)}"
    sidecar_realm.user(boss, password=None, role="ADMIN")
    mark = len(proxy.requests)
    with log.open("wb") as out:
        sidecar = subprocess.Popen([sys.executable, "-m", "idpack", "sidecar"], cwd=REPO,
                                   env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        status: dict[str, object] = {}
        deadline = time.monotonic() + 60
        while not status.get("complete"):
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
            try:
                status = requests.get(f"{url}/readyz", timeout=5).json().get("userIndex") or {}
            except requests.ConnectionError:
                continue
        builds = [p for _, p in proxy.since(mark) if p.startswith(
            f"/admin/realms/{sidecar_realm.name}/users?") and "max=5000" in p]
        assert len(builds) == 1, builds  # one page of users, read by one worker
        while status.get("waitingForUid"):  # new users given their uids first
            time.sleep(0.5)
            status = requests.get(f"{url}/readyz", timeout=5).json()["userIndex"]
        rest = len(proxy.requests)
        time.sleep(6)
        at_rest = proxy.since(rest)
        assert len(at_rest) <= 6, at_rest
        token = sidecar_realm.service_token()
        service = requests.post(f"{url}/auth/users/lookup", json={"users": [boss]},
                                headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert service.status_code == 200, service.text
        assert service.json()["results"][boss] == {"subject": boss, "role": "ADMIN",
                                                   "uid": service.json()["results"][boss]["uid"]}
    finally:
        sidecar.terminate()
        sidecar.wait(30)
