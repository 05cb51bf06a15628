"""Every real-world message of the shared corpus, ingested THROUGH DOVECOT by the real
intake (ledger, pipeline, acknowledgements): each ends as a case, a follow-up, an ignored
machine mail with its reason, or a quarantined item with its reason. No exception escapes."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from imapclient.exceptions import IMAPClientError
from sqlalchemy import select

from casework.models import IngestedItem, QuarantineItem
from tests.test_intake_support import imap_box, make_app

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "mail"


def _files() -> list[Path]:
    with open(CORPUS / "MANIFEST.tsv", encoding="utf-8", newline="") as fh:
        return [CORPUS / row["file"] for row in csv.DictReader(fh, delimiter="\t")]


def _load(imap: Any, files: list[Path]) -> Counter[str]:
    """APPEND in batches (MULTIAPPEND); what APPEND refuses goes in through dovecot-lda."""
    how: Counter[str] = Counter()
    with imap.imap_client(timeout=60) as client:
        for start in range(0, len(files), 100):
            chunk = [f.read_bytes() for f in files[start:start + 100]]
            try:
                client.multiappend("INBOX", chunk)
                how["append"] += len(chunk)
                continue
            except IMAPClientError:
                pass
            for raw in chunk:
                try:
                    client.append("INBOX", raw)
                    how["append"] += 1
                except IMAPClientError:
                    imap.deliver(raw)
                    how["lda"] += 1
    return how


@pytest.mark.skipif(not CORPUS.exists(),
                    reason=f"mail corpus not found at {CORPUS} (it is beside the project in CI)")
def test_every_corpus_message_through_dovecot(tmp_path: Path, sqlite_url: str,
                                              imap_account: Any,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    files = _files()
    loaded = _load(imap_account, files)
    assert len(imap_account.uids("INBOX")) == len(files) == sum(loaded.values())
    app = make_app(tmp_path, sqlite_url, [imap_box(imap_account, batch_size=200)])
    outcomes, errors = app.poll_mail()
    assert errors == [], errors
    assert imap_account.uids("INBOX") == [] and len(imap_account.uids("Processed")) == len(files)
    kinds = Counter(o.kind for o in outcomes)
    with app.session_factory() as session:
        rows = session.scalars(select(IngestedItem)).all()
        quarantined = {q.raw_sha256: q.reason for q in session.scalars(select(QuarantineItem))}
    assert len(rows) == len(outcomes) == len(files)
    for row in rows:
        assert row.outcome in {"case", "follow_up", "ignored", "quarantined", "duplicate"}
        if row.outcome in {"case", "follow_up"}:
            assert row.case_id is not None
        if row.outcome == "ignored":
            assert row.detail, f"ignored without a reason: UID {row.uid}"
        if row.outcome == "quarantined":
            assert quarantined.get(row.raw_sha256), f"quarantined without a reason: UID {row.uid}"
        if row.outcome == "duplicate":  # the same mail twice in the corpus: taken once
            assert "same bytes" in row.detail or "same Message-ID and sender" in row.detail
            assert row.case_id is not None or "same bytes" in row.detail
    with capsys.disabled():
        print(f"\ncorpus through Dovecot: {len(files)} messages ({dict(loaded)}): "
              f"{dict(sorted(kinds.items()))}")
    assert kinds["case"] > 500 and kinds["ignored"] > 300
