"""The `polysdk` command line. Bad input exits with 2 and one located message, never a traceback."""

from __future__ import annotations

import argparse
import gc
import os
import shlex
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from polysdk import default_spec
from polysdk.errors import ContractError, StrictWarningsError, ToolchainError, UsageError

if TYPE_CHECKING:
    from polysdk.generate import Request

EXIT_DIFFERS = 1
EXIT_BAD_INPUT = 2
EXIT_TOOLCHAIN = 3
EXIT_INTERNAL = 70  # EX_SOFTWARE


EXTRA = "pip install 'polysdk[conformance]'"
# The commands of the conformance extra, each parsed by its own module (which needs the extra).
EXTRA_COMMANDS = {
    "mock": "run the conformance mock orchestrator on 127.0.0.1",
    "conformance": "run the conformance cases against the generated SDKs",
    "slo": "judge the SLOs of perf/slos.yaml through a running Prometheus",
    "load": "every SDK under load against the mock: budgets, SLOs, reports",
}


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "spec",
        nargs="?",
        type=Path,
        help="OpenAPI 3.0/3.1 or Swagger 2.0 contract (.yaml/.yml/.json) or protobuf contract (.proto, or a "
        "FileDescriptorSet .pb/.binpb) (default: the embedded orchestrator contract)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("out"),
        help="output directory; each language goes in a subdirectory (default: out)",
    )
    parser.add_argument(
        "--lang", default="go,rust,typescript", help="comma-separated languages (default: go,rust,typescript)"
    )
    parser.add_argument("--name", default="", help="SDK base name (default: from info.title)")
    parser.add_argument(
        "--sdk-version", default="0.1.0", help="version of the generated SDKs (default: 0.1.0)"
    )
    parser.add_argument(
        "--go-module",
        default="",
        help="Go module path (default: the contract's info.x-go-module, else <repository>/go for a "
        "--repository on github.com, else a local name used with a replace directive)",
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="exit 2 on any warning, writing nothing (for CI); without it, a contract that fails "
        "OpenAPI validation but can be read generates, with every fault listed as a located warning",
    )
    parser.add_argument(
        "--lenient",
        action="store_true",
        help="accepted for compatibility and does nothing: validation faults are warnings by default",
    )
    parser.add_argument(
        "--allow-remote-refs", action="store_true", help="fetch http(s) $refs (refused by default)"
    )
    parser.add_argument(
        "--allow-external-refs",
        type=Path,
        action="append",
        default=[],
        metavar="DIR",
        help="let $refs read files under DIR (repeatable); by default only files in the contract's "
        "folder and below are read",
    )
    parser.add_argument(
        "-I",
        "--proto-path",
        type=Path,
        action="append",
        default=[],
        metavar="DIR",
        help="a folder searched for a .proto contract's imports (repeatable); the well-known types "
        "and google/api annotations are found without it",
    )
    parser.add_argument(
        "--drivers",
        action="store_true",
        help="also emit each SDK's conformance driver (for `polysdk conformance`; not part of an SDK)",
    )
    package = parser.add_argument_group("package metadata (all optional)")
    package.add_argument(
        "--license",
        default="",
        metavar="SPDX",
        help="the SDKs' licence as an SPDX id, e.g. MIT (default: the contract's info.license); "
        "written as each SDK's LICENSE and in Cargo.toml and package.json",
    )
    package.add_argument(
        "--copyright",
        default="",
        metavar="HOLDER",
        help="the copyright holder in an MIT, BSD or ISC LICENSE, e.g. '2026 Acme Inc.'",
    )
    package.add_argument("--repository", default="", metavar="URL", help="the SDKs' source repository")
    package.add_argument("--homepage", default="", metavar="URL", help="the SDKs' home page")
    package.add_argument(
        "--documentation",
        default="",
        metavar="URL",
        help="the Rust crate's documentation (default: https://docs.rs/<crate>)",
    )


def version() -> str:
    """polysdk's version: the checkout's pyproject.toml when run from one (the code that runs is
    the checkout's, whatever is installed), else the installed distribution's."""
    import tomllib  # here, not at the top: only --version needs them (importlib.metadata costs
    from importlib import metadata  # a tenth of a small contract's generation)

    pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
    if pyproject.is_file():
        project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
        if project.get("name") == "polysdk":
            return str(project.get("version", "unknown"))
    try:
        return metadata.version("polysdk")
    except metadata.PackageNotFoundError:
        return "unknown"


class _PrintVersion(argparse.Action):
    """--version, which looks the version up only when asked for."""

    def __init__(self, option_strings: list[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, argparse.SUPPRESS, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        print(f"{parser.prog} {version()}")  # on stdout, as argparse's own version action
        parser.exit()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="polysdk", description="Generate Go, Rust and TypeScript SDKs from one API contract."
    )
    parser.add_argument("--version", action=_PrintVersion, help="print polysdk's version and exit")
    commands = parser.add_subparsers(dest="command", required=True)
    gen = commands.add_parser("generate", help="generate SDKs into --out")
    _add_common(gen)
    gen.add_argument(
        "--force",
        action="store_true",
        help="replace --out/<lang> even when it holds files polysdk did not write (they are deleted)",
    )
    chk = commands.add_parser("check", help="exit 1 when --out differs from a fresh generation")
    _add_common(chk)
    # Parsed by the commands themselves (see _conformance_command); listed here for `polysdk --help`.
    for name, summary in EXTRA_COMMANDS.items():
        commands.add_parser(name, help=f"{summary} (needs the conformance extra)")
    return parser


def _request(args: argparse.Namespace) -> Request:
    from polysdk.generate import Request, languages_from
    from polysdk.plan import Options

    return Request(
        spec=args.spec or default_spec(),
        out_dir=args.out,
        languages=languages_from(args.lang),
        options=Options(
            package_name=args.name,
            sdk_version=args.sdk_version,
            go_module=args.go_module,
            drivers=args.drivers,
            license=args.license,
            copyright=args.copyright,
            repository=args.repository,
            homepage=args.homepage,
            documentation=args.documentation,
        ),
        strict=args.strict,
        allow_remote_refs=args.allow_remote_refs,
        allowed_ref_dirs=tuple(args.allow_external_refs),
        import_paths=tuple(args.proto_path),
        force=args.command == "generate" and args.force,
    )


def _print_warnings(warnings: list[str], *, count: bool = True) -> None:
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if warnings and count:
        many = "s" if len(warnings) != 1 else ""
        print(f"{len(warnings)} warning{many} (--strict makes them errors)", file=sys.stderr)


def _conformance_command(command: str, argv: list[str]) -> int:
    """`polysdk mock`, `polysdk conformance`, `polysdk slo` and `polysdk load`, which parse their
    own options."""
    try:
        if command == "mock":
            from polysdk_conformance.mock import main as command_main
        elif command == "slo":
            from polysdk_conformance.perf.slo_cli import main as command_main
        elif command == "load":
            from polysdk_conformance.load.cli import main as command_main
        else:
            from polysdk_conformance.runner import main as command_main
    except ImportError as exc:
        if {"-h", "--help"} & set(argv):
            # Its options are defined by the module that could not be imported; say what the command
            # does and how to get it, on stdout and with success, as any --help.
            summary = EXTRA_COMMANDS[command]
            print(f"usage: polysdk {command} [options]\n\n{summary[:1].upper()}{summary[1:]}.\n")
            print(f"This command needs the conformance extra ({exc.name} is missing); install it with")
            print(f"  {EXTRA}\nthen `polysdk {command} --help` lists its options.")
            return 0
        print(
            f"error: `polysdk {command}` needs the conformance extra ({exc.name} is missing)", file=sys.stderr
        )
        print(f"  {EXTRA}", file=sys.stderr)
        return EXIT_BAD_INPUT
    return command_main(argv)


def _generate_command(argv: list[str]) -> str:
    """The `polysdk generate` run that brings --out up to date: the check's own arguments."""
    return shlex.join(["polysdk", "generate", *argv[1:]])  # argv[0] is "check": no option precedes it


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] in (
        ["mock"],
        ["conformance"],
        ["slo"],
        ["load"],
    ):  # their options belong to their own parsers
        return _conformance_command(argv[0], argv[1:])
    args = _parser().parse_args(argv)
    with _collector_paused():
        return _generate_or_check(args, argv)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Generation is a short batch job that builds millions of objects and leaves few reference
    cycles: the cyclic garbage collector's passes over them were 40% of the CPU of a generation
    of Stripe's contract (the YAML parse alone: 1.5 s of 2.5 s). It is paused until the command
    is done, and the validator child inherits the pause. Measured on Stripe: the validator's peak
    memory is the same, the whole run's about 5% higher (290 MB)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _generate_or_check(args: argparse.Namespace, argv: list[str]) -> int:
    try:
        # Opening an OpenAPI contract parses it and forks its validation; doing that before the
        # heavier imports below lets validation overlap with them.
        from polysdk.frontends import ReadOptions, open_contract

        reading = open_contract(
            args.spec or default_spec(),
            ReadOptions(
                allow_remote_refs=args.allow_remote_refs,
                import_paths=tuple(args.proto_path),
                allowed_ref_dirs=tuple(args.allow_external_refs),
            ),
        )
        from polysdk.generate import check, generate

        request = _request(args)

        if args.command == "generate":
            _print_warnings(generate(request, reading))
            print(f"generated {', '.join(request.languages)} into {request.out_dir}")
            return 0
        problems = check(request, reading)
        if problems:
            print(f"{request.out_dir} differs from a fresh generation of {request.spec}:", file=sys.stderr)
            for problem in problems:
                print(f"  {problem}", file=sys.stderr)
            print(f"  to update it, run: {_generate_command(argv)}", file=sys.stderr)
            return EXIT_DIFFERS
        print(f"{request.out_dir} is up to date")
        return 0
    except ContractError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except StrictWarningsError as exc:
        _print_warnings(exc.warnings, count=False)
        print(f"error: {exc}; nothing was written", file=sys.stderr)
        hint = "fix what the warnings name, or run without --strict to generate anyway"
        print(f"  hint: {hint}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except ToolchainError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_TOOLCHAIN
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        if os.environ.get("POLYSDK_DEBUG"):
            raise
        print(
            f"internal error: {type(exc).__name__}: {exc}\n"
            "  this is a polysdk bug; rerun with POLYSDK_DEBUG=1 for the traceback and report it",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
