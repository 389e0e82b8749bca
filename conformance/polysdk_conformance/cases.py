"""Case files: loaded, checked against the published JSON Schema and the contract, expanded.

A malformed case file is a located error (file:line at #/json/pointer, what is wrong, what to do)
raised as CaseError; the runner prints it and exits with code 2. Nothing here runs a case.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from polysdk.pointers import LocatedFileError, join_pointer
from polysdk_conformance.scenario import MOCK_PLACEHOLDER, parse_scenario


def _cases_dir() -> Path:
    """The orchestrator's cases: the copy shipped in the wheel, else the checkout's."""
    shipped = Path(__file__).resolve().parent / "cases"
    return shipped if shipped.is_dir() else Path(__file__).resolve().parents[1] / "cases"


CASES_DIR = _cases_dir()
SCHEMA_PATH = CASES_DIR / "case.schema.json"

JsonDict = dict[str, Any]

# The contract formats a case can run against (its `contracts`), each a profile of the run with
# its own contract and SDKs. Ids of a profile other than OpenAPI's carry its prefix, so that
# reports, reproducers and known-failing globs tell them apart ("proto:Connect/unary/ok").
CONTRACTS = ("openapi", "proto")
DEFAULT_CONTRACTS = ("openapi",)
ID_PREFIX = {"openapi": "", "proto": "proto:"}


def profile_id(case_id: str, contract: str) -> str:
    """A case's id as the given contract profile runs it."""
    return ID_PREFIX[contract] + case_id


class CaseError(LocatedFileError):
    """A case file the runner cannot use; printed as one located message, exit code 2."""


@dataclass(frozen=True)
class Operation:
    """What the runner needs to know about an operation of the contract."""

    id: str
    paginated: bool
    items_field: str | None  # wire name of a page's item array; None when the page is the array
    streaming: bool


@dataclass(frozen=True)
class Case:
    id: str  # Suite/axis/case, stable: known-failing globs match it
    suite: str
    doc: str
    operation: str
    mode: str
    args: JsonDict
    client: JsonDict
    request: JsonDict
    take: int | None
    cancel: JsonDict | None
    requires: tuple[str, ...]
    steps: tuple[JsonDict, ...]
    expect: JsonDict
    file: str
    pointer: str
    contracts: tuple[str, ...] = DEFAULT_CONTRACTS  # the contracts the case applies to
    contract: str = "openapi"  # the profile this instance runs in (ids are prefixed but openapi's)
    base_id: str = ""  # the id without the profile prefix; "" means `id`
    source_line: int | None = None  # the line of `pointer` in `file`, found when the file was parsed

    @property
    def plain_id(self) -> str:
        """The id as the case file names it (without a profile prefix)."""
        return self.base_id or self.id

    def for_contract(self, contract: str) -> Case:
        """This case as the given contract's profile runs it."""
        return replace(
            self,
            id=profile_id(self.plain_id, contract),
            suite=profile_id(self.suite.removeprefix(ID_PREFIX[self.contract]), contract),
            contract=contract,
            base_id=self.plain_id,
        )

    def scenario(self) -> JsonDict:
        """The mock's scenario: steps without runner-only fields; an omitted query must be empty."""
        steps = []
        for step in self.steps:
            played = {key: value for key, value in step.items() if key != "optional"}
            played["request"] = {"query": "", **step["request"]}
            steps.append(played)
        scenario: JsonDict = {"name": self.id, "steps": steps}
        prefix = self.base_path_prefix()
        if prefix:
            scenario["prefix"] = prefix
        if self.contract != "openapi":  # the mock validates against the OpenAPI contract only
            scenario["validate"] = False
        return scenario

    def base_path_prefix(self) -> str:
        """The path the case's base URL adds after the mock URL ("{mock}api/v2" gives "/api/v2")."""
        candidates = [self.client.get("base_url", MOCK_PLACEHOLDER)]
        candidates += list(self.client.get("env", {}).values())
        for value in candidates:
            if isinstance(value, str) and value.startswith(MOCK_PLACEHOLDER):
                rest = value[len(MOCK_PLACEHOLDER) :].strip("/")
                return f"/{rest}" if rest else ""
        return ""

    def optional_steps(self) -> frozenset[int]:
        return frozenset(i for i, step in enumerate(self.steps) if step.get("optional"))

    def line(self) -> int | None:
        return self.source_line

    @property
    def where(self) -> str:
        """The case's place for messages: file:line, or the file and the case's JSON pointer when
        the file was JSON (read without lines)."""
        line = self.line()
        return f"{self.file}:{line}" if line is not None else f"{self.file} at #{self.pointer}"


@cache
def _validator() -> Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def _pointer(error: ValidationError) -> str:
    return join_pointer("", *error.absolute_path)


# libyaml's loader when PyYAML was built with it: the pure-Python one spent seconds of a run
# re-reading suite files. Both give the same data and the same error marks.
_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _parse(text: str) -> tuple[Any, yaml.Node | None]:
    """A YAML document's data and its node tree (for the lines of cases), parsed once. A JSON
    document (derived cases are written as JSON) is read by the JSON parser, ten times faster
    than libyaml on megabytes; its errors are then located by JSON pointer only."""
    if text.lstrip().startswith("{"):
        try:
            return json.loads(text), None
        except ValueError:
            pass  # YAML flow syntax, or broken: libyaml reads it or locates the error
    loader = _LOADER(text)
    try:
        node = loader.get_single_node()
        return (loader.construct_document(node) if node is not None else None), node
    finally:
        loader.dispose()


def _item_line(root: yaml.Node | None, key: str, index: int) -> int | None:
    """The 1-based line of `root[key][index]` in the parsed file."""
    if not isinstance(root, yaml.MappingNode):
        return None
    items = next((value for name, value in root.value if getattr(name, "value", None) == key), None)
    if not isinstance(items, yaml.SequenceNode) or index >= len(items.value):
        return None
    return int(items.value[index].start_mark.line) + 1


def load_file(
    path: Path, operations: dict[str, Operation], by_contract: dict[str, dict[str, Operation]] | None = None
) -> list[Case]:
    """The cases of one file; CaseError at the first problem. Each case is checked against the
    operations of every contract it applies to that `by_contract` gives (default: `operations`
    as the OpenAPI contract's); a contract not given is not checked."""
    by_contract = {"openapi": operations} if by_contract is None else by_contract
    try:
        data, root = _parse(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CaseError(path, "", f"cannot read the case file: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise CaseError(f"{path}{line}", "", f"invalid YAML: {problem}", "fix the syntax error") from None
    error = best_match(_validator().iter_errors(data))
    if error is not None:
        raise CaseError(
            path,
            _pointer(error),
            f"{error.message}",
            f"see {SCHEMA_PATH.name} (the published schema of case files) and conformance/PROTOCOL.md",
        )
    suite = data["suite"]
    defaults = data.get("defaults", {})
    cases = []
    for index, raw in enumerate(data["cases"]):
        pointer = f"/cases/{index}"
        case = _case(raw, suite, path, pointer, defaults, _item_line(root, "cases", index))
        for contract in case.contracts:
            if contract in by_contract:
                _check(case, by_contract[contract], contract)
        cases.append(case)
    return cases


REPEAT_LIMIT = 16 * 1024 * 1024


def expand(value: Any) -> Any:
    """`{"$repeat": "ab", "times": n}` anywhere in a case becomes "abab..." (large bodies without
    megabytes of YAML); bounded so that a typo cannot exhaust memory."""
    if isinstance(value, dict):
        if set(value) == {"$repeat", "times"} and isinstance(value["$repeat"], str):
            times = value["times"]
            if not isinstance(times, int) or times < 0 or len(value["$repeat"]) * times > REPEAT_LIMIT:
                raise ValueError(f"$repeat: times must be a count giving at most {REPEAT_LIMIT} characters")
            return value["$repeat"] * times
        return {key: expand(item) for key, item in value.items()}
    if isinstance(value, list):
        return [expand(item) for item in value]
    return value


def _case(raw: JsonDict, suite: str, path: Path, pointer: str, defaults: JsonDict, line: int | None) -> Case:
    try:
        raw = expand(raw)
    except ValueError as exc:
        raise CaseError(path, pointer, str(exc)) from None
    return Case(
        id=f"{suite}/{raw['name']}",
        suite=suite,
        doc=raw["doc"],
        operation=raw["operation"],
        mode=raw.get("mode", "call"),
        args=raw.get("args", {}),
        client={**defaults.get("client", {}), **raw.get("client", {})},
        request={**defaults.get("request", {}), **raw.get("request", {})},
        take=raw.get("take"),
        cancel=raw.get("cancel"),
        requires=tuple(raw.get("requires", ())),
        steps=tuple(raw["steps"]),
        expect=raw.get("expect", {}),
        file=str(path),
        pointer=pointer,
        contracts=tuple(raw.get("contracts") or defaults.get("contracts") or DEFAULT_CONTRACTS),
        source_line=line,
    )


def _check(case: Case, operations: dict[str, Operation], contract: str = "openapi") -> None:
    """What the schema cannot say: the operation exists and fits the mode, the scenario parses."""

    def fail(sub: str, message: str, hint: str = "") -> None:
        raise CaseError(case.file, case.pointer + sub, f"case {case.id}: {message}", hint)

    operation = operations.get(case.operation)
    if operation is None:
        close = difflib.get_close_matches(case.operation, list(operations), n=1)
        hint = f"did you mean {close[0]!r}?" if close else "name the contract's operationId"
        if contract != "openapi":
            hint += f" (the case applies to the {contract} contract: see its `contracts`)"
        fail("/operation", f"operation {case.operation!r} is not in the {contract} contract", hint)
        return
    if case.mode in ("pages", "items") and not operation.paginated:
        fail("/mode", f"mode {case.mode!r} needs a paginated operation; {operation.id} is not one")
    if case.mode == "stream" and not operation.streaming:
        fail("/mode", f"mode 'stream' needs a streaming operation; {operation.id} is not one")
    if case.take is not None and case.mode == "call":
        fail("/take", "take applies to the pages, items and stream modes")
    if case.cancel and "after_events" in case.cancel and case.mode != "stream":
        fail("/cancel", "cancel.after_events applies to mode 'stream'")
    try:
        parse_scenario(case.scenario())
    except ValueError as exc:
        fail("/steps", f"the scenario is malformed: {exc}")
    expect = case.expect
    outcome = expect.get("outcome", "ok")
    if outcome == "ok" and "error" in expect:
        fail("/expect/error", "an expected error needs outcome: error")
    if outcome == "error" and "error" not in expect:
        fail("/expect", "outcome: error needs an error: {kind: ...}")
    if outcome == "ok" and case.mode == "call" and "value" not in expect and not case.steps:
        fail("/expect", "a call with no steps has no response to derive the value from; give value")


def load_cases(
    paths: list[Path],
    operations: dict[str, Operation],
    by_contract: dict[str, dict[str, Operation]] | None = None,
) -> list[Case]:
    """Every case of the given files and directories (their *.yaml), in name order; ids unique.

    Cases are returned as the files name them (OpenAPI ids); `Case.for_contract` gives a case as
    another contract's profile runs it. `by_contract` names the operations of each contract to
    check the cases against (default: `operations` for the OpenAPI contract)."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += sorted(path.glob("*.yaml"))
        elif path.exists():
            files.append(path)
        else:
            raise CaseError(path, "", "no such case file or directory")
    if not files:
        raise CaseError(paths[0] if paths else CASES_DIR, "", "no case files (*.yaml) found")
    seen: dict[str, Case] = {}
    for file in files:
        for case in load_file(file, operations, by_contract):
            if case.id in seen:
                first = seen[case.id]
                raise CaseError(
                    case.file,
                    case.pointer + "/name",
                    f"case {case.id} is defined twice (first at {first.where})",
                    "case names are stable identifiers; rename one",
                )
            seen[case.id] = case
    return list(seen.values())


def substitute(value: Any, mock_url: str) -> Any:
    """`{mock}` in strings replaced by the case's mock URL (client base URLs and env values)."""
    if isinstance(value, str):
        return value.replace(MOCK_PLACEHOLDER, mock_url)
    if isinstance(value, dict):
        return {key: substitute(item, mock_url) for key, item in value.items()}
    return value
