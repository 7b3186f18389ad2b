"""The headers every HTML page idpack serves carries (the portal, the short-link pages,
the API docs): a Content-Security-Policy that allows only the page's own origin (no
inline script or style, no framing), the same no-framing rule for old browsers
(X-Frame-Options), no MIME sniffing, and no referrer to other origins."""

from __future__ import annotations

from collections.abc import Iterable

from flask import Flask, Response


def content_security_policy(form_targets: Iterable[str] = ()) -> str:
    """`form_targets`: origins a form on the page may end up at (a sign-out form
    redirects to Keycloak, and form-action covers redirects too)."""
    targets = " ".join(["'self'", *form_targets])
    return ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            f"object-src 'none'; base-uri 'none'; form-action {targets}; "
            "frame-ancestors 'none'")


def protect_pages(app: Flask, form_targets: Iterable[str] = ()) -> None:
    """Add the headers to every HTML answer of `app` (JSON answers need none)."""
    policy = content_security_policy(form_targets)

    @app.after_request
    def headers(response: Response) -> Response:
        if response.mimetype == "text/html":
            response.headers.setdefault("Content-Security-Policy", policy)
            response.headers.setdefault("X-Frame-Options", "DENY")
            response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response
