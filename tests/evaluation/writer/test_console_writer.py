"""ConsoleWriter and ConsoleStatisticsWriter: aligned tables, precision, logging."""

from __future__ import annotations

import io
import logging

import pytest

from pymia.errors import InvalidInputError
from pymia.evaluation.evaluator import Result
from pymia.evaluation.writer import ConsoleStatisticsWriter, ConsoleWriter

RESULTS = [
    Result("SUBJECT_1", "WM", "DICE", 0.123456),
    Result("SUBJECT_1", "WM", "HDRFDST95", float("nan")),
    Result("S2", "GRAYMATTER", "DICE", 1.0),
    Result("S2", "GRAYMATTER", "HDRFDST95", 12.5),
]


def test_table_is_aligned_and_rounded():
    stream = io.StringIO()
    ConsoleWriter(precision=2, stream=stream).write(RESULTS)
    lines = stream.getvalue().splitlines()
    assert lines == [
        "SUBJECT    LABEL       DICE  HDRFDST95",
        "SUBJECT_1  WM          0.12  nan",
        "S2         GRAYMATTER  1.00  12.50",
    ]


def test_default_prints_to_stdout(capsys):
    ConsoleWriter().write(RESULTS[:1])
    assert "0.123" in capsys.readouterr().out


def test_use_logging_sends_lines_to_the_pymia_logger(caplog):
    with caplog.at_level(logging.INFO, logger="pymia.evaluation"):
        ConsoleWriter(use_logging=True).write(RESULTS)
    assert len(caplog.records) == 3 and caplog.records[0].name == "pymia.evaluation"


def test_statistics_table():
    stream = io.StringIO()
    ConsoleStatisticsWriter(precision=1, functions={"MEAN": lambda v: v.mean()}, stream=stream).write(RESULTS)
    lines = stream.getvalue().splitlines()
    assert lines[0].split() == ["LABEL", "METRIC", "STATISTIC", "VALUE"]
    assert lines[1].split() == ["WM", "DICE", "MEAN", "0.1"]
    assert lines[2].split() == ["WM", "HDRFDST95", "MEAN", "nan"]  # the only value is undefined
    assert lines[4].split() == ["GRAYMATTER", "HDRFDST95", "MEAN", "12.5"]


@pytest.mark.parametrize("precision", [-1, 1.5])
def test_bad_precision_is_rejected(precision):
    with pytest.raises(InvalidInputError, match="precision"):
        ConsoleWriter(precision=precision)
