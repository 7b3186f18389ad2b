"""lookupUsers builds its answer as plain JSON data (the models cost a quarter of the
call): it must be exactly what LookupUsersResponse makes of the same entries."""

from __future__ import annotations

import json

from extensions.sidecar.blueprints.lookups import lookup_results
from extensions.sidecar.index import Entry
from extensions.sidecar.models import LookupUsersResponse, UserLookup
from extensions.sidecar.roles import Role


def test_the_answer_is_what_the_response_model_makes() -> None:
    names = ["Alice", "bob", "nobody", "svc"]
    found = {"Alice": Entry("alice", "id-a", Role.USER, 1001),
             "bob": Entry("bob", "id-b", Role.ADMIN, None),
             "nobody": None,
             "svc": Entry("svc", "id-s", Role.SERVICE, 7, changed_ms=5)}
    by_models = LookupUsersResponse(results={
        name: (UserLookup(subject=name.lower(), role=hit.role, uid=hit.uid) if hit else None)
        for name, hit in found.items()})

    text = json.dumps(lookup_results(names, found))

    assert json.loads(text) == json.loads(by_models.model_dump_json())
    assert LookupUsersResponse.model_validate_json(text) == by_models
    assert list(json.loads(text)["results"]) == names  # in the order asked
