"""The states a case can be in (the transitions are in ``casework.transitions``)."""

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


# How a channel reads to staff and complainants: (Simplified Chinese, English).
CHANNEL_LABELS: dict[str, tuple[str, str]] = {
    "email": ("邮件", "email"),
    "hotline": ("热线", "hotline"),
    "web": ("网页", "web form"),
    "letter": ("来信", "letter"),
    "visit": ("来访", "visit"),
    "media": ("媒体报道", "media report"),
    "phone": ("电话", "phone call"),
}


# How a status reads to staff and complainants: (Simplified Chinese, English).
STATUS_LABELS: dict[str, tuple[str, str]] = {
    "received": ("已收到", "received"),
    "acknowledged": ("已受理", "acknowledged"),
    "awaiting_material": ("待补材料", "awaiting material"),
    "routed": ("已分派", "routed"),
    "investigating": ("调查中", "investigating"),
    "referred": ("已移送", "referred"),
    "extended": ("已延期", "extended"),
    "resolved": ("已办结", "resolved"),
    "closed": ("已关闭", "closed"),
    "reopened": ("已重开", "reopened"),
    "withdrawn": ("已撤回", "withdrawn"),
    "rejected": ("不予受理", "rejected"),
}
