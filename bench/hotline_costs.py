"""What each part of a call's import costs, one part taken away at a time.

The same call log is imported whole and without one part, in fresh processes, in turn, so
that the machine's drift falls on every variant alike. Not a test and not a mode of the
service: the parts are taken away by replacing a function in the measuring process only.

    python bench/hotline_costs.py --rows 3000 --repeat 4

On a shared machine the CPU time of one variant drifts by more than most parts cost. The
instructions a run executes do not: count them with Valgrind (``--one`` runs one variant),

    valgrind --tool=cachegrind --cache-sim=no \
        python bench/hotline_costs.py --one no-render calls-500.csv

and compare variants at the same number of rows (a row's own count: the whole import at
1,000 rows less at 500, divided by 500).

Variants:

* ``whole``: the pipeline as it runs (``hotline_bench.py --handler pipeline``, rules in force);
* ``no-render``: every notice's text is a fixed short one: what rendering the templates and
  encoding the mails at import time costs (what building them at send time would save);
* ``no-timeline``: timeline events are not made: what the ORM objects of the timeline cost.

Besides the CPU seconds, each run reports the time the cyclic garbage collector took
(``gc.callbacks``). The table gives the least CPU time of the repeats (the run the machine
disturbed least) and the median.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import hotline_bench

VARIANTS = ("whole", "no-render", "no-timeline")


def _collector_clock() -> list[float]:
    spent = [0.0, 0.0]  # total seconds, start of the current collection

    def watch(phase: str, _info: dict[str, Any]) -> None:
        if phase == "start":
            spent[1] = time.perf_counter()
        else:
            spent[0] += time.perf_counter() - spent[1]

    gc.callbacks.append(watch)
    return spent


def _take_away(variant: str) -> None:
    if variant == "no-render":
        from notifications import renderer

        fixed = renderer.RenderedMail(subject="s", text="t\n", html=None)
        renderer.TemplateRenderer.render = lambda self, name, lang, context: fixed  # type: ignore[method-assign]
    elif variant == "no-timeline":
        from casework import transitions

        def record(case: Any, kind: str, *, actor: str, at: Any, details: Any = None) -> Any:
            return None

        # Callers imported ``record`` by name: its code is replaced, not the module's name.
        transitions.record.__code__ = record.__code__


def run_variant(variant: str, source: Path) -> dict[str, Any]:
    _take_away(variant)
    collector = _collector_clock()
    with tempfile.TemporaryDirectory(prefix="hotline-costs-") as tmp:
        work = Path(tmp)
        (work / "drop").mkdir()
        target = work / "drop" / source.name
        target.write_bytes(source.read_bytes())
        result = hotline_bench.run_one(target, f"sqlite:///{work / 'bench.sqlite3'}", work,
                                       "pipeline")
    result["gc_seconds"] = collector[0]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=3000, help="rows in the call log")
    parser.add_argument("--repeat", type=int, default=4, help="runs of each variant, in turn")
    parser.add_argument("--variants", nargs="+", choices=VARIANTS, default=list(VARIANTS))
    parser.add_argument("--files", type=Path, default=None, help="keep the call log here")
    parser.add_argument("--one", nargs=2, metavar=("VARIANT", "FILE"),
                        help="import FILE once with VARIANT in this process (for valgrind)")
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_variant(args.one[0], Path(args.one[1]))))
        return
    with tempfile.TemporaryDirectory(prefix="hotline-costs-files-") as tmp:
        files = args.files or Path(tmp)
        files.mkdir(parents=True, exist_ok=True)
        source = files / f"calls-{args.rows}.csv"
        if not source.exists():
            hotline_bench.write_csv(source, args.rows)
        runs: dict[str, list[dict[str, Any]]] = {v: [] for v in args.variants}
        for _ in range(args.repeat):
            for variant in args.variants:
                runs[variant].append(_run_alone(variant, source))
    _table(runs, args.rows)


def _run_alone(variant: str, source: Path) -> dict[str, Any]:
    out = subprocess.run([sys.executable, __file__, "--one", variant, str(source)],
                         capture_output=True, text=True)
    if out.returncode != 0:  # the child's own traceback says why, not just its status
        sys.exit(f"{variant} on {source} failed (status {out.returncode}):\n{out.stderr}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _table(runs: dict[str, list[dict[str, Any]]], rows: int) -> None:
    whole = min(r["cpu_seconds"] for r in runs["whole"]) if "whole" in runs else None
    print("| variant | rows | least CPU s | median CPU s | rows per CPU s (least) "
          "| vs whole | GC s (least run) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for variant, results in runs.items():
        best = min(results, key=lambda r: r["cpu_seconds"])
        cpu = best["cpu_seconds"]
        share = f"{cpu / whole - 1:+.0%}" if whole else "-"
        median = statistics.median(r["cpu_seconds"] for r in results)
        print(f"| {variant} | {rows:,} | {cpu:.2f} | {median:.2f} | {rows / cpu:,.0f} "
              f"| {share} | {best['gc_seconds']:.2f} |")


if __name__ == "__main__":
    main()
