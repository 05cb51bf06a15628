"""What a complete complaint of a category needs, and what is still missing (clause 四(四)).

The router computes every missing item at intake so that one notice can list them all; the
same check runs again on each follow-up from the complainant, and the resolution clock
starts when nothing is missing any more.
"""

from __future__ import annotations

import re

from casework.models import Case, Message
from routing.directory import MaterialItem, RoutingConfig
from routing.segment import SegmentedText

_MONTHS = "jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec"
_DATE = re.compile(
    r"\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}"
    r"|\d{1,2}\s*月\s*\d{1,2}\s*[日号]"
    r"|昨天|前天|今天|上周|上星期|上个月|本月|星期[一二三四五六日天]|周[一二三四五六日]"
    rf"|\b\d{{1,2}}\s+(?:{_MONTHS})[a-z]*\b|\b(?:{_MONTHS})[a-z]*\s+\d{{1,2}}\b"
    r"|\byesterday\b|\blast (?:week|month|monday|tuesday|wednesday|thursday|friday)\b",
    re.IGNORECASE,
)


def missing_items(config: RoutingConfig, category: str | None, case: Case) -> list[str]:
    """The keys of the category's required items that the case does not have yet."""
    if category is None or category not in config.categories:
        return []
    text = "\n".join([case.subject, *(m.body_text for m in from_complainant(config, case))])
    segmented = SegmentedText(text)
    return [key for key in config.categories[category].material
            if not _present(config, config.material[key], case, text, segmented)]


def from_complainant(config: RoutingConfig, case: Case) -> list[Message]:
    """Inbound messages that are not staff replies or an authority's answer."""
    ours = {p.email.lower() for p in config.staff.values()}
    ours |= {a.email.lower() for a in config.authorities.values()}
    return [m for m in case.messages
            if m.direction == "in" and (m.sender or "").lower() not in ours]


def _present(config: RoutingConfig, item: MaterialItem, case: Case, text: str,
             segmented: SegmentedText) -> bool:
    if item.check == "contact":
        party = case.complainant
        return party is not None and bool(party.email or party.phone)
    if item.check == "date":
        return _DATE.search(text) is not None
    if item.check == "attachment":
        return any(m.attachments for m in from_complainant(config, case))
    return any(segmented.contains(k) for k in item.keywords)


def labels(config: RoutingConfig, keys: list[str]) -> list[dict[str, str]]:
    """The items as the notice shows them; free-text items (from a handler) pass as they are."""
    out = []
    for key in keys:
        item = config.material.get(key)
        out.append({"key": key, "zh": item.label_zh if item else key,
                    "en": item.label_en if item else key})
    return out


def resolve_item(config: RoutingConfig, text: str) -> str:
    """A handler's wording of an item → its configured key when it names one."""
    wanted = text.strip().lower()
    for key, item in config.material.items():
        if wanted in {key.lower(), item.label_zh.lower(), item.label_en.lower()}:
            return key
        if wanted and (wanted in item.label_zh.lower() or wanted in item.label_en.lower()):
            return key
    return text.strip()
