from __future__ import annotations

from cbs_network.audit import service
from cbs_network.audit.models import AuditRecord
from cbs_network.audit.schemas import AuditQuerySchema, AuditRecordSchema
from cbs_network.core.db import session
from cbs_network.http.api import Blueprint
from cbs_network.http.pagination import PageArgsSchema, page_schema, paginate
from cbs_network.identity.principal import current_principal

blp = Blueprint(
    "audit",
    __name__,
    url_prefix="/api/v1/audit",
    description="The append-only audit log of every write, HMAC-chained per acting organization (network admins).",
)


AuditPageSchema = page_schema(AuditRecordSchema)
EXAMPLE = {
    "items": [
        {
            "id": "1d3c1c9e-1c55-4f3e-a7a2-0e6f2b7e9a10",
            "chain": "6a1f7f0e-7a2b-4d8e-9c1a-2b3c4d5e6f70",
            "seq": 42,
            "created_at": "2026-11-02T17:04:05+00:00",
            "actor_user_id": None,
            "actor_client_id": "gryd-registry",
            "organization_id": "6a1f7f0e-7a2b-4d8e-9c1a-2b3c4d5e6f70",
            "action": "organization.updated",
            "object_type": "organization",
            "object_id": "6a1f7f0e-7a2b-4d8e-9c1a-2b3c4d5e6f70",
            "changes": {"website": {"before": None, "after": "https://example.org"}},
            "request_id": "8b1f6f0e5c0a4c7d",
            "key_id": "2026a",
            "prev_hash": "…",
            "hash": "…",
        }
    ],
    "next_cursor": None,
}


@blp.route("", methods=["GET"])
@blp.requires("audit:read")
@blp.arguments(AuditQuerySchema, location="query")
@blp.response(200, AuditPageSchema, example=EXAMPLE)
def list_audit_records(args):
    """List audit records, oldest first"""
    filters = {k: v for k, v in args.items() if k not in ("limit", "cursor")}
    return paginate(session(), service.list_query(principal=current_principal(), **filters), AuditRecord, args)


@blp.route("/<string:object_type>/<string:object_id>", methods=["GET"])
@blp.requires("audit:read")
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, AuditPageSchema, example=EXAMPLE)
def object_history(args, object_type: str, object_id: str):
    """One record's history: every audited change to it, oldest first"""
    query = service.list_query(principal=current_principal(), object_type=object_type, object_id=object_id)
    return paginate(session(), query, AuditRecord, args)
