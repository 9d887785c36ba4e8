"""CBS Network Hub: create_app() wires configuration, the database, the API and the OAuth server."""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify
from sqlalchemy import text
from werkzeug.middleware.proxy_fix import ProxyFix

from cbs_network.core.config import Settings
from cbs_network.core.db import Database


def create_app(settings: Settings | None = None, **overrides: Any) -> Flask:
    settings = settings or Settings()
    app = Flask(__name__, instance_relative_config=False)
    from cbs_network.http.serialize import OrjsonProvider

    app.json = OrjsonProvider(app)
    app.config.update(settings.flask_config())
    app.config.update(overrides)
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)  # type: ignore[method-assign]

    from cbs_network.http import headers, observability, ratelimit

    observability.configure_logging(settings.log_level)
    observability.init_app(app)
    headers.init_app(app)
    Database(settings.database_url, echo=settings.sql_echo).init_app(app)
    from cbs_network.audit import keys as audit_keys

    audit_keys.init_app(app)  # here, so a production app without CBS_AUDIT_KEYS refuses to start
    ratelimit.init_app(app)

    from cbs_network import spec_enums  # noqa: F401  (names the spec's shared enums)
    from cbs_network.http.api import Api

    api = Api(app, spec_kwargs=_spec_kwargs(settings))
    app.extensions["cbs_api"] = api
    _register_security_scheme(api)

    from cbs_network.audit.routes import blp as audit_blp
    from cbs_network.capacity.routes import blp as capacity_blp
    from cbs_network.committees.committees.routes import blp as committees_blp
    from cbs_network.committees.jurisdictions.routes import blp as jurisdictions_blp
    from cbs_network.committees.plans.routes import blp as safety_plans_blp
    from cbs_network.committees.reports.routes import blp as school_safety_blp
    from cbs_network.directory.locations.routes import blp as locations_blp
    from cbs_network.directory.programs.routes import blp as programs_blp
    from cbs_network.directory.schools.routes import blp as schools_blp
    from cbs_network.identity.routes import blp as identity_blp
    from cbs_network.oauth import server as oauth_server
    from cbs_network.oauth.clients.routes import blp as clients_blp
    from cbs_network.oauth.routes import bp as oauth_bp
    from cbs_network.organizations.routes import blp as organizations_blp
    from cbs_network.referrals.matching.routes import blp as referral_matching_blp
    from cbs_network.referrals.referrals.routes import blp as referrals_blp
    from cbs_network.referrals.subjects.routes import blp as subjects_blp
    from cbs_network.settings.routes import blp as directory_settings_blp

    for blp in (
        organizations_blp,
        identity_blp,
        clients_blp,
        audit_blp,
        schools_blp,
        programs_blp,
        locations_blp,
        directory_settings_blp,
        capacity_blp,
        subjects_blp,
        referrals_blp,
        referral_matching_blp,
        jurisdictions_blp,
        committees_blp,
        school_safety_blp,
        safety_plans_blp,
    ):
        api.register_blueprint(blp)
    oauth_server.init_app(app)
    from cbs_network.core import crypto

    crypto.init_app(app)
    app.register_blueprint(oauth_bp)

    from cbs_network.http import docs

    docs.init_app(app)
    _register_health(app)

    from cbs_network.cli import cbs

    app.cli.add_command(cbs)
    return app


def _spec_kwargs(settings: Settings) -> dict[str, Any]:
    from apispec.ext.marshmallow import MarshmallowPlugin

    from cbs_network.http.api import schema_name_resolver
    from cbs_network.http.problems import MAX_URL_LENGTH

    return {
        "marshmallow_plugin": MarshmallowPlugin(schema_name_resolver=schema_name_resolver),
        "info": {
            "description": (
                "The REST API of the CBS Network Hub: the network of Los Angeles city, county and "
                "school-district agencies and community-based organizations coordinating "
                "community-based safety around schools.\n\n"
                "Every `/api/v1` operation needs an OAuth 2.0 bearer token (client credentials "
                "for partner systems, authorization code + PKCE for people; use **Authorize** "
                "here). Errors are RFC 9457 `application/problem+json`; lists use keyset "
                "pagination (`limit`, `cursor`, `next_cursor`, `Link`); shared records carry an "
                "ETag that PATCH and DELETE must send back in `If-Match`; POST honours "
                f"`Idempotency-Key`. URLs (path and query string) may be up to {MAX_URL_LENGTH} bytes "
                "long; a longer one gets 414."
            ),
            "contact": {"name": "CBS Network Hub operators"},
            # The repository carries no licence file; SPDX spells a private licence LicenseRef-*.
            "license": {"name": "Proprietary", "identifier": "LicenseRef-Proprietary"},
        },
        "servers": [{"url": "/", "description": "This hub"}],
    }


def _register_security_scheme(api: Any) -> None:
    from cbs_network.identity.roles import SCOPES

    api.spec.components.security_scheme(
        "oauth2",
        {
            "type": "oauth2",
            "description": "Scopes are intersected with your role in the acting organization.",
            "flows": {
                "clientCredentials": {"tokenUrl": "/oauth/token", "scopes": SCOPES},
                "authorizationCode": {
                    "authorizationUrl": "/oauth/authorize",
                    "tokenUrl": "/oauth/token",
                    "refreshUrl": "/oauth/token",
                    "scopes": SCOPES,
                },
            },
        },
    )


def _register_health(app: Flask) -> None:
    @app.get("/healthz")
    def healthz():
        return jsonify(status="ok")

    @app.get("/readyz")
    def readyz():
        from cbs_network.core.db import get_db
        from cbs_network.http.problems import problem_response

        try:
            with get_db().engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception:  # noqa: BLE001 - any failure means not ready
            return problem_response(503, detail="The database is not reachable.")
        return jsonify(status="ready", database="ok")
