"""A batch spares the cyclic garbage collector the objects made before it, and only then."""

from __future__ import annotations

import gc
import threading
import weakref

from casework.db import collector_spared


class _Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: only the cyclic collector frees it


def test_a_batch_spares_old_objects_and_gives_everything_back() -> None:
    before = gc.get_threshold()
    old = _Node()
    with collector_spared():
        assert gc.get_freeze_count() > 0  # what existed is left alone during the batch
        assert gc.get_threshold()[0] >= before[0]
        young = _Node()
        gone = weakref.ref(young)
        del young
        gc.collect()
        assert gone() is None  # what the batch makes and drops is still collected
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == before
    dropped = weakref.ref(old)
    del old
    gc.collect()
    assert dropped() is None  # and what existed before is ordinary again


def test_two_batches_at_once_give_the_thresholds_back_when_the_last_ends() -> None:
    before = gc.get_threshold()
    inside, leave = threading.Event(), threading.Event()

    def other_batch() -> None:
        with collector_spared():
            inside.set()
            leave.wait(10)

    thread = threading.Thread(target=other_batch)
    with collector_spared():
        thread.start()
        assert inside.wait(10)
    assert gc.get_threshold() != before  # the other batch is still running
    leave.set()
    thread.join()
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
