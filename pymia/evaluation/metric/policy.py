"""The edge-case policy shared by all metrics: an undefined value is ``nan`` plus a warning.

pymia 0.3.4 returned a mix of sentinels (±inf, −1, 0, 1) for undefined metrics; here every metric
returns ``float('nan')`` and emits one :class:`~pymia.errors.NotComputableMetricWarning` that says
which metric and why. The table of cases is in the metrics reference of the user guide.
"""

from __future__ import annotations

import warnings

from pymia.errors import NotComputableMetricWarning

__all__ = ["not_computable"]


def not_computable(metric: str, reason: str) -> float:
    """Warn that ``metric`` is undefined for the given inputs and return ``nan``.

    Parameters
    ----------
    metric : str
        Name of the metric (function name or metric id), shown in the warning.
    reason : str
        Why the value is undefined, e.g. ``'the reference is empty'``.

    Returns
    -------
    float
        ``nan``.
    """
    warnings.warn(
        f"{metric} is not defined because {reason}; returning nan.",
        NotComputableMetricWarning,
        stacklevel=3,
    )
    return float("nan")
