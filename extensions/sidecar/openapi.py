"""/openapi.json, generated from the RPC declarations and their pydantic types."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel

from extensions.sidecar.models import ErrorBody
from extensions.sidecar.rpc import RPCS, RpcSpec

REF_TEMPLATE = "#/components/schemas/{model}"
PATH_PARAMETER = re.compile(r"<(?:\w+:)?(\w+)>")


def openapi_document(version: str) -> dict[str, Any]:
    schemas: dict[str, Any] = {}

    def ref(model: type[BaseModel]) -> dict[str, str]:
        schema = model.model_json_schema(ref_template=REF_TEMPLATE)
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
        return {"$ref": REF_TEMPLATE.format(model=model.__name__)}

    error = {"content": {"application/json": {"schema": ref(ErrorBody)}}}
    paths: dict[str, Any] = {}
    for spec in sorted(RPCS, key=lambda s: s.path):
        paths.setdefault(openapi_path(spec.path), {})[spec.method.lower()] = _operation(
            spec, ref, error)
    paths["/healthz"] = {"get": _plain("Liveness: the sidecar answers", "healthz")}
    paths["/readyz"] = {"get": _plain("Readiness: Keycloak and the shared store answer too",
                                      "readyz", 503)}
    return {
        "openapi": "3.1.0",
        "info": {"title": "idpack sidecar: UCloud user RPCs on Keycloak", "version": version},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "bearerFormat": "JWT"}},
        },
    }


def openapi_path(flask_path: str) -> str:
    """Flask's `/s/<code>` is OpenAPI's `/s/{code}`."""
    return PATH_PARAMETER.sub(r"{\1}", flask_path)


def _operation(spec: RpcSpec, ref: Any, error: dict[str, Any]) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": spec.name,
        "summary": spec.summary,
        "description": "Who may call: " + (", ".join(r.value for r in spec.roles)
                                          if spec.roles else "anyone"),
        "responses": {"400": {"description": "Bad request", **error},
                      "503": {"description": "Identity store unavailable", **error}},
    }
    if spec.roles is not None:
        operation["security"] = [{"bearer": []}]
        operation["responses"]["401"] = {"description": "Unauthorized", **error}
    if spec.request is not None:
        operation["requestBody"] = {"required": True, "content": {
            "application/json": {"schema": ref(spec.request)}}}
    parameters = [{"name": q, "in": "query", "required": True, "schema": {"type": "string"}}
                  for q in spec.query]
    parameters += [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                   for name in PATH_PARAMETER.findall(spec.path)]
    if parameters:
        operation["parameters"] = parameters
    if spec.redirect:
        operation["responses"]["302"] = {"description": "Redirect to the portal"
                                         if not PATH_PARAMETER.search(spec.path)
                                         else "Redirect to the link's target"}
    elif spec.response is not None:
        operation["responses"]["200"] = {"description": "OK", "content": {
            "application/json": {"schema": ref(spec.response)}}}
    else:
        operation["responses"]["204"] = {"description": "Done"}
    return operation


def _plain(summary: str, name: str, failure: int | None = None) -> dict[str, Any]:
    responses: dict[str, Any] = {"200": {"description": "OK"}}
    if failure:
        responses[str(failure)] = {"description": "Not ready"}
    return {"operationId": name, "summary": summary, "responses": responses}
