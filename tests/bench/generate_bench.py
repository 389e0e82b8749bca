"""Benchmark: wall time and peak memory of `polysdk generate` for all three languages.

Each run is a fresh process (so imports, parsing and formatting are all counted, as a user sees
them); peak memory is wait4()'s maximum resident set size: that of the largest single process
among the child and its children (the validator it forks, the formatters), not their sum, which
can be up to about twice as much while the validator runs. Reports the median and
range over --runs runs and compares with the targets of the generator-core issue. Results also go
to .bench/generate.json. Run it with `nox -s bench`."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TARGETS = {"orchestrator": (1.0, None), "stripe": (10.0, 1024.0)}  # seconds, MiB


def measure(spec: Path) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as out:
        argv = [sys.executable, "-m", "polysdk", "generate", str(spec), "--out", out]
        start = time.perf_counter()
        # stderr to a file, not a pipe: warnings over a pipe's 64 KiB would stall the child.
        with tempfile.TemporaryFile() as errors:
            child = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=errors)
            _, status, usage = os.wait4(child.pid, 0)
            elapsed = time.perf_counter() - start
            if os.waitstatus_to_exitcode(status) != 0:
                errors.seek(0)
                raise SystemExit(f"generation failed for {spec}:\n{errors.read().decode()}")
        return elapsed, usage.ru_maxrss / 1024.0  # ru_maxrss is KiB on Linux


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--stripe", type=Path, default=ROOT / "tests/fixtures/real/stripe-spec3.yaml")
    args = parser.parse_args()
    specs = {"orchestrator": ROOT / "spec/orchestrator.yaml", "stripe": args.stripe}
    report = {}
    within = True
    for name, spec in specs.items():
        if not spec.exists():
            print(f"{name}: {spec} not found, skipped")
            continue
        measure(spec)  # warm the OS file cache and Go/Rust formatter binaries
        runs = [measure(spec) for _ in range(args.runs)]
        times, memory = [r[0] for r in runs], [r[1] for r in runs]
        target_s, target_mib = TARGETS[name]
        ok = statistics.median(times) < target_s and (target_mib is None or max(memory) < target_mib)
        within &= ok
        report[name] = {
            "runs": args.runs,
            "wall_s": {"median": statistics.median(times), "min": min(times), "max": max(times)},
            "peak_rss_mib": {"median": statistics.median(memory), "max": max(memory)},
            "target": {"wall_s": target_s, "peak_rss_mib": target_mib},
            "within_target": ok,
        }
        limit = f"< {target_s} s" + (f", < {target_mib:.0f} MiB" if target_mib else "")
        print(
            f"{name:13} wall median {statistics.median(times):6.2f} s "
            f"(min {min(times):.2f}, max {max(times):.2f}), "
            f"peak RSS median {statistics.median(memory):7.1f} MiB (max {max(memory):.1f}); "
            f"target {limit}: {'ok' if ok else 'MISSED'}"
        )
    (ROOT / ".bench").mkdir(exist_ok=True)
    (ROOT / ".bench" / "generate.json").write_text(json.dumps(report, indent=2) + "\n")
    return 0 if within else 1


if __name__ == "__main__":
    sys.exit(main())
