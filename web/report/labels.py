"""The report's words for the routing file's keys (categories, departments, authorities)."""

from __future__ import annotations

from routing.directory import RoutingConfig
from web.report.tables import Names


def names(config: RoutingConfig | None, lang: str) -> Names:
    """Labels from the routing file in ``lang``; a key it does not know is shown as it is."""
    if config is None:
        return Names(lang)
    en = lang == "en"

    def category(key: str) -> str:
        found = config.categories.get(key)
        return (found.label_en if en else found.label_zh) if found else key

    def department(key: str) -> str:
        found = config.departments.get(key)
        return (found.label_en if en else found.label_zh) if found else key

    def authority(key: str) -> str:
        found = config.authorities.get(key)
        return found.name if found else key

    def staff(key: str) -> str:
        found = config.staff.get(key)
        return found.name if found else key

    def violation(key: str) -> str:
        found = config.sanctions.get(key)
        return found.label_zh if found and not en else key

    return Names(lang, category, department, authority, staff, violation)
