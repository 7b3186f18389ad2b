"""How an RPC is declared: its path, method, who may call, and its request and response
types. The declaration registers the Flask route and is the one source /openapi.json is
generated from, so the document cannot drift from the routes."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import Blueprint, Response, request
from pydantic import BaseModel, ValidationError

from extensions.sidecar.access import Role, requires
from extensions.sidecar.errors import RpcError

M = TypeVar("M", bound=BaseModel)
RPCS: list[RpcSpec] = []


@dataclass(frozen=True)
class RpcSpec:
    name: str
    method: str
    path: str
    roles: tuple[Role, ...] | None  # None: anyone may call
    request: type[BaseModel] | None
    response: type[BaseModel] | None
    summary: str
    query: tuple[str, ...] = ()
    redirect: bool = False


def rpc(blueprint: Blueprint, name: str, method: str, path: str, *,
        roles: tuple[Role, ...] | None, request_model: type[BaseModel] | None = None,
        response_model: type[BaseModel] | None = None, query: tuple[str, ...] = (),
        redirect: bool = False) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def register(view: Callable[..., Any]) -> Callable[..., Any]:
        RPCS.append(RpcSpec(name, method, path, roles, request_model, response_model,
                            (view.__doc__ or name).strip().splitlines()[0], query, redirect))
        guarded = requires(*roles)(view) if roles is not None else view
        blueprint.add_url_rule(path, name, guarded, methods=[method])
        return guarded
    return register


def parse(model: type[M]) -> M:
    """The request body as `model`, or 400 naming the first bad field."""
    raw = request.get_data(cache=True)
    try:
        document = json.loads(raw or b"null")
    except ValueError:
        raise RpcError(400, "Request body is not valid JSON", "BAD_REQUEST") from None
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        raise RpcError(400, describe(exc), "BAD_REQUEST") from None


def describe(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ""
    for part in error["loc"]:
        where += f"[{part}]" if isinstance(part, int) else (f".{part}" if where else str(part))
    where = where or "body"
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = "unknown field"
    elif error["type"] in ("model_type", "dict_type", "model_attributes_type"):
        message = "must be a JSON object"
    elif error["type"] == "missing":
        message = "is required"
    return f"{where}: {message}"


def json_response(model: BaseModel, status: int = 200) -> Response:
    return Response(model.model_dump_json(), status=status, mimetype="application/json")
