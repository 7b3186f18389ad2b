"""The sidecar's few HTML pages (short links, email-change confirmations): one
template, never cached, no referrer. A page whose form ends in a redirect to another
origin (the portal, Keycloak) names that origin in its Content-Security-Policy, since
form-action covers the redirect too."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from flask import Response, render_template

from idpack.page_headers import content_security_policy


@dataclass(frozen=True)
class Form:
    """A form that POSTs `fields` (hidden) to `action`, with one button."""
    action: str
    button: str
    fields: dict[str, str] = field(default_factory=dict)


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def page(status: int, title: str, *lines: str, action: tuple[str, str] | None = None,
         form: Form | None = None, form_targets: Iterable[str] = (),
         headers: dict[str, str] | None = None) -> Response:
    body = render_template("page.html", title=title, lines=lines, form=form,
                           action_url=action[0] if action else None,
                           action_text=action[1] if action else None)
    response = Response(body, status=status, mimetype="text/html")
    response.headers.update({"Cache-Control": "no-store", "Referrer-Policy": "no-referrer",
                             **(headers or {})})
    if form is not None:
        response.headers["Content-Security-Policy"] = content_security_policy(
            [origin(target) for target in form_targets])
    return response
