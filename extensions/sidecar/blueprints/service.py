"""Health, readiness, and the API's description."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, render_template

from extensions.sidecar.context import directory
from extensions.sidecar.errors import error_response
from extensions.sidecar.openapi import openapi_document
from idpack import __version__

blueprint = Blueprint("service", __name__)


@blueprint.get("/healthz")
def healthz() -> Response:
    return jsonify({"status": "ok"})


@blueprint.get("/readyz")
def readyz() -> Response:
    people = directory()
    if not people.client.ready(people.api.name):
        return error_response(503, "Identity store unavailable", "IDENTITY_STORE_UNAVAILABLE")
    return jsonify({"status": "ready"})


@blueprint.get("/openapi.json")
def openapi() -> Response:
    return jsonify(openapi_document(__version__))


@blueprint.get("/docs")
def docs() -> Response:
    return Response(render_template("docs.html"), mimetype="text/html")


