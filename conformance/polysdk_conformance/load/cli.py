"""`polysdk load`: every SDK under load against the mock, through its own typed methods.

    polysdk load [--lang go,rust,typescript] [--profile short|full] [--out build/load]
                 [--budgets perf/budgets.yaml] [--slos perf/slos.yaml] [--no-prometheus]
                 [--sdks out] [--fault-429 0.05] [--fault-503 0.005]

Writes results.json, results.md and index.html into --out and prints the tables. Exit codes: 0
every budget and SLO holds; 1 a budget or an SLO is breached (the table of what broke is printed);
2 a bad budgets or SLO file or option, Prometheus missing or unreachable, no SLO data, or an SDK
that cannot be built or run under load (never a pass without data)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from polysdk.targets import TARGETS
from polysdk_conformance.drivers import DriverUnavailableError
from polysdk_conformance.load import budgets, plan, report, session
from polysdk_conformance.perf import report as slo_report
from polysdk_conformance.perf import slos
from polysdk_conformance.perf.evaluate import EvaluationError
from polysdk_conformance.perf.promapi import PrometheusError
from polysdk_conformance.perf.prometheus import find_binary

EXIT_BREACH = 1
EXIT_BAD_INPUT = 2
DEFAULT_BUDGETS = Path("perf") / "budgets.yaml"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="polysdk load", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--lang", default=",".join(TARGETS), help=f"comma-separated SDKs (default: {','.join(TARGETS)})"
    )
    parser.add_argument(
        "--profile",
        choices=sorted(plan.PROFILES),
        default="short",
        help="; ".join(f"{name}: {profile.doc}" for name, profile in plan.PROFILES.items()),
    )
    parser.add_argument("--out", type=Path, default=Path("build") / "load", help="reports folder")
    parser.add_argument("--budgets", type=Path, default=DEFAULT_BUDGETS, metavar="FILE")
    parser.add_argument("--slos", type=Path, default=slos.DEFAULT_PATH, metavar="FILE")
    parser.add_argument(
        "--no-prometheus", action="store_true", help="skip Prometheus and the SLOs (budgets only)"
    )
    parser.add_argument(
        "--sdks",
        type=Path,
        default=Path("out"),
        metavar="DIR",
        help="where <lang>/ holds each SDK (default: out)",
    )
    parser.add_argument(
        "--fault-429", type=float, metavar="FRACTION", help="share of 429 answers in the open runs"
    )
    parser.add_argument(
        "--fault-503", type=float, metavar="FRACTION", help="share of 503 answers in the open runs"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    args = _parser().parse_args(arguments)
    command = " ".join(["polysdk", "load", *arguments])
    langs = tuple(lang.strip() for lang in args.lang.split(",") if lang.strip())
    unknown = [lang for lang in langs if lang not in TARGETS]
    if not langs or unknown:
        return _bad(f"--lang {args.lang!r}: expected some of {', '.join(TARGETS)}")
    profile = plan.PROFILES[args.profile]
    try:
        faults = plan.Faults(
            profile.faults.rate_limited if args.fault_429 is None else args.fault_429,
            profile.faults.unavailable if args.fault_503 is None else args.fault_503,
        )
        rules = budgets.load_rules(args.budgets)
        slo_file = None
        if not args.no_prometheus:
            slo_file = slos.load(args.slos)
            find_binary()  # before any build: a missing Prometheus is a setup error
    except (ValueError, slos.SloFileError, PrometheusError) as exc:
        return _bad(str(exc))
    settings = session.Settings(langs, profile, faults, args.sdks, args.out / "work", slo_file)
    try:
        outcome = session.run(
            settings, progress=lambda text: print(f"load: {text}", file=sys.stderr, flush=True)
        )
    except (session.LoadError, DriverUnavailableError, PrometheusError, EvaluationError) as exc:
        return _bad(str(exc))
    pairs = [item.median_pair() for runs in outcome.sdks for item in runs.throughput]
    breaches = budgets.check(rules, [runs.open_run for runs in outcome.sdks], pairs)
    try:
        written = report.write(args.out, outcome, breaches, args.budgets, command)
    except OSError as exc:
        return _bad(f"cannot write the reports into {args.out}: {exc}")
    print(report.summary(outcome))
    if outcome.slo_report is not None:
        print()
        print(slo_report.table(outcome.slo_report))
    print()
    if breaches:
        print(f"{len(breaches)} budget(s) of {args.budgets} breached:")
        print(budgets.table(breaches))
    else:
        print(f"every budget of {args.budgets} holds")
    print(f"reports: {', '.join(str(path) for path in written)}")
    return EXIT_BREACH if report.verdict(outcome, breaches) == report.FAIL else 0


def _bad(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return EXIT_BAD_INPUT
