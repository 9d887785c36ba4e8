"""Token lookup and revocation, sign-in checks and the failed-login throttle.

Kept apart from Authlib's classes so the grants, endpoints and pages share one version of
each rule (what a usable token is, who may act for which organization).
"""

from __future__ import annotations

import hashlib
import math
import time
import uuid
from dataclasses import dataclass

from flask import Flask
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import STRATEGIES, RateLimiter
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from cbs_network.audit import service as audit
from cbs_network.core.db import utcnow
from cbs_network.identity.models import Membership, MembershipStatus, User
from cbs_network.identity.passwords import hash_password, needs_rehash, verify_password
from cbs_network.oauth.models import OAuthClient, OAuthToken, token_hash
from cbs_network.organizations.models import Organization, OrganizationStatus

# Organizations whose tokens the API refuses (cbs_network.http.security); no new tokens either.
BARRED_STATUSES = (OrganizationStatus.suspended, OrganizationStatus.inactive)


# --- tokens -------------------------------------------------------------------------------


@dataclass
class FoundToken:
    token: OAuthToken
    is_refresh: bool  # the presented string was the refresh token of this row


def find_token(session: Session, value: str) -> FoundToken | None:
    """The token row whose access or refresh token is `value`. token_type_hint is not needed:
    one indexed lookup covers both (RFC 7009 §2.1 lets the server search all types)."""
    digest = token_hash(value)
    row = session.scalar(
        select(OAuthToken).where(or_(OAuthToken.access_token_hash == digest, OAuthToken.refresh_token_hash == digest))
    )
    if row is None:
        return None
    return FoundToken(row, is_refresh=row.refresh_token_hash == digest)


def find_by_refresh_token(session: Session, value: str) -> OAuthToken | None:
    return session.scalar(select(OAuthToken).where(OAuthToken.refresh_token_hash == token_hash(value)))


def revoke_family(session: Session, family_id: uuid.UUID) -> None:
    """Revoke every access and refresh token descended from one authorization."""
    revoke_tokens(session, OAuthToken.family_id == family_id)


def revoke_family_of_reused_code(session: Session, code_hash: str) -> None:
    token = session.scalar(select(OAuthToken).where(OAuthToken.authorization_code_hash == code_hash).limit(1))
    if token is not None:
        revoke_family_after_reuse(session, token, reason="authorization_code_reuse")


def revoke_family_after_reuse(session: Session, token: OAuthToken, *, reason: str = "refresh_token_reuse") -> None:
    """A used refresh token or authorization code came back: it has leaked, so nothing of its
    family may stay usable (RFC 9700 §4.14.2). Committed at once because the request fails."""
    revoke_family(session, token.family_id)
    audit.record(
        session,
        principal=None,
        action="oauth.token_family_revoked",
        object_type="oauth_token_family",
        object_id=token.family_id,
        changes={
            "reason": {"before": None, "after": reason},
            "client_id": {"before": None, "after": token.client_id},
            "user_id": {"before": None, "after": str(token.user_id) if token.user_id else None},
            "organization_id": {"before": None, "after": str(token.organization_id)},
        },
    )
    session.commit()


def acts_for(client: OAuthClient, organization_id: uuid.UUID) -> bool:
    """A client acts for the organization that registered it, or for any when network-wide: a
    client one organization registered must not be handed another's authority by a user who
    belongs to both (consent phishing)."""
    return client.network_wide or client.organization_id == organization_id


def may_act_for(session: Session, user: User | None, organization_id: uuid.UUID) -> bool:
    """The user is active and still an active member of the organization, which may still act."""
    if user is None or not user.is_active:
        return False
    membership = session.scalar(
        select(Membership).where(
            Membership.user_id == user.id,
            Membership.organization_id == organization_id,
            Membership.status == MembershipStatus.active,
        )
    )
    return membership is not None and membership.organization.status not in BARRED_STATUSES


def refusal(
    token: OAuthToken,
    client: OAuthClient | None,
    organization: Organization | None,
    user: User | None,
    membership: Membership | None,
) -> str | None:
    """Why the API must refuse a token's access now, or None: the one statement of the rule that
    the API (cbs_network.http.security) and introspection both apply."""
    if client is None or not client.is_active:
        return "The client this token was issued to is disabled."
    if not acts_for(client, token.organization_id):
        return "The client this token was issued to acts only for the organization that registered it."
    if organization is None or organization.status in BARRED_STATUSES:
        return "The organization this token acts for is not active in the network."
    if token.user_id is not None and (
        user is None or not user.is_active or membership is None or membership.status is not MembershipStatus.active
    ):
        return "The user no longer belongs to the organization this token acts for."
    return None


def is_usable(session: Session, found: FoundToken) -> bool:
    """What the API would accept now (introspection must not call a token active that the API
    refuses)."""
    token = found.token
    if found.is_refresh:
        if not token.is_refresh_usable():
            return False
    elif token.is_expired() or token.is_revoked():
        return False
    client = session.scalar(select(OAuthClient).where(OAuthClient.client_id == token.client_id))
    user = session.get(User, token.user_id) if token.user_id else None
    membership = (
        session.scalar(
            select(Membership).where(Membership.user_id == token.user_id, Membership.organization_id == token.organization_id)
        )
        if token.user_id
        else None
    )
    return refusal(token, client, session.get(Organization, token.organization_id), user, membership) is None


def revoke_tokens(session: Session, *conditions) -> None:
    """Revoke the access and refresh tokens matching `conditions` (already revoked ones keep
    their original time)."""
    now = utcnow()
    session.execute(
        update(OAuthToken)
        .where(*conditions)
        .values(
            access_revoked_at=func.coalesce(OAuthToken.access_revoked_at, now),
            refresh_revoked_at=func.coalesce(OAuthToken.refresh_revoked_at, now),
        )
    )


# --- sign-in ------------------------------------------------------------------------------


def authenticate_user(session: Session, email: str, password: str) -> User | None:
    """The user for these credentials, or None. Unknown emails, invited users without a password
    and inactive users all cost one argon2 verification, so timing reveals nothing."""
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    ok = verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.is_active:
        return None
    assert user.password_hash is not None  # verify_password is False without one
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    return user


def active_memberships(user: User, client: OAuthClient) -> list[Membership]:
    """Memberships a user may authorize this client for, by organization name."""
    memberships = [
        m
        for m in user.memberships
        if m.status is MembershipStatus.active
        and m.organization.status == OrganizationStatus.active
        and acts_for(client, m.organization_id)
    ]
    return sorted(memberships, key=lambda m: m.organization.name.lower())


def pending_memberships(user: User) -> list[Membership]:
    """Memberships organizations offered the user, waiting for an answer."""
    return sorted(
        (m for m in user.memberships if m.status is MembershipStatus.pending), key=lambda m: m.organization.name.lower()
    )


# --- failed-login throttle ----------------------------------------------------------------


class LoginThrottle:
    """Counts failed sign-ins per email and per client address in the rate limiter's storage
    (Redis in production), so every instance sees the same counts."""

    def __init__(self, app: Flask) -> None:
        self._app = app
        self._own: RateLimiter | None = None

    @property
    def strategy(self) -> RateLimiter:
        limiter = self._app.extensions["cbs_limiter"]
        if limiter.enabled:
            return limiter.limiter
        # The general API rate limit can be switched off (tests, some deployments); guessing
        # passwords must stay throttled regardless, so use the same storage directly.
        if self._own is None:
            storage = storage_from_string(self._app.config.get("RATELIMIT_STORAGE_URI") or "memory://")
            strategy = self._app.config.get("RATELIMIT_STRATEGY") or "moving-window"
            self._own = STRATEGIES[strategy](storage)
        return self._own

    def _item(self, kind: str):
        # An address can be a whole district behind one NAT, so it gets a higher limit than an email.
        settings = self._app.config["CBS_SETTINGS"]
        return parse(settings.login_failure_limit if kind == "email" else settings.login_address_failure_limit)

    @staticmethod
    def _keys(email: str, address: str) -> list[tuple[str, str]]:
        # Emails are hashed so the limiter storage holds no personal data.
        email_key = hashlib.sha256(email.strip().lower().encode()).hexdigest()
        return [("email", email_key), ("address", address or "unknown")]

    def retry_after(self, email: str, address: str) -> int | None:
        """Seconds to wait when either counter is exhausted, else None."""
        strategy = self.strategy
        waits = []
        for kind, key in self._keys(email, address):
            item = self._item(kind)
            if not strategy.test(item, "cbs-login", kind, key):
                reset_time, _remaining = strategy.get_window_stats(item, "cbs-login", kind, key)
                waits.append(max(1, math.ceil(reset_time - time.time())))
        return max(waits) if waits else None

    def failed(self, email: str, address: str) -> None:
        strategy = self.strategy
        for kind, key in self._keys(email, address):
            strategy.hit(self._item(kind), "cbs-login", kind, key)

    def succeeded(self, email: str) -> None:
        """The right password clears that email's count (not the address's)."""
        kind, key = self._keys(email, "")[0]
        self.strategy.clear(self._item(kind), "cbs-login", kind, key)
