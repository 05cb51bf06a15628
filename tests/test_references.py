"""Reference numbers: formatted, per year, never reused, safe with two writers."""

from __future__ import annotations

import threading

from sqlalchemy.orm import Session, sessionmaker

from casework.db import start_batch
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


def test_a_batch_counts_in_memory_and_stores_the_last_number(
        session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as session:
        next_reference(session, "LO", 2026)
    with session_factory.begin() as session:
        start_batch(session)
        taken = [next_reference(session, "LO", 2026) for _ in range(3)]
        assert next_reference(session, "LO", 2027) == "LO-2027-000001"
    assert taken == ["LO-2026-000002", "LO-2026-000003", "LO-2026-000004"]
    with session_factory() as session:
        assert counter_value(session, "LO", 2026) == 4
        assert counter_value(session, "LO", 2027) == 1
    # A plain transaction after the batch goes on from there.
    with session_factory.begin() as session:
        assert next_reference(session, "LO", 2026) == "LO-2026-000005"


def test_a_batch_gives_back_what_a_savepoint_rolled_back(
        session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as session:
        start_batch(session)
        savepoint = session.begin_nested()  # the first number, in a savepoint undone
        assert next_reference(session, "LO", 2026) == "LO-2026-000001"
        savepoint.rollback()
        assert next_reference(session, "LO", 2026) == "LO-2026-000001"
        savepoint = session.begin_nested()
        assert next_reference(session, "LO", 2026) == "LO-2026-000002"
        savepoint.rollback()
        with session.begin_nested():  # released: its number stays taken
            assert next_reference(session, "LO", 2026) == "LO-2026-000002"
        assert next_reference(session, "LO", 2026) == "LO-2026-000003"
    with session_factory() as session:
        assert counter_value(session, "LO", 2026) == 3
    session = session_factory()
    session.begin()
    start_batch(session)
    assert next_reference(session, "LO", 2026) == "LO-2026-000004"
    session.rollback()  # a batch rolled back as a whole gives every number back
    assert next_reference(session, "LO", 2026) == "LO-2026-000004"
    session.commit()
    session.close()
    with session_factory() as session:
        assert counter_value(session, "LO", 2026) == 4


def test_two_batch_writers_never_share_a_number(session_factory: sessionmaker[Session]) -> None:
    taken: list[str] = []
    lock = threading.Lock()

    def writer() -> None:
        for _ in range(10):
            with session_factory.begin() as session:
                start_batch(session)
                refs = [next_reference(session, "LO", 2026) for _ in range(5)]
            with lock:
                taken.extend(refs)

    threads = [threading.Thread(target=writer) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(taken) == [f"LO-2026-{n:06d}" for n in range(1, 101)]
    with session_factory() as session:
        assert counter_value(session, "LO", 2026) == 100


def test_references_found_in_mangled_subjects() -> None:
    assert find_references("回复: [LO-2026-000123] 投诉", "LO") == ["LO-2026-000123"]
    assert find_references("RE:FW: lo-2026-000045 follow-up", "LO") == ["LO-2026-000045"]
    assert find_references("XX-2026-000001", "LO") == []
