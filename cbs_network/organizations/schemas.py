from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from cbs_network.http.api import versioned
from cbs_network.http.pagination import SyncPageArgsSchema
from cbs_network.http.schemas import ChangeSchema, FullMatch, Schema, VersionedRecordSchema, web_url
from cbs_network.organizations.models import OrganizationKind, OrganizationStatus

SCHEME_PATTERN = FullMatch(r"^[a-z][a-z0-9_]{1,39}$", error="Use a lower-case scheme like ein, cds, nces, lausd_vendor.")
PHONE = FullMatch(r"^[0-9+()./ x-]{7,40}$", error="Not a phone number.")


class IdentifierSchema(Schema):
    scheme = ma.fields.String(required=True, validate=SCHEME_PATTERN, metadata={"example": "ein"})
    value = ma.fields.String(required=True, validate=validate.Length(min=1, max=100), metadata={"example": "95-1234567"})


class ContactSchema(Schema):
    name = ma.fields.String(required=True, validate=validate.Length(min=1, max=200))
    title = ma.fields.String(allow_none=True, validate=validate.Length(max=200))
    department = ma.fields.String(allow_none=True, validate=validate.Length(max=200))
    email = ma.fields.Email(allow_none=True, validate=validate.Length(max=320))
    phone = ma.fields.String(allow_none=True, validate=PHONE)


class _OrganizationFields(Schema):
    name = ma.fields.String(validate=validate.Length(min=1, max=200), metadata={"example": "Urban Peace Institute"})
    alternate_name = ma.fields.String(allow_none=True, validate=validate.Length(max=200))
    description = ma.fields.String(allow_none=True, validate=validate.Length(max=5000))
    jurisdiction = ma.fields.String(
        allow_none=True, validate=validate.Length(max=200), metadata={"example": "City of Los Angeles"}
    )
    governing_authority = ma.fields.String(
        allow_none=True,
        validate=validate.Length(max=5000),
        metadata={
            "description": "The statutes, charter or board the organization answers to",
            "example": "Los Angeles City Charter; Mayor's Executive Directive",
        },
    )
    website = web_url(allow_none=True)
    email = ma.fields.Email(allow_none=True, validate=validate.Length(max=320))
    phone = ma.fields.String(allow_none=True, validate=PHONE)
    parent_id = ma.fields.UUID(
        allow_none=True,
        metadata={"description": "The organization this one belongs to (a school's region, an agency's department)"},
    )
    identifiers = ma.fields.List(ma.fields.Nested(IdentifierSchema), validate=validate.Length(max=20))
    contacts = ma.fields.List(ma.fields.Nested(ContactSchema), validate=validate.Length(max=20))


@versioned
class OrganizationSchema(VersionedRecordSchema, _OrganizationFields):
    kind = ma.fields.Enum(OrganizationKind, by_value=True)
    status = ma.fields.Enum(OrganizationStatus, by_value=True)


class OrganizationCreateSchema(_OrganizationFields):
    kind = ma.fields.Enum(OrganizationKind, by_value=True, required=True)
    name = ma.fields.String(
        required=True, validate=validate.Length(min=1, max=200), metadata={"example": "Urban Peace Institute"}
    )
    status = ma.fields.Enum(OrganizationStatus, by_value=True, load_default=OrganizationStatus.prospective)


class OrganizationUpdateSchema(ChangeSchema, _OrganizationFields):
    kind = ma.fields.Enum(OrganizationKind, by_value=True)
    status = ma.fields.Enum(OrganizationStatus, by_value=True, metadata={"description": "Only network admins change status"})


class OrganizationQuerySchema(SyncPageArgsSchema):
    kind = ma.fields.Enum(OrganizationKind, by_value=True)
    status = ma.fields.Enum(OrganizationStatus, by_value=True)
    parent_id = ma.fields.UUID()
    q = ma.fields.String(
        validate=validate.Length(min=1, max=100), metadata={"description": "Case-insensitive match on name or alternate name"}
    )
    identifier_scheme = ma.fields.String(validate=SCHEME_PATTERN)
    identifier_value = ma.fields.String(validate=validate.Length(min=1, max=100))
