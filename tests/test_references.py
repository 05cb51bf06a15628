"""Reference numbers: formatted, per year, never reused, safe with two writers."""

from __future__ import annotations

import threading

from sqlalchemy.orm import Session, sessionmaker

from casework.references import counter_value, find_references, next_reference


def test_numbers_are_sequential_per_year(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as session:
        assert next_reference(session, "LO", 2026) == "LO-2026-000001"
        assert next_reference(session, "LO", 2026) == "LO-2026-000002"
        assert next_reference(session, "LO", 2027) == "LO-2027-000001"


def test_rolled_back_number_was_never_seen(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as session:
        next_reference(session, "LO", 2026)
    session = session_factory()
    session.begin()
    assert next_reference(session, "LO", 2026) == "LO-2026-000002"
    session.rollback()
    session.close()
    with session_factory.begin() as session:
        assert next_reference(session, "LO", 2026) == "LO-2026-000002"


def test_two_writers_never_share_a_number(session_factory: sessionmaker[Session]) -> None:
    taken: list[str] = []
    lock = threading.Lock()

    def writer() -> None:
        for _ in range(25):
            with session_factory.begin() as session:
                ref = next_reference(session, "LO", 2026)
            with lock:
                taken.append(ref)

    threads = [threading.Thread(target=writer) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(taken) == 50
    assert len(set(taken)) == 50
    with session_factory() as session:
        assert counter_value(session, "LO", 2026) == 50


def test_references_found_in_mangled_subjects() -> None:
    assert find_references("回复: [LO-2026-000123] 投诉", "LO") == ["LO-2026-000123"]
    assert find_references("RE:FW: lo-2026-000045 follow-up", "LO") == ["LO-2026-000045"]
    assert find_references("XX-2026-000001", "LO") == []
