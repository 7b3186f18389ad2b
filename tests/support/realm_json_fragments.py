"""Generated and mutated RealmRepresentation documents (hypothesis strategies): the
conformance corpus's documents with a few values replaced, removed, duplicated or
added anywhere in them, and documents whose top-level fields idpack reads hold any
JSON at all. What a careless hand or a tool's bug writes into a realm JSON."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from provisioning.registry import REPRESENTATION

CORPUS = Path(__file__).resolve().parents[1] / "integration" / "provisioning" / "corpus"
SEEDS = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(CORPUS.glob("*/*.json"))]
# The fields idpack reads, and a few settings, as names a document may hold.
FIELDS = sorted({*REPRESENTATION, "displayName", "enabled", "browserFlow", "sslRequired",
                 "passwordPolicy", "supportedLocales"})

SCALARS = (st.none() | st.booleans() | st.integers(-3, 3)
           | st.sampled_from(["", "USER", "/staff", "**********", "true", "${env:X}", "a/b",
                              "default-roles-x", "openid-connect", "REQUIRED"])
           | st.text(max_size=6))
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(st.sampled_from(["name", "alias", "clientId", "config",
                                                       "roles", "realm", "x", ""]) | st.text(
                                          max_size=5), inner, max_size=3), max_leaves=8)


def _places(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _places(inner, (*path, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from _places(inner, (*path, index))


@st.composite
def mutated(draw: st.DrawFn, realm: str) -> dict[str, Any]:
    """A corpus document, renamed to `realm`, with one to three of its values changed."""
    document: dict[str, Any] = copy.deepcopy(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 3))):
        places = [p for p in _places(document) if p and p != ("realm",)]
        if not places:
            break
        path = draw(st.sampled_from(places))
        parent: Any = document
        for part in path[:-1]:
            parent = parent[part]
        key = path[-1]
        action = draw(st.sampled_from(["replace", "remove", "duplicate", "add"]))
        if action == "replace":
            parent[key] = draw(JSON)
        elif action == "remove":
            del parent[key]
        elif action == "duplicate" and isinstance(parent, list):
            parent.append(copy.deepcopy(parent[key]))
        elif isinstance(parent, dict):
            parent[draw(st.text(max_size=5))] = draw(JSON)
    document["realm"] = realm
    return document


@st.composite
def generated(draw: st.DrawFn, realm: str) -> dict[str, Any]:
    """A document of the fields idpack reads, each holding any JSON."""
    names = draw(st.lists(st.sampled_from(FIELDS), min_size=1, max_size=4, unique=True))
    return {"realm": realm, **{name: draw(JSON) for name in names}}


def documents(realm: str) -> st.SearchStrategy[dict[str, Any]]:
    return mutated(realm) | generated(realm)
