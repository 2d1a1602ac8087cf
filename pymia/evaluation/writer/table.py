"""Arrange evaluation results as a table: one row per (subject, label), one column per metric.

Every writer that produces a wide table (CSV, console, wide DataFrame) builds it here, in one pass
over the results, so no writer searches the result list per cell.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np

from pymia.errors import InvalidInputError

if TYPE_CHECKING:
    from pymia.evaluation.evaluator import Result

__all__ = ["ResultTable", "format_full_precision"]


class ResultTable:
    """Results as rows ``(id_, label)`` × columns ``metric``, in order of first appearance.

    Parameters
    ----------
    results : iterable of Result
        The results to arrange. Rows and metric columns keep the order in which they first appear,
        which is the order of evaluation and of the evaluator's metrics.

    Raises
    ------
    InvalidInputError
        If two results have the same subject, label and metric (e.g. a subject evaluated twice without
        :meth:`~pymia.evaluation.evaluator.Evaluator.clear`).

    Attributes
    ----------
    metrics : list of str
        The metric ids (columns), in order of first appearance.
    rows : dict
        Maps ``(id_, label)`` to a dict ``metric → value``; a metric absent from a row has no entry.
    """

    def __init__(self, results: Iterable[Result]) -> None:
        self.rows: dict[tuple[str, str], dict[str, object]] = {}
        metrics: dict[str, None] = {}
        for result in results:
            row = self.rows.setdefault((result.id_, result.label), {})
            if result.metric in row:
                raise InvalidInputError(
                    f"two results for subject {result.id_!r}, label {result.label!r}, metric {result.metric!r} "
                    f"(values {row[result.metric]!r} and {result.value!r}); give every subject a unique id and "
                    "call evaluator.clear() before evaluating a subject again"
                )
            row[result.metric] = result.value
            metrics.setdefault(result.metric, None)
        self.metrics: list[str] = list(metrics)

    def __len__(self) -> int:
        return len(self.rows)


def format_full_precision(value: object) -> str:
    """Format a value for a text file without losing precision.

    Floats are written with the shortest representation that reads back to the same number
    (``repr``), so ``nan`` and ``inf`` appear as such; integers as integers; ``None`` (a metric that
    was not computed for this row) as an empty string.
    """
    if value is None:
        return ""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(value)
    return repr(number)
