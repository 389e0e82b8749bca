"""The interop harness: the connect-go reference server (tests/interop/connect_server) and the
generated SDKs' conformance drivers, for tests/test_interop_connect.py.

The server's Go code for the messages and service stubs is generated at test time (never
committed) by protoc-gen-go and protoc-gen-connect-go, at the versions its go.mod pins, installed
into .cache/go-bin and run by the grpcio-tools protoc with the include path polysdk itself uses.
Every wait here is on an event (a printed line, a process exit); the timeouts only bound a hang.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from polysdk.frontends.proto.descriptors import include_paths
from polysdk_conformance.drivers import Driver, DriverProcess
from polysdk_conformance.scenario import envelope, parse_envelopes

ROOT = Path(__file__).resolve().parents[2]
SERVER_DIR = ROOT / "tests" / "interop" / "connect_server"
SPEC_DIR = ROOT / "spec"
PROTO = "orchestrator.proto"
GO_BIN = ROOT / ".cache" / "go-bin"
CACHE = ROOT / ".cache" / "interop"
# The Go module of the server; the generated packages live under its gen/ (gitignored).
GO_MODULE = "github.com/polysdk/interop/connect_server"
GO_PACKAGE = f"{GO_MODULE}/gen/orchestratorv1;orchestratorv1"
# plugin → (the module whose version go.mod pins, the package to `go install`)
PLUGINS = {
    "protoc-gen-go": ("google.golang.org/protobuf", "google.golang.org/protobuf/cmd/protoc-gen-go"),
    "protoc-gen-connect-go": ("connectrpc.com/connect", "connectrpc.com/connect/cmd/protoc-gen-connect-go"),
}
# Bounds on hangs, never used to wait for something to happen.
START_TIMEOUT_S = 60.0
CASE_TIMEOUT_S = 120.0
COMMAND_TIMEOUT_S = 1800


class SetupError(Exception):
    """A build step failed (the server could not be generated, built or started)."""


def run_step(argv: list[str], *, cwd: Path, log: Path, env: dict[str, str] | None = None) -> str:
    """Runs a build step, appending its output to log; returns its stdout. SetupError (naming the
    log, with the output's tail) when it cannot run or fails."""
    try:
        done = subprocess.run(
            argv,
            cwd=cwd,
            env={**os.environ, **(env or {})},
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT_S,
            check=False,
        )
    except FileNotFoundError:
        raise SetupError(f"{argv[0]} is not installed") from None
    with log.open("a", encoding="utf-8") as out:
        out.write(f"$ {' '.join(argv)}\n{done.stdout}{done.stderr}")
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-30:])
        raise SetupError(f"`{' '.join(argv)}` failed (exit {done.returncode}); see {log}\n{tail}")
    return done.stdout


def pinned_version(go_mod: Path, module: str) -> str:
    """The version of `module` that a go.mod requires."""
    text = go_mod.read_text(encoding="utf-8")
    found = re.search(rf"^\s*(?:require\s+)?{re.escape(module)}\s+(v\S+)", text, re.MULTILINE)
    if found is None:
        raise SetupError(f"{go_mod} does not require {module}")
    return found.group(1)


def _installed_version(go: str, binary: Path, module: str) -> str | None:
    if not binary.exists():
        return None
    done = subprocess.run([go, "version", "-m", str(binary)], capture_output=True, text=True, check=False)
    found = re.search(rf"^\s*mod\s+{re.escape(module)}\s+(\S+)", done.stdout, re.MULTILINE)
    return found.group(1) if found else None


def go_install(go: str, module: str, package: str, version: str, log: Path) -> Path:
    """`go install package@version` (of `module`) into .cache/go-bin, unless that version is
    there already; the binary's path."""
    binary = GO_BIN / package.rsplit("/", 1)[-1]
    if _installed_version(go, binary, module) != version:
        run_step([go, "install", f"{package}@{version}"], cwd=ROOT, env={"GOBIN": str(GO_BIN)}, log=log)
    return binary


def protoc(folders: tuple[Path, ...], *args: str) -> list[str]:
    """The grpcio-tools protoc with `folders`, the well-known types and the googleapis
    annotations on its include path (polysdk's own)."""
    return [
        sys.executable,
        "-m",
        "grpc_tools.protoc",
        *(f"-I{folder}" for folder in include_paths(folders)),
        *args,
    ]


def install_plugins(go: str, log: Path) -> dict[str, Path]:
    """protoc-gen-go and protoc-gen-connect-go at go.mod's versions, in .cache/go-bin (cached)."""
    return {
        name: go_install(go, module, package, pinned_version(SERVER_DIR / "go.mod", module), log)
        for name, (module, package) in PLUGINS.items()
    }


def generate_server_code(plugins: dict[str, Path], log: Path) -> None:
    """Runs the grpcio-tools protoc with both plugins into connect_server/gen/."""
    mapping = f"M{PROTO}={GO_PACKAGE}"
    argv = protoc(
        (SPEC_DIR,),
        *(f"--plugin={name}={path}" for name, path in plugins.items()),
        f"--go_out={SERVER_DIR}",
        f"--go_opt=module={GO_MODULE}",
        f"--go_opt={mapping}",
        f"--connect-go_out={SERVER_DIR}",
        f"--connect-go_opt=module={GO_MODULE}",
        f"--connect-go_opt={mapping}",
        PROTO,
    )
    run_step(argv, cwd=ROOT, log=log)


def build_server(go: str, log_path: Path) -> Path:
    """Installs the plugins, generates the server's stubs and builds it; returns the binary."""
    CACHE.mkdir(parents=True, exist_ok=True)
    binary = CACHE / "connect_server"
    plugins = install_plugins(go, log_path)
    generate_server_code(plugins, log_path)
    run_step([go, "build", "-o", str(binary), "."], cwd=SERVER_DIR, log=log_path)
    return binary


@dataclass
class Server:
    """A running connect_server: its base URL; stdin held open keeps it alive."""

    process: subprocess.Popen[str]
    url: str
    stderr_log: Path

    def stop(self) -> None:
        """Closes its stdin (it exits by itself), killing it only if it does not."""
        if self.process.stdin is not None:
            with contextlib.suppress(OSError):
                self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def start_server(binary: Path, stderr_log: Path) -> Server:
    """Starts the server and waits for the base URL it prints as its first line."""
    with stderr_log.open("ab") as stderr:
        process = subprocess.Popen(
            [str(binary)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr, text=True
        )
    assert process.stdout is not None
    lines: queue.Queue[str] = queue.Queue()
    stdout = process.stdout
    threading.Thread(target=lambda: lines.put(stdout.readline()), daemon=True).start()
    try:
        first = lines.get(timeout=START_TIMEOUT_S).strip()
    except queue.Empty:
        first = ""
    if not first.startswith("http://127.0.0.1:"):
        process.kill()
        process.wait(timeout=10)
        raise SetupError(f"the server printed {first!r} instead of its address; see {stderr_log}")
    return Server(process, first, stderr_log)


# --- Drivers ----------------------------------------------------------------------------------


def sdk_root() -> Path:
    """The proto SDKs under test: $POLYSDK_INTEROP_SDK_ROOT (relative to the repository root when
    relative), by default out/proto."""
    configured = Path(os.environ.get("POLYSDK_INTEROP_SDK_ROOT", "out/proto"))
    return configured if configured.is_absolute() else ROOT / configured


@dataclass
class DriverRun:
    """One SDK's driver, started once; `run` sends a batch of cases and collects their results."""

    language: str
    process: DriverProcess
    hello: dict[str, Any]
    results: dict[str, dict[str, Any]] = field(default_factory=dict)

    def run(self, lines: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        """Sends every case line at once (the driver runs them concurrently) and waits for one
        result per case; a case the driver never answers gets a `driver_error` result naming why."""
        waiting = {line["id"] for line in lines}
        for line in lines:
            if not self.process.send(line):
                break
        deadline = time.monotonic() + CASE_TIMEOUT_S
        results: dict[str, dict[str, Any]] = {}
        while waiting:
            try:
                message = self.process.messages.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                reason = f"no result within {CASE_TIMEOUT_S:.0f} s"
                break
            if message.generation != self.process.generation:
                continue
            if message.kind == "exit":
                reason = f"the driver exited with code {message.data}"
                break
            if message.kind == "result" and message.data.get("id") in waiting:
                waiting.discard(message.data["id"])
                results[message.data["id"]] = message.data
        else:
            reason = ""
        for case_id in waiting:
            results[case_id] = {"type": "result", "id": case_id, "outcome": "driver_error", "message": reason}
        self.results.update(results)
        return results


@contextlib.contextmanager
def driver(language: str, logs: Path) -> Iterator[DriverRun]:
    """Builds and starts one SDK's driver (DriverUnavailableError when it cannot be)."""
    root = sdk_root()
    cache = CACHE / "drivers"
    cache.mkdir(parents=True, exist_ok=True)
    # Rust builds in $CARGO_TARGET_DIR, else in <cache dir>/cargo-target: .cache/cargo-target, the
    # target directory the tests and conformance sessions share (the dependencies compile once).
    build_cache = ROOT / ".cache" if language == "rust" else cache
    argv = Driver(language, root / language, build_cache).build(logs / f"build-{language}.log")
    if language == "rust":
        # The shared cargo target directory holds one `polysdk_driver` example for every SDK built
        # into it (out/rust's too): run a copy of this one, whatever is built there later.
        copy = cache / "polysdk_driver-rust"
        shutil.copy2(argv[0], copy)
        argv = [str(copy), *argv[1:]]
    process = DriverProcess(language, argv, logs / f"driver-{language}.stderr.log")
    hello = process.start()
    try:
        yield DriverRun(language, process, hello)
    finally:
        process.close_input(wait_s=10)
        process.stop()


def encode_envelope(message: dict[str, Any], flags: int = 0) -> bytes:
    """One Connect envelope: a flag byte, a 4-byte big-endian length, the JSON message."""
    return envelope(flags, message).encode()


def decode_envelopes(body: bytes) -> list[tuple[int, Any]]:
    """Every envelope of a Connect stream body as (flags, decoded JSON)."""
    found, rest = parse_envelopes(body)
    if rest:
        raise ValueError(f"the last envelope is cut short: {len(rest)} bytes left over")
    return [(flags, json.loads(data)) for flags, data in found]
