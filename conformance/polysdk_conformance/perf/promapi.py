"""A small client of the Prometheus HTTP API (`/api/v1/query`, `/api/v1/query_range`).

Any way of not getting an answer — a refused connection, a timeout, an HTTP error, an answer that
is not Prometheus's JSON — is a PrometheusError: callers report it and exit 2, never pass."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests

TIMEOUT_S = 10.0


class PrometheusError(Exception):
    """Prometheus could not be reached or refused a query."""


@dataclass(frozen=True)
class Sample:
    """One element of an instant vector; values arrive as strings ("0.5", "NaN", "+Inf")."""

    labels: dict[str, str]
    value: float


@dataclass(frozen=True)
class Series:
    labels: dict[str, str]
    points: dict[float, float]  # evaluation time (Unix seconds) -> value


class PrometheusApi:
    def __init__(self, url: str, timeout: float = TIMEOUT_S) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self._session = requests.Session()

    def close(self) -> None:
        self._session.close()

    def ready(self) -> bool:
        """Whether `/-/ready` answers 200 (the server has loaded its storage and serves queries)."""
        try:
            return self._session.get(f"{self.url}/-/ready", timeout=self.timeout).status_code == 200
        except requests.RequestException:
            return False

    def query(self, expr: str, at: float) -> list[Sample]:
        """An instant vector evaluated at Unix time `at`."""
        data = self._post("query", {"query": expr, "time": f"{at:.3f}"})
        return [Sample(item["metric"], float(item["value"][1])) for item in self._vector(data, expr)]

    def query_range(self, expr: str, start: float, end: float, step: float) -> list[Series]:
        """`expr` evaluated every `step` seconds from `start` to `end` (a matrix)."""
        data = self._post(
            "query_range", {"query": expr, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": f"{step:g}"}
        )
        if data.get("resultType") != "matrix":
            raise PrometheusError(f"{self.url}: expected a matrix for {expr!r}, got {data.get('resultType')}")
        return [
            Series(item["metric"], {round(float(t), 3): float(v) for t, v in item["values"]})
            for item in data["result"]
        ]

    def _vector(self, data: dict[str, Any], expr: str) -> list[dict[str, Any]]:
        if data.get("resultType") != "vector":
            raise PrometheusError(f"{self.url}: expected a vector for {expr!r}, got {data.get('resultType')}")
        result: list[dict[str, Any]] = data["result"]
        return result

    def _post(self, endpoint: str, form: dict[str, str]) -> dict[str, Any]:
        # POST: the form may carry long expressions, which a GET URL could truncate.
        url = f"{self.url}/api/v1/{endpoint}"
        try:
            response = self._session.post(url, data=form, timeout=self.timeout)
        except requests.RequestException as exc:
            raise PrometheusError(
                f"cannot reach Prometheus at {self.url}: is it running and listening there?\n  detail: {exc}"
            ) from None
        try:
            body = response.json()
        except ValueError:
            raise PrometheusError(
                f"{url} answered HTTP {response.status_code} without Prometheus's JSON: is it a Prometheus?"
            ) from None
        if not isinstance(body, dict) or body.get("status") != "success":
            error = body.get("error", body) if isinstance(body, dict) else body
            raise PrometheusError(f"{url} refused {form['query']!r} (HTTP {response.status_code}): {error}")
        data: dict[str, Any] = body["data"]
        return data
