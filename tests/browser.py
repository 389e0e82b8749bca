"""Reports checked in a real browser: Debian's chromium, headless. A page is rendered to a
screenshot (kept under build/screenshots/ as a CI artefact) and its DOM is read after its scripts
ran, so filters driven by the URL's fragment can be checked without a browser driver."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

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
