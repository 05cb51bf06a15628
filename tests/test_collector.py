"""A batch spares the cyclic garbage collector the process's old objects, and nothing more."""

from __future__ import annotations

import gc
import weakref

from casework.db import collector_spared


class _Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: only the cyclic collector frees it


def test_what_batches_make_is_still_collected() -> None:
    before = gc.get_threshold()
    with collector_spared():
        assert gc.get_freeze_count() > 0  # what the process held before is left alone
        dropped = _Node()
        gone = weakref.ref(dropped)
        del dropped
        gc.collect()
        assert gone() is None  # what a batch makes and drops is collected
        kept = _Node()  # alive until after the batch (as its outcomes are)
    assert gc.get_threshold() == before
    later = weakref.ref(kept)
    del kept
    with collector_spared():  # the next batch does not freeze the last one's leftovers
        gc.collect()
        assert later() is None
