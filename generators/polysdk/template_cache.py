"""Compiled templates kept between runs: Jinja's bytecode cache in the user's cache folder.

Compiling the templates is a fixed cost of every run: about a quarter of a second of CPU for the
53 templates, a third of the time the orchestrator contract takes to generate. Jinja can keep
each compiled template and load it on the next run; Python does the same for modules (`.pyc`).

A cached template is used only when its source is unchanged (Jinja compares a checksum of the
text), it was compiled by the same Jinja and Python (Jinja's header, plus the version in the file
names here) and with the same environment options (their fingerprint is in the file names too).
A damaged cache file is a miss and a file that cannot be written is skipped: the template is
compiled as without a cache. Where the folder is, and when there is none: user_cache.py.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Mapping
from pathlib import Path

import jinja2
from jinja2.bccache import Bucket

from polysdk.user_cache import digest, usable_folder


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
    """The cache for an environment built with `options` (in `folder`, by default the user's
    cache folder for templates), or None when there is no usable folder."""
    usable = usable_folder("templates", folder)
    if usable is None:
        return None
    return TemplateCache(str(usable), pattern=f"{_fingerprint(options)}-%s.cache")


def _fingerprint(options: Mapping[str, object]) -> str:
    """What else decides the compiled code: Jinja's and Python's versions and the options."""
    described = repr(
        (jinja2.__version__, sys.version_info[:2], sorted((k, repr(v)) for k, v in options.items()))
    )
    return digest(described.encode("utf-8"))[:16]
