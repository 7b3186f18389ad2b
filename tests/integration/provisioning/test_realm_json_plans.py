"""`idpack realm plan -f realm.json` on generated and mutated RealmRepresentation
documents, against one live realm: it plans (exit 0 or 2) or says what is wrong (exit 1,
each problem naming the file), never a traceback, and a plan changes nothing. Few
examples, since each is a real plan; the unit test of the same strategies tries many
more without Keycloak."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from idpack.keycloak.admin import KeycloakAdminClient
from idpack.keycloak.target import KeycloakTarget
from tests.support.realm_cli import run_idpack
from tests.support.realm_json_fragments import CORPUS, documents

REALM = "fuzzPlans"


@pytest.fixture(scope="module")
def live_realm(keycloak: KeycloakTarget, keycloak_admin: KeycloakAdminClient,
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A realm with groups, roles and a client, made from a corpus document."""
    work = tmp_path_factory.mktemp("plans")
    seed = json.loads((CORPUS / "03-groups" / "1-create.json").read_text(encoding="utf-8"))
    (work / "seed.json").write_text(json.dumps({**seed, "realm": REALM}), encoding="utf-8")
    if REALM in keycloak_admin.realm_names():
        keycloak_admin.delete_realm(REALM)
    applied = run_idpack(keycloak, "realm", "apply", "-f", str(work / "seed.json"),
                         "--auto-approve")
    assert applied.code == 0, applied.output
    try:
        yield work
    finally:
        keycloak_admin.delete_realm(REALM)


def test_any_document_plans_or_is_refused_in_words_and_nothing_changes(
        keycloak: KeycloakTarget, keycloak_admin: KeycloakAdminClient,
        live_realm: Path) -> None:
    api = keycloak_admin.realm(REALM)
    before = api.export(clients=True, roles=True)
    path = live_realm / "realm.json"
    seen: set[int] = set()

    @given(document=documents(REALM))
    @settings(max_examples=25, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def plan(document: dict[str, Any]) -> None:
        path.write_text(json.dumps(document), encoding="utf-8")
        ran = run_idpack(keycloak, "realm", "plan", "-f", str(path))
        seen.add(ran.code)
        assert ran.code in (0, 1, 2), ran.output
        if ran.code == 1:
            problems = ran.stderr.split("problem(s):\n", 1)[-1].strip().split("\n")
            assert problems, ran.output
            assert all(p.strip().startswith(str(path)) for p in problems), ran.output

    plan()
    assert {1, 2} <= seen  # both kinds of answer were met
    assert api.export(clients=True, roles=True) == before
