"""End-to-end OAuth flows against a live hub, driven by a real OAuth client library
(Authlib's requests OAuth2Session) and a cookie-keeping requests session as the browser.

The hub runs in a background thread over its own migrated database, so every request commits
for real, as in production.
"""

from __future__ import annotations

import html
import re
import threading
import uuid
from dataclasses import dataclass
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session, OAuthError
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata
from sqlalchemy import select, update
from werkzeug.serving import make_server

from cbs_network import create_app
from cbs_network.audit.models import AuditRecord
from cbs_network.identity.models import User
from cbs_network.identity.roles import Role
from cbs_network.oauth.models import OAuthClient, OAuthToken, token_hash
from cbs_network.organizations.models import Organization, OrganizationKind, OrganizationStatus

from . import factories
from .conftest import is_postgres, make_settings

REDIRECT_URI = "https://app.example/callback"
OTHER_REDIRECT_URI = "https://app.example/other-callback"
SECRET = "secret"  # factories.OAuthClientFactory's


@dataclass
class Hub:
    app: object
    url: str

    def db(self):  # type: ignore[no-untyped-def]
        """A plain session on the hub's database (real commits)."""
        session = self.app.extensions["cbs_db"].session_factory()
        factories.bind(session)
        return session

    def endpoint(self, path: str) -> str:
        return self.url + path


@dataclass
class Seed:
    hub_org: Organization
    cbo: Organization
    district: Organization
    email: str
    user_id: uuid.UUID
    clients: dict[str, str]  # name -> client_id


@pytest.fixture(scope="module")
def hub(make_database_url):  # type: ignore[no-untyped-def]
    app = create_app(make_settings(make_database_url()), TESTING=True, RATELIMIT_ENABLED=False)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    app.config["CBS_SETTINGS"].public_url = url  # the issuer is only known once the port is
    yield Hub(app, url)
    server.shutdown()
    thread.join(5)
    app.extensions["cbs_db"].engine.dispose()


@pytest.fixture(scope="module")
def seed(hub: Hub) -> Seed:
    s = hub.db()
    hub_org = factories.OrganizationFactory(kind=OrganizationKind.network_hub, name="Hub")
    cbo = factories.OrganizationFactory(kind=OrganizationKind.cbo, name="Safe Passages CBO")
    district = factories.OrganizationFactory(kind=OrganizationKind.school_district, name="Unified District")
    membership = factories.MembershipFactory(organization=cbo, role=Role.org_admin)
    factories.MembershipFactory(user=membership.user, organization=district, role=Role.viewer)
    user_scopes = "organizations:read users:read"
    specs = {
        "basic": dict(organization=cbo, grant_types=["client_credentials"], scope=user_scopes),
        "post": dict(
            organization=cbo,
            grant_types=["client_credentials"],
            scope=user_scopes,
            token_endpoint_auth_method="client_secret_post",
        ),
        "web": dict(
            organization=cbo,
            grant_types=["authorization_code", "refresh_token"],
            scope=user_scopes,
            redirect_uris=[REDIRECT_URI, OTHER_REDIRECT_URI],
        ),
        # The hub's own public client, network-wide like the explorer; "web" is the CBO's and acts only for it.
        "spa": dict(
            organization=hub_org,
            grant_types=["authorization_code", "refresh_token"],
            scope=user_scopes,
            redirect_uris=[REDIRECT_URI],
            token_endpoint_auth_method="none",
            client_secret_hash=None,
            network_wide=True,
        ),
        "introspector": dict(organization=hub_org, grant_types=["client_credentials"], scope="organizations:read"),
    }
    clients = {name: factories.OAuthClientFactory(**spec).client_id for name, spec in specs.items()}
    s.commit()
    result = Seed(hub_org, cbo, district, membership.user.email, membership.user.id, clients)
    s.close()
    return result


# --- helpers ------------------------------------------------------------------------------


def form_value(page: str, name: str) -> str:
    match = re.search(rf'name="{name}"[^>]*value="([^"]*)"', page)
    assert match, f"no {name} in page"
    return html.unescape(match.group(1))


def option_values(page: str) -> list[str]:
    return [html.unescape(v) for v in re.findall(r'<option value="([^"]*)"', page)]


def sign_in(
    hub: Hub, browser: requests.Session, email: str, password: str = factories.PASSWORD, next_url: str | None = None
) -> requests.Response:
    page = browser.get(hub.endpoint("/oauth/login"), params={"next": next_url} if next_url else None)
    data = {"csrf_token": form_value(page.text, "csrf_token"), "email": email, "password": password}
    if next_url:
        data["next"] = form_value(page.text, "next")
    return browser.post(hub.endpoint("/oauth/login"), data=data, allow_redirects=False)


def authorize_in_browser(
    hub: Hub, authorization_url: str, email: str, *, decision: str = "allow", organization_id: str | None = None
) -> str:
    """Sign in and answer the consent page like a person would; returns the redirect Location."""
    browser = requests.Session()
    response = browser.get(authorization_url, allow_redirects=False)
    assert response.status_code == 303, response.text
    login_url = urljoin(hub.url, response.headers["Location"])
    assert urlsplit(login_url).path == "/oauth/login"
    next_url = parse_qs(urlsplit(login_url).query)["next"][0]
    response = sign_in(hub, browser, email, next_url=next_url)
    assert response.status_code == 303, response.text
    consent_url = urljoin(hub.url, response.headers["Location"])
    page = browser.get(consent_url)
    assert page.status_code == 200, page.text
    assert page.headers["X-Frame-Options"] == "DENY"
    data = {
        "csrf_token": form_value(page.text, "csrf_token"),
        "organization_id": organization_id or option_values(page.text)[0],
        "decision": decision,
    }
    response = browser.post(consent_url, data=data, allow_redirects=False)
    assert response.status_code == 302, response.text
    return response.headers["Location"]


def code_client(hub: Hub, seed: Seed, name: str = "web", **kwargs) -> OAuth2Session:  # type: ignore[no-untyped-def]
    public = name == "spa"
    return OAuth2Session(
        client_id=seed.clients[name],
        client_secret=None if public else SECRET,
        token_endpoint_auth_method="none" if public else None,
        redirect_uri=kwargs.pop("redirect_uri", REDIRECT_URI),
        scope=kwargs.pop("scope", "organizations:read"),
        code_challenge_method="S256",
        **kwargs,
    )


def user_token(hub: Hub, seed: Seed, name: str = "web", organization_id: str | None = None) -> tuple[OAuth2Session, dict]:
    client = code_client(hub, seed, name)
    verifier = generate_token(48)
    url, _state = client.create_authorization_url(hub.endpoint("/oauth/authorize"), code_verifier=verifier)
    location = authorize_in_browser(hub, url, seed.email, organization_id=organization_id)
    token = client.fetch_token(hub.endpoint("/oauth/token"), authorization_response=location, code_verifier=verifier)
    return client, token


def api_status(hub: Hub, access_token: str) -> int:
    return requests.get(hub.endpoint("/api/v1/organizations"), headers={"Authorization": f"Bearer {access_token}"}).status_code


def oauth_error(excinfo: pytest.ExceptionInfo) -> str:
    return excinfo.value.error


# --- client credentials -------------------------------------------------------------------


def test_client_credentials_basic_issues_a_hashed_token_without_refresh(hub, seed):
    client = OAuth2Session(seed.clients["basic"], SECRET, scope="organizations:read")
    token = client.fetch_token(hub.endpoint("/oauth/token"), grant_type="client_credentials")
    assert token["token_type"] == "Bearer"
    assert token["scope"] == "organizations:read"
    assert "refresh_token" not in token
    assert token["expires_in"] == hub.app.config["CBS_SETTINGS"].access_token_ttl

    response = client.get(hub.endpoint("/api/v1/organizations"))
    assert response.status_code == 200, response.text

    with hub.db() as s:
        row = s.scalar(select(OAuthToken).where(OAuthToken.access_token_hash == token_hash(token["access_token"])))
        assert row is not None
        assert row.organization_id == seed.cbo.id and row.user_id is None
        assert row.refresh_token_hash is None
        stored = {column.name: getattr(row, column.key) for column in OAuthToken.__table__.columns}
        assert token["access_token"] not in {str(v) for v in stored.values()}


def test_client_credentials_post_and_default_scope(hub, seed):
    client = OAuth2Session(seed.clients["post"], SECRET, token_endpoint_auth_method="client_secret_post")
    token = client.fetch_token(hub.endpoint("/oauth/token"), grant_type="client_credentials")
    assert set(token["scope"].split()) == {"organizations:read", "users:read"}  # no scope asked: the client's


def test_token_responses_are_not_cacheable(hub, seed):
    ok = requests.post(
        hub.endpoint("/oauth/token"), data={"grant_type": "client_credentials"}, auth=(seed.clients["basic"], SECRET)
    )
    bad = requests.post(
        hub.endpoint("/oauth/token"), data={"grant_type": "client_credentials"}, auth=(seed.clients["basic"], "wrong")
    )
    for response in (ok, bad):
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["Content-Type"].startswith("application/json")
    assert ok.status_code == 200
    assert bad.status_code == 401 and bad.json()["error"] == "invalid_client"
    assert "WWW-Authenticate" in bad.headers


@pytest.mark.parametrize(
    ("name", "secret", "kwargs", "error"),
    [
        ("basic", "wrong", {}, "invalid_client"),
        ("basic", SECRET, {"token_endpoint_auth_method": "client_secret_post"}, "invalid_client"),
        ("basic", SECRET, {"scope": "organizations:read no-such:scope"}, "invalid_scope"),
        ("basic", SECRET, {"scope": "audit:read"}, "invalid_scope"),  # known, but not the client's
        ("spa", None, {"token_endpoint_auth_method": "none"}, "invalid_client"),  # public: no client credentials
        ("web", SECRET, {}, "unauthorized_client"),  # not registered for client_credentials
    ],
)
def test_client_credentials_refusals(hub, seed, name, secret, kwargs, error):
    client = OAuth2Session(seed.clients[name], secret, **kwargs)
    with pytest.raises(OAuthError) as excinfo:
        client.fetch_token(hub.endpoint("/oauth/token"), grant_type="client_credentials")
    assert oauth_error(excinfo) == error


def test_no_password_or_implicit_grant(hub, seed):
    response = requests.post(
        hub.endpoint("/oauth/token"),
        auth=(seed.clients["basic"], SECRET),
        data={"grant_type": "password", "username": seed.email, "password": factories.PASSWORD},
    )
    assert response.json()["error"] == "unsupported_grant_type"
    response = requests.get(
        hub.endpoint("/oauth/authorize"),
        allow_redirects=False,
        params={"response_type": "token", "client_id": seed.clients["spa"], "redirect_uri": REDIRECT_URI},
    )
    assert response.status_code == 302
    assert parse_qs(urlsplit(response.headers["Location"]).query)["error"] == ["unsupported_response_type"]


def test_suspended_organization_gets_no_token_and_its_tokens_are_refused(hub, seed):
    with hub.db() as s:
        org = factories.OrganizationFactory(name="Soon suspended")
        client_id = factories.OAuthClientFactory(organization=org, grant_types=["client_credentials"]).client_id
        s.commit()
        org_id = org.id
    client = OAuth2Session(client_id, SECRET)
    token = client.fetch_token(hub.endpoint("/oauth/token"), grant_type="client_credentials")
    assert api_status(hub, token["access_token"]) == 200

    with hub.db() as s:
        s.execute(update(Organization).where(Organization.id == org_id).values(status=OrganizationStatus.suspended))
        s.commit()
    assert api_status(hub, token["access_token"]) == 401
    with pytest.raises(OAuthError) as excinfo:
        client.fetch_token(hub.endpoint("/oauth/token"), grant_type="client_credentials")
    assert oauth_error(excinfo) == "unauthorized_client"


# --- authorization code + PKCE ------------------------------------------------------------


@pytest.mark.parametrize("name", ["web", "spa"])
def test_authorization_code_with_pkce(hub, seed, name):
    acting = seed.district if name == "spa" else seed.cbo  # the CBO's own client acts only for the CBO
    client, token = user_token(hub, seed, name, organization_id=str(acting.id))
    assert token["scope"] == "organizations:read"
    assert token["refresh_token"]
    assert client.get(hub.endpoint("/api/v1/organizations")).status_code == 200
    with hub.db() as s:
        row = s.scalar(select(OAuthToken).where(OAuthToken.access_token_hash == token_hash(token["access_token"])))
        assert row.user_id == seed.user_id
        assert row.organization_id == acting.id  # the organization chosen at consent
        assert row.refresh_token_hash == token_hash(token["refresh_token"])
        assert row.refresh_expires_at is not None


def test_consent_page_lists_client_scopes_and_active_organizations(hub, seed):
    with hub.db() as s:
        suspended = factories.OrganizationFactory(name="Suspended Org", status=OrganizationStatus.suspended)
        factories.MembershipFactory(user=s.get(User, seed.user_id), organization=suspended)
        s.commit()
    client = code_client(hub, seed, "spa", scope="organizations:read users:read")
    url, _ = client.create_authorization_url(hub.endpoint("/oauth/authorize"), code_verifier=generate_token(48))
    browser = requests.Session()
    sign_in(hub, browser, seed.email)
    page = browser.get(url)
    assert page.status_code == 200
    assert "Read the network&#39;s member organizations" in page.text
    assert "Read the users and memberships of your organization" in page.text
    assert set(option_values(page.text)) == {str(seed.cbo.id), str(seed.district.id)}
    assert "Suspended Org" not in page.text


def test_a_client_an_organization_registered_acts_only_for_it(hub, seed):
    """Consent phishing: the CBO's client must not get a token acting for the district, though its
    user belongs to both."""
    client = code_client(hub, seed, "web")
    url, _ = client.create_authorization_url(hub.endpoint("/oauth/authorize"), code_verifier=generate_token(48))
    browser = requests.Session()
    sign_in(hub, browser, seed.email)
    page = browser.get(url)
    assert page.status_code == 200
    assert "Safe Passages CBO" in page.text and "acts only for Safe Passages CBO" in page.text
    assert option_values(page.text) == [str(seed.cbo.id)]
    forged = browser.post(
        url,
        allow_redirects=False,
        data={"csrf_token": form_value(page.text, "csrf_token"), "organization_id": str(seed.district.id), "decision": "allow"},
    )
    assert forged.status_code == 400 and "Location" not in forged.headers


def test_a_token_of_an_organization_bound_client_acting_elsewhere_is_refused(hub, seed):
    """Tokens issued before a client lost network-wide reach (or forged rows) are refused at once."""
    with hub.db() as s:
        web = s.scalar(select(OAuthClient).where(OAuthClient.client_id == seed.clients["web"]))
        elsewhere = factories.issue_token(
            s, client=web, user=s.get(User, seed.user_id), organization=s.get(Organization, seed.district.id)
        )
        own = factories.issue_token(s, client=web, user=s.get(User, seed.user_id), organization=s.get(Organization, seed.cbo.id))
    assert api_status(hub, elsewhere) == 401
    assert api_status(hub, own) == 200


def test_consent_deny_returns_access_denied(hub, seed):
    client = code_client(hub, seed)
    url, state = client.create_authorization_url(hub.endpoint("/oauth/authorize"), code_verifier=generate_token(48))
    location = authorize_in_browser(hub, url, seed.email, decision="deny")
    assert location.startswith(REDIRECT_URI)
    params = parse_qs(urlsplit(location).query)
    assert params["error"] == ["access_denied"] and params["state"] == [state]
    assert "code" not in params


def _authorize_params(seed: Seed, **changes) -> dict:  # type: ignore[no-untyped-def]
    params = {
        "response_type": "code",
        "client_id": seed.clients["web"],
        "redirect_uri": REDIRECT_URI,
        "scope": "organizations:read",
        "state": "s1",
        "code_challenge": create_s256_code_challenge(generate_token(48)),
        "code_challenge_method": "S256",
    }
    params.update(changes)
    return {k: v for k, v in params.items() if v is not None}


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"code_challenge": None, "code_challenge_method": None}, "invalid_request"),
        ({"code_challenge_method": None}, "invalid_request"),  # absent method means plain (RFC 7636)
        ({"code_challenge_method": "plain", "code_challenge": "a" * 43}, "invalid_request"),
        ({"scope": "organizations:read made:up"}, "invalid_scope"),
        ({"scope": "audit:read"}, "invalid_scope"),
    ],
)
def test_bad_authorization_requests_are_returned_to_the_client(hub, seed, changes, error):
    response = requests.get(hub.endpoint("/oauth/authorize"), params=_authorize_params(seed, **changes), allow_redirects=False)
    assert response.status_code == 302
    assert response.headers["Location"].startswith(REDIRECT_URI)
    params = parse_qs(urlsplit(response.headers["Location"]).query)
    assert params["error"] == [error] and params["state"] == ["s1"]


@pytest.mark.parametrize(
    "changes",
    [
        {"redirect_uri": "https://evil.example/callback"},
        {"redirect_uri": REDIRECT_URI + "/more"},
        {"redirect_uri": REDIRECT_URI + "?next=https://evil.example"},
        {"client_id": "no-such-client"},
    ],
)
def test_unregistered_redirect_uri_or_client_is_refused_without_redirect(hub, seed, changes):
    response = requests.get(hub.endpoint("/oauth/authorize"), params=_authorize_params(seed, **changes), allow_redirects=False)
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert "Invalid authorization request" in response.text


def test_wrong_code_verifier_is_refused(hub, seed):
    client = code_client(hub, seed)
    url, _ = client.create_authorization_url(hub.endpoint("/oauth/authorize"), code_verifier=generate_token(48))
    location = authorize_in_browser(hub, url, seed.email)
    with pytest.raises(OAuthError) as excinfo:
        client.fetch_token(hub.endpoint("/oauth/token"), authorization_response=location, code_verifier=generate_token(48))
    assert oauth_error(excinfo) == "invalid_grant"


def test_missing_code_verifier_is_refused_for_confidential_clients(hub, seed):
    client = code_client(hub, seed)
    url, _ = client.create_authorization_url(hub.endpoint("/oauth/authorize"), code_verifier=generate_token(48))
    location = authorize_in_browser(hub, url, seed.email)
    with pytest.raises(OAuthError) as excinfo:
        client.fetch_token(hub.endpoint("/oauth/token"), authorization_response=location)
    assert oauth_error(excinfo) == "invalid_request"


def test_code_is_single_use(hub, seed):
    client = code_client(hub, seed)
    verifier = generate_token(48)
    url, _ = client.create_authorization_url(hub.endpoint("/oauth/authorize"), code_verifier=verifier)
    location = authorize_in_browser(hub, url, seed.email)
    token = client.fetch_token(hub.endpoint("/oauth/token"), authorization_response=location, code_verifier=verifier)
    assert api_status(hub, token["access_token"]) == 200
    with pytest.raises(OAuthError) as excinfo:
        client.fetch_token(hub.endpoint("/oauth/token"), authorization_response=location, code_verifier=verifier)
    assert oauth_error(excinfo) == "invalid_grant"
    # The code came back, so it may have leaked: what it issued is revoked (RFC 6749 §4.1.2).
    assert api_status(hub, token["access_token"]) == 401


def test_code_is_bound_to_its_redirect_uri_and_client(hub, seed):
    client = code_client(hub, seed)
    verifier = generate_token(48)
    url, _ = client.create_authorization_url(hub.endpoint("/oauth/authorize"), code_verifier=verifier)
    location = authorize_in_browser(hub, url, seed.email)
    with pytest.raises(OAuthError) as excinfo:
        client.fetch_token(
            hub.endpoint("/oauth/token"), authorization_response=location, code_verifier=verifier, redirect_uri=OTHER_REDIRECT_URI
        )
    assert oauth_error(excinfo) == "invalid_grant"
    other = code_client(hub, seed, "spa")
    with pytest.raises(OAuthError) as excinfo:
        other.fetch_token(hub.endpoint("/oauth/token"), authorization_response=location, code_verifier=verifier)
    assert oauth_error(excinfo) == "invalid_grant"


def test_user_without_active_membership_cannot_authorize(hub, seed):
    with hub.db() as s:
        suspended = factories.OrganizationFactory(status=OrganizationStatus.suspended)
        membership = factories.MembershipFactory(organization=suspended)
        s.commit()
        email, org_id = membership.user.email, str(suspended.id)
    client = code_client(hub, seed)
    url, _ = client.create_authorization_url(hub.endpoint("/oauth/authorize"), code_verifier=generate_token(48))
    browser = requests.Session()
    browser.get(url, allow_redirects=False)
    assert sign_in(hub, browser, email).status_code == 303
    page = browser.get(url, allow_redirects=False)
    assert page.status_code == 403
    assert "not an active member of any organization this application" in page.text
    assert 'value="allow"' not in page.text
    forged = browser.post(
        url,
        allow_redirects=False,
        data={"csrf_token": form_value(page.text, "csrf_token"), "organization_id": org_id, "decision": "allow"},
    )
    assert forged.status_code == 403
    assert "Location" not in forged.headers


def test_consent_for_an_organization_the_user_does_not_belong_to_is_refused(hub, seed):
    client = code_client(hub, seed)
    url, _ = client.create_authorization_url(hub.endpoint("/oauth/authorize"), code_verifier=generate_token(48))
    browser = requests.Session()
    browser.get(url, allow_redirects=False)
    sign_in(hub, browser, seed.email)
    page = browser.get(url)
    forged = browser.post(
        url,
        allow_redirects=False,
        data={"csrf_token": form_value(page.text, "csrf_token"), "organization_id": str(seed.hub_org.id), "decision": "allow"},
    )
    assert forged.status_code == 400
    no_csrf = browser.post(url, allow_redirects=False, data={"organization_id": str(seed.cbo.id), "decision": "allow"})
    assert no_csrf.status_code == 400 and "Location" not in no_csrf.headers


# --- refresh tokens -----------------------------------------------------------------------


def test_refresh_rotation_and_reuse_detection(hub, seed):
    client, first = user_token(hub, seed)
    second = dict(client.refresh_token(hub.endpoint("/oauth/token"), refresh_token=first["refresh_token"]))
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    third = dict(client.refresh_token(hub.endpoint("/oauth/token"), refresh_token=second["refresh_token"]))
    assert api_status(hub, third["access_token"]) == 200

    with hub.db() as s:
        rows = s.scalars(
            select(OAuthToken).where(
                OAuthToken.refresh_token_hash.in_([token_hash(t["refresh_token"]) for t in (first, second, third)])
            )
        ).all()
        assert len({row.family_id for row in rows}) == 1
        family_id = rows[0].family_id

    # Replaying a rotated-out refresh token: refused, and the whole family is revoked.
    with pytest.raises(OAuthError) as excinfo:
        client.refresh_token(hub.endpoint("/oauth/token"), refresh_token=first["refresh_token"])
    assert oauth_error(excinfo) == "invalid_grant"
    assert api_status(hub, third["access_token"]) == 401
    with pytest.raises(OAuthError) as excinfo:
        client.refresh_token(hub.endpoint("/oauth/token"), refresh_token=third["refresh_token"])
    assert oauth_error(excinfo) == "invalid_grant"

    with hub.db() as s:
        record = s.scalar(
            select(AuditRecord).where(AuditRecord.action == "oauth.token_family_revoked", AuditRecord.object_id == str(family_id))
        )
        assert record is not None


def test_refresh_may_narrow_but_not_widen_scope(hub, seed):
    client, token = user_token(hub, seed)
    with pytest.raises(OAuthError) as excinfo:
        client.refresh_token(
            hub.endpoint("/oauth/token"), refresh_token=token["refresh_token"], scope="organizations:read users:read"
        )
    assert oauth_error(excinfo) == "invalid_scope"
    refreshed = client.refresh_token(hub.endpoint("/oauth/token"), refresh_token=token["refresh_token"])
    assert refreshed["scope"] == "organizations:read"


def test_refresh_token_of_another_client_is_refused(hub, seed):
    _client, token = user_token(hub, seed, "web")
    other = code_client(hub, seed, "spa")
    with pytest.raises(OAuthError) as excinfo:
        other.refresh_token(hub.endpoint("/oauth/token"), refresh_token=token["refresh_token"])
    assert oauth_error(excinfo) == "invalid_grant"


# --- races (PostgreSQL: real row locks) ---------------------------------------------------

on_postgres = pytest.mark.skipif(not is_postgres(), reason="real concurrency is tested on PostgreSQL")


def _race(hub: Hub, seed: Seed, data: dict) -> list[requests.Response]:
    barrier, results = threading.Barrier(2), []

    def post() -> None:
        barrier.wait()
        results.append(requests.post(hub.endpoint("/oauth/token"), data=data, auth=(seed.clients["web"], SECRET)))

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


@pytest.mark.postgres
@on_postgres
def test_a_code_redeemed_twice_at_once_gives_one_token(hub, seed):
    client = code_client(hub, seed)
    verifier = generate_token(48)
    url, _ = client.create_authorization_url(hub.endpoint("/oauth/authorize"), code_verifier=verifier)
    code = parse_qs(urlsplit(authorize_in_browser(hub, url, seed.email)).query)["code"][0]
    results = _race(
        hub, seed, {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI, "code_verifier": verifier}
    )
    assert sorted(r.status_code for r in results) == [200, 400]
    assert next(r for r in results if r.status_code == 400).json()["error"] == "invalid_grant"


@pytest.mark.postgres
@on_postgres
def test_a_refresh_token_presented_twice_at_once_revokes_the_family(hub, seed):
    _client, token = user_token(hub, seed)
    results = _race(hub, seed, {"grant_type": "refresh_token", "refresh_token": token["refresh_token"]})
    assert sorted(r.status_code for r in results) == [200, 400]
    winner = next(r for r in results if r.status_code == 200).json()
    assert api_status(hub, winner["access_token"]) == 401


# --- revocation (RFC 7009) ----------------------------------------------------------------


def test_revoking_an_access_token(hub, seed):
    client = OAuth2Session(seed.clients["basic"], SECRET)
    token = client.fetch_token(hub.endpoint("/oauth/token"), grant_type="client_credentials")
    assert api_status(hub, token["access_token"]) == 200
    response = client.revoke_token(hub.endpoint("/oauth/revoke"), token=token["access_token"], token_type_hint="access_token")
    assert response.status_code == 200
    assert api_status(hub, token["access_token"]) == 401
    # Unknown tokens are not an error (RFC 7009 §2.2).
    assert client.revoke_token(hub.endpoint("/oauth/revoke"), token="no-such-token").status_code == 200


def test_revoking_a_refresh_token_ends_the_family(hub, seed):
    client, first = user_token(hub, seed, "spa")  # a public client revokes with its client_id only
    second = dict(client.refresh_token(hub.endpoint("/oauth/token"), refresh_token=first["refresh_token"]))
    response = client.revoke_token(hub.endpoint("/oauth/revoke"), token=second["refresh_token"], token_type_hint="refresh_token")
    assert response.status_code == 200, response.text
    assert api_status(hub, second["access_token"]) == 401
    with pytest.raises(OAuthError) as excinfo:
        client.refresh_token(hub.endpoint("/oauth/token"), refresh_token=second["refresh_token"])
    assert oauth_error(excinfo) == "invalid_grant"


def test_a_client_cannot_revoke_another_clients_token(hub, seed):
    owner = OAuth2Session(seed.clients["basic"], SECRET)
    token = owner.fetch_token(hub.endpoint("/oauth/token"), grant_type="client_credentials")
    other = OAuth2Session(seed.clients["introspector"], SECRET)
    response = other.revoke_token(hub.endpoint("/oauth/revoke"), token=token["access_token"])
    assert response.status_code == 400
    assert api_status(hub, token["access_token"]) == 200


# --- introspection (RFC 7662) -------------------------------------------------------------


def _introspect(hub: Hub, seed: Seed, name: str, token: str, secret: str | None = SECRET) -> requests.Response:
    return requests.post(hub.endpoint("/oauth/introspect"), data={"token": token}, auth=(seed.clients[name], secret))


def test_introspection(hub, seed):
    _client, token = user_token(hub, seed, organization_id=str(seed.cbo.id))
    body = _introspect(hub, seed, "introspector", token["access_token"]).json()
    assert body["active"] is True
    assert body["scope"] == "organizations:read"
    assert body["client_id"] == seed.clients["web"]
    assert body["sub"] == str(seed.user_id)
    assert body["organization_id"] == str(seed.cbo.id)
    assert body["token_type"] == "Bearer"
    assert body["exp"] - body["iat"] == token["expires_in"]

    # The client itself may look at its own token, through the client library too.
    own = code_client(hub, seed).introspect_token(hub.endpoint("/oauth/introspect"), token=token["access_token"])
    assert own.json()["active"] is True
    refresh = _introspect(hub, seed, "web", token["refresh_token"]).json()
    assert refresh["active"] is True and refresh["token_type"] == "refresh_token"

    # Another (non-hub) client learns nothing.
    assert _introspect(hub, seed, "basic", token["access_token"]).json() == {"active": False}
    # Public clients cannot introspect at all; wrong secrets neither.
    assert (
        requests.post(
            hub.endpoint("/oauth/introspect"), data={"token": token["access_token"], "client_id": seed.clients["spa"]}
        ).status_code
        == 401
    )
    assert _introspect(hub, seed, "web", token["access_token"], "wrong").status_code == 401

    requests.post(hub.endpoint("/oauth/revoke"), data={"token": token["access_token"]}, auth=(seed.clients["web"], SECRET))
    assert _introspect(hub, seed, "introspector", token["access_token"]).json() == {"active": False}
    assert _introspect(hub, seed, "introspector", "no-such-token").json() == {"active": False}


# --- metadata (RFC 8414) ------------------------------------------------------------------


def test_server_metadata(hub):
    response = requests.get(hub.endpoint("/.well-known/oauth-authorization-server"))
    assert response.status_code == 200
    document = response.json()
    AuthorizationServerMetadata(document).validate()
    assert document["issuer"] == hub.url
    assert document["token_endpoint"] == hub.endpoint("/oauth/token")
    assert document["response_types_supported"] == ["code"]
    assert document["code_challenge_methods_supported"] == ["S256"]
    assert set(document["grant_types_supported"]) == {"authorization_code", "client_credentials", "refresh_token"}
    assert "organizations:read" in document["scopes_supported"]
    assert document["revocation_endpoint"] == hub.endpoint("/oauth/revoke")
    assert document["introspection_endpoint"] == hub.endpoint("/oauth/introspect")
    assert "none" not in document["introspection_endpoint_auth_methods_supported"]
