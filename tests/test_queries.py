"""casework.queries (and the outbox listing beside it) on SQLite and PostgreSQL.

One small register of cases is built with the real models; each test checks exactly which
rows a query returns and in which order.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from casework import queries, services
from casework.models import (
    Assignment,
    Case,
    CaseExclusion,
    MaterialRequest,
    Message,
    Party,
    QuarantineItem,
    Referral,
    TimelineEvent,
    Violation,
)
from casework.status import CaseStatus
from casework.tasks import CallTask
from notifications.models import OutboxMail, OutboxStatus
from notifications.review import OutboxEntry, list_mail

TODAY = date(2026, 12, 2)
NOW = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)
S = CaseStatus


def at(month: int, day: int) -> datetime:
    return datetime(2026, month, day, 1, 0, tzinfo=UTC)


# number: (status, channel, category, department, subject, resolve_due, received)
CASES = {
    1: (S.ROUTED, "email", "service_attitude", "volunteers", "志愿者态度恶劣，迟到再问",
        date(2026, 11, 30), at(11, 9)),
    2: (S.RESOLVED, "email", "payment", "finance", "Late PAYMENT of allowance",
        date(2026, 11, 20), at(11, 10)),
    3: (S.INVESTIGATING, "hotline", "service_attitude", "volunteers", "翻译 100% 迟到_问题",
        date(2026, 12, 4), at(11, 20)),
    4: (S.AWAITING_MATERIAL, "hotline", None, None, "Interpreter missing",
        date(2026, 12, 2), at(11, 25)),
    5: (S.ACKNOWLEDGED, "email", "payment", "finance", "补贴未发放 100 元",
        date(2026, 12, 20), at(12, 1)),
}  # fmt: skip


def ref(number: int) -> str:
    return f"LO-2026-{number:06d}"


def refs(cases: list[Case]) -> list[str]:
    return [case.reference for case in cases]


@pytest.fixture
def db(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    with session_factory() as session:
        yield session


@pytest.fixture
def register(db: Session) -> dict[int, Case]:
    """Five cases; li.na is excluded from 1 and 4; zhang.wei handles 1 and 2 (and handled 3)."""
    cases: dict[int, Case] = {}
    for number, (status, channel, category, department, subject, due, received) in \
            CASES.items():  # fmt: skip
        party = Party(name=f"投诉人{number}", email=f"p{number}@example.com",
                      created_at=received)  # fmt: skip
        case = Case(reference=ref(number), status=status, channel=channel, subject=subject,
                    summary=f"summary {number}", language="zh", category=category,
                    department=department, received_at=received, resolve_due=due,
                    complainant=party, created_at=received, updated_at=received)  # fmt: skip
        db.add(case)
        cases[number] = case
    db.flush()
    assign = [(1, "zhang.wei", None), (2, "zhang.wei", None), (3, "zhang.wei", at(11, 22)),
              (3, "wang.fang", None)]  # fmt: skip
    for number, handler, ended in assign:
        db.add(Assignment(case_id=cases[number].id, department="volunteers", handler=handler,
                          assigned_at=at(11, 21), ended_at=ended))  # fmt: skip
    for number in (1, 4):
        db.add(CaseExclusion(case_id=cases[number].id, staff="li.na", reason="named",
                             recorded_at=NOW))  # fmt: skip
    db.commit()
    return cases


# -- case listings -----------------------------------------------------------------------


def test_list_cases_newest_first_in_pages(db: Session, register: dict[int, Case]) -> None:
    assert refs(queries.list_cases(db)) == [ref(n) for n in (5, 4, 3, 2, 1)]
    assert refs(queries.list_cases(db, limit=2)) == [ref(5), ref(4)]
    assert refs(queries.list_cases(db, limit=2, offset=2)) == [ref(3), ref(2)]
    assert refs(queries.list_cases(db, limit=2, offset=4)) == [ref(1)]
    assert refs(queries.list_cases(db, limit=None, offset=3)) == [ref(2), ref(1)]


@pytest.mark.parametrize(("filters", "expected"), [
    ({"status": S.RESOLVED}, [2]),
    ({"overdue_on": TODAY}, [1]),  # 2 is past due but resolved; 4 is due today
    ({"overdue_on": date(2026, 12, 5)}, [4, 3, 1]),
    ({"channel": "hotline"}, [4, 3]),
    ({"category": "payment"}, [5, 2]),
    ({"department": "volunteers"}, [3, 1]),
    ({"handler": "zhang.wei"}, [2, 1]),  # 3's assignment to zhang.wei has ended
    ({"handler": "wang.fang"}, [3]),
    ({"search": "payment"}, [2]),  # any case
    ({"search": "lo-2026-000004"}, [4]),
    ({"search": "  000003 "}, [3]),
    ({"search": "100%"}, [3]),  # literal: not "100" followed by anything (5)
    ({"search": "到_问"}, [3]),  # literal: not 到, any one character, 问 (1)
    ({"search": ""}, [5, 4, 3, 2, 1]),
    ({"received_from": at(11, 10), "received_before": at(11, 25)}, [3, 2]),
    ({"hidden_from": "li.na"}, [5, 3, 2]),
    ({"hidden_from": "nobody"}, [5, 4, 3, 2, 1]),
    ({"channel": "email", "category": "payment", "status": S.ACKNOWLEDGED}, [5]),
    ({"department": "volunteers", "hidden_from": "li.na"}, [3]),
])  # fmt: skip
def test_list_and_count_cases_by_filter(db: Session, register: dict[int, Case],
                                        filters: queries.CaseFilters,
                                        expected: list[int]) -> None:  # fmt: skip
    assert refs(queries.list_cases(db, **filters)) == [ref(n) for n in expected]
    assert queries.count_cases(db, **filters) == len(expected)


def test_count_by_status_names_every_status(db: Session, register: dict[int, Case]) -> None:
    counts = queries.count_by_status(db)
    assert list(counts) == list(CaseStatus)
    assert counts == {s: 0 for s in CaseStatus} | {
        S.ROUTED: 1, S.RESOLVED: 1, S.INVESTIGATING: 1, S.AWAITING_MATERIAL: 1,
        S.ACKNOWLEDGED: 1}  # fmt: skip
    hidden = queries.count_by_status(db, hidden_from="li.na")
    assert {s: n for s, n in hidden.items() if n} == {
        S.RESOLVED: 1, S.INVESTIGATING: 1, S.ACKNOWLEDGED: 1}  # fmt: skip
    payment = queries.count_by_status(db, category="payment")
    assert {s: n for s, n in payment.items() if n} == {S.RESOLVED: 1, S.ACKNOWLEDGED: 1}


def test_case_by_reference_loads_what_show_prints(db: Session, session_factory:
                                                  sessionmaker[Session],
                                                  register: dict[int, Case]) -> None:  # fmt: skip
    case = register[3]
    db.add(Message(case_id=case.id, direction="in", channel="hotline", sender="13800001201",
                   received_at=at(11, 20), authentication="dkim=fail"))  # fmt: skip
    for kind in ("received", "routed"):
        db.add(TimelineEvent(case_id=case.id, at=at(11, 20), actor="system", kind=kind,
                             details={}))  # fmt: skip
    db.commit()
    with session_factory() as other:
        found = queries.case_by_reference(other, " lo-2026-000003 ")
        assert found is not None
        other.expunge(found)  # nothing can be loaded from here on
    assert found.reference == ref(3)
    assert [e.kind for e in found.events] == ["received", "routed"]
    assert [(m.sender, m.authentication) for m in found.messages] == [
        ("13800001201", "dkim=fail")]  # fmt: skip
    assert queries.case_by_reference(db, "LO-2026-000099") is None
    assert queries.case_by_reference(db, ref(4), hidden_from="li.na") is None
    assert queries.case_by_reference(db, ref(3), hidden_from="li.na") is not None


def test_overdue_cases_longest_overdue_first(db: Session, register: dict[int, Case]) -> None:
    assert refs(queries.overdue_cases(db, today=TODAY)) == [ref(1)]
    later = date(2026, 12, 21)
    assert refs(queries.overdue_cases(db, today=later)) == [ref(1), ref(4), ref(3), ref(5)]
    assert refs(queries.overdue_cases(db, today=later, hidden_from="li.na")) == [ref(3), ref(5)]
    assert refs(queries.overdue_cases(db, today=later, limit=2, offset=1)) == [ref(4), ref(3)]
    assert [queries.is_overdue(register[n], later) for n in range(1, 6)] == [
        True, False, True, True, True]  # fmt: skip
    assert [queries.is_overdue(register[n], TODAY) for n in range(1, 6)] == [
        True, False, False, False, False]  # fmt: skip


def test_overdue_filter_is_still_importable_from_services() -> None:
    assert services.overdue_filter is queries.overdue_filter


def test_due_soon_from_today_to_the_cut_off(db: Session, register: dict[int, Case]) -> None:
    # Due today (4) and on the cut-off (3) count; overdue (1) and resolved (2) do not.
    assert refs(queries.due_soon(db, today=TODAY, until=date(2026, 12, 4))) == [ref(4), ref(3)]
    assert refs(queries.due_soon(db, today=TODAY, until=date(2026, 12, 3))) == [ref(4)]
    assert refs(queries.due_soon(db, today=date(2026, 12, 3), until=date(2026, 12, 31))) == [
        ref(3), ref(5)]  # fmt: skip
    assert refs(queries.due_soon(db, today=TODAY, until=date(2026, 12, 31),
                                 hidden_from="li.na")) == [ref(3), ref(5)]  # fmt: skip


def test_awaiting_material_lists_open_requests_once(db: Session,
                                                   register: dict[int, Case]) -> None:  # fmt: skip
    def ask(number: int, day: int, done: bool = False) -> MaterialRequest:
        request = MaterialRequest(case_id=register[number].id, items=[f"item {day}"],
                                  requested_by="zhang.wei", requested_at=at(11, day),
                                  completed_at=at(11, 28) if done else None)  # fmt: skip
        db.add(request)
        return request

    ask(1, 12, done=True)  # answered
    ask(2, 11)  # open, but the case is resolved
    later = ask(4, 26)
    ask(4, 27)  # a second open request on the same case
    earlier = ask(3, 21)
    db.commit()
    waits = queries.awaiting_material(db)
    assert [(w.case.reference, w.request.id) for w in waits] == [
        (ref(3), earlier.id), (ref(4), later.id)]  # fmt: skip
    assert waits[1].request.items == ["item 26"]
    hidden = queries.awaiting_material(db, hidden_from="li.na")
    assert [w.case.reference for w in hidden] == [ref(3)]
    assert [w.case.reference for w in queries.awaiting_material(db, limit=1, offset=1)] == [
        ref(4)]  # fmt: skip


def test_referral_answers_due(db: Session, session_factory: sessionmaker[Session],
                              register: dict[int, Case]) -> None:  # fmt: skip
    def refer(number: int, authority: str, due: date | None, answered: bool = False) -> None:
        db.add(Referral(case_id=register[number].id, authority=authority, sent_at=at(11, 15),
                        answer_due=due, answered_at=at(11, 29) if answered else None))

    refer(1, "civil_affairs", date(2026, 12, 1))
    refer(2, "health", date(2026, 11, 25))  # case resolved, answer still owed
    refer(3, "labour", date(2026, 12, 2))  # due on the day: counts
    refer(3, "tax", date(2026, 12, 3))  # not yet
    refer(4, "police", date(2026, 11, 20), answered=True)
    refer(5, "market", None)  # no answer date was set
    db.commit()
    with session_factory() as other:
        due = queries.referral_answers_due(other, due_by=TODAY)
        other.expunge_all()  # the case must already be loaded
    assert [(r.case.reference, r.authority) for r in due] == [
        (ref(2), "health"), (ref(1), "civil_affairs"), (ref(3), "labour")]  # fmt: skip
    hidden = queries.referral_answers_due(db, due_by=TODAY, hidden_from="li.na")
    assert [r.authority for r in hidden] == ["health", "labour"]
    assert [r.authority for r in queries.referral_answers_due(db, due_by=date(2026, 11, 30))] \
        == ["health"]


# -- registers beside the cases -----------------------------------------------------------


def test_violation_register_in_recorded_order(db: Session, register: dict[int, Case]) -> None:
    for number, staff, tier in ((3, "wang.fang", "警告"), (1, "zhang.wei", "通报"),
                                (1, None, "记录"), (2, "zhang.wei", "赔偿")):  # fmt: skip
        db.add(Violation(case_id=register[number].id, staff=staff, category="missed_deadline",
                         clause="七(一)", sanction_tier=tier, compensation=Decimal("50.00"),
                         source="automatic", details={}, recorded_at=NOW))  # fmt: skip
    db.commit()
    rows = queries.violation_register(db)
    assert [(r.reference, r.violation.staff, r.violation.sanction_tier) for r in rows] == [
        (ref(3), "wang.fang", "警告"), (ref(1), "zhang.wei", "通报"), (ref(1), None, "记录"),
        (ref(2), "zhang.wei", "赔偿")]  # fmt: skip
    assert rows[0].violation.compensation == Decimal("50.00")
    mine = queries.violation_register(db, staff="zhang.wei")
    assert [(r.reference, r.violation.sanction_tier) for r in mine] == [
        (ref(1), "通报"), (ref(2), "赔偿")]  # fmt: skip
    assert queries.violation_register(db, staff="nobody") == []
    assert [r.violation.sanction_tier for r in queries.violation_register(db, limit=2, offset=1)] \
        == ["通报", "记录"]


def test_quarantine_items(db: Session) -> None:
    for n, resolved in ((1, None), (2, NOW), (3, None)):
        db.add(QuarantineItem(source="imap:reports", location=f"INBOX/{n}", raw_sha256=None,
                              reason=f"reason {n}", created_at=at(11, n), resolved_at=resolved))
    db.commit()
    assert [i.location for i in queries.quarantine_items(db)] == ["INBOX/1", "INBOX/3"]
    assert [i.location for i in queries.quarantine_items(db, include_resolved=True)] == [
        "INBOX/1", "INBOX/2", "INBOX/3"]  # fmt: skip
    assert [i.location for i in queries.quarantine_items(db, limit=1, offset=1)] == ["INBOX/3"]
    second = queries.quarantine_item(db, 2)
    assert second is not None and (second.location, second.reason) == ("INBOX/2", "reason 2")
    assert queries.quarantine_item(db, 99) is None


def test_call_tasks_due(db: Session, session_factory: sessionmaker[Session],
                        register: dict[int, Case]) -> None:  # fmt: skip
    for number, kind, day, done in ((3, "callback", date(2026, 12, 4), False),
                                    (4, "acknowledge", date(2026, 11, 26), False),
                                    (3, "acknowledge", date(2026, 11, 21), True),
                                    (4, "callback", date(2026, 12, 2), False)):  # fmt: skip
        db.add(CallTask(case_id=register[number].id, kind=kind, phone="13800001201", due=day,
                        created_at=NOW, done_at=NOW if done else None))  # fmt: skip
    db.commit()
    with session_factory() as other:
        due = queries.due_tasks(other, TODAY)
        every = queries.due_tasks(other)
        other.expunge_all()  # each task's case must already be loaded
    assert [(t.case.reference, t.kind) for t in due] == [
        (ref(4), "acknowledge"), (ref(4), "callback")]  # fmt: skip
    assert [(t.case.reference, t.kind) for t in every] == [
        (ref(4), "acknowledge"), (ref(4), "callback"), (ref(3), "callback")]  # fmt: skip


def test_outbox_listing_newest_first_failed_only_in_pages(
        db: Session, register: dict[int, Case]) -> None:  # fmt: skip
    statuses = (OutboxStatus.SENT, OutboxStatus.FAILED, OutboxStatus.PENDING,
                OutboxStatus.FAILED)  # fmt: skip
    for n, status in enumerate(statuses, start=1):
        db.add(OutboxMail(dedup_key=f"k{n}", case_id=register[n].id if n != 4 else None,
                          kind="acknowledgement", recipient="a@example.com",
                          sender="b@example.org", subject=f"mail {n}", message_id=f"<{n}@x>",
                          raw=b"raw", status=status, attempts=1,
                          next_attempt_at=NOW + timedelta(minutes=n), created_at=NOW))
    db.commit()
    listed = list_mail(db)
    assert all(isinstance(entry, OutboxEntry) for entry in listed)
    assert [(e.mail.subject, e.reference) for e in listed] == [
        ("mail 4", None), ("mail 3", ref(3)), ("mail 2", ref(2)), ("mail 1", ref(1))]  # fmt: skip
    assert [(e.mail.subject, e.reference) for e in list_mail(db, failed_only=True)] == [
        ("mail 4", None), ("mail 2", ref(2))]  # fmt: skip
    assert [e.mail.subject for e in list_mail(db, limit=2, offset=1)] == ["mail 3", "mail 2"]
    assert [e.mail.subject for e in list_mail(db, failed_only=True, offset=1)] == ["mail 2"]


def test_queries_write_nothing(db: Session, register: dict[int, Case]) -> None:
    before = db.scalars(select(Case.updated_at).order_by(Case.id)).all()
    queries.list_cases(db, overdue_on=TODAY, search="x", hidden_from="li.na")
    queries.count_by_status(db)
    queries.awaiting_material(db)
    assert not db.new and not db.dirty
    assert db.scalars(select(Case.updated_at).order_by(Case.id)).all() == before
