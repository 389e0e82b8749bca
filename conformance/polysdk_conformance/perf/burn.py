"""Error-budget arithmetic on plain numbers, as in the Google SRE workbook ("Alerting on SLOs").

An objective of 99% leaves an error budget of 1% of requests. The burn rate is how fast a window
spends it: an error ratio of 10% burns at 10x, which would spend a 30-day budget in 3 days. A
multi-window alert fires when both its long and its short window burn faster than its factor: the
long window proves the burn is significant, the short one that it is still happening."""

from __future__ import annotations

import math
from collections.abc import Mapping


def error_ratio(good: float, total: float) -> float | None:
    """The fraction of bad requests, or None when there were none at all (no evidence either way)."""
    if math.isnan(good) or math.isnan(total) or total <= 0:
        return None
    # Prometheus extrapolates each series' increase on its own, so a histogram bucket can come out a
    # hair above its _count: a ratio past 1 is that rounding, not better than perfect.
    return max(0.0, 1.0 - good / total)


def burn_rate(errors: float, objective: float) -> float:
    """How many times faster than the objective allows the budget is spent (1.0: exactly on budget)."""
    return errors / (1.0 - objective)


def budget_remaining(errors: float, objective: float) -> float:
    """The fraction of the window's error budget left; negative once the objective is missed."""
    return 1.0 - burn_rate(errors, objective)


def fires(long_burn: float | None, short_burn: float | None, factor: float) -> bool:
    """Whether a multi-window alert fires: both windows burn faster than `factor`."""
    return long_burn is not None and short_burn is not None and long_burn > factor and short_burn > factor


def first_firing(
    long_burns: Mapping[float, float | None], short_burns: Mapping[float, float | None], factor: float
) -> float | None:
    """The first evaluation time (Unix seconds) at which the alert fires, or None if it never does."""
    return next((at for at in sorted(long_burns) if fires(long_burns[at], short_burns.get(at), factor)), None)
