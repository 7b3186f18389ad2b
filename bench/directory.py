"""A directory of N users in Keycloak: seeding it the way an operator migrates one (the
bulk import of `idpack users import`), then what Keycloak costs at that size.

Two realms of the MikroCloud realm file on one Keycloak: `dir-10000` (the baseline, 10,000
users) and `dir-N` (N users). Both are seeded (resumably: a second run continues where
the first stopped), then measured in interleaved rounds of the same run, so each figure
prints as a ratio against the 10,000-user realm on the same server at the same moment
(the machines are shared and noisy):

- registrations a second and their p95, on Keycloak's hosted registration page
  (4 concurrent, as browsers post the form; the verification mail goes to a local sink),
  with `--through-proxy` through the compose stack's proxy over TLS, as users reach it
  (bench/stack_proxy.py);
- password sign-ins a second (4 concurrent direct grants, the realm's default hashing),
  and per core;
- the admin-event query the sidecar's index follows, and an exact username search (what
  the sidecar asked Keycloak per unknown name before the index answered them);
- getUserInfo through `idpack sidecar` (8 concurrent callers).

Synthetic users: names and emails, UCloud's mix of roles (1 in 2,000 ADMIN, 1 in
10,000 PROVIDER, the rest USER), 70 % WAYF users linked to the `wayf` identity provider,
30 % PASSWORD users with a PBKDF2-SHA512 hash as UCloud keeps them (one hash computed
once: seeding measures Keycloak, not hashing), four in five of those with TOTP.

    .venv/bin/python bench/directory.py --users 100000
    IDPACK_KEYCLOAK_DB_URL=jdbc:postgresql://127.0.0.1:5432/keycloak \\
        IDPACK_KEYCLOAK_DB_USER=keycloak IDPACK_KEYCLOAK_DB_PASSWORD=... \\
        .venv/bin/python bench/directory.py --users 1000000
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import requests

from bench.stack_proxy import Entry, stack_proxy
from idpack.keycloak.admin import KeycloakAdminClient
from idpack.keycloak.oidc import password_grant
from idpack.keycloak.realm_admin import RealmAdmin
from idpack.keycloak.target import KeycloakTarget
from idpack.keycloak.user_import import Checkpoint, UserImporter
from idpack.processes import ChildService, free_port, http_ready
from idpack.progress import ProgressLine
from tests.support.keycloak import keycloak_for_tests
from tests.support.realm import SECRETS as TEST_SECRETS
from tests.support.realm import apply, load, token_client
from tests.support.registration import register
from tests.support.smtp_peer import smtp_peer

REPO = Path(__file__).resolve().parents[1]
BASELINE_USERS = 10_000
SECRETS = {**TEST_SECRETS, "BENCH_CLIENT_SECRET": "bench-directory-7"}
OVERLAY = "clients:" + token_client("bench-users", "BENCH_CLIENT_SECRET") + "\n"
FIRST = ["Ada", "Bo", "Camille", "Dagny", "Emil", "Freja", "Gustav", "Hanne", "Ib", "Jonas"]
LAST = ["Andersen", "Berg", "Christensen", "Dahl", "Eriksen", "Friis", "Holm", "Juhl"]
OLD_PASSWORD = "Ucloud-Old-Passw0rd!"  # noqa: S105  (synthetic users' password)
SALT = b"bench-salt-16byt"
OLD_HASH = hashlib.pbkdf2_hmac("sha512", OLD_PASSWORD.encode(), SALT, 10_000, 32)
SIGN_IN_USERS = 40  # users with the realm's default hashing, made per realm and run
Json = dict[str, Any]


def synthetic_user(realm: str, i: int) -> Json:
    """User number i of a bench realm; the same i always gives the same user."""
    name = f"user{i:07d}"
    user: Json = {
        "username": name, "enabled": True, "email": f"{name}@example.org",
        "emailVerified": True, "firstName": FIRST[i % len(FIRST)],
        "lastName": LAST[(i // len(FIRST)) % len(LAST)],
        # As `idpack migrate ucloud` brings UCloud's users: uid, role and principal type.
        "attributes": {"uid": [str(i + 1)], "principalType": ["password"]},
    }
    roles = ["ADMIN"] if i % 2000 == 1 else ["PROVIDER"] if i % 10_000 == 7 else []
    if roles:
        user["realmRoles"] = roles
    user["attributes"]["ucloudRole"] = roles or ["USER"]
    if i % 10 < 7:  # a WAYF user: linked to the provider by the WAYF id
        wayf_id = f"wayf-{i:07d}@wayf.dk"
        user["federatedIdentities"] = [{"identityProvider": "wayf", "userId": wayf_id,
                                        "userName": wayf_id}]
        user["attributes"] |= {"orgId": ["sdu.dk"], "wayfTargetedId": [wayf_id],
                               "principalType": ["wayf"]}
        return user
    user["credentials"] = [{
        "type": "password",
        "secretData": json.dumps({"value": base64.b64encode(OLD_HASH).decode(),
                                  "salt": base64.b64encode(SALT).decode(),
                                  "additionalParameters": {}}),
        "credentialData": json.dumps({"hashIterations": 10_000, "algorithm": "pbkdf2-sha512",
                                      "additionalParameters": {}})}]
    if i % 5:
        user["credentials"].append({
            "type": "otp", "userLabel": "authenticator",
            "secretData": json.dumps({"value": f"bench-otp-secret-{i:07d}"}),
            "credentialData": json.dumps({"subType": "totp", "digits": 6, "counter": 0,
                                          "period": 30, "algorithm": "HmacSHA1"})})
    return user


def seed(admin: KeycloakAdminClient, realm: str, users: int, state: Path) -> None:
    """The realm applied from the MikroCloud file and filled to `users` users."""
    overlay = state / "bench.yaml"
    overlay.write_text(OVERLAY)
    apply(admin, load(realm, overlay, env=SECRETS))  # as realm-config says now
    api = admin.realm(realm)
    checkpoint = Checkpoint(state / f"{realm}.checkpoint.json", f"synthetic:{realm}")
    line = ProgressLine()

    def show(report: Any, handled: int) -> None:
        rate = (report.added + report.skipped) / max(report.seconds, 0.001)
        left = (users - handled) / max(rate, 0.001)
        line.update(f"  {realm}: {handled:,}/{users:,} users ({100 * handled / users:.1f} %), "
                    f"{rate:.0f} a second, {left / 60:.0f} min left")

    generated: Iterator[Json] = (synthetic_user(realm, i) for i in range(users))
    report = UserImporter(api).run(generated, checkpoint=checkpoint, progress=show)
    line.done(f"  {realm}: {report.added:,} users added, {report.skipped:,} already there, "
              f"{report.resumed_past:,} done by an earlier run, in {report.seconds:.0f} s"
              + (f" ({report.added / report.seconds:.0f} a second)" if report.added else ""))
    if report.refused:
        raise SystemExit(f"refused: {report.refused[:5]}")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def timed(call: Callable[[], object], times: list[float]) -> None:
    started = time.perf_counter()
    call()
    times.append(time.perf_counter() - started)


def concurrently(work: Callable[[int], object], count: int,
                 callers: int) -> tuple[float, list[float]]:
    """(calls a second, each call's seconds) for `count` calls by `callers` threads."""
    times: list[float] = []
    started = time.perf_counter()
    with ThreadPoolExecutor(callers) as pool:
        list(pool.map(lambda n: timed(lambda: work(n), times), range(count)))
    return count / (time.perf_counter() - started), times


class Measured:
    """One realm's figures over the rounds."""

    def __init__(self) -> None:
        self.figures: dict[str, list[float]] = {}

    def add(self, name: str, value: float) -> None:
        self.figures.setdefault(name, []).append(value)

    def median(self, name: str) -> float:
        return statistics.median(self.figures[name])


def prepare_sign_ins(api: RealmAdmin, run: str) -> list[str]:
    names = []
    for n in range(SIGN_IN_USERS):
        name = f"signin-{run}-{n}"
        user_id = api.create_user({"username": name, "enabled": True, "emailVerified": True,
                                   "email": f"{name}@example.org", "firstName": "Sign",
                                   "lastName": "In"})
        api.reset_password(user_id, OLD_PASSWORD)
        names.append(name)
    return names


def start_sidecar(keycloak: KeycloakTarget, realm: str, scratch: Path) -> tuple[
        ChildService, str]:
    port = free_port()
    env = {**os.environ, **SECRETS, "KEYCLOAK_URL": keycloak.url, "IDPACK_REALM": realm,
           "IDPACK_SIDECAR_PORT": str(port), "IDPACK_HOME": str(scratch / realm),
           "IDPACK_SIDECAR_INDEX_USERS": "false"}
    (scratch / realm).mkdir(exist_ok=True)
    url = f"http://127.0.0.1:{port}"
    service = ChildService("sidecar", [sys.executable, "-m", "idpack", "sidecar"], env,
                           scratch / f"sidecar-{realm}.log", http_ready(f"{url}/healthz"),
                           cwd=REPO)
    service.start(timeout=60)
    return service, url


def measure_round(keycloak: KeycloakTarget, realm: str, api: RealmAdmin, sidecar: str,
                  sign_ins: list[str], user_token: str, run: str, round_no: int,
                  smtp_port: int, out: Measured, front: Entry | None = None) -> None:
    def registration(n: int) -> None:
        name = f"reg-{run}-{round_no}-{n}"
        if front is not None:  # as users reach it: the stack's proxy, over TLS
            register(front.url, realm, name, "192.0.2.10", verify=str(front.certificate))
        else:  # from a private address: the realm asks HTTPS of public ones
            register(keycloak.url, realm, name, "10.20.30.40")

    rate, times = concurrently(registration, 24, 4)
    out.add("registrations a second", rate)
    out.add("registration p95 ms", percentile(times, .95) * 1000)

    def sign_in(n: int) -> None:
        answer = password_grant(keycloak.url, realm, "bench-users", SECRETS["BENCH_CLIENT_SECRET"],
                                sign_ins[n % len(sign_ins)], OLD_PASSWORD)
        assert answer.status_code == 200, answer.text

    rate, times = concurrently(sign_in, 40, 4)
    out.add("password sign-ins a second", rate)
    out.add("sign-in p95 ms", percentile(times, .95) * 1000)

    since = int(time.time() * 1000) - 10_000
    _, times = concurrently(lambda n: api.admin_events(since, ["USER", "REALM"]), 20, 1)
    out.add("admin-event query p50 ms", percentile(times, .5) * 1000)
    names = [f"user{n * 7919 % 10_000:07d}" for n in range(20)]
    _, times = concurrently(lambda n: api.users_by_username(names[n]), 20, 1)
    out.add("username search p50 ms", percentile(times, .5) * 1000)

    session = requests.Session()
    headers = {"Authorization": f"Bearer {user_token}"}

    def user_info(n: int) -> None:
        answer = session.get(f"{sidecar}/auth/users/userInfo", headers=headers, timeout=10)
        assert answer.status_code == 200, answer.text

    rate, times = concurrently(user_info, 200, 8)
    out.add("getUserInfo a second", rate)
    out.add("getUserInfo p95 ms", percentile(times, .95) * 1000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--state", type=Path, default=REPO / ".idpack" / "bench-directory",
                        help="where the seeding checkpoints are kept (to resume)")
    parser.add_argument("--seed-only", action="store_true")
    parser.add_argument("--through-proxy", action="store_true",
                        help="register through the compose stack's proxy (its image, "
                             "built by `idpack deploy build`), over TLS")
    args = parser.parse_args()
    args.state.mkdir(parents=True, exist_ok=True)
    big, base = f"dir-{args.users}", f"dir-{BASELINE_USERS}"
    with tempfile.TemporaryDirectory(prefix="idpack-bench-") as scratch_dir, \
            keycloak_for_tests(Path(scratch_dir) / "keycloak") as keycloak, \
            smtp_peer() as (smtp_port, _received), ExitStack() as stack:
        front = stack.enter_context(stack_proxy(keycloak.url)) if args.through_proxy \
            else None
        scratch = Path(scratch_dir)
        admin = KeycloakAdminClient.connect(keycloak, timeout=600)
        print(f"Seeding (Keycloak at {keycloak.url}):", flush=True)
        seed(admin, base, BASELINE_USERS, args.state)
        started = time.perf_counter()
        seed(admin, big, args.users, args.state)
        print(f"  {big} ready after {time.perf_counter() - started:.0f} s", flush=True)
        if args.seed_only:
            return
        run = str(int(time.time()))
        results = {base: Measured(), big: Measured()}
        sidecars = []
        try:
            setups = {}
            for realm in (base, big):
                api = admin.realm(realm)
                api.update({"smtpServer": {"host": "127.0.0.1", "port": str(smtp_port),
                                           "from": "no-reply@mikrocloud.com"}})
                sign_ins = prepare_sign_ins(api, run)
                service, url = start_sidecar(keycloak, realm, scratch)
                sidecars.append(service)
                token = password_grant(keycloak.url, realm, "bench-users",
                                       SECRETS["BENCH_CLIENT_SECRET"], sign_ins[0],
                                       OLD_PASSWORD).json()["access_token"]
                setups[realm] = (api, url, sign_ins, token)
            for round_no in range(args.rounds):
                for realm in (base, big):  # interleaved: both see the same moment's noise
                    api, url, sign_ins, token = setups[realm]
                    measure_round(keycloak, realm, api, url, sign_ins, token, run, round_no,
                                  smtp_port, results[realm], front)
                print(f"  round {round_no + 1}/{args.rounds} done", flush=True)
        finally:
            for service in sidecars:
                service.stop(timeout=30)
        cores = os.cpu_count() or 1
        print(f"\nKeycloak with {args.users:,} users against {BASELINE_USERS:,} "
              f"(medians of {args.rounds} interleaved rounds; {cores} cores, shared)"
              + ("; registrations through the stack's proxy over TLS" if front else ""))
        print(f"  {'figure':30} {BASELINE_USERS:>12,} {args.users:>12,}   ratio")
        for name in results[base].figures:
            small, large = results[base].median(name), results[big].median(name)
            print(f"  {name:30} {small:12.1f} {large:12.1f}   {large / small:5.2f}x")
        sign_in_rate = results[big].median("password sign-ins a second")
        print(f"  password sign-ins a second per core: {sign_in_rate / cores:.1f} "
              "(Keycloak's sizing guide: about 15 per vCPU)")


if __name__ == "__main__":
    main()
