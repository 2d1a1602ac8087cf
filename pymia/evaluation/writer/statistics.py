"""Summary statistics over subjects: per label and metric, e.g. mean and standard deviation.

The results of the aggregator are :class:`~pymia.evaluation.evaluator.Result` objects whose ``id_``
is the statistic's name (as in pymia 0.3.4), so the writers and the TensorBoard helper take them.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterable, Mapping

import numpy as np

from pymia.errors import InvalidInputError
from pymia.evaluation.evaluator import Result

__all__ = ["DEFAULT_FUNCTIONS", "StatisticsAggregator", "count", "mean", "standard_deviation"]

StatisticFunction = Callable[[np.ndarray], float]


def mean(values: np.ndarray) -> float:
    """Arithmetic mean; ``nan`` for no values."""
    return float(np.mean(values)) if values.size else math.nan


def standard_deviation(values: np.ndarray) -> float:
    """Population standard deviation (``ddof=0``, as ``numpy.std`` and pymia 0.3.4); ``nan`` for no values."""
    return float(np.std(values)) if values.size else math.nan


def count(values: np.ndarray) -> float:
    """Number of values the statistics were computed over (the defined ones when ``nan`` are ignored)."""
    return float(values.size)


DEFAULT_FUNCTIONS: Mapping[str, StatisticFunction] = {"MEAN": mean, "STD": standard_deviation, "COUNT": count}
"""The statistics computed when none are given: ``MEAN``, ``STD`` and ``COUNT``."""


class StatisticsAggregator:
    """Aggregate results over subjects into statistics per label and metric.

    Parameters
    ----------
    functions : mapping of str to callable, optional
        Statistic name → function of a 1-D float array returning a float. Default
        :data:`DEFAULT_FUNCTIONS`: ``MEAN``, ``STD`` (population) and ``COUNT``.
    ignore_nan : bool, keyword-only
        If true (default), undefined values (``nan``) are left out before a function is applied and
        ``COUNT`` says how many values remained; this matches the mean-over-defined-values reduction
        of MONAI. If false, every function sees all values and one ``nan`` makes ``MEAN`` ``nan``
        (pymia 0.3.4's behaviour).

    Examples
    --------
    >>> from pymia.evaluation.evaluator import Result
    >>> results = [Result("a", "WM", "DICE", 0.8), Result("b", "WM", "DICE", 0.9),
    ...            Result("c", "WM", "DICE", float("nan"))]
    >>> [(r.id_, round(r.value, 3)) for r in StatisticsAggregator().calculate(results)]
    [('MEAN', 0.85), ('STD', 0.05), ('COUNT', 2.0)]
    """

    def __init__(self, functions: Mapping[str, StatisticFunction] | None = None, *, ignore_nan: bool = True) -> None:
        functions = dict(DEFAULT_FUNCTIONS if functions is None else functions)
        if not functions:
            raise InvalidInputError("functions is empty; give at least one, e.g. {'MEAN': numpy.mean}")
        for name, function in functions.items():
            if not callable(function):
                raise InvalidInputError(f"statistic {name!r} is {function!r}, not a function of an array")
        self.functions: dict[str, StatisticFunction] = functions
        self.ignore_nan = ignore_nan

    def calculate(self, results: Iterable[Result]) -> list[Result]:
        """Compute the statistics of ``results`` over subjects.

        Parameters
        ----------
        results : iterable of Result
            Results of an evaluator. Results whose value is not a number (e.g. text) are skipped.

        Returns
        -------
        list of Result
            One result per label, metric and statistic, with ``id_`` set to the statistic's name; labels
            and metrics in order of first appearance, statistics in the order of ``functions``.
        """
        groups: dict[tuple[str, str], list[float]] = {}
        for result in results:
            try:
                value = float(result.value)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                continue
            groups.setdefault((result.label, result.metric), []).append(value)

        statistics = []
        for (label, metric), values in groups.items():
            array = np.asarray(values, dtype=np.float64)
            if self.ignore_nan:
                array = array[~np.isnan(array)]
            for name, function in self.functions.items():
                with warnings.catch_warnings():
                    # numpy warns on the statistics of an empty or all-nan array; the value (nan) says it.
                    warnings.simplefilter("ignore", RuntimeWarning)
                    value = float(function(array))
                statistics.append(Result(name, label, metric, value))
        return statistics
