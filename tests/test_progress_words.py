"""Progress in words and the progress query's recognition (issue 15), on plain values."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from casework.inbound import Inbound
from casework.progress import Progress, Step
from handling.progress import is_progress_query, plain

NOW = datetime(2026, 12, 2, 3, tzinfo=UTC)


def mail(subject: str, text: str) -> Inbound:
    return Inbound(channel="email", received_at=NOW, subject=subject, text=text)


@pytest.mark.parametrize(("subject", "text", "query"), [
    ("查询 LO-2026-000001", "", True),
    ("LO-2026-000001", "进度", True),
    ("回复：您的投诉已受理 [LO-2026-000001]", "进度？\n\n> 原邮件", True),
    ("Re: Your complaint has been received [LO-2026-000001]", "Progress?\n-- \nJane", True),
    ("查询进度", "LO-2026-000001", True),
    ("投诉", "我想查询一下为什么收费这么高，医院多收了检查费。", False),
    ("查询 LO-2026-000001", "进度如何？另外补充材料：收费票据两张。", False),
    ("医院收费", "", False),
])
def test_what_counts_as_a_progress_query(subject: str, text: str, query: bool) -> None:
    assert is_progress_query(mail(subject, text), "LO") is query


def test_words_name_the_authority_and_its_committed_days() -> None:
    progress = Progress(
        reference="LO-2026-000001", stage="authority", received_on=date(2026, 12, 1),
        resolve_due=date(2026, 12, 22), department="service", authority="nobody-known",
        authority_answer_due=date(2026, 12, 20), material_items=(), extended=False,
        steps=(Step(date(2026, 12, 1), "registered"), Step(date(2026, 12, 2), "authority")))
    words = plain(progress, None, "本中心", "the centre")
    assert words.status[0].startswith("已报告有关行政机关")
    assert words.body[0].startswith("nobody-known")
    assert words.committed is not None and "2026年12月20日" in words.committed[0]
    assert words.waiting_for == ("行政机关的处理结果", "the administrative authority's answer")
    assert [s[1] for s in words.steps] == ["已受理登记，正在确定承办部门",
                                          "已报告有关行政机关，等待其处理结果"]


def test_words_while_material_is_missing_promise_no_date() -> None:
    progress = Progress(
        reference="LO-2026-000002", stage="material", received_on=date(2026, 12, 1),
        resolve_due=None, department=None, authority=None, authority_answer_due=None,
        material_items=("收费票据", "就诊日期"), extended=False,
        steps=(Step(date(2026, 12, 1), "registered"),))
    words = plain(progress, None, "本中心", "the centre")
    assert words.committed is None
    assert words.waiting_for is not None and "收费票据、就诊日期" in words.waiting_for[0]
    assert words.body == ("本中心", "the centre")
