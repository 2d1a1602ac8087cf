"""Random additive Gaussian noise on image intensities."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

import pymia.data.definition as defs
from pymia.data.augmentation import _spatial
from pymia.data.augmentation._intensity import value_range
from pymia.data.augmentation.randomtransform import RandomTransform, SeedLike, check_probability
from pymia.data.transformation.transform import floating, present_entries

__all__ = ["RandomGaussianNoise"]


class RandomGaussianNoise(RandomTransform):
    """Add independent normal noise to every voxel; its standard deviation is drawn per sample.

    Parameters
    ----------
    std : float or (float, float), default (0.0, 0.1)
        Standard deviation of the noise in intensity units: a fixed value, or a range the value is drawn
        from uniformly for each sample. (0, 0) is the identity.
    p : float, default 1.0
        Probability of adding noise.
    entries : sequence of str, default ('images',)
        The sample keys to add noise to (intensity images, never labels).
    mean : float, default 0.0
        Mean of the noise.
    seed, rng
        See :class:`~pymia.data.augmentation.RandomTransform`.

    Notes
    -----
    The output is float32 (float64 input stays float64). Apply it after intensity normalization so
    that ``std`` is relative to the normalized range.
    """

    def __init__(
        self,
        std: float | tuple[float, float] = (0.0, 0.1),
        p: float = 1.0,
        entries: Sequence[str] = (defs.KEY_IMAGES,),
        *,
        mean: float = 0.0,
        seed: SeedLike = None,
        rng: np.random.Generator | None = None,
    ) -> None:
        super().__init__(seed=seed, rng=rng)
        self.std = value_range(std, "std", "RandomGaussianNoise", symmetric=False, minimum=0.0)
        self.mean = float(mean)
        self.p = check_probability(p, "RandomGaussianNoise")
        self.entries = _spatial.as_entries(entries)

    def __call__(self, sample: dict) -> dict:
        if not self._applies(self.p):
            return sample
        std = self.rng.uniform(*self.std)
        for entry in present_entries(self, sample, self.entries):
            array = floating(np.asarray(sample[entry]))
            noise = self.rng.standard_normal(array.shape, dtype=array.dtype)
            noise *= array.dtype.type(std)
            noise += array.dtype.type(self.mean)
            sample[entry] = array + noise
        return sample
