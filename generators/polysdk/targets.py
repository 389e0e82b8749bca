"""The languages polysdk generates, by name, each with the view module that plans its files."""

from __future__ import annotations

from collections.abc import Callable

from polysdk import ir
from polysdk.plan import LanguagePlan, Options
from polysdk.views import go, rust, typescript

Planner = Callable[[ir.Api, Options], LanguagePlan]

TARGETS: dict[str, Planner] = {
    "go": go.plan,
    "rust": rust.plan,
    "typescript": typescript.plan,
}
