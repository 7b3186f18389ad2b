"""Health, readiness, and the API's description: /openapi.json, and /docs, where a
developer pastes a bearer token and tries an RPC (Swagger UI, whose files come with the
swagger-ui-py package: nothing is fetched from the internet)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from flask import Blueprint, Response, abort, jsonify, render_template, send_from_directory

from extensions.sidecar.context import directory, store
from extensions.sidecar.errors import error_response
from extensions.sidecar.openapi import openapi_document
from idpack import __version__

blueprint = Blueprint("service", __name__)
# Swagger UI's files as swagger-ui-py ships them; the package itself (its integrations
# with web frameworks) is never imported.
def _swagger_ui_files() -> Path:
    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("swagger-ui-py is not installed (a dependency of idpack)")
    return Path(next(iter(spec.submodule_search_locations))) / "static"


SWAGGER_UI = _swagger_ui_files()
SWAGGER_FILES = frozenset({"swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png"})


@blueprint.get("/healthz")
def healthz() -> Response:
    return jsonify({"status": "ok"})


@blueprint.get("/readyz")
def readyz() -> Response:
    """Ready when both things every short link and most RPCs need answer: Keycloak,
    and the shared store (a StoreUnavailable from the ping is a 503 of its own)."""
    people = directory()
    if not people.client.ready(people.api.name):
        return error_response(503, "Identity store unavailable", "IDENTITY_STORE_UNAVAILABLE")
    store().ping()
    if people.index is None:
        return jsonify({"status": "ready"})
    # Ready while the index builds too: until it is complete, lookups ask Keycloak.
    return jsonify({"status": "ready", "userIndex": people.index.status()})


@blueprint.get("/openapi.json")
def openapi() -> Response:
    return jsonify(openapi_document(__version__))


@blueprint.get("/docs")
def docs() -> Response:
    return Response(render_template("docs.html"), mimetype="text/html")


@blueprint.get("/docs/assets/<name>")
def docs_assets(name: str) -> Response:
    if name not in SWAGGER_FILES:
        abort(404)
    return send_from_directory(SWAGGER_UI, name, max_age=24 * 3600)


