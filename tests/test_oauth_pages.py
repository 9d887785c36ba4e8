"""The sign-in, sign-out and activation pages: CSRF, throttling, open redirects, headers."""

from __future__ import annotations

import html
import re
import secrets
import uuid
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import redis

from cbs_network import create_app
from cbs_network.core.db import utcnow
from cbs_network.identity.models import User
from cbs_network.oauth.models import token_hash

from . import factories
from .conftest import make_settings

GENERIC = "Wrong email or password."


@pytest.fixture(autouse=True)
def fresh_throttle(app):
    """The session-wide test app shares one throttle store; every test starts from zero."""
    app.extensions["cbs_login_throttle"].strategy.storage.reset()


@pytest.fixture
def user(db_session) -> User:
    return factories.MembershipFactory().user


def csrf_of(page: bytes) -> str:
    return html.unescape(re.search(rb'name="csrf_token" value="([^"]*)"', page).group(1).decode())


def login(
    client,
    email: str,
    password: str = factories.PASSWORD,
    *,
    next_url: str | None = None,
    csrf: str | None = None,
    address: str = "127.0.0.1",
):  # type: ignore[no-untyped-def]
    if csrf is None:
        csrf = csrf_of(client.get("/oauth/login").data)
    data = {"csrf_token": csrf, "email": email, "password": password}
    if next_url is not None:
        data["next"] = next_url
    return client.post("/oauth/login", data=data, environ_overrides={"REMOTE_ADDR": address})


def signed_in_user_id(client) -> str | None:  # type: ignore[no-untyped-def]
    with client.session_transaction() as session:
        return session.get("user_id")


def test_pages_are_not_framed_or_cached(client):
    response = client.get("/oauth/login")
    assert response.status_code == 200
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert b'<label for="email">Email</label>' in response.data


def current_session(app):  # type: ignore[no-untyped-def]
    """The test's transaction as the app sees it now (each request closes the previous session)."""
    return app.extensions["cbs_db"].session()


def test_successful_login_regenerates_the_session(app, client, user):
    old_csrf = csrf_of(client.get("/oauth/login").data)
    response = login(client, user.email.upper(), csrf=old_csrf, next_url="/oauth/authorize?client_id=x&state=y")
    assert response.status_code == 303
    assert response.headers["Location"] == "/oauth/authorize?client_id=x&state=y"
    with client.session_transaction() as session:
        assert session["user_id"] == str(user.id)
        assert session["csrf"] != old_csrf
    assert current_session(app).get(User, user.id).last_login_at is not None
    page = client.get("/oauth/login")
    assert user.email.encode() in page.data and b"Sign out" in page.data


@pytest.mark.parametrize("csrf", ["", "wrong", "ünïcode-tøken"])
def test_login_without_the_sessions_csrf_token_is_rejected(client, user, csrf):
    client.get("/oauth/login")
    response = login(client, user.email, csrf=csrf)
    assert response.status_code == 400
    assert signed_in_user_id(client) is None


def test_csrf_token_of_another_session_is_rejected(app, db_session, user):
    with app.test_client() as first, app.test_client() as second:
        token = csrf_of(first.get("/oauth/login").data)
        assert login(second, user.email, csrf=token).status_code == 400


def test_failed_logins_all_look_the_same(client, db_session, user):
    factories.UserFactory(email="invited@example.org", password_hash=None)
    factories.UserFactory(email="inactive@example.org", is_active=False)
    attempts = [
        (user.email, "not the password"),
        ("nobody@example.org", factories.PASSWORD),
        ("invited@example.org", ""),
        ("invited@example.org", factories.PASSWORD),
        ("inactive@example.org", factories.PASSWORD),
    ]
    for email, password in attempts:
        response = login(client, email, password, address=f"10.0.0.{len(email)}")
        assert response.status_code == 200
        assert GENERIC.encode() in response.data
        assert signed_in_user_id(client) is None


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/x",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "http:/evil.example",
        "/\t/evil.example",
        "evil.example",
    ],
)
def test_login_never_redirects_off_site(client, user, target):
    response = login(client, user.email, next_url=target)
    assert response.status_code == 303
    assert response.headers["Location"] == "/oauth/login"


@pytest.fixture
def low_limit(app, monkeypatch):
    """Two failures instead of five: each attempt costs a real argon2 verification."""
    monkeypatch.setattr(app.config["CBS_SETTINGS"], "login_failure_limit", "2 per 15 minutes")
    monkeypatch.setattr(app.config["CBS_SETTINGS"], "login_address_failure_limit", "2 per 15 minutes")


def test_failed_logins_are_throttled_per_email(client, user, low_limit):
    for _ in range(2):
        assert GENERIC.encode() in login(client, user.email, "guess", address="10.0.1.1").data
    # Even the right password is not looked at while the limit holds.
    response = login(client, user.email, address="10.0.1.2")
    assert response.status_code == 429
    assert 0 < int(response.headers["Retry-After"]) <= 15 * 60
    assert b"Too many failed sign-ins" in response.data
    assert signed_in_user_id(client) is None


def test_failed_logins_are_throttled_per_address(client, user, low_limit):
    for n in range(2):
        login(client, f"someone{n}@example.org", "guess", address="10.0.2.1")
    assert login(client, user.email, address="10.0.2.1").status_code == 429
    assert login(client, user.email, address="10.0.2.2").status_code == 303


def test_an_address_tolerates_more_failures_than_one_email(client, user, monkeypatch, app):
    """A district behind one NAT address must not be locked out by a few people's typos."""
    monkeypatch.setattr(app.config["CBS_SETTINGS"], "login_failure_limit", "2 per 15 minutes")
    monkeypatch.setattr(app.config["CBS_SETTINGS"], "login_address_failure_limit", "4 per 15 minutes")
    for n in range(3):
        login(client, f"typo{n}@example.org", "guess", address="10.0.4.1")
    assert login(client, user.email, address="10.0.4.1").status_code == 303


def test_a_successful_login_clears_the_emails_count(client, user, low_limit):
    login(client, user.email, "guess", address="10.0.3.1")
    assert login(client, user.email, address="10.0.3.1").status_code == 303
    login(client, user.email, "guess", address="10.0.3.2")  # without the clearing: 2 failures, throttled
    assert login(client, user.email, address="10.0.3.2").status_code == 303


def test_throttle_uses_the_rate_limiters_own_storage_when_enabled(database_url):
    app = create_app(make_settings(database_url), TESTING=True, RATELIMIT_ENABLED=True)
    try:
        assert app.extensions["cbs_login_throttle"].strategy is app.extensions["cbs_limiter"].limiter
    finally:
        app.extensions["cbs_db"].engine.dispose()


def _redis_url() -> str:
    url = "redis://127.0.0.1:6379/0"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=0.5).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    return url


def test_throttle_is_shared_between_instances_through_redis(database_url):
    settings = make_settings(database_url, ratelimit_storage_uri=_redis_url())
    first = create_app(settings, TESTING=True, RATELIMIT_ENABLED=False)
    second = create_app(settings, TESTING=True, RATELIMIT_ENABLED=False)
    email, address = f"{uuid.uuid4().hex}@example.org", f"10.9.{secrets.randbelow(250)}.{secrets.randbelow(250)}"
    try:
        for _ in range(5):
            first.extensions["cbs_login_throttle"].failed(email, address)
        assert second.extensions["cbs_login_throttle"].retry_after(email, "10.9.255.255") is not None
    finally:
        for app in (first, second):
            app.extensions["cbs_login_throttle"].strategy.clear(
                app.extensions["cbs_login_throttle"]._item("address"), "cbs-login", "address", address
            )
            app.extensions["cbs_db"].engine.dispose()


def test_logout(client, user):
    login(client, user.email)
    page = client.get("/oauth/logout")
    assert page.status_code == 200 and b"Sign out" in page.data
    assert client.post("/oauth/logout", data={"csrf_token": "forged"}).status_code == 400
    assert signed_in_user_id(client) == str(user.id)
    response = client.post("/oauth/logout", data={"csrf_token": csrf_of(page.data)})
    assert response.status_code == 200 and b"You are signed out" in response.data
    assert signed_in_user_id(client) is None


def test_authorize_sends_strangers_to_the_login_page(client, network):
    query = (
        "response_type=code&client_id="
        + network["cbo_admin"].client.client_id
        + "&redirect_uri=http://hub.test/callback&code_challenge="
        + "a" * 43
        + "&code_challenge_method=S256"
    )
    response = client.get("/oauth/authorize?" + query)
    assert response.status_code == 303
    location = urlsplit(response.headers["Location"])
    assert location.path == "/oauth/login"
    assert parse_qs(location.query)["next"] == ["/oauth/authorize?" + query]


def test_deactivated_user_loses_the_session(app, client, user):
    login(client, user.email)
    current_session(app).get(User, user.id).is_active = False
    current_session(app).commit()  # the next request closes this session
    page = client.get("/oauth/login")
    assert b"Sign in</button>" in page.data


# --- account activation -------------------------------------------------------------------


@pytest.fixture
def invitation(db_session) -> tuple[User, str]:
    token = secrets.token_urlsafe(32)
    user = factories.UserFactory(
        password_hash=None, invitation_token_hash=token_hash(token), invitation_expires_at=utcnow() + timedelta(days=1)
    )
    return user, token


def activate(client, token: str, password: str, confirmation: str | None = None):  # type: ignore[no-untyped-def]
    page = client.get(f"/account/activate?token={token}")
    assert page.status_code == 200
    return client.post(
        "/account/activate",
        data={
            "csrf_token": csrf_of(page.data),
            "token": token,
            "password": password,
            "password_confirmation": password if confirmation is None else confirmation,
        },
    )


def test_activation_sets_the_password(client, invitation):
    user, token = invitation
    assert login(client, user.email, "a long new password").status_code == 200  # not yet
    response = activate(client, token, "a long new password")
    assert response.status_code == 200, response.data
    assert b"Account activated" in response.data
    assert login(client, user.email, "a long new password").status_code == 303
    # the link is single-use
    assert activate(client, token, "another long password").status_code == 404


@pytest.mark.parametrize(
    ("password", "confirmation", "status", "message"),
    [
        ("a long new password", "a different password", 422, b"The two passwords differ."),
        ("short", None, 422, b"at least 12 characters"),
    ],
)
def test_activation_errors_are_shown_on_the_page(client, invitation, password, confirmation, status, message):
    _user, token = invitation
    response = activate(client, token, password, confirmation)
    assert response.status_code == status
    assert message in response.data
    assert b'name="password"' in response.data


def test_activation_with_a_bad_link(client, db_session):
    response = activate(client, "not-a-real-token", "a long new password")
    assert response.status_code == 404
    assert b"invalid or has expired" in response.data


def test_activation_requires_csrf(client, invitation):
    _user, token = invitation
    response = client.post(
        "/account/activate",
        data={"token": token, "password": "a long new password", "password_confirmation": "a long new password"},
    )
    assert response.status_code == 400
