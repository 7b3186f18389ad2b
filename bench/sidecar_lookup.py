"""lookupUsers and getUserInfo through the sidecar, served by gunicorn (2 workers), on a
realm of 10,000 users.

lookupUsers with 100 usernames: p50 and p99 over repeated calls, against the naive
baseline measured in the same run: 100 sequential Admin API lookups by username, by
the same service-account client. Then getUserInfo requests per second from 8
concurrent callers.

    .venv/bin/python bench/sidecar_lookup.py [--users 10000] [--calls 60]
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from idpack.keycloak.admin import KeycloakAdminClient, ServiceAccountLogin
from idpack.keycloak.oidc import client_credentials_token, password_grant
from idpack.keycloak.target import KeycloakTarget
from idpack.processes import free_port
from provisioning.config import load_config
from provisioning.engine import apply_plan, plan_realm
from tests.support.keycloak import keycloak_for_tests
from tests.support.realm import SECRETS as TEST_SECRETS
from tests.support.realm import token_client

REPO = Path(__file__).resolve().parents[1]
REALM = "bench-sidecar"
SECRETS = {**TEST_SECRETS, "BENCH_CLIENT_SECRET": "bench-sidecar-4"}
OVERLAY = "clients:" + token_client("bench-users", "BENCH_CLIENT_SECRET") + "\n"
PASSWORD = secrets.token_urlsafe(12) + "-Aa1!"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def prepare_realm(admin: KeycloakAdminClient, users: int, scratch: Path) -> None:
    overlay = scratch / "bench.yaml"
    overlay.write_text(OVERLAY)
    config = load_config([REPO / "realm-config" / "mikrocloud.yaml", overlay], SECRETS,
                         realm=REALM).config
    api = admin.realm(REALM)
    apply_plan(api, plan_realm(api, config, base_dir=REPO / "realm-config"), lambda _: None)
    started = time.perf_counter()
    batch = 500
    for first in range(0, users, batch):
        api.partial_import({"users": [{
            "username": f"bench-user-{i:05d}", "enabled": True, "emailVerified": True,
            "email": f"bench-user-{i:05d}@example.org", "firstName": "Bench", "lastName": f"{i}",
            "credentials": [{"type": "password", "value": PASSWORD}] if i == 0 else [],
            # A bulk import skips the default roles a created user gets; give them.
            "realmRoles": [f"default-roles-{REALM}"],
        } for i in range(first, min(users, first + batch))]})
    print(f"imported {users} users in {time.perf_counter() - started:.1f} s", flush=True)


def start_sidecar(keycloak: KeycloakTarget, scratch: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, **SECRETS, "KEYCLOAK_URL": keycloak.url, "IDPACK_REALM": REALM,
           "IDPACK_SIDECAR_PORT": str(port), "IDPACK_SIDECAR_WORKERS": "2",
           "IDPACK_HOME": str(scratch)}
    log = (scratch / "sidecar.log").open("wb")
    process = subprocess.Popen([sys.executable, "-m", "idpack", "sidecar"], cwd=REPO, env=env,
                               stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{url}/readyz", timeout=2).status_code == 200:
                return process, url
        except requests.ConnectionError:
            time.sleep(0.2)
    raise SystemExit((scratch / "sidecar.log").read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--calls", type=int, default=60)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="idpack-bench-") as scratch_dir, \
            keycloak_for_tests(Path(scratch_dir) / "keycloak") as keycloak:
        scratch = Path(scratch_dir)
        admin = KeycloakAdminClient.connect(keycloak)
        sidecar = None
        try:
            prepare_realm(admin, args.users, scratch)
            sidecar, url = start_sidecar(keycloak, scratch)
            service_token = client_credentials_token(
                keycloak.url, REALM, "example-service",
                SECRETS["EXAMPLE_SERVICE_CLIENT_SECRET"]).json()["access_token"]
            headers = {"Authorization": f"Bearer {service_token}"}
            names = [f"bench-user-{i:05d}" for i in range(args.users)]
            rng = random.Random(7)
            session = requests.Session()
            # Warm up: each worker loads its index in the background at start (a cost paid
            # once, shown here); until then it asks Keycloak name by name.
            warm_started, fast = time.perf_counter(), 0
            while fast < 10 and time.perf_counter() - warm_started < 120:
                started = time.perf_counter()
                session.post(f"{url}/auth/users/lookup", json={"users": rng.sample(names, 100)},
                             headers=headers)
                fast = fast + 1 if time.perf_counter() - started < 0.05 else 0
            print(f"workers' indexes loaded and warm after "
                  f"{time.perf_counter() - warm_started:.1f} s", flush=True)
            baseline_client = KeycloakAdminClient.for_service_account(
                keycloak.url, ServiceAccountLogin(REALM, "idpack-sidecar",
                                                  SECRETS["IDPACK_SIDECAR_CLIENT_SECRET"]))
            api = baseline_client.realm(REALM)
            api.users_by_username(names[0])

            sidecar_times, baseline_times = [], []
            for _ in range(args.calls):
                batch = rng.sample(names, 100)
                started = time.perf_counter()
                answer = session.post(f"{url}/auth/users/lookup", json={"users": batch},
                                      headers=headers)
                sidecar_times.append(time.perf_counter() - started)
                assert answer.status_code == 200
                assert None not in answer.json()["results"].values()
                started = time.perf_counter()
                for name in batch:
                    api.users_by_username(name)
                baseline_times.append(time.perf_counter() - started)

            p50, p99 = percentile(sidecar_times, .5), percentile(sidecar_times, .99)
            b50, b99 = percentile(baseline_times, .5), percentile(baseline_times, .99)
            print(f"lookupUsers, 100 usernames of {args.users}, {args.calls} calls")
            print(f"  sidecar (gunicorn, 2 workers)     p50 {p50 * 1000:7.1f} ms   "
                  f"p99 {p99 * 1000:7.1f} ms")
            print(f"  baseline: 100 sequential lookups  p50 {b50 * 1000:7.1f} ms   "
                  f"p99 {b99 * 1000:7.1f} ms")
            print(f"  speed-up at p50: {b50 / p50:.1f}x, at p99: {b99 / p99:.1f}x "
                  "(targets: >= 5x, p99 within 100 ms)", flush=True)

            user_token = password_grant(keycloak.url, REALM, "bench-users",
                                        SECRETS["BENCH_CLIENT_SECRET"], names[0],
                                        PASSWORD).json()["access_token"]
            user_headers = {"Authorization": f"Bearer {user_token}"}
            duration, callers = 10.0, 8
            stop_at = time.perf_counter() + duration

            def hammer() -> int:
                own = requests.Session()
                done = 0
                while time.perf_counter() < stop_at:
                    response = own.get(f"{url}/auth/users/userInfo", headers=user_headers)
                    assert response.status_code == 200, response.text
                    done += 1
                return done

            with ThreadPoolExecutor(callers) as pool:
                total = sum(pool.map(lambda _: hammer(), range(callers)))
            print(f"getUserInfo: {total / duration:.0f} requests/s "
                  f"({callers} concurrent callers, {duration:.0f} s)")
            print(f"  (single-call latency median {statistics.median(sidecar_times):.3f} s "
                  "for lookups, above)")
        finally:
            if sidecar is not None:
                sidecar.terminate()
                sidecar.wait(30)
            if REALM in admin.realm_names():
                admin.delete_realm(REALM)


if __name__ == "__main__":
    main()
