"""CSV files of results (one row per subject and label) and of statistics (one row per statistic).

Both default to the format of ``pymia-evaluate``: comma-separated, metric columns in the order of the
evaluator's metrics, full-precision values and ``nan`` where a metric is undefined.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Mapping, Sequence

from pymia.errors import InvalidInputError
from pymia.evaluation.evaluator import Result
from pymia.evaluation.writer.base import Writer, prepare_output_path
from pymia.evaluation.writer.statistics import StatisticFunction, StatisticsAggregator
from pymia.evaluation.writer.table import ResultTable, format_full_precision

__all__ = ["CSVStatisticsWriter", "CSVWriter"]


def _check_delimiter(delimiter: str) -> str:
    if not isinstance(delimiter, str) or len(delimiter) != 1:
        raise InvalidInputError(f"delimiter must be one character such as ',' or ';', got {delimiter!r}")
    return delimiter


class CSVWriter(Writer):
    """Write results to a CSV file with header ``SUBJECT,LABEL,<metric ids>``.

    Parameters
    ----------
    path : str or os.PathLike
        The file to write, used exactly as given (no ``.csv`` is added); missing parent folders are
        created and an existing file is overwritten.
    delimiter : str
        The field separator. Default ``','`` (the format of ``pymia-evaluate``); pymia 0.3.4 used
        ``';'``, pass it to keep that format.

    Notes
    -----
    One row per subject and label, in evaluation order; metric columns in order of first appearance,
    i.e. the order of the evaluator's metrics (0.3.4 sorted them alphabetically). Values are written
    with full precision (``repr``), ``nan`` where a metric is undefined, and an empty field where a
    metric was not computed for that row.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from pymia.evaluation.evaluator import Result
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "results.csv"
    >>> CSVWriter(path).write([Result("S1", "WM", "DICE", 0.9), Result("S1", "WM", "HDRFDST95", 1.5)])
    >>> print(path.read_text().strip())
    SUBJECT,LABEL,DICE,HDRFDST95
    S1,WM,0.9,1.5
    """

    def __init__(self, path: str | os.PathLike[str], delimiter: str = ",") -> None:
        self.path = path
        self.delimiter = _check_delimiter(delimiter)

    def write(self, results: Sequence[Result], **kwargs: object) -> None:
        """Write ``results`` to :attr:`path`."""
        table = ResultTable(results)
        with prepare_output_path(self.path).open("w", newline="", encoding="utf-8") as file:
            writer = csv.writer(file, delimiter=self.delimiter, lineterminator="\n")
            writer.writerow(["SUBJECT", "LABEL", *table.metrics])
            for (id_, label), values in table.rows.items():
                writer.writerow([id_, label, *(format_full_precision(values.get(m)) for m in table.metrics)])


class CSVStatisticsWriter(Writer):
    """Write statistics over subjects to a CSV file with header ``LABEL,METRIC,STATISTIC,VALUE``.

    Parameters
    ----------
    path : str or os.PathLike
        The file to write, used exactly as given; parent folders are created.
    delimiter : str
        The field separator, default ``','`` (0.3.4: ``';'``).
    functions : mapping of str to callable, optional
        The statistics, passed to :class:`~pymia.evaluation.writer.StatisticsAggregator`
        (default ``MEAN``, ``STD``, ``COUNT`` over the defined values).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        delimiter: str = ",",
        functions: Mapping[str, StatisticFunction] | None = None,
    ) -> None:
        self.path = path
        self.delimiter = _check_delimiter(delimiter)
        self.aggregator = StatisticsAggregator(functions)

    def write(self, results: Sequence[Result], **kwargs: object) -> None:
        """Compute the statistics of ``results`` and write them to :attr:`path`."""
        statistics = self.aggregator.calculate(results)
        with prepare_output_path(self.path).open("w", newline="", encoding="utf-8") as file:
            writer = csv.writer(file, delimiter=self.delimiter, lineterminator="\n")
            writer.writerow(["LABEL", "METRIC", "STATISTIC", "VALUE"])
            for statistic in statistics:
                writer.writerow(
                    [statistic.label, statistic.metric, statistic.id_, format_full_precision(statistic.value)]
                )
