"""Encryption at rest of the raw store (issue 17): files on disk hold no plain text, open
with any known key, fail loudly with a wrong key or a tampered file, and rotate."""

from __future__ import annotations

import mailbox
import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from casework.clock import FixedClock
from casework.models import Message
from casework.rawstore import RawStore, sha256_hex
from casework.sealing import MAGIC, Sealer, SealError, key_id_of, new_key_line, parse_keys
from complaintd.app import App
from complaintd.cli import main
from complaintd.migrate import upgrade
from complaintd.settings import ConfigError, load_settings
from tests.test_privacy import SECRET_WORDS, START, complaint, settings_text

PLAIN = ("王芳的诊断证明：" + SECRET_WORDS).encode()


def keys(*ids: str) -> Sealer:
    return Sealer(parse_keys(" ".join(new_key_line(i) for i in ids), source="test"))


def on_disk(store: RawStore, digest: str) -> bytes:
    return store.path_for(digest).read_bytes()


def test_a_sealed_file_holds_no_plain_text_and_opens_again(tmp_path: Path) -> None:
    store = RawStore(tmp_path, keys("k1"))
    digest = store.put(PLAIN)
    raw = on_disk(store, digest)
    assert raw.startswith(MAGIC) and SECRET_WORDS.encode() not in raw
    assert store.get(digest) == PLAIN
    # Named by the plain bytes' hash, as before: storing them again is free.
    assert store.put(PLAIN) == digest and on_disk(store, digest) == raw
    # Many at once (the batch path) and a streamed write seal too.
    digests = store.put_all([PLAIN + bytes([n]) for n in range(10)])
    assert all(SECRET_WORDS.encode() not in on_disk(store, d) for d in digests)
    assert [store.get(d) for d in digests] == [PLAIN + bytes([n]) for n in range(10)]
    store.write("ab" * 32, lambda fh: fh.write(PLAIN))
    assert on_disk(store, "ab" * 32).startswith(MAGIC) and store.get("ab" * 32) == PLAIN


def test_two_seals_of_the_same_bytes_differ(tmp_path: Path) -> None:
    sealer = keys("k1")
    assert sealer.seal(PLAIN) != sealer.seal(PLAIN)  # a fresh nonce each time


def test_a_wrong_key_or_a_tampered_file_is_refused(tmp_path: Path) -> None:
    store = RawStore(tmp_path, keys("k1"))
    digest = store.put(PLAIN)
    with pytest.raises(SealError, match="not among the keys"):
        RawStore(tmp_path, keys("k2")).get(digest)
    # Same id, another secret: the tag does not match.
    with pytest.raises(SealError, match="damaged or was altered"):
        RawStore(tmp_path, keys("k1")).get(digest)
    path = store.path_for(digest)
    blob = bytearray(path.read_bytes())
    blob[-1] ^= 1
    path.write_bytes(bytes(blob))
    with pytest.raises(SealError, match="damaged or was altered"):
        store.get(digest)


def test_rotation_reseals_every_file_with_the_new_key(tmp_path: Path) -> None:
    plain_store = RawStore(tmp_path)  # files written before encryption was on
    before = plain_store.put(b"older plain " + PLAIN)
    old_line, new_line = new_key_line("k2025"), new_key_line("k2026")
    old = Sealer(parse_keys(old_line, source="test"))
    sealed_old = RawStore(tmp_path, old).put(PLAIN)
    assert key_id_of(on_disk(plain_store, sealed_old)) == "k2025"

    both = RawStore(tmp_path, Sealer(parse_keys(f"{new_line},{old_line}", source="test")))
    assert both.get(sealed_old) == PLAIN and both.get(before) == b"older plain " + PLAIN
    assert both.reseal() == (2, 0)
    assert {key_id_of(on_disk(both, d)) for d in (before, sealed_old)} == {"k2026"}
    assert both.reseal() == (0, 2)

    only_new = RawStore(tmp_path, Sealer(parse_keys(new_line, source="test")))
    assert only_new.get(sealed_old) == PLAIN and only_new.get(before) == b"older plain " + PLAIN


@pytest.mark.parametrize("text, problem", [
    ("", "no key given"),
    ("k1", "must read id:base64"),
    ("k1:not*base64", "not valid base64"),
    ("k1:" + "QUFB", "must be 32 bytes"),
])
def test_malformed_keys_are_named(text: str, problem: str) -> None:
    with pytest.raises(SealError, match=problem):
        parse_keys(text, source="privacy.key_file")


def test_the_service_seals_mail_it_takes_in(tmp_path: Path, sqlite_url: str,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "complaintd.toml"
    config.write_text(settings_text(sqlite_url, "[privacy]\nencrypt_store = true\n"),
                      encoding="utf-8")
    with pytest.raises(ConfigError, match=r"privacy\.keys_env: environment variable "
                                          "COMPLAINTD_STORE_KEYS"):
        App.build(load_settings(config), FixedClock(START))
    monkeypatch.setenv("COMPLAINTD_STORE_KEYS", new_key_line("k1"))
    app = App.build(load_settings(config), FixedClock(START))
    try:
        upgrade(app.engine)
        mailbox.Maildir(tmp_path / "mail", create=True).add(
            complaint(1, "wang@example.cn", attachment=b"%PDF scan of " + PLAIN))
        outcomes, errors = app.poll_mail()
        assert errors == [] and [o.kind for o in outcomes] == ["case"]
        with app.session_factory() as session:
            message = session.scalars(select(Message)).first()
            assert message is not None and message.raw_sha256
            digests = [message.raw_sha256, message.attachments[0].sha256]
        for digest in digests:
            assert SECRET_WORDS.encode() not in on_disk(app.raw_store, digest)
            assert on_disk(app.raw_store, digest).startswith(MAGIC)
        assert SECRET_WORDS.encode() in app.raw_store.get(digests[1])
    finally:
        app.close()


def test_the_key_commands(tmp_path: Path, sqlite_url: str,
                          monkeypatch: pytest.MonkeyPatch) -> None:
    made = CliRunner().invoke(main, ["privacy", "new-key", "--id", "k9"])
    assert made.exit_code == 0
    (line,) = made.output.split()
    assert parse_keys(line, source="cli")[0].key_id == "k9"

    key_file = tmp_path / "store.keys"
    key_file.write_text(line + "\n")
    os.chmod(key_file, 0o600)
    RawStore(tmp_path / "var" / "raw").put(PLAIN)  # a file from before encryption
    config = tmp_path / "complaintd.toml"
    config.write_text(settings_text(sqlite_url, f'[privacy]\nencrypt_store = true\n'
                                                f'key_file = "{key_file}"\n'),
                      encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert CliRunner().invoke(main, ["--config", str(config), "db", "upgrade"]).exit_code == 0
    done = CliRunner().invoke(main, ["--config", str(config), "--lang", "en", "privacy",
                                     "reseal", "--as", "ops"])
    assert done.exit_code == 0, done.output
    assert "Resealed 1 files with the current key k9 (0 were current)" in done.output
    assert SECRET_WORDS not in done.output
    assert on_disk(RawStore(tmp_path / "var" / "raw"), sha256_hex(PLAIN)).startswith(MAGIC)


def test_a_restore_checks_sealed_files_with_the_keys(tmp_path: Path) -> None:
    from complaintd.ops.backup import _content_sha256

    sealer = keys("k1")
    store = RawStore(tmp_path, sealer)
    digest = store.put(PLAIN)
    path = store.path_for(digest)
    assert _content_sha256(path, sealer) == digest
    # Without the keys, or with others, a sealed file is never taken for intact.
    assert _content_sha256(path, None) != digest
    assert _content_sha256(path, keys("k1")) != digest
    plain = RawStore(tmp_path / "plain").put(PLAIN)
    assert _content_sha256(RawStore(tmp_path / "plain").path_for(plain), None) == plain
