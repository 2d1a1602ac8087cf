"""Writers of evaluation results: CSV, console, statistics, pandas DataFrame, JSON and box plots.

Each writer takes the list of :class:`~pymia.evaluation.evaluator.Result` objects of an evaluator
(``writer.write(evaluator.results)``); the statistics writers summarise them over subjects with a
:class:`StatisticsAggregator`. This is pymia 0.3.4's ``pymia.evaluation.writer`` module, as a package.
"""

from pymia.evaluation.writer.base import Writer
from pymia.evaluation.writer.console_writer import ConsoleStatisticsWriter, ConsoleWriter
from pymia.evaluation.writer.csv_writer import CSVStatisticsWriter, CSVWriter
from pymia.evaluation.writer.dataframe import DataFrameWriter, to_dataframe
from pymia.evaluation.writer.json_writer import JSONWriter
from pymia.evaluation.writer.plot import BoxPlotWriter
from pymia.evaluation.writer.statistics import StatisticsAggregator

__all__ = [
    "BoxPlotWriter",
    "CSVStatisticsWriter",
    "CSVWriter",
    "ConsoleStatisticsWriter",
    "ConsoleWriter",
    "DataFrameWriter",
    "JSONWriter",
    "StatisticsAggregator",
    "Writer",
    "to_dataframe",
]
