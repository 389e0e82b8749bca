"""Formatted files kept between runs, so that a formatter only sees what changed.

rustfmt and gofmt are deterministic: the same tool given the same text (and the same configuration)
gives the same output. Generation renders every file again on every run, but between runs on one
contract, or after a small edit of it, most files come out exactly as before; formatting them again
was the largest part of a warm run (on Stripe's contract, rustfmt and gofmt are 3 s of CPU of 9).
Each formatted file is kept under the hash of everything it depends on:

- the tool: its resolved path, size and modification time (an upgrade is another tool), and its
  arguments;
- its configuration files (`config_names`, looked for in the file's folder and every folder above
  it, and in `config_homes`), by content;
- the text given to it.

A hit writes the kept output; the misses are formatted as without a cache (one batch) and kept.
Entries are plain files in the user's cache folder (user_cache.py); the least recently used are
removed once the folder holds more than MAX_BYTES. A damaged entry cannot be told from a good one
by its content, so each holds the hash of its output, checked on every hit; a failure to read or
write the folder only costs the formatting.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

from polysdk.user_cache import digest, usable_folder, write_entry

MAX_BYTES = 256 * 1024 * 1024
_VERSION = b"polysdk formatted files 1"
_DIGEST = 32  # sha256 of the output, ahead of it in each entry


def format_with_cache(
    directory: Path,
    files: Sequence[str],
    argv: Sequence[str],
    format_misses: Callable[[list[str]], object],
    *,
    config_names: Sequence[str] = (),
    config_homes: Sequence[Path] = (),
    folder: Path | None = None,
) -> None:
    """Format `files` (relative to `directory`, in place): the ones formatted before by the same
    tool and configuration from the cache, the rest through `format_misses`, which formats the files
    it is given in place as `argv` would. `folder` defaults to the user's cache folder."""
    usable = usable_folder("formatted", folder)
    tool = shutil.which(argv[0]) if argv else None
    if usable is None or tool is None:
        format_misses(list(files))
        return
    tool_key = _tool_key(tool, argv)
    config_keys: dict[Path, bytes] = {}  # by folder: most files share one
    misses: dict[str, str] = {}  # file name: its entry
    for name in files:
        path = directory / name
        if path.parent not in config_keys:
            config_keys[path.parent] = _config_key(path.parent, config_names, config_homes)
        key = digest(_VERSION, tool_key, config_keys[path.parent], path.read_bytes())
        kept = _load(usable / key)
        if kept is None:
            misses[name] = key
        else:
            path.write_bytes(kept)
    if not misses:
        return
    format_misses(list(misses))
    for name, key in misses.items():
        output = (directory / name).read_bytes()
        write_entry(usable / key, hashlib.sha256(output).digest() + output)
    _trim(usable)


def _tool_key(tool: str, argv: Sequence[str]) -> bytes:
    resolved = Path(tool).resolve()
    try:
        status = resolved.stat()
    except OSError:
        return f"{resolved}\0unknown".encode()
    return "\0".join([str(resolved), str(status.st_size), str(status.st_mtime_ns), *argv[1:]]).encode()


def _config_key(start: Path, names: Sequence[str], homes: Sequence[Path]) -> bytes:
    """The configuration files the tool would read for a file in `start`, by path and content."""
    if not names:
        return b""
    parts: list[bytes] = []
    folders = [start.resolve(), *start.resolve().parents, *homes]
    for folder in folders:
        for name in names:
            candidate = folder / name
            with contextlib.suppress(OSError):
                parts += [str(candidate).encode(), candidate.read_bytes()]
    return b"\0".join(parts)


def _load(entry: Path) -> bytes | None:
    try:
        data = entry.read_bytes()
    except OSError:
        return None
    output = data[_DIGEST:]
    if len(data) < _DIGEST or hashlib.sha256(output).digest() != data[:_DIGEST]:
        return None  # damaged (a disk error, a torn write by a killed run): formatted again
    with contextlib.suppress(OSError):
        os.utime(entry)  # used now: the last to be trimmed
    return output


def _trim(folder: Path) -> None:
    """Removes the least recently used entries while the folder holds more than MAX_BYTES."""
    entries: list[tuple[int, int, Path]] = []
    try:
        for entry in folder.iterdir():
            status = entry.stat()
            entries.append((status.st_mtime_ns, status.st_size, entry))
    except OSError:
        return
    total = sum(size for _, size, _ in entries)
    for _, size, entry in sorted(entries, key=lambda item: item[0]):
        if total <= MAX_BYTES:
            break
        with contextlib.suppress(OSError):
            entry.unlink()
            total -= size
