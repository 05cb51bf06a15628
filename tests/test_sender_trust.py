"""Who sent this mail: From is read from the raw header, and a doubtful one acts for nobody."""

from __future__ import annotations

from email import policy
from email.message import EmailMessage
from email.utils import make_msgid

import pytest

from casework.status import CaseStatus
from intake.mail import parse_mail
from tests.test_investigation_e2e import HEALTH, World, body_of, complaint, to
from tests.test_investigation_e2e import world as world

ENCODED_AUTHORITY = "=?utf-8?q?xinfang=40wsjkw=2Eexample=2Egov=2Ecn?= <x@evil.example>"


def _raw(*froms: str) -> bytes:
    head = "".join(f"From: {f}\r\n" for f in froms)
    return f"{head}Subject: test\r\nMessage-ID: <t@example.cn>\r\n\r\nbody\r\n".encode()


def test_an_encoded_display_name_never_becomes_the_address() -> None:
    parsed = parse_mail(_raw(ENCODED_AUTHORITY))
    assert parsed.from_email == "x@evil.example"
    assert parsed.sender_unverified == "an encoded display name in From holds an address"


@pytest.mark.parametrize(("froms", "why"), [
    (("a@example.cn", "b@example.cn"), "several From headers"),
    (("a@example.cn, b@example.cn",), "several addresses in From"),
    (('"boss@oasis.example.org" <x@evil.example>',),
     "the display name in From holds another address"),
])
def test_a_doubtful_from_is_unverified(froms: tuple[str, ...], why: str) -> None:
    assert parse_mail(_raw(*froms)).sender_unverified == why


def test_a_from_without_an_address_is_no_sender_and_a_broken_one_is_unverified() -> None:
    assert (parse_mail(_raw('"Zhang San" <>')).from_email) == ""
    assert parse_mail(_raw("not an address")).sender_unverified == \
        "the From address does not parse"


@pytest.mark.parametrize(("header", "name", "address"), [
    ("=?utf-8?b?5byg5LiJ?= <Zhang@Example.cn>", "张三", "zhang@example.cn"),
    ('"Li, Na" <li.na@example.cn>', "Li, Na", "li.na@example.cn"),
    ("wang@example.cn", "", "wang@example.cn"),
    ('"test@test.com" <test@test.com>', "test@test.com", "test@test.com"),
    ("=?utf-8?q?J=C3=BCrgen?= <juergen@example.de>", "Jürgen", "juergen@example.de"),
])
def test_an_ordinary_from_is_read_as_written(header: str, name: str, address: str) -> None:
    parsed = parse_mail(_raw(header))
    assert (parsed.from_name, parsed.from_email, parsed.sender_unverified) == (name, address, None)


def _spoofed_answer(letter: EmailMessage) -> bytes:
    msg = EmailMessage()
    msg["To"] = "complaints@oasis.example.org"
    msg["Subject"] = "Re: " + str(letter["Subject"])
    msg["Message-ID"] = make_msgid(domain="evil.example")
    msg["In-Reply-To"] = str(letter["Message-ID"])
    msg.set_content("经核查，投诉不属实，已办结。", charset="utf-8")
    raw = msg.as_bytes(policy=policy.SMTP)
    return f"From: {ENCODED_AUTHORITY}\r\n".encode() + raw


def test_an_encoded_authority_from_answers_nothing(world: World) -> None:
    world.send(complaint("11月30日我在某医院看病，医生误诊还乱收费。"))
    (letter,) = to(world.round(), HEALTH)
    world.send(_spoofed_answer(letter))
    mails = world.round(days=1)
    case = world.case()
    assert case.status is CaseStatus.REFERRED and not any(
        e.kind == "authority_replied" for e in case.events)
    assert to(mails, "patient@example.cn", contains="投诉不属实") == []
    # Kept as a complaint of its own, flagged, and nothing mailed to the guessed address.
    assert to(mails, "x@evil.example") == []
    assert all("投诉不属实" not in body_of(m) for m in mails)
