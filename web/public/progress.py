"""The public progress page (``/public/progress``): the reference plus a second factor —
the verification code of the acknowledgement (an anonymous complainant's receipt code), or
for a hotline caller the last four digits of the number they called from — shows where the
complaint stands in plain words (``handling.progress.plain``).

A wrong code and an unknown reference give the same page, and cost the same work: the
case is always looked up and both checks always hashed (``casework.progress``). Wrong
look-ups are counted per client address and per reference (``public_attempt``); past
either cap every look-up is refused for the hour, right codes too, so a cap cannot be
used to learn which guess was right.
"""

from __future__ import annotations

import unicodedata

from sqlalchemy import select
from sqlalchemy.orm import joinedload
from starlette.responses import Response

from casework.models import Case
from casework.progress import check_code, check_phone_tail, open_material_items, progress_of
from handling.progress import plain
from web.public.visitor import Visit

WHAT = "progress"


def progress_page(v: Visit) -> Response:
    if v.request.method != "POST":
        return v.render("public/progress.html", reference="", error=None)
    reference = "".join(unicodedata.normalize("NFKC", v.text("reference", 64)).split()).upper()
    code = v.text("code", 64)
    limited = (v.attempts(WHAT, failed_only=True) >= v.public.attempts_per_address
               or v.attempts(WHAT, failed_only=True, reference=reference[:32])
               >= v.public.attempts_per_reference)
    # One query whether or not the case exists: its complainant (for a hotline caller's
    # digits) comes in the same statement, so a real case costs no second query.
    case = v.db.scalar(select(Case).options(joinedload(Case.complainant))
                       .where(Case.reference == reference[:32]))
    # Both checks, always: the same hash work whatever the case and whichever matches.
    by_code = check_code(case, reference, code)
    by_phone = check_phone_tail(case, code)
    good = case is not None and (by_code or by_phone) and not limited
    v.note(WHAT, succeeded=good, reference=reference)
    if limited:
        return v.render("public/progress.html", 429, reference=reference,
                        error=v.w("rate_limited"))
    if not good or case is None:
        return v.render("public/progress.html", reference=reference, error=v.w("no_match"))
    desk = v.console.desk()
    words = plain(progress_of(case, open_material_items(v.db, case)),
                  desk.config if desk is not None else None, v.public.org_zh, v.public.org_en)
    return v.render("public/progress_result.html", progress=words)
