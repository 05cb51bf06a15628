"""Every real-world message of the shared corpus parses without an exception escaping.

(The full intake of the corpus through Dovecot comes with the mail-intake issue.)
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest

from intake.mail import parse_mail

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "mail"


def manifest() -> list[dict[str, str]]:
    with open(CORPUS / "MANIFEST.tsv", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


@pytest.mark.skipif(not CORPUS.exists(),
                    reason=f"mail corpus not found at {CORPUS} (it is beside the project in CI)")
def test_every_corpus_message_parses(capsys: pytest.CaptureFixture[str]) -> None:
    rows = manifest()
    kinds: Counter[tuple[str, str]] = Counter()
    for row in rows:
        mail = parse_mail((CORPUS / row["file"]).read_bytes())
        kinds[(row["kind"], "machine" if mail.machine_reason else "person")] += 1
        assert "\x00" not in mail.text + mail.subject, row["file"]
    with capsys.disabled():
        print(f"\ncorpus: {len(rows)} messages parsed: {dict(sorted(kinds.items()))}")
    assert len(rows) == sum(kinds.values()) > 1000
    # Most delivery reports are recognised as machine mail even by the foundation rules.
    assert kinds[("bounce-dsn", "machine")] > 0.9 * (
        kinds[("bounce-dsn", "machine")] + kinds[("bounce-dsn", "person")])
