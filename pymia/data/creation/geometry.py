"""Geometry checks between the images of one subject, and optional resampling onto a reference grid.

All image entries of a subject (images, labels, mask) must share size, spacing, origin and direction
within a tolerance, because they are stacked voxel by voxel. Otherwise the creation fails with an
error that names the subject, both files and the values, unless resampling was asked for.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import SimpleITK as sitk

from pymia.data.conversion import ImageProperties, NumpySimpleITKImageBridge
from pymia.errors import GeometryMismatchError

__all__ = ["DEFAULT_TOLERANCE", "describe_mismatch", "require_same_geometry", "resample_onto"]

#: Default tolerance (mm for origin and spacing, unitless for the direction cosines). NIfTI stores
#: geometry as float32, so the same grid written as .nii.gz and .mha differs by about 1e-6.
DEFAULT_TOLERANCE = 1e-4


def describe_mismatch(reference: ImageProperties, other: ImageProperties, tolerance: float) -> list[str]:
    """Return one text per geometry field in which ``other`` differs from ``reference`` (empty if none)."""
    if reference.dimensions != other.dimensions:
        return [f"dimension {other.dimensions} vs {reference.dimensions}"]
    problems = []
    if reference.size != other.size:
        problems.append(f"size {other.size} vs {reference.size}")
    for field in ("spacing", "origin", "direction"):
        mine, theirs = getattr(other, field), getattr(reference, field)
        if not np.allclose(mine, theirs, atol=tolerance, rtol=0):
            rounded = tuple(round(v, 6) for v in mine), tuple(round(v, 6) for v in theirs)
            problems.append(f"{field} {rounded[0]} vs {rounded[1]}")
    return problems


def require_same_geometry(
    subject: str, reference: tuple[str, Any, ImageProperties], other: tuple[str, Any, ImageProperties], tolerance: float
) -> None:
    """Raise :class:`~pymia.errors.GeometryMismatchError` if two entries of a subject differ in geometry.

    ``reference`` and ``other`` are ``(entry id, file, properties)``.
    """
    problems = describe_mismatch(reference[2], other[2], tolerance)
    if problems:
        raise GeometryMismatchError(
            f"subject '{subject}': entry '{other[0]}' ({other[1]}) does not share the grid of entry "
            f"'{reference[0]}' ({reference[1]}): {'; '.join(problems)} (tolerance {tolerance}); "
            "resample the files onto one grid, or pass resample=True (--resample) to resample onto the first image"
        )


def resample_onto(
    array: np.ndarray, properties: ImageProperties, reference: ImageProperties, *, nearest: bool
) -> tuple[np.ndarray, ImageProperties]:
    """Resample an image onto the grid of ``reference`` (linear, or nearest neighbour for label maps).

    Returns the resampled array (numpy order, dtype kept) and its properties (those of ``reference``
    with the components of ``properties``).
    """
    image = NumpySimpleITKImageBridge.convert(array, properties)
    grid = sitk.Image([int(s) for s in reference.size], sitk.sitkUInt8)
    reference.copy_to(grid)
    interpolator = sitk.sitkNearestNeighbor if nearest else sitk.sitkLinear
    resampled = sitk.Resample(image, grid, sitk.Transform(), interpolator, 0.0, image.GetPixelID())
    return sitk.GetArrayFromImage(resampled), ImageProperties(resampled)
