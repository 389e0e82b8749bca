"""The user's cache folder for what generation can keep between runs (compiled templates,
formatted files). Everything kept there is an optimisation: a folder that cannot be used means
no cache, never a failed run, and the output is the same with or without it.

Where: `$POLYSDK_CACHE_DIR/<kind>` when that variable is set (set it empty to turn caching off),
else `$XDG_CACHE_HOME/polysdk/<kind>`, else `~/.cache/polysdk/<kind>`.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import tempfile
from collections.abc import Mapping
from pathlib import Path

CACHE_DIR_VARIABLE = "POLYSDK_CACHE_DIR"


def cache_folder(kind: str, environ: Mapping[str, str] = os.environ) -> Path | None:
    """Where the cache of `kind` lives, or None when caching is turned off."""
    chosen = environ.get(CACHE_DIR_VARIABLE)
    if chosen is not None:
        return Path(chosen) / kind if chosen else None
    base = environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "polysdk" / kind


def private_folder(folder: Path | None) -> Path | None:
    """`folder`, created private to the user (0700), or None when it cannot be used: it cannot be
    created, it is not a folder, another user owns it or others may write it (what is kept there is
    loaded as code or copied into SDKs, so nobody else may plant it), or there is no owner to check
    (Windows)."""
    if folder is None or not hasattr(os, "getuid"):
        return None
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        status = folder.lstat()
    except OSError:
        return None
    if (
        not stat.S_ISDIR(status.st_mode)
        or status.st_uid != os.getuid()
        or status.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    ):
        return None
    return folder


def usable_folder(kind: str, folder: Path | None = None) -> Path | None:
    """`folder`, else the user's cache folder for `kind`, when it can be used (private_folder)."""
    return private_folder(folder if folder is not None else cache_folder(kind))


def digest(*parts: bytes) -> str:
    """The sha256 of `parts`, each with its length ahead of it (no two splits hash alike)."""
    hashed = hashlib.sha256()
    for part in parts:
        hashed.update(len(part).to_bytes(8, "big"))
        hashed.update(part)
    return hashed.hexdigest()


def write_entry(entry: Path, data: bytes) -> None:
    """Writes a cache entry whole or not at all (a temporary file renamed over it), so that a
    reader never sees half of one; a failure to write only costs the entry."""
    try:
        handle = tempfile.NamedTemporaryFile(dir=entry.parent, prefix=".tmp-", delete=False)  # noqa: SIM115
    except OSError:
        return
    try:
        with handle:
            handle.write(data)
        Path(handle.name).replace(entry)
    except OSError:
        with contextlib.suppress(OSError):
            Path(handle.name).unlink()
