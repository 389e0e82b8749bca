"""Benchmark: each SDK against a hostile server — time and peak memory of its conformance driver.

Scenarios (served by the mock orchestrator, through each SDK's real driver and typed client):
- `sse-line`: one event whose data line is --line-mib MiB (the client's max_response_bytes is
  raised above it), so a parser that rescans its buffer shows up as quadratic time;
- `gzip-bomb`: a 1 GiB JSON body gzip-compressed to about 1 MiB, which must stop at the 32 MiB
  default limit instead of being inflated.
Time is the driver's `elapsed_ms` for the call (median over --runs); memory is the driver
process's peak resident set (VmHWM from /proc, read after each run in a fresh process). Builds the
drivers like `polysdk conformance` does (out/ generated with --drivers). Run it with
`nox -s bench` (after the generation bench) or `python tests/bench/hostile_bench.py`."""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from polysdk_conformance.drivers import Driver, DriverProcess
from polysdk_conformance.mock import MockServer

ROOT = Path(__file__).resolve().parents[2]
RUN_ID = "5b0c2c1e-7a53-4c8e-9a51-2f4d8f1e6a10"
STREAM_PATH = f"/v1/runs/{RUN_ID}/events:stream"


def scenarios(line_mib: int) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """name -> (the mock's scenario, the case line's fields)."""
    event_head = (
        f'data: {{"type":"message.delta","sequence":1,"run_id":"{RUN_ID}",'
        '"occurred_at":"2025-02-03T08:02:03Z","message_id":"c3d9a7e4-1b2f-4e6a-8c0d-5f7e9a1b3c2d","delta":"'
    )
    return {
        "sse-line": (
            {
                "steps": [
                    {
                        "request": {"method": "GET", "path": STREAM_PATH},
                        "response": {
                            "kind": "large",
                            "headers": {"Content-Type": "text/event-stream"},
                            "prefix": event_head,
                            "fill": "a",
                            "count": line_mib << 20,
                            "suffix": '"}\n\n',
                        },
                    }
                ]
            },
            {
                "operation": "streamRunEvents",
                "mode": "stream",
                "args": {"run_id": RUN_ID},
                "client": {"max_response_bytes": (line_mib + 1) << 20},
            },
        ),
        "gzip-bomb": (
            {
                "steps": [
                    {
                        "request": {"method": "GET", "path": "/v1/agents/agt_1"},
                        "response": {
                            "kind": "large",
                            "gzip": True,
                            "prefix": '{"id":"agt_1","name":"',
                            "fill": "a",
                            "count": 1 << 30,
                            "suffix": '"}',
                        },
                    }
                ]
            },
            {"operation": "getAgent", "mode": "call", "args": {"agent_id": "agt_1"}, "client": {}},
        ),
    }


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024.0
    return float("nan")


def run_once(
    argv: list[str], mock: MockServer, scenario: dict[str, Any], fields: dict[str, Any]
) -> tuple[float, float, str]:
    with tempfile.TemporaryDirectory() as logs:
        process = DriverProcess("bench", argv, Path(logs) / "stderr.log")
        process.start()
        try:
            token = mock.register(scenario)
            line = {"type": "case", "id": "bench", "base_url": mock.url(token), "request": {}, **fields}
            line["client"] = {"bearer_token": "tok", "max_retries": 0, **fields["client"]}
            process.send(line)
            while True:
                message = process.messages.get(timeout=600)
                if message.kind == "result":
                    break
            assert process.pid is not None
            memory = peak_rss_mib(process.pid)
            result = message.data
            outcome = result.get("outcome", "?")
            if outcome == "error":
                outcome += f" {result['error']['kind']}: {result['error'].get('message', '')[:80]}"
            return float(result.get("elapsed_ms", float("nan"))), memory, outcome
        finally:
            process.close_input(wait_s=30)
            process.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--lang", default="go,rust,typescript")
    parser.add_argument("--line-mib", type=int, default=50)
    parser.add_argument("--only", default="sse-line,gzip-bomb")
    parser.add_argument("--sdk-root", type=Path, default=ROOT / "out", help="where the SDKs are")
    args = parser.parse_args()
    cache = ROOT / ".cache" / "conformance"
    report: dict[str, Any] = {}
    with MockServer(validate=False) as mock:
        for language in args.lang.split(","):
            log = cache / f"bench-build-{language}.log"
            log.parent.mkdir(parents=True, exist_ok=True)
            argv = Driver(language, args.sdk_root / language, cache).build(log)
            for name, (scenario, fields) in scenarios(args.line_mib).items():
                if name not in args.only.split(","):
                    continue
                runs = [run_once(argv, mock, scenario, fields) for _ in range(args.runs)]
                times = [elapsed for elapsed, _, _ in runs]
                memory = [rss for _, rss, _ in runs]
                entry = {
                    "median_ms": statistics.median(times),
                    "range_ms": [min(times), max(times)],
                    "peak_rss_mib_median": statistics.median(memory),
                    "outcomes": sorted({outcome for _, _, outcome in runs}),
                }
                report[f"{language}/{name}"] = entry
                spread = f"range {min(times):.0f}..{max(times):.0f}"
                print(
                    f"{language:10} {name:9}  median {entry['median_ms']:9.0f} ms ({spread})  "
                    f"peak RSS {entry['peak_rss_mib_median']:7.1f} MiB  {'; '.join(entry['outcomes'])}",
                    flush=True,
                )
    out = ROOT / ".bench" / "hostile.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(
        json.dumps(
            {"line_mib": args.line_mib, "runs": args.runs, "at": time.time(), "results": report}, indent=2
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
