"""Continuous metrics against scikit-image and scikit-learn, 2-D and 3-D, with and without masks."""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk
from scipy import ndimage
from skimage import metrics as skimage_metrics
from sklearn import metrics as sklearn_metrics

from pymia.errors import InvalidInputError
from pymia.evaluation.metric import (
    ContinuousInputs,
    PeakSignalToNoiseRatio,
    StructuralSimilarityIndexMeasure,
    coefficient_of_determination,
    mean_absolute_error,
    mean_squared_error,
    normalized_root_mean_squared_error,
    peak_signal_to_noise_ratio,
    root_mean_squared_error,
    structural_similarity,
)


def _image_pair(shape: tuple[int, ...], seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A smooth image in [0, 100] and a noisy, slightly biased copy."""
    generator = np.random.default_rng(seed)
    reference = ndimage.gaussian_filter(generator.random(shape), 2.0)
    reference = 100 * (reference - reference.min()) / (reference.max() - reference.min())
    prediction = 0.95 * reference + 2.0 + generator.normal(0.0, 3.0, shape)
    return reference, prediction


SHAPES = [(40, 36), (18, 20, 22)]


@pytest.mark.parametrize("shape", SHAPES)
def test_errors_equal_scikit_learn(shape):
    """Reference: sklearn.metrics mean_absolute_error, mean_squared_error, r2_score on the flattened images."""
    reference, prediction = _image_pair(shape, 0)
    y_true, y_pred = reference.ravel(), prediction.ravel()
    assert mean_absolute_error(reference, prediction) == pytest.approx(
        sklearn_metrics.mean_absolute_error(y_true, y_pred), rel=1e-12
    )
    assert mean_squared_error(reference, prediction) == pytest.approx(
        sklearn_metrics.mean_squared_error(y_true, y_pred), rel=1e-12
    )
    assert root_mean_squared_error(reference, prediction) == pytest.approx(
        np.sqrt(sklearn_metrics.mean_squared_error(y_true, y_pred)), rel=1e-12
    )
    assert coefficient_of_determination(reference, prediction) == pytest.approx(
        sklearn_metrics.r2_score(y_true, y_pred), rel=1e-12
    )


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("normalization", ["min-max", "euclidean", "mean"])
def test_normalized_rmse_equals_scikit_image(shape, normalization):
    """Reference: skimage.metrics.normalized_root_mse(reference, prediction, normalization=...)."""
    reference, prediction = _image_pair(shape, 1)
    expected = skimage_metrics.normalized_root_mse(reference, prediction, normalization=normalization)
    assert normalized_root_mean_squared_error(reference, prediction, normalization=normalization) == pytest.approx(
        expected, rel=1e-12
    )


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("data_range", [100.0, 255.0])
def test_psnr_equals_scikit_image(shape, data_range):
    """Reference: skimage.metrics.peak_signal_noise_ratio(reference, prediction, data_range=...)."""
    reference, prediction = _image_pair(shape, 2)
    expected = skimage_metrics.peak_signal_noise_ratio(reference, prediction, data_range=data_range)
    assert peak_signal_to_noise_ratio(reference, prediction, data_range=data_range) == pytest.approx(
        expected, rel=1e-12
    )


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize(
    "options",
    [
        {},
        {"win_size": 5},
        {"gaussian_weights": True},
        {"gaussian_weights": True, "sigma": 1.0},
        {"k1": 0.02, "k2": 0.05},
    ],
)
def test_ssim_equals_scikit_image(shape, options):
    """Reference: skimage.metrics.structural_similarity(reference, prediction, data_range=100, **options) on
    float64 images; 3-D is volumetric in both."""
    reference, prediction = _image_pair(shape, 3)
    skimage_options = dict(options)
    if "k1" in skimage_options:
        skimage_options["K1"] = skimage_options.pop("k1")
        skimage_options["K2"] = skimage_options.pop("k2")
    expected = skimage_metrics.structural_similarity(reference, prediction, data_range=100.0, **skimage_options)
    assert structural_similarity(reference, prediction, data_range=100.0, **options) == pytest.approx(
        expected, rel=1e-9
    )


def test_ssim_class_default_range_is_the_reference_range():
    """Reference: skimage.metrics.structural_similarity with data_range = reference.max() − reference.min()."""
    reference, prediction = _image_pair((30, 30), 4)
    reference = reference + 50.0
    expected = skimage_metrics.structural_similarity(
        reference, prediction, data_range=float(reference.max() - reference.min())
    )
    assert StructuralSimilarityIndexMeasure()(reference, prediction) == pytest.approx(expected, rel=1e-9)


def test_masks_select_the_compared_voxels():
    """Closed form: a masked metric equals the metric of the selected voxels as 1-D arrays."""
    reference, prediction = _image_pair((20, 24), 5)
    mask = np.zeros(reference.shape, bool)
    mask[5:15, 3:20] = True
    assert mean_absolute_error(reference, prediction, mask=mask) == pytest.approx(
        mean_absolute_error(reference[mask], prediction[mask]), rel=1e-12
    )
    assert PeakSignalToNoiseRatio(data_range=100.0)(reference, prediction, mask=mask) == pytest.approx(
        peak_signal_to_noise_ratio(reference[mask], prediction[mask], data_range=100.0), rel=1e-12
    )


def test_ssim_with_mask_averages_the_map_inside_the_mask():
    """Reference: skimage.metrics.structural_similarity(full=True) map averaged over the masked interior."""
    reference, prediction = _image_pair((32, 30), 6)
    mask = np.zeros(reference.shape, bool)
    mask[8:25, 5:20] = True
    _, ssim_map = skimage_metrics.structural_similarity(reference, prediction, data_range=100.0, full=True)
    assert structural_similarity(reference, prediction, data_range=100.0, mask=mask) == pytest.approx(
        ssim_map[mask].mean(), rel=1e-9
    )


def test_float32_and_integer_images():
    """Reference: skimage.metrics.peak_signal_noise_ratio on float64 copies of the same values."""
    reference, prediction = _image_pair((16, 16), 7)
    expected = skimage_metrics.peak_signal_noise_ratio(
        reference.astype(np.float32).astype(np.float64),
        prediction.astype(np.float32).astype(np.float64),
        data_range=100,
    )
    ours = peak_signal_to_noise_ratio(reference.astype(np.float32), prediction.astype(np.float32), data_range=100)
    assert ours == pytest.approx(expected, rel=1e-12)
    integers = peak_signal_to_noise_ratio(
        np.arange(10, dtype=np.int16), np.arange(10, dtype=np.int16) + 1, data_range=10
    )
    assert integers == pytest.approx(20.0)


def test_simpleitk_images_are_accepted():
    """Closed form: the same MSE from SimpleITK images as from their arrays."""
    reference, prediction = _image_pair((6, 7, 8), 8)
    images = [sitk.GetImageFromArray(a) for a in (reference, prediction)]
    inputs = ContinuousInputs(*images)
    assert inputs.spacing == (1.0, 1.0, 1.0)
    assert mean_squared_error(*images) == pytest.approx(mean_squared_error(reference, prediction), rel=1e-12)


def test_ssim_needs_2d_or_3d_images_larger_than_the_window():
    with pytest.raises(InvalidInputError, match="smaller than the SSIM window"):
        structural_similarity(np.zeros((5, 30)), np.zeros((5, 30)), data_range=1.0)
    with pytest.raises(InvalidInputError, match="2-D or 3-D"):
        structural_similarity(np.zeros((8,) * 4), np.zeros((8,) * 4), data_range=1.0)
    with pytest.raises(InvalidInputError, match="data_range"):
        structural_similarity(np.zeros((8, 8)), np.zeros((8, 8)), data_range=0.0)
    with pytest.raises(InvalidInputError, match="data_range"):
        peak_signal_to_noise_ratio(np.zeros(4), np.zeros(4), data_range=-1.0)
