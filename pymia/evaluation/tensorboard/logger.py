"""Log evaluation results and segmentation overlays to TensorBoard, from any framework or none.

:class:`TensorBoardLogger` turns the :class:`~pymia.evaluation.evaluator.Result` objects of an
evaluator into scalars (statistics over subjects per label and metric, optionally every subject)
and draws image/reference/prediction overlays, through a pluggable summary backend.
"""

from __future__ import annotations

import numbers
import os
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from pymia.errors import InvalidInputError
from pymia.evaluation.tensorboard.backends import SummaryBackend, create_backend
from pymia.evaluation.tensorboard.overlay import overlay_slices

__all__ = ["TensorBoardLogger", "sanitize_tag"]

_UNSAFE_TAG_CHARACTERS = re.compile(r"[^A-Za-z0-9_.\-/]")


def sanitize_tag(tag: str) -> str:
    """Replace characters TensorFlow rejects in summary names (anything but ``A-Za-z0-9_.-/``) by ``_``.

    Examples
    --------
    >>> sanitize_tag("validation/DICE/white matter")
    'validation/DICE/white_matter'
    """
    return _UNSAFE_TAG_CHARACTERS.sub("_", tag)


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


class TensorBoardLogger:
    """Write evaluation results and overlays of segmentations as TensorBoard summaries.

    Parameters
    ----------
    target : str, os.PathLike or writer
        A run directory (a writer is created there, see ``framework``), a PyTorch or tensorboardX
        ``SummaryWriter``, a ``tf.summary`` file writer, or any object with
        ``add_scalar(tag, value, step)``, ``add_image(tag, image, step)``, ``flush()`` and ``close()``.
    framework : {'auto', 'tensorboard', 'torch', 'tensorboardX', 'tensorflow'}, optional
        Which writer to create when ``target`` is a directory. ``'auto'`` (default) uses the
        ``tensorboard`` package's event writer, which imports no deep-learning framework.
    statistics : mapping of str to callable, optional
        Statistics over subjects logged by :meth:`log_results`, computed by
        :class:`~pymia.evaluation.writer.StatisticsAggregator` with undefined values (``nan``) left
        out; default ``{'MEAN': numpy.mean, 'STD': numpy.std}``.

    Notes
    -----
    Tags are ``<prefix>/<metric>/<label>/<statistic>`` for statistics (e.g.
    ``validation/DICE/WM/MEAN``) and ``<prefix>-subjects/<metric>/<label>/<subject>`` for single
    subjects, so TensorBoard shows one card group per metric. Characters other than
    ``A-Za-z0-9_.-/`` become ``_``.

    Examples
    --------
    >>> from types import SimpleNamespace as Result
    >>> import tempfile
    >>> results = [Result(id_=s, label="WM", metric="DICE", value=v) for s, v in (("a", 0.8), ("b", 0.9))]
    >>> with TensorBoardLogger(tempfile.mkdtemp()) as logger:
    ...     logged = logger.log_results(results, step=3)
    >>> sorted(logged)
    ['evaluation/DICE/WM/MEAN', 'evaluation/DICE/WM/STD']
    """

    def __init__(
        self,
        target: str | os.PathLike | Any,
        *,
        framework: str = "auto",
        statistics: Mapping[str, Callable[[np.ndarray], float]] | None = None,
    ) -> None:
        self.backend: SummaryBackend = create_backend(target, framework=framework)
        if statistics is None:
            statistics = {"MEAN": np.mean, "STD": np.std}
        for name, function in statistics.items():
            if not callable(function):
                raise InvalidInputError(f"statistic {name!r} must be callable, got {function!r}")
        self.statistics = dict(statistics)

    def log_scalar(self, tag: str, value: float, step: int) -> None:
        """Write one scalar (e.g. a training loss) under ``tag`` at ``step``."""
        self.backend.add_scalar(sanitize_tag(tag), float(value), int(step))

    def log_results(
        self,
        results: Iterable[Any],
        step: int,
        *,
        prefix: str = "evaluation",
        per_subject: bool = False,
    ) -> dict[str, float]:
        """Log statistics over subjects of evaluation results, per label and metric.

        Parameters
        ----------
        results : iterable of Result
            Objects with ``id_`` (subject), ``label``, ``metric`` and ``value``, as
            :class:`pymia.evaluation.evaluator.Result`. Non-numeric values (e.g. text columns)
            are skipped.
        step : int
            Global step (e.g. the epoch).
        prefix : str, optional
            First part of every tag (default ``'evaluation'``).
        per_subject : bool, optional
            Also log every subject's value (default ``False``).

        Returns
        -------
        dict of str to float
            The values written, by tag.
        """
        from pymia.evaluation.writer import StatisticsAggregator  # imported here: the writers pull in pandas

        results = [result for result in results if _is_number(result.value)]
        logged: dict[str, float] = {}
        if per_subject:
            for result in results:
                logged[sanitize_tag(f"{prefix}-subjects/{result.metric}/{result.label}/{result.id_}")] = float(
                    result.value
                )
        for statistic in StatisticsAggregator(self.statistics, ignore_nan=True).calculate(results):
            logged[sanitize_tag(f"{prefix}/{statistic.metric}/{statistic.label}/{statistic.id_}")] = statistic.value
        for tag, value in logged.items():
            self.backend.add_scalar(tag, value, int(step))
        return logged

    def log_overlay(
        self,
        tag: str,
        image: np.ndarray,
        reference: np.ndarray,
        prediction: np.ndarray,
        step: int,
        **options: Any,
    ) -> np.ndarray:
        """Log a picture of one slice: image, image with reference, image with prediction.

        Parameters
        ----------
        tag : str
            Tag of the image summary (e.g. ``'validation/overlay/Subject_1'``).
        image, reference, prediction : numpy.ndarray
            As for :func:`~pymia.evaluation.tensorboard.overlay_slices`: (Z, Y, X) or (Y, X),
            the image optionally with a trailing channel axis, the label maps optionally with a
            trailing axis of size 1.
        step : int
            Global step.
        **options
            ``axis``, ``slice_index``, ``channel``, ``alpha`` of
            :func:`~pymia.evaluation.tensorboard.overlay_slices`.

        Returns
        -------
        numpy.ndarray
            The ``uint8`` RGB picture written, shape (H, 3 W + 4, 3).
        """
        picture = overlay_slices(image, reference, prediction, **options)
        self.backend.add_image(sanitize_tag(tag), picture, int(step))
        return picture

    def flush(self) -> None:
        """Write buffered summaries to disk."""
        self.backend.flush()

    def close(self) -> None:
        """Flush, and close the writer if the logger created it (wrapped writers stay open)."""
        self.backend.close()

    def __enter__(self) -> TensorBoardLogger:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
