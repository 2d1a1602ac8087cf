"""Selection strategies: keep only samples that satisfy a condition (one pass over the datasource).

A strategy is called with a sample dictionary and returns ``True`` to keep it; :func:`select_indices`
returns the kept sample numbers, to be used with a subset sampler.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from typing import Any

import numpy as np

import pymia.data.definition as defs

__all__ = [
    "ComposeSelection",
    "NonBlackSelection",
    "NonConstantSelection",
    "PercentileSelection",
    "SelectionStrategy",
    "SubjectSelection",
    "WithForegroundSelection",
    "select_indices",
]


class SelectionStrategy(abc.ABC):
    """Base class: ``strategy(sample) -> bool``."""

    @abc.abstractmethod
    def __call__(self, sample: dict[str, Any]) -> bool:
        """Whether to keep ``sample``."""

    def __repr__(self) -> str:
        return type(self).__name__


class NonConstantSelection(SelectionStrategy):
    """Keep samples whose images are not constant.

    Parameters
    ----------
    loop_axis : int, optional
        If given, keep the sample when at least one of its sub-arrays along this axis is not
        constant (e.g. ``-1`` checks each channel on its own).
    """

    def __init__(self, loop_axis: int | None = None) -> None:
        self.loop_axis = loop_axis

    def __call__(self, sample: dict[str, Any]) -> bool:
        images = np.asarray(sample[defs.KEY_IMAGES])
        if images.size == 0:
            return False
        if self.loop_axis is None:
            return bool(np.any(images != images.flat[0]))
        moved = np.moveaxis(images, self.loop_axis, 0).reshape(images.shape[self.loop_axis], -1)
        return bool(np.any(moved != moved[:, :1]))

    def __repr__(self) -> str:
        return f"NonConstantSelection(loop_axis={self.loop_axis})"


class NonBlackSelection(SelectionStrategy):
    """Keep samples with at least one image value above ``black_value``."""

    def __init__(self, black_value: float = 0.0) -> None:
        self.black_value = black_value

    def __call__(self, sample: dict[str, Any]) -> bool:
        return bool(np.any(np.asarray(sample[defs.KEY_IMAGES]) > self.black_value))

    def __repr__(self) -> str:
        return f"NonBlackSelection(black_value={self.black_value})"


class PercentileSelection(SelectionStrategy):
    """Keep samples in which every image value is at least the sample's ``percentile``-th percentile.

    This is pymia 0.3.4's rule; it keeps (nearly) constant samples for percentiles above 0.

    Parameters
    ----------
    percentile : float
        In [0, 100].
    """

    def __init__(self, percentile: float) -> None:
        self.percentile = percentile

    def __call__(self, sample: dict[str, Any]) -> bool:
        images = np.asarray(sample[defs.KEY_IMAGES])
        threshold = np.percentile(images, self.percentile)
        return bool(np.all(images >= threshold))

    def __repr__(self) -> str:
        return f"PercentileSelection(percentile={self.percentile})"


class WithForegroundSelection(SelectionStrategy):
    """Keep samples whose labels contain a non-zero voxel."""

    def __call__(self, sample: dict[str, Any]) -> bool:
        return bool(np.any(sample[defs.KEY_LABELS]))


class SubjectSelection(SelectionStrategy):
    """Keep samples of the given subjects (by identifier or index; needs ``SubjectExtractor``).

    Parameters
    ----------
    subjects : int, str or sequence of them
        Subject identifiers and/or subject indices.
    """

    def __init__(self, subjects: int | str | Sequence[int | str]) -> None:
        self.subjects = (subjects,) if isinstance(subjects, (int, str)) else tuple(subjects)

    def __call__(self, sample: dict[str, Any]) -> bool:
        return sample.get(defs.KEY_SUBJECT) in self.subjects or sample.get(defs.KEY_SUBJECT_INDEX) in self.subjects

    def __repr__(self) -> str:
        return f"SubjectSelection({list(self.subjects)})"


class ComposeSelection(SelectionStrategy):
    """Keep samples that all ``strategies`` keep."""

    def __init__(self, strategies: Sequence[SelectionStrategy]) -> None:
        self.strategies = list(strategies)

    def __call__(self, sample: dict[str, Any]) -> bool:
        return all(strategy(sample) for strategy in self.strategies)

    def __repr__(self) -> str:
        return "ComposeSelection([" + ", ".join(repr(s) for s in self.strategies) + "])"


def select_indices(data_source: Any, selection_strategy: SelectionStrategy, *, batch_size: int = 64) -> list[int]:
    """Return the sample numbers of ``data_source`` that ``selection_strategy`` keeps.

    Parameters
    ----------
    data_source : PymiaDatasource
        The samples to filter (extractor and transform as configured).
    selection_strategy : SelectionStrategy
        The condition.
    batch_size : int, default 64
        Samples extracted per batched read.

    Returns
    -------
    list of int
        The kept sample numbers, increasing.
    """
    kept: list[int] = []
    n = len(data_source)
    for start in range(0, n, batch_size):
        indices = list(range(start, min(start + batch_size, n)))
        for index, sample in zip(indices, data_source.__getitems__(indices)):
            if selection_strategy(sample):
                kept.append(index)
    return kept
