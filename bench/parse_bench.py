"""Understanding one mail: a normal complaint next to 1 MB pathological ones (issue 12).

    python bench/parse_bench.py                     # this tree, 1 MiB bodies, 60 s cap
    python bench/parse_bench.py --code /tmp/before  # another checkout of the project
    python bench/parse_bench.py --size 65536 --cases urls reply_blank_lines

Each case runs in a fresh subprocess (so a case that never ends is stopped at ``--timeout``
and reported as such) with ``--code`` first on its path: the time is that of
``intake.understand.MailUnderstanding`` on the raw bytes, after one warm-up run on the
normal mail, the best of ``--repeat`` runs. Prints a Markdown table for bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAD = (b"From: =?utf-8?B?5byg5YWI55Sf?= <zhang@example.cn>\r\nTo: complaints@example.org\r\n"
        b"Date: Tue, 24 Nov 2026 09:00:00 +0800\r\nMessage-ID: <bench-1@example.cn>\r\n"
        b"MIME-Version: 1.0\r\n")


def normal(_size: int) -> bytes:
    text = ("您好：\r\n我母亲在贵院住院期间，救助款迟迟未发放，药费报销也被拒绝。"
            "请尽快核实处理。\r\n张先生\r\n13800001201\r\n").encode()
    html = b"<html><body><p>" + text.replace(b"\r\n", b"<br>") + b"</p></body></html>"
    return (HEAD + b"Subject: =?utf-8?B?5oqV6K+J77ya5pWR5Yqp5qy+5pyq5Y+R5pS+?=\r\n"
            b'Content-Type: multipart/mixed; boundary="m"\r\n\r\n'
            b'--m\r\nContent-Type: multipart/alternative; boundary="a"\r\n\r\n'
            b"--a\r\nContent-Type: text/plain; charset=utf-8\r\n"
            b"Content-Transfer-Encoding: 8bit\r\n\r\n" + text * 10 + b"\r\n"
            b"--a\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + html + b"\r\n--a--\r\n"
            b"--m\r\nContent-Type: application/pdf\r\n"
            b'Content-Disposition: attachment; filename="bill.pdf"\r\n'
            b"Content-Transfer-Encoding: base64\r\n\r\n" + b"JVBERi0xLjQK" * 100 + b"\r\n--m--\r\n")


def plain(subject: bytes, body: bytes, kind: bytes = b"text/plain") -> bytes:
    return (HEAD + b"Subject: " + subject + b"\r\nContent-Type: " + kind
            + b"; charset=utf-8\r\n\r\n" + body)


def urls(size: int) -> bytes:
    return plain(b"links", b"http://" * (size // 7))


def reply_blank_lines(size: int) -> bytes:
    # A reply: the quote markers are searched below many blank lines (text after them, or
    # the blank lines would be stripped off the end of the body first).
    return plain(b"Re: complaint", "新内容".encode() + b"\n" * size + "旧".encode())


def short_lines(size: int) -> bytes:
    # Not blank, so not collapsed: the standard parser's cost per line, unbounded by us.
    return plain(b"Re: lines", b"a\n" * (size // 2))


def long_header_line(size: int) -> bytes:
    return plain(b"LO" + b" " * size, b"body")


def nested_parts(size: int) -> bytes:
    depth = size // 70
    opening = b"".join(b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i)
                       for i in range(depth))
    return (HEAD + b"Subject: nested\r\n" + opening
            + b"Content-Type: text/plain\r\n\r\nhello\r\n")


def many_parts(size: int) -> bytes:
    one = (b"--b\r\nContent-Type: application/octet-stream\r\n"
           b"Content-Disposition: attachment; filename=a.bin\r\n\r\nx\r\n")
    return (HEAD + b'Subject: parts\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n'
            + one * (size // len(one)) + b"--b--\r\n")


def html_nested(size: int) -> bytes:
    return plain(b"html", b"<div>" * (size // 5), b"text/html")


def html_unclosed(size: int) -> bytes:
    return plain(b"html", b"<a b=" * (size // 5), b"text/html")


def html_references(size: int) -> bytes:
    return plain(b"html", b"&" * size, b"text/html")


def combined(size: int) -> bytes:
    """All at once, as the issue puts it: long header lines, nested parts, a body of URLs
    (a quarter of the size each), inside one mail."""
    quarter = size // 4
    long_headers = b"".join(b"X-Long-%d: " % n + b"a" * (quarter // 4) + b"\r\n"
                            for n in range(4))
    depth = quarter // 70
    opening = b"".join(b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n'
                       % (i, i) for i in range(depth))
    return (HEAD + long_headers + b"Subject: " + b"LO " * (quarter // 3) + b"\r\n" + opening
            + b"Content-Type: text/plain\r\n\r\n" + b"http://" * (quarter // 7) + b"\r\n")


CASES: dict[str, Callable[[int], bytes]] = {
    "normal": normal, "urls": urls, "reply_blank_lines": reply_blank_lines,
    "short_lines": short_lines,
    "long_header_line": long_header_line, "nested_parts": nested_parts,
    "many_parts": many_parts, "html_nested": html_nested, "html_unclosed": html_unclosed,
    "html_references": html_references, "combined": combined,
}


def run_one(case: str, size: int, repeat: int) -> dict[str, object]:
    """In the child: time MailUnderstanding on the case's bytes."""
    from datetime import UTC, datetime

    from intake.ledger import SourceItem
    from intake.understand import MailUnderstanding

    understand = MailUnderstanding()
    now = datetime(2026, 12, 2, tzinfo=UTC)
    understand(SourceItem("bench", "INBOX", 1, "0", normal(size)), "0" * 64, now)
    raw = CASES[case](size)
    best = float("inf")
    outcome = ""
    for n in range(repeat):
        start = time.perf_counter()
        try:
            result = understand(SourceItem("bench", "INBOX", 1, str(n), raw), "0" * 64, now)
            outcome = "case" if result.inbound is not None else "ignored"
            if result.inbound is not None:  # files it would store, and staff's flag
                outcome += f", {len(result.blobs)} files"
                if "parse_problems" in result.inbound.extra:
                    outcome += ", flagged"
        except Exception as exc:  # the old code raised: the ledger quarantined the mail
            outcome = f"raised {type(exc).__name__}"
        best = min(best, time.perf_counter() - start)
    import intake

    return {"case": case, "bytes": len(raw), "seconds": best, "outcome": outcome,
            "code": str(Path(intake.__file__).resolve().parents[1])}


def measure(case: str, size: int, repeat: int, code: Path, timeout: float) -> dict[str, object]:
    command = [sys.executable, str(Path(__file__).resolve()), "--one", case, "--size", str(size),
               "--repeat", str(repeat)]
    try:
        # PYTHONPATH (and the working folder) put ``code`` before the installed project.
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                              check=True, cwd=code,
                              env={"PYTHONPATH": str(code), "PATH": "/usr/bin:/bin"})
    except subprocess.TimeoutExpired:
        return {"case": case, "bytes": len(CASES[case](size)), "seconds": None,
                "outcome": f"stopped after {timeout:.0f} s"}
    except subprocess.CalledProcessError as exc:
        return {"case": case, "bytes": 0, "seconds": None,
                "outcome": f"crashed: {exc.stderr.strip().splitlines()[-1][:80]}"}
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--code", type=Path, default=ROOT, help="project tree to measure")
    parser.add_argument("--size", type=int, default=1 << 20, help="bytes of each bad body")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per case")
    parser.add_argument("--cases", nargs="+", choices=sorted(CASES), default=list(CASES))
    parser.add_argument("--one", choices=sorted(CASES), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.size, args.repeat)))
        return
    print(f"code: {args.code}  size: {args.size} bytes  best of {args.repeat}")
    print("| case | mail bytes | seconds | outcome |")
    print("|---|---:|---:|---|")
    for case in args.cases:
        result = measure(case, args.size, args.repeat, args.code, args.timeout)
        seconds = result["seconds"]
        shown = f"{seconds:.3f}" if isinstance(seconds, float) else "—"
        print(f"| {case} | {result['bytes']:,} | {shown} | {result['outcome']} |", flush=True)
        if result.get("code") not in (None, str(args.code.resolve())):
            print(f"(measured {result['code']}, not {args.code})", flush=True)


if __name__ == "__main__":
    main()
