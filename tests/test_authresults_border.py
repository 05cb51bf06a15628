"""Authentication-Results count only when our own border wrote them (RFC 8601, authres)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from casework.status import CaseStatus
from complaintd.app import App
from complaintd.settings import load_settings
from intake.authresults import border_verdict
from tests.test_investigation_e2e import HEALTH, ZHANG, World, complaint, reply, to

OURS = frozenset({"mx.oasis.example.org"})


def test_a_result_hidden_in_a_property_is_not_read_as_the_result() -> None:
    # A first-match regex read "dmarc=pass" out of the envelope sender.
    header = ("mx.oasis.example.org; spf=pass smtp.mailfrom=dmarc=pass@evil.example; "
              "dkim=none; dmarc=fail header.from=oasis.example.org")
    verdict = border_verdict([header], "zhang.wei@oasis.example.org", OURS)
    assert verdict.summary == "dkim=none spf=pass dmarc=fail"
    assert not verdict.aligned_pass


def test_only_our_border_counts() -> None:
    foreign = ("mx.evil.example; dmarc=pass header.from=oasis.example.org; "
               "dkim=pass header.d=oasis.example.org")
    assert border_verdict([foreign], "zhang.wei@oasis.example.org", OURS).summary is None
    ours = "mx.oasis.example.org; dmarc=pass header.from=oasis.example.org"
    assert border_verdict([foreign, ours], "zhang.wei@oasis.example.org", OURS).aligned_pass


@pytest.mark.parametrize(("signer", "aligned"), [
    ("oasis.example.org", True), ("mail.oasis.example.org", True), ("evil.example", False),
    ("example.org.evil.example", False)])
def test_a_dkim_pass_proves_only_an_aligned_domain(signer: str, aligned: bool) -> None:
    header = f"mx.oasis.example.org; dkim=pass header.d={signer}; dmarc=none"
    assert border_verdict([header], "zhang.wei@oasis.example.org", OURS).aligned_pass is aligned


def test_garbage_headers_prove_nothing() -> None:
    assert border_verdict(["", ";;;", "mx.oasis.example.org; dkim="], "a@b.example",
                          OURS) == border_verdict([], "a@b.example", OURS)


@pytest.fixture
def guarded(tmp_path: Path, db_url: str, imap_account: Any,
            smtp_server: Any) -> Iterator[World]:
    """The e2e world with our border's authserv-id configured."""
    world = World(tmp_path, db_url, imap_account, smtp_server)
    world.app.close()
    config = tmp_path / "complaintd.toml"
    config.write_text(config.read_text(encoding="utf-8")
                      + '[intake]\ntrusted_authserv_ids = ["mx.oasis.example.org"]\n',
                      encoding="utf-8")
    world.app = App.build(load_settings(config), world.clock)
    yield world
    world.app.close()


def test_commands_need_an_aligned_pass_from_our_border(guarded: World) -> None:
    guarded.send(complaint("12月1日接线员态度不耐烦。"))
    (assignment,) = to(guarded.round(), ZHANG)
    forged = "mx.evil.example; dmarc=pass header.from=oasis.example.org"
    guarded.send(reply(assignment, ZHANG, "#办结 不属实\n无此事。", auth=forged))
    guarded.round(days=0.1)
    case = guarded.case()
    assert case.status is CaseStatus.ROUTED
    (refusal,) = [e for e in case.events if e.kind == "command_refused"]
    assert "could not prove the sender" in refusal.details["why"]
    proven = "mx.oasis.example.org; dkim=pass header.d=oasis.example.org; dmarc=pass"
    guarded.send(reply(assignment, ZHANG, "#受理", auth=proven))
    guarded.round(days=0.1)
    assert guarded.case().status is CaseStatus.INVESTIGATING


def test_an_unproven_authority_answer_stays_on_the_case(guarded: World) -> None:
    guarded.send(complaint("11月30日我在某医院看病，医生误诊还乱收费。"))
    (letter,) = to(guarded.round(), HEALTH)
    guarded.send(reply(letter, HEALTH, "经核查，投诉不属实，已办结。",
                       auth="mx.evil.example; dmarc=pass"))
    mails = guarded.round(days=1)
    case = guarded.case()
    assert case.status is CaseStatus.REFERRED
    assert any(e.kind == "authority_mail_unverified" for e in case.events)
    assert to(mails, "patient@example.cn", contains="投诉不属实") == []
