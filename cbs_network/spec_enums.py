"""The enums the spec names: each is one component (one class in a generated client) wherever
a request body, a response or a query parameter uses it, instead of a copy per use."""

from __future__ import annotations

from .capacity.models import SlotUnit
from .committees.models import MemberRole, MemberStatus, NeedPriority, NeedStatus, PlanState
from .directory.programs.schemas import LANGUAGE_CODES
from .directory.models import GRADES, EvidenceBasis, LocationType, ProgramStatus, ProgramType, SchoolStatus
from .http.contract import name_enum
from .identity.models import MembershipStatus
from .identity.roles import SCOPES, Role
from .organizations.models import OrganizationKind, OrganizationStatus
from .referrals.matching_schemas import CAPACITY_STATUSES
from .referrals.models import ConsentGiver, ConsentMethod, EmergencyReview, ReferralState, Urgency

for name, values in {
    "Grade": GRADES,
    "LanguageCode": LANGUAGE_CODES,
    "ProgramType": ProgramType,
    "ProgramStatus": ProgramStatus,
    "EvidenceBasis": EvidenceBasis,
    "LocationType": LocationType,
    "SchoolStatus": SchoolStatus,
    "OrganizationKind": OrganizationKind,
    "OrganizationStatus": OrganizationStatus,
    "Role": Role,
    "Scope": SCOPES,
    "MembershipStatus": MembershipStatus,
    "SlotUnit": SlotUnit,
    "CapacityStatus": CAPACITY_STATUSES,
    "ReferralState": ReferralState,
    "Urgency": Urgency,
    "EmergencyReviewState": EmergencyReview,
    "ConsentGiver": ConsentGiver,
    "ConsentMethod": ConsentMethod,
    "MemberRole": MemberRole,
    "MemberStatus": MemberStatus,
    "SafetyPlanState": PlanState,
    "PlanNeedStatus": NeedStatus,
    "PlanNeedPriority": NeedPriority,
}.items():
    name_enum(name, values)
