"""A .proto contract (or a FileDescriptorSet file) to descriptors, through grpcio-tools' protoc.

protoc runs in a child process so that its errors (`file:line:column: message`) can be read and
turned into one located ContractError. Imports that every annotated contract uses resolve without
flags, as buf does for its users: the well-known types ship with grpcio-tools, and
`google/api/annotations.proto`, `http.proto` and `field_behavior.proto` with
googleapis-common-protos; `-I` folders come first.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from google.protobuf import descriptor_pb2
from google.protobuf.message import DecodeError

from polysdk.errors import ContractError, Location

# Suffixes of a FileDescriptorSet written by `protoc --descriptor_set_out` or `buf build -o`.
DESCRIPTOR_SET_SUFFIXES = (".pb", ".binpb", ".desc", ".protoset")
_PROTOC_ERROR = re.compile(r"^(?P<file>[^:\n]+):(?P<line>\d+):(?P<column>\d+): (?P<message>.+)$", re.M)


@dataclass(frozen=True)
class Descriptors:
    """The contract's descriptors: every file (imports first), and the files the user named."""

    files: tuple[descriptor_pb2.FileDescriptorProto, ...]
    targets: tuple[str, ...]  # names of the files to generate from (their imports are not)
    source: str  # the contract path, for messages


def include_paths(extra: tuple[Path, ...]) -> list[Path]:
    """The user's folders, then the well-known types and the googleapis annotations."""
    import google.api
    import grpc_tools

    bundled = Path(grpc_tools.__file__).parent / "_proto"
    googleapis = Path(next(iter(google.api.__path__))).parent.parent
    return [*extra, bundled, googleapis]


def read_descriptors(path: Path, import_paths: tuple[Path, ...] = ()) -> Descriptors:
    if path.suffix.lower() in DESCRIPTOR_SET_SUFFIXES:
        return _read_set(path, path.read_bytes(), None)
    if not path.is_file():
        raise ContractError(Location(str(path)), "no such file", "check the contract's path")
    folders = [path.parent.resolve(), *(p.resolve() for p in import_paths)]
    with tempfile.TemporaryDirectory(prefix="polysdk-protoc-") as tmp:
        out = Path(tmp) / "descriptors.pb"
        command = [
            sys.executable,
            "-m",
            "grpc_tools.protoc",
            *(f"-I{folder}" for folder in include_paths(tuple(folders))),
            "--include_imports",
            "--include_source_info",
            f"--descriptor_set_out={out}",
            str(path.resolve()),
        ]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0 or not out.exists():
            raise _protoc_error(path, done.stderr)
        return _read_set(path, out.read_bytes(), path.name)


def _protoc_error(path: Path, stderr: str) -> ContractError:
    """protoc's first located error as our one located message."""
    found = _PROTOC_ERROR.search(stderr)
    if found is None:
        text = stderr.strip().splitlines()[0] if stderr.strip() else "protoc failed without a message"
        return ContractError(Location(str(path)), text, "fix the .proto file (or add its imports with -I)")
    message = found["message"].strip()
    hint = "fix the .proto file"
    if "not found" in message or "File not found" in message:
        hint = "add the folder that holds the imported file with -I/--proto-path"
    # protoc names the contract by the absolute path it was given; say it as the user did.
    file = str(path) if found["file"] == str(path.resolve()) else found["file"]
    return ContractError(Location(file, line=int(found["line"])), message, hint)


def _read_set(path: Path, data: bytes, target: str | None) -> Descriptors:
    files = descriptor_pb2.FileDescriptorSet()
    try:
        files.ParseFromString(data)
    except DecodeError as error:
        raise ContractError(
            Location(str(path)),
            f"not a FileDescriptorSet ({error})",
            "write one with `protoc --include_imports --descriptor_set_out=FILE` or `buf build -o FILE`",
        ) from None
    if not files.file:
        raise ContractError(Location(str(path)), "the descriptor set holds no files", "")
    names = [f.name for f in files.file]
    if target is not None:
        # protoc names the file by its path relative to the include folder it was found in.
        targets = tuple(n for n in names if n == target or n.endswith("/" + target))[-1:]
    else:
        imported = {dep for f in files.file for dep in f.dependency}
        targets = tuple(n for n in names if n not in imported and not n.startswith("google/"))
    if not targets:
        raise ContractError(Location(str(path)), "no contract file found among the descriptors", "")
    return Descriptors(tuple(files.file), targets, str(path))
