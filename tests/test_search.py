"""casework.search: the terms index behind the console's search, on SQLite and PostgreSQL.

Pure tests of how text becomes terms and a query becomes a plan; then real databases:
what ``queries.find_cases`` finds before the indexer has read a case (the tail, by
substring), after (the index), after an edit, a new message and an erasure, and never a
case the searching person is excluded from.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from casework import queries, search
from casework.clock import FixedClock
from casework.models import Case, CaseExclusion, CaseSearch, Message, Party, SearchMark
from casework.status import CaseStatus
from complaintd.app import App
from complaintd.settings import load_settings
from tests.test_service import complaint
from tests.test_service import setup as make_config

NOW = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)


# -- terms and plans ------------------------------------------------------------------------


def test_terms_are_chinese_characters_and_pairs_and_tails_of_other_words() -> None:
    terms = search.terms_of(["王芳：医院", "LO-2026-000123", None, "Ｐ1@Example.CN"])
    assert {"王", "芳", "王芳", "医", "院", "医院"} <= terms
    assert "芳医" not in terms  # the colon parts them
    assert {"lo", "o", "2026", "026", "000123", "00123", "123", "3"} <= terms
    assert {"p1", "1", "example", "xample", "cn", "n"} <= terms  # NFKC and case folded
    assert all(" " not in t and t for t in terms)


def test_a_long_word_keeps_tails_of_at_most_tail_characters() -> None:
    word = "abcdefghijklmnopqrstuvwxyz"
    terms = search.terms_of([word])
    assert word[:search.TAIL] in terms and word not in terms
    assert max(map(len, terms)) == search.TAIL and len(terms) == len(word)


def test_a_case_is_partial_past_the_terms_or_bytes_postgresql_can_hold() -> None:
    assert not search._row(1, ["王芳", None])["partial"]
    assert not search._row(1, [""])["partial"]
    rng = random.Random(7)
    hindi = " ".join("".join(chr(rng.randrange(0x915, 0x939)) for _ in range(40))
                     for _ in range(700))  # fmt: skip
    assert len(search.terms_of([hindi])) < search.MAX_TERMS
    row = search._row(1, [hindi])
    assert row["partial"] and row["terms"] == ""


@pytest.mark.parametrize(("query", "words", "exact"), [
    ("医院", [("医院", False)], True),
    (" 王 ", [("王", False)], True),
    ("医院收费", [("医院", False), ("院收", False), ("收费", False)], False),
    ("000123", [("000123", True)], True),
    ("MUM", [("mum", True)], True),
    ("mum@example", [("mum", True), ("example", True)], False),
    ("138-0000 1234", [("138", True), ("0000", True), ("1234", True)], False),
    ("医院!", [("医院", False)], False),  # the "!" must be there too: checked by substring
    ("王芳138", [("王芳", False), ("138", True)], False),
    ("abcdefghijklmnop", [("abcdefghijkl", True)], False),
])  # fmt: skip
def test_a_query_becomes_the_terms_it_needs(query: str, words: list[tuple[str, bool]],
                                            exact: bool) -> None:  # fmt: skip
    found = search.plan(query)
    assert found is not None
    assert list(found.words) == words and found.exact is exact


@pytest.mark.parametrize("query", ["%", "  ", "——", "@."])
def test_a_query_without_letters_or_digits_has_no_plan(query: str) -> None:
    assert search.plan(query) is None


# -- on the databases ---------------------------------------------------------------------

TEXTS = {  # number: (subject, complainant name, phone, message body)
    1: ("接线员态度粗暴", "王芳", "138-0000-1234", "电话里被挂断两次。"),
    2: ("项目款", "李娜", "13900005678", "孩子在医院做完手术，项目款一直没有到账。"),
    3: ("医疗费用", "张伟", None, "医生说医院另收费，院收据未给，医药费未报销。"),
    4: ("Late payment", "Wang Fang", "021 5555 0001", "The hospital bill was not paid."),
}


def _ref(number: int) -> str:
    return f"LO-2026-{number:06d}"


def _add(db: Session, number: int, subject: str, name: str, phone: str | None,
         body: str) -> Case:  # fmt: skip
    party = Party(name=name, phone=phone, email=f"p{number}@example.cn", created_at=NOW)
    case = Case(reference=_ref(number), status=CaseStatus.ROUTED, channel="email",
                subject=subject, summary=f"{name}来信", language="zh", received_at=NOW,
                complainant=party, created_at=NOW, updated_at=NOW)  # fmt: skip
    case.messages.append(Message(direction="in", channel="email", subject=subject,
                                 body_text=body, received_at=NOW))  # fmt: skip
    db.add(case)
    return case


@pytest.fixture
def db(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    with session_factory() as session:
        for number, texts in TEXTS.items():
            _add(session, number, *texts)
        session.flush()
        session.add(CaseExclusion(case_id=1, staff="li.na", reason="named", recorded_at=NOW))
        session.commit()
        yield session


def found(db: Session, text: str, hidden_from: str | None = None) -> set[int]:
    cases, total = queries.find_cases(db, text=text, limit=None, hidden_from=hidden_from)
    assert total == len(cases)
    return {int(c.reference[-6:]) for c in cases}


def indexed(db: Session, text: str) -> set[int]:
    """What the index alone finds (stale rows too; no tail, no substring check)."""
    plan = search.plan(text)
    assert plan is not None
    return set(db.scalars(search._indexed(db, plan)))


QUERIES = [("医院", {2, 3}), ("王芳", {1}), ("王", {1}), ("000002", {2}), ("00000", {1, 2, 3, 4}),
           ("13800001234", {1}), ("138-0000", {1}), ("5678", {2}), ("p3@example", {3}),
           ("hospital", {4}), ("HOSP", {4}), ("医院做完", {2}), ("另收费", {3}),
           ("医药费", {3}), ("医药", {3}), ("医院收", set()), ("wang fang", {4}),
           ("%", set()), ("态度粗暴 ", {1})]  # fmt: skip


def test_search_finds_the_same_before_and_after_the_indexer(db: Session) -> None:
    before = {text: found(db, text) for text, _ in QUERIES}  # all of it the tail
    assert search.catch_up(db) == 4
    db.commit()
    assert db.scalar(select(CaseSearch.terms).where(CaseSearch.case_id == 2))
    after = {text: found(db, text) for text, _ in QUERIES}
    assert before == after == dict(QUERIES)
    # The other listings take the same text filter (one vocabulary of filters).
    assert [c.reference for c in queries.list_cases(db, text="医院")] == [_ref(3), _ref(2)]
    assert queries.count_cases(db, text="医院", hidden_from="li.na") == 2
    assert queries.count_cases(db, text="王芳", hidden_from="li.na") == 0
    assert queries.count_by_status(db, text="医院")[CaseStatus.ROUTED] == 2
    assert search.catch_up(db) == 0  # nothing new


def test_the_index_itself_finds_two_character_words_and_parts_of_numbers(db: Session) -> None:
    search.catch_up(db)
    db.commit()
    assert indexed(db, "医院") == {2, 3}
    assert indexed(db, "王芳") == {1}
    assert indexed(db, "000003") == {3}
    assert indexed(db, "0000123") == {1}  # in the phone's digits
    assert indexed(db, "医院收") == {3}  # both pairs, not in a row: the substring check
    assert indexed(db, "example") == {1, 2, 3, 4}


def test_an_excluded_person_never_finds_the_case(db: Session) -> None:
    for text in ("王芳", "态度", "138", "000001", "挂断两次"):
        assert found(db, text) == {1}
        assert found(db, text, hidden_from="li.na") == set()  # as the tail
    search.catch_up(db)
    db.commit()
    for text in ("王芳", "态度", "138", "000001", "挂断两次"):
        assert found(db, text, hidden_from="li.na") == set()  # from the index
        assert found(db, text, hidden_from="someone.else") == {1}


def test_a_new_message_is_found_at_once_and_indexed_by_the_next_catch_up(db: Session) -> None:
    search.catch_up(db)
    db.commit()
    db.add(Message(case_id=3, direction="in", channel="email", subject="补充",
                   body_text="附上卫生院的收据。", received_at=NOW))  # fmt: skip
    db.commit()
    assert found(db, "卫生") == {3}  # not indexed yet: read by substring
    assert search.catch_up(db) == 1
    db.commit()
    assert indexed(db, "卫生") == {3} and found(db, "卫生") == {3}


def test_an_edited_party_or_case_is_searched_as_it_is_now(db: Session) -> None:
    search.catch_up(db)
    db.commit()
    party = db.get(Party, db.get(Case, 1).complainant_id)  # type: ignore[union-attr]
    assert party is not None
    party.name, party.email = "赵敏", "zm@example.org"
    db.get(Case, 2).subject = "退款申请"  # type: ignore[union-attr]
    db.commit()
    assert set(db.scalars(select(CaseSearch.case_id).where(CaseSearch.stale))) == {1, 2}
    assert indexed(db, "p1") == {1}  # the stale row's old terms, not trusted:
    assert found(db, "王芳") == {1}  # still in the summary ("王芳来信")
    assert found(db, "p1@example") == set() and found(db, "赵敏") == {1}
    assert found(db, "退款") == {2}
    assert search.catch_up(db) == 2
    db.commit()
    assert indexed(db, "赵敏") == {1} and indexed(db, "退款") == {2}
    assert found(db, "p1@example") == set() and indexed(db, "p1") == set()
    assert found(db, "项目款") == {2}  # still in the mail


def test_an_erased_case_leaves_the_index(db: Session) -> None:
    search.catch_up(db)
    db.commit()
    case = db.get(Case, 2)
    assert case is not None
    db.delete(case)  # its messages and timeline go with it
    db.commit()
    assert found(db, "医院") == {3}
    search.catch_up(db)
    db.commit()
    assert db.get(CaseSearch, 2) is None and indexed(db, "医院") == {3}


def test_a_bounded_catch_up_leaves_the_rest_to_the_tail(db: Session) -> None:
    assert search.catch_up(db, limit=2) == 2
    db.commit()
    assert set(db.scalars(select(CaseSearch.case_id))) == {1, 2}
    assert found(db, "hospital") == {4} and found(db, "医药") == {3}
    assert search.catch_up(db, limit=2) == 2
    db.commit()
    assert found(db, "hospital") == {4} and indexed(db, "医药") == {3}


def test_repair_indexes_a_case_the_marks_passed_over(db: Session) -> None:
    search.catch_up(db)
    db.commit()
    db.execute(delete(CaseSearch).where(CaseSearch.case_id == 3))  # as if committed late
    db.commit()
    assert indexed(db, "医药") == set()
    assert search.repair(db) == 1
    db.commit()
    assert indexed(db, "医药") == {3}


def _mark(db: Session, name: str, value: int) -> None:
    db.execute(update(SearchMark).where(SearchMark.name == name).values(value=value))


def _only_postgresql(db: Session) -> None:
    if db.get_bind().dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time: its ids become visible in order")


def test_a_message_committed_below_the_mark_is_indexed(db: Session) -> None:
    """A second writer's message that became visible after the mark passed its id: its
    case's row counts fewer messages than it has, so the next catch-up indexes it."""
    _only_postgresql(db)
    search.catch_up(db)
    db.commit()
    late = Message(case_id=4, direction="in", channel="email", subject="补充",
                   body_text="附上药房的收据。", received_at=NOW)  # fmt: skip
    db.add(late)
    db.flush()
    _mark(db, "message", late.id + 3)  # as if later messages had been read before it
    db.commit()
    assert search.catch_up(db) == 1
    db.commit()
    assert indexed(db, "药房") == {4} and found(db, "药房") == {4}
    assert search.catch_up(db) == 0


def test_a_case_committed_below_the_mark_is_indexed(db: Session) -> None:
    _only_postgresql(db)
    search.catch_up(db)
    db.commit()
    case = _add(db, 5, "挂号", "周洋", None, "排队三小时仍未挂上号。")
    db.flush()
    _mark(db, "case", case.id + 2)
    _mark(db, "message", case.messages[0].id + 2)
    db.commit()
    assert found(db, "挂号") == set()  # passed over by both marks, until the catch-up
    assert search.catch_up(db) == 1
    db.commit()
    assert indexed(db, "挂号") == {5} and found(db, "挂号") == {5}
    assert search.catch_up(db) == 0


def test_two_writers_out_of_id_order_lose_nothing(session_factory: sessionmaker[Session],
                                                  db: Session) -> None:
    """The first writer takes the lower ids but commits after the second, and after an
    indexer ran in between; the next catch-up indexes its case and message without
    waiting for the hourly repair."""
    _only_postgresql(db)
    search.catch_up(db)
    db.commit()
    with session_factory() as first, session_factory() as second:
        early = _add(first, 6, "退费", "钱程", None, "退费申请被退回三次。")
        first.add(Message(case_id=2, direction="in", channel="email", subject="补充",
                          body_text="医院财务科说明。", received_at=NOW))  # fmt: skip
        first.flush()  # the lower ids, not yet committed
        later = _add(second, 7, "投诉", "孙丽", None, "热线一直占线。")
        second.add(Message(case_id=3, direction="in", channel="email", subject="补充",
                           body_text="又打了一次。", received_at=NOW))  # fmt: skip
        second.commit()
        ids = {"early": early.id, "later": later.id}
        assert ids["early"] < ids["later"]
        with session_factory() as indexer:
            search.catch_up(indexer)
            indexer.commit()
        first.commit()
    db.expire_all()
    search.catch_up(db)
    db.commit()
    assert found(db, "退费") == {6} and found(db, "财务科") == {2}
    assert indexed(db, "退费") == {ids["early"]} and indexed(db, "财务科") == {2}
    assert indexed(db, "占线") == {ids["later"]}


def test_a_case_with_too_much_text_is_read_by_substring(db: Session) -> None:
    rng = random.Random(14)
    body = "".join(chr(rng.randrange(0x4E00, 0x9FA5)) for _ in range(40_000)) + "缴费单丢失"
    _add(db, 5, "很长的信", "周洋", None, body)
    db.commit()
    search.catch_up(db)
    db.commit()
    row = db.get(CaseSearch, 5)
    assert row is not None and row.partial and row.terms == ""
    assert found(db, "缴费单") == {5} and found(db, "周洋") == {5}


# -- the daemon's job -----------------------------------------------------------------------


def test_the_daemon_indexes_what_intake_stored(tmp_path: Path) -> None:
    """Through the migrations (0013's FTS5 table) and a real intake round on SQLite."""
    from complaintd.service import build_scheduler

    config = make_config(tmp_path)
    (tmp_path / "mail" / "new" / "1.M1.host").write_bytes(complaint(1))
    app = App.build(load_settings(config), FixedClock(NOW))
    app.run_once()
    assert app.index_search() == 1
    assert app.index_search() == 0 and app.repair_search() == 0
    with app.session_factory() as session:
        assert indexed(session, "太慢") == {1}  # "服务太慢。"
        assert indexed(session, "person1") == {1}
    jobs = build_scheduler(app).get_jobs()
    assert {"search", "search-repair"} <= {job.id for job in jobs}
    app.close()
