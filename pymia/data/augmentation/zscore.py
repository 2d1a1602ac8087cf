"""Z-score normalization per channel, with statistics from all voxels, a mask, or a random voxel sample."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

import pymia.data.definition as defs
from pymia.data.augmentation import _spatial
from pymia.data.augmentation._intensity import channel_table, statistics_rows
from pymia.data.augmentation.randomtransform import RandomTransform, SeedLike
from pymia.data.transformation.transform import floating, present_entries
from pymia.errors import InvalidInputError

__all__ = ["ZScoreNormalization"]


def check_sample_fraction(sample_fraction: float | None, owner: str) -> float | None:
    """Return ``sample_fraction`` as float if it is None or in (0, 1]; raise otherwise."""
    if sample_fraction is None:
        return None
    if not isinstance(sample_fraction, (int, float, np.number)) or not 0 < sample_fraction <= 1:
        raise InvalidInputError(
            f"{owner} needs sample_fraction in (0, 1] (e.g. 0.1 = statistics from 10 % of the voxels) or None, "
            f"got {sample_fraction!r}"
        )
    return float(sample_fraction)


class ZScoreNormalization(RandomTransform):
    """Subtract the mean and divide by the standard deviation, per channel by default.

    The statistics come from all voxels, from the voxels where ``mask`` is non-zero, or, with
    ``sample_fraction``, from a random sample of those voxels (cheaper for large volumes; then the
    transform is random and uses ``seed``/``rng``). The normalization is applied to every voxel.

    Parameters
    ----------
    per_channel : bool, default True
        One mean and standard deviation per channel (last axis); if ``False``, one for all channels.
    sample_fraction : float, optional
        Fraction in (0, 1] of the voxels to estimate the statistics from, drawn uniformly with
        replacement (at least one voxel). ``None`` (default) uses all of them (deterministic).
    mask : str, optional
        Key of a sample entry (e.g. a brain mask, spatial shape as the image, optionally with a channel
        axis); statistics come from the voxels where it is non-zero. If it selects no voxel, all voxels
        are used.
    entries : sequence of str, default ('images',)
        The sample keys to normalize.
    seed, rng
        See :class:`~pymia.data.augmentation.RandomTransform`; used only with ``sample_fraction``.

    Notes
    -----
    The standard deviation is the population one (``ddof=0``). A constant channel (standard deviation
    0) becomes all zeros. The output is float32 (float64 input stays float64).

    Examples
    --------
    >>> import numpy as np
    >>> from pymia.data.augmentation import ZScoreNormalization
    >>> image = np.stack([np.arange(8.0), 10 * np.arange(8.0)], axis=-1).reshape(2, 4, 2)
    >>> out = ZScoreNormalization()({'images': image})['images']
    >>> np.round(out.mean(axis=(0, 1)), 6).tolist(), np.round(out.std(axis=(0, 1)), 6).tolist()
    ([0.0, 0.0], [1.0, 1.0])
    """

    def __init__(
        self,
        per_channel: bool = True,
        sample_fraction: float | None = None,
        mask: str | None = None,
        entries: Sequence[str] = (defs.KEY_IMAGES,),
        *,
        seed: SeedLike = None,
        rng: np.random.Generator | None = None,
    ) -> None:
        super().__init__(seed=seed, rng=rng)
        self.per_channel = bool(per_channel)
        self.sample_fraction = check_sample_fraction(sample_fraction, "ZScoreNormalization")
        if mask is not None and not isinstance(mask, str):
            raise InvalidInputError(f"ZScoreNormalization needs mask as a sample key (str) or None, got {mask!r}")
        self.mask = mask
        self.entries = _spatial.as_entries(entries)

    def __call__(self, sample: dict) -> dict:
        for entry in present_entries(self, sample, self.entries):
            array = floating(np.asarray(sample[entry]))
            rows = statistics_rows(sample, entry, self.mask, self.sample_fraction, self.rng)
            values = channel_table(array, rows)
            axis = 0 if self.per_channel else None
            mean = values.mean(axis=axis, dtype=np.float64)
            std = values.std(axis=axis, dtype=np.float64)
            # constant channels become zeros, not nan; compared exactly, as the std of equal values may be
            # a rounding residue instead of 0
            minimum = values.min(axis=axis)
            constant = minimum == values.max(axis=axis)
            mean = np.where(constant, minimum, mean)
            scale = 1.0 / np.where(constant | (std == 0), 1.0, std)
            sample[entry] = ((array - mean.astype(array.dtype)) * scale.astype(array.dtype)).astype(
                array.dtype, copy=False
            )
        return sample
