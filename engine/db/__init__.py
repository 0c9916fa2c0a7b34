"""SQLAlchemy 2 models, one module per aggregate, and the unit of work."""

from engine.db.announcement import Announcement
from engine.db.base import Base
from engine.db.delivery import Delivery
from engine.db.directory import ApiToken, Team, TeamMember, User
from engine.db.escalation import EscalationChain, EscalationStep
from engine.db.identity import LinkCode
from engine.db.incident import Alert, AlertPayload, ChatMessage, Counter, Incident, Note, TimelineEntry
from engine.db.integration import Integration, MaintenanceWindow, Route
from engine.db.phone import PhoneVerification, SmsOptOut
from engine.db.schedule import Override, Schedule, Shift
from engine.db.webhook import OutgoingWebhook

__all__ = [
    "Alert",
    "AlertPayload",
    "Announcement",
    "ApiToken",
    "Base",
    "ChatMessage",
    "Counter",
    "Delivery",
    "EscalationChain",
    "EscalationStep",
    "Incident",
    "Integration",
    "LinkCode",
    "MaintenanceWindow",
    "Note",
    "OutgoingWebhook",
    "Override",
    "PhoneVerification",
    "Route",
    "Schedule",
    "Shift",
    "SmsOptOut",
    "Team",
    "TeamMember",
    "TimelineEntry",
    "User",
]
