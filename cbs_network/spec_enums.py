"""The enums the spec names: each is one component (one class in a generated client) wherever
a request body, a response or a query parameter uses it, instead of a copy per use."""

from __future__ import annotations

from cbs_network.capacity.models import SlotUnit
from cbs_network.committees.models import MemberRole, MemberStatus, NeedPriority, NeedStatus, PlanState
from cbs_network.directory.models import GRADES, EvidenceBasis, LocationType, ProgramStatus, ProgramType, SchoolStatus
from cbs_network.directory.programs.schemas import LANGUAGE_CODES
from cbs_network.http.contract import name_enum
from cbs_network.identity.models import MembershipStatus
from cbs_network.identity.roles import SCOPES, Role
from cbs_network.organizations.models import OrganizationKind, OrganizationStatus
from cbs_network.referrals.matching.schemas import CAPACITY_STATUSES
from cbs_network.referrals.models import ConsentGiver, ConsentMethod, EmergencyReview, ReferralState, Urgency

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
