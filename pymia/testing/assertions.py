"""Assertions for tests of code that reads, writes or assembles images.

They raise ``AssertionError`` (as pytest and ``numpy.testing`` do) with a message that lists every
property that differs, so a failing round-trip test says at once whether the voxels, the size,
the spacing, the origin or the direction went wrong.
"""

from __future__ import annotations

import numpy as np
import SimpleITK as sitk

from pymia.data.conversion import ImageProperties

__all__ = ["assert_images_equal", "assert_same_geometry"]


def _properties(image: sitk.Image | ImageProperties) -> ImageProperties:
    return image if isinstance(image, ImageProperties) else ImageProperties(image)


def _geometry_differences(first: ImageProperties, second: ImageProperties, tolerance: float) -> list[str]:
    differences = []
    if first.size != second.size:
        differences.append(f"size {first.size} != {second.size}")
    for name in ("origin", "spacing", "direction"):
        a, b = getattr(first, name), getattr(second, name)
        if len(a) != len(b) or not np.allclose(a, b, rtol=0.0, atol=tolerance):
            differences.append(f"{name} {a} != {b}")
    return differences


def assert_same_geometry(
    actual: sitk.Image | ImageProperties, expected: sitk.Image | ImageProperties, *, tolerance: float = 1e-5
) -> None:
    """Assert that two images lie on the same grid.

    Parameters
    ----------
    actual, expected : SimpleITK.Image or ImageProperties
        The images (or their properties) to compare.
    tolerance : float, default 1e-5
        Absolute tolerance for origin and spacing (mm) and for the direction cosines. NIfTI stores
        geometry in single precision, so exact comparison fails after a NIfTI round trip.

    Raises
    ------
    AssertionError
        Listing each of size, origin, spacing and direction that differs, with both values.
    """
    differences = _geometry_differences(_properties(actual), _properties(expected), tolerance)
    if differences:
        raise AssertionError("images differ in geometry: " + "; ".join(differences))


def assert_images_equal(
    actual: sitk.Image,
    expected: sitk.Image,
    *,
    geometry_tolerance: float = 1e-5,
    rtol: float = 0.0,
    atol: float = 0.0,
    check_dtype: bool = True,
) -> None:
    """Assert that two SimpleITK images have the same geometry, pixel type and voxel values.

    Parameters
    ----------
    actual, expected : SimpleITK.Image
        Images of any dimension and number of components.
    geometry_tolerance : float, default 1e-5
        See :func:`assert_same_geometry`.
    rtol, atol : float, default 0
        Tolerances of the voxel comparison (``numpy.testing.assert_allclose``); 0 means equal.
    check_dtype : bool, default True
        Also require the same pixel type (e.g. both ``uint8``).

    Raises
    ------
    AssertionError
        On the first kind of difference found: geometry, components, pixel type, then voxels.
    """
    assert_same_geometry(actual, expected, tolerance=geometry_tolerance)
    if actual.GetNumberOfComponentsPerPixel() != expected.GetNumberOfComponentsPerPixel():
        raise AssertionError(
            f"images differ in components per pixel: {actual.GetNumberOfComponentsPerPixel()} != "
            f"{expected.GetNumberOfComponentsPerPixel()}"
        )
    actual_array, expected_array = sitk.GetArrayViewFromImage(actual), sitk.GetArrayViewFromImage(expected)
    if check_dtype and actual_array.dtype != expected_array.dtype:
        raise AssertionError(f"images differ in pixel type: {actual_array.dtype} != {expected_array.dtype}")
    np.testing.assert_allclose(actual_array, expected_array, rtol=rtol, atol=atol, err_msg="images differ in voxels")
