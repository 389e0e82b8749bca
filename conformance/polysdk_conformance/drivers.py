"""The driver of each SDK: how to build it, and one long-lived process speaking the JSON-lines protocol.

See conformance/PROTOCOL.md. A driver process is owned by one runner thread; a reader thread turns
its stdout into messages on a queue. A crashed driver is restarted (a bounded number of times) and
loses only the cases it had in flight; a case without an answer by its deadline is reported as
"could not run" by name, and the driver is restarted if it stops answering altogether.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from polysdk.targets import TARGETS, DriverBuild

PROTOCOL_VERSION = 1
HELLO_TIMEOUT_S = 30.0
BUILD_TIMEOUT_S = 1800
LANGUAGES = tuple(TARGETS)
# Credentials and base URLs from the runner's environment must not leak into cases.
_SDK_ENV = re.compile(r"_(BASE_URL|API_KEY|BEARER_TOKEN)$")


class DriverUnavailableError(Exception):
    """The driver could not be built or started; every case of the SDK could not run."""


@dataclass(frozen=True)
class Driver:
    """How to build and start one SDK's driver (the table in conformance/PROTOCOL.md)."""

    language: str
    sdk_dir: Path
    cache_dir: Path
    # A contract profile other than OpenAPI's: its build output must not share a path with the
    # OpenAPI SDK's (a shared CARGO_TARGET_DIR would hand both profiles one example binary).
    profile: str = ""
    # Built optimised (Rust --release), for `polysdk load`; conformance runs keep the debug build.
    optimised: bool = False

    def __post_init__(self) -> None:
        # Builds run inside the SDK directory; the paths they write and start must not depend on it.
        object.__setattr__(self, "sdk_dir", self.sdk_dir.resolve())
        object.__setattr__(self, "cache_dir", self.cache_dir.resolve())

    def build(self, log: Path) -> list[str]:
        """Builds the driver (output appended to `log`) and returns the command that starts it."""
        if not self.sdk_dir.is_dir():
            raise DriverUnavailableError(f"no SDK at {self.sdk_dir}; generate it first (nox -s generate)")
        plan = _separate(self._plan(), self.profile) if self.profile else self._plan()
        if not (self.sdk_dir / plan.source).exists():
            raise DriverUnavailableError(
                f"the SDK at {self.sdk_dir} has no conformance driver ({plan.source}); regenerate it "
                "with `polysdk generate --drivers` (nox -s generate passes it)"
            )
        steps, argv = plan.steps, plan.run
        # A warm run skips the build when nothing it reads changed since the last one: tsc has no
        # no-op fast path (it type-checks the whole SDK again, seconds on two cores) and go build
        # and cargo still spend a good part of a second each establishing that nothing changed.
        stamp = (
            self.cache_dir
            / "stamps"
            / f"{self.language}-{self.profile or 'openapi'}{'-load' if self.optimised else ''}.json"
        )
        inputs = _build_inputs(self.sdk_dir, plan)
        if _stamp_matches(stamp, inputs, argv):
            with log.open("a", encoding="utf-8") as out:
                out.write(f"up to date (inputs and output unchanged since {stamp}): not rebuilt\n")
            return argv
        stamp.unlink(missing_ok=True)
        with log.open("a", encoding="utf-8") as out:
            for step, env in steps:
                out.write(f"$ {' '.join(step)}\n")
                out.flush()
                try:
                    done = subprocess.run(
                        step,
                        cwd=self.sdk_dir,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                        env={**os.environ, **env},
                        timeout=BUILD_TIMEOUT_S,
                        check=False,
                    )
                except FileNotFoundError:
                    raise DriverUnavailableError(
                        f"{step[0]} is not installed (needed to build the driver)"
                    ) from None
                except subprocess.TimeoutExpired:
                    raise DriverUnavailableError(
                        f"building the driver took over {BUILD_TIMEOUT_S} s"
                    ) from None
                if done.returncode != 0:
                    raise DriverUnavailableError(
                        f"`{' '.join(step)}` failed (exit {done.returncode}); see {log}"
                    )
        _write_stamp(stamp, inputs, argv)
        return argv

    def _plan(self) -> DriverBuild:
        target = TARGETS.get(self.language)
        if target is None:
            raise DriverUnavailableError(f"no driver is known for {self.language!r}")
        build = target.load_driver if self.optimised else target.driver
        return build(self.sdk_dir, self.cache_dir)


# Build outputs and dependency folders inside an SDK: not inputs of its driver's build (the
# dependencies are pinned by Cargo.lock, go.sum and node_modules/.package-lock.json, which are).
_NOT_INPUTS = frozenset({"target", ".driver-build", "dist", ".git"})
_TOOL_SETTINGS = ("GO", "CGO_", "RUST", "CARGO")


def _build_inputs(sdk_dir: Path, plan: DriverBuild) -> dict[str, Any]:
    """What a driver build reads, as file sizes and modification times: the SDK's files, the
    commands with their environment, and the tools they run."""
    files: dict[str, list[int]] = {}
    for root, dirs, names in os.walk(sdk_dir):  # Path.walk is Python 3.12's
        folder = Path(root)
        if "node_modules" in dirs:
            names = [*names, "node_modules/.package-lock.json"]
        dirs[:] = sorted(d for d in dirs if d not in _NOT_INPUTS and d != "node_modules")
        for name in names:
            path = folder / name
            with contextlib.suppress(OSError):
                info = path.stat()
                files[path.relative_to(sdk_dir).as_posix()] = [info.st_size, info.st_mtime_ns]
    tools = {}
    for step, _env in plan.steps:
        found = shutil.which(step[0])
        if found is not None:
            tool = Path(found).resolve()
            info = tool.stat()
            tools[step[0]] = [str(tool), info.st_size, info.st_mtime_ns]
    # The toolchains' own settings (GOFLAGS, CGO_ENABLED, RUSTFLAGS, CARGO_*) change what they build.
    settings = {name: os.environ[name] for name in sorted(os.environ) if name.startswith(_TOOL_SETTINGS)}
    return {
        "steps": [[step, env] for step, env in plan.steps],
        "tools": tools,
        "settings": settings,
        "files": files,
    }


def _outputs(argv: list[str]) -> dict[str, list[int]] | None:
    """Size and modification time of each file the start command names; None if one is missing."""
    outputs = {}
    for part in argv:
        if Path(part).is_absolute():
            try:
                info = Path(part).stat()
            except OSError:
                return None
            outputs[part] = [info.st_size, info.st_mtime_ns]
    return outputs


def _stamp_matches(stamp: Path, inputs: dict[str, Any], argv: list[str]) -> bool:
    try:
        recorded = json.loads(stamp.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    outputs = _outputs(argv)
    return outputs is not None and recorded == {"inputs": inputs, "run": argv, "outputs": outputs}


def _write_stamp(stamp: Path, inputs: dict[str, Any], argv: list[str]) -> None:
    outputs = _outputs(argv)
    if outputs is None:  # the build did not write what the start command runs: check it again next time
        return
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text(json.dumps({"inputs": inputs, "run": argv, "outputs": outputs}), encoding="utf-8")


def _separate(plan: DriverBuild, profile: str) -> DriverBuild:
    """The plan with its CARGO_TARGET_DIR (which may come from the environment, shared by every
    SDK) moved to a subdirectory of the profile's own, and the start command pointed there."""
    steps = []
    run = list(plan.run)
    for argv, env in plan.steps:
        shared = env.get("CARGO_TARGET_DIR")
        if shared:
            own = str(Path(shared) / profile)
            env = {**env, "CARGO_TARGET_DIR": own}
            run = [own + part[len(shared) :] if part.startswith(shared) else part for part in run]
        steps.append((argv, env))
    return DriverBuild(steps, run, plan.source)


def driver_env() -> dict[str, str]:
    """The runner's environment without SDK configuration variables (e.g. ORCHESTRATOR_API_KEY)."""
    return {name: value for name, value in os.environ.items() if not _SDK_ENV.search(name)}


@dataclass(frozen=True)
class Message:
    """A line from the driver, or the driver's exit (kind "exit")."""

    kind: str  # hello | result | load_result | log | bad_line | exit
    data: Any
    generation: int


def _visible_surrogates(value: Any) -> Any:
    """Lone UTF-16 surrogates (a driver may surface one from a hostile response) as visible
    `\\udXXX` text: they cannot be written as UTF-8, and the reports must still be written."""
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, list):
        return [_visible_surrogates(item) for item in value]
    if isinstance(value, dict):
        return {_visible_surrogates(key): _visible_surrogates(item) for key, item in value.items()}
    return value


class DriverProcess:
    """One running driver; messages (results, its exit) arrive on `messages`."""

    def __init__(self, language: str, argv: list[str], stderr_log: Path) -> None:
        self.language = language
        self.argv = argv
        self.stderr_log = stderr_log
        self.messages: queue.Queue[Message] = queue.Queue()
        self.generation = 0
        self.restarts = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._stdin: IO[bytes] | None = None
        self._write_lock = threading.Lock()

    def start(self) -> dict[str, Any]:
        """Starts (or restarts) the driver and waits for its hello; DriverUnavailableError on failure."""
        self.stop()
        self.generation += 1
        stderr = self.stderr_log.open("ab")
        try:
            process = subprocess.Popen(
                self.argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=stderr,
                env=driver_env(),
            )
        except OSError as exc:
            raise DriverUnavailableError(f"cannot start the driver {self.argv[0]}: {exc.strerror}") from None
        finally:
            stderr.close()
        self._process, self._stdin = process, process.stdin
        threading.Thread(
            target=self._read, args=(process, self.generation), name=f"driver-{self.language}", daemon=True
        ).start()
        deadline = time.monotonic() + HELLO_TIMEOUT_S
        while True:
            try:
                message = self.messages.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                self.stop()
                raise DriverUnavailableError(
                    f"the driver sent no hello within {HELLO_TIMEOUT_S:.0f} s"
                ) from None
            if message.generation != self.generation:
                continue
            if message.kind == "hello":
                if message.data.get("protocol") != PROTOCOL_VERSION:
                    self.stop()
                    raise DriverUnavailableError(
                        f"the driver speaks protocol {message.data.get('protocol')!r}, "
                        f"the runner {PROTOCOL_VERSION}; regenerate the SDK"
                    )
                hello: dict[str, Any] = message.data
                return hello
            if message.kind == "exit":
                raise DriverUnavailableError(f"the driver exited with code {message.data} before its hello")
            # anything else before hello is a protocol error
            self.stop()
            raise DriverUnavailableError(f"the driver's first line was not a hello: {message.data!r:.200}")

    @property
    def pid(self) -> int | None:
        """The running driver's process id (benchmarks read its peak memory from /proc)."""
        return self._process.pid if self._process is not None else None

    def send(self, line: dict[str, Any]) -> bool:
        """Writes one case line; False when the driver is gone (its exit message follows)."""
        data = (json.dumps(line, ensure_ascii=False) + "\n").encode("utf-8")
        with self._write_lock:
            if self._stdin is None:
                return False
            try:
                self._stdin.write(data)
                self._stdin.flush()
            except (BrokenPipeError, OSError, ValueError):
                return False
        return True

    def close_input(self, wait_s: float) -> None:
        """EOF to the driver (it drains and exits); killed if it does not exit within wait_s."""
        with self._write_lock:
            if self._stdin is not None:
                with contextlib.suppress(OSError):
                    self._stdin.close()
                self._stdin = None
        if self._process is not None:
            try:
                self._process.wait(timeout=wait_s)
            except subprocess.TimeoutExpired:
                self.stop()

    def stop(self) -> None:
        process, self._process = self._process, None
        with self._write_lock:
            self._stdin = None
        if process is not None and process.poll() is None:
            process.kill()
            process.wait(timeout=10)

    def _read(self, process: subprocess.Popen[bytes], generation: int) -> None:
        assert process.stdout is not None

        def post(kind: str, data: Any) -> None:
            self.messages.put(Message(kind, data, generation))

        for raw in process.stdout:
            try:
                data = json.loads(raw)
                if b"\\ud" in raw.lower():  # a \uD800-\uDFFF escape: maybe a lone surrogate
                    data = _visible_surrogates(data)
            except (ValueError, RecursionError):  # a line nested too deep for Python is bad too
                post("bad_line", raw[:500].decode("utf-8", "replace"))
                continue
            kind = data.get("type") if isinstance(data, dict) else None
            if kind in ("hello", "result", "load_result", "log"):
                post(kind, data)
            else:
                post("bad_line", raw[:500].decode("utf-8", "replace"))
        post("exit", process.wait())
