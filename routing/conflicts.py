"""Conflict of interest: a complaint that names a staff member never reaches that person.

Names and aliases come from the staff directory. A Chinese name is looked for as plain text
(a name cut into two words by the segmenter must still count: a false hit only keeps one
more person away from a case, a miss would show the complaint to the person it is about);
a Latin alias is matched as whole words. Naming a department head sends the case to the
next level up (``top``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.models import Case, CaseExclusion
from casework.transitions import record
from routing.context import ACTOR_ROUTER
from routing.directory import RoutingConfig

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")


def named_staff(config: RoutingConfig, text: str) -> dict[str, str]:
    """Staff id → the name or alias found in ``text``."""
    found: dict[str, str] = {}
    lowered = text.lower()
    for key, person in config.staff.items():
        for name in (person.name, *person.aliases):
            if _mentions(lowered, name):
                found[key] = name
                break
    return found


def _mentions(lowered: str, name: str) -> bool:
    name = name.strip().lower()
    if not name:
        return False
    if _CJK.search(name):
        return name in lowered
    return re.search(r"(?<![\w])" + re.escape(name) + r"(?![\w])", lowered) is not None


def record_exclusions(session: Session, case: Case, found: dict[str, str],
                      config: RoutingConfig, now: datetime) -> None:
    for staff_id, name in found.items():
        heads = [d for d, dep in config.departments.items() if dep.head == staff_id]
        reason = f"named in the complaint as {name!r}"
        session.add(CaseExclusion(case_id=case.id, case=case, staff=staff_id, reason=reason,
                                  recorded_at=now))
        record(case, "conflict_excluded", actor=ACTOR_ROUTER, at=now,
               details={"staff": staff_id, "why": reason, "head_of": heads})


def excluded(session: Session, case_id: int) -> set[str]:
    return set(session.scalars(select(CaseExclusion.staff)
                               .where(CaseExclusion.case_id == case_id)))


def allowed(people: Iterable[str], banned: set[str]) -> list[str]:
    return [p for p in people if p not in banned]


def supervisor_for(config: RoutingConfig, department: str | None, banned: set[str]) -> str:
    """The supervisor of the case; the next level up when the supervisor is named in it."""
    first = config.supervisor_of(department or "")
    dep = config.departments.get(department or "")
    if first in banned or (dep is not None and dep.head in banned):
        return config.top if config.top not in banned else config.triage_supervisor
    return first
