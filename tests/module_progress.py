"""pytest's default output as one line per test module, with its counts and time, instead of a dot
per test: the whole suite runs for many minutes, and a page of dots says nothing about where it
is. Failures, errors and skips keep their letters (F, E, s) on the module's line, and the usual
failure reports follow the run. Only the default verbosity changes: `-q` keeps the dots, `-v` the
line per test; `-p no:module-progress` turns it off."""

from __future__ import annotations

import time
from collections import Counter

import pytest

NAME = "module-progress"
ORDER = ("passed", "failed", "error", "skipped", "xfailed", "xpassed")


def register(config: pytest.Config) -> None:
    """Registers the plugin when pytest prints its default progress (verbosity 0)."""
    if config.get_verbosity() == 0:
        config.pluginmanager.register(ModuleProgress(config), NAME)


def _module(nodeid: str) -> str:
    return nodeid.split("::")[0]


def _outcome(report: pytest.TestReport) -> str | None:
    """What one phase's report counts as (None: nothing, e.g. a passed setup)."""
    if hasattr(report, "wasxfail"):
        return "xfailed" if report.skipped else "xpassed" if report.when == "call" else None
    if report.when == "call":
        return report.outcome
    if report.failed:
        return "error"
    return "skipped" if report.skipped else None


class ModuleProgress:
    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.last_item: dict[str, str] = {}  # module -> the node id of its last test
        self.counts: dict[str, Counter[str]] = {}
        self.started: dict[str, float] = {}

    @pytest.hookimpl(tryfirst=True)
    def pytest_report_teststatus(self, report: pytest.TestReport) -> tuple[str, str, str] | None:
        if report.when == "call" and report.passed and not hasattr(report, "wasxfail"):
            return "passed", "", "PASSED"  # counted as usual, but no dot
        return None

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        for item in session.items:
            self.last_item[_module(item.nodeid)] = item.nodeid

    def pytest_runtest_logstart(self, nodeid: str) -> None:
        self.started.setdefault(_module(nodeid), time.monotonic())

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        outcome = _outcome(report)
        if outcome is not None:
            self.counts.setdefault(_module(report.nodeid), Counter())[outcome] += 1

    def pytest_runtest_logfinish(self, nodeid: str) -> None:
        module = _module(nodeid)
        if self.last_item.get(module) != nodeid:
            return
        counts = self.counts.get(module, Counter())
        text = ", ".join(f"{counts[key]} {key}" for key in ORDER if counts[key]) or "nothing ran"
        # Reported, not asserted: how long the module took, so a slow one stands out.
        elapsed = time.monotonic() - self.started.get(module, time.monotonic())
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is None:  # -p no:terminal
            return
        lettered = sum(counts.values()) > counts["passed"]  # F, E, s... were written after the path
        failed = bool(counts["failed"] or counts["error"])
        reporter.write(f"{' ' if lettered else ''}{text} in {elapsed:.1f} s", red=failed)
