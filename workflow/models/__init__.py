"""All mapped classes, importable from one place (Alembic reads ``Base.metadata`` from here)."""

from .base import Base, utcnow
from .calendar import CalendarDay, DayKind, DeadlineAction
from .handling import (
    DeliveryStatus,
    Department,
    RequestLink,
    ResponsibilityZone,
    RoutingRule,
    Supervision,
    Webhook,
    WebhookDelivery,
    WhistleCall,
)
from .notifications import Notification
from .outbox import OutboxMessage, OutboxStatus, ProcessedMessage
from .outcomes import Outcome
from .people import (
    Account,
    AuthToken,
    LoginAttempt,
    LoginOutcome,
    Member,
    MemberKind,
    Open311Client,
    PersonalDataRead,
    Registration,
    RegistrationStatus,
    Role,
    Unit,
)
from .places import Building, Community, Grid, Street
from .requests import (
    Channel,
    Claim,
    ClaimStatus,
    Evaluation,
    Photo,
    PhotoStage,
    Request,
    RequestEvent,
    Satisfaction,
    Status,
)
from .scoring import (
    AuditEntry,
    HoursEntry,
    MemberScore,
    PointEntry,
    PointReason,
    RunStatus,
    ScopeKind,
    ScoreRun,
    ScoringPolicy,
    UnitKind,
    UnitScore,
)
from .taxonomy import Category, DeadlineClass, Route, Urgency

__all__ = [
    "CalendarDay", "DayKind", "DeadlineAction", "DeadlineClass", "Notification",
    "Department", "DeliveryStatus", "RequestLink", "ResponsibilityZone", "RoutingRule", "Supervision", "Webhook",
    "WebhookDelivery", "WhistleCall",
    "Account", "AuthToken", "LoginAttempt", "LoginOutcome", "Base", "Building", "Category", "Channel", "Claim",
    "ClaimStatus",
    "Community", "Evaluation", "Grid", "Member", "MemberKind", "Open311Client",
    "PersonalDataRead", "Outcome", "OutboxMessage", "OutboxStatus", "Photo",
    "PhotoStage", "ProcessedMessage", "Registration", "RegistrationStatus", "Request", "RequestEvent",
    "AuditEntry", "HoursEntry", "MemberScore", "PointEntry", "PointReason", "RunStatus", "ScopeKind", "ScoreRun",
    "ScoringPolicy", "UnitKind", "UnitScore",
    "Role", "Route", "Satisfaction", "Status", "Street", "Unit", "Urgency", "utcnow",
]

# The tables of the domain packages, so that ``Base.metadata`` (Alembic, the tests' row counts) has
# them whatever was imported first. They import only ``.base`` from here.
from ..deliberation import models as _deliberation_models  # noqa: E402,F401
from ..identity import models as _identity_models  # noqa: E402,F401
from ..partylife import models as _partylife_models  # noqa: E402,F401
from ..people import models as _people_models  # noqa: E402,F401
from ..visits import models as _visits_models  # noqa: E402,F401
from ..volunteers import models as _volunteers_models  # noqa: E402,F401
