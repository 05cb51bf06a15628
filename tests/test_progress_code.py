"""The verification code (issue 15): made with secrets, stored hashed, read leniently, and
checked with the same work whether or not the case exists."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from casework.clock import SHANGHAI
from casework.inbound import Inbound
from casework.models import Case
from casework.progress import (
    ALPHABET,
    check_code,
    check_phone_tail,
    code_hash,
    issue_code,
    link_key,
    make_link_token,
    new_code,
    normalise_code,
    read_link_token,
)
from casework.services import CasePolicy, open_case

NOW = datetime(2026, 11, 24, 10, tzinfo=SHANGHAI)


class _Days:
    def add_working_days(self, start: date, n: int) -> date:
        return start


def _case(session: Session, channel: str = "email", phone: str | None = None) -> Case:
    inbound = Inbound(channel=channel, received_at=NOW, subject="收费问题", text="多收费",
                      sender_email="a@example.cn", sender_phone=phone)
    return open_case(session, inbound, calendar=_Days(), policy=CasePolicy())


def test_codes_use_the_unambiguous_alphabet_and_differ() -> None:
    codes = {new_code() for _ in range(200)}
    assert len(codes) == 200
    for code in codes:
        assert len(code) == 11 and code[5] == "-"
        assert set(code.replace("-", "")) <= set(ALPHABET)
    assert not set("01OIL") & set(ALPHABET)


def test_only_the_hash_is_stored_and_one_session_gets_one_code(
        session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as session:
        case = _case(session)
        code = issue_code(session, case)
        assert issue_code(session, case) == code  # the web form shows the mail's code
        reference = case.reference
    with session_factory() as session:
        stored = session.scalars(select(Case).where(Case.reference == reference)).one()
        assert stored.verify_hash == code_hash(reference, code)
        assert code.replace("-", "") not in (stored.verify_hash or "")
        assert check_code(stored, reference, code)
        assert check_code(stored, reference, " " + code.lower().replace("-", " ") + " ")
        full_width = "".join(chr(ord(c) + 0xFEE0) for c in code.replace("-", ""))
        assert check_code(stored, reference, full_width)
        assert not check_code(stored, reference, new_code())
        assert not check_code(stored, reference, "")
        assert not check_code(None, reference, code)  # an unknown reference never passes


def test_a_new_session_issues_a_new_code(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as session:
        case = _case(session)
        first = issue_code(session, case)
        reference = case.reference
    with session_factory.begin() as session:
        case = session.scalars(select(Case).where(Case.reference == reference)).one()
        second = issue_code(session, case)
    assert first != second
    with session_factory() as session:
        case = session.scalars(select(Case).where(Case.reference == reference)).one()
        assert check_code(case, reference, second) and not check_code(case, reference, first)


def test_phone_tail_only_for_a_hotline_caller(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as session:
        hotline = _case(session, "hotline", "138-0013-8000")
        mail = _case(session, "email", "13800138000")
        assert check_phone_tail(hotline, "8000")
        assert check_phone_tail(hotline, "８０００")
        assert not check_phone_tail(hotline, "8001")
        assert not check_phone_tail(hotline, "38000")  # four digits, no more
        assert not check_phone_tail(mail, "8000")
        assert not check_phone_tail(None, "8000")


def test_normalise_code_bounds_its_input() -> None:
    assert normalise_code("ab-cd " * 10_000) == "ABCD" * 10 + "ABC"  # the first 64 typed


def test_links_are_bound_to_case_and_purpose_and_expire() -> None:
    key = b"k" * 32
    token = make_link_token(key, 42, "survey", date(2026, 12, 31))
    assert read_link_token(key, token, "survey", date(2026, 12, 31)) == 42
    assert read_link_token(key, token, "survey", date(2027, 1, 1)) is None  # expired
    assert read_link_token(key, token, "progress", date(2026, 12, 1)) is None  # purpose
    assert read_link_token(b"x" * 32, token, "survey", date(2026, 12, 1)) is None  # key
    case, day, tag = token.split(".")
    assert read_link_token(key, f"43.{day}.{tag}", "survey", date(2026, 12, 1)) is None
    assert read_link_token(key, f"{case}.20991231.{tag}", "survey", date(2026, 12, 1)) is None
    for junk in ("", "...", "1.2", "a.b.c", "1.99999999." + tag, "１.20261231." + tag):
        assert read_link_token(key, junk, "survey", date(2026, 12, 1)) is None
    assert link_key(b"thread-key") != b"thread-key" and len(link_key(b"thread-key")) == 32
