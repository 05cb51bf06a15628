"""The routing configuration: categories and rules, departments, staff, authorities, sanctions.

All of it is policy and lives in ``config/routing.toml`` (clause 八: the board changes
policy, not the programmers). ``load_routing`` validates the file and names the key of any
bad value; cross-references (a rule's department, a delegate, a supervisor) are checked too.
"""

from __future__ import annotations

import logging
import tomllib
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator

from routing.names import NamePattern, pattern

DayKind = Literal["working", "calendar"]

log = logging.getLogger("complaintd.routing")


class RoutingConfigError(Exception):
    """The routing file cannot be used; the message names the file, key and problem."""


class _Item(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TimeLimit(_Item):
    days: Annotated[int, Field(ge=1, le=365)]
    kind: DayKind = "working"


class Limits(_Item):
    acknowledge: TimeLimit = TimeLimit(days=1)
    route: TimeLimit = TimeLimit(days=2)
    resolve: TimeLimit = TimeLimit(days=15)


class MaterialItem(_Item):
    """One thing a complete complaint needs, and how the router sees whether it is there."""

    label_zh: str
    label_en: str
    check: Literal["contact", "date", "attachment", "keywords"]
    keywords: list[str] = []


class Category(_Item):
    label_zh: str
    label_en: str
    keywords: list[str] = []
    channels: list[str] = []
    sender_domains: list[str] = []
    # The department that handles the case (for an authority matter: tracks the referral).
    department: str
    # Set when the matter is within an administrative authority's powers (clause 三(五)).
    authority: str = ""
    material: list[str] = []
    limits: Limits = Limits()


class Away(_Item):
    start: date
    end: date


class Staff(_Item):
    name: str
    email: str
    aliases: list[str] = []
    department: str = ""
    delegate: str = ""
    away: list[Away] = []

    def is_away(self, day: date) -> bool:
        return any(p.start <= day <= p.end for p in self.away)


class Department(_Item):
    label_zh: str
    label_en: str
    head: str
    supervisor: str
    handlers: list[str] = []


class Authority(_Item):
    name: str
    email: str
    jurisdiction: str = ""
    expected_response_days: Annotated[int, Field(ge=1, le=365)] = 15
    follow_up_every_days: Annotated[int, Field(ge=1, le=365)] = 5
    # What a referral letter may carry about the complainant (clause 三(五), PIPL): "health"
    # lets the complaint's health details out, and only with the complainant's consent.
    referral_fields: list[Literal["name", "email", "phone", "health"]] = []


class Sanction(_Item):
    clause: str
    label_zh: str
    tier: str
    compensation: Decimal = Decimal("0")


class Extensions(_Item):
    """Clause 四(六) 延期服务: how many extensions a case may have, and the longest one (in
    working days, counted from the deadline it moves)."""

    count: Annotated[int, Field(ge=0, le=10)] = 1
    max_days: Annotated[int, Field(ge=1, le=365)] = 60


class Clock(_Item):
    # Working days before the resolution deadline when the handler is reminded.
    remind_days_before: list[Annotated[int, Field(ge=0, le=60)]] = [3, 1]
    # The limits of a category that names none (or leaves one of the three out).
    default_limits: Limits = Limits()
    # "Due soon" (the digest, the CLI): due within this many working days.
    due_soon_working_days: Annotated[int, Field(ge=0, le=60)] = 3
    # The supervisor is told this many working days after a missed deadline (0: the first
    # day after it); the violation of clause 七(二) is recorded on that first day anyway.
    escalate_after_working_days: Annotated[int, Field(ge=0, le=60)] = 0
    extensions: Extensions = Extensions()
    missed_deadline_violation: str = "missed_deadline"
    repeated_material_violation: str = "repeated_material_request"
    match: Literal["first", "best"] = "best"
    # A case in the triage queue must be routed within this limit, else it is escalated.
    triage_route_limit: TimeLimit = TimeLimit(days=2)
    # The daily digest goes out with the first sweep at or after this hour (Shanghai time).
    digest_hour: Annotated[int, Field(ge=0, le=23)] = 8


class RoutingConfig(_Item):
    clock: Clock = Clock()
    # Who gets cases no rule matches, and the one above every department head.
    triage_supervisor: str
    top: str
    material: dict[str, MaterialItem] = {}
    categories: dict[str, Category] = {}
    departments: dict[str, Department] = {}
    staff: dict[str, Staff] = {}
    authorities: dict[str, Authority] = {}
    sanctions: dict[str, Sanction] = {}
    # Each staff member's names and aliases in the conflict check's normal form (made once).
    _name_patterns: dict[str, tuple[NamePattern, ...]] = PrivateAttr(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _default_limits(cls, data: Any) -> Any:
        """A category's limits it does not name come from ``clock.default_limits``."""
        if not isinstance(data, dict):
            return data
        clock = data.get("clock")
        defaults = clock.get("default_limits") if isinstance(clock, dict) else None
        categories = data.get("categories")
        if not isinstance(defaults, dict) or not isinstance(categories, dict):
            return data
        filled = {key: _with_limits(cat, defaults) for key, cat in categories.items()}
        return {**data, "categories": filled}

    @model_validator(mode="after")
    def _references_exist(self) -> RoutingConfig:
        problems = [*self._category_problems(), *self._staff_problems()]
        if problems:
            raise ValueError("; ".join(problems))
        self._name_patterns = {key: _patterns(person) for key, person in self.staff.items()}
        return self

    @property
    def name_patterns(self) -> dict[str, tuple[NamePattern, ...]]:
        """Staff id → the normalised patterns of their name and aliases (``routing.names``)."""
        return self._name_patterns

    def _category_problems(self) -> list[str]:
        out = []
        for key, cat in self.categories.items():
            if cat.department not in self.departments:
                out.append(f"categories.{key}.department: unknown department {cat.department}")
            if cat.authority and cat.authority not in self.authorities:
                out.append(f"categories.{key}.authority: unknown authority {cat.authority}")
            out += [f"categories.{key}.material: unknown item {m}"
                    for m in cat.material if m not in self.material]
        return out

    def _staff_problems(self) -> list[str]:
        named = [self.triage_supervisor, self.top]
        named += [s.delegate for s in self.staff.values() if s.delegate]
        for dep in self.departments.values():
            named += [dep.head, dep.supervisor, *dep.handlers]
        return [f"unknown staff id {n}" for n in sorted(set(named)) if n not in self.staff]

    # -- look-ups -----------------------------------------------------------------

    def staff_by_email(self, email: str) -> tuple[str, Staff] | None:
        wanted = email.strip().lower()
        for key, person in self.staff.items():
            if person.email.lower() == wanted:
                return key, person
        return None

    def staff_by_name(self, text: str) -> str | None:
        wanted = text.strip().lower()
        for key, person in self.staff.items():
            names = {key.lower(), person.name.lower(), person.email.lower(),
                     *(a.lower() for a in person.aliases)}
            if wanted in names:
                return key
        return None

    def authority_by_name(self, text: str) -> str | None:
        wanted = text.strip().lower()
        for key, auth in self.authorities.items():
            if wanted in {key.lower(), auth.name.lower(), auth.email.lower()}:
                return key
        return None

    def supervisor_of(self, department: str) -> str:
        dep = self.departments.get(department)
        return dep.supervisor if dep else self.triage_supervisor

    def supervisors(self) -> list[str]:
        found = [d.supervisor for d in self.departments.values()]
        return list(dict.fromkeys([*found, self.triage_supervisor, self.top]))

    def violation(self, category: str) -> Sanction:
        try:
            return self.sanctions[category]
        except KeyError:
            raise KeyError(f"unknown violation category {category!r}; "
                           f"known: {', '.join(sorted(self.sanctions))}") from None


def _patterns(person: Staff) -> tuple[NamePattern, ...]:
    found = (pattern(name) for name in dict.fromkeys((person.name, *person.aliases)))
    return tuple(p for p in found if p is not None)


def _with_limits(category: Any, defaults: dict[str, Any]) -> Any:
    if not isinstance(category, dict):
        return category
    named = category.get("limits", {})
    if not isinstance(named, dict):
        return category  # reported by the validation, naming the key
    return {**category, "limits": {**defaults, **named}}


def load_routing(path: Path) -> RoutingConfig:
    """Read and validate the routing file, or raise RoutingConfigError."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RoutingConfigError(f"{path}: file not found") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise RoutingConfigError(f"{path}: not valid TOML: {exc}") from None
    try:
        return RoutingConfig.model_validate(raw)
    except ValidationError as exc:
        lines = [f"{path}: {'.'.join(str(p) for p in e['loc']) or '(top level)'}: {e['msg']}"
                 for e in exc.errors()]
        raise RoutingConfigError("\n".join(lines)) from None


class RoutingFile:
    """The routing file, read again when it changes on disk.

    Staff out-of-office periods (``away``) change often and must not need a restart:
    ``changed()`` is asked at the start of a poll or sweep round. A file that no longer
    validates is logged at ERROR (naming the key) and the configuration in use is kept.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp = _stamp(path)
        self.config = load_routing(path)

    def changed(self) -> RoutingConfig | None:
        """The new configuration when the file changed and is valid, else None."""
        stamp = _stamp(self.path)
        if stamp == self._stamp:
            return None
        # Remembered even when the new file is bad: one error per change, not per round.
        self._stamp = stamp
        try:
            config = load_routing(self.path)
        except RoutingConfigError as exc:
            log.error("routing: %s changed but cannot be used; keeping the rules in use: %s",
                      self.path, exc)
            return None
        log.info("routing: %s changed; new rules in use", self.path)
        self.config = config
        return config


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_mtime_ns, info.st_size
