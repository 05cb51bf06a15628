"""How fast the router decides: rule matching (jieba segmentation) per complaint.

    python bench/routing_bench.py [--n 2000]

Texts are built from the configured keywords and filler so every rule is exercised; the
first call (jieba loading its dictionary) is timed separately. Prints one result line.
"""

from __future__ import annotations

import argparse
import platform
import random
import time
from pathlib import Path

from routing.directory import load_routing
from routing.rules import Facts, match
from routing.segment import SegmentedText

RULES = Path(__file__).resolve().parents[1] / "config" / "routing.toml"
FILLER = ("我于上周到中心咨询，工作人员让我等待，之后一直没有消息。希望尽快处理并给我答复。"
          "I called the hotline last week and nobody has answered since. ")


def texts(n: int, keywords: list[str]) -> list[str]:
    rng = random.Random(5)
    return [FILLER * rng.randint(1, 4) + "".join(rng.sample(keywords, 3)) for _ in range(n)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000)
    args = parser.parse_args()
    config = load_routing(RULES)
    start = time.perf_counter()
    SegmentedText("预热")
    warm = time.perf_counter() - start
    keywords = [k for c in config.categories.values() for k in c.keywords]
    sample = texts(args.n, keywords)
    start = time.perf_counter()
    matched = sum(1 for t in sample if match(config, Facts("投诉", t, "email"))[0] is not None)
    elapsed = time.perf_counter() - start
    print(f"{platform.node()} python {platform.python_version()}: {args.n} complaints "
          f"({sum(map(len, sample)) // args.n} chars avg) routed in {elapsed:.2f} s = "
          f"{args.n / elapsed:.0f} per second, {1000 * elapsed / args.n:.2f} ms each; "
          f"{matched} matched; jieba dictionary load {warm:.2f} s")


if __name__ == "__main__":
    main()
