"""The raw store: write-once files by SHA-256, on a real file system."""

from __future__ import annotations

import errno
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from casework.rawstore import RawStore, sha256_hex
from intake.hotline.rawcopy import store_file

REPO = Path(__file__).resolve().parents[1]


def test_bytes_are_kept_once_under_their_hash_in_one_folder_level(tmp_path: Path) -> None:
    store = RawStore(tmp_path)
    digest = store.put("投诉内容".encode("gb18030"))
    assert digest == sha256_hex("投诉内容".encode("gb18030"))
    assert (tmp_path / digest[:2] / digest).read_bytes() == "投诉内容".encode("gb18030")
    first = os.stat(tmp_path / digest[:2] / digest).st_ino
    assert store.put("投诉内容".encode("gb18030")) == digest  # stored again: untouched
    assert os.stat(tmp_path / digest[:2] / digest).st_ino == first
    assert store.get(digest) == "投诉内容".encode("gb18030") and digest in store
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == [digest]  # no temp file


def test_files_in_the_older_two_level_layout_are_still_found(tmp_path: Path) -> None:
    data = b"stored by an earlier version"
    digest = sha256_hex(data)
    old = tmp_path / digest[:2] / digest[2:4] / digest
    old.parent.mkdir(parents=True)
    old.write_bytes(data)
    store = RawStore(tmp_path)
    assert digest in store and store.get(digest) == data
    assert store.put(data) == digest
    assert not store.path_for(digest).exists()  # not written a second time
    assert "0" * 64 not in store


def test_a_streamed_call_log_lands_where_put_would_put_it(tmp_path: Path) -> None:
    store = RawStore(tmp_path)
    data = "日期,来电人\n".encode("gbk") * 50_000
    fh = io.BytesIO(data)
    digest, size = store_file(store, fh)
    assert (digest, size) == (sha256_hex(data), len(data))
    assert fh.tell() == 0 and store.path_for(digest).read_bytes() == data


def test_a_batch_is_stored_with_one_sync_and_only_complete_files_get_names(
        tmp_path: Path) -> None:
    store = RawStore(tmp_path)
    earlier = store.put(b"stored before")
    blobs = [f"投诉 {n}".encode("gb18030") for n in range(12)] + [b"stored before", b"x" * 3]
    blobs.append(blobs[0])  # the same bytes twice in one batch
    digests = store.put_all(blobs)
    assert digests == [sha256_hex(b) for b in blobs] and earlier in digests
    assert all(store.get(d) == b for d, b in zip(digests, blobs, strict=True))
    files = sorted(p.name for p in tmp_path.rglob("*") if p.is_file())
    assert files == sorted(set(digests))  # no temporary file left, each stored once


def test_a_small_batch_is_stored_file_by_file(tmp_path: Path) -> None:
    store = RawStore(tmp_path)
    digests = store.put_all([b"one", b"two"])
    assert [store.get(d) for d in digests] == [b"one", b"two"]


# A real write failure, no mock: in a child process whose files may not grow past 4 kB
# (RLIMIT_FSIZE; the write then fails with EFBIG as a full disk fails with ENOSPC).
FAILING_WRITE = r"""
import resource, signal, sys
from pathlib import Path
from casework.rawstore import RawStore
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
store = RawStore(Path(sys.argv[1]))
small = [b"complaint %d" % n for n in range(12)]
try:
    store.put_all(small + [b"x" * 10_000] if sys.argv[2] == "batch" else [b"y" * 10_000])
except OSError as exc:
    print(exc.errno)
"""


@pytest.mark.parametrize("how", ["batch", "one"])
def test_a_write_that_fails_midway_leaves_no_temporary_file(tmp_path: Path, how: str) -> None:
    done = subprocess.run([sys.executable, "-c", FAILING_WRITE, str(tmp_path / "raw"), how],
                          capture_output=True, text=True, timeout=60, cwd=REPO,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.stdout.strip() == str(errno.EFBIG), done.stderr
    # No temporary file, and no name for the batch's small files either: they get their
    # names only once all are written and synced.
    assert [p.name for p in (tmp_path / "raw").rglob("*") if p.is_file()] == []
