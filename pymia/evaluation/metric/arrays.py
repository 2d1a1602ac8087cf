"""Turn what users pass to a metric (numpy arrays, SimpleITK images) into checked numpy arrays.

Every metric entry point goes through these functions, so the rules are the same everywhere:
arrays in numpy axis order (z, y, x), spacing in mm in the same order, 1 mm per axis by default,
spacing read from SimpleITK images when they are given.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeAlias

import numpy as np
import SimpleITK as sitk

from pymia.errors import GeometryMismatchError, InvalidInputError

__all__ = [
    "ArrayOrImage",
    "Spacing",
    "as_binary_mask",
    "as_float_array",
    "check_same_shape",
    "resolve_spacing",
    "to_array",
]

#: A numpy array or a SimpleITK image (its spacing is used, reversed to numpy order).
ArrayOrImage: TypeAlias = "np.ndarray | sitk.Image"
#: Spacing in mm, one value per array axis in numpy order (z, y, x).
Spacing: TypeAlias = "Sequence[float] | None"


def to_array(image: Any, name: str) -> tuple[np.ndarray, tuple[float, ...] | None]:
    """Return the voxels of ``image`` as a numpy array and its spacing (numpy order) if it has one.

    Parameters
    ----------
    image : numpy.ndarray or SimpleITK.Image or array-like
        The input. The voxels of SimpleITK images are copied into a new array.
    name : str
        The argument name, used in error messages (e.g. ``'reference'``).

    Returns
    -------
    array : numpy.ndarray
        The voxels in numpy axis order (z, y, x).
    spacing : tuple of float or None
        The image spacing in mm in numpy order, or ``None`` for non-image inputs.
    """
    if isinstance(image, sitk.Image):
        if image.GetNumberOfComponentsPerPixel() != 1:
            raise InvalidInputError(
                f"{name} is a SimpleITK image with {image.GetNumberOfComponentsPerPixel()} components per "
                "pixel; metrics need scalar images. Select one component first (e.g. with "
                "sitk.VectorIndexSelectionCast)."
            )
        spacing = tuple(float(s) for s in reversed(image.GetSpacing()))
        # A copy, not GetArrayViewFromImage: a view dangles once a temporary image is freed.
        return sitk.GetArrayFromImage(image), spacing
    array = np.asarray(image)
    if array.dtype == object:
        raise InvalidInputError(
            f"{name} could not be turned into a numeric array (got {type(image).__name__} with dtype object); "
            "pass a numpy array or a SimpleITK image."
        )
    return array, None


def check_same_shape(reference: np.ndarray, prediction: np.ndarray) -> None:
    """Raise :class:`~pymia.errors.GeometryMismatchError` unless both arrays have the same shape."""
    if reference.shape != prediction.shape:
        raise GeometryMismatchError(
            f"reference and prediction differ in shape: reference {reference.shape}, prediction "
            f"{prediction.shape} (numpy order z, y, x); resample or crop one onto the grid of the other."
        )
    if reference.size == 0:
        raise InvalidInputError(
            f"reference and prediction are empty arrays (shape {reference.shape}); metrics need at least one voxel."
        )


def resolve_spacing(
    spacing: Spacing,
    ndim: int,
    reference_spacing: tuple[float, ...] | None = None,
    prediction_spacing: tuple[float, ...] | None = None,
) -> tuple[float, ...]:
    """Return the spacing to use: given explicitly, else from the images, else 1 mm per axis.

    Parameters
    ----------
    spacing : sequence of float or None
        Spacing in mm in numpy order (z, y, x), one positive finite value per axis.
    ndim : int
        Number of array axes.
    reference_spacing, prediction_spacing : tuple of float or None
        Spacing read from SimpleITK images (numpy order), if the inputs were images.

    Returns
    -------
    tuple of float
        ``ndim`` positive spacings in mm.

    Raises
    ------
    GeometryMismatchError
        If the two images have different spacings, or an explicit ``spacing`` contradicts them.
    InvalidInputError
        If ``spacing`` has the wrong length or non-positive / non-finite values.
    """
    if (
        reference_spacing is not None
        and prediction_spacing is not None
        and not np.allclose(reference_spacing, prediction_spacing, rtol=1e-6, atol=0.0)
    ):
        raise GeometryMismatchError(
            f"reference and prediction images have different spacings: {reference_spacing} vs "
            f"{prediction_spacing} mm (numpy order z, y, x); resample one onto the grid of the other."
        )
    image_spacing = reference_spacing if reference_spacing is not None else prediction_spacing
    if spacing is None:
        return image_spacing if image_spacing is not None else (1.0,) * ndim
    try:
        values = tuple(float(s) for s in np.ravel(np.asarray(spacing, dtype=float)))
    except (TypeError, ValueError) as error:
        raise InvalidInputError(f"spacing must be a sequence of numbers in mm, got {spacing!r}.") from error
    if len(values) != ndim:
        raise InvalidInputError(
            f"spacing has {len(values)} values {values} but the arrays have {ndim} axes; give one spacing per "
            "axis in numpy order (z, y, x), in mm."
        )
    if not all(np.isfinite(v) and v > 0 for v in values):
        raise InvalidInputError(f"spacing must be positive and finite, got {values} mm.")
    if image_spacing is not None and not np.allclose(values, image_spacing, rtol=1e-6, atol=0.0):
        raise GeometryMismatchError(
            f"spacing={values} contradicts the spacing {image_spacing} of the SimpleITK images (numpy order); "
            "leave spacing=None to use the images' spacing."
        )
    return values


def as_binary_mask(array: np.ndarray, name: str) -> np.ndarray:
    """Return ``array`` as a boolean mask; integer or float arrays must hold only 0 and 1.

    Parameters
    ----------
    array : numpy.ndarray
        A boolean array, or a numeric array with the values 0 and 1 only.
    name : str
        The argument name, used in error messages.

    Returns
    -------
    numpy.ndarray of bool
        The mask (the same object when ``array`` is boolean already).

    Raises
    ------
    InvalidInputError
        If the array holds other values than 0 and 1 (e.g. a label image with several labels).
    """
    if array.dtype == bool:
        return array
    if not (np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)):
        raise InvalidInputError(f"{name} must be a boolean or numeric mask, got dtype {array.dtype}.")
    if np.issubdtype(array.dtype, np.integer):
        valid = array.size == 0 or (array.min() >= 0 and array.max() <= 1)
    else:
        valid = bool(np.all((array == 0) | (array == 1)))
    if not valid:
        values = np.unique(array)
        shown = ", ".join(str(v) for v in values[:8]) + (", ..." if values.size > 8 else "")
        raise InvalidInputError(
            f"{name} must be a binary mask (0/1 or bool) but holds the values [{shown}]; select one label "
            f"first, e.g. `{name} == label`, or use pymia.evaluation.evaluator.SegmentationEvaluator for label "
            "images."
        )
    return array != 0


def as_float_array(array: np.ndarray, name: str) -> np.ndarray:
    """Return ``array`` as a float array (float32 and float64 stay as they are; other types become float64).

    Raises
    ------
    InvalidInputError
        If the array is not numeric or boolean (e.g. complex or strings).
    """
    if array.dtype in (np.float32, np.float64):
        return array
    if array.dtype == bool or np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating):
        return array.astype(np.float64)
    raise InvalidInputError(f"{name} must be a real-valued array, got dtype {array.dtype}.")
