"""Property-based fuzzing of the call-log reader (issue 12): whatever bytes are dropped as a
CSV or JSON-lines file, ``CallLogScan`` raises nothing and yields calls and row problems
only, with counts that agree. Kept fast: modest ``max_examples``, no deadline."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

from intake.hotline.problems import RowError
from intake.hotline.reader import CallLogScan
from intake.hotline.records import CallRecord
from tests.test_hotline import EN_HEADER, ZH_HEADER, call

# Hypothesis keeps caches under .hypothesis/ of the working folder: not in the project tree.
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "complaintd-hypothesis")
FUZZ = settings(max_examples=120, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow])
cell = st.one_of(st.text(max_size=30), st.sampled_from(
    ["", "2026-11-24 14:05", "13800001201", "下周一", "=1+1", "是", "LO-2026-000123",
     "zhang@example.cn", "\x00", "\ud800", "1" * 40, "\r\n", '"', ","]))


@st.composite
def csv_bytes(draw: st.DrawFn) -> bytes:
    header = draw(st.sampled_from([ZH_HEADER, EN_HEADER, ZH_HEADER[:5], []]))
    rows = draw(st.lists(st.one_of(st.just(call()), st.lists(cell, max_size=12)), max_size=8))
    out = io.StringIO()
    writer = csv.writer(out, delimiter=draw(st.sampled_from([",", "\t", ";"])))
    writer.writerow(header)
    writer.writerows(rows)
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "utf-16"]))
    data = out.getvalue().encode(encoding, errors="surrogatepass" if "utf" in encoding
                                 else "replace")
    if draw(st.booleans()):  # damage: cut, or random bytes inserted
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.binary(max_size=20)) + data[at:]
    return data


@st.composite
def jsonl_bytes(draw: st.DrawFn) -> bytes:
    lines = []
    for _ in range(draw(st.integers(0, 6))):
        kind = draw(st.sampled_from(["call", "cells", "junk", "nested"]))
        if kind == "call":
            lines.append(json.dumps(dict(zip(ZH_HEADER, call(), strict=True)),
                                    ensure_ascii=False))
        elif kind == "cells":
            keys = draw(st.lists(st.sampled_from([*ZH_HEADER, "x"]), max_size=10))
            lines.append(json.dumps({k: draw(st.one_of(cell, st.integers(), st.none(),
                                                        st.lists(cell, max_size=2)))
                                     for k in keys}))
        elif kind == "nested":
            lines.append("[" * draw(st.integers(1, 5000)))
        else:
            lines.append(draw(st.text(max_size=40)))
    return "\n".join(lines).encode("utf-8", errors="surrogatepass")


def scan(data: bytes, name: str) -> None:
    reader = CallLogScan(io.BytesIO(data), name)
    items = list(reader)
    assert all(isinstance(i, CallRecord | RowError) for i in items)
    records = sum(isinstance(i, CallRecord) for i in items)
    assert reader.rejected_rows <= reader.data_rows
    assert records <= reader.data_rows
    if reader.unreadable:
        assert records == 0 and any(isinstance(i, RowError) for i in items)
    for item in items:  # every text can be stored: no lone surrogate reaches the database
        for value in dataclasses.astuple(item):
            if isinstance(value, str):
                value.encode("utf-8")


@FUZZ
@given(data=st.one_of(csv_bytes(), st.binary(max_size=300)))
def test_any_csv_bytes_give_calls_and_problems_only(data: bytes) -> None:
    scan(data, "calls.csv")


@FUZZ
@given(data=st.one_of(jsonl_bytes(), st.binary(max_size=300)))
def test_any_json_lines_give_calls_and_problems_only(data: bytes) -> None:
    scan(data, "calls.jsonl")


@FUZZ
@given(data=st.binary(max_size=300).map(lambda b: b"PK\x03\x04" + b))
def test_any_zip_looking_bytes_give_a_problem_not_a_crash(data: bytes) -> None:
    scan(data, "calls.xlsx")
