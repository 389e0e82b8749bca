"""Validation that informs, not blocks (issue 14, section 1): a contract openapi-spec-validator
faults but the front end can read generates, with every fault a located warning; --strict makes
them errors; a contract the builder cannot read is one located error."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from polysdk import ir
from polysdk.errors import ContractError, StrictWarningsError
from polysdk.frontends import open_contract, read_api
from polysdk.frontends.openapi import validation
from polysdk.frontends.openapi.document import read_contract
from polysdk.generate import Request, generate
from polysdk.plan import Options

# The faults the issue names, each on a line of its own.
FAULTY = """\
openapi: 3.0.3
info: {title: Faulty, version: "1", license: {name: MIT}}
paths:
  /items/{id}:
    parameters:
      - {name: id, in: path, required: true, schema: {type: string}}
    get:
      operationId: getItem
      responses:
        "200":
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Item'}
components:
  schemas:
    Item:
      type: object
      required: [id, id]
      properties:
        id: {type: string, example: 12}
        note: {type: [string, "null"]}
"""

SCHEMA = "OpenAPI 3.0.3 schema"


def _expected(path: Path) -> list[str]:
    return [
        f"{path}:11 at #/paths/~1items~1{{id}}/get/responses/200: {SCHEMA}: "
        "'description' is a required property",
        f"{path}:18 at #/components/schemas/Item/required: {SCHEMA}: ['id', 'id'] has non-unique elements",
        f"{path}:21 at #/components/schemas/Item/properties/note/type: {SCHEMA}: "
        "['string', 'null'] is not of type 'string'",
    ]


@pytest.fixture
def faulty(tmp_path: Path) -> Path:
    path = tmp_path / "faulty.yaml"
    path.write_text(FAULTY, encoding="utf-8")
    return path


def test_every_fault_is_one_located_warning_in_document_order(faulty: Path) -> None:
    # The duplicate `required` is reported twice by openapi-spec-validator (by its schema and by
    # its keyword checks, the second without a place): once here.
    assert [str(f) for f in validation.validate(read_contract(faulty))] == _expected(faulty)


def test_a_faulted_contract_still_reads_as_its_author_meant(faulty: Path) -> None:
    api = read_api(faulty)
    (operation,) = api.operations
    assert [p.wire_name for p in operation.params] == ["id"]  # declared at path level only
    item = api.types_by_name["Item"].definition
    assert isinstance(item, ir.ObjectDef)
    assert [(f.wire_name, f.required) for f in item.fields] == [("id", True), ("note", False)]
    assert item.fields[1].type == ir.Nullable(ir.PrimitiveType(ir.Prim.STRING))  # the 3.1 spelling


def test_the_cli_generates_and_lists_every_warning_with_a_count(faulty: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    go = ["--lang", "go", "--go-module", "example.com/faulty"]  # the faults are the only warnings
    result = subprocess.run(
        [sys.executable, "-m", "polysdk", "generate", str(faulty), "--out", str(out), *go],
        capture_output=True,
        text=True,
        check=False,
        env=dict(os.environ),
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [
        *(f"warning: {w}" for w in _expected(faulty)),
        "3 warnings (--strict makes them errors)",
    ]
    assert (out / "go" / "client.go").is_file()


def test_strict_refuses_before_writing_anything(faulty: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    options = Options(go_module="example.com/faulty")
    request = Request(spec=faulty, out_dir=out, languages=("go",), options=options, strict=True)
    with pytest.raises(StrictWarningsError) as caught:
        generate(request)
    assert caught.value.warnings == _expected(faulty)
    assert not out.exists()


def test_validation_uses_the_parsed_document_not_the_file(faulty: Path) -> None:
    reading = open_contract(faulty)
    # The child validates what the parent parsed: the file is not read again.
    faulty.write_text("this: [is not, an OpenAPI contract\n", encoding="utf-8")
    assert reading.finish()[:3] == _expected(faulty)


def test_a_contract_the_builder_cannot_read_is_one_located_error(tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(
        'openapi: 3.0.3\ninfo: {title: T, version: "1"}\npaths:\n  /a: {get: {responses: 7}}\n'
        "components: {schemas: {A: {required: 5}}}\n",
        encoding="utf-8",
    )
    with pytest.raises(ContractError) as caught:
        read_api(path)
    error = caught.value
    assert str(error.location) == f"{path}:4 at #/paths/~1a/get/responses"
    assert error.message == f"{SCHEMA}: 7 is not of type 'object'"
    assert "2 more faults" in error.hint


def test_a_validator_crash_is_a_warning_not_a_traceback(
    faulty: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    def crash(contract: object) -> list[validation.Finding]:
        os._exit(3)  # as a segfault in a native backend would: no exception, no message

    monkeypatch.setattr(validation, "validate", crash)
    (finding,) = validation.start_validation(read_contract(faulty))()
    assert str(finding) == (
        f"{faulty}: the validator process died (exit code 3); the contract was generated without validation"
    )
    monkeypatch.setattr(validation, "validate", lambda contract: 1 / 0)
    (finding,) = validation.start_validation(read_contract(faulty))()
    assert "the validator failed (ZeroDivisionError: division by zero)" in finding.message
    assert "Traceback" not in capfd.readouterr().err


def test_a_validator_that_never_finishes_is_stopped(faulty: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    never = threading.Event()
    monkeypatch.setattr(validation, "validate", lambda contract: never.wait())
    monkeypatch.setattr(validation, "VALIDATION_TIMEOUT", 0.2)
    (finding,) = validation.start_validation(read_contract(faulty))()
    assert finding.message.startswith("validation did not finish within 0.2 s")


def _findings_of(path: Path) -> list[str]:
    reading = open_contract(path)
    warnings = reading.finish()
    return [w for w in warnings if SCHEMA in w]


def test_findings_are_kept_and_an_unchanged_contract_is_not_validated_again(
    faulty: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POLYSDK_CACHE_DIR", str(tmp_path / "cache"))
    assert _findings_of(faulty) == _expected(faulty)
    (entry,) = (tmp_path / "cache" / "validation").iterdir()

    def no_validation(*_: object) -> None:
        raise AssertionError("validated again")

    with monkeypatch.context() as patched:
        patched.setattr(multiprocessing, "get_context", no_validation)
        patched.setattr(validation, "validate", no_validation)
        assert _findings_of(faulty) == _expected(faulty), "the kept findings, word for word"
    # An edited contract is validated again; a damaged entry is a miss.
    faulty.write_text(FAULTY.replace("required: [id, id]", "required: [id]"), encoding="utf-8")
    assert len(_findings_of(faulty)) == 2
    entries = set((tmp_path / "cache" / "validation").iterdir())
    assert entry in entries and len(entries) == 2, "each text is kept under its own entry"
    for damaged in ("", "{not json", '{"documents": {}, "findings": [[1]]}'):
        for kept in (tmp_path / "cache" / "validation").iterdir():
            kept.write_text(damaged, encoding="utf-8")
        assert len(_findings_of(faulty)) == 2


def test_a_kept_verdict_is_dropped_when_a_referenced_file_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POLYSDK_CACHE_DIR", str(tmp_path / "cache"))
    main = tmp_path / "api.yaml"
    main.write_text(
        FAULTY.split("components:")[0].replace("#/components/schemas/Item", "item.yaml"), encoding="utf-8"
    )
    item = tmp_path / "item.yaml"
    item.write_text("type: object\nrequired: [id, id]\nproperties: {id: {type: string}}\n", encoding="utf-8")
    first = _findings_of(main)
    assert any("non-unique" in w for w in first)
    assert _findings_of(main) == first
    item.write_text("type: object\nrequired: [id]\nproperties: {id: {type: string}}\n", encoding="utf-8")
    assert not any("non-unique" in w for w in _findings_of(main)), "the referenced file was read again"


def test_contracts_that_may_fetch_remote_references_are_never_kept(faulty: Path, tmp_path: Path) -> None:
    from polysdk.frontends.openapi import validation_cache

    local = read_contract(faulty)
    remote = read_contract(faulty, allow_remote_refs=True)
    assert validation_cache.entry_for(local, tmp_path) is not None
    assert validation_cache.entry_for(remote, tmp_path) is None
