"""Reports checked in a real browser: Debian's chromium, headless. A page is rendered to a
screenshot (kept under build/screenshots/ as a CI artefact), its DOM is read after its scripts
ran, and it can be driven as a user would over the DevTools protocol (DevTools)."""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import struct
import subprocess
import zlib
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_TIMEOUT_S = 120
SCREENSHOTS = ROOT / "build" / "screenshots"  # CI keeps this folder as an artefact


def chromium() -> str:
    """The browser; skips locally when it is missing, fails under CI."""
    if CHROMIUM.exists():
        return str(CHROMIUM)
    if os.environ.get("CI") == "true":
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (CI may not skip the browser check)")
    pytest.skip(f"{CHROMIUM} is missing (apt-get install -y chromium)")


def _flags(work: Path) -> list[str]:
    return ["--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={work / 'profile'}"]


def screenshot(url: str, work: Path, artefact: str, size: str = "1280,1600") -> Path:
    """Renders the page to work/<artefact> and copies it to build/screenshots/<artefact>."""
    target = work / artefact
    subprocess.run(
        [chromium(), *_flags(work), f"--screenshot={target}", f"--window-size={size}", url],
        check=True,
        capture_output=True,
        timeout=CHROMIUM_TIMEOUT_S,
    )
    assert target.stat().st_size > 0
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(target, SCREENSHOTS / artefact)
    return target


def dump_dom(url: str, work: Path) -> str:
    """The page's DOM as serialised once it has loaded (its inline scripts have run)."""
    return subprocess.run(
        [chromium(), *_flags(work), "--dump-dom", url],
        check=True,
        capture_output=True,
        text=True,
        timeout=CHROMIUM_TIMEOUT_S,
    ).stdout


def png_colours(path: Path) -> set[bytes]:
    """The distinct colours of an 8-bit RGB or RGBA PNG (what chromium writes)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    position, idat, header = 8, b"", b""
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat += body
        position += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", header[:10])
    assert depth == 8 and colour in (2, 6), (depth, colour)
    channels = 3 if colour == 2 else 4
    stride = width * channels
    raw = zlib.decompress(idat)
    previous = bytearray(stride)
    colours: set[bytes] = set()
    for row in range(height):
        kind = raw[row * (stride + 1)]
        line = bytearray(raw[row * (stride + 1) + 1 : (row + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            upper_left = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                estimate = left + up - upper_left
                da, db, dc = abs(estimate - left), abs(estimate - up), abs(estimate - upper_left)
                predictor = left if da <= db and da <= dc else up if db <= dc else upper_left
                line[i] = (line[i] + predictor) & 0xFF
        colours.update(bytes(line[i : i + 3]) for i in range(0, stride, channels * 7))
        previous = line
    return colours


class DevTools:
    """A page in chromium driven over the DevTools protocol on a pipe (--remote-debugging-pipe:
    JSON messages ended by NUL, commands on the browser's fd 3, answers and events on its fd 4),
    so that a test can act as a user does (set a control, fire its input event) without a
    browser driver."""

    def __init__(self, url: str, work: Path) -> None:
        commands_read, self._commands = os.pipe()
        self._answers, answers_write = os.pipe()

        def child_fds() -> None:  # in the child: the pipe ends on the fds chromium expects
            os.dup2(commands_read, 3)
            os.dup2(answers_write, 4)

        self.process = subprocess.Popen(
            [chromium(), *_flags(work), "--remote-debugging-pipe", "about:blank"],
            preexec_fn=child_fds,
            pass_fds=(3, 4),  # kept open by number: the fds child_fds made (closing runs after it)
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(commands_read)
        os.close(answers_write)
        self._buffer, self._next_id = b"", 0
        self._events: list[str] = []  # the methods of the events seen so far
        target = self._call("Target.createTarget", {"url": "about:blank"})["targetId"]
        attached = self._call("Target.attachToTarget", {"targetId": target, "flatten": True})
        self._session = attached["sessionId"]
        self._call("Page.enable", {}, session=self._session)
        self._call("Page.navigate", {"url": url}, session=self._session)
        # Loaded, its inline script run: the page's load event, not a delay.
        while "Page.loadEventFired" not in self._events:
            self._events.append(self._receive().get("method", ""))

    def evaluate(self, expression: str) -> object:
        """The value of a JavaScript expression in the page."""
        found = self._call(
            "Runtime.evaluate", {"expression": expression, "returnByValue": True}, session=self._session
        )
        assert "exceptionDetails" not in found, found["exceptionDetails"]
        return found["result"].get("value")

    def _call(self, method: str, params: dict[str, object], session: str | None = None) -> dict[str, Any]:
        self._next_id += 1
        message: dict[str, object] = {"id": self._next_id, "method": method, "params": params}
        if session is not None:
            message["sessionId"] = session
        os.write(self._commands, json.dumps(message).encode("utf-8") + b"\0")
        while True:
            answer = self._receive()
            if answer.get("id") == self._next_id:
                assert "error" not in answer, answer["error"]
                result: dict[str, Any] = answer["result"]
                return result
            self._events.append(answer.get("method", ""))

    def _receive(self) -> dict[str, Any]:
        """The next message: an answer or an event."""
        message: dict[str, Any] = json.loads(self._read_message())
        return message

    def _read_message(self) -> bytes:
        while b"\0" not in self._buffer:
            ready, _, _ = select.select([self._answers], [], [], CHROMIUM_TIMEOUT_S)
            assert ready, f"chromium did not answer within {CHROMIUM_TIMEOUT_S} s"
            chunk = os.read(self._answers, 1 << 16)
            assert chunk, "chromium closed the DevTools pipe"
            self._buffer += chunk
        message, _, self._buffer = self._buffer.partition(b"\0")
        return message

    def close(self) -> None:
        with contextlib.suppress(OSError, AssertionError):
            self._call("Browser.close", {})
        os.close(self._commands)
        os.close(self._answers)
        try:
            self.process.wait(timeout=CHROMIUM_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> DevTools:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
