from __future__ import annotations

from typing import Any, Callable

import marshmallow as ma
from marshmallow import validate

from cbs_network.committees.reports import service as views
from cbs_network.committees.schemas import check_school_year, school_year_on
from cbs_network.core import clock
from cbs_network.core.db import session
from cbs_network.http.api import Blueprint
from cbs_network.http.csv_export import CSV_RESPONSE, csv_response
from cbs_network.http.schemas import Schema

blp = Blueprint(
    "school_safety",
    __name__,
    url_prefix="/api/v1/school-safety",
    description="The network's views across schools: committee gaps, overdue safety plans, and schools that need "
    "safe passage and have no program providing it. JSON, or CSV with format=csv.",
)


class ViewArgsSchema(Schema):
    region = ma.fields.String(load_default=None, validate=validate.Length(max=60))
    board_district = ma.fields.Integer(load_default=None, validate=validate.Range(min=1, max=99))
    format = ma.fields.String(load_default="json", validate=validate.OneOf(["json", "csv"]))


class YearViewArgsSchema(ViewArgsSchema):
    school_year = ma.fields.String(
        load_default=None,
        validate=check_school_year,
        metadata={
            "example": "2026-27",
            "description": "July 1 to June 30 (default: the school year of `as_of`, so today's in Los Angeles)",
        },
    )
    as_of = ma.fields.Date(
        load_default=None, metadata={"description": "Judge terms and deadlines on this day (default today in Los Angeles)"}
    )

    @ma.post_load
    def _defaults(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        data["as_of"] = data["as_of"] or clock.today()
        data["school_year"] = data["school_year"] or school_year_on(data["as_of"])
        return data


class SafePassageArgsSchema(ViewArgsSchema):
    school_year = ma.fields.String(
        load_default=None,
        validate=check_school_year,
        metadata={"description": "Only needs of this year's plans (default: every year's)"},
    )


class _SchoolRow(Schema):
    school_id = ma.fields.UUID()
    cds_code = ma.fields.String()
    school_name = ma.fields.String()
    region = ma.fields.String(allow_none=True)
    board_district = ma.fields.Integer(allow_none=True)


class CommitteeGapSchema(_SchoolRow):
    committee_id = ma.fields.UUID(allow_none=True, metadata={"description": "Null: no committee for the year"})
    missing_roles = ma.fields.List(ma.fields.String())
    lacks_cbo_representative = ma.fields.Boolean()


class OverduePlanSchema(_SchoolRow):
    plan_id = ma.fields.UUID(allow_none=True, metadata={"description": "Null: no plan opened for the year"})
    plan_state = ma.fields.String(allow_none=True)
    due_on = ma.fields.Date()
    days_overdue = ma.fields.Integer()


class SafePassageGapSchema(_SchoolRow):
    need_ids = ma.fields.List(ma.fields.UUID())
    locations = ma.fields.List(ma.fields.String(), metadata={"description": "The streets and stops the needs name"})


def _list(item: type[Schema]) -> type[Schema]:
    return type(
        item.__name__.removesuffix("Schema") + "ListSchema",
        (Schema,),
        {"items": ma.fields.List(ma.fields.Nested(item), required=True)},
    )


def _answer(rows: list[dict[str, Any]], schema: type[Schema], args: dict[str, Any], filename: str) -> Any:
    if args["format"] != "csv":
        return {"items": rows}
    return csv_response(list(schema._declared_fields), schema(many=True).dump(rows), filename)


def _view(args: dict[str, Any], compute: Callable[..., list[dict[str, Any]]], **extra: Any) -> list[dict[str, Any]]:
    return compute(session(), region=args["region"], board_district=args["board_district"], **extra)


@blp.route("/committee-gaps", methods=["GET"])
@blp.requires("committees:read")
@blp.arguments(YearViewArgsSchema, location="query")
@blp.response(
    200,
    _list(CommitteeGapSchema),
    example={
        "items": [
            {
                "school_id": "4d5e6f7a-8b9c-4d0e-8f1a-2b3c4d5e6f7a",
                "cds_code": "19647331933746",
                "school_name": "Jordan High School",
                "region": "South",
                "board_district": 7,
                "committee_id": None,
                "missing_roles": ["cbo_representative", "parent"],
                "lacks_cbo_representative": True,
            }
        ]
    },
)
@blp.doc(responses={200: CSV_RESPONSE})
def committee_gaps(args):
    """Schools whose committee lacks a required role, or that have no committee for the year

    Required roles come from each school's jurisdictions (the state's composition, the
    network's CBO representative, a district's pupil rule); members count while active and
    within their term on `as_of`.
    """
    rows = _view(args, views.committee_gaps, school_year=args["school_year"], as_of=args["as_of"])
    return _answer(rows, CommitteeGapSchema, args, f"committee-gaps-{args['school_year']}.csv")


@blp.route("/overdue-plans", methods=["GET"])
@blp.requires("committees:read")
@blp.arguments(YearViewArgsSchema, location="query")
@blp.response(
    200,
    _list(OverduePlanSchema),
    example={
        "items": [
            {
                "school_id": "4d5e6f7a-8b9c-4d0e-8f1a-2b3c4d5e6f7a",
                "cds_code": "19647331933746",
                "school_name": "Jordan High School",
                "region": "South",
                "board_district": 7,
                "plan_id": None,
                "plan_state": None,
                "due_on": "2026-10-01",
                "days_overdue": 12,
            }
        ]
    },
)
@blp.doc(responses={200: CSV_RESPONSE})
def overdue_plans(args):
    """Schools past the year's safety-plan deadline without an approved plan

    A school that never opened a plan counts too, against its jurisdiction's deadline.
    """
    rows = _view(args, views.overdue_plans, school_year=args["school_year"], as_of=args["as_of"])
    return _answer(rows, OverduePlanSchema, args, f"overdue-plans-{args['school_year']}.csv")


@blp.route("/safe-passage-gaps", methods=["GET"])
@blp.requires("committees:read")
@blp.arguments(SafePassageArgsSchema, location="query")
@blp.response(
    200,
    _list(SafePassageGapSchema),
    example={
        "items": [
            {
                "school_id": "4d5e6f7a-8b9c-4d0e-8f1a-2b3c4d5e6f7a",
                "cds_code": "19647331933746",
                "school_name": "Jordan High School",
                "region": "South",
                "board_district": 7,
                "need_ids": ["0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"],
                "locations": ["103rd St between Grape St and Wilmington Ave; the Metro A Line stop"],
            }
        ]
    },
)
@blp.doc(responses={200: CSV_RESPONSE})
def safe_passage_gaps(args):
    """Schools with an open safe-passage need and no active safe-passage program serving them

    The coverage gap the district's analysis asks for: a plan's needs assessment found unsafe
    ingress or egress, and no program's service area (schools, regions or polygon) covers the school.
    """
    rows = _view(args, views.safe_passage_gaps, school_year=args["school_year"])
    return _answer(rows, SafePassageGapSchema, args, "safe-passage-gaps.csv")
