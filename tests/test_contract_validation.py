"""The mock's request validation on published contracts (conformance/polysdk_conformance/contract.py):
what openapi-core cannot judge is a visible `skipped:` note, never a false violation, and the
contract is read as the SDKs were generated from it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from polysdk_conformance.contract import ContractValidator, load_spec

JSON = [("Content-Type", "application/json")]
FORM = [("Content-Type", "application/x-www-form-urlencoded")]


def _contract(paths: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "openapi": "3.0.3",
        "info": {"title": "t", "version": "1"},
        "servers": [{"url": "https://api.example.com/v1"}],
        "paths": paths,
        **extra,
    }


def _get(parameters: list[dict[str, Any]]) -> dict[str, Any]:
    return {"/items": {"get": {"parameters": parameters, "responses": {"200": {"description": "ok"}}}}}


def test_a_deep_object_array_is_a_note_and_a_wrong_flat_one_still_a_violation() -> None:
    validator = ContractValidator(
        _contract(
            _get(
                [
                    {"name": "expand", "in": "query", "style": "deepObject", "explode": True,
                     "schema": {"type": "array", "items": {"type": "string"}}},
                    {"name": "limit", "in": "query", "schema": {"type": "integer"}},
                ]
            )
        )
    )  # fmt: skip
    findings = validator.check("GET", "/items", "expand%5B%5D=a&expand%5B%5D=b", [], b"")
    assert findings.violations == []
    assert any("deepObject 'expand'" in note for note in findings.notes)
    assert validator.check("GET", "/items", "limit=x", [], b"").violations


def test_nested_form_fields_are_a_note() -> None:
    body = {
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "metadata": {"type": "object", "additionalProperties": {"type": "string"}}
                    },
                },
                "encoding": {"metadata": {"style": "deepObject", "explode": True}},
            }
        }
    }
    paths = {"/items": {"post": {"requestBody": body, "responses": {"200": {"description": "ok"}}}}}
    findings = ContractValidator(_contract(paths)).check("POST", "/items", "", FORM, b"metadata%5Bk%5D=v")
    assert findings.violations == []


def test_an_operation_with_servers_of_its_own_is_validated_there() -> None:
    paths = {
        "/files": {
            "post": {
                "servers": [{"url": "https://files.example.com/v1"}],
                "parameters": [
                    {"name": "purpose", "in": "query", "required": True, "schema": {"type": "string"}}
                ],
                "responses": {"200": {"description": "ok"}},
            }
        }
    }
    validator = ContractValidator(_contract(paths))
    assert validator.check("POST", "/files", "purpose=x", [], b"").violations == []
    missing = validator.check("POST", "/files", "", [], b"").violations
    assert missing and "purpose" in missing[0]


def test_a_server_openapi_core_cannot_match_is_a_note() -> None:
    spec = _contract(_get([]), servers=[{"url": "{siteUrl}"}])
    findings = ContractValidator(spec).check("GET", "/items", "", [], b"")
    assert findings.violations == []
    assert any("cannot match the contract's servers" in note for note in findings.notes)


def test_an_openapi_3_0_ref_ignores_its_siblings(tmp_path: Path) -> None:
    """`$ref: Amount` beside `type: number` is an Amount in 3.0, as the SDKs were generated."""
    spec = tmp_path / "api.yaml"
    spec.write_text(
        """
openapi: 3.0.3
info: {title: t, version: '1'}
servers: [{url: 'https://api.example.com'}]
paths:
  /tasks:
    post:
      requestBody:
        content:
          application/json:
            schema:
              type: object
              properties:
                rate: {$ref: '#/components/schemas/Amount', type: number}
      responses: {'200': {description: ok}}
components:
  schemas:
    Amount:
      type: object
      properties: {value: {type: number}}
""",
        encoding="utf-8",
    )
    validator = ContractValidator(load_spec(spec))
    assert validator.check("POST", "/tasks", "", JSON, b'{"rate": {"value": 1.5}}').violations == []
    assert validator.check("POST", "/tasks", "", JSON, b'{"rate": 1.5}').violations


def test_a_contract_that_fails_openapi_validation_is_still_served(tmp_path: Path) -> None:
    """Published contracts with validation faults generate (with warnings); the mock serves them."""
    spec = tmp_path / "api.yaml"
    spec.write_text(
        """
openapi: 3.0.3
info: {title: t, version: '1'}
paths:
  /items:
    get:
      parameters: [{name: q, in: query, schema: {type: string, required: true}}]
      responses: {200: {description: ok}}
""",
        encoding="utf-8",
    )
    assert ContractValidator(load_spec(spec)).check("GET", "/items", "q=x", [], b"").violations == []
