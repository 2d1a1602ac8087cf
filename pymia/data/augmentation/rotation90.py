"""Random rotation by 90, 180 or 270 degrees in one plane (pymia 0.3.4's ``RandomRotation90``)."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np

import pymia.data.definition as defs
from pymia.data.augmentation import _spatial
from pymia.data.augmentation.randomtransform import RandomTransform, SeedLike, check_probability
from pymia.data.transformation.transform import present_entries
from pymia.errors import InvalidInputError, PymiaWarning

__all__ = ["RandomRotation90"]


class RandomRotation90(RandomTransform):
    """Rotate every entry by the same random multiple of 90° (90, 180 or 270) in the plane of ``axes``.

    Parameters
    ----------
    axes : tuple of two int, default (-3, -2)
        The array axes spanning the rotation plane; (-3, -2) is (y, x) for channel-last (y, x, c) and
        (z, y, x, c) arrays.
    p : float, default 1.0
        Probability of rotating.
    entries : sequence of str, default ('images', 'labels')
        The sample keys to rotate; all must share the sizes along ``axes``.
    seed, rng
        See :class:`~pymia.data.augmentation.RandomTransform`.

    Warns
    -----
    PymiaWarning
        When the plane is not square: a 90° or 270° rotation then swaps its sizes, so samples may no
        longer batch.
    """

    def __init__(
        self,
        axes: tuple[int, int] = (-3, -2),
        p: float = 1.0,
        entries: Sequence[str] = (defs.KEY_IMAGES, defs.KEY_LABELS),
        *,
        seed: SeedLike = None,
        rng: np.random.Generator | None = None,
    ) -> None:
        super().__init__(seed=seed, rng=rng)
        axes = tuple(axes)
        if len(axes) != 2 or not all(isinstance(a, (int, np.integer)) for a in axes):
            raise InvalidInputError(f"RandomRotation90 needs axes as two ints spanning a plane, got {axes!r}")
        self.axes = (int(axes[0]), int(axes[1]))
        self.p = check_probability(p, "RandomRotation90")
        self.entries = _spatial.as_entries(entries)

    def __call__(self, sample: dict) -> dict:
        if not self._applies(self.p):
            return sample
        quarter_turns = int(self.rng.integers(1, 4))
        entries = present_entries(self, sample, self.entries)
        if not entries:
            return sample
        axes_by_entry = _spatial.normalized_axes(sample, entries, self.axes, "RandomRotation90")
        for axes in axes_by_entry.values():
            if axes[0] == axes[1]:
                raise InvalidInputError(f"RandomRotation90 needs two different axes, got {self.axes}")
        sizes = _spatial.common_axis_sizes(sample, axes_by_entry, "RandomRotation90")
        if sizes[0] != sizes[1]:
            warnings.warn(
                f"RandomRotation90 rotates a non-square plane {sizes} (axes {self.axes}); a 90° or 270° turn "
                "swaps its sizes, so samples may not batch. Crop to a square plane first to avoid this.",
                PymiaWarning,
                stacklevel=2,
            )
        for entry, axes in axes_by_entry.items():
            sample[entry] = np.ascontiguousarray(np.rot90(sample[entry], quarter_turns, axes=axes))
        return sample
