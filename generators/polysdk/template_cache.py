"""Compiled templates kept between runs: Jinja's bytecode cache in the user's cache folder.

Compiling the templates is a fixed cost of every run: about a quarter of a second of CPU for the
53 templates, a third of the time the orchestrator contract takes to generate. Jinja can keep
each compiled template and load it on the next run; Python does the same for modules (`.pyc`).

The cache is only ever an optimisation. A cached template is used only when its source is
unchanged (Jinja compares a checksum of the text), it was compiled by the same Jinja and Python
(Jinja's header, plus the version in the file names here) and with the same environment options
(their fingerprint is in the file names too). A folder that cannot be created or written, a
foreign or group-writable folder, or a damaged cache file each mean "no cache": the template is
compiled as without one, and generation never fails because of the cache. Output is the same
with or without it, byte for byte.

Where: `$POLYSDK_CACHE_DIR/templates` when that variable is set (set it empty to turn the cache
off), else `$XDG_CACHE_HOME/polysdk/templates`, else `~/.cache/polysdk/templates`.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import sys
from collections.abc import Mapping
from pathlib import Path

import jinja2
from jinja2.bccache import Bucket

CACHE_DIR_VARIABLE = "POLYSDK_CACHE_DIR"


def cache_folder(environ: Mapping[str, str] = os.environ) -> Path | None:
    """Where compiled templates are kept, or None when the cache is turned off."""
    chosen = environ.get(CACHE_DIR_VARIABLE)
    if chosen is not None:
        return Path(chosen) / "templates" if chosen else None
    base = environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "polysdk" / "templates"


class TemplateCache(jinja2.FileSystemBytecodeCache):
    """Jinja's file cache that treats every failure as a miss (load) or as nothing to do (dump)."""

    def load_bytecode(self, bucket: Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except Exception:  # noqa: BLE001 - a damaged or unreadable entry is a miss, recompiled
            bucket.reset()

    def dump_bytecode(self, bucket: Bucket) -> None:
        # A full disk or a folder removed meanwhile: the next run compiles again.
        with contextlib.suppress(OSError):
            super().dump_bytecode(bucket)


def template_cache(options: Mapping[str, object], folder: Path | None = None) -> TemplateCache | None:
    """The cache for an environment built with `options`, or None when there is no usable folder.

    `folder` defaults to `cache_folder()`. The folder is created private to the user (0700); one
    that another user owns or others may write is not used, because its files are loaded as code.
    """
    folder = cache_folder() if folder is None else folder
    if folder is None or not hasattr(os, "getuid"):
        return None  # off, or no owner to check (Windows): compile every run
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
    return TemplateCache(str(folder), pattern=f"{_fingerprint(options)}-%s.cache")


def _fingerprint(options: Mapping[str, object]) -> str:
    """What else decides the compiled code: Jinja's and Python's versions and the options."""
    described = repr(
        (jinja2.__version__, sys.version_info[:2], sorted((k, repr(v)) for k, v in options.items()))
    )
    return hashlib.sha256(described.encode("utf-8")).hexdigest()[:16]
