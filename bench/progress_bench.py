"""The cost of the verification code (issue 15): what intake pays per case (a new code and
its hash) and what a progress look-up pays (the hash checks, for a case and for an
unknown reference alike). Pure CPU, no database.

    python bench/progress_bench.py [--n 100000]
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, datetime

from casework.models import Case, Party
from casework.progress import check_code, check_phone_tail, code_hash, new_code


def per_call(fn: object, n: int) -> float:
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(n):
            fn()  # type: ignore[operator]
        runs.append((time.perf_counter() - start) / n)
    return statistics.median(runs) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    n = parser.parse_args().n
    ref = "LO-2026-000123"
    code = new_code()
    case = Case(reference=ref, channel="hotline", verify_hash=code_hash(ref, code),
                complainant=Party(phone="13800138000", created_at=datetime.now(UTC)))
    issue = per_call(lambda: code_hash(ref, new_code()), n)
    known = per_call(lambda: (check_code(case, ref, "ZZZZZ-ZZZZZ"),
                              check_phone_tail(case, "ZZZZZ-ZZZZZ")), n)
    unknown = per_call(lambda: (check_code(None, ref, "ZZZZZ-ZZZZZ"),
                                check_phone_tail(None, "ZZZZZ-ZZZZZ")), n)
    print(f"issue (code + hash): {issue:.2f} µs per case")
    print(f"look-up checks, known case:     {known:.2f} µs")
    print(f"look-up checks, unknown reference: {unknown:.2f} µs")


if __name__ == "__main__":
    main()
