"""What a request handler of the portal reaches through the running app: its settings,
the signed-in sessions, Keycloak as an OpenID provider, and the sidecar. `create_app`
puts them there."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Response as FlaskResponse
from flask import current_app, render_template, request, session

if TYPE_CHECKING:
    from extensions.portal.sessions import SessionStore, SignedIn
    from extensions.portal.settings import PortalSettings
    from extensions.portal.sidecar_client import SidecarClient

SETTINGS, SESSIONS, KEYCLOAK, SIDECAR = ("portal.settings", "portal.sessions",
                                         "portal.keycloak", "portal.sidecar")
SESSION_ID = "sid"  # what the session cookie holds once signed in, and nothing else


def settings() -> PortalSettings:
    found: PortalSettings = current_app.extensions[SETTINGS]
    return found


def sessions() -> SessionStore:
    found: SessionStore = current_app.extensions[SESSIONS]
    return found


def keycloak() -> Any:
    """Authlib's client of the realm (authorize redirects, tokens, logout URL)."""
    return current_app.extensions[KEYCLOAK]


def sidecar() -> SidecarClient:
    found: SidecarClient = current_app.extensions[SIDECAR]
    return found


def signed_in() -> SignedIn | None:
    """The browser's signed-in session, if it has one that has not ended."""
    return sessions().get(session.get(SESSION_ID))


def forget() -> None:
    """End this browser's signed-in session, here and for every copy of its cookie."""
    sessions().end(session.pop(SESSION_ID, None))


def page(template: str, status: int, **context: Any) -> FlaskResponse:
    response = FlaskResponse(render_template(template, **context), status=status)
    response.headers["Cache-Control"] = "no-store"
    return response


def foreign_form(current: SignedIn, title: str, message: str) -> FlaskResponse | None:
    """The refusal page when a posted form lacks this session's CSRF token (a form of
    another site, or a stale page), else None."""
    if current.accepts(request.form.get("csrf_token", "")):
        return None
    current_app.logger.warning("%s: the form's CSRF token does not match", title)
    return page("problem.html", 400, title=title, message=message)
