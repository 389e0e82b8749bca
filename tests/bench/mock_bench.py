"""Benchmark: the mock orchestrator against Prism as load targets, side by side, validation on.

Both serve spec/orchestrator.yaml on 127.0.0.1 and validate every request against it: the mock
(`python -m polysdk_conformance.mock`, a load scenario) and Prism (`prism mock`, which answers
400/401/422 to a request that breaks the contract). wrk drives both with the same scripted mix --
a page of agents, an agent, a run, each with a bearer token -- and both answer the same bodies
(the mock's are the ones Prism returns). Rounds alternate which server goes first, after a
warm-up of each; the result is the median requests/s and p99 of each and their ratio, printed and
written as JSON. A run in which either server answers anything but 2xx, or wrk sees socket
errors, is reported invalid (exit 1): a fast error is not throughput.

Run it with `nox -s bench_mock` (which installs Prism into .cache/prism) or
`python tests/bench/mock_bench.py --prism <path to prism>`; wrk comes from Debian (`apt-get
install wrk`). Everything started here is stopped before it returns.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "spec" / "orchestrator.yaml"
DEFAULT_PRISM = ROOT / ".cache" / "prism" / "node_modules" / ".bin" / "prism"
RUN_ID = "5b0c2c1e-7a53-4c8e-9a51-2f4d8f1e6a10"
# The scripted mix: (method, path, route template), equally weighted in wrk's round robin.
MIX = (
    ("GET", "/v1/agents?limit=5", "/v1/agents"),
    ("GET", "/v1/agents/agt_01HZX3K6V5M4QW8N2R7T9YB0CD", "/v1/agents/{agent_id}"),
    ("GET", f"/v1/runs/{RUN_ID}", "/v1/runs/{run_id}"),
)
TOKEN = "Bearer bench-token"
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0

# wrk script: cycles through the mix under the path prefix given after `--`; done() prints one JSON
# line with the totals and the p99 (in microseconds) that wrk measured. wrk counts a status of 400
# or more as a status error (no response() hook: it would cost both servers a Lua call per reply).
WRK_SCRIPT = """
local paths = {%(paths)s}
local counter = 0
local prefix = ""
function init(args) prefix = args[1] or "" end
request = function()
  counter = counter + 1
  return wrk.format("GET", prefix .. paths[(counter %% #paths) + 1], {["Authorization"] = "%(token)s"})
end
done = function(summary, latency, requests)
  io.write(string.format(
    '{"requests": %%d, "duration_us": %%d, "p50_us": %%d, "p99_us": %%d, '
    .. '"socket_errors": %%d, "status_errors": %%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
end
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--prism", type=Path, default=Path(os.environ.get("POLYSDK_PRISM", DEFAULT_PRISM)))
    parser.add_argument("--wrk", default=shutil.which("wrk") or "wrk")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10, help="seconds of each wrk run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "bench" / "mock_bench.json")
    args = parser.parse_args(argv)
    for tool in (str(args.prism), args.wrk):
        if shutil.which(tool) is None:
            print(f"mock_bench: {tool} not found (nox -s bench_mock installs Prism; apt-get install wrk)")
            return 2

    with tempfile.TemporaryDirectory(prefix="polysdk-mock-bench-") as scratch:
        script = Path(scratch) / "mix.lua"
        paths = ", ".join(json.dumps(path) for _, path, _ in MIX)
        script.write_text(WRK_SCRIPT % {"paths": paths, "token": TOKEN}, encoding="utf-8")
        with _prism(args.prism, Path(scratch)) as prism_url, _mock() as mock_base:
            bodies = {template: _get(prism_url + path) for _, path, template in MIX}
            mock_url = _register(mock_base, bodies)
            targets = {"mock": mock_url, "prism": prism_url}
            for name, url in targets.items():  # warm-up: JIT, caches, connection setup
                _wrk(args, script, url, duration=2)
                print(f"warmed up {name}", flush=True)
            rounds: list[dict[str, Any]] = []
            for index in range(args.rounds):
                order = list(targets) if index % 2 == 0 else list(reversed(targets))
                result = {name: _wrk(args, script, targets[name], args.duration) for name in order}
                rounds.append(result)
                lines = "; ".join(_line(name, result[name]) for name in targets)
                print(f"round {index + 1}: {lines}", flush=True)
            report = _report(mock_base, mock_url)

    summary = {name: _median(rounds, name) for name in targets}
    ratio = summary["mock"]["requests_per_s"] / summary["prism"]["requests_per_s"]
    # Each round's own ratio too: on a shared machine both servers' rates swing with its load.
    per_round = [round(run["mock"]["requests_per_s"] / run["prism"]["requests_per_s"], 2) for run in rounds]
    clean = all(
        run[name]["socket_errors"] == run[name]["status_errors"] == 0 for run in rounds for name in run
    )
    valid = clean and report["violating_requests"] == 0 and report["unexpected"] == 0
    result = {
        "command": " ".join([Path(sys.argv[0]).name, *(argv if argv is not None else sys.argv[1:])]),
        "wrk": {"connections": args.connections, "threads": args.threads, "duration_s": args.duration},
        "mix": [f"{method} {path}" for method, path, _ in MIX],
        "validation": {"mock": "on: every request checked", "prism": "on: Prism always validates"},
        "rounds": rounds,
        "median": summary,
        "ratio_requests_per_s": round(ratio, 2),
        "ratio_per_round": per_round,
        "ratio_per_round_median": statistics.median(per_round),
        "mock_report": report,
        "valid": valid,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print()
    print("| server | requests/s (median) | p50 ms | p99 ms |")
    print("|---|---|---|---|")
    for name in targets:
        row = summary[name]
        print(f"| {name} | {row['requests_per_s']:,.0f} | {row['p50_ms']:.2f} | {row['p99_ms']:.2f} |")
    print(f"\nmock / Prism: {ratio:.2f}x requests/s (validation on in both); written to {args.out}")
    rounds_text = ", ".join(f"{value:.2f}x" for value in per_round)
    print(f"per round: {rounds_text}; median {statistics.median(per_round):.2f}x")
    if not valid:
        print("INVALID: a server answered non-2xx, wrk saw socket errors, or the mock saw violations")
        return 1
    return 0


def _line(name: str, run: dict[str, Any]) -> str:
    return f"{name} {run['requests_per_s']:,.0f} req/s p99 {run['p99_ms']:.2f} ms"


def _median(rounds: list[dict[str, Any]], name: str) -> dict[str, float]:
    return {
        key: round(statistics.median(run[name][key] for run in rounds), 2)
        for key in ("requests_per_s", "p50_ms", "p99_ms")
    }


def _wrk(args: argparse.Namespace, script: Path, url: str, duration: int) -> dict[str, Any]:
    base, _, prefix = url.partition("/t/")
    prefix = f"/t/{prefix.rstrip('/')}" if prefix else ""
    command = [
        args.wrk,
        f"-t{args.threads}",
        f"-c{args.connections}",
        f"-d{duration}s",
        "-s",
        str(script),
        base,
        "--",
        prefix,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=duration + 30, check=True)
    line = next(text for text in reversed(done.stdout.splitlines()) if text.startswith("{"))
    data = json.loads(line)
    seconds = data["duration_us"] / 1e6
    return {
        "requests": data["requests"],
        "requests_per_s": round(data["requests"] / seconds, 1),
        "p50_ms": data["p50_us"] / 1000,
        "p99_ms": data["p99_us"] / 1000,
        "socket_errors": data["socket_errors"],
        "status_errors": data["status_errors"],
    }


def _get(url: str) -> Any:
    request = urllib.request.Request(url, headers={"Authorization": TOKEN})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def _register(base: str, bodies: dict[str, Any]) -> str:
    scenario = {
        "kind": "load",
        "name": "bench",
        "journal_limit": 100,
        "routes": [
            {"method": "GET", "path": template, "responses": [{"response": {"kind": "json", "body": body}}]}
            for template, body in bodies.items()
        ],
    }
    request = urllib.request.Request(
        f"{base}/_mock/scenarios", data=json.dumps(scenario).encode(), method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        url: str = json.loads(response.read())["base_url"]
    return url


def _report(base: str, url: str) -> dict[str, Any]:
    token = url.rstrip("/").rsplit("/", 1)[1]
    with urllib.request.urlopen(f"{base}/_mock/scenarios/{token}/journal", timeout=30) as response:
        report = json.loads(response.read())
    return {
        "requests": len(report["journal"]) + report["journal_dropped"],
        "violating_requests": report["violating_requests"],
        "unexpected": len(report["unexpected"]),
    }


@contextmanager
def _mock() -> Iterator[str]:
    """The mock in its own process (as a load run starts it), validating; yields its base URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "polysdk_conformance.mock", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        base = process.stdout.readline().strip()
        if not base.startswith("http://127.0.0.1:"):
            raise RuntimeError(f"the mock did not start: {base!r}")
        yield base
    finally:
        _stop(process)


@contextmanager
def _prism(prism: Path, scratch: Path) -> Iterator[str]:
    """`prism mock` on a free loopback port, logging only warnings (its fastest setting)."""
    port = _free_port()
    log = (scratch / "prism.log").open("wb")
    process = subprocess.Popen(
        [str(prism), "mock", str(SPEC), "-h", "127.0.0.1", "-p", str(port), "-v", "warn"],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if process.poll() is not None:
                log_text = (scratch / "prism.log").read_text(errors="replace")
                raise RuntimeError(f"prism exited: {log_text[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"prism did not listen on {port} within {START_TIMEOUT_S} s") from None
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        _stop(process)
        log.close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _stop(process: subprocess.Popen[Any]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(STOP_TIMEOUT_S)


if __name__ == "__main__":
    raise SystemExit(main())
