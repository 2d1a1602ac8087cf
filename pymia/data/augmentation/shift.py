"""Random shift of all entries by the same whole number of voxels (pymia 0.3.4's ``RandomShift``)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

import pymia.data.definition as defs
from pymia.data.augmentation import _spatial
from pymia.data.augmentation.randomtransform import RandomTransform, SeedLike, check_probability
from pymia.data.transformation.transform import present_entries
from pymia.errors import InvalidInputError

__all__ = ["RandomShift"]


def shift_array(array: np.ndarray, shifts: dict[int, int], fill_value: float | None) -> np.ndarray:
    """Shift ``array`` by ``shifts[axis]`` voxels along each axis; wrap around if ``fill_value`` is None.

    Positive shifts move the content towards higher indices. Without wrapping, the uncovered border is
    set to ``fill_value``.
    """
    if fill_value is None:
        return np.roll(array, tuple(shifts.values()), tuple(shifts.keys()))
    output = np.full_like(array, fill_value)
    source = [slice(None)] * array.ndim
    target = [slice(None)] * array.ndim
    for axis, shift in shifts.items():
        size = array.shape[axis]
        if abs(shift) >= size:
            return output
        source[axis] = slice(max(0, -shift), size - max(0, shift))
        target[axis] = slice(max(0, shift), size - max(0, -shift))
    output[tuple(target)] = array[tuple(source)]
    return output


class RandomShift(RandomTransform):
    """Shift every entry by the same random number of voxels along some axes.

    Along an axis of size ``n`` with fraction ``s`` the shift is a whole number drawn uniformly from
    [-int(s·n), +int(s·n)].

    Parameters
    ----------
    shift : float or sequence of (float or None)
        Largest shift as a fraction of the axis size, per axis in ``axis``; ``None`` leaves an axis alone.
        E.g. ``shift=(None, 0.1, 0.1)`` on a (z, y, x, c) sample shifts y and x by up to 10 %.
    axis : int or sequence of int, optional
        Array axes the fractions refer to; default the first ``len(shift)`` axes.
    p : float, default 1.0
        Probability of shifting.
    entries : sequence of str, default ('images', 'labels')
        The sample keys to shift; all must have the same size along the shifted axes.
    mode : {'wrap', 'constant'}, default 'wrap'
        ``'wrap'`` rolls the content around (what pymia 0.3.4 did); ``'constant'`` fills the uncovered
        border with ``fill_value`` (images) and 0 (``label_entries``).
    fill_value : float, default 0.0
        Image value of the uncovered border with ``mode='constant'``.
    label_entries : sequence of str, default ('labels',)
        Entries filled with 0 with ``mode='constant'``.
    seed, rng
        See :class:`~pymia.data.augmentation.RandomTransform`.
    """

    def __init__(
        self,
        shift: float | Sequence[float | None],
        axis: int | Sequence[int] | None = None,
        p: float = 1.0,
        entries: Sequence[str] = (defs.KEY_IMAGES, defs.KEY_LABELS),
        *,
        mode: str = "wrap",
        fill_value: float = 0.0,
        label_entries: Sequence[str] = (defs.KEY_LABELS,),
        seed: SeedLike = None,
        rng: np.random.Generator | None = None,
    ) -> None:
        super().__init__(seed=seed, rng=rng)
        self.axis, self.shift = _spatial.axis_arguments(shift, axis, "RandomShift", "shift")
        if not all(isinstance(s, (int, float, np.number)) and 0 <= s <= 1 for s in self.shift):
            raise InvalidInputError(
                f"RandomShift needs shift fractions in [0, 1] (e.g. 0.1 = up to 10 % of the axis), got {shift!r}"
            )
        self.shift = tuple(float(s) for s in self.shift)
        if mode not in ("wrap", "constant"):
            raise InvalidInputError(f"RandomShift got mode={mode!r}; use 'wrap' or 'constant'")
        self.mode = mode
        self.fill_value = float(fill_value)
        self.label_entries = _spatial.as_entries(label_entries, "label_entries")
        self.p = check_probability(p, "RandomShift")
        self.entries = _spatial.as_entries(entries)

    def __call__(self, sample: dict) -> dict:
        if not self._applies(self.p):
            return sample
        entries = present_entries(self, sample, self.entries)
        if not entries:
            return sample
        axes_by_entry = _spatial.normalized_axes(sample, entries, self.axis, "RandomShift")
        sizes = _spatial.common_axis_sizes(sample, axes_by_entry, "RandomShift")
        # inclusive on both ends: pymia 0.3.4 never drew the largest positive shift
        largest = [int(fraction * size) for fraction, size in zip(self.shift, sizes)]
        shifts = [int(self.rng.integers(-m, m + 1)) for m in largest]
        for entry, axes in axes_by_entry.items():
            if self.mode == "wrap":
                fill = None
            else:
                fill = 0 if entry in self.label_entries else self.fill_value
            by_axis: dict[int, int] = {}
            for axis, shift in zip(axes, shifts):
                by_axis[axis] = by_axis.get(axis, 0) + shift
            sample[entry] = shift_array(np.asarray(sample[entry]), by_axis, fill)
        return sample
