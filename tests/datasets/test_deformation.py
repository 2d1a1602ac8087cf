"""Tests of the random deformations: equal to SimpleITK's own resampling through the same transform."""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk

from pymia.datasets import deformation
from pymia.testing import phantoms

SETTINGS = deformation.DeformationSettings(bspline_std_mm=3.0, rotation_std_degrees=4.0, translation_std_mm=2.0)


@pytest.mark.parametrize("dimensions", [2, 3])
def test_warp_matches_simpleitk_resample_with_oblique_geometry(dimensions):
    """Reference: ``sitk.Resample`` through the very transform the field was computed from.

    The grid has anisotropic spacing, an origin and a rotated direction, so any mistake in the
    physical-to-voxel conversion or in the axis order shows up as a large difference.
    """
    shape = (30, 34, 38)[-dimensions:]
    spacing = (2.0, 1.5, 1.0)[-dimensions:]
    image_array = phantoms.intensity_image(
        phantoms.nested_ellipsoids(
            shape, [(14.0, 14.0, 14.0)[-dimensions:], (7.0, 8.0, 9.0)[-dimensions:]], spacing=spacing
        ).labels,
        {1: 1.0, 2: 2.0},
    )
    image = phantoms.make_image(
        image_array,
        spacing=spacing,
        origin=(5.0, -3.0, 12.0)[:dimensions],
        direction=phantoms.oblique_direction(dimensions, 25.0),
    )
    displacement = deformation.random_displacement(image, np.random.default_rng(11), SETTINGS)
    assert displacement.shape == (dimensions, *shape) and displacement.dtype == np.float32
    assert np.abs(displacement).max() > 0.5  # it really deforms

    (warped,) = deformation.warp([image_array], displacement)
    transform = deformation._random_transform(image, np.random.default_rng(11), SETTINGS)
    expected = sitk.GetArrayFromImage(sitk.Resample(image, image, transform, sitk.sitkLinear, 0.0))
    interior = tuple(slice(2, n - 2) for n in shape)  # borders differ by extrapolation rules only
    difference = np.abs(warped[interior] - expected[interior])
    # Trilinear up-sampling of a field sampled every 4 voxels: sub-voxel error on a 0–2 image.
    assert np.percentile(difference, 99) < 0.2
    assert difference.mean() < 0.02


def test_same_generator_state_gives_same_field():
    image = phantoms.make_image(np.zeros((12, 14, 16), np.float32), spacing=(2.0, 2.0, 2.0))
    first = deformation.random_displacement(image, np.random.default_rng(3))
    second = deformation.random_displacement(image, np.random.default_rng(3))
    third = deformation.random_displacement(image, np.random.default_rng(4))
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(first, third)


def test_nearest_neighbour_warp_keeps_label_values_and_dtype():
    labels = phantoms.nested_ellipsoids((20, 22, 24), [(8.0, 9.0, 10.0), (4.0, 4.0, 4.0)]).labels
    image = phantoms.make_image(labels)
    (warped,) = deformation.warp([labels], deformation.random_displacement(image, np.random.default_rng(0)), order=0)
    assert warped.dtype == labels.dtype
    assert set(np.unique(warped)) == {0, 1, 2}


def test_interpolation_matrix_reproduces_linear_functions():
    """Linear interpolation is exact for linear data: samples of 3·x + 1 every 4 points → every point."""
    matrix = deformation._interpolation_matrix(17, 5, 4)
    coarse = 3.0 * np.arange(0, 17, 4) + 1.0
    np.testing.assert_allclose(matrix @ coarse, 3.0 * np.arange(17) + 1.0)
    np.testing.assert_allclose(matrix.sum(axis=1), 1.0)
