"""Run every benchmark in this folder, one after another (``./dev bench``).

Each ``bench_*.py`` prints its own table and appends its results, with the machine and the
date, to ``benchmarks/results/<name>.md``. Pass ``--only did,synth`` to run a subset and
``--quick`` to pass ``--quick`` to the benchmarks that support it.
Benchmarks are not part of the test suite.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--only", default="", help="comma-separated names, e.g. did,synth")
    ap.add_argument("--quick", action="store_true", help="smaller runs where supported")
    args = ap.parse_args()
    wanted = {n.strip() for n in args.only.split(",") if n.strip()}
    failed = []
    for path in sorted(HERE.glob("bench_*.py")):
        name = path.stem.removeprefix("bench_")
        if wanted and name not in wanted:
            continue
        cmd = [sys.executable, str(path)]
        if args.quick and "--quick" in path.read_text(encoding="utf-8"):
            cmd.append("--quick")
        print(f"\n=== {name}: {' '.join(cmd[1:])}", flush=True)
        t0 = time.perf_counter()
        rc = subprocess.call(cmd, cwd=HERE.parent)
        print(
            f"=== {name}: exit {rc} after {time.perf_counter() - t0:.1f} s", flush=True
        )
        if rc:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
