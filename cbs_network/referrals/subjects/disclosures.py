"""Disclosure records (FERPA, 34 CFR 99.32): one for every response that carried a subject's
personal fields, written in the same transaction as the read, and listed for the admins of the
organization that keeps the student's record (referrals/policy.py, require_record_admin)."""

from __future__ import annotations

import uuid
from typing import Any, Iterable, Iterator

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from cbs_network.core import context
from cbs_network.core.jsonable import jsonable
from cbs_network.identity.principal import Principal
from cbs_network.referrals.models import Consent, Disclosure, DisclosureBasis, Referral, Subject

CSV_COLUMNS = (
    "id",
    "created_at",
    "subject_id",
    "referral_id",
    "disclosed_to_organization_id",
    "user_id",
    "client_id",
    "fields",
    "purpose",
    "basis",
    "consent_id",
    "request_id",
)


def record(
    session: Session,
    *,
    principal: Principal,
    subject: Subject,
    fields: Iterable[str],
    purpose: str,
    basis: DisclosureBasis,
    referral: Referral | None = None,
    consent: Consent | None = None,
) -> Disclosure:
    disclosure = Disclosure(
        id=uuid.uuid4(),
        subject_id=subject.id,
        referral_id=referral.id if referral else None,
        record_organization_id=subject.organization_id,
        disclosed_to_organization_id=principal.organization_id,
        user_id=principal.user_id,
        client_id=principal.client_id,
        fields=sorted(fields),
        purpose=purpose,
        basis=basis,
        consent_id=consent.id if consent else None,
        request_id=context.request_id.get(),
    )
    session.add(disclosure)
    return disclosure


def query(*, subject_id: uuid.UUID | None = None, referral_id: uuid.UUID | None = None) -> Select:
    statement = select(Disclosure)
    if subject_id is not None:
        statement = statement.where(Disclosure.subject_id == subject_id)
    if referral_id is not None:
        statement = statement.where(Disclosure.referral_id == referral_id)
    return statement


def csv_rows(rows: Iterable[Disclosure]) -> Iterator[dict[str, Any]]:
    """The records as JSON-ready dicts of CSV_COLUMNS."""
    return ({name: jsonable(getattr(row, name)) for name in CSV_COLUMNS} for row in rows)
