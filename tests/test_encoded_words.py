"""A long Subject is encoded and folded exactly as the stdlib's ``email.header.Header``
and compat32 do (``notifications.encoded_words`` and the wire policy's shortcut only
measure faster): compared on many values, Chinese, Latin, mixed, with reply tokens."""

from __future__ import annotations

import random
from email.charset import Charset
from email.header import Header
from email.policy import Compat32

import pytest

from notifications.encoded_words import encoded
from notifications.outbox import _WIRE, _header

PIECES = ["投诉案件编号已分派给您请处理张伟李娜（第号来电）", "abcdefghij ABC0123-[]:=?_",
          "éüñ", "😀", "   ", "\t"]  # fmt: skip


def values(seed: int, count: int) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        pool = "".join(rng.sample(PIECES, rng.randint(1, len(PIECES))))
        out.append("".join(rng.choice(pool) for _ in range(rng.randint(1, 260))))
    return out


REAL = ["【LO-2026-000123】新投诉分派：药费报销被拒，要求复核（第123号来电，详情见录音） "
        "[t1abcdefghijklmnopqrstuv]", "案件 LO-2026-000001 已受理 / Complaint received "
        "[zz9abcdefghijklmnopqrstu]", "Re: résumé of the café visit " * 4]


@pytest.mark.parametrize("name", ["Subject", "To", "X-" + "Long" * 20])
def test_encoded_words_are_those_of_header(name: str) -> None:
    checked = 0
    for value in [*REAL, *values(11, 400)]:
        if value.isascii():
            continue
        assert encoded(value, name) == Header(value, Charset("utf-8"), header_name=name).encode()
        checked += 1
    assert checked > 300


def test_the_subject_is_folded_as_compat32_folds_it() -> None:
    for value in [*REAL, *values(12, 400), "a\n b", "a\n  b", "=?x?=\n =?y?= z", "x\n\n y"]:
        for subject in (value, _header(value)):
            assert _WIRE.fold_binary("Subject", subject) == \
                Compat32.fold_binary(_WIRE, "Subject", subject), subject
