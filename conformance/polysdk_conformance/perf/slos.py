"""SLOs as data: perf/slos.yaml, checked against slos.schema.json on load.

A file `polysdk slo` cannot use is an SloFileError: one located message (file:line at #/pointer,
what is wrong, what to do), exit 2. Nothing here talks to Prometheus."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from polysdk.pointers import LocatedFileError, join_pointer

SCHEMA_PATH = Path(__file__).with_name("slos.schema.json")
DEFAULT_PATH = Path("perf") / "slos.yaml"  # relative to the project, like the conformance lists
MAX_POINTS = 11_000  # Prometheus refuses a range query of more points per series
_UNITS = {"y": 365 * 86400, "w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1, "ms": 0.001}
_DURATION = re.compile(r"([0-9]+)(ms|y|w|d|h|m|s)")
# The fields each kind of SLO takes (the schema requires them; the others would be ignored silently).
FIELDS = {
    "availability": {"objective"},
    "latency": {"objective", "threshold"},
    "quantile": {"quantile", "threshold"},
}


class SloFileError(LocatedFileError):
    """An SLO file `polysdk slo` cannot use; printed as one located message, exit code 2."""


@dataclass(frozen=True)
class Duration:
    """A Prometheus duration, kept as written (for PromQL) and in seconds (for arithmetic)."""

    text: str
    seconds: float

    @classmethod
    def parse(cls, text: str) -> Duration:
        return cls(text, sum(int(count) * _UNITS[unit] for count, unit in _DURATION.findall(text)))


@dataclass(frozen=True)
class Metrics:
    requests: str  # counter {operation, status, ...}
    duration: str  # histogram {operation, ...}: <duration>_bucket and <duration>_count
    operation_label: str
    status_label: str
    bad_status: str  # RE2 on status_label: the requests that are not good


@dataclass(frozen=True)
class Group:
    """Operations judged together: a list of operation ids or a regular expression on the label."""

    name: str
    operations: tuple[str, ...]
    match: str | None

    def pattern(self) -> str:
        """An RE2 pattern for the operation label (Prometheus anchors it at both ends)."""
        return self.match if self.match is not None else "|".join(re.escape(op) for op in self.operations)


@dataclass(frozen=True)
class Alert:
    name: str
    long: Duration
    short: Duration
    factor: float


@dataclass(frozen=True)
class Slo:
    name: str
    group: Group
    kind: str  # one of KINDS
    window: Duration
    objective: float | None  # availability and latency: a ratio of good requests
    threshold: float | None  # seconds; latency: a bucket bound, quantile: the bound on the quantile
    quantile: float | None  # quantile: e.g. 0.99


@dataclass(frozen=True)
class SloFile:
    path: Path
    metrics: Metrics
    evaluation_interval: Duration
    alerts: tuple[Alert, ...]
    slos: tuple[Slo, ...]


@cache
def _validator() -> Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def load(path: Path) -> SloFile:
    """The SLOs of `path`; SloFileError at the first problem."""
    data = _read(path)
    error = best_match(_validator().iter_errors(data))
    if error is not None:
        raise SloFileError(
            path,
            join_pointer("", *error.absolute_path),
            error.message,
            f"see {SCHEMA_PATH.name} (next to polysdk_conformance/perf/slos.py) and README.md (SLOs)",
        )
    metrics = Metrics(**data["metrics"])
    _check_pattern(path, "/metrics/bad_status", metrics.bad_status)
    groups = {name: _group(path, name, raw) for name, raw in data["groups"].items()}
    interval = _duration(path, "/evaluation_interval", data["evaluation_interval"])
    alerts = tuple(_alert(path, f"/alerts/{index}", raw) for index, raw in enumerate(data["alerts"]))
    _unique(path, "/alerts", [alert.name for alert in alerts], "alert")
    slos = tuple(
        _slo(path, f"/slos/{index}", raw, groups, interval) for index, raw in enumerate(data["slos"])
    )
    _unique(path, "/slos", [slo.name for slo in slos], "SLO")
    return SloFile(path, metrics, interval, alerts, slos)


def _read(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SloFileError(path, "", f"cannot read the SLO file: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise SloFileError(f"{path}{line}", "", f"invalid YAML: {problem}", "fix the syntax error") from None


def _group(path: Path, name: str, raw: dict[str, Any]) -> Group:
    group = Group(name, tuple(raw.get("operations", ())), raw.get("match"))
    if group.match is not None:
        _check_pattern(path, f"/groups/{name}/match", group.match)
    return group


def _alert(path: Path, pointer: str, raw: dict[str, Any]) -> Alert:
    long, short = (
        _duration(path, f"{pointer}/long", raw["long"]),
        _duration(path, f"{pointer}/short", raw["short"]),
    )
    alert = Alert(raw["name"], long, short, raw["factor"])
    if alert.short.seconds >= alert.long.seconds:
        raise SloFileError(
            path,
            f"{pointer}/short",
            f"alert {alert.name}: the short window ({alert.short.text}) must be shorter than the long one "
            f"({alert.long.text})",
            "the SRE workbook's pairs are 1/12 of each other, e.g. 1h and 5m",
        )
    return alert


def _slo(path: Path, pointer: str, raw: dict[str, Any], groups: dict[str, Group], interval: Duration) -> Slo:
    if raw["group"] not in groups:
        raise SloFileError(
            path,
            f"{pointer}/group",
            f"SLO {raw['name']}: no operation group {raw['group']!r}",
            f"the groups are: {', '.join(sorted(groups))}",
        )
    for field in sorted({"objective", "threshold", "quantile"} - FIELDS[raw["kind"]]):
        if field in raw:
            raise SloFileError(
                path,
                f"{pointer}/{field}",
                f"SLO {raw['name']} ({raw['kind']}) takes no {field}",
                f"{raw['kind']} SLOs take {' and '.join(sorted(FIELDS[raw['kind']]))}",
            )
    window = _duration(path, f"{pointer}/window", raw["window"])
    if window.seconds / interval.seconds > MAX_POINTS:
        raise SloFileError(
            path,
            f"{pointer}/window",
            f"SLO {raw['name']}: a {window.text} window evaluated every {interval.text} is more than "
            f"{MAX_POINTS} points, which Prometheus refuses in one range query",
            "raise evaluation_interval or shorten the window",
        )
    return Slo(
        name=raw["name"],
        group=groups[raw["group"]],
        kind=raw["kind"],
        window=window,
        objective=raw.get("objective"),
        threshold=raw.get("threshold"),
        quantile=raw.get("quantile"),
    )


def _duration(path: Path, pointer: str, text: str) -> Duration:
    duration = Duration.parse(text)
    if duration.seconds <= 0:
        raise SloFileError(path, pointer, f"a duration of {text} is empty; Prometheus needs it longer than 0")
    return duration


def _check_pattern(path: Path, pointer: str, pattern: str) -> None:
    # Python's re stands in for Prometheus's RE2 here; the two agree on the patterns labels need.
    try:
        re.compile(pattern)
    except re.error as exc:
        raise SloFileError(path, pointer, f"invalid regular expression {pattern!r}: {exc}") from None


def _unique(path: Path, pointer: str, names: list[str], what: str) -> None:
    for index, name in enumerate(names):
        if name in names[:index]:
            raise SloFileError(path, f"{pointer}/{index}/name", f"{what} {name} is defined twice")
