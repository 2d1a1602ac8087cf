"""Input handling shared by all metrics: masks, dtypes, shapes, spacing from SimpleITK images, caching."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
import SimpleITK as sitk
from scipy.spatial import distance as scipy_distance

from pymia.errors import GeometryMismatchError, InvalidInputError
from pymia.evaluation.metric import (
    ContinuousInputs,
    PredictionArea,
    ReferenceArea,
    ReferenceVolume,
    SegmentationInputs,
    area,
    compute_surface_distances,
    dice,
    hausdorff_distance,
    mahalanobis_distance,
    volume,
)
from pymia.testing import ellipsoid_mask, ellipsoid_volume


def _image(array: np.ndarray, spacing_zyx: tuple[float, ...]) -> sitk.Image:
    image = sitk.GetImageFromArray(array.astype(np.uint8))
    image.SetSpacing(tuple(reversed(spacing_zyx)))
    return image


def test_spacing_is_read_from_simpleitk_images_in_numpy_order():
    """Closed form: a box shifted by one voxel along z is one z-spacing (3 mm) away."""
    reference = np.zeros((8, 8, 8), bool)
    reference[2:5, 2:5, 2:5] = True
    prediction = np.roll(reference, 1, axis=0)
    images = _image(reference, (3.0, 1.0, 0.5)), _image(prediction, (3.0, 1.0, 0.5))
    assert SegmentationInputs(*images).spacing == (3.0, 1.0, 0.5)
    assert hausdorff_distance(*images, method="voxel") == pytest.approx(3.0)
    assert hausdorff_distance(*images, spacing=(3.0, 1.0, 0.5), method="voxel") == pytest.approx(3.0)


def test_contradicting_spacings_are_refused():
    reference = np.zeros((4, 4), bool)
    with pytest.raises(GeometryMismatchError, match=r"different spacings"):
        SegmentationInputs(_image(reference, (1.0, 1.0)), _image(reference, (2.0, 1.0)))
    with pytest.raises(GeometryMismatchError, match=r"contradicts"):
        SegmentationInputs(_image(reference, (1.0, 1.0)), reference, spacing=(2.0, 2.0))


def test_label_images_are_refused_with_a_hint():
    labels = np.array([[0, 1], [2, 3]])
    with pytest.raises(InvalidInputError, match=r"holds the values \[0, 1, 2, 3\].*reference == label"):
        dice(labels, labels > 0)


@pytest.mark.parametrize(
    ("reference", "prediction", "spacing", "error", "match"),
    [
        (np.zeros((3, 4), bool), np.zeros((4, 3), bool), None, GeometryMismatchError, r"\(3, 4\).*\(4, 3\)"),
        (np.zeros((3, 4), bool), np.zeros((3, 4), bool), (1.0,), InvalidInputError, "spacing has 1 values"),
        (np.zeros((3, 4), bool), np.zeros((3, 4), bool), (1.0, -2.0), InvalidInputError, "positive"),
        (np.zeros((0, 4), bool), np.zeros((0, 4), bool), None, InvalidInputError, "empty arrays"),
        (np.zeros((3, 4), complex), np.zeros((3, 4), bool), None, InvalidInputError, "dtype complex"),
    ],
)
def test_invalid_inputs(reference, prediction, spacing, error, match):
    with pytest.raises(error, match=match):
        SegmentationInputs(reference, prediction, spacing)


def test_continuous_inputs_checks():
    with pytest.raises(InvalidInputError, match="mask has shape"):
        ContinuousInputs(np.zeros((3, 3)), np.zeros((3, 3)), mask=np.ones((2, 2), bool))
    with pytest.raises(InvalidInputError, match="4 components"):
        ContinuousInputs(sitk.Image([4, 4], sitk.sitkVectorFloat32, 4), np.zeros((4, 4)))
    inputs = ContinuousInputs(np.arange(6).reshape(2, 3), np.ones((2, 3), np.float32))
    assert inputs.reference.dtype == np.float64 and inputs.prediction.dtype == np.float32
    assert inputs.values()[0].tolist() == [0, 1, 2, 3, 4, 5]


def test_shared_computations_are_cached():
    reference = ellipsoid_mask((12, 12, 12), (4.0, 4.0, 4.0))
    inputs = SegmentationInputs(reference, np.roll(reference, 1, axis=1))
    assert inputs.confusion_matrix is inputs.confusion_matrix
    assert inputs.surface_distances("voxel") is inputs.surface_distances("voxel")
    assert inputs.surface_distances("voxel") is not inputs.surface_distances("surfel")
    with pytest.raises(InvalidInputError, match="method must be one of"):
        inputs.surface_distances("mesh")


def test_surfel_method_needs_2d_or_3d():
    masks = np.ones((2, 3, 3, 3), bool), np.ones((2, 3, 3, 3), bool)
    with pytest.raises(InvalidInputError, match="method='voxel'"):
        hausdorff_distance(*masks)


def test_volume_and_area_closed_forms():
    """Closed form: voxel counts × spacing on a box; phantoms approach the analytic ellipsoid volume."""
    box = np.zeros((10, 12, 14), bool)
    box[2:6, 3:9, 1:11] = True  # 4 × 6 × 10 voxels
    spacing = (2.0, 0.5, 1.5)
    assert volume(box, spacing=spacing) == pytest.approx(240 * 1.5)
    assert ReferenceVolume()(box, box, spacing=spacing) == pytest.approx(240 * 1.5)
    assert area(box, spacing=spacing) == pytest.approx(60 * 0.75)  # middle slice z = 5: 6 × 10 voxels
    assert area(box, spacing=spacing, slice_number=0) == 0.0
    assert area(box, spacing=spacing, slice_number=4, axis=2) == pytest.approx(24 * 1.0)
    assert area(box[3], spacing=spacing[1:]) == pytest.approx(60 * 0.75)
    assert ReferenceArea(slice_number=3)(box, box, spacing=spacing) == pytest.approx(60 * 0.75)
    assert PredictionArea()(box, np.zeros_like(box), spacing=spacing) == 0.0
    with pytest.raises(InvalidInputError, match="outside the 10 slices"):
        area(box, slice_number=10)
    phantom = ellipsoid_mask((60, 60, 60), (20.0, 15.0, 25.0), spacing=(0.9, 1.0, 1.1))
    assert volume(phantom, spacing=(0.9, 1.0, 1.1)) == pytest.approx(ellipsoid_volume((20.0, 15.0, 25.0)), rel=0.01)


def test_mahalanobis_equals_scipy_with_pooled_covariance():
    """Reference: scipy.spatial.distance.mahalanobis with the inverse of the pooled population covariance."""
    reference = ellipsoid_mask((20, 22, 24), (6.0, 4.0, 8.0), center_mm=(9.0, 10.0, 11.0))
    prediction = ellipsoid_mask((20, 22, 24), (5.0, 5.0, 7.0), center_mm=(10.5, 9.0, 13.0))
    points_r = np.argwhere(reference).astype(float)
    points_p = np.argwhere(prediction).astype(float)
    pooled = (len(points_r) * np.cov(points_r.T, bias=True) + len(points_p) * np.cov(points_p.T, bias=True)) / (
        len(points_r) + len(points_p)
    )
    expected = scipy_distance.mahalanobis(points_r.mean(0), points_p.mean(0), np.linalg.inv(pooled))
    assert mahalanobis_distance(reference, prediction) == pytest.approx(expected, rel=1e-9)
    # Invariant to the spacing (a linear change of coordinates).
    assert mahalanobis_distance(reference, prediction, spacing=(3.0, 0.5, 1.2)) == pytest.approx(expected, rel=1e-9)


def test_distance_memory_is_bounded_by_the_bounding_box():
    """A small object in a large image: the surface computation allocates far less than one image copy."""
    shape = (160, 160, 160)  # 4 MB as bool
    reference = np.zeros(shape, bool)
    reference[70:80, 70:82, 75:85] = True
    prediction = np.roll(reference, 2, axis=2)
    tracemalloc.start()
    try:
        for method in ("surfel", "voxel"):
            compute_surface_distances(reference, prediction, spacing=(1.0, 1.0, 1.0), method=method)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < reference.nbytes / 10
