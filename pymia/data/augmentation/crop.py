"""Random crop of all entries at the same random position (pymia 0.3.4's ``RandomCrop``)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

import pymia.data.definition as defs
from pymia.data.augmentation import _spatial
from pymia.data.augmentation.randomtransform import RandomTransform, SeedLike, check_probability
from pymia.data.transformation.transform import present_entries
from pymia.errors import InvalidInputError

__all__ = ["RandomCrop"]


class RandomCrop(RandomTransform):
    """Crop every entry to ``shape`` at one random position, drawn uniformly from all valid positions.

    Parameters
    ----------
    shape : int or sequence of (int or None)
        Size of the crop along each axis in ``axis``; ``None`` leaves an axis uncropped. Examples for a
        (z, y, x, c) sample: ``shape=32`` crops z to 32; ``shape=(None, 64, 64)`` crops y and x;
        ``shape=(64, 32), axis=(2, 1)`` crops x to 64 and y to 32.
    axis : int or sequence of int, optional
        Array axes the sizes refer to (negative counts from the channel axis); default the first
        ``len(shape)`` axes.
    p : float, default 1.0
        Probability of cropping. Below 1 the output shape varies between samples, which batching
        rejects; keep 1 unless you know why.
    entries : sequence of str, default ('images', 'labels')
        The sample keys to crop; all must have the same size along the cropped axes.
    seed, rng
        See :class:`~pymia.data.augmentation.RandomTransform`.

    Raises
    ------
    InvalidInputError
        When calling it on a sample smaller than the crop along some axis.

    Examples
    --------
    >>> import numpy as np
    >>> from pymia.data.augmentation import RandomCrop
    >>> sample = {'images': np.zeros((40, 48, 48, 2), np.float32), 'labels': np.zeros((40, 48, 48, 1), np.uint8)}
    >>> out = RandomCrop((32, 32, 32), seed=0)(sample)
    >>> out['images'].shape, out['labels'].shape
    ((32, 32, 32, 2), (32, 32, 32, 1))
    """

    def __init__(
        self,
        shape: int | Sequence[int | None],
        axis: int | Sequence[int] | None = None,
        p: float = 1.0,
        entries: Sequence[str] = (defs.KEY_IMAGES, defs.KEY_LABELS),
        *,
        seed: SeedLike = None,
        rng: np.random.Generator | None = None,
    ) -> None:
        super().__init__(seed=seed, rng=rng)
        self.axis, self.shape = _spatial.axis_arguments(shape, axis, "RandomCrop", "shape")
        if not all(isinstance(s, (int, np.integer)) and s >= 1 for s in self.shape):
            raise InvalidInputError(f"RandomCrop needs a crop shape of positive ints (or None), got {shape!r}")
        self.shape = tuple(int(s) for s in self.shape)
        self.p = check_probability(p, "RandomCrop")
        self.entries = _spatial.as_entries(entries)

    def __call__(self, sample: dict) -> dict:
        if not self._applies(self.p):
            return sample
        entries = present_entries(self, sample, self.entries)
        if not entries:
            return sample
        axes_by_entry = _spatial.normalized_axes(sample, entries, self.axis, "RandomCrop")
        sizes = _spatial.common_axis_sizes(sample, axes_by_entry, "RandomCrop")
        if any(crop > size for crop, size in zip(self.shape, sizes)):
            raise InvalidInputError(
                f"RandomCrop shape {self.shape} (axes {self.axis}) is larger than the sample {sizes} along "
                "those axes; crop less, or pad first (e.g. transformation.SizeCorrection)"
            )
        # every start from 0 to size - crop is a valid position (pymia 0.3.4 never chose the last one)
        starts = [int(self.rng.integers(0, size - crop + 1)) for crop, size in zip(self.shape, sizes)]
        for entry, axes in axes_by_entry.items():
            index = [slice(None)] * np.ndim(sample[entry])
            for axis, start, crop in zip(axes, starts, self.shape):
                index[axis] = slice(start, start + crop)
            # a copy, so the (possibly large, possibly read-only) source array is not kept alive by a view
            sample[entry] = np.array(sample[entry][tuple(index)])
        return sample
