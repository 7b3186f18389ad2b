"""UCloud's error body, `{"why": ..., "errorCode": ...}`, for every failure the sidecar
answers, so no caller ever sees an HTML page or a stack trace."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

from idpack.keycloak.errors import KeycloakRequestError, KeycloakUnavailable
from idpack.store import StoreUnavailable

log = logging.getLogger("idpack.sidecar")


class RpcError(Exception):
    def __init__(self, status: int, why: str, error_code: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(why)
        self.status, self.why, self.error_code = status, why, error_code
        self.headers = headers or {}


def error_response(status: int, why: str, error_code: str | None = None) -> Response:
    response = jsonify({"why": why, "errorCode": error_code})
    response.status_code = status
    return response


def install_error_handlers(app: Flask) -> None:
    @app.errorhandler(RpcError)
    def rpc_error(error: RpcError) -> Response:
        response = error_response(error.status, error.why, error.error_code)
        response.headers.update(error.headers)
        return response

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        status = error.code or 500
        why = {404: "Not Found", 405: "Method Not Allowed",
               413: "Request body too large"}.get(status, error.name)
        return error_response(status, why)

    @app.errorhandler(KeycloakUnavailable)
    def keycloak_down(error: KeycloakUnavailable) -> Response:
        log.warning("Keycloak unavailable: %s", error)
        return error_response(503, "Identity store unavailable", "IDENTITY_STORE_UNAVAILABLE")

    @app.errorhandler(StoreUnavailable)
    def store_down(error: StoreUnavailable) -> Response:
        log.warning("%s", error)
        response = error_response(503, "Shared store unavailable", "STORE_UNAVAILABLE")
        response.headers["Retry-After"] = "30"
        return response

    @app.errorhandler(KeycloakRequestError)
    def keycloak_refused(error: KeycloakRequestError) -> Response:
        if error.status >= 500:
            log.warning("Keycloak failed: %s", error)
            return error_response(503, "Identity store unavailable",
                                  "IDENTITY_STORE_UNAVAILABLE")
        if error.status == 400:  # input Keycloak will not take, e.g. control characters
            return error_response(400, f"Invalid input: {error.reason}", "BAD_REQUEST")
        if error.status == 404:
            return error_response(404, "Not found", "NOT_FOUND")
        log.error("Keycloak refused a request the sidecar made: %s", error)
        return error_response(500, "Internal Server Error")

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> Response:
        log.exception("unhandled error")
        return error_response(500, "Internal Server Error")
