"""polysdk's conformance kit: the mock orchestrator that plays scripted scenarios and journals what
every SDK sent (the runner and the drivers build on it)."""

from polysdk_conformance.mock import MockServer
from polysdk_conformance.scenario import Scenario, parse_scenario

__all__ = ["MockServer", "Scenario", "parse_scenario"]
