"""Aligned text tables of results and statistics, printed or sent to :mod:`logging`."""

from __future__ import annotations

import logging
import math
import sys
from collections.abc import Mapping, Sequence
from typing import TextIO

from pymia.errors import InvalidInputError
from pymia.evaluation.evaluator import Result
from pymia.evaluation.writer.base import Writer
from pymia.evaluation.writer.statistics import StatisticFunction, StatisticsAggregator
from pymia.evaluation.writer.table import ResultTable

__all__ = ["ConsoleStatisticsWriter", "ConsoleWriter", "format_table"]

_logger = logging.getLogger("pymia.evaluation")


def format_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Lay out ``rows`` under ``header`` in left-aligned columns separated by two spaces."""
    widths = [len(cell) for cell in header]
    for row in rows:
        widths = [max(width, len(cell)) for width, cell in zip(widths, row)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip() for line in [header, *rows]]
    return "\n".join(lines)


class _ConsoleOutput:
    """Rounding and destination shared by the two console writers."""

    def __init__(self, precision: int, use_logging: bool, stream: TextIO | None) -> None:
        if not isinstance(precision, int) or precision < 0:
            raise InvalidInputError(f"precision must be a non-negative int (decimals), got {precision!r}")
        self.precision = precision
        self.use_logging = use_logging
        self.stream = stream

    def format_value(self, value: object) -> str:
        if value is None:
            return ""
        try:
            number = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return str(value)
        if math.isnan(number) or math.isinf(number):
            return repr(number)
        return f"{number:.{self.precision}f}"

    def emit(self, text: str) -> None:
        if self.use_logging:
            for line in text.splitlines():
                _logger.info(line)
        else:
            print(text, file=self.stream if self.stream is not None else sys.stdout)


class ConsoleWriter(Writer):
    """Print results as a table: one row per subject and label, one column per metric.

    Parameters
    ----------
    precision : int
        Decimals shown (values are rounded for display only).
    use_logging : bool
        If true, send each line to the ``pymia.evaluation`` logger at INFO level instead of printing.
    stream : file-like, optional, keyword-only
        Where to print (default ``sys.stdout`` at the time of writing).
    """

    def __init__(self, precision: int = 3, use_logging: bool = False, *, stream: TextIO | None = None) -> None:
        self._output = _ConsoleOutput(precision, use_logging, stream)

    def write(self, results: Sequence[Result], **kwargs: object) -> None:
        """Print ``results``."""
        table = ResultTable(results)
        rows = [
            [id_, label, *(self._output.format_value(values.get(m)) for m in table.metrics)]
            for (id_, label), values in table.rows.items()
        ]
        self._output.emit(format_table(["SUBJECT", "LABEL", *table.metrics], rows))


class ConsoleStatisticsWriter(Writer):
    """Print statistics over subjects (per label and metric) as a table.

    Parameters
    ----------
    precision : int
        Decimals shown.
    use_logging : bool
        If true, log each line at INFO level to the ``pymia.evaluation`` logger instead of printing.
    functions : mapping of str to callable, optional
        The statistics (default ``MEAN``, ``STD``, ``COUNT`` over the defined values), see
        :class:`~pymia.evaluation.writer.StatisticsAggregator`.
    stream : file-like, optional, keyword-only
        Where to print (default ``sys.stdout``).
    """

    def __init__(
        self,
        precision: int = 3,
        use_logging: bool = False,
        functions: Mapping[str, StatisticFunction] | None = None,
        *,
        stream: TextIO | None = None,
    ) -> None:
        self._output = _ConsoleOutput(precision, use_logging, stream)
        self.aggregator = StatisticsAggregator(functions)

    def write(self, results: Sequence[Result], **kwargs: object) -> None:
        """Compute the statistics of ``results`` and print them."""
        rows = [
            [s.label, s.metric, s.id_, self._output.format_value(s.value)] for s in self.aggregator.calculate(results)
        ]
        self._output.emit(format_table(["LABEL", "METRIC", "STATISTIC", "VALUE"], rows))
