"""Property-based fuzzing (issue 12) of what a stranger's mail can reach besides the MIME
parser: the staff command parser (``routing.commands``: ``parse_reply``, ``parse_resolve``
and every action of the table), the From parser and the reading of Authentication-Results.
No unhandled exception; a command is either understood or refused with a ``CommandError``;
an encoded display name never becomes the address; a header from anyone but our own border
proves nothing; and generated staff replies through the real pipeline (SQLite) each end as
exactly one outcome, with its reason when it is set aside.

Kept fast for CI: small ``max_examples``, no deadline, caches outside the project tree.
"""

from __future__ import annotations

import base64
import itertools
import tempfile
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir
from sqlalchemy import select

from intake.authresults import border_verdict
from intake.ledger import SourceItem
from intake.mail import parse_headers
from intake.understand import MailUnderstanding
from notifications.models import OutboxMail
from routing.commands import CommandError, StaffReply, by_word, parse_reply, parse_resolve
from tests.test_intake_support import complaint, make_app

set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "complaintd-hypothesis")
FAST = settings(max_examples=120, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow])
WORDS = sorted(by_word())
# Text a staff member (or a forger) could type after a command word: numbers, dates,
# amounts, Chinese, full-width punctuation, separators, nothing.
PIECES = ["5", "5天", "3个工作日", "0", "999999999999", "-1", "2026-12-31", "2026年2月30日",
          "属实", "部分属实", "不属实", "是", "否", "yes", "NaN", "1e999", "Infinity", "１２",
          "１２３", "；", "、", "，", ":", "：", "\u3000", "#", "＃", " ", "\t", "张伟", "李娜",
          "身份证；病历", "\u200b", "\x00", "\ud800", "🙂", "LO-2026-000001"]
args_text = st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=12)),
                     max_size=6).map(" ".join)


@st.composite
def command_line(draw: st.DrawFn) -> str:
    hash_sign = draw(st.sampled_from(["#", "＃", "# ", ""]))
    word = draw(st.one_of(st.sampled_from(WORDS), st.text(max_size=8)))
    sep = draw(st.sampled_from([" ", "\u3000", "：", ":", ""]))
    return f"{hash_sign}{word}{sep}{draw(args_text)}"


reply_text = st.lists(st.one_of(command_line(), st.text(max_size=40),
                                st.just("> 引用的旧邮件")), max_size=6).map("\n".join)


@FAST
@given(text=reply_text)
def test_a_reply_is_read_or_refused_with_a_reason(text: str) -> None:
    try:
        reply = parse_reply(text)
    except CommandError as exc:
        assert str(exc).strip()
        return
    assert isinstance(reply, StaffReply) and isinstance(reply.body, str)
    known = {action.name for action in by_word().values()}
    assert all(command.name in known for command in reply.commands)


@FAST
@given(word=st.sampled_from(WORDS), args=args_text, body=st.text(max_size=40))
def test_every_action_reads_its_values_or_refuses_them(word: str, args: str, body: str) -> None:
    action = by_word()[word]
    try:
        values = action.values_from_mail(args, body)
    except CommandError as exc:
        assert str(exc).strip()
        return
    wanted = {p.name for p in action.params if p.required and (p.by_mail or p.from_body)}
    assert wanted <= set(values)


@FAST
@given(args=args_text)
def test_resolve_gives_a_finding_or_refuses(args: str) -> None:
    try:
        finding, violation = parse_resolve(args)
    except CommandError as exc:
        assert str(exc).strip()
        return
    assert finding.strip()
    assert violation is None or isinstance(violation, tuple)


# -- the From parser -----------------------------------------------------------------------

addresses = st.from_regex(r"[a-z0-9._+-]{1,12}@[a-z0-9-]{1,10}\.(cn|org|example)", fullmatch=True)


@FAST
@given(name=st.text(max_size=30), charset=st.sampled_from(["utf-8", "gb2312", "big5"]),
       address=addresses, encoding=st.sampled_from(["q", "b"]))
def test_an_encoded_display_name_never_becomes_the_address(name: str, charset: str,
                                                           address: str, encoding: str) -> None:
    try:
        data = name.encode(charset)
    except UnicodeEncodeError:
        data = name.encode("utf-8", "surrogatepass")
        charset = "utf-8"
    if encoding == "b":
        word = base64.b64encode(data).decode()
    else:
        word = "".join(f"={b:02X}" for b in data)
    raw = f"From: =?{charset}?{encoding}?{word}?= <{address}>\r\n\r\n".encode()
    parsed = parse_headers(raw)
    assert parsed.from_email == address.lower()


@FAST
@given(value=st.one_of(st.text(max_size=80), st.binary(max_size=80).map(
    lambda b: b.decode("latin-1"))), twice=st.booleans())
def test_any_from_header_gives_one_address_or_none_and_never_raises(value: str,
                                                                    twice: bool) -> None:
    line = value.replace("\r", " ").replace("\n", " ")
    head = f"From: {line}\r\n" * (2 if twice else 1)
    parsed = parse_headers(head.encode("utf-8", "surrogateescape") + b"\r\n")
    if twice and parsed.from_email:
        assert parsed.sender_unverified  # two From headers: never taken as written
    if parsed.from_email and parsed.sender_unverified is None:
        local, at, domain = parsed.from_email.partition("@")
        assert at and local and domain and "@" not in domain
        assert not any(ch.isspace() or ch in "<>,;" for ch in parsed.from_email)


# -- Authentication-Results from our border only --------------------------------------------

METHODS = ["dmarc", "dkim", "spf", "arc", "auth"]
RESULTS = ["pass", "fail", "none", "softfail", "neutral", "permerror", "temperror"]


@st.composite
def auth_results(draw: st.DrawFn, authserv: str) -> str:
    parts = [authserv]
    for _ in range(draw(st.integers(0, 4))):
        method, result = draw(st.sampled_from(METHODS)), draw(st.sampled_from(RESULTS))
        prop = draw(st.sampled_from(["header.from", "header.d", "smtp.mailfrom", "header.i"]))
        value = draw(st.sampled_from(["example.cn", "evil.example", "dmarc=pass@evil.example"]))
        parts.append(f"{method}={result} {prop}={value}")
    if draw(st.booleans()):
        parts.append(draw(st.text(max_size=30)))
    return "; ".join(parts)


@FAST
@given(foreign=st.lists(st.one_of(auth_results("mx.evil.example"), st.text(max_size=60)),
                        max_size=4),
       ours=st.lists(auth_results("mx.oasis.example.org"), max_size=2))
def test_only_our_border_can_prove_a_sender(foreign: list[str], ours: list[str]) -> None:
    trusted = frozenset({"mx.oasis.example.org"})
    assert border_verdict(foreign, "zhang@example.cn", trusted).summary is None
    assert not border_verdict(foreign, "zhang@example.cn", trusted).aligned_pass
    verdict = border_verdict(foreign + ours, "zhang@example.cn", trusted)
    if verdict.aligned_pass:  # only a pass our own server wrote proves the From domain
        assert any("=pass" in header for header in ours)


# -- generated staff replies through the real pipeline ---------------------------------------

ROUTING = Path(__file__).resolve().parents[1] / "config" / "routing.toml"
# A follow-up on a case: a complainant's, or a reply to our own mail (routing.staffmail).
FOLLOW_UPS = {"follow_up", "staff_command", "command_refused", "staff_note", "authority_reply",
              "authority_unverified"}


def test_every_staff_reply_ends_as_one_outcome_with_its_reason(tmp_path: Path,
                                                                sqlite_url: str) -> None:
    app = make_app(tmp_path, sqlite_url, [], routing={"rules_file": str(ROUTING)})
    opened = app.ledger.take(SourceItem("fuzz", "INBOX", 1, "0", complaint(0)),
                             MailUnderstanding())
    assert opened.kind == "case"
    with app.session_factory() as session:
        sent = session.scalars(select(OutboxMail).where(OutboxMail.kind == "assignment")).first()
        assert sent is not None
        staff, thread = sent.recipient, sent.message_id
    uids = itertools.count(1)

    @settings(max_examples=25, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    @given(text=reply_text, forged=st.booleans())
    def take(text: str, forged: bool) -> None:
        msg = EmailMessage()
        msg["From"] = "stranger@evil.example" if forged else staff
        msg["Subject"] = "Re: 案件"
        msg["Message-ID"] = make_msgid(domain="example.org")
        msg["In-Reply-To"] = thread
        msg.set_content(text.encode("utf-8", "replace").decode("utf-8"), charset="utf-8")
        item = SourceItem("fuzz", "INBOX", 1, str(next(uids)), bytes(msg))
        outcome = app.ledger.take(item, MailUnderstanding())
        assert outcome.kind in {"case", "ignored", "quarantined", "duplicate", *FOLLOW_UPS}
        if outcome.kind in {"ignored", "quarantined"}:
            assert outcome.detail.strip()
        if outcome.kind in FOLLOW_UPS:
            assert outcome.case_id is not None
        if forged:  # a stranger's command is never obeyed
            assert outcome.kind != "staff_command"

    take()
    app.close()
