"""Benchmark: `polysdk generate` side by side with other generators, on the orchestrator contract
and on Stripe's.

What runs, each as a fresh process (imports, parsing and formatting are all counted, as a user
sees them), in a fresh output folder:
- polysdk: all three languages in one run, and each language alone (`--lang`);
- openapi-generator (the CLI jar from Maven Central, run with java): go, rust, typescript-fetch,
  one JVM per generator, with its default settings (docs and test stubs included, as a user gets);
  its "go + rust + typescript-fetch" row is the sum of the three medians;
- oapi-codegen (Go module proxy): Go types and client (`-generate types,client`);
- openapi-typescript (npm): TypeScript types.
The peers are installed by this script into .cache/bench-peers/ at pinned versions (once); a peer
that cannot be installed or fails on a contract is reported as such, with its error.

Figures per configuration, medians over --runs rounds after --warmup discarded rounds (each round
runs every configuration once, interleaved, so that a change of machine load hits all of them):
wall time; CPU time (user + system of the whole process tree: wait4()'s usage, which includes
every descendant the child reaped, such as polysdk's validator and formatters, or the JVM's
threads); peak RSS (wait4()'s maximum resident set: that of the largest single process in the
tree, not their sum). Ratios are peer CPU ÷ polysdk CPU for the same languages, and peer CPU ÷
polysdk's CPU for all three languages at once (issue 14's goal: less CPU for all three than any
single-language peer).

Results go to build/bench/generate.json and build/bench/generate.md and the table is printed.
Exit 1 when a polysdk run fails (or, with --check, when a goal is missed). Run it with
`nox -s bench`."""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
PEERS = ROOT / ".cache" / "bench-peers"
REPORT_DIR = ROOT / "build" / "bench"

OPENAPI_GENERATOR_VERSION = "7.25.0"
OAPI_CODEGEN_VERSION = "v2.8.2"
OPENAPI_TYPESCRIPT_VERSION = "7.13.0"

# Issue 14's goals: wall seconds for all three languages (and Stripe's peak memory, from the
# generator-core issue).
GOALS = {"orchestrator": {"wall_s": 0.4}, "stripe": {"wall_s": 2.0, "peak_rss_mib": 1024.0}}

ALL = "go+rust+typescript"
# As a user runs them: an installed polysdk has its bytecode cached (pip compiles it), so a shell
# that disables the cache (PYTHONDONTWRITEBYTECODE) would add compiling every module to each run.
CHILD_ENV = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
Argv = Callable[[Path, Path], list[str]]  # (contract, output folder) -> command line


@dataclass
class Config:
    """One thing to measure: a generator producing some languages with one command."""

    tool: str
    languages: str  # the polysdk languages it is compared with, e.g. "go" or ALL
    target: str  # what the peer calls it, e.g. "typescript-fetch"
    argv: Argv
    # polysdk's user cache (compiled templates, formatted files, validation findings):
    # "cold", an empty one for every run (as a first run, and as the peers, which keep nothing),
    # or "warm", one kept across runs (as a second run on an unchanged contract); "" for peers.
    cache: str = ""


@dataclass
class Sample:
    wall_s: float
    cpu_s: float
    peak_rss_mib: float


@dataclass
class Outcome:
    samples: list[Sample] = field(default_factory=list)
    error: str | None = None


@dataclass
class Tool:
    name: str
    version: str
    configs: list[Config]
    install_error: str | None = None


def run_once(argv: list[str], cwd: Path, timeout_s: float, env: dict[str, str] | None = None) -> Sample:
    """Runs argv once and measures it; raises RuntimeError with the tail of stderr on failure."""
    # stderr to a file, not a pipe: warnings over a pipe's 64 KiB would stall the child.
    with tempfile.TemporaryFile() as errors:
        start = time.perf_counter()
        child = subprocess.Popen(
            argv,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=errors,
            stderr=errors,
            start_new_session=True,
            env={**CHILD_ENV, **(env or {})},
        )
        timed_out = threading.Event()

        def kill() -> None:
            timed_out.set()
            os.killpg(child.pid, signal.SIGKILL)

        watchdog = threading.Timer(timeout_s, kill)
        watchdog.start()
        try:
            # wait4, not Popen.wait: its usage covers the child and every descendant it reaped.
            _, status, usage = os.wait4(child.pid, 0)
        finally:
            watchdog.cancel()
        child.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        elapsed = time.perf_counter() - start
        if timed_out.is_set():
            raise RuntimeError(f"timed out after {timeout_s:.0f} s")
        if child.returncode != 0:
            errors.seek(0)
            tail = errors.read().decode(errors="replace").strip().splitlines()[-12:]
            raise RuntimeError(f"exit {child.returncode}: " + "\n".join(tail))
    return Sample(elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024.0)  # KiB on Linux


def measure(config: Config, spec: Path, timeout_s: float) -> Sample:
    with tempfile.TemporaryDirectory() as scratch:
        env = {}
        if config.cache == "cold":
            env["POLYSDK_CACHE_DIR"] = str(Path(scratch) / "cache")
        elif config.cache == "warm":
            kept = REPORT_DIR / "polysdk-cache" / spec.stem
            env["POLYSDK_CACHE_DIR"] = str(kept)
            if not kept.exists():  # filled by one unmeasured run, whatever --warmup says
                first = Path(scratch) / "first"
                first.mkdir()
                run_once(config.argv(spec, first), Path(scratch), timeout_s, env)
        out = Path(scratch) / "out"
        out.mkdir()
        sample = run_once(config.argv(spec, out), Path(scratch), timeout_s, env)
        if not any(out.iterdir()):
            raise RuntimeError("exit 0 but nothing written")
        return sample


def polysdk() -> Tool:
    def generate(languages: str) -> Argv:
        return lambda spec, out: [
            sys.executable, "-m", "polysdk", "generate", str(spec), "--out", str(out), "--lang", languages
        ]  # fmt: skip

    configs = [Config("polysdk", ALL, "all three", generate("go,rust,typescript"), cache="cold")]
    configs += [Config("polysdk", ALL, "all three, warm", generate("go,rust,typescript"), cache="warm")]
    configs += [
        Config("polysdk", lang, lang, generate(lang), cache="cold") for lang in ("go", "rust", "typescript")
    ]
    # The commit measured: polysdk has no version of its own beyond its package metadata's 0.x.
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    return Tool("polysdk", head.stdout.strip() or "(no git)", configs)


def _install(argv: list[str], env: dict[str, str] | None = None) -> str | None:
    """Runs an install command; its error text, or None."""
    if shutil.which(argv[0]) is None:
        return f"{argv[0]} not found on PATH"
    done = subprocess.run(argv, capture_output=True, text=True, env={**os.environ, **(env or {})})
    if done.returncode != 0:
        return f"`{' '.join(argv)}` failed (exit {done.returncode}): " + (done.stderr or done.stdout)[-600:]
    return None


def openapi_generator() -> Tool:
    folder = PEERS / "openapi-generator"
    jar = folder / f"openapi-generator-cli-{OPENAPI_GENERATOR_VERSION}.jar"
    error = None
    if not jar.exists():
        artifact = f"org.openapitools:openapi-generator-cli:{OPENAPI_GENERATOR_VERSION}"
        error = _install(
            ["mvn", "-q", "-B", "dependency:copy", f"-Dartifact={artifact}", f"-DoutputDirectory={folder}"]
        )
    if error is None and shutil.which("java") is None:
        error = "java not found on PATH"

    def generate(generator: str) -> Argv:
        # Stripe's 4.2 MB contract is over SnakeYAML's default 3 MB limit of code points.
        return lambda spec, out: [
            "java", "-DmaxYamlCodePoints=99999999", "-jar", str(jar), "generate",
            "-i", str(spec), "-g", generator, "-o", str(out),
        ]  # fmt: skip

    configs = [
        Config("openapi-generator", "go", "go", generate("go")),
        Config("openapi-generator", "rust", "rust", generate("rust")),
        Config("openapi-generator", "typescript", "typescript-fetch", generate("typescript-fetch")),
    ]
    return Tool("openapi-generator", OPENAPI_GENERATOR_VERSION, configs, error)


def oapi_codegen() -> Tool:
    gobin = PEERS / "go-bin"
    binary = gobin / "oapi-codegen"
    error = None
    if not binary.exists():
        module = f"github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen@{OAPI_CODEGEN_VERSION}"
        error = _install(["go", "install", module], {"GOBIN": str(gobin)})

    def generate(spec: Path, out: Path) -> list[str]:
        return [
            str(binary),
            "-generate",
            "types,client",
            "-package",
            "sdk",
            "-o",
            str(out / "sdk.gen.go"),
            str(spec),
        ]

    return Tool(
        "oapi-codegen", OAPI_CODEGEN_VERSION, [Config("oapi-codegen", "go", "types,client", generate)], error
    )


def openapi_typescript() -> Tool:
    folder = PEERS / "openapi-typescript"
    binary = folder / "node_modules" / ".bin" / "openapi-typescript"
    error = None
    if not binary.exists():
        package = f"openapi-typescript@{OPENAPI_TYPESCRIPT_VERSION}"
        error = _install(["npm", "install", "--no-audit", "--no-fund", "--prefix", str(folder), package])

    def generate(spec: Path, out: Path) -> list[str]:
        return [str(binary), str(spec), "-o", str(out / "schema.d.ts")]

    configs = [Config("openapi-typescript", "typescript", "types", generate)]
    return Tool("openapi-typescript", OPENAPI_TYPESCRIPT_VERSION, configs, error)


def median_of(outcome: Outcome) -> dict[str, float] | None:
    if outcome.error is not None or not outcome.samples:
        return None
    return {
        "wall_s": statistics.median(s.wall_s for s in outcome.samples),
        "cpu_s": statistics.median(s.cpu_s for s in outcome.samples),
        "peak_rss_mib": statistics.median(s.peak_rss_mib for s in outcome.samples),
    }


def bench_contract(
    tools: list[Tool], spec: Path, runs: int, warmup: int, timeout_s: float
) -> dict[tuple[str, str], Outcome]:
    """Measures every configuration of every installed tool on spec, interleaved round by round."""
    configs = [c for tool in tools if tool.install_error is None for c in tool.configs]
    outcomes = {(c.tool, c.target): Outcome() for c in configs}
    for round_ in range(warmup + runs):
        for config in configs:
            outcome = outcomes[(config.tool, config.target)]
            if outcome.error is not None:
                continue  # failed once: reported, not retried
            try:
                sample = measure(config, spec, timeout_s)
            except RuntimeError as failure:
                outcome.error = str(failure)
                print(f"  {config.tool} {config.target}: FAILED ({str(failure).splitlines()[0]})", flush=True)
                continue
            if round_ >= warmup:
                outcome.samples.append(sample)
            label = "warm-up" if round_ < warmup else f"run {round_ - warmup + 1}/{runs}"
            print(
                f"  {label:9} {config.tool:18} {config.target:16} wall {sample.wall_s:7.2f} s  "
                f"cpu {sample.cpu_s:7.2f} s  rss {sample.peak_rss_mib:7.1f} MiB",
                flush=True,
            )
    return outcomes


def rows_for(tools: list[Tool], outcomes: dict[tuple[str, str], Outcome]) -> list[dict[str, Any]]:
    """One row per configuration (plus openapi-generator's sum of its three), with the ratios."""
    polysdk_cpu = {  # the cold runs: the peers keep nothing between runs either
        c.languages: m["cpu_s"]
        for c in tools[0].configs
        if c.cache == "cold" and (m := median_of(outcomes[(c.tool, c.target)])) is not None
    }
    rows: list[dict[str, Any]] = []
    for tool in tools:
        for config in tool.configs:
            row: dict[str, Any] = {
                "tool": tool.name,
                "version": tool.version,
                "languages": config.languages,
                "target": config.target,
                "cache": config.cache,
            }
            outcome = outcomes.get((config.tool, config.target))
            if tool.install_error is not None:
                row["error"] = f"not installed: {tool.install_error}"
            elif outcome is not None and outcome.error is not None:
                row["error"] = f"failed: {outcome.error}"
            elif outcome is not None and (medians := median_of(outcome)) is not None:
                row |= medians
                row["runs"] = [vars(s) for s in outcome.samples]
            rows.append(row)
        if tool.name == "openapi-generator" and all("cpu_s" in r for r in rows[-len(tool.configs) :]):
            three = rows[-len(tool.configs) :]
            rows.append(
                {
                    "tool": tool.name,
                    "version": tool.version,
                    "languages": ALL,
                    "target": "go + rust + typescript-fetch (sum)",
                    "wall_s": sum(r["wall_s"] for r in three),
                    "cpu_s": sum(r["cpu_s"] for r in three),
                    "peak_rss_mib": max(r["peak_rss_mib"] for r in three),
                }
            )
    for row in rows:
        if row["tool"] != "polysdk" and "cpu_s" in row:
            if row["languages"] in polysdk_cpu:
                row["cpu_ratio_same_languages"] = row["cpu_s"] / polysdk_cpu[row["languages"]]
            if ALL in polysdk_cpu:
                row["cpu_ratio_vs_polysdk_all_three"] = row["cpu_s"] / polysdk_cpu[ALL]
    return rows


def goals_for(name: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Issue 14's goals, judged on polysdk's all-three run with a cold cache and with a warm one."""
    goals: list[dict[str, Any]] = []
    for all_three in rows:
        if all_three["tool"] == "polysdk" and all_three["languages"] == ALL and "wall_s" in all_three:
            found = _goals(name, rows, all_three)
            goals += [{**g, "goal": f"{g['goal']} ({all_three['cache']} cache)"} for g in found]
    return goals


def _goals(name: str, rows: list[dict[str, Any]], all_three: dict[str, Any]) -> list[dict[str, Any]]:
    goals: list[dict[str, Any]] = []
    goal = GOALS.get(name, {})
    if "wall_s" in goal:
        wall = all_three["wall_s"]
        goals.append(
            {
                "goal": f"all three languages in at most {goal['wall_s']} s wall",
                "measured": f"{wall:.2f} s",
                "met": wall <= goal["wall_s"],
            }
        )
    if "peak_rss_mib" in goal:
        rss = all_three["peak_rss_mib"]
        goals.append(
            {
                "goal": f"peak RSS below {goal['peak_rss_mib']:.0f} MiB",
                "measured": f"{rss:.0f} MiB",
                "met": rss < goal["peak_rss_mib"],
            }
        )
    if name == "stripe":
        singles = [r for r in rows if r["tool"] != "polysdk" and r["languages"] != ALL and "cpu_s" in r]
        if singles:
            cheapest = min(singles, key=lambda r: r["cpu_s"])
            goals.append(
                {
                    "goal": "less CPU for all three languages than any single-language peer",
                    "measured": f"{all_three['cpu_s']:.2f} s vs {cheapest['tool']} "
                    f"{cheapest['target']} {cheapest['cpu_s']:.2f} s",
                    "met": all_three["cpu_s"] < cheapest["cpu_s"],
                }
            )
    return goals


def table(rows: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| generator | languages | wall s | CPU s | peak RSS MiB "
        "| peer CPU ÷ polysdk CPU, same languages | ÷ polysdk all three |",
        "|---|---|--:|--:|--:|--:|--:|",
    ]
    for row in rows:
        name = f"{row['tool']} {row['version']}"
        what = row["target"] if row["tool"] != "polysdk" else row["languages"].replace("+", " + ")
        if row.get("cache"):
            what += f", {row['cache']} cache"
        if "error" in row:
            first = row["error"].splitlines()[0][:160].replace("|", "\\|")
            lines.append(f"| {name} | {what} | {first} | | | | |")
            continue
        same = row.get("cpu_ratio_same_languages")
        vs_all = row.get("cpu_ratio_vs_polysdk_all_three")
        ratios = [f"{r:.2f}×" if r is not None else "—" for r in (same, vs_all)]
        lines.append(
            f"| {name} | {what} | {row['wall_s']:.2f} | {row['cpu_s']:.2f} | {row['peak_rss_mib']:.0f} | "
            f"{ratios[0]} | {ratios[1]} |"
        )
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3, help="measured rounds (default 3)")
    parser.add_argument("--warmup", type=int, default=1, help="discarded rounds first (default 1)")
    parser.add_argument("--stripe", type=Path, default=ROOT / "tests/fixtures/real/stripe-spec3.yaml")
    parser.add_argument("--no-peers", action="store_true", help="polysdk only")
    parser.add_argument(
        "--peer",
        action="append",
        choices=["openapi-generator", "oapi-codegen", "openapi-typescript"],
        default=[],
        help="only this peer (repeatable; default: all three): openapi-generator's rust takes about "
        "10 min on Stripe",
    )
    parser.add_argument(
        "--contract",
        action="append",
        choices=["orchestrator", "stripe"],
        default=[],
        help="only this contract (repeatable; default: both)",
    )
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per run before it is killed")
    parser.add_argument("--check", action="store_true", help="exit 1 when a goal is missed")
    args = parser.parse_args()

    tools = [polysdk()]
    if not args.no_peers:
        PEERS.mkdir(parents=True, exist_ok=True)
        peers = {
            "openapi-generator": openapi_generator,
            "oapi-codegen": oapi_codegen,
            "openapi-typescript": openapi_typescript,
        }
        tools += [make() for name, make in peers.items() if not args.peer or name in args.peer]
    for tool in tools:
        if tool.install_error is not None:
            print(f"{tool.name} {tool.version}: not installed: {tool.install_error}", flush=True)

    load_before = os.getloadavg()
    specs = {"orchestrator": ROOT / "spec/orchestrator.yaml", "stripe": args.stripe}
    specs = {name: spec for name, spec in specs.items() if not args.contract or name in args.contract}
    report: dict[str, Any] = {
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "load_average_before": load_before,
        },
        "runs": args.runs,
        "warmup": args.warmup,
        "contracts": {},
    }
    markdown = ["# Generation side by side", ""]
    failed = missed = False
    for name, spec in specs.items():
        if not spec.exists():
            print(f"{name}: {spec} not found, skipped")
            continue
        print(f"{name} ({spec}):", flush=True)
        outcomes = bench_contract(tools, spec, args.runs, args.warmup, args.timeout)
        rows = rows_for(tools, outcomes)
        goals = goals_for(name, rows)
        failed |= any(r["tool"] == "polysdk" and "error" in r for r in rows)
        missed |= any(not g["met"] for g in goals)
        report["contracts"][name] = {"spec": str(spec), "rows": rows, "goals": goals}
        section = [f"## {name} (`{spec.relative_to(ROOT) if spec.is_relative_to(ROOT) else spec}`)", ""]
        section += [*table(rows), ""]
        section += [f"- goal: {g['goal']}: {g['measured']}, {'met' if g['met'] else 'MISSED'}" for g in goals]
        markdown += [*section, ""]
        print("\n".join(section), flush=True)
    load_after = os.getloadavg()
    report["machine"]["load_average_after"] = load_after
    markdown += [
        f"Medians of {args.runs} runs after {args.warmup} warm-up round(s), rounds interleaved; "
        "CPU is user + system of the whole process tree (wait4); peak RSS is the largest single process. "
        f"Machine: {os.cpu_count()} CPUs, load average {load_before[0]:.1f} before and "
        f"{load_after[0]:.1f} after (1 min): a loaded machine inflates wall times more than CPU.",
        "",
    ]
    REPORT_DIR.mkdir(parents=True, exist_ok=True)
    (REPORT_DIR / "generate.json").write_text(json.dumps(report, indent=2) + "\n")
    (REPORT_DIR / "generate.md").write_text("\n".join(markdown))
    print(f"load average {load_before[0]:.1f} before, {load_after[0]:.1f} after; wrote {REPORT_DIR}")
    return 1 if failed or (args.check and missed) else 0


if __name__ == "__main__":
    sys.exit(main())
