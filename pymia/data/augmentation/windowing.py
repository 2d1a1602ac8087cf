"""Percentile windowing: clip intensities to the values at a lower and an upper quantile (e.g. 0.6 and 0.99)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

import pymia.data.definition as defs
from pymia.data.augmentation import _spatial
from pymia.data.augmentation._intensity import channel_table, statistics_rows
from pymia.data.transformation.transform import Transform, floating, present_entries
from pymia.errors import InvalidInputError

__all__ = ["PercentileWindowing"]


class PercentileWindowing(Transform):
    """Clip each channel to the window between two quantiles of its intensities, optionally rescaling it.

    The percentiles are given as **fractions**: ``lower=0.6, upper=0.99`` clips to the window from the
    60th to the 99th percentile (``numpy.quantile`` with its default linear interpolation), not to the
    0.6th. The pymia 0.3.4-style :class:`~pymia.data.transformation.ClipPercentile` takes percents.

    Parameters
    ----------
    lower, upper : float, default 0.6 and 0.99
        Quantiles in [0, 1] with ``lower <= upper``; 0 and 1 leave the intensities unchanged.
    per_channel : bool, default True
        One window per channel (last axis); if ``False``, one for all channels.
    mask : str, optional
        Key of a sample entry; the quantiles come from the voxels where it is non-zero (all voxels if
        it selects none). The window is applied to every voxel.
    entries : sequence of str, default ('images',)
        The sample keys to window.
    output_range : (float, float), optional
        If given, map the window linearly onto this range (e.g. (0, 1)); a window of width 0 maps to
        the low end. ``None`` (default) only clips.

    Notes
    -----
    The output is float32 (float64 input stays float64).

    Examples
    --------
    >>> import numpy as np
    >>> from pymia.data.augmentation import PercentileWindowing
    >>> image = np.arange(101.0).reshape(101, 1, 1)
    >>> out = PercentileWindowing(0.1, 0.9)({'images': image})['images']
    >>> float(out.min()), float(out.max())
    (10.0, 90.0)
    """

    def __init__(
        self,
        lower: float = 0.6,
        upper: float = 0.99,
        per_channel: bool = True,
        mask: str | None = None,
        entries: Sequence[str] = (defs.KEY_IMAGES,),
        *,
        output_range: tuple[float, float] | None = None,
    ) -> None:
        if not all(isinstance(q, (int, float, np.number)) for q in (lower, upper)) or not 0 <= lower <= upper <= 1:
            raise InvalidInputError(
                f"PercentileWindowing needs quantiles as fractions with 0 <= lower <= upper <= 1 (0.99 = 99th "
                f"percentile), got lower={lower!r}, upper={upper!r}"
            )
        if output_range is not None:
            output_range = tuple(float(v) for v in output_range)
            if len(output_range) != 2 or not output_range[0] < output_range[1]:
                raise InvalidInputError(
                    f"PercentileWindowing needs output_range as (low, high) with low < high, got {output_range!r}"
                )
        if mask is not None and not isinstance(mask, str):
            raise InvalidInputError(f"PercentileWindowing needs mask as a sample key (str) or None, got {mask!r}")
        self.lower = float(lower)
        self.upper = float(upper)
        self.per_channel = bool(per_channel)
        self.mask = mask
        self.entries = _spatial.as_entries(entries)
        self.output_range = output_range

    def __call__(self, sample: dict) -> dict:
        for entry in present_entries(self, sample, self.entries):
            array = floating(np.asarray(sample[entry]))
            values = channel_table(array, statistics_rows(sample, entry, self.mask, None, None))
            low, high = np.quantile(values, (self.lower, self.upper), axis=0 if self.per_channel else None)
            clipped = np.clip(array, low.astype(array.dtype), high.astype(array.dtype))
            if self.output_range is not None:
                out_low, out_high = self.output_range
                width = high - low
                scale = np.where(width == 0, 0.0, (out_high - out_low) / np.where(width == 0, 1.0, width))
                clipped = (clipped - low.astype(array.dtype)) * scale.astype(array.dtype) + array.dtype.type(out_low)
                np.clip(clipped, out_low, out_high, out=clipped)
            sample[entry] = clipped.astype(array.dtype, copy=False)
        return sample
