"""Distance metrics against surface-distance (surfel method), MONAI, medpy and SimpleITK (voxel method)."""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk
import surface_distance
from metric_cases import case_ids, mask_pairs
from scipy import ndimage

from pymia.evaluation.metric import (
    AverageDistance,
    HausdorffDistance,
    SegmentationInputs,
    SurfaceDiceOverlap,
    SurfaceOverlap,
    average_surface_distance,
    hausdorff_distance,
    surface_dice,
    surface_overlap,
)
from pymia.testing import sphere_mask

CASES = mask_pairs()
# surface-distance imports from deprecated SciPy namespaces; MONAI warns about its own deprecations.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning")
RELATIVE = 1e-6


@pytest.fixture(scope="module")
def monai_metrics():
    pytest.importorskip("torch")
    return pytest.importorskip("monai.metrics")


@pytest.mark.parametrize(("name", "reference", "prediction", "spacing"), CASES, ids=case_ids())
@pytest.mark.parametrize("percentile", [100.0, 95.0, 50.0])
def test_surfel_hausdorff_equals_surface_distance(name, reference, prediction, spacing, percentile):
    """Reference: surface_distance.compute_robust_hausdorff (DeepMind) on the same masks and spacing."""
    expected = surface_distance.compute_robust_hausdorff(
        surface_distance.compute_surface_distances(reference, prediction, spacing), percentile
    )
    assert hausdorff_distance(reference, prediction, spacing=spacing, percentile=percentile) == pytest.approx(
        expected, rel=RELATIVE
    )


@pytest.mark.parametrize(("name", "reference", "prediction", "spacing"), CASES, ids=case_ids())
def test_surfel_average_and_surface_dice_equal_surface_distance(name, reference, prediction, spacing):
    """Reference: surface_distance.compute_surface_distances (ASSD = area-weighted mean of both of its
    distance arrays, Heimann et al. 2009), compute_average_surface_distance (the two directed means),
    compute_surface_dice_at_tolerance and compute_surface_overlap_at_tolerance."""
    distances = surface_distance.compute_surface_distances(reference, prediction, spacing)
    weighted_sum = np.sum(distances["distances_gt_to_pred"] * distances["surfel_areas_gt"]) + np.sum(
        distances["distances_pred_to_gt"] * distances["surfel_areas_pred"]
    )
    total_area = np.sum(distances["surfel_areas_gt"]) + np.sum(distances["surfel_areas_pred"])
    assert average_surface_distance(reference, prediction, spacing=spacing) == pytest.approx(
        weighted_sum / total_area, rel=RELATIVE
    )
    reference_to_prediction, prediction_to_reference = surface_distance.compute_average_surface_distance(distances)
    ours = SegmentationInputs(reference, prediction, spacing).surface_distances("surfel")
    assert ours.reference_to_prediction.mean() == pytest.approx(reference_to_prediction, rel=RELATIVE)
    assert ours.prediction_to_reference.mean() == pytest.approx(prediction_to_reference, rel=RELATIVE)
    for tolerance in (0.0, 1.0, 2.5):
        expected_dice = surface_distance.compute_surface_dice_at_tolerance(distances, tolerance)
        assert surface_dice(reference, prediction, spacing=spacing, tolerance=tolerance) == pytest.approx(
            expected_dice, rel=RELATIVE
        )
        overlap_reference, overlap_prediction = surface_distance.compute_surface_overlap_at_tolerance(
            distances, tolerance
        )
        assert surface_overlap(reference, prediction, spacing=spacing, tolerance=tolerance) == pytest.approx(
            overlap_prediction, rel=RELATIVE
        )
        assert surface_overlap(
            reference, prediction, spacing=spacing, tolerance=tolerance, prediction_to_reference=False
        ) == pytest.approx(overlap_reference, rel=RELATIVE)


@pytest.mark.parametrize(("name", "reference", "prediction", "spacing"), CASES, ids=case_ids())
def test_surfel_directed_distances_equal_surface_distance(name, reference, prediction, spacing):
    """Reference: the sorted distance/area arrays of surface_distance.compute_surface_distances."""
    theirs = surface_distance.compute_surface_distances(reference, prediction, spacing)
    ours = SegmentationInputs(reference, prediction, spacing).surface_distances("surfel")
    for directed, distances_key, areas_key in (
        (ours.reference_to_prediction, "distances_gt_to_pred", "surfel_areas_gt"),
        (ours.prediction_to_reference, "distances_pred_to_gt", "surfel_areas_pred"),
    ):
        np.testing.assert_allclose(directed.distances, theirs[distances_key], rtol=1e-12)
        # Ties in distance may be ordered differently: compare the area totals per distance value.
        assert directed.total_weight == pytest.approx(float(np.sum(theirs[areas_key])), rel=1e-12)
        for value in np.unique(directed.distances)[:10]:
            ours_area = directed.weights[directed.distances == value].sum()
            theirs_area = theirs[areas_key][theirs[distances_key] == value].sum()
            assert ours_area == pytest.approx(theirs_area, rel=1e-12)


@pytest.mark.slow  # importing MONAI takes tens of seconds (it pulls in TensorFlow)
@pytest.mark.parametrize(("name", "reference", "prediction", "spacing"), CASES, ids=case_ids())
def test_voxel_method_equals_monai(monai_metrics, name, reference, prediction, spacing):
    """Reference: MONAI compute_hausdorff_distance (max and percentile 95, torch.quantile),
    compute_average_surface_distance (symmetric and directed), compute_surface_dice (use_subvoxels=False)."""
    import torch

    y = torch.from_numpy(reference)[None, None]
    y_pred = torch.from_numpy(prediction)[None, None]
    for percentile in (None, 95.0):
        expected = float(
            monai_metrics.compute_hausdorff_distance(
                y_pred, y, include_background=True, percentile=percentile, spacing=spacing
            )
        )
        ours = hausdorff_distance(
            reference, prediction, spacing=spacing, percentile=percentile or 100.0, method="voxel"
        )
        assert ours == pytest.approx(expected, rel=RELATIVE)
    expected_average = float(
        monai_metrics.compute_average_surface_distance(
            y_pred, y, include_background=True, symmetric=True, spacing=spacing
        )
    )
    assert average_surface_distance(reference, prediction, spacing=spacing, method="voxel") == pytest.approx(
        expected_average, rel=RELATIVE
    )
    directed = float(
        monai_metrics.compute_average_surface_distance(y_pred, y, include_background=True, spacing=spacing)
    )
    ours = SegmentationInputs(reference, prediction, spacing).surface_distances("voxel")
    assert ours.prediction_to_reference.mean() == pytest.approx(directed, rel=RELATIVE)
    expected_dice = float(
        monai_metrics.compute_surface_dice(y_pred, y, [1.5], include_background=True, spacing=spacing)
    )
    assert surface_dice(reference, prediction, spacing=spacing, tolerance=1.5, method="voxel") == pytest.approx(
        expected_dice, rel=RELATIVE
    )


@pytest.mark.parametrize(("name", "reference", "prediction", "spacing"), CASES, ids=case_ids())
def test_voxel_method_equals_medpy(name, reference, prediction, spacing):
    """Reference: medpy.metric.binary.hd and assd (connectivity 1, medpy ≥ 0.5: mean over both boundaries)."""
    binary = pytest.importorskip("medpy.metric.binary")
    assert hausdorff_distance(reference, prediction, spacing=spacing, method="voxel") == pytest.approx(
        binary.hd(prediction, reference, voxelspacing=spacing), rel=RELATIVE
    )
    assert average_surface_distance(reference, prediction, spacing=spacing, method="voxel") == pytest.approx(
        binary.assd(prediction, reference, voxelspacing=spacing), rel=RELATIVE
    )


@pytest.mark.parametrize(("name", "reference", "prediction", "spacing"), CASES, ids=case_ids())
def test_voxel_percentiles_equal_brute_force(name, reference, prediction, spacing):
    """Reference: a brute-force computation in this test: boundary voxels by scipy.ndimage.binary_erosion,
    distances by scipy.ndimage.distance_transform_edt(sampling=spacing), percentiles by numpy.percentile
    (linear, as MONAI's torch.quantile), the larger direction."""
    boundaries = [mask & ~ndimage.binary_erosion(mask) for mask in (reference, prediction)]
    maps = [ndimage.distance_transform_edt(~boundary, sampling=spacing) for boundary in boundaries]
    reference_to_prediction = maps[1][boundaries[0]]
    prediction_to_reference = maps[0][boundaries[1]]
    for percentile in (95.0, 75.0, 100.0):
        expected = max(
            np.percentile(reference_to_prediction, percentile), np.percentile(prediction_to_reference, percentile)
        )
        ours = hausdorff_distance(reference, prediction, spacing=spacing, percentile=percentile, method="voxel")
        assert ours == pytest.approx(expected, rel=RELATIVE)
    for tolerance in (0.5, 1.5):
        within = np.sum(reference_to_prediction <= tolerance) + np.sum(prediction_to_reference <= tolerance)
        expected_dice = within / (reference_to_prediction.size + prediction_to_reference.size)
        ours_dice = surface_dice(reference, prediction, spacing=spacing, tolerance=tolerance, method="voxel")
        assert ours_dice == pytest.approx(expected_dice, rel=RELATIVE)


@pytest.mark.parametrize("spacing", [(1.0, 1.0, 1.0), (2.0, 0.9, 1.3)])
def test_voxel_hausdorff_equals_simpleitk_for_disjoint_spheres(spacing):
    """Reference: SimpleITK HausdorffDistanceImageFilter (whole voxel sets; for disjoint convex objects the
    farthest voxels lie on the boundaries, so the set and boundary Hausdorff distances coincide)."""
    shape = (24, 30, 34)
    reference = sphere_mask(shape, 6.0, spacing=spacing, center_mm=(10.0, 12.0, 10.0))
    prediction = sphere_mask(shape, 5.0, spacing=spacing, center_mm=(14.0, 16.0, 28.0))
    images = []
    for mask in (reference, prediction):
        image = sitk.GetImageFromArray(mask.astype(np.uint8))
        image.SetSpacing(spacing[::-1])
        images.append(image)
    hausdorff = sitk.HausdorffDistanceImageFilter()
    hausdorff.Execute(*images)
    assert hausdorff_distance(images[0], images[1], method="voxel") == pytest.approx(
        hausdorff.GetHausdorffDistance(), rel=RELATIVE
    )


def test_voxel_method_works_in_four_dimensions():
    """Closed form: two 4-D boxes offset by one voxel along the last axis (spacing 2 mm) are 2 mm apart
    everywhere on the faces perpendicular to it and 0 mm on the side faces."""
    reference = np.zeros((6, 6, 6, 8), bool)
    reference[1:5, 1:5, 1:5, 1:6] = True
    prediction = np.roll(reference, 1, axis=3)
    assert hausdorff_distance(reference, prediction, spacing=(1, 1, 1, 2), method="voxel") == pytest.approx(2.0)


def test_classes_equal_functions():
    """The classes call the same computation as the functions (and share one per method)."""
    _, reference, prediction, spacing = CASES[0]
    inputs = SegmentationInputs(reference, prediction, spacing)
    assert HausdorffDistance(percentile=95).calculate_from(inputs) == hausdorff_distance(
        reference, prediction, spacing=spacing, percentile=95
    )
    assert AverageDistance(method="voxel").calculate_from(inputs) == average_surface_distance(
        reference, prediction, spacing=spacing, method="voxel"
    )
    assert SurfaceDiceOverlap(tolerance=2.0).calculate_from(inputs) == surface_dice(
        reference, prediction, spacing=spacing, tolerance=2.0
    )
    assert SurfaceOverlap(tolerance=2.0, prediction_to_reference=False).calculate_from(inputs) == surface_overlap(
        reference, prediction, spacing=spacing, tolerance=2.0, prediction_to_reference=False
    )
    assert inputs.surface_distances("surfel") is inputs.surface_distances("surfel")


def test_analytic_shift_in_two_dimensions():
    """Closed form: a 5×5 square shifted by two columns at 0.5 mm column spacing. Every boundary voxel of the
    voxel method has its partner at 0 mm (top/bottom rows overlap) or 1 mm; the Hausdorff distance is 1 mm
    with both methods."""
    reference = np.zeros((12, 12), bool)
    reference[3:8, 3:8] = True
    prediction = np.roll(reference, 2, axis=1)
    for method in ("surfel", "voxel"):
        assert hausdorff_distance(reference, prediction, spacing=(1.0, 0.5), method=method) == pytest.approx(1.0)


@pytest.mark.parametrize("method", ["surfel", "voxel"])
def test_far_apart_objects_use_exact_distances(method):
    """Two boxes 30 voxels apart along x are farther apart than the search ball, so the k-d tree path runs.
    Reference: surface_distance (surfel); a brute-force pairwise computation on the boundary voxels (voxel)."""
    reference = np.zeros((10, 10, 50), bool)
    reference[3:7, 3:7, 5:9] = True
    prediction = np.roll(reference, 30, axis=2)
    spacing = (1.1, 0.9, 0.7)
    if method == "surfel":
        expected = surface_distance.compute_robust_hausdorff(
            surface_distance.compute_surface_distances(reference, prediction, spacing), 100
        )
    else:
        points_r = np.argwhere(reference & ~ndimage.binary_erosion(reference)) * spacing
        points_p = np.argwhere(prediction & ~ndimage.binary_erosion(prediction)) * spacing
        pairwise = np.linalg.norm(points_r[:, None] - points_p[None], axis=2)
        expected = max(pairwise.min(axis=1).max(), pairwise.min(axis=0).max())
    assert hausdorff_distance(reference, prediction, spacing=spacing, method=method) == pytest.approx(
        expected, rel=1e-12
    )


def test_one_dimensional_voxel_method():
    """Closed form: intervals [2, 5] and [9, 10] at 0.5 mm; boundary voxels {2, 5} and {9, 10}: distances
    from {2, 5} are 3.5 and 2.0 mm, from {9, 10} 2.0 and 2.5 mm."""
    reference = np.zeros(40, bool)
    reference[2:6] = True
    prediction = np.zeros(40, bool)
    prediction[9:11] = True
    assert hausdorff_distance(reference, prediction, spacing=(0.5,), method="voxel") == pytest.approx(3.5)
    assert average_surface_distance(reference, prediction, spacing=(0.5,), method="voxel") == pytest.approx(2.5)
