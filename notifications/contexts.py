"""What each notice's templates may use, built from plain values.

The notices and the start-up template check build their context with the same functions,
so a template that renders with the sample data renders with real data too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

Context = dict[str, Any]


@dataclass(frozen=True)
class OrganisationInfo:
    """The organisation as the mails present it (from settings)."""

    name: str
    name_en: str
    hotline_phone: str
    # The committed time limit shown in the acknowledgement (限时办结).
    resolve_working_days: int


def acknowledgement_context(
    *,
    reference: str,
    complainant_name: str | None,
    received_on: date,
    resolve_due: date,
    working_days: int,
    reply_address: str,
    org: OrganisationInfo,
) -> Context:
    """Clause 二(二): reference, procedure, time limit and how to add material."""
    return {
        "reference": reference,
        "complainant_name": complainant_name,
        "received_on": received_on,
        "resolve_due": resolve_due,
        "working_days": working_days,
        "reply_address": reply_address,
        "org": org,
    }


SAMPLE_ORGANISATION = OrganisationInfo(
    name="上海生命绿洲公益服务中心",
    name_en="Shanghai Life Oasis Public Welfare Service Center",
    hotline_phone="021-0000 0000",
    resolve_working_days=15,
)


def _sample_acknowledgement() -> Context:
    return acknowledgement_context(
        reference="LO-2026-000123",
        complainant_name="王小明",
        received_on=date(2026, 3, 2),
        resolve_due=date(2026, 3, 20),
        working_days=15,
        reply_address="tousu@example.org",
        org=SAMPLE_ORGANISATION,
    )


# Every notice with templates must have sample data here (the start-up check insists).
SAMPLE_CONTEXTS: dict[str, Callable[[], Context]] = {
    "acknowledgement": _sample_acknowledgement,
}
