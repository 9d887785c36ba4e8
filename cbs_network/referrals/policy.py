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
from datetime import date

from sqlalchemy import ColumnElement, and_, or_, true

from cbs_network.core.errors import NotFound
from cbs_network.identity.principal import Principal
from cbs_network.referrals.models import Consent, DisclosureBasis, EmergencyReview, Referral, ReferralState


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


def consent_in_force(consent: Consent | None, today: date) -> bool:
    return (
        consent is not None and consent.revoked_at is None and consent.given_on <= today
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
