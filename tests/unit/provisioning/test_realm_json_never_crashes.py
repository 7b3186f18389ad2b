"""Any realm JSON, however wrong, is read into a realm file or refused with errors that
name the file and the place in it: never a traceback (issue 21). Without Keycloak, so
many documents are tried; tests/integration/provisioning/test_realm_json_plans.py
feeds some to `plan` against a live realm."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from idpack.keycloak.target import KeycloakTarget
from provisioning.config import load_config
from provisioning.source import ConfigError
from tests.support.realm_cli import run_idpack
from tests.support.realm_json_fragments import documents


def problems_of(path: Path) -> list[str] | None:
    """The problems a realm file is refused with; None when it is read."""
    try:
        load_config([path], {})
    except ConfigError as refused:
        return refused.problems
    return None


def test_any_document_is_read_or_refused_by_naming_its_place(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "realm.json"

    @given(document=documents("fuzzRealm"))
    @settings(max_examples=200, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def read(document: dict[str, Any]) -> None:
        path.write_text(json.dumps(document), encoding="utf-8")
        problems = problems_of(path)
        assert problems is None or (problems and all(
            problem.startswith(f"{path}: ") for problem in problems)), problems

    read()


@pytest.mark.parametrize(("text", "problem"), [
    ('{"realm": "r",', ":1: not valid JSON: Expecting property name enclosed in double quotes"),
    ("[1, 2]", ": not a Keycloak realm"),
    ('{"realm": 5}', ": not a Keycloak realm"),
    ('{"realm": "r", "groups": [{"name": "a"}, {"name": "a"}]}',
     ": groups: [1].name 'a' appears twice (first at [0])"),
    ('{"realm": "r", "authenticationFlows": [{"alias": "a", "authenticationExecutions": '
     '[{"authenticator": "auth-cookie", "requirement": "SOMETIMES"}]}]}',
     ": authenticationFlows[0].authenticationExecutions[0].requirement: Input should be "),
])
def test_what_is_wrong_is_named_by_its_place_in_the_json(
        tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "realm.json"
    path.write_text(text, encoding="utf-8")

    [line] = problems_of(path) or ["read, not refused"]

    assert line.startswith(f"{path}{problem}"), line


def test_the_readme_example_of_a_wrong_json(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """README, "Moving from realm JSON": the errors as printed there (the file is read
    and refused before Keycloak is asked anything)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "realm.json").write_text(json.dumps({
        "realm": "teamRealm",
        "roles": {"realm": [{"name": "USER"}, {"description": "a role without its name"}]},
        "groups": [{"name": "a"}, {"name": "b"},
                   {"name": "c", "subGroups": [{"name": "d", "attributes": "x"}]}]}))
    nowhere = KeycloakTarget("http://127.0.0.1:9", "admin", "unused")

    ran = run_idpack(nowhere, "realm", "plan", "-f", "realm.json")

    assert ran.code == 1
    assert ran.stderr == (
        "idpack: error: 2 problem(s):\n"
        "  realm.json: roles.realm[1].name: is required\n"
        "  realm.json: groups[2].subGroups[0].attributes: Input should be a valid dictionary\n")
