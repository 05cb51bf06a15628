"""The published commitments (``/public/commitments``, clauses 二(二) and 四(二)): what can be
complained about, each category's time limits in their own unit (working or calendar
days), the material needed, the procedure, the hotline and mailbox, how to check progress,
what happens when a commitment is broken (clause 七) and the privacy notice.

Made from the routing file on every request, so it says what the daemon does: a changed
``routing.toml`` changes the page.
"""

from __future__ import annotations

from dataclasses import dataclass

from jinja2 import Environment
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from routing.directory import RoutingConfig, TimeLimit
from web.public.site import PublicSite, render, say_for
from web.public.words import Say


@dataclass(frozen=True)
class Commitment:
    category: str
    handled_by: str
    acknowledge: str
    route: str
    resolve: str
    material: tuple[str, ...]


@dataclass(frozen=True)
class Breach:
    clause: str
    what: str
    consequence: str


def days(limit: TimeLimit, say: Say) -> str:
    """A limit in its own unit: 15 个工作日, 30 个自然日."""
    return say("days_calendar" if limit.kind == "calendar" else "days_working", n=limit.days)


def commitments(config: RoutingConfig, say: Say) -> list[Commitment]:
    found = []
    for category in config.categories.values():
        department = config.departments.get(category.department)
        dept = say.pick(department.label_zh, department.label_en) if department else \
            category.department
        authority = config.authorities.get(category.authority)
        handled_by = say("referred", authority=authority.name, dept=dept) if authority else \
            say("internal", dept=dept)
        material = tuple(say.pick(item.label_zh, item.label_en) for key in category.material
                         if (item := config.material.get(key)) is not None)
        limits = category.limits
        found.append(Commitment(say.pick(category.label_zh, category.label_en), handled_by,
                                days(limits.acknowledge, say), days(limits.route, say),
                                days(limits.resolve, say), material))
    return found


def breaches(config: RoutingConfig, say: Say) -> list[Breach]:
    """The sanction table of clause 七, as the routing file states it."""
    found = []
    for sanction in config.sanctions.values():
        consequence = sanction.tier
        if sanction.compensation:
            consequence += f"；{say('compensation', amount=sanction.compensation)}"
        found.append(Breach(sanction.clause, sanction.label_zh, consequence))
    return found


class CommitmentsPage:
    def __init__(self, site: PublicSite, env: Environment) -> None:
        self.site = site
        self.env = env

    async def show(self, request: Request) -> Response:
        # The desk may read a changed routing file from disk: not on the event loop.
        desk = await run_in_threadpool(self.site.desk)
        say = say_for(request)
        config = desk.config if desk is not None else None
        return render(self.env, self.site, request, "public/commitments.html",
                      commitments=commitments(config, say) if config else [],
                      breaches=breaches(config, say) if config else [],
                      resolve_days=self.site.config.resolve_working_days)
