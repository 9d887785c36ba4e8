from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from cbs_network.audit import service as audit
from cbs_network.core.db import utcnow
from cbs_network.core.errors import Conflict, NotFound, ValidationFailed
from cbs_network.events.service import record_event
from cbs_network.http.etag import check_version
from cbs_network.http.pagination import paginate
from cbs_network.identity.principal import Principal
from cbs_network.organizations import policy
from cbs_network.organizations.models import Organization, OrganizationContact, OrganizationIdentifier

AUDITED_FIELDS = (
    "kind",
    "name",
    "alternate_name",
    "description",
    "jurisdiction",
    "governing_authority",
    "website",
    "email",
    "phone",
    "status",
    "parent_id",
    "identifiers",
    "contacts",
)


def _audit_view(organization: Organization) -> dict[str, Any]:
    view = audit.snapshot(organization, [f for f in AUDITED_FIELDS if f not in ("identifiers", "contacts")])
    view["identifiers"] = [f"{i.scheme}:{i.value}" for i in organization.identifiers]
    view["contacts"] = [c.name for c in organization.contacts]
    return view


def get(*, session: Session, principal: Principal, organization_id: uuid.UUID) -> Organization:
    organization = session.get(Organization, organization_id)
    if organization is None:
        raise NotFound("No organization with this id.")
    return organization


# A page's child lists, each in one statement, in the order of the model's relationships.
PAGE_CHILDREN = {
    "identifiers": select(
        OrganizationIdentifier.organization_id, OrganizationIdentifier.scheme, OrganizationIdentifier.value
    ).order_by(OrganizationIdentifier.scheme),
    "contacts": select(
        OrganizationContact.organization_id, *(c for c in OrganizationContact.__table__.columns if c.key != "organization_id")
    ).order_by(OrganizationContact.position),
}


def page(session: Session, query: Select, args: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """One page of `list_query`'s organizations as rows with their identifiers and contacts."""
    return paginate(session, query, Organization, args, rows=True, children=PAGE_CHILDREN)


def list_query(
    *,
    principal: Principal,
    kind: str | None = None,
    status: str | None = None,
    parent_id: uuid.UUID | None = None,
    q: str | None = None,
    identifier_scheme: str | None = None,
    identifier_value: str | None = None,
    **_page: Any,
) -> Select:
    query = select(Organization)
    if kind is not None:
        query = query.where(Organization.kind == kind)
    if status is not None:
        query = query.where(Organization.status == status)
    if parent_id is not None:
        query = query.where(Organization.parent_id == parent_id)
    if q:
        pattern = f"%{q.lower()}%"
        query = query.where(
            or_(func.lower(Organization.name).like(pattern), func.lower(Organization.alternate_name).like(pattern))
        )
    if identifier_scheme or identifier_value:
        sub = select(OrganizationIdentifier.organization_id)
        if identifier_scheme:
            sub = sub.where(OrganizationIdentifier.scheme == identifier_scheme)
        if identifier_value:
            sub = sub.where(OrganizationIdentifier.value == identifier_value)
        query = query.where(Organization.id.in_(sub))
    return query


def _check_parent(session: Session, organization: Organization | None, parent_id: uuid.UUID | None) -> None:
    if parent_id is None:
        return
    seen: set[uuid.UUID] = set()
    current = session.get(Organization, parent_id)
    if current is None:
        raise ValidationFailed(
            "The parent organization does not exist.", errors={"json": {"parent_id": ["Unknown organization."]}}
        )
    while current is not None and current.id not in seen:
        if organization is not None and current.id == organization.id:
            raise ValidationFailed(
                "An organization cannot be its own ancestor.", errors={"json": {"parent_id": ["Would create a cycle."]}}
            )
        seen.add(current.id)
        current = current.parent


def _check_identifiers(session: Session, organization: Organization | None, identifiers: list[dict]) -> None:
    pairs = [(i["scheme"], i["value"]) for i in identifiers]
    if len(set(pairs)) != len(pairs):
        raise ValidationFailed(
            "An identifier is listed twice.", errors={"json": {"identifiers": ["Duplicate scheme and value."]}}
        )
    for scheme, value in pairs:
        holder = session.scalar(
            select(OrganizationIdentifier.organization_id).where(
                OrganizationIdentifier.scheme == scheme, OrganizationIdentifier.value == value
            )
        )
        if holder is not None and (organization is None or holder != organization.id):
            raise Conflict(f"Another organization already has the identifier {scheme} {value}.")


def _apply(session: Session, organization: Organization, data: dict[str, Any]) -> None:
    data = dict(data)
    if "identifiers" in data:
        _check_identifiers(session, organization, data["identifiers"])
        # Keep the rows that stay, so the unique (scheme, value) index never sees a duplicate.
        kept = {(i.scheme, i.value): i for i in organization.identifiers}
        organization.identifiers = [
            kept.get((i["scheme"], i["value"])) or OrganizationIdentifier(**i) for i in data.pop("identifiers")
        ]
    if "contacts" in data:
        organization.contacts = [OrganizationContact(position=n, **c) for n, c in enumerate(data.pop("contacts"))]
    for name, value in data.items():
        setattr(organization, name, value)


def create(*, session: Session, principal: Principal, data: dict[str, Any]) -> Organization:
    policy.require_create(principal)
    _check_parent(session, None, data.get("parent_id"))
    organization = Organization(id=uuid.uuid4())
    _apply(session, organization, data)
    session.add(organization)
    session.flush()
    audit.record(
        session,
        principal=principal,
        action="organization.created",
        object_type="organization",
        object_id=organization.id,
        changes=audit.diff({}, _audit_view(organization)),
    )
    record_event(
        session,
        type="organization.created",
        object_type="organization",
        object_id=organization.id,
        principal=principal,
        payload={"organization_id": organization.id, "kind": organization.kind, "status": organization.status},
        audience=[organization.id],
    )
    return organization


def update(
    *, session: Session, principal: Principal, organization_id: uuid.UUID, data: dict[str, Any], expected_version: int
) -> Organization:
    organization = get(session=session, principal=principal, organization_id=organization_id)
    policy.require_update(principal, organization, data)
    check_version(organization, expected_version)
    if "parent_id" in data:
        _check_parent(session, organization, data["parent_id"])
    before = _audit_view(organization)
    _apply(session, organization, data)
    changes = audit.diff(before, _audit_view(organization))
    if changes:
        organization.updated_at = utcnow()  # bumps the version even when only child rows changed
        session.flush()
        audit.record(
            session,
            principal=principal,
            action="organization.updated",
            object_type="organization",
            object_id=organization.id,
            changes=changes,
        )
        record_event(
            session,
            type="organization.updated",
            object_type="organization",
            object_id=organization.id,
            principal=principal,
            payload={"organization_id": organization.id, "status": organization.status, "changed": sorted(changes)},
            audience=[organization.id],
        )
    return organization


def delete(*, session: Session, principal: Principal, organization_id: uuid.UUID, expected_version: int) -> None:
    from cbs_network.identity.models import Membership
    from cbs_network.oauth.models import OAuthClient

    organization = get(session=session, principal=principal, organization_id=organization_id)
    policy.require_create(principal)
    check_version(organization, expected_version)
    for model, column, what in (
        (Organization, Organization.parent_id, "child organizations"),
        (Membership, Membership.organization_id, "members"),
        (OAuthClient, OAuthClient.organization_id, "OAuth clients"),
    ):
        if session.scalar(select(func.count()).select_from(model).where(column == organization.id)):
            raise Conflict(f"The organization still has {what}; set its status to inactive instead.")
    before = _audit_view(organization)
    session.delete(organization)
    session.flush()
    audit.record(
        session,
        principal=principal,
        action="organization.deleted",
        object_type="organization",
        object_id=organization_id,
        changes=audit.diff(before, {}),
    )
    record_event(
        session,
        type="organization.deleted",
        object_type="organization",
        object_id=organization_id,
        principal=principal,
        payload={"organization_id": organization_id},
    )
