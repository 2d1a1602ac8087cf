"""Random flips: along every spatial axis independently (``RandomFlip``) or along one axis (``RandomMirror``)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

import pymia.data.definition as defs
from pymia.data.augmentation import _spatial
from pymia.data.augmentation.randomtransform import RandomTransform, SeedLike, check_probability
from pymia.data.transformation.transform import present_entries
from pymia.errors import InvalidInputError

__all__ = ["RandomFlip", "RandomMirror"]


def _flip_entries(sample: dict, entries: Sequence[str], axes_by_entry: dict[str, tuple[int, ...]]) -> None:
    for entry in entries:
        if axes_by_entry[entry]:
            # a contiguous copy: negative strides are rejected by torch.from_numpy
            sample[entry] = np.ascontiguousarray(np.flip(sample[entry], axes_by_entry[entry]))


class RandomMirror(RandomTransform):
    """Mirror every entry along one axis with probability ``p`` (pymia 0.3.4's ``RandomMirror``).

    Parameters
    ----------
    axis : int, default -2
        The array axis to mirror; -2 is x for channel-last (y, x, c) and (z, y, x, c) arrays.
    p : float, default 1.0
        Probability of mirroring.
    entries : sequence of str, default ('images', 'labels')
        The sample keys to mirror.
    seed, rng
        See :class:`~pymia.data.augmentation.RandomTransform`.
    """

    def __init__(
        self,
        axis: int = -2,
        p: float = 1.0,
        entries: Sequence[str] = (defs.KEY_IMAGES, defs.KEY_LABELS),
        *,
        seed: SeedLike = None,
        rng: np.random.Generator | None = None,
    ) -> None:
        super().__init__(seed=seed, rng=rng)
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
            raise InvalidInputError(f"RandomMirror needs one int axis, got axis={axis!r}; use RandomFlip for several")
        self.axis = int(axis)
        self.p = check_probability(p, "RandomMirror")
        self.entries = _spatial.as_entries(entries)

    def __call__(self, sample: dict) -> dict:
        if not self._applies(self.p):
            return sample
        entries = present_entries(self, sample, self.entries)
        axes_by_entry = _spatial.normalized_axes(sample, entries, (self.axis,), "RandomMirror")
        _spatial.common_axis_sizes(sample, axes_by_entry, "RandomMirror")
        _flip_entries(sample, entries, axes_by_entry)
        return sample


class RandomFlip(RandomTransform):
    """Flip every entry along each of ``axes`` independently with probability ``p``, the same for all entries.

    Parameters
    ----------
    axes : int or sequence of int, optional
        Array axes that may be flipped; default all spatial axes (every axis but the last, channel,
        axis: y and x of (y, x, c), z, y and x of (z, y, x, c)).
    p : float, default 0.5
        Probability of flipping, drawn for each axis on its own.
    entries : sequence of str, default ('images', 'labels')
        The sample keys to flip; all must share the sizes along the flipped axes.
    seed, rng
        See :class:`~pymia.data.augmentation.RandomTransform`.
    """

    def __init__(
        self,
        axes: int | Sequence[int] | None = None,
        p: float = 0.5,
        entries: Sequence[str] = (defs.KEY_IMAGES, defs.KEY_LABELS),
        *,
        seed: SeedLike = None,
        rng: np.random.Generator | None = None,
    ) -> None:
        super().__init__(seed=seed, rng=rng)
        if axes is not None:
            axes = (axes,) if isinstance(axes, (int, np.integer)) else tuple(axes)
            if not all(isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in axes):
                raise InvalidInputError(f"RandomFlip needs int axes, got axes={axes!r}")
            axes = tuple(int(a) for a in axes)
        self.axes = axes
        self.p = check_probability(p, "RandomFlip")
        self.entries = _spatial.as_entries(entries)

    def __call__(self, sample: dict) -> dict:
        entries = present_entries(self, sample, self.entries)
        if not entries:
            return sample
        if self.axes is None:
            spatial_shape = _spatial.common_spatial_shape(sample, entries, "RandomFlip")
            axes: tuple[int, ...] = tuple(range(len(spatial_shape)))
        else:
            axes = self.axes
        axes_by_entry = _spatial.normalized_axes(sample, entries, axes, "RandomFlip")
        _spatial.common_axis_sizes(sample, axes_by_entry, "RandomFlip")
        flips = self.rng.random(len(axes)) < self.p
        chosen = {
            entry: tuple(axis for axis, flip in zip(entry_axes, flips) if flip)
            for entry, entry_axes in axes_by_entry.items()
        }
        _flip_entries(sample, entries, chosen)
        return sample
