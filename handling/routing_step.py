"""Routing's part in one item's handling: what the pipeline asks the router for.

* ``staff_mail``: a reply from staff or an authority to our own mail about a case is not a
  complaint: it carries commands, a note, or the authority's answer.
* ``prepare`` + ``route``: a new case gets its category and deadlines before the
  acknowledgement is written (so it states the right limit), then is routed.
* ``follow_up``: the complainant's later mail is checked for names again (conflict of
  interest), and may complete the material or answer the survey.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from casework.inbound import Inbound, Receipt
from casework.models import Case
from casework.services import find_thread
from casework.status import OPEN_STATUSES
from routing.case_life import complainant_wrote
from routing.context import Desk
from routing.feedback import record_survey, survey_pending
from routing.investigation import material_arrived, waiting_for_material
from routing.router import Decision, decide, recheck_conflicts, route, set_deadlines
from routing.staffmail import handle, has_token


@dataclass(frozen=True)
class CaseRouter:
    desk: Desk
    reference_prefix: str

    def staff_mail(self, session: Session, inbound: Inbound, now: datetime) -> Receipt | None:
        sender = (inbound.sender_email or "").lower()
        if inbound.channel != "email" or not sender or inbound.sender_unverified:
            return None  # a From that may be forged never acts for staff or an authority
        known = self.desk.config.staff_by_email(sender) is not None or any(
            a.email.lower() == sender for a in self.desk.config.authorities.values())
        if not known and not has_token(inbound):
            return None
        by_reference = find_thread(session, inbound, self.reference_prefix) if known else None
        result = handle(session, self.desk, inbound, by_reference, now)
        if result is None:
            return None
        return Receipt(result.case.id, result.case.reference, result.outcome)

    def prepare(self, case: Case, inbound: Inbound) -> Decision:
        """Decide the category and set its deadlines; nothing is written but the case."""
        decision = decide(self.desk, case, category_hint=inbound.category_hint,
                          sender_email=inbound.sender_email)
        set_deadlines(self.desk, case, decision)
        return decision

    def route(self, session: Session, case: Case, decision: Decision, now: datetime) -> None:
        route(session, self.desk, case, decision, now)

    def resolve_working_days(self, decision: Decision) -> int | None:
        """The resolution limit the acknowledgement states: the category's, if one matched."""
        if decision.category is None:
            return None
        return self.desk.config.categories[decision.category].limits.resolve.days

    def follow_up(self, session: Session, case: Case, inbound: Inbound, now: datetime) -> bool:
        """The complainant wrote again; True when routing dealt with it (material, survey)."""
        self._recheck(session, case, inbound, now)  # first: nobody named hears of it
        # A case that ended (withdrawn, rejected, merged) waits for no material any more.
        if case.status in OPEN_STATUSES and waiting_for_material(session, case):
            if not material_arrived(session, self.desk, case, now):
                self._tell_handler(session, case, inbound, now)  # still incomplete
            return True  # complete: the handler's assignment mail comes again
        if survey_pending(session, case):
            if record_survey(session, self.desk, case, inbound.text, now) is None:
                self._tell_handler(session, case, inbound, now)  # not a rating: news
            return True
        self._tell_handler(session, case, inbound, now)
        return False

    def _recheck(self, session: Session, case: Case, inbound: Inbound, now: datetime) -> None:
        """Conflict of interest, every time: a later mail, call-log row or message typed in
        by staff that names the handler (or their head) moves the case away from them; on
        a merged case, the surviving case too."""
        text = f"{inbound.subject}\n{inbound.text}"
        recheck_conflicts(session, self.desk, case, text, now)
        if case.merged_into_id is not None:
            survivor = session.get(Case, case.merged_into_id)
            if survivor is not None:
                recheck_conflicts(session, self.desk, survivor, text, now)

    def _tell_handler(self, session: Session, case: Case, inbound: Inbound,
                      now: datetime) -> None:
        """Whatever else the complainant writes reaches the handler, never sits silently."""
        complainant_wrote(session, self.desk, case, inbound.text, len(inbound.attachments),
                          inbound.message_id or inbound.raw_sha256 or inbound.origin
                          or now.isoformat(), now)
