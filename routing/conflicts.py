"""Conflict of interest: a complaint that names a staff member never reaches that person.

Names and aliases come from the staff directory, normalised once when it loads
(``routing.names``). A Chinese name is looked for as plain text (a name cut into two words
by the segmenter must still count: a false hit only keeps one more person away from a case,
a miss would show the complaint to the person it is about); a Latin alias is matched as
whole words. Naming a department head sends the case to the
next level up (``top``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.models import Case, CaseExclusion
from casework.transitions import record
from routing.context import ACTOR_ROUTER
from routing.directory import RoutingConfig, Staff
from routing.names import NamePattern, NormalText, pattern


def named_staff(config: RoutingConfig, text: str) -> dict[str, str]:
    """Staff id → the name or alias found in ``text`` (both in ``routing.names``' normal
    form: width, case, traditional characters, spaces and invisible characters do not hide
    a name)."""
    found: dict[str, str] = {}
    normal = NormalText.of(text)
    made = config.name_patterns  # a property: asked once a text, not once a person
    for key, person in config.staff.items():
        for name in _patterns_of(made.get(key), person):
            if name.found_in(normal):
                found[key] = name.written
                break
    return found


def _patterns_of(made: tuple[NamePattern, ...] | None,
                 person: Staff) -> tuple[NamePattern, ...]:
    """The directory's patterns, made when it loaded (made here for a directory built
    some other way, e.g. copied with changes)."""
    if made is not None and [p.written for p in made] == _names(person):
        return made
    return tuple(p for p in (pattern(n) for n in _names(person)) if p is not None)


def _names(person: Staff) -> list[str]:
    return list(dict.fromkeys((person.name, *person.aliases)))


def record_exclusions(session: Session, case: Case, found: dict[str, str],
                      config: RoutingConfig, now: datetime, *,
                      where: str = "the complaint") -> None:
    """One ``CaseExclusion`` and one ``conflict_excluded`` event per person; the reason
    quotes the directory's name, never the complainant's text."""
    for staff_id, name in found.items():
        heads = [d for d, dep in config.departments.items() if dep.head == staff_id]
        reason = f"named in {where} as {name!r}"
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
