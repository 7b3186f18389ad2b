"""How deep a request body nests is told before the JSON parser sees it (the parser
recurses); a body with fewer brackets than the limit is passed without a count."""

from __future__ import annotations

import json

from extensions.sidecar.rpc import MAX_DEPTH, _nests_too_deep


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def test_the_limit_itself_passes_and_one_more_is_refused() -> None:
    assert not _nests_too_deep(nested(MAX_DEPTH))
    assert _nests_too_deep(nested(MAX_DEPTH + 1))
    assert _nests_too_deep(b'{"a": ' * (MAX_DEPTH + 1) + b"1" + b"}" * (MAX_DEPTH + 1))


def test_many_brackets_side_by_side_are_not_depth() -> None:
    body = json.dumps({"users": [[n] for n in range(500)]}).encode()

    assert not _nests_too_deep(body)


def test_brackets_inside_strings_do_not_count() -> None:
    body = json.dumps({"users": ["[" * 100 + "{" * 100, "a\\\"[[[["]}).encode()

    assert not _nests_too_deep(body)
    assert _nests_too_deep(b'["]", ' + nested(MAX_DEPTH) + b"]")
