"""The public names of the evaluator and writer modules are fixed (pymia 0.3.4's names plus the new ones)."""

from __future__ import annotations

import pymia.evaluation.evaluator as evaluator
import pymia.evaluation.writer as writer


def test_writer_names():
    assert sorted(writer.__all__) == sorted(
        [
            # pymia 0.3.4
            "Writer",
            "CSVWriter",
            "ConsoleWriter",
            "CSVStatisticsWriter",
            "ConsoleStatisticsWriter",
            "StatisticsAggregator",
            # new
            "BoxPlotWriter",
            "DataFrameWriter",
            "JSONWriter",
            "to_dataframe",
        ]
    )
    for name in writer.__all__:
        assert getattr(writer, name).__module__.startswith("pymia.evaluation.writer")


def test_evaluator_names():
    assert sorted(evaluator.__all__) == sorted(
        [
            # pymia 0.3.4
            "Result",
            "Evaluator",
            "SegmentationEvaluator",
            # new
            "ContinuousEvaluator",
            "ImageLike",
            "Label",
            "present_labels",
        ]
    )
