"""How an RPC is declared: its path, method, who may call, and its request and response
types. The declaration registers the Flask route and is the one source /openapi.json is
generated from, so the document cannot drift from the routes."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import Blueprint, Response, request
from pydantic import BaseModel, ValidationError

from extensions.sidecar.access import requires
from extensions.sidecar.errors import RpcError
from extensions.sidecar.roles import Role

M = TypeVar("M", bound=BaseModel)
RPCS: list[RpcSpec] = []
MAX_DEPTH = 16  # UCloud's requests nest 3 deep; more is an attack on the parser


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
    if _nests_too_deep(raw):
        raise RpcError(400, f"Request body nests deeper than {MAX_DEPTH} levels",
                       "BAD_REQUEST")
    try:
        document = json.loads(raw or b"null")
    except (ValueError, RecursionError):
        raise RpcError(400, "Request body is not valid JSON", "BAD_REQUEST") from None
    # Only a \u escape can make half a surrogate pair (the body is UTF-8): no such escape,
    # no walk through the document.
    if SURROGATE_ESCAPE.search(raw) and _has_lone_surrogate(document):
        raise RpcError(400, "Request body is not valid Unicode: a \\u escape names half "
                            "of a surrogate pair", "BAD_REQUEST")
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        raise RpcError(400, describe(exc), "BAD_REQUEST") from None


SURROGATE = re.compile("[\ud800-\udfff]")
SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89abcdefABCDEF]")
JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
JSON_BRACKET = re.compile(rb"[\[\]{}]")


def _nests_too_deep(raw: bytes) -> bool:
    """Whether the JSON text's arrays and objects nest deeper than MAX_DEPTH, told before
    parsing it (the parser itself recurses, and fails at about a thousand levels)."""
    if raw.count(b"[") + raw.count(b"{") <= MAX_DEPTH:
        return False  # too few brackets to nest that deep (a tenth of a lookup's CPU saved)
    depth = deepest = 0
    for bracket in JSON_BRACKET.findall(JSON_STRING.sub(b"", raw)):
        depth += 1 if bracket in (b"[", b"{") else -1
        deepest = max(deepest, depth)
    return deepest > MAX_DEPTH


def _has_lone_surrogate(value: Any) -> bool:
    """JSON may escape half a surrogate pair ("\\ud800"), which no UTF-8 text holds and
    nothing downstream can encode."""
    if isinstance(value, str):
        return SURROGATE.search(value) is not None
    if isinstance(value, list):
        return any(_has_lone_surrogate(v) for v in value)
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    return False


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
