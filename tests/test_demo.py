"""The demo network: deterministic, idempotent, and covering what the directory must show."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from argon2 import PasswordHasher, profiles
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cbs_network import create_app
from cbs_network.capacity.models import CapacityProfile
from cbs_network.core.db import Base, make_engine, utcnow
from cbs_network.demo import demo_id, seed_demo
from cbs_network.demo.capacity import CAPACITY
from cbs_network.demo.directory import HARBOR_SCHOOLS, PROGRAMS
from cbs_network.demo.organizations import HARBOR_KEY
from cbs_network.demo.referrals import CASES
from cbs_network.directory.models import (
    DirectorySettings,
    Location,
    Program,
    ProgramLanguage,
    ProgramSchedule,
    ProgramType,
    School,
)
from cbs_network.directory.service_areas import polygon_problem, school_ids_served
from cbs_network.identity import passwords
from cbs_network.identity.principal import Principal
from cbs_network.identity.roles import SCOPES, Role
from cbs_network.organizations.models import Organization
from cbs_network.referrals import policy
from cbs_network.referrals.models import (
    Consent,
    ConsentGiver,
    EmergencyReview,
    EnrollmentStatus,
    Referral,
    ReferralNote,
    ReferralState,
    Subject,
)
from cbs_network.referrals.referrals.service import note_body, overdue_clause
from cbs_network.referrals.referrals.transitions import REASON_REQUIRED, TRANSITIONS, Party
from cbs_network.referrals.subjects import service as subjects

from .conftest import make_settings


def snapshot(session) -> dict[str, list[tuple]]:
    tables = {}
    for table in Base.metadata.sorted_tables:
        rows = session.execute(select(*table.columns)).all()
        tables[table.name] = sorted((tuple(map(repr, row)) for row in rows))
    return tables


@pytest.fixture(scope="module")
def cheap_password_hashes():
    """Every seed hashes the demo users' passwords; argon2's cheapest profile keeps them real
    hashes without the default profile's cost, which was most of this module's time."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(passwords, "_hasher", PasswordHasher.from_parameters(profiles.CHEAPEST))
        yield


@pytest.fixture(scope="module")
def seeded(make_database_url, cheap_password_hashes) -> tuple[object, dict]:
    """This module's own app on its own database, where the demo network is seeded once and
    committed, and the credentials that seed returned. db_session rolls each test's writes back,
    so every test starts from that seed."""
    app = create_app(make_settings(make_database_url()), TESTING=True, RATELIMIT_ENABLED=False)
    database = app.extensions["cbs_db"]
    with app.app_context(), database.session_factory() as session:  # the key ring the subjects' encryption uses
        credentials = seed_demo(session=session, public_url="http://hub.test")
        session.commit()
    yield app, credentials
    database.engine.dispose()


@pytest.fixture(scope="module")
def app(seeded):
    return seeded[0]


@pytest.fixture
def credentials(seeded) -> dict:
    return seeded[1]


@pytest.fixture
def demo(app, db_session):
    with app.app_context():
        yield db_session


def test_seeding_twice_with_the_previous_credentials_changes_nothing(demo, credentials):
    before = snapshot(demo)
    assert len(before["programs"]) == len(PROGRAMS) and before["schools"]
    again = seed_demo(session=demo, public_url="http://hub.test", previous=credentials)
    assert snapshot(demo) == before and again == credentials
    assert again["users"] and all(u["password"] for u in again["users"])


# Rows the referral services write with ids of their own choosing (the demo's referrals are
# made through them): compared by count, and the referrals by state.
SERVICE_WRITTEN = {
    "audit_records",
    "events",
    "subjects",
    "consents",
    "referrals",
    "referral_transitions",
    "referral_notes",
    "disclosures",
}


def deterministic_view(session) -> dict[str, list]:
    view = {}
    for table in Base.metadata.sorted_tables:
        if "id" not in table.c:
            continue
        if table.name in SERVICE_WRITTEN:
            view[table.name] = [session.scalar(select(func.count()).select_from(table))]
        elif table.name == "capacity_history":
            # The demo writes each profile's first two versions; accepted referrals add the next ones.
            view[table.name] = sorted(
                (str(i), v) for i, v in session.execute(select(table.c.id, table.c.version).where(table.c.version <= 2))
            )
            view["capacity_versions"] = sorted(
                (str(p), v) for p, v in session.execute(select(table.c.program_id, table.c.version))
            )
        else:
            view[table.name] = sorted(str(i) for i in session.scalars(select(table.c.id)))
    view["referral_states"] = sorted(session.scalars(select(Referral.state)))
    return view


def test_ids_are_the_same_on_two_fresh_databases(app, demo, make_database_url):
    views = [deterministic_view(demo)]  # the module's database, fresh when it was seeded
    engine = make_engine(make_database_url())
    try:
        with app.app_context(), Session(engine) as session:
            seed_demo(session=session, public_url="http://hub.test")
            session.commit()
            views.append(deterministic_view(session))
    finally:
        engine.dispose()
    assert views[0]["programs"] and views[0]["schools"] and views[0]["locations"] and views[0]["program_schedules"]
    assert views[0]["referrals"] == [len(CASES)] and any(v > 2 for _program, v in views[0]["capacity_versions"])
    assert views[0] == views[1]


def test_every_program_type_is_present_with_languages_and_schedules(demo):
    assert set(demo.scalars(select(Program.program_type))) == set(ProgramType)
    assert {"en", "es", "ko", "zh", "hy", "tl"} <= set(demo.scalars(select(ProgramLanguage.code)))
    passages = demo.scalars(select(Program).where(Program.program_type == ProgramType.safe_passage)).all()
    schedules = [s for p in passages for s in p.schedules]
    assert schedules and all(s.minutes_before_arrival and s.minutes_after_dismissal for s in schedules)
    assert demo.scalar(select(ProgramSchedule).where(ProgramSchedule.opens_at.is_not(None))) is not None
    polygons = [p.service_area_geojson for p in demo.scalars(select(Program).where(Program.service_area_geojson.is_not(None)))]
    assert len(polygons) == 1 and polygon_problem(polygons[0]) is None
    owners = {o.kind for o in demo.scalars(select(Organization).join(Program, Program.organization_id == Organization.id))}
    assert {"cbo", "city_agency", "county_agency"} <= owners


def test_schools_are_linked_to_their_organizations(demo):
    schools = demo.scalars(select(School)).all()
    assert len(schools) == 24 + len(HARBOR_SCHOOLS) and any(s.is_bsap for s in schools) and not all(s.is_bsap for s in schools)
    for school in schools:
        assert len(school.cds_code) == 14 and school.cds_code.isdigit()
        assert demo.get(Organization, school.organization_id).name == school.name
        assert 33.7 < school.latitude < 34.35 and -118.5 < school.longitude < -118.1
        regions = (None,) if school.name in HARBOR_SCHOOLS else ("North", "East", "South", "West")  # HGUSD has none
        assert school.region in regions and 1 <= school.board_district <= 7
        assert school.grade_low <= school.grade_high


def test_every_school_answers_to_the_district_above_its_organization(demo):
    lausd, harbor = demo_id("organization", "lausd"), demo_id("organization", HARBOR_KEY)
    for school in demo.scalars(select(School)):
        assert school.district_id == (harbor if school.name in HARBOR_SCHOOLS else lausd), school.name
        assert demo.get(Organization, school.district_id).kind == "school_district"
        ancestors, organization = [], demo.get(Organization, school.organization_id)
        while organization.parent_id is not None:
            ancestors.append(organization.parent_id)
            organization = demo.get(Organization, organization.parent_id)
        assert school.district_id in ancestors, school.name


def test_exactly_one_confidential_location_with_a_front_door(demo):
    confidential = demo.scalars(select(Location).where(Location.is_confidential.is_(True))).all()
    assert len(confidential) == 1
    assert confidential[0].front_door_contact and confidential[0].address_1
    assert demo.scalar(select(Location).where(Location.location_type == "virtual")) is not None


def test_a_school_has_no_safe_passage(demo):
    school_ids = set(demo.scalars(select(School.id)))
    served = school_ids_served(demo, program_types=[ProgramType.safe_passage])
    assert served and served < school_ids  # some served, and at least one not


def test_some_verifications_are_overdue_and_some_never_done(app, demo):
    interval = timedelta(days=demo.get(DirectorySettings, 1).verification_interval_days)
    assured = list(demo.scalars(select(Program.assured_at)))
    now = utcnow()
    assert any(a is None for a in assured)
    assert any(a is not None and a + interval < now for a in assured)
    assert any(a is not None and a + interval > now for a in assured)


# --- referrals ---------------------------------------------------------------------------------


def test_referrals_in_every_state_from_schools_and_the_district_to_cbos(demo):
    referrals = demo.scalars(select(Referral)).all()
    assert len(referrals) == len(CASES) and {r.state for r in referrals} == set(ReferralState)
    kinds = {
        (demo.get(Organization, r.source_organization_id).kind.value, demo.get(Organization, r.target_organization_id).kind.value)
        for r in referrals
    }
    assert kinds == {("school", "cbo"), ("school_district", "cbo")}
    accepted = [r for r in referrals if r.state is ReferralState.accepted]
    assert sorted((r.holds_slot, r.on_waitlist) for r in accepted) == [(False, True), (True, False)]
    closed = {r.state: r for r in referrals if r.outcome_recorded_at}
    assert closed.keys() == {ReferralState.completed, ReferralState.failed}
    assert closed[ReferralState.completed].outcome_enrollment_status is EnrollmentStatus.enrolled
    assert closed[ReferralState.failed].outcome_enrollment_status is EnrollmentStatus.not_enrolled
    assert all(r.outcome_services for r in closed.values())
    emergency = [r for r in referrals if r.emergency_reason]
    assert len(emergency) == 1 and emergency[0].consent_id is None
    assert emergency[0].state is ReferralState.requested and emergency[0].emergency_review is EmergencyReview.pending
    overdue = demo.scalars(select(Referral).where(overdue_clause(demo))).all()
    assert len(overdue) == 1 and overdue[0].requested_at < utcnow() - timedelta(days=7)
    assert all(r.consent_id for r in referrals if r.state is not ReferralState.draft and not r.emergency_reason)


def test_every_demo_transition_was_made_by_its_party_with_its_reason(demo):
    for referral in demo.scalars(select(Referral)):
        history = referral.transitions
        assert history[0].from_state is None and history[-1].to_state is referral.state
        for step in history[1:]:
            party = TRANSITIONS[(step.from_state, step.to_state)]
            expected = referral.source_organization_id if party is Party.requester else referral.target_organization_id
            assert step.actor_organization_id == expected and step.actor_user_id is not None
            assert step.reason or step.to_state not in REASON_REQUIRED


def test_notes_are_encrypted_and_written_by_the_parties(demo):
    notes = demo.scalars(select(ReferralNote)).all()
    written = {step[2] for case in CASES for step in case["steps"] if step[0] == "note"}
    assert len(notes) == len(written) >= 3
    assert {note_body(n) for n in notes} == written and not {n.body for n in notes} & written
    for note in notes:
        referral = demo.get(Referral, note.referral_id)
        assert note.organization_id in (referral.source_organization_id, referral.target_organization_id)


def test_consents_are_active_expired_and_revoked(demo):
    consents = demo.scalars(select(Consent)).all()
    statuses = Counter(subjects.consent_status(c, subjects.today()) for c in consents)
    assert statuses["active"] >= 3 and statuses["expired"] == 1 and statuses["revoked"] == 1
    assert {c.given_by for c in consents} == set(ConsentGiver)
    revoked = next(c for c in consents if c.revoked_at)
    referral = demo.scalar(select(Referral).where(Referral.consent_id == revoked.id))
    assert referral.state is ReferralState.cancelled
    # The receiver keeps the referral but no longer sees the person.
    receiver = Principal(
        organization_id=referral.target_organization_id, role=Role.coordinator, token_scopes=frozenset(SCOPES), client_id="test"
    )
    access, _basis = policy.personal_basis(receiver, referral, revoked, subjects.today())
    assert access is policy.PersonalAccess.withheld


def test_capacity_counts_the_demo_referrals_slots_and_waitlist_places(demo):
    for key, (_total, available, _unit, waitlist, *_rest) in CAPACITY.items():
        program_id = demo_id("program", key)
        profile = demo.scalar(select(CapacityProfile).where(CapacityProfile.program_id == program_id))
        to_program = select(func.count()).select_from(Referral).where(Referral.target_program_id == program_id)
        assert profile.available_slots == available - demo.scalar(to_program.where(Referral.holds_slot.is_(True))), key
        assert profile.waitlist_length == waitlist + demo.scalar(to_program.where(Referral.on_waitlist.is_(True))), key
    full = demo.scalar(select(CapacityProfile).where(CapacityProfile.program_id == demo_id("program", "south-bridge-mentors")))
    assert full.available_slots == 0 and full.waitlist_length > CAPACITY["south-bridge-mentors"][3]


def test_the_demo_rows_hold_no_clear_personal_field(demo):
    people = [subjects.personal(s) for s in demo.scalars(select(Subject))]  # real ciphertext: it decrypts
    assert sorted(p["family_name"] for p in people) == sorted(case["student"][1] for case in CASES)
    secrets = {case["need"] for case in CASES}
    for person in people:
        secrets |= {
            person["family_name"],
            person["district_student_id"],
            person["date_of_birth"].isoformat(),
            person["contact"]["phone"],
            person["contact"]["email"],
            person["guardian"]["name"],
            person["guardian"]["phone"],
        }
    for table in Base.metadata.sorted_tables:
        for row in demo.execute(select(table)):
            text = repr(tuple(row))
            assert not [s for s in secrets if s in text], table.name


# --- committees and plans -------------------------------------------------------------------------


def _school_year() -> str:
    from cbs_network.demo.committees import current_school_year

    return current_school_year(utcnow().date())


def test_the_coverage_gap_view_finds_exactly_the_schools_seeded_without_safe_passage(client, network, demo):
    from cbs_network.demo.committees import SAFE_PASSAGE_GAPS

    reader = network["district_viewer"]
    rows = client.get("/api/v1/school-safety/safe-passage-gaps", headers=reader.headers).json["items"]
    assert {row["school_name"] for row in rows} == SAFE_PASSAGE_GAPS
    assert all(row["locations"] for row in rows)


def test_committees_are_complete_or_missing_a_role_with_nominations_pending(client, network, demo):
    from cbs_network.committees.models import CommitteeMember, MemberStatus
    from cbs_network.demo.committees import COMMITTEES

    reader = network["district_viewer"]
    gaps = {
        row["school_name"]: row
        for row in client.get(
            "/api/v1/school-safety/committee-gaps", query_string={"school_year": _school_year()}, headers=reader.headers
        ).json["items"]
    }
    complete = {"Roosevelt High School", "Hollenbeck Middle School", "Locke High School"}
    assert not complete & set(gaps)
    assert gaps["Garfield High School"]["missing_roles"] == ["cbo_representative"]
    assert gaps["Jefferson High School"]["missing_roles"] == ["parent"]
    assert gaps["Fremont High School"]["missing_roles"] == ["pupil"]  # LAUSD seats a student at high schools
    assert gaps["Jordan High School"]["lacks_cbo_representative"] and gaps["Crenshaw High School"]["lacks_cbo_representative"]
    without = {name for name, row in gaps.items() if row["committee_id"] is None}
    assert without and not without & set(COMMITTEES)
    assert (
        demo.scalar(select(func.count()).select_from(CommitteeMember).where(CommitteeMember.status == MemberStatus.nominated))
        == 2
    )


def test_plans_are_in_every_state_and_overdue_past_the_district_deadline(client, network, demo):
    from cbs_network.committees.models import PlanState, SafetyPlan

    lausd = demo_id("organization", "lausd")
    plans = demo.scalars(
        select(SafetyPlan).join(School, School.id == SafetyPlan.school_id).where(School.district_id == lausd)
    ).all()
    assert {p.state for p in plans} == set(PlanState)
    assert {(p.due_on.month, p.due_on.day) for p in plans} == {(10, 1)}  # LAUSD's ISSP date, not the state's
    year = _school_year()
    after = (plans[0].due_on + timedelta(days=1)).isoformat()
    overdue = {
        row["school_name"]: row
        for row in client.get(
            "/api/v1/school-safety/overdue-plans",
            query_string={"school_year": year, "as_of": after},
            headers=network["district_viewer"].headers,
        ).json["items"]
    }
    assert "Roosevelt High School" not in overdue and "Hollenbeck Middle School" not in overdue  # approved
    assert overdue["Jordan High School"]["plan_state"] == "drafting"
    assert overdue["Palms Middle School"]["plan_id"] is None  # never opened


# --- the second district --------------------------------------------------------------------------


def _district_actor(demo, org_key: str, person: str):
    """A token for a demo user acting for their district, through a client of that district."""
    from cbs_network.demo.identity import email_of
    from cbs_network.identity.models import User

    from . import factories

    organization = demo.get(Organization, demo_id("organization", org_key))
    user = demo.scalar(select(User).where(User.email == email_of(person)))
    client = factories.OAuthClientFactory(organization=organization)
    token = factories.issue_token(demo, client=client, user=user, organization=organization)
    return {"Authorization": f"Bearer {token}"}


def test_the_second_district_has_its_own_staff_client_rules_committees_and_plans(demo):
    from cbs_network.committees.models import Committee, Jurisdiction, SafetyPlan
    from cbs_network.demo.committees import HARBOR_COMMITTEES, HARBOR_PLANS
    from cbs_network.demo.identity import HARBOR_PEOPLE
    from cbs_network.identity.models import Membership
    from cbs_network.oauth.models import OAuthClient

    harbor = demo.get(Organization, demo_id("organization", HARBOR_KEY))
    assert harbor.kind == "school_district" and "fictional" in harbor.description
    roles = {m.role for m in demo.scalars(select(Membership).where(Membership.organization_id == harbor.id))}
    assert roles == {role for _person, role in HARBOR_PEOPLE} == {Role.org_admin, Role.coordinator}
    assert demo.scalar(select(OAuthClient).where(OAuthClient.client_id == f"demo-{HARBOR_KEY}")).organization_id == harbor.id
    schools = demo.scalars(select(School).where(School.district_id == harbor.id)).all()
    assert {s.name for s in schools} == set(HARBOR_SCHOOLS)
    assert {demo.get(Jurisdiction, s.jurisdiction_id).code for s in schools} == {"HGUSD"}
    ids = [s.id for s in schools]
    assert len(demo.scalars(select(Committee).where(Committee.school_id.in_(ids))).all()) == len(HARBOR_COMMITTEES)
    plans = demo.scalars(select(SafetyPlan).where(SafetyPlan.school_id.in_(ids))).all()
    assert len(plans) == len(HARBOR_PLANS) and {(p.due_on.month, p.due_on.day) for p in plans} == {(11, 15)}


def test_the_credentials_list_the_second_districts_users_and_client(credentials):
    harbor = "Harbor Gateway Unified School District"
    assert {u["role"] for u in credentials["users"] if u["organization"] == harbor} == {"org_admin", "coordinator"}
    assert [c["client_id"] for c in credentials["clients"] if c["organization"] == harbor] == [f"demo-{HARBOR_KEY}"]
    assert credentials["users"][0]["role"] == "network_admin" and credentials["clients"][0]["client_id"] == "demo-lausd"


@pytest.mark.parametrize(
    ("me", "person", "theirs", "their_school"),
    [
        (HARBOR_KEY, "Ezequiel Tanaka-Brandt", "lausd", "Garfield High School"),
        ("lausd", "Terrence Oyelaran", HARBOR_KEY, "Tidewater High School"),
    ],
)
def test_each_district_reads_but_cannot_change_the_others_schools_committees_and_plans(
    client, demo, me, person, theirs, their_school
):
    from cbs_network.committees.models import Committee, SafetyPlan

    headers = _district_actor(demo, me, person)
    school = demo.scalar(select(School).where(School.name == their_school))
    committee = demo.scalar(select(Committee).where(Committee.school_id == school.id))
    plan = demo.scalar(select(SafetyPlan).where(SafetyPlan.school_id == school.id))
    assert plan.state == "submitted"
    versions = (school.version, committee.version, plan.version)

    def with_version(version: int) -> dict[str, str]:
        return {**headers, "If-Match": f'"{version}"'}

    # Sees: the school, its committee (without the members' emails), its plan (without moves).
    assert client.get(f"/api/v1/schools/{school.id}", headers=headers).json["district_id"] == str(demo_id("organization", theirs))
    shown = client.get(f"/api/v1/committees/{committee.id}", headers=headers).json
    assert shown["members"] and {m["email"] for m in shown["members"]} == {None}
    assert client.get(f"/api/v1/safety-plans/{plan.id}", headers=headers).json["allowed_transitions"] == []
    # Cannot change them.
    refused = [
        client.patch(f"/api/v1/schools/{school.id}", json={"name": "Taken over"}, headers=with_version(school.version)),
        client.patch(f"/api/v1/committees/{committee.id}", json={"notes": "x"}, headers=with_version(committee.version)),
        client.post(f"/api/v1/committees/{committee.id}/members", json={"role": "parent", "name": "X"}, headers=headers),
        client.patch(f"/api/v1/safety-plans/{plan.id}", json={"summary": "x"}, headers=with_version(plan.version)),
        client.post(f"/api/v1/safety-plans/{plan.id}/transitions", json={"to": "approved"}, headers=headers),
        client.post(f"/api/v1/safety-plans/{plan.id}/needs", json={"need_type": "other", "description": "x"}, headers=headers),
    ]
    assert [r.status_code for r in refused] == [403] * len(refused)
    demo.expire_all()
    assert (
        demo.get(School, school.id).version,
        demo.get(Committee, committee.id).version,
        demo.get(SafetyPlan, plan.id).version,
    ) == versions
    # Their own district approves it.
    own = _district_actor(demo, theirs, "Terrence Oyelaran" if theirs == "lausd" else "Ezequiel Tanaka-Brandt")
    assert client.get(f"/api/v1/safety-plans/{plan.id}", headers=own).json["allowed_transitions"] == ["approved"]
    approved = client.post(f"/api/v1/safety-plans/{plan.id}/transitions", json={"to": "approved"}, headers=own)
    assert approved.status_code == 200 and approved.json["state"] == "approved"


def test_a_cbo_offered_the_lausd_coordinator_a_membership_that_grants_nothing_yet(demo):
    from cbs_network.demo.identity import PEOPLE, email_of
    from cbs_network.identity.models import Membership, MembershipStatus, User
    from cbs_network.oauth.models import OAuthClient
    from cbs_network.oauth.service import active_memberships, pending_memberships

    person = demo.scalar(select(User).where(User.email == email_of(PEOPLE["coordinator"][0])))
    cbo = demo.get(Organization, demo_id("organization", "cbo-0"))
    offer = demo.scalar(select(Membership).where(Membership.user_id == person.id, Membership.organization_id == cbo.id))
    assert offer.status is MembershipStatus.pending and [m.id for m in pending_memberships(person)] == [offer.id]
    explorer = demo.scalar(select(OAuthClient).where(OAuthClient.client_id == "cbs-explorer"))
    assert explorer.network_wide and cbo.id not in {m.organization_id for m in active_memberships(person, explorer)}
    # The person's answer survives a reseed.
    offer.status = MembershipStatus.active
    demo.flush()
    seed_demo(session=demo, public_url="http://hub.test")
    assert demo.get(Membership, offer.id).status is MembershipStatus.active


def test_a_cbo_has_a_client_of_its_own_to_keep_its_capacity_current(demo, credentials):
    from cbs_network.demo import CBO_CLIENT_ID
    from cbs_network.oauth.models import OAuthClient

    entry = next(c for c in credentials["clients"] if c["client_id"] == CBO_CLIENT_ID)
    client = demo.scalar(select(OAuthClient).where(OAuthClient.client_id == CBO_CLIENT_ID))
    cbo = demo.get(Organization, demo_id("organization", "cbo-0"))
    assert client.organization_id == cbo.id and entry["organization"] == cbo.name and entry["client_secret"]
    assert "capacity:write" in client.scopes and not client.network_wide


# --- a reseed adds only what is missing --------------------------------------------------------


def test_a_reseed_leaves_every_existing_row_as_its_users_left_it(demo, credentials):
    from cbs_network.committees.models import Committee
    from cbs_network.demo import EXPLORER_CLIENT_ID
    from cbs_network.demo.identity import PEOPLE, email_of
    from cbs_network.identity.models import Membership, User
    from cbs_network.oauth.models import OAuthClient

    program = demo.get(Program, demo_id("program", "eastside-safe-passage"))
    program.name, program.assured_at = "Eastside Safe Passage (renamed)", utcnow() - timedelta(days=1)
    program.languages = [ProgramLanguage(code="en")]
    program.schedules = []
    organization = demo.get(Organization, demo_id("organization", HARBOR_KEY))
    organization.description, organization.status = "Our own words", "inactive"
    profile = demo.scalar(select(CapacityProfile).where(CapacityProfile.program_id == program.id))
    profile.available_slots = 1
    school = demo.scalar(select(School).where(School.name == "Roosevelt High School"))
    school.name = "Roosevelt High (renamed)"
    committee = demo.scalar(select(Committee).where(Committee.school_id == school.id))
    demo.delete(committee.members[0])
    user = demo.scalar(select(User).where(User.email == email_of(PEOPLE["viewer"][0])))
    user.name, user.is_active = "Sam N.", False
    demo.delete(demo.scalar(select(Membership).where(Membership.user_id == user.id)))
    client = demo.scalar(select(OAuthClient).where(OAuthClient.client_id == "demo-lausd"))
    client.scope, client.name = "organizations:read", "LAUSD's own integration"
    explorer = demo.scalar(select(OAuthClient).where(OAuthClient.client_id == EXPLORER_CLIENT_ID))
    explorer.redirect_uris = [*explorer.redirect_uris, "http://hub.test/elsewhere"]
    demo.flush()
    before = snapshot(demo)

    again = seed_demo(session=demo, public_url="http://hub.test", previous=credentials)

    assert snapshot(demo) == before
    assert [u["password"] for u in again["users"]] == [u["password"] for u in credentials["users"]]
    assert [c["client_secret"] for c in again["clients"]] == [c["client_secret"] for c in credentials["clients"]]


def test_a_reseed_creates_again_a_demo_row_deleted_since(demo):
    program = demo.get(Program, demo_id("program", "workforce-reentry"))  # a draft: drafts may be deleted
    demo.delete(program)
    demo.flush()
    seed_demo(session=demo, public_url="http://hub.test")
    demo.expire_all()
    again = demo.get(Program, demo_id("program", "workforce-reentry"))
    assert again is not None and again.name == "Reentry Jobs Pathway" and [c.code for c in again.languages] == ["en"]


def test_a_declined_membership_offer_is_not_offered_again(demo):
    from cbs_network.demo.identity import PEOPLE, email_of
    from cbs_network.identity.models import Membership, User

    person = demo.scalar(select(User).where(User.email == email_of(PEOPLE["coordinator"][0])))
    cbo = demo_id("organization", "cbo-0")
    demo.delete(demo.scalar(select(Membership).where(Membership.user_id == person.id, Membership.organization_id == cbo)))
    demo.flush()  # declining deletes the offer
    seed_demo(session=demo, public_url="http://hub.test")
    assert demo.scalar(select(Membership).where(Membership.user_id == person.id, Membership.organization_id == cbo)) is None


def test_the_explorer_also_accepts_the_address_of_a_later_run_on_another_port(demo):
    from cbs_network.demo import EXPLORER_CLIENT_ID
    from cbs_network.oauth.models import OAuthClient

    seed_demo(session=demo, public_url="http://127.0.0.1:8080")
    explorer = demo.scalar(select(OAuthClient).where(OAuthClient.client_id == EXPLORER_CLIENT_ID))
    assert explorer.redirect_uris == [
        "http://hub.test/docs/oauth2-redirect.html",
        "http://127.0.0.1:8080/docs/oauth2-redirect.html",
    ]
    seed_demo(session=demo, public_url="http://127.0.0.1:8080")
    assert len(explorer.redirect_uris) == 2
