"""The geo worker against a real Keycloak: people register on the hosted page from
chosen addresses (X-Forwarded-For, which the harness's Keycloak trusts from loopback),
and the worker fills their country and time zone from a database the test writes."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from extensions.geo.settings import GeoSettings
from extensions.geo.worker import Applied, run
from idpack.keycloak.admin import KeycloakAdminClient
from idpack.keycloak.realm_admin import RealmAdmin
from idpack.keycloak.target import KeycloakTarget
from idpack.store import open_store
from tests.support.geo_database import DENMARK, GERMANY_V6, JAPAN, write_database
from tests.support.realm import SECRETS, apply, load
from tests.support.registration import register
from tests.support.smtp_peer import smtp_peer

PRIVATE = "10.1.2.3"
WITHIN = 5.0  # seconds from a registration to its country and time zone


@dataclass
class GeoRealm:
    name: str
    keycloak: KeycloakTarget
    api: RealmAdmin
    settings: GeoSettings

    def register(self, username: str, address: str) -> str:
        register(self.keycloak.url, self.name, username, address)
        return str(self.api.users_by_username(username)[0]["id"])

    def attributes(self, user_id: str) -> dict[str, list[str]]:
        found: dict[str, list[str]] = self.api.user(user_id).get("attributes") or {}
        return found

    def edit(self, user_id: str, **values: list[str]) -> None:
        """The user's own change of their profile (the admin API standing in for the
        account console)."""
        user = self.api.user(user_id)
        self.api.update_user(user_id, {
            **{k: user[k] for k in ("username", "email", "firstName", "lastName")},
            "attributes": {**(user.get("attributes") or {}), **values}})


@dataclass
class RunningWorker:
    settings: GeoSettings
    applied: list[Applied] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None

    def start(self) -> RunningWorker:
        self.thread = threading.Thread(target=run, args=(self.settings, self.stop,
                                                         self.applied.append), daemon=True)
        self.thread.start()
        return self

    def halt(self) -> None:
        self.stop.set()
        if self.thread is not None:
            self.thread.join(15)
            assert not self.thread.is_alive()


@pytest.fixture
def geo_realm(keycloak: KeycloakTarget, keycloak_admin: KeycloakAdminClient,
              fresh_realm_name: str, tmp_path: Path) -> Iterator[GeoRealm]:
    with smtp_peer() as (port, _received):
        apply(keycloak_admin, load(fresh_realm_name,
                                   env={**SECRETS, "IDPACK_SMTP_PORT": str(port)}))
        # Plain HTTP from addresses Keycloak takes as external needs sslRequired none.
        # The stock login theme keeps this test apart from the MikroCloud theme's work:
        # only the form's field names matter here.
        keycloak_admin.realm(fresh_realm_name).update(
            {"sslRequired": "none", "loginTheme": "keycloak.v2"})
        settings = GeoSettings.from_env(
            {}, stack_file=False,
            keycloak_url=keycloak.url, realm=fresh_realm_name, client_id="idpack-sidecar",
            client_secret=SECRETS["IDPACK_SIDECAR_CLIENT_SECRET"],
            database=write_database(tmp_path / "city.mmdb"),
            store=str(tmp_path / "store.sqlite"))
        yield GeoRealm(fresh_realm_name, keycloak, keycloak_admin.realm(fresh_realm_name),
                       settings)


@pytest.fixture
def workers() -> Iterator[Callable[[GeoSettings], RunningWorker]]:
    started: list[RunningWorker] = []

    def start(settings: GeoSettings) -> RunningWorker:
        started.append(RunningWorker(settings).start())
        return started[-1]

    yield start
    for worker in started:
        worker.halt()


def wait_until(check: Callable[[], bool], timeout: float = WITHIN) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"not within {timeout} s"
        time.sleep(0.1)


def test_country_and_timezone_come_from_the_registration_address(
        geo_realm: GeoRealm, workers: Callable[[GeoSettings], RunningWorker],
        caplog: pytest.LogCaptureFixture) -> None:
    alice = geo_realm.register("alice", DENMARK)
    bob = geo_realm.register("bob", PRIVATE)
    carol = geo_realm.register("carol", JAPAN)
    dave = geo_realm.register("dave", GERMANY_V6)
    geo_realm.edit(carol, country=["SE"])  # carol said where she is before the worker ran
    caplog.set_level("INFO", logger="idpack.geo")

    started = time.monotonic()
    worker = workers(geo_realm.settings)
    wait_until(lambda: len(worker.applied) >= 3)

    assert time.monotonic() - started < WITHIN
    assert geo_realm.attributes(alice) == {"country": ["DK"],
                                           "timezone": ["Europe/Copenhagen"]}
    assert geo_realm.attributes(dave) == {"country": ["DE"], "timezone": ["Europe/Berlin"]}
    # Carol's own country stays; only her empty time zone is filled.
    assert geo_realm.attributes(carol) == {"country": ["SE"], "timezone": ["Asia/Tokyo"]}
    time.sleep(1.5)  # a few more polls
    assert geo_realm.attributes(bob) == {}  # a private address says nothing
    assert len(worker.applied) == 3
    # The rest of the profile is as the user left it.
    user = geo_realm.api.user(alice)
    assert (user["firstName"], user["lastName"], user["email"]) == (
        "Alice", "Tester", "alice@example.org")
    assert "VERIFY_EMAIL" in user["requiredActions"]
    assert user["emailVerified"] is False
    assert (f"user {alice}: country DK, timezone Europe/Copenhagen from {DENMARK}"
            in caplog.messages)
    assert f"user {carol}: timezone Asia/Tokyo from {JAPAN}" in caplog.messages


def test_a_restarted_worker_goes_on_where_it_stopped_and_applies_nothing_twice(
        geo_realm: GeoRealm, workers: Callable[[GeoSettings], RunningWorker]) -> None:
    first = workers(geo_realm.settings)
    erin = geo_realm.register("erin", DENMARK)
    wait_until(lambda: len(first.applied) >= 1)
    first.halt()
    # Erin removes her country; then Frank registers while no worker runs.
    geo_realm.edit(erin, country=[])
    frank = geo_realm.register("frank", JAPAN)

    second = workers(geo_realm.settings)  # the same store: the cursor and what is done
    wait_until(lambda: len(second.applied) >= 1)
    time.sleep(1.5)

    assert [a.user_id for a in first.applied] == [erin]
    assert [a.user_id for a in second.applied] == [frank]
    assert geo_realm.attributes(frank) == {"country": ["JP"], "timezone": ["Asia/Tokyo"]}
    assert "country" not in geo_realm.attributes(erin) or \
        geo_realm.attributes(erin)["country"] in ([], [""])


def test_an_event_held_by_a_crashed_worker_is_taken_over_when_its_lease_ends(
        geo_realm: GeoRealm, workers: Callable[[GeoSettings], RunningWorker]) -> None:
    settings = geo_realm.settings.model_copy(update={"lease_seconds": 3.0})
    grace = geo_realm.register("grace", DENMARK)
    (event,) = geo_realm.api.events(["REGISTER"], 0)
    # A worker took the event and died before applying it.
    assert open_store(settings.store).hit(f"geo-lease:{event['id']}", 3.0, 1).allowed
    lease_ends = time.time() + 3.0

    worker = workers(settings)
    heidi = geo_realm.register("heidi", JAPAN)  # newer, not held: not kept waiting
    wait_until(lambda: len(worker.applied) >= 2, timeout=3.0 + WITHIN)

    assert [a.user_id for a in worker.applied] == [heidi, grace]
    assert worker.applied[1].applied_at >= lease_ends
    assert geo_realm.attributes(grace) == {"country": ["DK"],
                                           "timezone": ["Europe/Copenhagen"]}


@pytest.mark.parametrize("backend", ["sqlite", "redis"])
def test_two_workers_on_one_store_apply_each_registration_once(
        geo_realm: GeoRealm, workers: Callable[[GeoSettings], RunningWorker], backend: str,
        request: pytest.FixtureRequest) -> None:
    settings = geo_realm.settings
    if backend == "redis":
        settings = settings.model_copy(update={"store": request.getfixturevalue("redis_url")})
    addresses = [DENMARK, JAPAN, GERMANY_V6]
    # Some registrations wait for both workers, which then read them at the same moment;
    # the rest arrive while both poll.
    users = [geo_realm.register(f"user{n}", addresses[n % 3]) for n in range(5)]
    one, two = workers(settings), workers(settings)
    users += [geo_realm.register(f"user{n}", addresses[n % 3]) for n in range(5, 8)]

    wait_until(lambda: len(one.applied) + len(two.applied) >= len(users))
    time.sleep(1.5)

    counts = Counter(a.user_id for a in one.applied + two.applied)
    print(f"worker one applied {len(one.applied)}, worker two {len(two.applied)}")
    assert counts == Counter(users)  # every user once, whichever worker did it
    for user in users:
        assert set(geo_realm.attributes(user)) == {"country", "timezone"}
