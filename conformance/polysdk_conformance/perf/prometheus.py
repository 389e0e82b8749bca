"""A real Prometheus server for one session: Debian's `prometheus` binary on 127.0.0.1, a free port,
a 1 s scrape interval, its data in a temporary folder, stopped and removed afterwards.

    with running(["http://127.0.0.1:8080/metrics"]) as server:
        server.wait_for_scrapes("http://127.0.0.1:8080/metrics")  # a zero baseline before load
        ...  # drive the load
        server.wait_for_scrapes("http://127.0.0.1:8080/metrics")  # a sample taken after it
        report = evaluate(load_slos(path), server.api)

Callers wait on events (readiness, scrapes that happened), never on fixed sleeps."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from polysdk_conformance.perf.promapi import PrometheusApi, PrometheusError

DEBIAN_BINARY = Path("/usr/bin/prometheus")
SCRAPE_INTERVAL = "1s"
POLL_S = 0.1  # between two looks at readiness or at the scrape count
READY_TRIES = 300  # 30 s of polling: Prometheus 2.42 is ready in well under that on an empty folder
STOP_TIMEOUT_S = 10.0
PORT_ATTEMPTS = 3  # a free port can be taken between choosing it and Prometheus binding it


class PrometheusMissingError(PrometheusError):
    """No prometheus binary: a setup error (exit 2), not a failed check."""


@dataclass(frozen=True)
class Target:
    """A scrape target given as a URL (http://127.0.0.1:8080/metrics) or host:port."""

    scheme: str
    address: str  # host:port, which Prometheus puts in the `instance` label
    path: str

    @classmethod
    def parse(cls, text: str) -> Target:
        parts = urlsplit(text if "://" in text else f"http://{text}")
        if parts.scheme not in ("http", "https") or not parts.hostname or not parts.port:
            raise PrometheusError(f"scrape target {text!r} is not http(s)://host:port[/path]")
        # The instance label is host:port, without any user:password@ of the URL.
        return cls(parts.scheme, parts.netloc.rpartition("@")[2], parts.path or "/metrics")


def find_binary() -> str:
    """prometheus on PATH, else Debian's /usr/bin/prometheus."""
    found = shutil.which("prometheus") or (str(DEBIAN_BINARY) if DEBIAN_BINARY.exists() else None)
    if found is None:
        raise PrometheusMissingError(
            "prometheus is not installed (not on PATH, no /usr/bin/prometheus): "
            "install Debian's prometheus package (apt-get install prometheus)"
        )
    return found


def config(targets: Sequence[Target], scrape_interval: str = SCRAPE_INTERVAL) -> dict[str, object]:
    """The prometheus.yml of a session: every target scraped every `scrape_interval`."""
    return {
        # Prometheus refuses a scrape timeout longer than the interval (its default is 10 s).
        "global": {"scrape_interval": scrape_interval, "scrape_timeout": scrape_interval},
        "scrape_configs": [
            {
                # One job per target: a job has one scheme and one metrics path.
                "job_name": f"polysdk-{index}",
                "scheme": target.scheme,
                "metrics_path": target.path,
                "static_configs": [{"targets": [target.address]}],
            }
            for index, target in enumerate(targets)
        ],
    }


class Prometheus:
    """A running server: its URL, its API and the scrape waits."""

    def __init__(self, url: str, process: subprocess.Popen[bytes], log: Path) -> None:
        self.url = url
        self.api = PrometheusApi(url)
        self.process = process
        self.log = log

    def scrapes(self, target: str, since: float) -> int:
        """Successful scrapes of `target` that started after Unix time `since`."""
        instance = Target.parse(target).address
        now = time.time()
        span_ms = max(1, int((now - since) * 1000))
        # `up` is 1 per successful scrape, stamped with the scrape's start: their sum over the span
        # counts the scrapes begun after `since`, which therefore saw everything done before it.
        samples = self.api.query(f'sum_over_time(up{{instance="{instance}"}}[{span_ms}ms])', now)
        return int(samples[0].value) if samples else 0

    def wait_for_scrapes(self, target: str, count: int = 1, timeout: float = 30.0) -> None:
        """Until `count` successful scrapes of `target` have started after this call; so with
        count=1 Prometheus holds a sample of everything the exporter counted before the call."""
        since = time.time()
        for _ in range(max(1, int(timeout / POLL_S))):
            if self.scrapes(target, since) >= count:
                return
            self._pause()
        raise PrometheusError(
            f"Prometheus at {self.url} did not scrape {target} {count} time(s) within {timeout:g} s; "
            f"is the target serving metrics? (see {self.log})"
        )

    def _pause(self) -> None:
        """Waits one poll interval, returning early (with an error) if Prometheus exits."""
        try:
            self.process.wait(timeout=POLL_S)
        except subprocess.TimeoutExpired:
            return
        raise PrometheusError(f"Prometheus exited with code {self.process.returncode}:\n{_tail(self.log)}")


@contextmanager
def running(
    targets: Sequence[str], *, binary: str | None = None, scrape_interval: str = SCRAPE_INTERVAL
) -> Iterator[Prometheus]:
    """A Prometheus scraping `targets`, ready to answer queries; stopped and its data removed on exit."""
    parsed = [Target.parse(target) for target in targets]
    executable = binary or find_binary()
    with tempfile.TemporaryDirectory(prefix="polysdk-prometheus-") as folder:
        root = Path(folder)
        config_file = root / "prometheus.yml"
        config_file.write_text(yaml.safe_dump(config(parsed, scrape_interval)), encoding="utf-8")
        server = _start(executable, config_file, root)
        try:
            yield server
        finally:
            server.api.close()
            _stop(server.process)


def _start(executable: str, config_file: Path, root: Path) -> Prometheus:
    for attempt in range(PORT_ATTEMPTS):
        port = _free_port()
        log = root / f"prometheus-{attempt}.log"
        with log.open("wb") as sink:
            process = subprocess.Popen(
                [
                    executable,
                    f"--config.file={config_file}",
                    f"--web.listen-address=127.0.0.1:{port}",
                    f"--storage.tsdb.path={root / 'data'}",
                ],
                stdout=sink,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        server = Prometheus(f"http://127.0.0.1:{port}", process, log)
        try:
            _wait_ready(server)
            return server
        except PrometheusError:
            server.api.close()
            _stop(process)
            if "address already in use" not in log.read_text(encoding="utf-8", errors="replace"):
                raise
    raise PrometheusError(f"Prometheus found no free port on 127.0.0.1 in {PORT_ATTEMPTS} attempts")


def _wait_ready(server: Prometheus) -> None:
    for _ in range(READY_TRIES):
        if server.api.ready():
            return
        server._pause()
    raise PrometheusError(
        f"Prometheus at {server.url} was not ready after {READY_TRIES} tries:\n{_tail(server.log)}"
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _tail(log: Path, lines: int = 20) -> str:
    try:
        text = log.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(f"  {line}" for line in text.splitlines()[-lines:])
