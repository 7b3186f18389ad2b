"""The sidecar as a service: health, its API description, gunicorn, and Keycloak going
away and coming back."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import requests
from flask import Flask
from flask.testing import FlaskClient

from extensions.sidecar.app import create_app
from extensions.sidecar.openapi import openapi_path
from idpack.keycloak.admin import KeycloakAdminClient
from idpack.keycloak.harness import start_ephemeral_keycloak
from idpack.processes import ChildService, free_port, http_ready
from tests.support.realm import REPO, SECRETS, apply, load
from tests.support.sidecar import OVERLAY, TEST_CLIENT_SECRET, SidecarRealm, bearer


def test_the_openapi_document_describes_exactly_the_routes(app: Flask,
                                                           client: FlaskClient) -> None:
    document = client.get("/openapi.json").json
    routes = {(openapi_path(rule.rule), method.lower()) for rule in app.url_map.iter_rules()
              for method in rule.methods or () if method not in ("HEAD", "OPTIONS")
              and rule.endpoint != "static"}
    described = {(path, method) for path, ops in document["paths"].items() for method in ops}

    assert described == routes - {("/openapi.json", "get"), ("/docs", "get"),
                                  ("/docs/assets/{name}", "get")}
    assert {op["operationId"] for ops in document["paths"].values() for op in ops.values()} >= {
        "createNewUser", "updateUserInfo", "getUserInfo", "verifyUserInfo", "changePassword",
        "changePasswordWithReset", "lookupUsers", "lookupEmail", "lookupUserWithEmail",
        "retrieveOptionalUserInfo", "updateOptionalUserInfo"}
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert "/openapi.json" in docs.text


def test_health_and_readiness(client: FlaskClient) -> None:
    assert client.get("/healthz").json == {"status": "ok"}
    ready = client.get("/readyz").json
    assert ready["status"] == "ready"
    assert set(ready["userIndex"]) == {"users", "complete", "waitingForUid", "lagSeconds"}


def test_idpack_sidecar_serves_with_gunicorn(sidecar_realm: SidecarRealm,
                                             tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "KEYCLOAK_URL": sidecar_realm.keycloak.url,
           "IDPACK_REALM": sidecar_realm.name, "IDPACK_SIDECAR_PORT": str(port),
           "IDPACK_SIDECAR_CLIENT_SECRET": SECRETS["IDPACK_SIDECAR_CLIENT_SECRET"],
           "IDPACK_PASSWORD_CHECK_CLIENT_SECRET": SECRETS["IDPACK_PASSWORD_CHECK_CLIENT_SECRET"],
           "IDPACK_HOME": str(tmp_path)}
    base = f"http://127.0.0.1:{port}"
    sidecar = ChildService("sidecar", [sys.executable, "-m", "idpack", "sidecar"], env,
                           tmp_path / "sidecar.log", http_ready(f"{base}/readyz"), cwd=REPO)
    sidecar.start(timeout=30)
    try:
        token = sidecar_realm.service_token()
        answer = requests.post(f"{base}/auth/users/lookup", json={"users": ["nobody"]},
                               headers=bearer(token), timeout=10)
        assert answer.json() == {"results": {"nobody": None}}
    finally:
        sidecar.stop(timeout=30)
    assert "Booting worker" in (tmp_path / "sidecar.log").read_text()


def test_keycloak_stopping_gives_503_quickly_and_the_sidecar_recovers(tmp_path: Path) -> None:
    """A Keycloak of this test's own, stopped and started again under a running app."""

    server = start_ephemeral_keycloak(tmp_path / "keycloak")
    try:
        admin = KeycloakAdminClient.connect(server.target)
        overlay = tmp_path / "tests.yaml"
        overlay.write_text(OVERLAY)
        apply(admin, load("mikrocloud", overlay,
                          env={**SECRETS, "SIDECAR_TESTS_SECRET": TEST_CLIENT_SECRET}))
        realm = SidecarRealm("mikrocloud", server.target, admin.realm("mikrocloud"))
        realm.user("rita")
        app = create_app(realm.settings(store=str(tmp_path / "store.sqlite")))
        client = app.test_client()
        user = bearer(realm.token("rita"))
        assert client.get("/auth/users/userInfo", headers=user).status_code == 200

        server.stop()
        started = time.monotonic()
        down = client.get("/auth/users/userInfo", headers=user)
        assert time.monotonic() - started < 12
        assert (down.status_code, down.json["why"]) == (503, "Identity store unavailable")
        assert client.get("/readyz").status_code == 503

        server.start()
        assert client.get("/readyz").status_code == 200
        assert client.get("/auth/users/userInfo", headers=user).status_code == 200
    finally:
        server.stop()
