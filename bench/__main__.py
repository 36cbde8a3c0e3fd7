"""`make bench`: run every benchmark, or those named (`python -m bench ingest scoring`).

Each benchmark module has `main(argv) -> int`, takes medians of several runs, prints a table
with the physical limit or a peer measured in the same run beside it, and writes JSON to
bench/results/<name>.json. Numbers are only comparable on the same machine under the same load.
"""

from __future__ import annotations

import importlib
import sys

BENCHMARKS = ["simulator", "ingest", "scoring", "alerts", "api"]


def main(argv: list[str]) -> int:
    names = argv or BENCHMARKS
    unknown = sorted(set(names) - set(BENCHMARKS))
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
        return 2
    failed = 0
    for name in names:
        print(f"\n== {name} ==", flush=True)
        module = importlib.import_module(f"bench.bench_{name}")
        failed += module.main([]) != 0
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
