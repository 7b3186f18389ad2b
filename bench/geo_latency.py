"""Time from a registration to the country and time zone on the user's profile.

People register on the hosted page from public addresses (X-Forwarded-For, trusted
from loopback) at random moments; the geo worker runs as `idpack geo-worker` does, on
the packaged GeoLite2 City database with its default poll interval. The latency of a
user is from the REGISTER event's own `time` to Keycloak accepting the update, p50 and
p95. The baseline, in the same run, is the floor no follower of the event log can beat:
when the event first shows in the Admin API to a reader polling every 20 ms.

    .venv/bin/python bench/geo_latency.py [--registrations 50]

Starts its own Keycloak, or uses KEYCLOAK_URL (with KEYCLOAK_ADMIN and
KEYCLOAK_ADMIN_PASSWORD).
"""

from __future__ import annotations

import argparse
import ipaddress
import random
import tempfile
import threading
import time
from pathlib import Path

from extensions.geo.lookup import GeoDatabase
from extensions.geo.settings import GeoSettings, packaged_database
from extensions.geo.worker import Applied, run
from idpack.keycloak.admin import KeycloakAdminClient
from idpack.keycloak.realm_admin import RealmAdmin
from provisioning.config import load_config
from provisioning.engine import apply_plan, plan_realm
from tests.support.keycloak import keycloak_for_tests
from tests.support.realm import SECRETS
from tests.support.registration import register
from tests.support.smtp_peer import smtp_peer

REPO = Path(__file__).resolve().parents[1]
REALM = "bench-geo"
FLOOR_POLL = 0.02


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def public_addresses(count: int, rng: random.Random) -> list[str]:
    """Addresses the packaged database places in a country and a time zone."""
    database = GeoDatabase(packaged_database())
    found: list[str] = []
    try:
        while len(found) < count:
            address = str(ipaddress.IPv4Address(rng.getrandbits(32)))
            place = database.place(address)
            if place is not None and place.country and place.timezone:
                found.append(address)
    finally:
        database.close()
    return found


def prepare_realm(admin: KeycloakAdminClient, smtp_port: int) -> RealmAdmin:
    config = load_config([REPO / "realm-config" / "mikrocloud.yaml"],
                         {**SECRETS, "IDPACK_SMTP_PORT": str(smtp_port)}, realm=REALM).config
    api = admin.realm(REALM)
    apply_plan(api, plan_realm(api, config, base_dir=REPO / "realm-config"), lambda _: None)
    # Plain HTTP from addresses Keycloak takes as external; the stock login theme, since
    # only the form's fields matter here.
    api.update({"sslRequired": "none", "loginTheme": "keycloak.v2"})
    return api


def watch_floor(api: RealmAdmin, since_ms: int, seen: dict[str, float],
                stop: threading.Event) -> None:
    """When each REGISTER event first shows in the Admin API."""
    while not stop.is_set():
        for event in api.events(["REGISTER"], since_ms, limit=1000):
            seen.setdefault(str(event["userId"]), time.time() - int(event["time"]) / 1000)
        stop.wait(FLOOR_POLL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--registrations", type=int, default=50)
    args = parser.parse_args()
    rng = random.Random(7)
    addresses = public_addresses(args.registrations, rng)
    with tempfile.TemporaryDirectory(prefix="idpack-bench-") as scratch_dir, \
            smtp_peer() as (smtp_port, _received), \
            keycloak_for_tests(Path(scratch_dir) / "keycloak") as keycloak:
        scratch = Path(scratch_dir)
        admin = KeycloakAdminClient.connect(keycloak)
        try:
            api = prepare_realm(admin, smtp_port)
            settings = GeoSettings.from_env(
            {}, stack_file=False,
                keycloak_url=keycloak.url, realm=REALM, client_id="idpack-sidecar",
                client_secret=SECRETS["IDPACK_SIDECAR_CLIENT_SECRET"],
                database=packaged_database(), store=str(scratch / "store.sqlite"))
            applied: dict[str, Applied] = {}
            floor: dict[str, float] = {}
            stop = threading.Event()

            def on_applied(result: Applied) -> None:
                applied[result.user_id] = result

            worker = threading.Thread(target=run, args=(settings, stop, on_applied))
            watcher = threading.Thread(target=watch_floor,
                                       args=(api, int(time.time() * 1000), floor, stop))
            worker.start()
            watcher.start()
            started = time.perf_counter()
            for number, address in enumerate(addresses):
                time.sleep(rng.uniform(0, 2 * settings.poll_seconds))  # any poll phase
                register(keycloak.url, REALM, f"bench-geo-{number:03d}", address)
            deadline = time.monotonic() + 30
            while len(applied) < len(addresses) and time.monotonic() < deadline:
                time.sleep(0.1)
            stop.set()
            worker.join(30)
            watcher.join(30)
            print(f"{len(addresses)} registrations in {time.perf_counter() - started:.1f} s, "
                  f"worker polling every {settings.poll_seconds} s, "
                  f"{len(applied)} profiles completed", flush=True)
            missing = [u["username"] for u in api.all_users()
                       if u["id"] not in applied]
            if missing:
                raise SystemExit(f"no country and time zone for {missing}")
            latency = [a.applied_at - a.event_time_ms / 1000 for a in applied.values()]
            p50, p95 = percentile(latency, .5), percentile(latency, .95)
            f50, f95 = percentile(list(floor.values()), .5), percentile(list(floor.values()), .95)
            print(f"  geo worker: REGISTER to country and timezone  p50 {p50:6.3f} s   "
                  f"p95 {p95:6.3f} s")
            print(f"  baseline: event visible in the Admin API      p50 {f50:6.3f} s   "
                  f"p95 {f95:6.3f} s   ({FLOOR_POLL * 1000:.0f} ms polling)")
            print(f"  ratio to the baseline at p50: {p50 / f50:.1f}x, at p95: {p95 / f95:.1f}x "
                  "(target: p95 within 3 s)", flush=True)
        finally:
            if REALM in admin.realm_names():
                admin.delete_realm(REALM)


if __name__ == "__main__":
    main()
