"""/oauth/*: the token, revocation and introspection endpoints, the server metadata, and the
server-rendered sign-in, consent, sign-out and account-activation pages.

These are OAuth endpoints, not /api/v1 operations: their errors are RFC 6749 JSON errors
(token endpoints) or HTML pages, never problem+json.
"""

from __future__ import annotations

import hmac
import math
import secrets
import time
import uuid
from urllib.parse import urlsplit

from authlib.oauth2 import OAuth2Error
from flask import (
    Blueprint,
    Response,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from cbs_network.core.db import session as db_session
from cbs_network.core.errors import Conflict, NotFound, ValidationFailed
from cbs_network.identity.models import User
from cbs_network.identity.roles import SCOPES
from cbs_network.identity.service import accept_invitation, accept_membership, decline_membership
from cbs_network.oauth import service
from cbs_network.oauth.server import authorization, metadata

bp = Blueprint("oauth", __name__, template_folder="templates")

# A sign-in lasts a working day; the cookie itself is signed but cannot be revoked server-side.
SESSION_MAX_AGE_SECONDS = 12 * 3600
GENERIC_LOGIN_ERROR = "Wrong email or password."


# Security headers (strict CSP, no framing, no caching, no referrer) come from
# cbs_network/http/headers.py, like every page's.


@bp.errorhandler(OAuth2Error)
def oauth_error(error: OAuth2Error) -> Response:
    # e.g. InsecureTransportError, raised by Authlib before its own error handling starts
    return authorization.handle_error_response(None, error)


# --- token endpoints ----------------------------------------------------------------------


def _commit_if_ok(response: Response) -> Response:
    session = db_session()
    if response.status_code < 400:
        session.commit()
    else:
        session.rollback()
    return response


@bp.post("/oauth/token")
def issue_token() -> Response:
    return _commit_if_ok(authorization.create_token_response())


@bp.post("/oauth/revoke")
def revoke_token() -> Response:
    return _commit_if_ok(authorization.create_endpoint_response("revocation"))


@bp.post("/oauth/introspect")
def introspect_token() -> Response:
    return _commit_if_ok(authorization.create_endpoint_response("introspection"))


@bp.get("/.well-known/oauth-authorization-server")
def server_metadata() -> Response:
    response = jsonify(metadata())
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


# --- browser session and CSRF -------------------------------------------------------------


def _csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def _csrf_ok() -> bool:
    expected, given = session.get("csrf", ""), request.form.get("csrf_token", "")
    # bytes: compare_digest refuses non-ASCII str, which a forged form can contain
    return bool(expected and given) and hmac.compare_digest(expected.encode(), given.encode())


def _csrf_failed() -> tuple[str, int]:
    return _page(
        "oauth_message.html",
        400,
        title="Form expired",
        message="The form was stale or not sent from this site. Go back, reload the page and try again.",
    )


def _current_user() -> User | None:
    user_id, signed_in_at = session.get("user_id"), session.get("signed_in_at", 0)
    if not user_id or time.time() - signed_in_at > SESSION_MAX_AGE_SECONDS:
        return None
    user = db_session().get(User, uuid.UUID(user_id))
    # Deactivated users lose their session on the next request.
    return user if user is not None and user.is_active and user.password_hash else None


def _page(template: str, status: int = 200, **context) -> tuple[str, int]:
    user = _current_user()
    pending = service.pending_memberships(user) if user else []
    return render_template(template, csrf_token=_csrf_token(), user=user, pending=pending, **context), status


def _safe_next(target: str | None) -> str | None:
    """Only a path on this host: no scheme, no host, no `//host` or `/\\host` tricks."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return None
    if "\\" in target or any(ord(c) < 32 for c in target):
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None


# --- sign-in and sign-out -----------------------------------------------------------------


@bp.route("/oauth/login", methods=["GET", "POST"])
def login():
    next_url = _safe_next(request.values.get("next"))
    if request.method == "GET":
        return _page("oauth_login.html", next_url=next_url, email="")
    if not _csrf_ok():
        return _csrf_failed()
    email = request.form.get("email", "").strip().lower()
    password = request.form.get("password", "")
    throttle: service.LoginThrottle = current_app.extensions["cbs_login_throttle"]
    address = request.remote_addr or "unknown"
    retry_after = throttle.retry_after(email, address)
    if retry_after is not None:
        # Refused before the password is looked at, so guessing gains nothing.
        body, status = _page(
            "oauth_login.html",
            429,
            next_url=next_url,
            email=email,
            retry_after=retry_after,
            error=f"Too many failed sign-ins. Try again in {math.ceil(retry_after / 60)} minute(s).",
        )
        return body, status, {"Retry-After": str(retry_after)}
    db = db_session()
    user = service.authenticate_user(db, email, password)
    if user is None:
        db.rollback()
        throttle.failed(email, address)
        return _page("oauth_login.html", 200, next_url=next_url, email=email, error=GENERIC_LOGIN_ERROR)
    db.commit()
    throttle.succeeded(email)
    # A fresh session (no fixation) with a fresh CSRF token.
    session.clear()
    session["user_id"] = str(user.id)
    session["signed_in_at"] = int(time.time())
    session["csrf"] = secrets.token_urlsafe(32)
    return redirect(next_url or url_for("oauth.login"), 303)


@bp.route("/oauth/logout", methods=["GET", "POST"])
def logout():
    if request.method == "GET":
        return _page("oauth_logout.html")
    if not _csrf_ok():
        return _csrf_failed()
    session.clear()
    return _page("oauth_message.html", title="Signed out", message="You are signed out.")


# --- authorization endpoint ---------------------------------------------------------------


@bp.route("/oauth/authorize", methods=["GET", "POST"])
def authorize():
    if request.method == "POST" and not _csrf_ok():
        return _csrf_failed()
    user = _current_user()
    try:
        # Validates client, redirect URI, response type, scopes and PKCE before anything else.
        grant = authorization.get_consent_grant(end_user=user)
    except OAuth2Error as error:
        return _authorize_error(error)
    if user is None:
        return redirect(url_for("oauth.login", next=request.full_path), 303)

    client = grant.client
    memberships = service.active_memberships(user, client)
    scopes = [(name, SCOPES.get(name, "")) for name in (grant.request.scope or "").split()]
    context = dict(client=client, scopes=scopes, memberships=memberships, action=request.full_path)
    if request.method == "GET":
        if not memberships:
            return _page("oauth_consent.html", 403, **context)
        return _page("oauth_consent.html", **context)

    if request.form.get("decision") != "allow":
        return authorization.create_authorization_response(grant=grant, grant_user=None)
    chosen = {str(m.organization_id): m for m in memberships}.get(request.form.get("organization_id", ""))
    if chosen is None:
        return _page("oauth_consent.html", 400 if memberships else 403, error="Choose an organization to act for.", **context)
    grant.request.acting_organization_id = chosen.organization_id  # stored on the code
    response = authorization.create_authorization_response(grant=grant, grant_user=user)
    db_session().commit()
    return response


def _authorize_error(error: OAuth2Error):
    if error.redirect_uri:
        # The client and its redirect URI are verified: the client hears about the error.
        return authorization.handle_error_response(None, error)
    # Unknown client or unregistered redirect URI: never redirect (RFC 6749 §4.1.2.1).
    return _page(
        "oauth_message.html",
        400,
        title="Invalid authorization request",
        message=f"{error.error}: {error.description or 'The request is not valid.'}",
    )


# --- invitation ---------------------------------------------------------------------------


@bp.post("/account/memberships/<uuid:membership_id>")
def answer_membership(membership_id: uuid.UUID):
    """Accept or decline, on the signed-in page, a membership an organization offered you."""
    if not _csrf_ok():
        return _csrf_failed()
    user = _current_user()
    if user is None:
        return redirect(url_for("oauth.login"), 303)
    db = db_session()
    answer = accept_membership if request.form.get("decision") == "accept" else decline_membership
    try:
        answer(session=db, user_id=user.id, membership_id=membership_id)
    except (NotFound, Conflict) as error:
        db.rollback()
        return _page("oauth_message.html", error.status, title="Invitation", message=error.detail, sign_in_link=True)
    db.commit()
    return redirect(url_for("oauth.login"), 303)


@bp.route("/account/activate", methods=["GET", "POST"])
def activate():
    token = request.values.get("token", "")
    if request.method == "GET":
        return _page("oauth_activate.html", token=token)
    if not _csrf_ok():
        return _csrf_failed()
    password = request.form.get("password", "")
    if password != request.form.get("password_confirmation", ""):
        return _page("oauth_activate.html", 422, token=token, error="The two passwords differ.")
    db = db_session()
    try:
        user = accept_invitation(session=db, token=token, password=password)
    except (NotFound, ValidationFailed) as error:
        db.rollback()
        return _page("oauth_activate.html", error.status, token=token, error=error.detail)
    db.commit()
    return _page(
        "oauth_message.html",
        title="Account activated",
        message=f"Your password is set, {user.name}. You can now sign in.",
        sign_in_link=True,
    )
