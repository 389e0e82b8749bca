"""Validation findings kept between runs: a contract validated before, unchanged, is not validated
again.

openapi-spec-validator is a pure function of the documents it reads: the same contract, the same
files it references and the same validator give the same findings. It was the largest single cost
of a warm run (on Stripe's contract 1.5 s of CPU plus 0.3 s of imports, in the forked child), and a
run on a contract just generated from (`polysdk check` in CI, a second language, a template edit)
validates the same text again. So each run's findings are kept under the hash of:

- the contract's text as parsed, its path (findings name it) and how it was read (the folders
  its references may come from);
- the validator: openapi-spec-validator and the libraries it validates with, by file identity
  (an upgrade rewrites them), and Python's version;
- polysdk's own code that reads the contract and places the findings, by content;

and each entry lists the other files the validator read (the contract's `$ref`s), with the hash of
the text it read, checked on every lookup: an edited referenced file is a miss. Contracts whose remote
references may be fetched are never cached (what a URL serves can change). Entries are small JSON
files in the user's cache folder (user_cache.py); anything unreadable is a miss, anything
unwritable is skipped.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from polysdk.frontends.openapi.document import text_digest
from polysdk.user_cache import digest, usable_folder, write_entry

if TYPE_CHECKING:
    from polysdk.frontends.openapi.document import Contract
    from polysdk.frontends.openapi.validation import Finding

_VERSION = "polysdk validation findings 1"
# What validates: openapi-spec-validator and what it validates with (found, not imported: importing
# them is the cost the cache saves).
_VALIDATOR_MODULES = (
    "openapi_spec_validator",
    "openapi_schema_validator",
    "jsonschema",
    "jsonschema_rs",
    "jsonschema_path",
    "pathable",
    "referencing",
)
# polysdk's code between the contract's bytes and the findings' wording and places.
_OWN_MODULES = ("document", "swagger2", "yaml_quirks", "validation", "validation_cache")


def entry_for(contract: Contract, folder: Path | None = None) -> Path | None:
    """Where this contract's findings are kept (whether or not they are yet), or None when they
    are not to be kept: remote references allowed, no usable cache folder. Taken when the
    contract is opened, from the text that was parsed."""
    if contract.allow_remote or contract.text is None:
        return None
    usable = usable_folder("validation", folder)
    if usable is None:
        return None
    parts = [_VERSION, contract.path, str(contract.roots), sys.version, *_identities(), contract.text]
    return usable / f"{digest(*(p.encode('utf-8', 'surrogatepass') for p in parts))}.json"


def lookup(entry: Path | None) -> list[Finding] | None:
    """The findings kept in `entry`, if every file the validation read is still as it was."""
    from polysdk.frontends.openapi.validation import Finding

    if entry is None:
        return None
    try:
        kept = json.loads(entry.read_text(encoding="utf-8"))
        for path, digest in kept["documents"].items():
            if text_digest(Path(path).read_text(encoding="utf-8")) != digest:
                return None  # a referenced file changed
        return [Finding(int(f[0]), str(f[1]), str(f[2]), str(f[3])) for f in kept["findings"]]
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, IndexError, AttributeError):
        return None  # absent or damaged: validated again


def store(entry: Path | None, contract: Contract, findings: list[Finding]) -> None:
    """Keeps the findings of a validation that ran to its end, with the files it read."""
    if entry is None:
        return
    kept = {
        "documents": {
            str(path): text_digest for path, text_digest in sorted(contract.loaded_files().items())
        },
        "findings": [[f.line, f.pointer, f.message, f.file] for f in findings],
    }
    write_entry(entry, json.dumps(kept, ensure_ascii=False).encode("utf-8"))


def _identities() -> list[str]:
    """The validator's modules by file identity, and polysdk's by content."""
    found = []
    for name in _VALIDATOR_MODULES:
        spec = importlib.util.find_spec(name)
        origin = Path(spec.origin) if spec is not None and spec.origin else None
        if origin is None:
            found.append(f"{name}: absent")
            continue
        with contextlib.suppress(OSError):
            status, folder = origin.stat(), origin.parent.stat()
            found.append(f"{origin}:{status.st_size}:{status.st_mtime_ns}:{folder.st_mtime_ns}")
    here = Path(__file__).parent
    for name in _OWN_MODULES:
        found.append(digest((here / f"{name}.py").read_bytes()))
    found.append(digest((here.parent.parent / "pointers.py").read_bytes()))
    return found
