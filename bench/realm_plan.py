"""How fast `idpack realm plan` and `apply` are, and how many requests they make, for the
MikroCloud realm and for a generated large realm (500 clients, 2,000 roles, 50 identity
providers with 3 mappers each, 210 groups in a 3-level tree with role mappings, 20
custom authentication flows with a sub-flow each).

Times are wall time of the real CLI, interpreter start included. The baseline, measured
in the same run against the same realm, reads the live objects the way per-object tools
do (each client, role, provider and its mappers on its own), so the ratio shows what
reading with a fixed number of requests saves; its request count grows with the realm.

    .venv/bin/python bench/realm_plan.py            # starts its own Keycloak
    KEYCLOAK_URL=... KEYCLOAK_ADMIN=... KEYCLOAK_ADMIN_PASSWORD=... \
        .venv/bin/python bench/realm_plan.py        # or measures that server
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from idpack.keycloak.admin import KeycloakAdminClient
from idpack.keycloak.target import KeycloakTarget
from tests.support.keycloak import keycloak_for_tests
from tests.support.realm import SECRETS as TEST_SECRETS

REPO = Path(__file__).resolve().parents[1]
SECRETS = {**TEST_SECRETS, "LARGE_SECRET": "bench-7"}


def group_tree() -> dict[str, Any]:
    """10 departments of 4 teams of 4 squads: 210 groups, each level with roles."""
    groups: dict[str, Any] = {}
    for a in range(10):
        top = f"/dept-{a:02d}"
        groups[top] = {"attributes": {"code": [f"d{a}"]}, "realmRoles": [f"role-{a:04d}"]}
        for b in range(4):
            team = f"{top}/team-{b}"
            groups[team] = {"realmRoles": [f"role-{100 + a * 4 + b:04d}"]}
            for c in range(4):
                groups[f"{team}/squad-{c}"] = {}
    return groups


def custom_flows() -> dict[str, Any]:
    return {f"flow-{i:02d}": {"description": f"Flow {i}", "executions": [
        {"authenticator": "auth-cookie", "requirement": "ALTERNATIVE"},
        {"flowAlias": f"flow-{i:02d} forms", "requirement": "ALTERNATIVE", "executions": [
            {"authenticator": "auth-username-password-form", "requirement": "REQUIRED"},
            {"authenticator": "auth-otp-form", "requirement": "REQUIRED"}]}]}
        for i in range(20)}


def large_realm(name: str) -> dict[str, Any]:
    return {
        "groups": group_tree(),
        "authenticationFlows": custom_flows(),
        "realm": name,
        "settings": {"displayName": "Large", "registrationAllowed": True},
        "roles": {f"role-{i:04d}": {"description": f"Role {i}"} for i in range(2000)},
        "clients": {f"client-{i:03d}": {
            "name": f"Client {i}", "standardFlowEnabled": True,
            "redirectUris": [f"https://app{i}.example.org/*"],
            "attributes": {"pkce.code.challenge.method": "S256"},
        } for i in range(500)},
        "identityProviders": {f"idp-{i:02d}": {
            "providerId": "oidc", "enabled": False, "clientSecret": "${env:LARGE_SECRET}",
            "config": {"clientId": f"c{i}", "authorizationUrl": f"https://idp{i}.example.org/a",
                       "tokenUrl": f"https://idp{i}.example.org/t", "syncMode": "IMPORT"},
            "mappers": {m: {"type": "oidc-user-attribute-idp-mapper",
                            "config": {"claim": m, "user.attribute": m, "syncMode": "INHERIT"}}
                        for m in ("picture", "locale", "department")},
        } for i in range(50)},
    }


def run_cli(target: KeycloakTarget, *args: str) -> tuple[float, int, str]:
    """(wall seconds, requests made, output) of one real CLI run."""
    env = {**os.environ, **SECRETS, "KEYCLOAK_URL": target.url,
           "KEYCLOAK_ADMIN": target.admin_user, "KEYCLOAK_ADMIN_PASSWORD": target.admin_password}
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "idpack", "realm", *args], cwd=REPO, env=env,
                            capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if result.returncode not in (0, 2):
        raise SystemExit(f"idpack realm {' '.join(args)} failed:\n{result.stderr}")
    reads = re.search(r"in (\d+) requests", result.stderr)
    applied = re.search(r"\((\d+) requests\)", result.stderr)
    requests = int(reads.group(1)) + (int(applied.group(1)) if applied else 0) if reads else 0
    return seconds, requests, result.stdout + result.stderr


def read_seconds(output: str) -> float:
    found = re.search(r"requests \(([\d.]+) s\)", output)
    return float(found.group(1)) if found else float("nan")


def per_object_read(admin: KeycloakAdminClient, realm: str) -> tuple[float, int]:
    """The baseline: list each collection, then read every object on its own."""
    api = admin.realm(realm)
    base = f"/admin/realms/{realm}"
    started, before = time.perf_counter(), admin.requests_made
    admin.send("GET", base)
    for client in admin.send("GET", f"{base}/clients", params={"max": 10000}):
        admin.send("GET", f"{base}/clients/{client['id']}")
    for role in admin.send("GET", f"{base}/roles", params={"max": 10000}):
        admin.send("GET", f"{base}/roles-by-id/{role['id']}")
    for idp in admin.send("GET", f"{base}/identity-provider/instances"):
        admin.send("GET", f"{base}/identity-provider/instances/{idp['alias']}")
        admin.send("GET", f"{base}/identity-provider/instances/{idp['alias']}/mappers")
    pending = list(admin.send("GET", f"{base}/groups", params={"max": 10000}))
    while pending:  # each group, its role mappings and its sub-groups
        group = pending.pop()
        admin.send("GET", f"{base}/groups/{group['id']}")
        admin.send("GET", f"{base}/groups/{group['id']}/role-mappings")
        if group.get("subGroupCount", 0):
            pending += admin.send("GET", f"{base}/groups/{group['id']}/children",
                                  params={"max": 10000})
    for flow in admin.send("GET", f"{base}/authentication/flows"):
        admin.send("GET", f"{base}/authentication/flows/{flow['id']}")
        admin.send("GET", f"{base}/authentication/flows/{flow['alias']}/executions")
    api.user_profile()
    return time.perf_counter() - started, admin.requests_made - before


def measure(target: KeycloakTarget, admin: KeycloakAdminClient, label: str, realm: str,
            files: list[str]) -> None:
    file_args = [a for f in files for a in ("-f", f)]
    apply_s, apply_requests, _ = run_cli(target, "apply", *file_args, "--realm", realm,
                                         "--auto-approve")
    # Right after a big apply the server is still busy and its caches cold (the first
    # reads of a 2,700-object realm took 4-8 s here, the same reads a minute later 0.2 s);
    # a server in use has them warm. The first plan and the median of the last three of
    # eight are shown.
    cold_s, plan_requests, output = run_cli(target, "plan", *file_args, "--realm", realm)
    assert "matches the configuration" in output, output
    later = [run_cli(target, "plan", *file_args, "--realm", realm) for _ in range(7)]
    plan_s = sorted(run[0] for run in later[-3:])[1]
    read_s = sorted(read_seconds(run[2]) for run in later[-3:])[1]
    baseline_s, baseline_requests = per_object_read(admin, realm)
    print(f"{label}")
    print(f"  full apply         {apply_s:7.2f} s  {apply_requests:6d} requests")
    print(f"  no-op plan, cold   {cold_s:7.2f} s  {plan_requests:6d} read requests "
          "(first read after the apply)")
    print(f"  no-op plan         {plan_s:7.2f} s  {plan_requests:6d} read requests "
          "(median of the last 3 of 8)")
    print(f"  per-object read    {baseline_s:7.2f} s  {baseline_requests:6d} read requests "
          "(baseline, reads only, no interpreter start)")
    print(f"  plan's read phase  {read_s:7.2f} s  (same runs, without interpreter start)")
    print(f"  ratio plan read / per-object read: {read_s / baseline_s:.2f} time, "
          f"{plan_requests / baseline_requests:.3f} requests", flush=True)


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="idpack-bench-") as scratch, \
            keycloak_for_tests(Path(scratch) / "keycloak") as target:
        # Deleting the large realm takes the server longer than a request's usual 10 s
        # on a busy machine.
        admin = KeycloakAdminClient.connect(target, timeout=120)
        try:
            measure(target, admin, "mikrocloud realm (realm-config/mikrocloud.yaml)",
                    "bench-mikrocloud", [str(REPO / "realm-config" / "mikrocloud.yaml")])
            large = Path(scratch) / "large.yaml"
            large.write_text(yaml.safe_dump(large_realm("bench-large")))
            measure(target, admin, "large realm (500 clients, 2000 roles, 50 IdPs x 3 "
                    "mappers, 210 groups in 3 levels, 20 custom flows)",
                    "bench-large", [str(large)])
            print("targets: no-op plan of mikrocloud no slower than 0.4-0.7 s, of the large "
                  "realm within 3 s on a settled server")
        finally:
            for realm in ("bench-mikrocloud", "bench-large"):
                if realm in admin.realm_names():
                    admin.delete_realm(realm)


if __name__ == "__main__":
    main()
