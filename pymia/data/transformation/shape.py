"""Shape transforms: reshape, permute axes, remove or add axes, crop or pad to a size."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from pymia.data.transformation.transform import LoopEntryTransform, Transform, normalize_axis, present_entries
from pymia.errors import InvalidInputError

__all__ = ["Permute", "Reshape", "SizeCorrection", "Squeeze", "UnSqueeze"]


class Reshape(Transform):
    """Reshape entries, each to its own shape.

    Parameters
    ----------
    shapes : mapping of str to tuple of int
        Sample key → new shape (one dimension may be ``-1``, as in :func:`numpy.reshape`).
    """

    def __init__(self, shapes: Mapping[str, Sequence[int]]) -> None:
        self.shapes = {entry: tuple(shape) for entry, shape in shapes.items()}

    def __call__(self, sample: dict) -> dict:
        for entry in present_entries(self, sample, tuple(self.shapes)):
            array = np.asarray(sample[entry])
            try:
                sample[entry] = array.reshape(self.shapes[entry])
            except ValueError:
                raise InvalidInputError(
                    f"cannot reshape entry '{entry}' of shape {array.shape} ({array.size} values) to "
                    f"{self.shapes[entry]}"
                ) from None
        return sample


class Permute(LoopEntryTransform):
    """Permute the axes of entries (:func:`numpy.transpose`), e.g. (z, y, x, c) → (c, z, y, x).

    Parameters
    ----------
    permutation : tuple of int
        The new axis order, a permutation of ``range(ndim)``.
    entries : sequence of str, default ('images', 'labels')
        The sample keys to permute.
    """

    def __init__(self, permutation: Sequence[int], entries: Sequence[str] = ("images", "labels")) -> None:
        super().__init__(None, entries)
        self.permutation = tuple(permutation)

    def transform_entry(self, array: np.ndarray, entry: str, loop_index: int | None = None) -> np.ndarray:
        if sorted(self.permutation) != list(range(array.ndim)):
            raise InvalidInputError(
                f"permutation {self.permutation} does not fit entry '{entry}' of shape {array.shape}; "
                f"give each of the axes 0..{array.ndim - 1} once"
            )
        return np.transpose(array, self.permutation)


class Squeeze(LoopEntryTransform):
    """Remove axes of length 1.

    Parameters
    ----------
    entries : sequence of str, default ('images', 'labels')
        The sample keys to squeeze.
    squeeze_axis : int or tuple of int, optional
        The axes to remove; default all axes of length 1.
    """

    def __init__(
        self, entries: Sequence[str] = ("images", "labels"), squeeze_axis: int | tuple[int, ...] | None = None
    ) -> None:
        super().__init__(None, entries)
        self.squeeze_axis = squeeze_axis

    def transform_entry(self, array: np.ndarray, entry: str, loop_index: int | None = None) -> np.ndarray:
        try:
            return np.squeeze(array, axis=self.squeeze_axis)
        except ValueError:
            raise InvalidInputError(
                f"cannot squeeze axis {self.squeeze_axis} of entry '{entry}' with shape {array.shape}: "
                "only axes of length 1 can be removed"
            ) from None


class UnSqueeze(LoopEntryTransform):
    """Insert an axis of length 1.

    Parameters
    ----------
    axis : int, default -1
        Position of the new axis in the result (``-1``: a trailing channel axis).
    entries : sequence of str, default ('images', 'labels')
        The sample keys to expand.
    """

    def __init__(self, axis: int = -1, entries: Sequence[str] = ("images", "labels")) -> None:
        super().__init__(None, entries)
        self.axis = axis

    def transform_entry(self, array: np.ndarray, entry: str, loop_index: int | None = None) -> np.ndarray:
        normalize_axis(self.axis, array.ndim + 1, entry)
        return np.expand_dims(array, self.axis)


class SizeCorrection(LoopEntryTransform):
    """Crop or pad the leading axes of entries, centred, to a given shape.

    Parameters
    ----------
    shape : tuple of int or None
        Target size of the leading axes, e.g. (z, y, x) for a (z, y, x, c) image; ``None`` or a
        negative value keeps that axis. Trailing axes not listed (the channel axis) are kept.
    pad_value : float, default 0
        The value of padded voxels.
    entries : sequence of str, default ('images', 'labels')
        The sample keys to correct.

    Notes
    -----
    Cropping removes ``(size - target) // 2`` voxels before and the rest after; padding adds
    ``(target - size) // 2`` before and the rest after. So cropping then padding back restores the
    centred part at the same place.
    """

    def __init__(
        self,
        shape: Sequence[int | None],
        pad_value: float = 0,
        entries: Sequence[str] = ("images", "labels"),
    ) -> None:
        super().__init__(None, entries)
        self.shape = tuple(shape)
        self.pad_value = pad_value

    def transform_entry(self, array: np.ndarray, entry: str, loop_index: int | None = None) -> np.ndarray:
        if len(self.shape) > array.ndim:
            raise InvalidInputError(
                f"SizeCorrection shape {self.shape} has more axes than entry '{entry}' of shape {array.shape}"
            )
        crop = []
        pad = []
        for size, target in zip(array.shape, self.shape):
            if target is None or target < 0 or target == size:
                crop.append(slice(None))
                pad.append((0, 0))
            elif size > target:
                start = (size - target) // 2
                crop.append(slice(start, start + target))
                pad.append((0, 0))
            else:
                crop.append(slice(None))
                before = (target - size) // 2
                pad.append((before, target - size - before))
        pad.extend([(0, 0)] * (array.ndim - len(pad)))
        array = array[tuple(crop)]
        if any(p != (0, 0) for p in pad):
            array = np.pad(array, pad, mode="constant", constant_values=self.pad_value)
        return array
