"""Results as a pandas DataFrame, tidy (one row per value) or wide (one column per metric)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from pymia.evaluation.evaluator import Result
from pymia.evaluation.writer.base import Writer
from pymia.evaluation.writer.table import ResultTable

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["DataFrameWriter", "to_dataframe"]


def to_dataframe(results: Sequence[Result], *, wide: bool = False) -> pd.DataFrame:
    """Convert results to a :class:`pandas.DataFrame`.

    Parameters
    ----------
    results : sequence of Result
        Results of an evaluator (or statistics of a
        :class:`~pymia.evaluation.writer.StatisticsAggregator`, whose ``id_`` is the statistic).
    wide : bool, keyword-only
        If false (default), the tidy form: columns ``SUBJECT``, ``LABEL``, ``METRIC``, ``VALUE``, one row
        per result, in the given order. If true, the wide form of the CSV file: columns ``SUBJECT``,
        ``LABEL`` and one float column per metric id (order of first appearance), one row per subject
        and label; a metric not computed for a row is ``nan``.

    Returns
    -------
    pandas.DataFrame
        With a default integer index; ``VALUE`` and the metric columns are float64.

    Examples
    --------
    >>> from pymia.evaluation.evaluator import Result
    >>> results = [Result("S1", "WM", "DICE", 0.9), Result("S1", "WM", "JACRD", 0.8)]
    >>> to_dataframe(results, wide=True)
      SUBJECT LABEL  DICE  JACRD
    0      S1    WM   0.9    0.8
    """
    import pandas as pd

    if not wide:
        records = {
            "SUBJECT": [r.id_ for r in results],
            "LABEL": [r.label for r in results],
            "METRIC": [r.metric for r in results],
            "VALUE": [r.value for r in results],
        }
        frame = pd.DataFrame(records, columns=["SUBJECT", "LABEL", "METRIC", "VALUE"])
        frame["VALUE"] = pd.to_numeric(frame["VALUE"], errors="coerce").astype("float64")
        return frame

    table = ResultTable(results)
    columns: dict[str, list[object]] = {
        "SUBJECT": [id_ for id_, _ in table.rows],
        "LABEL": [label for _, label in table.rows],
    }
    for metric in table.metrics:
        columns[metric] = [row.get(metric) for row in table.rows.values()]
    frame = pd.DataFrame(columns, columns=["SUBJECT", "LABEL", *table.metrics])
    for metric in table.metrics:
        frame[metric] = pd.to_numeric(frame[metric], errors="coerce").astype("float64")
    return frame


class DataFrameWriter(Writer):
    """Keep the results as a DataFrame in :attr:`dataframe` (see :func:`to_dataframe`).

    Parameters
    ----------
    wide : bool
        Tidy (default) or wide form.

    Attributes
    ----------
    dataframe : pandas.DataFrame or None
        The frame of the last :meth:`write`; ``None`` before the first.
    """

    def __init__(self, wide: bool = False) -> None:
        self.wide = wide
        self.dataframe: pd.DataFrame | None = None

    def write(self, results: Sequence[Result], **kwargs: object) -> None:
        """Convert ``results`` and store the frame in :attr:`dataframe`."""
        self.dataframe = to_dataframe(results, wide=self.wide)
