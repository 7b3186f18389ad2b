from __future__ import annotations

import json
from pathlib import Path

from provisioning.diff import field_changes
from provisioning.plan import Change, FieldChange, Plan
from provisioning.references import Secret


def secret(value: str) -> Secret:
    return Secret.parse("${env:S}", {"S": value}, Path())


def test_a_fingerprint_recognises_its_secret_and_no_other() -> None:
    fingerprint = secret("rotate-me-1").fingerprint()

    assert secret("rotate-me-1").matches(fingerprint)
    assert not secret("rotate-me-2").matches(fingerprint)
    assert not secret("rotate-me-1").matches(None)
    assert not secret("rotate-me-1").matches("**********")
    assert "rotate-me" not in fingerprint
    assert secret("x").fingerprint() != secret("x").fingerprint()  # salted


def test_only_declared_fields_and_keys_are_compared() -> None:
    live = {"enabled": True, "name": "Portal", "attributes": {"a": "1", "b": "2"},
            "redirectUris": ["https://x/*", "https://y/*"]}
    declared = {"name": "Portal", "attributes": {"a": "9"},
                "redirectUris": ["https://y/*", "https://x/*"]}

    assert field_changes(declared, live) == [FieldChange("attributes.a", "1", "9")]


def test_a_plan_prints_field_by_field_and_hides_secrets() -> None:
    plan = Plan("mikrocloud", (
        Change("client", "portal", "update", (FieldChange("publicClient", False, True),
                                              FieldChange("secret", secret=True)),
               payload={"secret": "plaintext-value"}),
        Change("role", "OLD", "delete", (FieldChange("name", "OLD", None),)),
    ))

    text = plan.render()
    assert text.splitlines() == [
        "~ client portal",
        "    publicClient: false -> true",
        "    secret: (secret changed)",
        "- role OLD  (not in the configuration; pruned)",
        '    name: "OLD" -> (removed)',
        "Realm mikrocloud: 0 to create, 1 to update, 1 to delete.",
    ]
    document = json.loads(plan.as_json())
    assert document["summary"] == {"create": 0, "update": 1, "delete": 1}
    assert document["changes"][0]["fields"][1] == {"path": "secret", "secret": True}
    assert "plaintext-value" not in text + plan.as_json() + repr(plan)


def test_an_empty_plan_says_so() -> None:
    plan = Plan("mikrocloud", ())

    assert plan.empty
    assert plan.render() == "Realm mikrocloud matches the configuration: no changes."
