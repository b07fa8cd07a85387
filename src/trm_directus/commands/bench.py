"""`bench`: measure the issue targets (boot times, drift gate, seed) on real stacks."""

from __future__ import annotations

import argparse

from ..bench import runner as bench


def register(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("bench", help="run benchmarks and print them against their targets (reports/bench.json)")
    p.add_argument(
        "names",
        nargs="*",
        choices=[*bench.BENCHMARKS, []],
        metavar="NAME",
        help=f"benchmarks to run (default: all but install-cold and backup): {', '.join(bench.BENCHMARKS)}",
    )
    p.add_argument("--repeat", type=int, default=3, help="repetitions where a median is taken (default 3)")
    return p


def run(args: argparse.Namespace) -> int:
    names = args.names or [n for n in bench.BENCHMARKS if n not in ("install-cold", "backup")]
    bench.run(names, repeat=args.repeat)
    return 0
