"""The realm JSON conformance corpus (corpus/): hand-written RealmRepresentation
documents, in sequences of three steps, create, change and remove, one sequence per
kind or case of the README's table (realm names with capitals, objects without ids or
paths, partial documents, nested sub-groups, composites of client roles, flows with
sub-flows and configs, client policies with several profiles, organizations with
domains, ...). The remove step is applied with --prune.

Each sequence runs on one realm, as `-f step.json`, then again after `idpack realm
convert` as YAML (the YAML steps start from the JSON ones' end). After each apply the
next plan is empty, and the live realm read back through the Admin API holds what the
document declares, by the rules of tests/support/realm_match.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from idpack.keycloak.admin import KeycloakAdminClient
from idpack.keycloak.target import KeycloakTarget
from provisioning.realm_json import read_realm_json
from tests.support.realm_cli import run_idpack
from tests.support.realm_match import mismatches

CORPUS = Path(__file__).parent / "corpus"
SEQUENCES = sorted(p for p in CORPUS.iterdir() if p.is_dir())


def test_the_corpus_has_forty_documents_or_more_in_three_step_sequences() -> None:
    steps = [sorted(p.name for p in sequence.glob("*.json")) for sequence in SEQUENCES]
    assert all(names == ["1-create.json", "2-change.json", "3-remove.json"] for names in steps)
    assert sum(map(len, steps)) >= 40


@pytest.mark.parametrize("sequence", SEQUENCES, ids=lambda p: p.name)
def test_each_step_applies_settles_and_reads_back_as_declared(
        sequence: Path, keycloak: KeycloakTarget, keycloak_admin: KeycloakAdminClient,
        tmp_path: Path) -> None:
    steps = sorted(sequence.glob("*.json"))
    documents = [json.loads(step.read_text(encoding="utf-8")) for step in steps]
    realm = documents[0]["realm"]
    if realm in keycloak_admin.realm_names():
        keycloak_admin.delete_realm(realm)
    try:
        for form in ("json", "yaml"):
            for step, document in zip(steps, documents, strict=True):
                file, env = step, {}
                if form == "yaml":
                    file = tmp_path / f"{step.stem}.yaml"
                    converted = run_idpack(keycloak, "realm", "convert", str(step), "-o", str(file))
                    assert converted.code == 0, converted.output
                    # What a user exports before planning the YAML: the JSON's secrets.
                    env = read_realm_json(step).secrets
                prune = ["--prune"] if step.stem.endswith("remove") else []
                where = f"{sequence.name}/{step.name} as {form}"
                applied = run_idpack(keycloak, "realm", "apply", "-f", str(file), *prune,
                                     "--auto-approve", env=env)
                assert applied.code == 0, f"{where}: apply\n{applied.output}"
                again = run_idpack(keycloak, "realm", "plan", "-f", str(file), *prune, env=env)
                assert again.code == 0, f"{where}: the plan after apply\n{again.output}"
                found = mismatches(keycloak_admin.realm(realm), document, pruned=bool(prune))
                assert found == [], f"{where}: read back\n" + "\n".join(found)
    finally:
        if realm in keycloak_admin.realm_names():
            keycloak_admin.delete_realm(realm)
