"""How the shared mail corpus decodes: subjects and bodies with U+FFFD, and subjects and
bodies silently wrong by the hand-checked tables of tests/fixtures (issue 12).

    python bench/corpus_decoding.py [--corpus ../shared/corpus/mail]

Every message goes through ``intake.mail.parse_mail``, the parser intake uses. Not a test
(tests/test_corpus_decoding.py is); this prints the figures for bench/RESULTS.md, and run
on an older checkout it gives the "before" column.
"""

from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path

from intake.mail import parse_mail

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"


def _table(name: str) -> list[list[str]]:
    lines = (FIXTURES / name).read_text(encoding="utf-8").splitlines()
    return [line.split("\t") for line in lines if line and not line.startswith("#")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus" / "mail")
    args = parser.parse_args()
    with open(args.corpus / "MANIFEST.tsv", encoding="utf-8", newline="") as fh:
        files = [row["file"] for row in csv.DictReader(fh, delimiter="\t")]
    subjects = {path: (match, expected) for path, match, expected, _why in
                _table("corpus_subjects.tsv")}
    bodies = {path: expected for path, expected, _why in _table("corpus_bodies.tsv")}
    counts = dict.fromkeys(("subject_fffd", "body_fffd", "subject_wrong", "body_wrong"), 0)
    started = time.perf_counter()
    for path in files:
        mail = parse_mail((args.corpus / path).read_bytes())
        counts["subject_fffd"] += "\ufffd" in mail.subject
        counts["body_fffd"] += "\ufffd" in mail.text
        if path in subjects:
            match, expected = subjects[path]
            ok = (mail.subject == expected if match == "exact"
                  else mail.subject.startswith(expected))
            counts["subject_wrong"] += not ok
        if path in bodies:
            counts["body_wrong"] += bodies[path] not in mail.text
    elapsed = time.perf_counter() - started
    print(f"{len(files)} messages in {elapsed:.1f} s")
    print(f"U+FFFD: {counts['subject_fffd']} subjects, {counts['body_fffd']} bodies")
    print(f"wrong by the tables: {counts['subject_wrong']} of {len(subjects)} subjects, "
          f"{counts['body_wrong']} of {len(bodies)} sampled bodies")


if __name__ == "__main__":
    main()
