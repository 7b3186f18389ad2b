"""The profile page: a signed-in user changes their names, country, time zone and
UCloud's optional details, and asks for a new email address. Every change goes through
the sidecar with the user's own token (updateUserInfo, updateOptionalUserInfo); a new
address waits for its owner to follow the link the sidecar mails to it."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from flask import Blueprint, Response, redirect, request
from werkzeug.wrappers import Response as BaseResponse

from extensions.portal.context import foreign_form, forget, page, sidecar, signed_in
from extensions.portal.sessions import SignedIn
from idpack.places import countries, time_zones_by_region

blueprint = Blueprint("profile", __name__)
log = logging.getLogger("idpack.portal.profile")
NAMES = ("firstNames", "lastName")
PLACE = ("country", "timezone")
OPTIONAL = ("organizationFullName", "department", "researchField", "position")


def _signed_in() -> SignedIn | None:
    current = signed_in()
    if current is None or current.expired:
        forget()
        return None
    return current


@blueprint.get("/profile")
def edit() -> Response | BaseResponse:
    current = _signed_in()
    if current is None:
        return redirect("/login")
    user = sidecar().user_info(current.access_token)
    optional = sidecar().optional_info(current.access_token)
    if not (user.ok and optional.ok):
        log.warning("profile unavailable: %s %s", user.body, optional.body)
        return page("problem.html", 502, title="Your profile is unavailable",
                    message=user.why if not user.ok else optional.why)
    return _form(current, {**user.body, **optional.body}, status=200,
                 saved=request.args.get("saved") == "1",
                 email_sent=request.args.get("email") == "sent")


@blueprint.post("/profile")
def save() -> Response | BaseResponse:
    current = _signed_in()
    if current is None:
        return redirect("/login")
    refusal = foreign_form(current, "Your profile was not changed",
                           "The form was not this page's. Open your profile and try again.")
    if refusal is not None:
        return refusal
    form = {name: request.form.get(name, "").strip()
            for name in (*NAMES, "email", *PLACE, *OPTIONAL)}
    before = sidecar().user_info(current.access_token)
    if not before.ok:
        return _form(current, form, status=502, error=before.why)
    update = {name: form[name] for name in (*NAMES, *PLACE)}
    new_email = form["email"] and form["email"].lower() != str(before.body.get("email") or
                                                                  "").lower()
    if new_email:
        update["email"] = form["email"]
    answer = sidecar().update_user_info(current.access_token, update)
    if answer.ok:
        answer = sidecar().update_optional_info(
            current.access_token, {name: form[name] or None for name in OPTIONAL})
    if not answer.ok:
        return _form(current, form, status=answer.status if answer.status < 500 else 502,
                     error=answer.why)
    return redirect("/profile?saved=1" + ("&email=sent" if new_email else ""), code=303)


def _form(current: SignedIn, values: Mapping[str, object], *, status: int,
          error: str | None = None, saved: bool = False,
          email_sent: bool = False) -> Response:
    zones = time_zones_by_region()
    known_zones = {zone for group in zones.values() for zone in group}
    return page("profile_edit.html", status, values=values, error=error, saved=saved,
                email_sent=email_sent, csrf_token=current.csrf_token,
                countries=countries(), zones=zones,
                # a value the lists leave out (an old alias) is still shown as chosen
                other_zone=values.get("timezone") if values.get("timezone") and
                values.get("timezone") not in known_zones else None)
