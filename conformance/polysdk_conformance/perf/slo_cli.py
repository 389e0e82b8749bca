"""`polysdk slo`: judge the SLOs of an SLO file through a running Prometheus.

    polysdk slo --prometheus http://127.0.0.1:9090 [--slos perf/slos.yaml]
                [--json slo.json] [--markdown slo.md]

Prints a table; exit codes: 0 every SLO holds, 1 an objective is missed or a burn-rate alert
fired, 2 a bad SLO file or option, Prometheus unreachable, or no samples for a group (never a
pass without data)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit

from polysdk_conformance.perf import report, slos
from polysdk_conformance.perf.evaluate import EvaluationError, evaluate
from polysdk_conformance.perf.promapi import PrometheusApi, PrometheusError

EXIT_BREACH = 1
EXIT_BAD_INPUT = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="polysdk slo", description=__doc__.splitlines()[0])
    parser.add_argument("--prometheus", required=True, metavar="URL", help="the Prometheus server's base URL")
    parser.add_argument(
        "--slos",
        type=Path,
        default=slos.DEFAULT_PATH,
        metavar="FILE",
        help=f"the SLO file (default: {slos.DEFAULT_PATH})",
    )
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the report as JSON")
    parser.add_argument("--markdown", type=Path, metavar="FILE", help="also write the report as Markdown")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    url = urlsplit(args.prometheus)
    if url.scheme not in ("http", "https") or not url.netloc:
        print(f"error: --prometheus {args.prometheus!r} is not an http(s) URL", file=sys.stderr)
        return EXIT_BAD_INPUT
    api = PrometheusApi(args.prometheus)
    try:
        result = evaluate(slos.load(args.slos), api)
    except (slos.SloFileError, PrometheusError, EvaluationError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    finally:
        api.close()
    print(report.table(result))
    try:
        if args.json:
            args.json.write_text(json.dumps(report.as_json(result), indent=2) + "\n", encoding="utf-8")
        if args.markdown:
            args.markdown.write_text(report.markdown(result), encoding="utf-8")
    except OSError as exc:
        print(f"error: cannot write the report: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    return 0 if result.holds else EXIT_BREACH
