"""How long the `idpack` command takes to start: `idpack --help`, and a no-op `idpack realm
plan` of the MikroCloud realm, wall time including the interpreter's start, median of
10 runs; against bare Python started the same way (`python -c pass`), measured in the
same run, whose time no command can go below.

Targets (issue 13): `idpack --help` within 0.1 s, the no-op plan within 0.25 s.

    .venv/bin/python bench/cli_start.py            # starts its own Keycloak
    KEYCLOAK_URL=... KEYCLOAK_ADMIN=... KEYCLOAK_ADMIN_PASSWORD=... \\
        .venv/bin/python bench/cli_start.py        # or measures that server
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from idpack.keycloak.admin import KeycloakAdminClient
from idpack.keycloak.target import KeycloakTarget
from tests.support.keycloak import keycloak_for_tests
from tests.support.realm import SECRETS, apply, load

REPO = Path(__file__).resolve().parents[1]
IDPACK = str(Path(sys.executable).with_name("idpack"))
ROUNDS = 10
REALM = "bench-cli-start"


def wall(command: list[str], env: dict[str, str], expect: int = 0) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True,
                          check=False)
    seconds = time.perf_counter() - started
    if done.returncode != expect:
        raise SystemExit(f"{' '.join(command)} exited {done.returncode}:\n{done.stderr}")
    return seconds, done.stderr


def median(command: list[str], env: dict[str, str]) -> tuple[float, str]:
    runs = [wall(command, env) for _ in range(ROUNDS)]
    return statistics.median(seconds for seconds, _ in runs), runs[-1][1]


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch, \
            keycloak_for_tests(Path(scratch)) as target:
        measure(target)


def measure(target: KeycloakTarget) -> None:
    admin = KeycloakAdminClient.connect(target)
    if REALM in admin.realm_names():
        admin.delete_realm(REALM)
    apply(admin, load(REALM))
    env = {**os.environ, **SECRETS, "KEYCLOAK_URL": target.url,
           "KEYCLOAK_ADMIN": target.admin_user, "KEYCLOAK_ADMIN_PASSWORD": target.admin_password}
    try:
        wall([IDPACK, "realm", "plan", "--realm", REALM], env)  # warm the server's caches
        bare, _ = median([sys.executable, "-c", "pass"], env)
        help_, _ = median([IDPACK, "--help"], env)
        plan, said = median([IDPACK, "realm", "plan", "--realm", REALM], env)
    finally:
        admin.delete_realm(REALM)
    requests = re.search(r"in (\d+) requests", said)
    print(f"median of {ROUNDS} runs, wall time including the interpreter's start")
    print(f"  bare python:                 {bare:.3f} s")
    print(f"  idpack --help:               {help_:.3f} s  ({help_ / bare:.1f}x bare python; "
          f"target 0.1 s: {'met' if help_ <= 0.1 else 'not met'})")
    print(f"  idpack realm plan (no-op):   {plan:.3f} s  ({plan / bare:.1f}x bare python; "
          f"{requests.group(1) if requests else '?'} requests; target 0.25 s: "
          f"{'met' if plan <= 0.25 else 'not met'})")


if __name__ == "__main__":
    main()
