"""Who may see a referral, and who may see its personal fields.

A referral is the business of its two parties: the source organization sees it in every state,
the target once it has been sent (a draft is the source's own work). Network admins of the hub
see every referral, without personal fields. Anyone else gets 404, as for an id that does not
exist.

Personal fields (the subject's identifying data, the need's description, the notes) need need
to know: a party, with the `subjects:read` scope, and for the target a lawful basis that still
holds: a consent that is neither revoked nor expired, or an emergency exception that was not
found unjustified on review.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date

from sqlalchemy import ColumnElement, and_, or_, true

from cbs_network.core.errors import Forbidden, NotFound
from cbs_network.core.workflow import allowed_from
from cbs_network.identity.principal import Principal
from cbs_network.identity.roles import Role
from cbs_network.referrals.models import Consent, DisclosureBasis, EmergencyReview, Referral, ReferralState, Subject
from cbs_network.referrals.referrals.transitions import TRANSITIONS, Party


class PersonalAccess(enum.StrEnum):
    included = "included"
    withheld = "withheld"  # the target's lawful basis has ended (consent revoked or expired)
    not_shared = "not_shared"  # no need to know: not a party, or no subjects:read scope


def visible(principal: Principal) -> ColumnElement[bool]:
    """SQL: the referrals `principal` may see at all."""
    if principal.is_network_admin:
        return true()
    return or_(
        Referral.source_organization_id == principal.organization_id,
        and_(Referral.target_organization_id == principal.organization_id, Referral.state != ReferralState.draft),
    )


def visible_in_box(principal: Principal, box: str) -> list[ColumnElement[bool]]:
    """SQL: the referrals of a list ("sent", "received" or "all" `principal` may see) as disjoint
    conditions, each one range of an (organization, created_at, id) index: a page walks each and
    merges them, where an OR of the two could only be answered by scanning every referral."""
    sent = Referral.source_organization_id == principal.organization_id
    received = and_(Referral.target_organization_id == principal.organization_id, Referral.state != ReferralState.draft)
    if box == "sent":
        return [sent]
    if box == "received":
        return [received]
    if principal.is_network_admin:
        return [true()]
    return [sent, and_(received, Referral.source_organization_id != principal.organization_id)]


def require_visible(principal: Principal, referral: Referral | None) -> Referral:
    if referral is None or not (
        principal.is_network_admin
        or referral.source_organization_id == principal.organization_id
        or (referral.target_organization_id == principal.organization_id and referral.state is not ReferralState.draft)
    ):
        raise NotFound("No referral with this id.")
    return referral


def is_source(principal: Principal, referral: Referral) -> bool:
    return referral.source_organization_id == principal.organization_id


def is_target(principal: Principal, referral: Referral) -> bool:
    return referral.target_organization_id == principal.organization_id and referral.state is not ReferralState.draft


def subjects_visible(principal: Principal) -> ColumnElement[bool]:
    """SQL: a subject is read directly only by the organization that recorded it (network admins
    included: they see only their own); a referral's target sees it through the referral."""
    return Subject.organization_id == principal.organization_id


def require_visible_subject(principal: Principal, subject: Subject | None) -> Subject:
    if subject is None or subject.organization_id != principal.organization_id:
        raise NotFound("No subject with this id.")
    return subject


def parties(principal: Principal, referral: Referral) -> set[Party]:
    """The sides of the state machine `principal` acts as on this referral."""
    found = set()
    if is_source(principal, referral):
        found.add(Party.requester)
    if is_target(principal, referral):
        found.add(Party.target)
    return found


def require_party(principal: Principal, referral: Referral, to: ReferralState) -> None:
    """The move from the referral's state to `to` (a move the table knows) is `principal`'s to make."""
    start = referral.state
    party = TRANSITIONS[(start, to)]
    if party not in parties(principal, referral):
        who = "referring" if party is Party.requester else "receiving"
        raise Forbidden(
            f"Only the {who} organization may move a referral from {start.value} to {to.value}.",
            allowed_transitions=allowed_from(TRANSITIONS, start),
        )


def require_emergency_reviewer(principal: Principal, referral: Referral) -> None:
    if not is_source(principal, referral) or principal.role not in (Role.org_admin, Role.network_admin):
        raise Forbidden("Only the admins of the referring organization review its emergency exceptions.")


def require_record_admin(principal: Principal, organization_id: uuid.UUID) -> None:
    """Only the admins of the organization that keeps the record read who saw it (not the hub)."""
    if principal.organization_id != organization_id or principal.role not in (Role.org_admin, Role.network_admin):
        raise Forbidden("Only the admins of the organization that keeps the student's record list its disclosures.")


def consent_in_force(consent: Consent | None, today: date) -> bool:
    return (
        consent is not None
        and consent.revoked_at is None
        and consent.given_on <= today
        and (consent.expires_on is None or consent.expires_on >= today)
    )


def personal_basis(
    principal: Principal, referral: Referral, consent: Consent | None, today: date
) -> tuple[PersonalAccess, DisclosureBasis | None]:
    """Whether `principal` sees the referral's personal fields now, and on what basis."""
    if not principal.has_scope("subjects:read"):
        return PersonalAccess.not_shared, None
    if is_source(principal, referral):
        return PersonalAccess.included, DisclosureBasis.own_record
    if not is_target(principal, referral):
        return PersonalAccess.not_shared, None
    if referral.consent_id is not None:
        if consent_in_force(consent, today):
            return PersonalAccess.included, DisclosureBasis.consent
        return PersonalAccess.withheld, None
    if referral.emergency_reason and referral.emergency_review is not EmergencyReview.not_upheld:
        return PersonalAccess.included, DisclosureBasis.emergency
    return PersonalAccess.withheld, None


def require_notes_access(principal: Principal, referral: Referral, consent: Consent | None, today: date) -> None:
    """The notes are the two parties' conversation about the person: the same need to know as the
    personal fields."""
    access, _basis = personal_basis(principal, referral, consent, today)
    if access is not PersonalAccess.included:
        raise Forbidden("The notes are shared only by the two parties, and only while the receiver may see the person's details.")
