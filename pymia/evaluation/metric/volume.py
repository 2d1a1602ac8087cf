"""Size metrics of one mask in physical units: volume (REFVOL/PREDVOL) and area (REFAREA/PREDAREA).

Each is always defined: an empty mask has size 0.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from pymia.errors import InvalidInputError
from pymia.evaluation.metric.arrays import ArrayOrImage, Spacing, as_binary_mask, resolve_spacing, to_array
from pymia.evaluation.metric.base import SegmentationInputs, SegmentationMetric

__all__ = [
    "PredictionArea",
    "PredictionVolume",
    "ReferenceArea",
    "ReferenceVolume",
    "area",
    "volume",
]


def _volume(mask: np.ndarray, spacing: tuple[float, ...]) -> float:
    return float(np.count_nonzero(mask)) * float(np.prod(spacing))


def _area(mask: np.ndarray, spacing: tuple[float, ...], slice_number: int | None, axis: int) -> float:
    if mask.ndim == 2:
        return _volume(mask, spacing)
    if mask.ndim != 3:
        raise InvalidInputError(f"area needs a 2-D or 3-D mask, got {mask.ndim} axes (shape {mask.shape}).")
    if not -3 <= axis <= 2:
        raise InvalidInputError(f"axis must be 0, 1 or 2 for a 3-D mask, got {axis}.")
    axis %= 3
    size = mask.shape[axis]
    if slice_number is None:
        slice_number = size // 2
    if not 0 <= slice_number < size:
        raise InvalidInputError(
            f"slice_number {slice_number} is outside the {size} slices along axis {axis}; give 0..{size - 1}, "
            "or None for the middle slice."
        )
    plane = np.take(mask, slice_number, axis=axis)
    plane_spacing = tuple(s for a, s in enumerate(spacing) if a != axis)
    return _volume(plane, plane_spacing)


def _single_mask(mask: ArrayOrImage, spacing: Spacing) -> tuple[np.ndarray, tuple[float, ...]]:
    array, image_spacing = to_array(mask, "mask")
    array = as_binary_mask(array, "mask")
    return array, resolve_spacing(spacing, array.ndim, image_spacing)


def volume(mask: ArrayOrImage, *, spacing: Spacing = None) -> float:
    """Volume of a mask: voxel count × product of the spacing, in mm³ (mm² for 2-D masks).

    Parameters
    ----------
    mask : numpy.ndarray or SimpleITK.Image
        Binary mask, any number of axes, numpy order (z, y, x).
    spacing : sequence of float, optional
        Voxel spacing in mm, numpy order. Default: the image's spacing, else 1 mm.

    Returns
    -------
    float
        0 for an empty mask.

    Examples
    --------
    >>> import numpy as np
    >>> volume(np.ones((2, 3, 4), bool), spacing=(2.0, 1.0, 0.5))
    24.0
    """
    array, resolved = _single_mask(mask, spacing)
    return _volume(array, resolved)


def area(mask: ArrayOrImage, *, spacing: Spacing = None, slice_number: int | None = None, axis: int = 0) -> float:
    """Area in mm² of a 2-D mask, or of one slice of a 3-D mask.

    Parameters
    ----------
    mask : numpy.ndarray or SimpleITK.Image
        Binary mask, 2-D (y, x) or 3-D (z, y, x).
    spacing : sequence of float, optional
        Voxel spacing in mm, numpy order. Default: the image's spacing, else 1 mm.
    slice_number : int, optional
        3-D only: index of the slice along ``axis``. Default ``None``: the middle slice
        (``shape[axis] // 2``), as pymia 0.3.4.
    axis : int, optional
        3-D only: the axis the slice is taken across. Default 0 (an axial slice for z, y, x arrays).

    Returns
    -------
    float
        Voxel count of the (slice of the) mask × the in-plane spacings; 0 for an empty slice.
    """
    array, resolved = _single_mask(mask, spacing)
    return _area(array, resolved, slice_number, axis)


class ReferenceVolume(SegmentationMetric):
    """Volume of the reference in mm³ (id ``REFVOL``); see :func:`volume`."""

    def __init__(self, metric: str = "REFVOL") -> None:
        super().__init__(metric)

    def _calculate(self, inputs: SegmentationInputs) -> float:
        return _volume(inputs.reference, inputs.spacing)


class PredictionVolume(SegmentationMetric):
    """Volume of the prediction in mm³ (id ``PREDVOL``); see :func:`volume`."""

    def __init__(self, metric: str = "PREDVOL") -> None:
        super().__init__(metric)

    def _calculate(self, inputs: SegmentationInputs) -> float:
        return _volume(inputs.prediction, inputs.spacing)


class _SliceArea(SegmentationMetric):
    def __init__(self, slice_number: int | None, metric: str, axis: int) -> None:
        super().__init__(metric)
        if slice_number is not None and (not isinstance(slice_number, (int, np.integer)) or slice_number < 0):
            raise InvalidInputError(
                f"slice_number must be a non-negative slice index or None (the middle slice), got {slice_number!r}."
            )
        self.slice_number = None if slice_number is None else int(slice_number)
        self.axis = int(axis)

    def options(self) -> dict[str, Any]:
        return {"slice_number": self.slice_number, "axis": self.axis}


class ReferenceArea(_SliceArea):
    """Area of the reference (2-D) or of one of its slices (3-D) in mm² (id ``REFAREA``); see :func:`area`."""

    def __init__(self, slice_number: int | None = None, metric: str = "REFAREA", *, axis: int = 0) -> None:
        super().__init__(slice_number, metric, axis)

    def _calculate(self, inputs: SegmentationInputs) -> float:
        return _area(inputs.reference, inputs.spacing, self.slice_number, self.axis)


class PredictionArea(_SliceArea):
    """Area of the prediction (2-D) or of one of its slices (3-D) in mm² (id ``PREDAREA``); see :func:`area`."""

    def __init__(self, slice_number: int | None = None, metric: str = "PREDAREA", *, axis: int = 0) -> None:
        super().__init__(slice_number, metric, axis)

    def _calculate(self, inputs: SegmentationInputs) -> float:
        return _area(inputs.prediction, inputs.spacing, self.slice_number, self.axis)
