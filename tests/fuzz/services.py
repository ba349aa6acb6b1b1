"""`make fuzz`'s first step: a fresh PostgreSQL database of the fuzzers' own, and a Redis that answers.

Usage: python -m tests.fuzz.services --pg-url URL --redis-url URL (exits 1 saying what does not answer).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from urllib.parse import urlsplit

from tests.legs import prepare_services


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pg-url", required=True)
    parser.add_argument("--redis-url", required=True)
    args = parser.parse_args()
    database = urlsplit(args.pg_url).path.lstrip("/")
    if problem := asyncio.run(prepare_services(args.pg_url, args.redis_url, database)):
        print(f"fuzz: {problem}. Start it (see .ci/run) and run again.", file=sys.stderr)
        return 1
    print(f"fuzz: fresh database {args.pg_url}, Redis {args.redis_url}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
