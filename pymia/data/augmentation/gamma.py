"""Random gamma correction of image intensities, keeping each channel's intensity range."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

import pymia.data.definition as defs
from pymia.data.augmentation import _spatial
from pymia.data.augmentation._intensity import value_range
from pymia.data.augmentation.randomtransform import RandomTransform, SeedLike, check_probability
from pymia.data.transformation.transform import floating, present_entries

__all__ = ["RandomGamma"]


class RandomGamma(RandomTransform):
    """Apply a random gamma curve within the intensity range of each channel.

    With ``lo`` and ``hi`` the minimum and maximum of a channel, each value becomes
    ``lo + (hi - lo) * ((x - lo) / (hi - lo)) ** gamma``: the range stays [lo, hi], gamma < 1 brightens
    the mid-tones and gamma > 1 darkens them. Works on any intensity range (also negative, e.g.
    z-scored images). A constant channel is left unchanged.

    Parameters
    ----------
    gamma : float or (float, float), default (0.7, 1.5)
        The exponent, fixed or drawn uniformly from a range for each sample; must be positive. 1 is the
        identity.
    p : float, default 1.0
        Probability of the gamma correction.
    entries : sequence of str, default ('images',)
        The sample keys to change (intensity images, never labels).
    per_channel : bool, default False
        Draw one gamma per channel instead of one for all channels.
    seed, rng
        See :class:`~pymia.data.augmentation.RandomTransform`.

    Notes
    -----
    The output is float32 (float64 input stays float64).
    """

    def __init__(
        self,
        gamma: float | tuple[float, float] = (0.7, 1.5),
        p: float = 1.0,
        entries: Sequence[str] = (defs.KEY_IMAGES,),
        *,
        per_channel: bool = False,
        seed: SeedLike = None,
        rng: np.random.Generator | None = None,
    ) -> None:
        super().__init__(seed=seed, rng=rng)
        self.gamma = value_range(gamma, "gamma", "RandomGamma", symmetric=False, minimum=np.finfo(np.float64).tiny)
        self.per_channel = bool(per_channel)
        self.p = check_probability(p, "RandomGamma")
        self.entries = _spatial.as_entries(entries)

    def __call__(self, sample: dict) -> dict:
        if not self._applies(self.p):
            return sample
        for entry in present_entries(self, sample, self.entries):
            array = floating(np.asarray(sample[entry]))
            channels = array.shape[-1]
            gammas = self.rng.uniform(*self.gamma, size=channels if self.per_channel else 1)
            spatial_axes = tuple(range(array.ndim - 1))
            low = array.min(axis=spatial_axes)
            high = array.max(axis=spatial_axes)
            width = high - low
            constant = width == 0
            safe_width = np.where(constant, 1, width).astype(array.dtype)
            # in place on one buffer: this transform is dominated by memory traffic and the power
            curved = array - low
            curved /= safe_width
            np.clip(curved, 0, 1, out=curved)  # rounding may leave -1 ulp below 0, and (-tiny) ** gamma is nan
            np.power(curved, gammas.astype(array.dtype), out=curved)
            curved *= safe_width
            curved += low
            if constant.any():
                curved = np.where(constant, array, curved)
            sample[entry] = curved
        return sample
