"""Random shift of the intensity range: add a random offset to each channel."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

import pymia.data.definition as defs
from pymia.data.augmentation import _spatial
from pymia.data.augmentation._intensity import value_range
from pymia.data.augmentation.randomtransform import RandomTransform, SeedLike, check_probability
from pymia.data.transformation.transform import floating, present_entries

__all__ = ["RandomIntensityShift"]


class RandomIntensityShift(RandomTransform):
    """Shift the intensity range by adding a random offset (the same for every voxel of a channel).

    Parameters
    ----------
    shift : float or (float, float), default 0.1
        One number ``s`` draws the offset uniformly from [-s, s]; a pair (low, high) from [low, high].
        In intensity units (after z-scoring: standard deviations). 0 is the identity.
    p : float, default 1.0
        Probability of shifting.
    entries : sequence of str, default ('images',)
        The sample keys to shift (intensity images, never labels).
    per_channel : bool, default True
        Draw one offset per channel; if ``False``, one for all channels.
    seed, rng
        See :class:`~pymia.data.augmentation.RandomTransform`.

    Notes
    -----
    The output is float32 (float64 input stays float64).
    """

    def __init__(
        self,
        shift: float | tuple[float, float] = 0.1,
        p: float = 1.0,
        entries: Sequence[str] = (defs.KEY_IMAGES,),
        *,
        per_channel: bool = True,
        seed: SeedLike = None,
        rng: np.random.Generator | None = None,
    ) -> None:
        super().__init__(seed=seed, rng=rng)
        self.shift = value_range(shift, "shift", "RandomIntensityShift", symmetric=True)
        self.per_channel = bool(per_channel)
        self.p = check_probability(p, "RandomIntensityShift")
        self.entries = _spatial.as_entries(entries)

    def __call__(self, sample: dict) -> dict:
        if not self._applies(self.p):
            return sample
        for entry in present_entries(self, sample, self.entries):
            array = floating(np.asarray(sample[entry]))
            offsets = self.rng.uniform(*self.shift, size=array.shape[-1] if self.per_channel else 1)
            sample[entry] = array + offsets.astype(array.dtype)
        return sample
