"""Masking: set voxels outside a mask (read from another sample entry) to a constant."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pymia.data.transformation.transform import LoopEntryTransform, present_entries
from pymia.errors import InvalidInputError

__all__ = ["Mask"]


class Mask(LoopEntryTransform):
    """Set the voxels where ``sample[mask_key] == mask_value`` to ``masking_value``.

    Parameters
    ----------
    mask_key : str
        The sample key holding the mask (e.g. ``'mask'``), shape equal to the masked entries or
        broadcastable to them: a (z, y, x, 1) or (z, y, x) mask applies to every channel of a
        (z, y, x, c) image.
    mask_value : int, default 0
        The mask value that marks voxels to overwrite (0: outside of the mask).
    masking_value : float, default 0
        The value written there.
    loop_axis : int, optional
        Apply slice by slice along this axis (the mask is sliced the same way when it has that axis).
    entries : sequence of str, default ('images', 'labels')
        The sample keys to mask.
    """

    def __init__(
        self,
        mask_key: str,
        mask_value: int = 0,
        masking_value: float = 0,
        loop_axis: int | None = None,
        entries: Sequence[str] = ("images", "labels"),
    ) -> None:
        super().__init__(loop_axis, entries)
        self.mask_key = mask_key
        self.mask_value = mask_value
        self.masking_value = masking_value
        self._mask: np.ndarray | None = None

    def __call__(self, sample: dict) -> dict:
        if not present_entries(self, sample, (self.mask_key,)):
            return sample
        self._mask = np.asarray(sample[self.mask_key]) == self.mask_value
        try:
            return super().__call__(sample)
        finally:
            self._mask = None

    def transform_entry(self, array: np.ndarray, entry: str, loop_index: int | None = None) -> np.ndarray:
        where = self._mask
        if loop_index is not None and where.ndim == array.ndim + 1:
            axis = self.loop_axis % where.ndim
            where = np.take(where, loop_index if where.shape[axis] > 1 else 0, axis=axis)
        elif where.ndim == array.ndim - 1:
            where = where[..., np.newaxis]  # a (z, y, x) mask for a (z, y, x, c) image
        try:
            where = np.broadcast_to(where, array.shape)
        except ValueError:
            raise InvalidInputError(
                f"mask '{self.mask_key}' of shape {self._mask.shape} does not fit entry '{entry}' of shape "
                f"{array.shape}; the mask must have the entry's shape or a channel axis of length 1"
            ) from None
        out = array.copy()
        out[where] = self.masking_value
        return out
