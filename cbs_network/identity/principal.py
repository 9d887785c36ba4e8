"""Who is acting: the organization a token acts for, the role it holds there, its scopes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from flask import g

from cbs_network.identity.roles import ROLE_SCOPES, Role


@dataclass(frozen=True)
class Principal:
    organization_id: uuid.UUID
    role: Role
    token_scopes: frozenset[str]
    client_id: str
    user_id: uuid.UUID | None = None

    @property
    def scopes(self) -> frozenset[str]:
        """Effective scopes: what the token was granted and the role allows."""
        return self.token_scopes & ROLE_SCOPES[self.role]

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes

    @property
    def is_network_admin(self) -> bool:
        return self.role is Role.network_admin

    def is_admin_of(self, organization_id: uuid.UUID) -> bool:
        return self.is_network_admin or (self.role is Role.org_admin and self.organization_id == organization_id)


def current_principal() -> Principal:
    return g.principal


def system_principal(organization_id: uuid.UUID) -> Principal:
    """The principal of CLI commands and the worker: a network admin of the hub."""
    from cbs_network.identity.roles import SCOPES

    return Principal(
        organization_id=organization_id,
        role=Role.network_admin,
        token_scopes=frozenset(SCOPES),
        client_id="cli",
    )
