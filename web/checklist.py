"""The checklist that builds the one notice of missing material (clause 四(四)).

Its items are the material the case's category requires in ``routing.toml`` (ticked when
``routing.material.missing_items`` finds them missing, as the router would), then the
other configured items; staff tick what to ask for and may type other items, and the
action of the command table that takes a list sends them all in one notice. The page also
says how many notices the case has had: a second one asking for an item that could have
been named in the first counts as a violation (``routing.investigation``).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from casework.models import Case, MaterialRequest
from routing.context import Desk
from routing.material import missing_items


@dataclass(frozen=True)
class Item:
    key: str
    label_zh: str
    label_en: str
    required: bool  # the category requires it
    missing: bool  # required and not found in what the complainant sent: ticked


@dataclass(frozen=True)
class Checklist:
    items: tuple[Item, ...]
    notices_before: int  # notices of missing material this case has had


def checklist_of(session: Session, desk: Desk | None, case: Case) -> Checklist:
    """The items to tick for ``case`` (none without routing rules)."""
    if desk is None:
        return Checklist((), 0)
    config = desk.config
    category = config.categories.get(case.category or "")
    required = list(category.material) if category else []
    missing = set(missing_items(config, case.category, case))
    keys = required + [k for k in config.material if k not in required]
    items = tuple(Item(k, config.material[k].label_zh, config.material[k].label_en,
                       k in required, k in missing) for k in keys if k in config.material)
    before = session.scalar(select(func.count(MaterialRequest.id))
                            .where(MaterialRequest.case_id == case.id)) or 0
    return Checklist(items, before)
