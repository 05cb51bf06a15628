"""The states a case can be in (the transitions are in ``casework.states``)."""

from __future__ import annotations

import enum


class CaseStatus(enum.StrEnum):
    RECEIVED = "received"
    ACKNOWLEDGED = "acknowledged"
    AWAITING_MATERIAL = "awaiting_material"
    ROUTED = "routed"
    INVESTIGATING = "investigating"
    REFERRED = "referred"
    EXTENDED = "extended"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REOPENED = "reopened"
    WITHDRAWN = "withdrawn"
    REJECTED = "rejected"


OPEN_STATUSES = frozenset(CaseStatus) - {
    CaseStatus.RESOLVED,
    CaseStatus.CLOSED,
    CaseStatus.WITHDRAWN,
    CaseStatus.REJECTED,
}
