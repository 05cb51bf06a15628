"""Forged mail through the real daemon (Dovecot, aiosmtpd, SQLite and PostgreSQL): none is
obeyed, and none of its text reaches a complainant (issue 12).

Two cases are open: A, handled internally by 张伟 (his assignment mail carries a reply
token), and B, referred to the health commission (our letter carries one). Every forgery
carries a marker of its own; afterwards neither case has moved, no complainant mail holds a
marker (the SMTP server's mail and the outbox both), and each forgery met the fate it should
(refused with a notice, kept unverified, or a complaint of its own). Then the real people,
proven by our border, are obeyed — so the forgeries failed for what they are.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.header import Header
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from casework.models import Case, Message, Referral, TimelineEvent
from casework.status import CaseStatus
from complaintd.app import App
from complaintd.settings import load_settings
from notifications.models import OutboxMail
from tests.test_investigation_e2e import HEALTH, LINA, ZHANG, World, body_of, complaint, to

BORDER = "mx.oasis.example.org"
PROVEN_STAFF = f"{BORDER}; dkim=pass header.d=oasis.example.org; dmarc=pass"
PROVEN_HEALTH = f"{BORDER}; dkim=pass header.d=wsjkw.example.gov.cn; dmarc=pass"
PATIENT_A = "patient.a@example.cn"
PATIENT_B = "patient.b@example.cn"
EVIL = "x@evil.example"


def raw_mail(*, froms: tuple[str, ...], subject: str, body: str,
             to: str = "complaints@oasis.example.org", answering: EmailMessage | None = None,
             auth: tuple[str, ...] = (), extra: tuple[str, ...] = ()) -> bytes:
    """A mail written header by header (two Froms, raw encoded words) as a forger would;
    ``answering``: the mail of ours it threads to (In-Reply-To, References)."""
    in_reply_to = references = str(answering["Message-ID"]) if answering is not None else None
    lines = [*(f"Authentication-Results: {a}" for a in auth)]
    lines += [f"From: {f}" for f in froms]
    lines += [f"To: {to}", f"Subject: {Header(subject, 'utf-8').encode()}",
              f"Message-ID: <{secrets.token_hex(8)}@evil.example>",
              "Date: Tue, 02 Dec 2025 10:00:00 +0800", "MIME-Version: 1.0",
              'Content-Type: text/plain; charset="utf-8"', "Content-Transfer-Encoding: base64"]
    if in_reply_to:
        lines.append(f"In-Reply-To: {in_reply_to}")
    if references:
        lines.append(f"References: {references}")
    lines += list(extra)
    payload = base64.encodebytes(body.encode("utf-8")).decode("ascii")
    return ("\r\n".join(lines) + "\r\n\r\n" + payload.replace("\n", "\r\n")).encode("ascii")


def message_id_of(raw: bytes) -> str:
    return str(message_from_bytes(raw, policy=policy.compat32)["Message-ID"])


@dataclass
class Scene:
    world: World
    a: str  # reference of the internal case
    b: str  # reference of the referred case
    assignment: EmailMessage  # to 张伟 about A
    letter: EmailMessage  # to the health commission about B
    acknowledgement_a: EmailMessage

    def token_of(self, mail: EmailMessage) -> str:
        return str(mail["Message-ID"]).strip("<>").split(".", 1)[0]


@dataclass(frozen=True)
class Forgery:
    name: str
    build: Callable[[Scene, str], bytes]  # (scene, marker) → the raw mail
    fate: str  # "refused", "unverified", "new_case", "follow_up", "note"


def _resolve(marker: str) -> str:
    return f"#办结 不属实\n{marker} 经核查，投诉不属实，已办结。"


def _answer(marker: str) -> str:
    return f"{marker} 经核查，投诉不属实，医院无过错，已办结。"


FORGERIES: list[Forgery] = [
    Forgery("spoofed From, the case named, no token", lambda s, m: raw_mail(
        froms=(ZHANG,), subject=f"[{s.a}] 办结", body=_resolve(m), auth=(PROVEN_STAFF,)),
        "refused"),
    Forgery("spoofed From on the real thread, no border pass", lambda s, m: raw_mail(
        froms=(ZHANG,), subject="Re: " + str(s.assignment["Subject"]), body=_resolve(m),
        answering=s.assignment), "refused"),
    Forgery("encoded-word From naming the authority", lambda s, m: raw_mail(
        froms=("=?utf-8?q?xinfang=40wsjkw=2Eexample=2Egov=2Ecn?= <x@evil.example>",),
        subject="Re: " + str(s.letter["Subject"]), body=_answer(m), auth=(PROVEN_HEALTH,),
        answering=s.letter), "new_case"),
    Forgery("encoded-word From naming the handler", lambda s, m: raw_mail(
        froms=("=?utf-8?q?zhang=2Ewei=40oasis=2Eexample=2Eorg?= <x@evil.example>",),
        subject="Re: " + str(s.assignment["Subject"]), body=_resolve(m),
        answering=s.assignment), "new_case"),
    Forgery("two From headers", lambda s, m: raw_mail(
        froms=(ZHANG, EVIL), subject="Re: " + str(s.assignment["Subject"]), body=_resolve(m),
        auth=(PROVEN_STAFF,), answering=s.assignment), "new_case"),
    Forgery("several addresses in From", lambda s, m: raw_mail(
        froms=(f"{ZHANG}, {EVIL}",), subject="Re: " + str(s.assignment["Subject"]),
        body=_resolve(m), auth=(PROVEN_STAFF,), answering=s.assignment), "new_case"),
    Forgery("an address as the display name", lambda s, m: raw_mail(
        froms=(f'"{HEALTH}" <{EVIL}>',), subject="Re: " + str(s.letter["Subject"]),
        body=_answer(m), answering=s.letter), "new_case"),
    Forgery("foreign authserv-id says pass", lambda s, m: raw_mail(
        froms=(ZHANG,), subject="Re: " + str(s.assignment["Subject"]), body=_resolve(m),
        auth=("mx.evil.example; dkim=pass header.d=oasis.example.org; dmarc=pass",),
        answering=s.assignment), "refused"),
    Forgery("masked result: dmarc=pass inside smtp.mailfrom", lambda s, m: raw_mail(
        froms=(ZHANG,), subject="Re: " + str(s.assignment["Subject"]), body=_resolve(m),
        auth=(f"{BORDER}; spf=pass smtp.mailfrom=dmarc=pass@evil.example; dkim=none; "
              "dmarc=fail header.from=oasis.example.org",), answering=s.assignment),
        "refused"),
    Forgery("DKIM pass of an unaligned domain", lambda s, m: raw_mail(
        froms=(ZHANG,), subject="Re: " + str(s.assignment["Subject"]), body=_resolve(m),
        auth=(f"{BORDER}; dkim=pass header.d=evil.example; dmarc=none",),
        answering=s.assignment), "refused"),
    Forgery("the authority's answer with a foreign Authentication-Results", lambda s, m:
        raw_mail(froms=(HEALTH,), subject="Re: " + str(s.letter["Subject"]), body=_answer(m),
                 auth=("mx.evil.example; dmarc=pass header.from=wsjkw.example.gov.cn",),
                 answering=s.letter), "unverified"),
    Forgery("another case's token (A's) on a command about B", lambda s, m: raw_mail(
        froms=(ZHANG,), subject=f"Re: [{s.b}] 办结", body=_resolve(m), auth=(PROVEN_STAFF,),
        answering=s.assignment), "refused"),
    Forgery("the letter's token (B's) on an answer naming A", lambda s, m: raw_mail(
        froms=(HEALTH,), subject=f"关于 {s.a} 的答复", body=_answer(m), auth=(PROVEN_HEALTH,),
        answering=s.letter), "refused"),
    Forgery("a guessed token in the subject", lambda s, m: raw_mail(
        froms=(ZHANG,), subject=f"Re: [{s.a}] [ct-{'a' * 28}]", body=_resolve(m),
        auth=(PROVEN_STAFF,)), "refused"),
    Forgery("a real nonce with a forged tag", lambda s, m: raw_mail(
        froms=(ZHANG,), subject=f"Re: [{s.a}] [{s.token_of(s.assignment)[:-4]}aaaa]",
        body=_resolve(m), auth=(PROVEN_STAFF,)), "refused"),
    Forgery("a guessed token in the plus-address", lambda s, m: raw_mail(
        froms=(ZHANG,), subject=f"[{s.a}]", body=_resolve(m), auth=(PROVEN_STAFF,),
        to=f"complaints+ct-{'b' * 28}@oasis.example.org"), "refused"),
    Forgery("a guessed reference from a stranger", lambda s, m: raw_mail(
        froms=(EVIL,), subject=f"关于 {s.b} 的答复", body=_answer(m)), "new_case"),
    Forgery("the authority's address naming the case, no token", lambda s, m: raw_mail(
        froms=(HEALTH,), subject=f"关于 {s.b} 的答复", body=_answer(m), auth=(PROVEN_HEALTH,)),
        "unverified"),
    Forgery("a stranger answering the referral letter", lambda s, m: raw_mail(
        froms=(EVIL,), subject="Re: " + str(s.letter["Subject"]), body=_answer(m),
        answering=s.letter), "refused"),
    Forgery("a colleague answering the handler's mail", lambda s, m: raw_mail(
        froms=(LINA,), subject="Re: " + str(s.assignment["Subject"]), body=_resolve(m),
        auth=(PROVEN_STAFF,), answering=s.assignment), "refused"),
    Forgery("a lookalike staff domain", lambda s, m: raw_mail(
        froms=("zhang.wei@oasis-example.org",), subject="Re: " + str(s.assignment["Subject"]),
        body=_resolve(m), auth=(f"{BORDER}; dmarc=pass header.from=oasis-example.org",),
        answering=s.assignment), "refused"),
    Forgery("a lookalike authority domain", lambda s, m: raw_mail(
        froms=("xinfang@wsjkw-example.gov.cn",), subject="Re: " + str(s.letter["Subject"]),
        body=_answer(m), auth=(f"{BORDER}; dmarc=pass header.from=wsjkw-example.gov.cn",),
        answering=s.letter), "refused"),
    Forgery("Reply-To and Sender naming the handler", lambda s, m: raw_mail(
        froms=(EVIL,), subject="Re: " + str(s.assignment["Subject"]), body=_resolve(m),
        extra=(f"Sender: {ZHANG}", f"Reply-To: {ZHANG}"), answering=s.assignment),
        "refused"),
    Forgery("the complainant writing a command", lambda s, m: raw_mail(
        froms=(PATIENT_A,), subject="Re: " + str(s.acknowledgement_a["Subject"]),
        body=_resolve(m), answering=s.acknowledgement_a), "follow_up"),
    Forgery("a command only in the quoted part of the handler's real reply", lambda s, m:
        raw_mail(froms=(ZHANG,), subject="Re: " + str(s.assignment["Subject"]),
                 body=f"收到，稍后处理。\n\n> #办结 不属实\n> {m} 经核查，投诉不属实。",
                 auth=(PROVEN_STAFF,), answering=s.assignment), "note"),
]


@pytest.fixture
def scene(tmp_path: Path, db_url: str, imap_account: Any, smtp_server: Any) -> Iterator[Scene]:
    """Cases A and B, with our border's authserv-id configured."""
    world = World(tmp_path, db_url, imap_account, smtp_server)
    world.app.close()
    config = tmp_path / "complaintd.toml"
    config.write_text(config.read_text(encoding="utf-8")
                      + f'[intake]\ntrusted_authserv_ids = ["{BORDER}"]\n', encoding="utf-8")
    world.app = App.build(load_settings(config), world.clock)
    world.send(complaint("12月1日接线员态度不耐烦，还挂我电话。", sender=PATIENT_A))
    world.send(complaint("11月30日我在某医院看病，医生误诊还乱收费。", sender=PATIENT_B))
    mails = world.round()
    with world.app.session_factory() as session:
        a, b = session.scalars(select(Case.reference).order_by(Case.id)).all()
    (assignment,) = to(mails, ZHANG, contains=a)
    (letter,) = to(mails, HEALTH, contains=b)
    acknowledgement = to(mails, PATIENT_A)[0]
    yield Scene(world, a, b, assignment, letter, acknowledgement)
    world.app.close()


def complainant_texts(world: World) -> list[str]:
    """Every mail meant for a complainant: as the SMTP server got it, and in the outbox."""
    texts = [body_of(message_from_bytes(m.raw, policy=policy.default))
             for m in world.smtp.messages
             if any(p in str(message_from_bytes(m.raw)["To"]) for p in (PATIENT_A, PATIENT_B))]
    for row in world.rows(OutboxMail):
        if row.recipient in (PATIENT_A, PATIENT_B):
            texts.append(body_of(message_from_bytes(row.raw, policy=policy.default)))
    return texts


def fate(world: World, message_id: str) -> str:
    """What became of one inbound mail, read back from the database."""
    with world.app.session_factory() as session:
        events = session.scalars(select(TimelineEvent)).all()
        if any(e.kind == "command_refused" and e.details.get("message_id") == message_id
               for e in events):
            return "refused"
        message = session.scalars(select(Message).where(Message.message_id == message_id)).one()
        if any(e.kind == "authority_mail_unverified" and e.details.get("message") == message.id
               for e in events):
            return "unverified"
        first = session.scalars(select(Message.id).where(Message.case_id == message.case_id)
                                .order_by(Message.id)).first()
        if first == message.id:
            return "new_case"
        # Mail kept on an existing case: a staff member's note, or the complainant's.
        return "note" if message.sender == ZHANG else "follow_up"


def test_no_forged_mail_is_obeyed_or_reaches_a_complainant(scene: Scene) -> None:
    world = scene.world
    markers = {f.name: f"FORGED{i:02d}" for i, f in enumerate(FORGERIES)}
    sent = {}
    for forgery in FORGERIES:
        raw = forgery.build(scene, markers[forgery.name])
        sent[forgery.name] = message_id_of(raw)
        world.send(raw)
    mails = world.round(days=0.1)
    assert len(FORGERIES) >= 20

    a, b = world.case(scene.a), world.case(scene.b)
    assert a.status is CaseStatus.ROUTED and b.status is CaseStatus.REFERRED
    done = {"accepted", "authority_replied", "authority_answer_relayed", "interim_reply",
            "case_closed", "case_rejected"}
    assert not [e.kind for e in [*a.events, *b.events] if e.kind in done]
    assert all(r.answered_at is None for r in world.rows(Referral))
    texts = complainant_texts(world)
    leaked = [name for name, marker in markers.items() if any(marker in t for t in texts)]
    assert leaked == []
    fates = {f.name: fate(world, sent[f.name]) for f in FORGERIES}
    assert fates == {f.name: f.fate for f in FORGERIES}
    # Refused with the refusal notice, at the address in From (a forged From reaches the
    # real person); a doubtful From is never written to.
    # A refusal goes at most once a day to an address (the backscatter cap); the others
    # are recorded as withheld, so every refused forgery is accounted for.
    refusals = [m for m in mails if "未执行" in str(m["Subject"]) or "refused" in
                str(m["Subject"]).lower()]
    withheld = [e for e in [*a.events, *b.events] if e.kind == "refusal_withheld"]
    assert len(refusals) + len(withheld) == sum(f.fate == "refused" for f in FORGERIES)
    addressees = [str(m["To"]).lower() for m in refusals]
    assert refusals and len(addressees) == len(set(addressees))

    # The real people, proven by our border, are obeyed: the forgeries failed for what
    # they are, not because nothing could work.
    world.send(raw_mail(froms=(ZHANG,), subject="Re: " + str(scene.assignment["Subject"]),
                        body="#受理", auth=(PROVEN_STAFF,), answering=scene.assignment))
    world.send(raw_mail(froms=(HEALTH,), subject="Re: " + str(scene.letter["Subject"]),
                        body="经核查，该院已退还多收费用。", auth=(PROVEN_HEALTH,),
                        answering=scene.letter))
    mails = world.round(days=0.1)
    assert world.case(scene.a).status is CaseStatus.INVESTIGATING
    b = world.case(scene.b)
    assert any(e.kind == "authority_replied" for e in b.events)
    assert b.status is CaseStatus.REFERRED  # waits for the handler's #转告
    assert to(mails, PATIENT_B) == []
