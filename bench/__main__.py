"""`make bench`: run every benchmark part in turn and print its table."""

from __future__ import annotations

import argparse
import importlib
import sys

PARTS = {
    "backend": "bench.backend",
    "backend-pg": "bench.backend_pg",
    "scanner": "bench.scanner",
    "scanner-live": "bench.scanner_live",
    "scanner-queue": "bench.scanner_queue",
    "scanner-leaving": "bench.scanner_leaving",
    "scanner-folders": "bench.scanner_folders",
    "journey": "bench.journey",
    "soak": "bench.soak",
    "province": "bench.province",
    "console": "bench.console",
    "library": "bench.library",
    "provisioning": "bench.provisioning_issue",
    "radius": "bench.radius_login",
}


def main() -> int:
    parser = argparse.ArgumentParser(prog="bench")
    parser.add_argument("parts", nargs="*", metavar="PART", help=f"any of {', '.join(PARTS)}")
    args = parser.parse_args()
    unknown = [p for p in args.parts if p not in PARTS]
    if unknown:
        parser.error(f"unknown part {unknown[0]!r}; choose from {', '.join(PARTS)}")
    failed = 0
    for part in args.parts or list(PARTS):
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
