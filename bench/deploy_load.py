"""The production stack under a bounded load through its proxy, with two Keycloak nodes
and then with one (the baseline, measured in the same run).

Runs README.md's deploy steps as the deploy tests do (a copy of the repository, a fresh
podman storage, so the image build is cold; REALM_ENV=staging, as no stand-ins of the
identity providers run here), times them to a healthy stack and a warm rebuild with
nothing changed, then through https://localhost:18443 only:
- REGISTRATIONS hosted-page sign-ups at 10 concurrent (each a page and a form post);
- lookupUsers at 20 concurrent for SECONDS;
each with success rate, p50 and p95; then stops keycloak-2 and measures both again.

    .venv/bin/python bench/deploy_load.py [--registrations 200] [--seconds 60]

Needs podman, podman-compose and mmdebstrap as the deploy tests do (.ci/run installs
them); takes about 8 minutes here.
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from tests.deploy.stack import PUBLIC_URL, REALM, Deployment, Installation, running_deployment
from tests.support.registration import register
from tests.support.smtp_peer import smtp_peer


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def summary(name: str, outcomes: list[tuple[bool, float]]) -> dict[str, float]:
    times = [seconds for ok, seconds in outcomes if ok]
    result = {"calls": len(outcomes), "ok": 100 * len(times) / max(1, len(outcomes)),
              "p50": 1000 * statistics.median(times) if times else 0.0,
              "p95": 1000 * percentile(times, 0.95)}
    print(f"  {name}: {result['calls']:.0f} calls, {result['ok']:.1f} % ok, "
          f"p50 {result['p50']:.0f} ms, p95 {result['p95']:.0f} ms")
    return result


def timed(call: Callable[[], object]) -> tuple[bool, float]:
    started = time.monotonic()
    try:
        call()
    except (AssertionError, requests.RequestException):
        return False, time.monotonic() - started
    return True, time.monotonic() - started


def registrations(stack: Deployment, count: int) -> dict[str, float]:
    certificate = str(stack.secrets_dir / "tls.crt")

    def one(n: int) -> tuple[bool, float]:
        name = f"load-{secrets.token_hex(4)}-{n}"
        return timed(lambda: register(PUBLIC_URL, REALM, name, f"198.51.100.{n % 250 + 1}",
                                      portal=f"{PUBLIC_URL}/", verify=certificate))

    with ThreadPoolExecutor(10) as pool:
        return summary(f"{count} registrations at 10 concurrent",
                       list(pool.map(one, range(count))))


def lookups(stack: Deployment, seconds: float) -> dict[str, float]:
    session = stack.public_session()
    token = session.post(f"{PUBLIC_URL}/realms/{REALM}/protocol/openid-connect/token", data={
        "grant_type": "client_credentials", "client_id": "example-service",
        "client_secret": stack.secret("example_service_client_secret")},
        timeout=10).json()["access_token"]
    outcomes: list[tuple[bool, float]] = []
    lock = threading.Lock()
    end = time.monotonic() + seconds

    def caller() -> None:
        client = stack.public_session()
        while time.monotonic() < end:
            def call() -> None:
                response = client.post(f"{PUBLIC_URL}/auth/users/lookup", timeout=10,
                                       headers={"Authorization": f"Bearer {token}"},
                                       json={"users": ["admin", "nobody"]})
                assert response.status_code == 200
            outcome = timed(call)
            with lock:
                outcomes.append(outcome)

    with ThreadPoolExecutor(20) as pool:
        for future in [pool.submit(caller) for _ in range(20)]:
            future.result()
    result = summary(f"lookupUsers at 20 concurrent for {seconds:.0f} s", outcomes)
    print(f"    {result['calls'] / seconds:.0f} calls a second")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--registrations", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60)
    args = parser.parse_args()
    installation = Installation(env_values={"REALM_ENV": "staging",
                                            "PROXY_TRUSTED_ADDRESSES": "127.0.0.1"},
                                issuer="https://login.example.org",
                                secrets=dict.fromkeys(("oauth/google", "oauth/github",
                                                       "oauth/microsoft", "oauth/oidc"),
                                                      "bench-secret"))
    with tempfile.TemporaryDirectory(prefix="idpack-bench-") as scratch, smtp_peer() as mail, \
            running_deployment(Path(scratch), installation, Path(scratch) / "logs",
                               mail) as stack:
        print(f"README steps, cold image build included, to a healthy stack: "
              f"{stack.ready_seconds:.0f} s")
        started = time.monotonic()
        rebuilt = stack.idpack("deploy", "build", "--base", "local")
        assert rebuilt.returncode == 0, rebuilt.stderr
        print(f"warm rebuild, nothing changed: {time.monotonic() - started:.0f} s")
        print("warm-up (not counted: the JVMs compile the hot paths first):")
        registrations(stack, 40)
        lookups(stack, 10)
        print("two Keycloak nodes:")
        two = (registrations(stack, args.registrations), lookups(stack, args.seconds))
        stack.stop("keycloak-2")
        time.sleep(5)
        print("one Keycloak node (keycloak-2 stopped):")
        one = (registrations(stack, args.registrations), lookups(stack, args.seconds))
    print("two nodes / one node:")
    for name, a, b in (("registrations", two[0], one[0]), ("lookupUsers", two[1], one[1])):
        print(f"  {name}: p50 {a['p50'] / max(b['p50'], 1e-9):.2f}x, "
              f"p95 {a['p95'] / max(b['p95'], 1e-9):.2f}x, "
              f"throughput {a['calls'] / max(b['calls'], 1):.2f}x")


if __name__ == "__main__":
    main()
