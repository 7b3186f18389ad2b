"""The username rule, written twice (the realm's user-profile pattern for Keycloak's
own pages and Admin API, extensions/sidecar/usernames.py for createNewUser's answers),
admits the same characters, and each admitted name is its own skeleton."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from extensions.sidecar.usernames import ALPHABET, admissible, skeleton

REALM_FILE = Path(__file__).resolve().parents[2] / "realm-config" / "mikrocloud.yaml"


def realm_pattern() -> re.Pattern[str]:
    document = yaml.safe_load(REALM_FILE.read_text(encoding="utf-8"))
    validations = document["userProfile"]["attributes"]["username"]["validations"]
    return re.compile(validations["pattern"]["pattern"])  # Java's and Python's syntax alike


def test_the_realm_and_the_sidecar_admit_the_same_characters() -> None:
    pattern = realm_pattern()
    admitted = {chr(c) for c in range(0x10000)
                if not 0xD800 <= c <= 0xDFFF and pattern.match(chr(c) * 2)}

    assert admitted == ALPHABET
    assert not pattern.match("service-account-x")


def test_every_admitted_character_is_its_own_skeleton() -> None:
    assert [c for c in ALPHABET if skeleton(c) != c.lower()] == []


# Full-width a, the fi ligature, dotless i, sharp s, long s, the ij ligature.
@pytest.mark.parametrize(("look_alike", "of"), [
    ("\uff41dmin", "admin"), ("\ufb01ona", "fiona"), ("\u0131van", "ivan"),
    ("stra\u00dfe", "strasse"), ("\u017fam", "sam"), ("\u0133sbrand", "ijsbrand")])
def test_look_alikes_are_refused_and_fold_onto_the_name_they_imitate(look_alike: str,
                                                                      of: str) -> None:
    assert skeleton(look_alike) == skeleton(of)
    assert not admissible(look_alike)
    assert admissible(of)


@pytest.mark.parametrize("name", ["søren.kjær", "ÆBLE", "josé+test@example.org", "o'brien",
                                  "name with space", "tab\tname", "\u202eevil", ""])
def test_danish_and_other_latin_letters_stay_while_the_rest_goes(name: str) -> None:
    expected = name in ("søren.kjær", "ÆBLE", "josé+test@example.org")
    assert admissible(name) is expected
