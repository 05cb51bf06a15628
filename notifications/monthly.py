"""What the director's monthly summary says (``notifications.notices.director`` queues it):
last month's figures against the month before, from ``casework.figures``. Apart from the
notice so that the sample data (``notifications.samples``) can build one too."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from casework.figures import Figures
from notifications.contexts import Context, OrganisationInfo


@dataclass(frozen=True)
class SummaryLine:
    zh: str
    en: str
    month: str  # last month, as shown
    before: str  # the month before


@dataclass(frozen=True)
class MonthSummary:
    """What the summary says: figures of the cases received in ``month`` (and ``before``),
    violations recorded in it, and the cases overdue on ``today`` whenever received."""

    month: date  # the first day of the month summarised
    before: date
    lines: tuple[SummaryLine, ...]
    overdue_today: int
    today: date

    @classmethod
    def of(cls, month: Figures, before: Figures, *, overdue_today: int,
           today: date) -> MonthSummary:
        lines = tuple(SummaryLine(zh, en, pick(month), pick(before))
                      for zh, en, pick in LINES)
        return cls(month.period.start, before.period.start, lines, overdue_today, today)


LINES: tuple[tuple[str, str, Callable[[Figures], str]], ...] = (
    ("收到案件", "Cases received", lambda f: str(f.total)),
    ("按时回执率", "Acknowledged on time",
     lambda f: _rate(f.acknowledgement.on_time, f.acknowledgement.decided)),
    ("已办结", "Resolved", lambda f: str(len(f.resolution_days))),
    ("按时办结率", "Resolved on time",
     lambda f: _rate(f.resolution.on_time, f.resolution.decided)),
    ("当月案件中超期未办结", "Of the month's cases, open past the deadline",
     lambda f: str(f.overdue_open)),
    ("重开", "Reopened", lambda f: str(f.reopened)),
    ("新登记违诺", "Violations recorded", lambda f: str(len(f.violations))),
)


def _rate(part: int, whole: int) -> str:
    return f"{part / whole * 100:.1f}% ({part}/{whole})" if whole else "—"


def monthly_summary_context(*, summary: MonthSummary, director_to: str,
                            org: OrganisationInfo) -> Context:
    return {"summary": summary, "month": summary.month, "before": summary.before,
            "today": summary.today, "director_to": director_to, "org": org}
