"""Reply tokens (issue 12): made with HMAC, bound to case, recipient and purpose; found again
after mail programs mangle a reply; closed when the case moves on; the key a setting."""

from __future__ import annotations

import os
import stat
from datetime import UTC
from email import policy
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import pytest

from casework import tokens
from casework.models import StaffThread
from casework.status import CaseStatus
from complaintd.settings import ConfigError, load_settings, settings_from_dict, thread_key
from tests.test_investigation_e2e import (
    HEALTH,
    LINA,
    ROUTING,
    ZHANG,
    World,
    body_of,
    complaint,
    reply,
    to,
)
from tests.test_investigation_e2e import world as world

KEY = b"k" * 32


# -- the token itself ----------------------------------------------------------------------


def test_a_token_is_bound_to_its_case_recipient_and_purpose() -> None:
    nonce = tokens.new_nonce()
    token = tokens.make_token(KEY, nonce, 7, "Zhang.Wei@oasis.example.org", "assignment")
    assert tokens.matches(KEY, token, 7, "zhang.wei@oasis.example.org", "assignment")
    assert not tokens.matches(KEY, token, 8, "zhang.wei@oasis.example.org", "assignment")
    assert not tokens.matches(KEY, token, 7, "li.na@oasis.example.org", "assignment")
    assert not tokens.matches(KEY, token, 7, "zhang.wei@oasis.example.org", "handler_reminder")
    assert not tokens.matches(b"x" * 32, token, 7, "zhang.wei@oasis.example.org", "assignment")
    assert tokens.nonce_of(token) == nonce and token.startswith("ct-")


def test_nonces_come_from_secrets_and_do_not_repeat() -> None:
    nonces = {tokens.new_nonce() for _ in range(2000)}
    assert len(nonces) == 2000


@pytest.mark.parametrize("carrier", [
    "回复: 答复: 转发: Fwd: Re: 新案件分派 [LO-2025-000001] [{t}]",
    "回复：【LO-2025-000001】[{T}]",
    "complaints+{t}@oasis.example.org",
    '"投诉受理" <complaints+{T}@oasis.example.org>',
    "<{t}.0a1b2c3d4e5f6a7b@oasis.example.org>",
    "AW: WG: =?utf-8?q?x?= ({t})",
])
def test_a_token_survives_mangling(carrier: str) -> None:
    token = tokens.make_token(KEY, tokens.new_nonce(), 1, "a@b.example", "assignment")
    assert tokens.find_tokens([carrier.format(t=token, T=token.upper())]) == [token]


@pytest.mark.parametrize("text", ["ct-abc", "xct-" + "a" * 28, "ct-" + "a" * 29,
                                  "ct-" + "1" * 28, ""])
def test_nothing_else_reads_as_a_token(text: str) -> None:
    assert tokens.find_tokens([text]) == []


# -- the key --------------------------------------------------------------------------------


def _config(tmp_path: Path, security: str = "") -> Path:
    (tmp_path / "routing.toml").write_text(ROUTING.read_text(encoding="utf-8"),
                                           encoding="utf-8")
    path = tmp_path / "complaintd.toml"
    path.write_text(f'[routing]\nrules_file = "routing.toml"\n{security}', encoding="utf-8")
    return path


def test_a_missing_key_stops_the_start_naming_the_setting(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COMPLAINTD_THREAD_KEY", raising=False)
    with pytest.raises(ConfigError) as missing:
        load_settings(_config(tmp_path))
    assert "security.thread_key" in str(missing.value)
    assert "COMPLAINTD_THREAD_KEY" in str(missing.value)
    with pytest.raises(ConfigError) as short:
        load_settings(_config(tmp_path, '[security]\nthread_key = "too-short"\n'))
    assert "security.thread_key: must be at least 32 characters" in str(short.value)
    monkeypatch.setenv("COMPLAINTD_THREAD_KEY", "short")
    with pytest.raises(ConfigError, match="environment variable COMPLAINTD_THREAD_KEY"):
        load_settings(_config(tmp_path))


def test_the_key_comes_from_the_file_or_the_environment(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMPLAINTD_THREAD_KEY", "e" * 40)
    assert thread_key(load_settings(_config(tmp_path))) == b"e" * 40
    given = load_settings(_config(tmp_path, f'[security]\nthread_key = "{"f" * 32}"\n'))
    assert thread_key(given) == b"f" * 32


def test_the_demo_key_is_made_once_private_to_the_service(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COMPLAINTD_THREAD_KEY", raising=False)
    settings = settings_from_dict({"storage": {"data_dir": str(tmp_path / "var")},
                                   "security": {"generate_thread_key": True}})
    first = thread_key(settings)
    assert len(first) == 64 and thread_key(settings) == first
    mode = stat.S_IMODE(os.stat(tmp_path / "var" / "thread.key").st_mode)
    assert mode == 0o600
    assert [p.name for p in (tmp_path / "var").iterdir()] == ["thread.key"]
    (tmp_path / "var" / "thread.key").write_text("damaged\n")
    with pytest.raises(ConfigError, match="damaged"):
        thread_key(settings)


# -- the mail carries it, and a mangled reply still brings it back -------------------------


def _token_of(mail: EmailMessage) -> str:
    (token,) = tokens.find_tokens([str(mail["Message-ID"])])
    return token


def test_an_assignment_carries_its_token_three_ways(world: World) -> None:
    world.send(complaint("12月1日接线员态度不耐烦。"))
    mails = world.round()
    (assignment,) = to(mails, ZHANG)
    token = _token_of(assignment)
    assert f"[{token}]" in str(assignment["Subject"])
    assert str(assignment["Reply-To"]) == f"complaints+{token}@oasis.example.org"
    (thread,) = world.rows(StaffThread)
    assert thread.nonce == tokens.nonce_of(token)
    # Mail that invites no answer carries none (the complainant's notices).
    for mail in to(mails, "patient@example.cn"):
        assert str(mail["Reply-To"]) == "complaints@oasis.example.org"
        assert tokens.find_tokens([str(mail["Subject"]), str(mail["Message-ID"])]) == []


def test_a_material_request_carries_a_token_that_joins_only_the_complainant(
        world: World) -> None:
    world.send(complaint("我申请的援助一直没有人审核，拖延太久了。"))
    (notice,) = to(world.round(), "patient@example.cn", contains="事件发生的日期")
    token = _token_of(notice)
    assert f"[{token}]" in str(notice["Subject"])
    assert str(notice["Reply-To"]) == f"complaints+{token}@oasis.example.org"
    reference = world.case().reference
    # The complainant answers in a new mail to the plus-address only: material, not a
    # command, and no refusal.
    world.send(_bare("patient@example.cn", "补充", "我是11月20日提交的药品援助项目申请。",
                     to_address=f"complaints+{token}@oasis.example.org"))
    world.round(days=0.1)
    kinds = [e.kind for e in world.case().events]
    assert "material_checked" in kinds and "command_refused" not in kinds
    # A stranger holding the same mail reaches nothing of the case.
    world.send(_bare("stranger@example.net", f"回复: {notice['Subject']}", "STRANGER-TEXT",
                     to_address=f"complaints+{token}@oasis.example.org"))
    world.round(days=0.1)
    case = world.case(reference)
    assert not any("STRANGER-TEXT" in str(e.details) for e in case.events)
    assert sum(e.kind == "follow_up_received" for e in case.events) == 1


def _bare(sender: str, subject: str, text: str, *,
          to_address: str = "complaints@oasis.example.org",
          references: str | None = None) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to_address
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain="example.org")
    if references:
        msg["References"] = references
    msg.set_content(text, charset="utf-8")
    return msg.as_bytes(policy=policy.SMTP)


def test_a_reply_mangled_by_webmail_still_acts(world: World) -> None:
    world.send(complaint("12月1日接线员态度不耐烦。"))
    (assignment,) = to(world.round(), ZHANG)
    token = _token_of(assignment)
    reference = world.case().reference
    # Only the subject, re-prefixed four times; no In-Reply-To, no References.
    world.send(_bare(ZHANG, f"回复: 答复: 转发: Fwd: Re: 新案件 {reference} [{token.upper()}]",
                     "#受理"))
    world.round(days=0.1)
    assert world.case().status is CaseStatus.INVESTIGATING
    # Only the plus-address of Reply-To (the subject tag and threading lost).
    world.send(_bare(ZHANG, f"关于 {reference}", "#备注 已电话联系投诉人",
                     to_address=f"complaints+{token}@oasis.example.org"))
    # Only References (a client that drops In-Reply-To and rewrites the subject).
    world.send(_bare(ZHANG, f"{reference} 进展", "#备注 已调取录音",
                     references=f"<other@example.org> {assignment['Message-ID']}"))
    world.round(days=0.1)
    notes = [e.details["text"] for e in world.case().events if e.kind == "note"]
    assert notes == ["已电话联系投诉人", "已调取录音"]


def test_a_commands_result_can_be_answered_with_the_next_command(world: World) -> None:
    world.send(complaint("12月1日接线员态度不耐烦。"))
    (assignment,) = to(world.round(), ZHANG)
    world.send(reply(assignment, ZHANG, "#受理"))
    (done,) = to(world.round(days=0.1), ZHANG)
    assert tokens.find_tokens([str(done["Message-ID"])]) != [_token_of(assignment)]
    world.send(reply(done, ZHANG, "#备注 已约谈当事接线员"))
    world.round(days=0.1)
    assert [e.details["text"] for e in world.case().events if e.kind == "note"] == \
        ["已约谈当事接线员"]


# -- a closed thread answers nothing -------------------------------------------------------


def _refusals(world: World) -> list[str]:
    return [e.details["why"] for e in world.case().events if e.kind == "command_refused"]


def test_an_old_token_is_refused_once_the_case_moved_away(world: World) -> None:
    world.send(complaint("12月2日上午我打热线咨询，接线的工作人员态度很差，还骂人。"))
    (assignment,) = to(world.round(), ZHANG)
    mails = world.round(days=6)  # 张伟 is away from 8 December: 李娜 takes the case over
    (handover,) = to(mails, LINA)
    world.send(reply(assignment, ZHANG, "#受理"))
    mails = world.round(days=0.1)
    assert world.case().status is not CaseStatus.INVESTIGATING
    assert any("no longer assigned to you" in r for r in _refusals(world))
    assert to(mails, ZHANG, contains="指令未执行")  # the refusal notice
    closed = {t.recipient: t.closed_why for t in world.rows(StaffThread)}
    assert closed[ZHANG] == "moved_away" and closed[LINA] is None
    world.send(reply(handover, LINA, "#受理"))
    world.round(days=0.1)
    assert world.case().status is CaseStatus.INVESTIGATING


def test_a_token_is_refused_after_the_case_ended(world: World) -> None:
    world.send(complaint("12月1日接线员态度不耐烦。"))
    (assignment,) = to(world.round(), ZHANG)
    world.send(reply(assignment, ZHANG, "#办结 属实\n已批评教育当事接线员。"))
    world.round(days=0.1)
    assert world.case().status is CaseStatus.RESOLVED
    world.send(reply(assignment, ZHANG, "#答复\nREPLAYED 请忽略之前的结果。"))
    mails = world.round(days=0.1)
    assert any("the case has ended" in r for r in _refusals(world))
    assert all("REPLAYED" not in body_of(m) for m in to(mails, "patient@example.cn"))


# -- an authority's answer: taken once, passed on only by the handler ----------------------


def test_an_answer_is_taken_once_and_passed_on_as_the_handler_edits_it(world: World) -> None:
    world.send(complaint("11月30日我在某医院看病，医生误诊还乱收费。"))
    (letter,) = to(world.round(), HEALTH)
    world.send(reply(letter, HEALTH, "ORIGINAL 经核查，该院已退还多收费用。"))
    mails = world.round(days=1)
    (confirm,) = [m for m in mails if "待您确认转告" in str(m["Subject"])]
    assert to(mails, "patient@example.cn") == []
    # The same letter answered again (a replay, or a second mail): refused, not taken.
    world.send(reply(letter, HEALTH, "SECOND 投诉不属实。"))
    world.round(days=0.1)
    assert any("already taken" in r for r in _refusals(world))
    assert [e.kind for e in world.case().events].count("authority_replied") == 1
    handler = str(confirm["To"]).rsplit("<", 1)[-1].rstrip(">")
    world.send(reply(confirm, handler, "#转告\nEDITED 区卫健委核查后，医院已退还多收的费用。"))
    mails = world.round(days=0.1)
    case = world.case()
    assert case.status is CaseStatus.RESOLVED
    relayed = next(e for e in case.events if e.kind == "authority_answer_relayed")
    assert relayed.details["edited"] is True
    texts = [body_of(m) for m in to(mails, "patient@example.cn")]
    assert any("EDITED" in t for t in texts)
    assert not any("ORIGINAL" in t or "SECOND" in t for t in texts)


def test_relay_needs_a_verified_answer_or_the_handlers_own_text(world: World) -> None:
    world.send(complaint("11月30日我在某医院看病，医生误诊还乱收费。"))
    world.round()
    reference = world.case().reference
    # The authority's address naming the case, without our letter's token: unverified.
    world.send(_bare(HEALTH, f"关于 {reference} 的答复", "UNVERIFIED 已办结。"))
    mails = world.round(days=0.1)
    (told,) = [m for m in mails if "未经核实" in str(m["Subject"])]
    handler = str(told["To"]).rsplit("<", 1)[-1].rstrip(">")
    world.send(reply(told, handler, "#转告"))
    mails = world.round(days=0.1)
    assert world.case().status is CaseStatus.REFERRED
    assert any("no verified authority answer" in r for r in _refusals(world))
    assert all("UNVERIFIED" not in body_of(m) for m in to(mails, "patient@example.cn"))


# -- the CLI twin of #转告 ------------------------------------------------------------------


def test_relay_from_the_cli(tmp_path: Path, db_url: str) -> None:
    from sqlalchemy import select

    from complaintd.app import App
    from notifications.models import OutboxMail
    from tests.test_commands_cli import case_of, cli, setup

    config, ref = setup(tmp_path, db_url, text="11月30日我在某医院看病，医生误诊还乱收费。")
    case = case_of(config)
    assert case.status is CaseStatus.REFERRED
    handler = case.assignments[-1].handler
    refused = cli(config, "handle", "relay", ref, "--as", handler, code=2)
    assert "no verified authority answer" in refused.output
    cli(config, "handle", "relay", ref, "--text", "CLI 经区卫健委核查，医院已整改。",
        "--as", handler)
    assert case_of(config).status is CaseStatus.RESOLVED
    app = App.build(load_settings(config))
    with app.session_factory() as session:
        kinds = session.scalars(select(OutboxMail.kind)).all()
    app.close()
    assert "outcome" in kinds


@pytest.mark.parametrize(("reply_to", "plus", "expected"), [
    ("complaints@oasis.example.org", True, "complaints+{t}@oasis.example.org"),
    ("投诉受理 <complaints@oasis.example.org>", True, "complaints+{t}@oasis.example.org"),
    ("complaints@oasis.example.org", False, "complaints@oasis.example.org"),
])
def test_the_reply_to_carries_the_token_unless_turned_off(reply_to: str, plus: bool,
                                                          expected: str) -> None:
    from datetime import datetime
    from email import message_from_bytes
    from email.headerregistry import Address

    from notifications.outbox import MailIdentity, build_message, wire_bytes

    token = tokens.make_token(KEY, tokens.new_nonce(), 3, ZHANG, "assignment")
    identity = MailIdentity("complaints@oasis.example.org", "投诉受理", reply_to,
                            "oasis.example.org", thread_token=token, plus_address=plus)
    built = build_message(to=Address("张伟", "zhang.wei", "oasis.example.org"), subject="分派",
                          text="正文", html=None, identity=identity,
                          now=datetime(2025, 12, 2, tzinfo=UTC), in_reply_to=None,
                          references=(), auto_submitted="auto-generated")
    mail = message_from_bytes(wire_bytes(built), policy=policy.default)
    assert expected.format(t=token) in str(mail["Reply-To"])
    assert str(mail["Subject"]) == f"分派 [{token}]"
    assert str(mail["Message-ID"]).strip().startswith(f"<{token}.")


# -- key rotation: the keys before it still verify, new mail is signed with the new key ---


OLD_KEY = "old-thread-key-" + "o" * 40
NEW_KEY = "new-thread-key-" + "n" * 40


def test_previous_keys_come_from_the_file_or_the_environment_and_are_checked(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from complaintd.settings import previous_thread_keys

    monkeypatch.delenv("COMPLAINTD_PREVIOUS_THREAD_KEYS", raising=False)
    listed = load_settings(_config(tmp_path, f'[security]\nthread_key = "{NEW_KEY}"\n'
                                             f'previous_thread_keys = ["{OLD_KEY}"]\n'))
    assert previous_thread_keys(listed) == (OLD_KEY.encode(),)
    monkeypatch.setenv("COMPLAINTD_PREVIOUS_THREAD_KEYS", f" {OLD_KEY} ,{'p' * 32}")
    plain = _config(tmp_path, f'[security]\nthread_key = "{NEW_KEY}"\n')
    assert previous_thread_keys(load_settings(plain)) == (OLD_KEY.encode(), b"p" * 32)
    # A weak previous key stops the start, naming where it came from and which one.
    monkeypatch.setenv("COMPLAINTD_PREVIOUS_THREAD_KEYS", f"{OLD_KEY},short")
    with pytest.raises(ConfigError) as weak_env:
        load_settings(plain)
    assert "environment variable COMPLAINTD_PREVIOUS_THREAD_KEYS: key 2" in str(weak_env.value)
    assert "at least 32 characters" in str(weak_env.value)
    with pytest.raises(ConfigError, match=r"security.previous_thread_keys: key 1: must be"):
        load_settings(_config(tmp_path, f'[security]\nthread_key = "{NEW_KEY}"\n'
                                        'previous_thread_keys = ["too-short"]\n'))


def test_matches_any_accepts_only_the_keys_given() -> None:
    old, new, other = b"o" * 32, b"n" * 32, b"x" * 32
    token = tokens.make_token(old, tokens.new_nonce(), 7, ZHANG, "assignment")
    assert tokens.matches_any([new, old], token, 7, ZHANG, "assignment")
    assert not tokens.matches_any([new, other], token, 7, ZHANG, "assignment")
    assert not tokens.matches_any([new, old], token, 8, ZHANG, "assignment")


def _restart(world: World, monkeypatch: pytest.MonkeyPatch, key: str,
             previous: list[str]) -> None:
    """Restart the installation with ``key``, ``previous`` kept for verification."""
    from complaintd.app import App

    world.app.close()
    monkeypatch.setenv("COMPLAINTD_THREAD_KEY", key)
    monkeypatch.setenv("COMPLAINTD_PREVIOUS_THREAD_KEYS", ",".join(previous))
    config = world.app.settings.data_dir.parent / "complaintd.toml"
    world.app = App.build(load_settings(config), world.clock)


def test_a_token_made_before_a_rotation_still_acts_and_new_mail_has_the_new_key(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    _restart(world, monkeypatch, OLD_KEY, [])
    world.send(complaint("12月1日接线员态度不耐烦。"))
    (assignment,) = to(world.round(), ZHANG)
    old_token = _token_of(assignment)
    assert tokens.matches(OLD_KEY.encode(), old_token, world.case().id, ZHANG, "assignment")
    _restart(world, monkeypatch, NEW_KEY, [OLD_KEY])
    world.send(reply(assignment, ZHANG, "#受理"))
    (done,) = to(world.round(days=0.1), ZHANG)
    assert world.case().status is CaseStatus.INVESTIGATING
    assert _refusals(world) == []
    # The answer to that command is signed with the new key only.
    new_token = _token_of(done)
    (thread,) = [t for t in world.rows(StaffThread) if t.nonce == tokens.nonce_of(new_token)]
    assert tokens.matches(NEW_KEY.encode(), new_token, thread.case_id, thread.recipient,
                          thread.kind)
    assert not tokens.matches(OLD_KEY.encode(), new_token, thread.case_id, thread.recipient,
                              thread.kind)


def test_a_token_of_a_key_not_in_the_list_is_refused_after_a_rotation(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    _restart(world, monkeypatch, OLD_KEY, [])
    world.send(complaint("12月1日接线员态度不耐烦。"))
    (assignment,) = to(world.round(), ZHANG)
    _restart(world, monkeypatch, NEW_KEY, ["another-retired-key-" + "r" * 32])
    world.send(reply(assignment, ZHANG, "#受理"))
    world.round(days=0.1)
    assert world.case().status is not CaseStatus.INVESTIGATING
    assert any("token" in r or "code" in r for r in _refusals(world)), _refusals(world)
