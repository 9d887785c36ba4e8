"""The compiled serialization (http/serialize.py) writes exactly what marshmallow would: every read
operation of the spec, on the demo network, as three kinds of member, with every dump checked
against marshmallow's dump of the same objects."""

from __future__ import annotations

import re

import jsonschema
import pytest
from sqlalchemy import select

from cbs_network.demo import seed_demo
from cbs_network.demo.identity import PEOPLE, STAFF, email_of
from cbs_network.http import serialize
from cbs_network.identity.models import Membership, MembershipStatus, User
from cbs_network.organizations.models import Organization

from . import factories


def _items(body: dict | list) -> list[str]:
    return [item["id"] for item in (body["items"] if isinstance(body, dict) else body)]


# Where a path parameter's values come from: a read whose answer lists them.
PARAMETER_SOURCES = {
    "organization_id": ("/api/v1/organizations", _items),
    "user_id": ("/api/v1/users", _items),
    "membership_id": ("/api/v1/organizations/{organization_id}/memberships", _items),
    "client_uuid": ("/api/v1/clients", _items),
    "school_id": ("/api/v1/schools", _items),
    "program_id": ("/api/v1/programs", _items),
    "location_id": ("/api/v1/locations", _items),
    "subject_id": ("/api/v1/subjects", _items),
    "consent_id": ("/api/v1/subjects/{subject_id}/consents", _items),
    "referral_id": ("/api/v1/referrals", _items),
    "jurisdiction_id": ("/api/v1/jurisdictions", _items),
    "committee_id": ("/api/v1/committees", _items),
    "member_id": ("/api/v1/committees/{committee_id}", lambda body: [member["id"] for member in body["members"]]),
    "plan_id": ("/api/v1/safety-plans", _items),
    "need_id": ("/api/v1/safety-plans/{plan_id}/needs", _items),
}
# Reads whose interesting answers need query arguments.
VARIANTS = [
    "/api/v1/programs?program_type=safe_passage&program_type=mentoring",
    "/api/v1/programs?near_lat=33.94&near_lon=-118.24&radius_m=40000",
    "/api/v1/programs?updated_since=2000-01-01T00:00:00Z&limit=5",
    "/api/v1/referrals/matches?program_type=safe_passage&latitude=33.94&longitude=-118.24&language=es",
    "/api/v1/schools?limit=3",
    "/api/v1/referrals?limit=2",
]
ACTORS = {
    "network admin": PEOPLE["network_admin"][0],
    "district coordinator": PEOPLE["coordinator"][0],
    "district org admin (keeps its disclosure records)": PEOPLE["org_admin"][0],
    "CBO coordinator": STAFF["cbo:1"][0],
}


@pytest.fixture
def check_every_dump(monkeypatch):
    monkeypatch.setattr(serialize, "CHECK_AGAINST_MARSHMALLOW", True)


def _token(session, person: str) -> dict[str, str]:
    """A token for `person` acting for the organization they belong to, with their whole role."""
    user = session.scalar(select(User).where(User.email == email_of(person)))
    organization = session.scalar(
        select(Organization)
        .join(Membership, Membership.organization_id == Organization.id)
        .where(Membership.user_id == user.id, Membership.status == MembershipStatus.active)
    )
    client = factories.OAuthClientFactory(organization=organization)
    return {"Authorization": f"Bearer {factories.issue_token(session, client=client, user=user, organization=organization)}"}


def _read_operations(app) -> list[str]:
    spec = app.extensions["cbs_api"].spec.to_dict()
    return [path for path, operations in spec["paths"].items() if "get" in operations and path.startswith("/api/v1/")]


def _expand(client, headers, path: str, found: dict[str, list[str]]) -> list[str]:
    """Concrete URLs for `path`: each {parameter} filled with values its source lists."""
    match = re.search(r"\{(\w+)\}", path)
    if match is None:
        return [path]
    name = match.group(1)
    if name in ("object_type", "object_id"):
        response = client.get("/api/v1/audit?limit=5", headers=headers)
        records = response.get_json()["items"] if response.status_code == 200 else []
        return [path.replace("{object_type}", r["object_type"]).replace("{object_id}", str(r["object_id"])) for r in records]
    source, ids_of = PARAMETER_SOURCES[name]
    urls = []
    for source_url in _expand(client, headers, source, found):
        response = client.get(source_url, headers=headers)
        if response.status_code == 200:
            urls += [
                url
                for value in ids_of(response.get_json())[:3]
                for url in _expand(client, headers, path.replace("{" + name + "}", value, 1), found)
            ]
    return urls[:6]


def _conforms(spec: dict, path: str, response) -> bool:
    """A 200 answer, and its JSON is what the spec says (every required field there: a page of
    rows that lost a relationship's field would not be)."""
    if response.status_code != 200:
        return False
    content = spec["paths"][path]["get"]["responses"]["200"]["content"]
    if response.mimetype in content and response.is_json:
        schema = {**content[response.mimetype]["schema"], "components": spec["components"]}
        jsonschema.validate(response.get_json(), schema, cls=jsonschema.Draft202012Validator)
    return True


def test_every_read_dumps_what_marshmallow_dumps(app, db_session, client, check_every_dump):
    with app.app_context():
        seed_demo(session=db_session, public_url="http://hub.test")
    spec = app.extensions["cbs_api"].spec.to_dict()
    reads = _read_operations(app)
    answered: set[str] = set()
    for person in ACTORS.values():
        headers = _token(db_session, person)
        for path in reads:
            urls = _expand(client, headers, path, {})
            if [url for url in urls if _conforms(spec, path, client.get(url, headers=headers))]:
                answered.add(path)
        for url in VARIANTS:
            path = url.split("?")[0]
            response = client.get(url, headers=headers)
            assert _conforms(spec, path, response), (url, response.get_json())
            answered.add(path)
    # Each read answered (and so was checked) for at least one of the members.
    assert sorted(set(reads) - answered) == [], " ".join(sorted(set(reads) - answered))


def test_a_difference_from_marshmallow_fails_loudly(app, check_every_dump):
    import marshmallow as ma

    from cbs_network.http.schemas import Schema

    class Shouting(ma.fields.String):
        def _serialize(self, value, attr, obj, **kwargs):
            return None if value is None else value.upper()

    class Sample(Schema):
        name = Shouting()

    sample = Sample()
    assert sample.dump({"name": "quiet"}) == {"name": "QUIET"}  # a custom field converts itself
    serialize.dumper(sample)  # compiled, then sabotaged: the check must notice
    sample.__dict__["_compiled_dump"] = lambda obj, many=None: {"name": "quiet"}
    with pytest.raises(AssertionError, match="compiled dump"):
        sample.dump({"name": "quiet"})
