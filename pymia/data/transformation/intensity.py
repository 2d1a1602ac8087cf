"""Intensity transforms: z-score normalization, rescaling to a range, clipping at percentiles.

Each works on whole arrays or, with ``loop_axis``, on each slice along an axis (e.g. per channel with
``loop_axis=-1``). Results are float32 (float64 input stays float64).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pymia.data.transformation.transform import LoopEntryTransform, floating
from pymia.errors import InvalidInputError

__all__ = ["ClipPercentile", "IntensityNormalization", "IntensityRescale"]


class IntensityNormalization(LoopEntryTransform):
    """Z-score normalization: subtract the mean and divide by the standard deviation.

    A constant array (standard deviation 0) becomes all zeros instead of ``nan``.

    Parameters
    ----------
    loop_axis : int, optional
        Normalize each slice along this axis on its own (``-1``: each channel of a (z, y, x, c) image).
    entries : sequence of str, default ('images',)
        The sample keys to normalize.
    """

    def __init__(self, loop_axis: int | None = None, entries: Sequence[str] = ("images",)) -> None:
        super().__init__(loop_axis, entries)

    def transform_entry(self, array: np.ndarray, entry: str, loop_index: int | None = None) -> np.ndarray:
        array = floating(array)
        if array.size == 0:
            return array.copy()
        mean = np.add.reduce(array, axis=None, dtype=np.float64) / array.size
        centered = np.subtract(array, array.dtype.type(mean))  # the output buffer; no float64 copy of the image
        std = float(np.sqrt(np.add.reduce(np.square(centered), axis=None, dtype=np.float64) / centered.size))
        if std > 0:
            centered /= array.dtype.type(std)
        return centered


class IntensityRescale(LoopEntryTransform):
    """Linearly rescale intensities so that the minimum maps to ``lower`` and the maximum to ``upper``.

    A constant array becomes all ``lower``.

    Parameters
    ----------
    lower, upper : float
        The new intensity range; ``lower`` must be below ``upper``.
    loop_axis : int, optional
        Rescale each slice along this axis on its own.
    entries : sequence of str, default ('images',)
        The sample keys to rescale.
    """

    def __init__(
        self, lower: float, upper: float, loop_axis: int | None = None, entries: Sequence[str] = ("images",)
    ) -> None:
        if not lower < upper:
            raise InvalidInputError(f"IntensityRescale needs lower < upper, got lower={lower}, upper={upper}")
        super().__init__(loop_axis, entries)
        self.lower = lower
        self.upper = upper

    def transform_entry(self, array: np.ndarray, entry: str, loop_index: int | None = None) -> np.ndarray:
        array = floating(array)
        minimum, maximum = float(array.min()), float(array.max())
        if maximum == minimum:
            return np.full_like(array, self.lower)
        # float64 arithmetic so that the minimum and maximum land exactly on lower and upper
        scaled = (array - np.float64(minimum)) / (maximum - minimum) * (self.upper - self.lower) + self.lower
        return np.clip(scaled, self.lower, self.upper).astype(array.dtype, copy=False)


class ClipPercentile(LoopEntryTransform):
    """Clip intensities to the values at a lower and an upper percentile.

    Parameters
    ----------
    upper_percentile : float
        Percentile in [0, 100] whose value becomes the maximum.
    lower_percentile : float, optional
        Percentile whose value becomes the minimum; default ``100 - upper_percentile``.
    loop_axis : int, optional
        Clip each slice along this axis with its own percentiles.
    entries : sequence of str, default ('images',)
        The sample keys to clip.
    """

    def __init__(
        self,
        upper_percentile: float,
        lower_percentile: float | None = None,
        loop_axis: int | None = None,
        entries: Sequence[str] = ("images",),
    ) -> None:
        if lower_percentile is None:
            lower_percentile = 100.0 - upper_percentile
        if not 0 <= lower_percentile <= upper_percentile <= 100:
            raise InvalidInputError(
                f"ClipPercentile needs 0 <= lower <= upper <= 100, got lower={lower_percentile}, "
                f"upper={upper_percentile}"
            )
        super().__init__(loop_axis, entries)
        self.upper_percentile = upper_percentile
        self.lower_percentile = lower_percentile

    def transform_entry(self, array: np.ndarray, entry: str, loop_index: int | None = None) -> np.ndarray:
        array = floating(array)
        lower, upper = np.percentile(array, (self.lower_percentile, self.upper_percentile))
        return np.clip(array, array.dtype.type(lower), array.dtype.type(upper))
