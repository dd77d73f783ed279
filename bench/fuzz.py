"""The fuzzer at length, nightly-style: many new random examples of tests/test_fuzz.py.

CI runs a fixed, derandomized set of examples; this runs `--examples` new ones per fuzz test
(different at every run), on SQLite and, with `--database-url`, on PostgreSQL too, and prints
how many ran, how long they took and what failed. A failure prints Hypothesis's shortest
sequence of updates: pin it as a `test_found_*` test in tests/test_fuzz.py, then fix it.

    python -m bench.fuzz [--examples 300] [--database-url postgresql://…]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FUZZ_TESTS = 3  # test_any_updates, test_any_discussion, test_any_answers_and_buttons


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=300, help="per fuzz test and database")
    parser.add_argument("--database-url", default="", help="PostgreSQL too (it is reset)")
    options = parser.parse_args()
    env = {
        **os.environ,
        "AGORA_FUZZ_EXAMPLES": str(options.examples),
        "AGORA_FUZZ_RANDOM": "1",
        "TEST_DATABASE_URL": options.database_url,
    }
    selection = "test_any_"
    databases = 1
    if options.database_url:
        env["AGORA_FUZZ_POSTGRESQL"] = "1"
        databases = 2
    else:
        selection += " and sqlite"
    started = time.perf_counter()
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
               "tests/test_fuzz.py", "-k", selection]
    result = subprocess.run(command, cwd=ROOT, env=env, check=False)
    elapsed = time.perf_counter() - started
    ran = options.examples * FUZZ_TESTS * databases
    verdict = "no failure" if result.returncode == 0 else "FAILURES (see above)"
    print(f"fuzz: up to {ran} examples in {elapsed:.0f} s: {verdict}")
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
