"""StatisticsAggregator: 0.3.4's Result-based output, nan handling, order, custom functions."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pymia.errors import InvalidInputError
from pymia.evaluation.evaluator import Result
from pymia.evaluation.writer import StatisticsAggregator


def _results(values_by_label: dict[str, list[float]], metric: str = "DICE") -> list[Result]:
    return [
        Result(f"S{i}", label, metric, value)
        for label, values in values_by_label.items()
        for i, value in enumerate(values)
    ]


def test_default_statistics_match_numpy_over_defined_values(rng):
    """Reference: numpy.mean / numpy.std (ddof=0) of the same values with the nan removed."""
    values = rng.random(11)
    values[[2, 7]] = np.nan
    statistics = StatisticsAggregator().calculate(_results({"WM": list(values)}))
    by_name = {s.id_: s.value for s in statistics}
    defined = values[~np.isnan(values)]
    assert by_name["MEAN"] == pytest.approx(np.mean(defined), rel=1e-14)
    assert by_name["STD"] == pytest.approx(np.std(defined), rel=1e-14)
    assert by_name["COUNT"] == 9


def test_results_carry_the_statistic_name_as_id_and_keep_order():
    results = _results({"WM": [1.0, 2.0], "GM": [3.0]}) + _results({"WM": [0.0]}, metric="JACRD")
    statistics = StatisticsAggregator({"MEAN": np.mean, "MAX": np.max}).calculate(results)
    assert [(s.id_, s.label, s.metric) for s in statistics] == [
        ("MEAN", "WM", "DICE"),
        ("MAX", "WM", "DICE"),
        ("MEAN", "GM", "DICE"),
        ("MAX", "GM", "DICE"),
        ("MEAN", "WM", "JACRD"),
        ("MAX", "WM", "JACRD"),
    ]
    assert [s.value for s in statistics] == [1.5, 2.0, 3.0, 3.0, 0.0, 0.0]


def test_ignore_nan_false_propagates_nan_like_0_3_4():
    statistics = StatisticsAggregator(ignore_nan=False).calculate(_results({"WM": [1.0, float("nan")]}))
    by_name = {s.id_: s.value for s in statistics}
    assert math.isnan(by_name["MEAN"]) and by_name["COUNT"] == 2


def test_all_nan_gives_nan_without_runtime_warning():
    """The custom function (numpy.median) would warn on an empty array; the aggregator must not leak it."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        statistics = StatisticsAggregator({"MEDIAN": np.median, "MEAN": np.mean}).calculate(
            _results({"WM": [float("nan")] * 3})
        )
    assert all(math.isnan(s.value) for s in statistics)


def test_non_numeric_values_are_skipped():
    results = [Result("S1", "WM", "NOTE", "text"), Result("S1", "WM", "DICE", 0.5)]
    assert {s.metric for s in StatisticsAggregator().calculate(results)} == {"DICE"}


@pytest.mark.parametrize("functions", [{}, {"MEAN": 3}])
def test_bad_functions_are_rejected(functions):
    with pytest.raises(InvalidInputError):
        StatisticsAggregator(functions)
