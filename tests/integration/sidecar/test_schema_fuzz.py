"""schemathesis drives every operation of /openapi.json with generated input, as an
ADMIN and as a SERVICE caller: no answer may be a 5xx.

(schemathesis's pytest plugin does not load under pytest 9 yet, so the operations are
driven with its strategies and hypothesis directly.)"""

from __future__ import annotations

from typing import Any

import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings

from tests.support.sidecar import SidecarRealm


def test_no_generated_input_makes_the_sidecar_fail(app: Flask,
                                                   sidecar_realm: SidecarRealm) -> None:
    sidecar_realm.user("fuzz-admin", role="ADMIN")
    headers = {role: {"Authorization": f"Bearer {token}"} for role, token in (
        ("ADMIN", sidecar_realm.token("fuzz-admin")),
        ("SERVICE", sidecar_realm.service_token()))}
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 13
    failures: list[str] = []

    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=20, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def drive(case: Any) -> None:
            for role, header in headers.items():
                response = case.call(headers=header)
                if response.status_code >= 500:
                    failures.append(f"{role} {case.method} {case.formatted_path} "
                                    f"{response.status_code} {response.text[:200]}")

        drive()

    assert failures == []
