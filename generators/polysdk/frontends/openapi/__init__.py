"""The OpenAPI 3.0/3.1 front end: a contract file in, the IR out."""

from polysdk.frontends.openapi.builder import build_api
from polysdk.frontends.openapi.document import load_contract

__all__ = ["build_api", "load_contract"]
