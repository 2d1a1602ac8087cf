"""Base class of the random spatial transforms that resample (rotation, scaling, elastic deformation).

A subclass draws one mapping per call (:meth:`ResamplingTransform.draw_mapping`); the base class checks
the entries, applies the same mapping to each of them, images with a spline of ``order`` and labels
with nearest neighbour, so labels keep their label set and stay aligned with the images.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence

import numpy as np

import pymia.data.definition as defs
from pymia.data.augmentation import _spatial
from pymia.data.augmentation.randomtransform import RandomTransform, SeedLike, check_probability
from pymia.data.transformation.transform import present_entries

__all__ = ["ResamplingTransform"]


class ResamplingTransform(RandomTransform):
    """Base class of random transforms that resample every entry with one randomly drawn mapping.

    Parameters
    ----------
    p : float
        Probability that the transform is applied to a sample.
    entries : sequence of str
        The sample keys to transform. All must be channel-last arrays on the same grid:
        (y, x, c) for 2-D or (z, y, x, c) for 3-D.
    order : int
        Spline order for entries not in ``label_entries``: 0 nearest, 1 linear (default), 3 cubic.
        Integer images are rounded back to their dtype.
    label_entries : sequence of str
        Entries resampled with nearest neighbour (order 0), so no new label values appear, and filled
        with 0 (background) outside the array. Boolean arrays are always resampled with order 0.
    mode : str
        How positions outside the array are filled (:mod:`scipy.ndimage` boundary mode): ``'constant'``
        (default; ``fill_value``), ``'nearest'`` (repeat the border), ``'reflect'``, ``'mirror'``, ``'wrap'``.
    fill_value : float
        Value outside the array for images when ``mode='constant'``.
    seed, rng
        See :class:`~pymia.data.augmentation.RandomTransform`.
    """

    def __init__(
        self,
        *,
        p: float,
        entries: Sequence[str] = (defs.KEY_IMAGES, defs.KEY_LABELS),
        order: int = 1,
        label_entries: Sequence[str] = (defs.KEY_LABELS,),
        mode: str = "constant",
        fill_value: float = 0.0,
        seed: SeedLike = None,
        rng: np.random.Generator | None = None,
    ) -> None:
        super().__init__(seed=seed, rng=rng)
        name = type(self).__name__
        self.p = check_probability(p, name)
        self.entries = _spatial.as_entries(entries)
        self.order = _spatial.check_order(order, name)
        self.label_entries = _spatial.as_entries(label_entries, "label_entries")
        self.mode = _spatial.check_mode(mode, name)
        self.fill_value = float(fill_value)

    @abc.abstractmethod
    def draw_mapping(self, spatial_shape: tuple[int, ...]) -> dict:
        """Draw the random parameters and return the output-to-input mapping for one sample.

        Parameters
        ----------
        spatial_shape : tuple of int
            (y, x) or (z, y, x) of the sample.

        Returns
        -------
        dict
            Either ``{'matrix': ..., 'offset': ...}`` (input position = matrix @ output index + offset;
            the matrix may be its 1-D diagonal) or ``{'coordinates': array of shape (ndim, *spatial_shape)}``.
        """

    def entry_orders(self, sample: dict, entries: Sequence[str]) -> dict[str, int]:
        """Return the spline order of each entry (0 for label entries and booleans, else ``order``)."""
        return _spatial.entry_orders(entries, self.order, self.label_entries, sample)

    def __call__(self, sample: dict) -> dict:
        if not self._applies(self.p):
            return sample
        entries = present_entries(self, sample, self.entries)
        if not entries:
            return sample
        spatial_shape = _spatial.common_spatial_shape(sample, entries, type(self).__name__)
        mapping = self.draw_mapping(spatial_shape)
        for entry, order in self.entry_orders(sample, entries).items():
            fill_value = 0.0 if entry in self.label_entries else self.fill_value
            sample[entry] = _spatial.resample(
                sample[entry], order=order, mode=self.mode, fill_value=fill_value, **mapping
            )
        return sample
