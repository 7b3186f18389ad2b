"""Text in RPC bodies: one line, no characters that change how it reads. The check runs
on every name of a lookup (up to 500 a call), so it is a regular expression; these hold
it to what Unicode calls control characters and to the direction marks."""

from __future__ import annotations

import unicodedata

import pytest
from pydantic import ValidationError

from extensions.sidecar.models import BIDI_CONTROLS, LookupUsersRequest


def refused(name: str) -> str:
    """Why the name is refused, "" for a name that passes."""
    try:
        LookupUsersRequest.model_validate({"users": [name]})
    except ValidationError as exc:
        return str(exc.errors()[0]["msg"])
    return ""


def test_every_control_character_is_refused_and_no_other() -> None:
    for code in range(0x10000):
        char = chr(code)
        if 0xD800 <= code <= 0xDFFF:
            continue  # lone surrogates: refused before validation (rpc.parse)
        verdict = refused(f"a{char}b")
        if unicodedata.category(char) == "Cc":
            assert "control characters" in verdict, hex(code)
        elif char in BIDI_CONTROLS:
            assert "direction" in verdict, hex(code)
        else:
            assert verdict == "", hex(code)


@pytest.mark.parametrize("name", ["alice", "Åse-Marie", "用户", "o'neil"])
def test_ordinary_names_pass(name: str) -> None:
    assert refused(name) == ""
