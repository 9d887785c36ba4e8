"""`flask cbs seed-scale` at a tiny size: the counts asked for, sealed subjects that decrypt, a
second run refused, and the same seed giving the same network."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from cbs_network import create_app
from cbs_network.directory.models import Program, School
from cbs_network.oauth.models import OAuthClient
from cbs_network.organizations.models import Organization
from cbs_network.referrals.models import Referral, ReferralTransition, Subject
from cbs_network.referrals.referrals.service import _need_description
from cbs_network.referrals.subjects.service import personal
from tests.conftest import make_settings

SIZES = [
    "--schools",
    "6",
    "--organizations",
    "30",
    "--programs",
    "40",
    "--subjects",
    "12",
    "--referrals",
    "300",
    "--as-of",
    "2026-06-01",
]


def seed(make_database_url, tmp_path, name: str):  # type: ignore[no-untyped-def]
    app = create_app(make_settings(make_database_url()), TESTING=True, RATELIMIT_ENABLED=False)
    result = app.test_cli_runner().invoke(args=["cbs", "seed-scale", *SIZES, "--credentials-file", str(tmp_path / name)])
    return app, result


def test_seed_scale_builds_the_sizes_asked_for(make_database_url, tmp_path) -> None:
    app, result = seed(make_database_url, tmp_path, "one.json")
    assert result.exit_code == 0, result.output
    assert "referrals" in result.output and " s" in result.output
    with app.app_context():
        session = app.extensions["cbs_db"].session()
        count = lambda model: session.scalar(select(func.count()).select_from(model))  # noqa: E731
        assert (count(Organization), count(School), count(Program), count(Subject), count(Referral)) == (30, 6, 40, 12, 300)
        assert count(ReferralTransition) >= 300
        referral = session.scalar(select(Referral).where(Referral.consent_id.is_not(None)).limit(1))
        subject = session.get(Subject, referral.subject_id)
        assert subject.organization_id == referral.source_organization_id
        values = personal(subject)
        assert values["given_name"] and values["district_student_id"].startswith("SCALE-")
        assert _need_description(referral)
        clients = json.loads((tmp_path / "one.json").read_text())["clients"]
        assert {c["label"] for c in clients} >= {"hub", "district", "cbo 1"}
        assert count(OAuthClient) == len(clients)

        again = app.test_cli_runner().invoke(args=["cbs", "seed-scale", *SIZES])
        assert again.exit_code != 0 and "already has" in again.output
        app.extensions["cbs_db"].session.remove()


def test_the_same_seed_makes_the_same_network(make_database_url, tmp_path) -> None:
    def snapshot(app):  # type: ignore[no-untyped-def]
        with app.app_context():
            session = app.extensions["cbs_db"].session()
            rows = session.execute(
                select(Referral.id, Referral.state, Referral.created_at, Referral.subject_id).order_by(Referral.id)
            ).all()
            app.extensions["cbs_db"].session.remove()
            return rows

    first, result_one = seed(make_database_url, tmp_path, "a.json")
    second, result_two = seed(make_database_url, tmp_path, "b.json")
    assert result_one.exit_code == 0 and result_two.exit_code == 0
    assert snapshot(first) == snapshot(second)
