"""`make bench`: run every benchmark part in turn and print its table."""

from __future__ import annotations

import argparse
import importlib
import sys

PARTS = {
    "backend": "bench.backend",
    "scanner": "bench.scanner",
    "journey": "bench.journey",
    "soak": "bench.soak",
}


def main() -> int:
    parser = argparse.ArgumentParser(prog="bench")
    parser.add_argument("parts", nargs="*", default=list(PARTS), choices=list(PARTS))
    args = parser.parse_args()
    failed = 0
    for part in args.parts:
        try:
            module = importlib.import_module(PARTS[part])
        except ModuleNotFoundError as exc:
            print(f"== {part}: not available ({exc})")
            continue
        print(f"== {part}", flush=True)
        failed += int(module.main() != 0)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
