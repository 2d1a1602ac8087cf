"""Intensity transforms: z-score statistics, percentile windows against numpy, gamma, noise and shift."""

from __future__ import annotations

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pymia.data import augmentation as aug
from pymia.errors import InvalidInputError


def image_of(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    """Channels with very different scales and offsets, so per-channel statistics matter."""
    rng = np.random.default_rng(seed)
    scales = np.array([1.0, 50.0, 0.01])[: shape[-1]]
    offsets = np.array([0.0, 1000.0, -3.0])[: shape[-1]]
    return (rng.gamma(2.0, size=shape) * scales + offsets).astype(np.float32)


# --- z-score -----------------------------------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(
    image=hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=3, max_dims=4, min_side=2, max_side=6),
        elements=st.integers(-(10**6), 10**6).map(lambda v: v / 1000),  # intensities on a 0.001 grid
    )
)
def test_zscore_per_channel_has_mean_zero_and_std_one(image: np.ndarray) -> None:
    out = aug.ZScoreNormalization()({"images": image})["images"]
    spatial = tuple(range(image.ndim - 1))
    table = image.reshape(-1, image.shape[-1])
    constant = table.min(axis=0) == table.max(axis=0)
    np.testing.assert_array_equal(out[..., constant], 0.0)
    np.testing.assert_allclose(out.mean(axis=spatial), 0.0, atol=1e-9)
    np.testing.assert_allclose(out.std(axis=spatial)[~constant], 1.0, rtol=1e-6)
    assert out.dtype == np.float64


@pytest.mark.parametrize("shape", [(12, 14, 3), (6, 8, 7, 3)])
def test_zscore_float32_output_and_joint_statistics(shape: tuple[int, ...]) -> None:
    image = image_of(shape)
    per_channel = aug.ZScoreNormalization()({"images": image})["images"]
    assert per_channel.dtype == np.float32
    np.testing.assert_allclose(per_channel.reshape(-1, 3).mean(axis=0), 0.0, atol=1e-4)
    np.testing.assert_allclose(per_channel.reshape(-1, 3).std(axis=0), 1.0, rtol=1e-4)
    joint = aug.ZScoreNormalization(per_channel=False)({"images": image})["images"]
    reference = (image.astype(np.float64) - image.mean(dtype=np.float64)) / image.std(dtype=np.float64)
    np.testing.assert_allclose(joint, reference, rtol=1e-5, atol=1e-5)


def test_zscore_statistics_from_a_mask_and_an_empty_mask_falls_back_to_all_voxels() -> None:
    image = image_of((10, 10, 2))
    mask = np.zeros((10, 10, 1), dtype=np.uint8)
    mask[2:7, 3:9] = 1
    out = aug.ZScoreNormalization(mask="mask")({"images": image, "mask": mask})["images"]
    inside = out[mask[..., 0] == 1]
    np.testing.assert_allclose(inside.mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(inside.std(axis=0), 1.0, rtol=1e-5)
    assert not np.allclose(out.reshape(-1, 2).mean(axis=0), 0.0, atol=1e-3)
    empty = aug.ZScoreNormalization(mask="mask")({"images": image, "mask": np.zeros_like(mask)})["images"]
    np.testing.assert_allclose(empty, aug.ZScoreNormalization()({"images": image})["images"])


def test_zscore_from_a_voxel_sample_is_close_to_the_full_statistics_and_seeded() -> None:
    """With 20 % of 64 000 voxels the sample mean/std are within a few percent of the full ones."""
    image = image_of((40, 40, 40, 2))
    full = aug.ZScoreNormalization()({"images": image})["images"]
    sampled = aug.ZScoreNormalization(sample_fraction=0.2, seed=3)({"images": image})["images"]
    assert not np.array_equal(full, sampled)
    np.testing.assert_allclose(sampled.reshape(-1, 2).mean(axis=0), 0.0, atol=0.03)
    np.testing.assert_allclose(sampled.reshape(-1, 2).std(axis=0), 1.0, rtol=0.03)
    again = aug.ZScoreNormalization(sample_fraction=0.2, seed=3)({"images": image})["images"]
    np.testing.assert_array_equal(sampled, again)


def test_zscore_constant_channel_becomes_zeros() -> None:
    image = np.stack([np.full((4, 4), 7.0), np.arange(16.0).reshape(4, 4)], axis=-1).astype(np.float32)
    out = aug.ZScoreNormalization()({"images": image})["images"]
    assert np.all(out[..., 0] == 0) and np.all(np.isfinite(out))


@pytest.mark.parametrize("fraction", [0.0, 1.5, "half"])
def test_zscore_rejects_bad_sample_fraction(fraction) -> None:
    with pytest.raises(InvalidInputError, match="sample_fraction"):
        aug.ZScoreNormalization(sample_fraction=fraction)


def test_zscore_mask_must_exist_and_match_the_grid() -> None:
    image = image_of((6, 6, 1))
    with pytest.raises(InvalidInputError, match="'brain' is not in the sample"):
        aug.ZScoreNormalization(mask="brain")({"images": image})
    with pytest.raises(InvalidInputError, match=r"\(5, 6, 1\)"):
        aug.ZScoreNormalization(mask="brain")({"images": image, "brain": np.ones((5, 6, 1))})


# --- percentile windowing ------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(30, 40, 3), (10, 12, 14, 2)])
def test_windowing_clips_each_channel_to_numpy_quantiles(shape: tuple[int, ...]) -> None:
    """Reference: numpy.quantile of each channel at 0.6 and 0.99 (fractions, not percents)."""
    image = image_of(shape)
    out = aug.PercentileWindowing()({"images": image})["images"]
    table = image.reshape(-1, shape[-1]).astype(np.float64)
    low, high = np.quantile(table, 0.6, axis=0), np.quantile(table, 0.99, axis=0)
    np.testing.assert_allclose(out.reshape(-1, shape[-1]).min(axis=0), low, rtol=1e-6)
    np.testing.assert_allclose(out.reshape(-1, shape[-1]).max(axis=0), high, rtol=1e-6)
    np.testing.assert_allclose(out, np.clip(image, low.astype(np.float32), high.astype(np.float32)))
    assert out.dtype == np.float32


def test_windowing_output_range_joint_and_mask() -> None:
    image = image_of((20, 20, 2))
    out = aug.PercentileWindowing(0.05, 0.95, output_range=(0.0, 1.0))({"images": image})["images"]
    low = np.quantile(image.reshape(-1, 2), 0.05, axis=0)
    high = np.quantile(image.reshape(-1, 2), 0.95, axis=0)
    expected = (np.clip(image, low, high) - low) / (high - low)
    np.testing.assert_allclose(out, expected, atol=1e-6)
    joint = aug.PercentileWindowing(0.1, 0.9, per_channel=False)({"images": image})["images"]
    assert joint.min() == pytest.approx(np.quantile(image, 0.1))
    assert joint.max() == pytest.approx(np.quantile(image, 0.9))
    mask = np.zeros((20, 20), dtype=bool)
    mask[:5] = True
    masked = aug.PercentileWindowing(0.0, 0.5, mask="mask")({"images": image, "mask": mask})["images"]
    np.testing.assert_allclose(masked.reshape(-1, 2).max(axis=0), np.quantile(image[:5].reshape(-1, 2), 0.5, axis=0))


def test_windowing_identity_at_zero_and_one_and_rejects_percents() -> None:
    image = image_of((8, 8, 2))
    np.testing.assert_array_equal(aug.PercentileWindowing(0.0, 1.0)({"images": image})["images"], image)
    with pytest.raises(InvalidInputError, match="fractions"):
        aug.PercentileWindowing(1.0, 99.0)
    with pytest.raises(InvalidInputError, match="output_range"):
        aug.PercentileWindowing(output_range=(1.0, 0.0))


# --- random intensity transforms -------------------------------------------------------------------------


def test_gamma_keeps_the_range_of_each_channel_and_is_identity_at_one() -> None:
    image = image_of((16, 16, 3))
    out = aug.RandomGamma((0.5, 2.0), per_channel=True, seed=0)({"images": image})["images"]
    np.testing.assert_allclose(out.reshape(-1, 3).min(axis=0), image.reshape(-1, 3).min(axis=0), rtol=1e-5)
    np.testing.assert_allclose(out.reshape(-1, 3).max(axis=0), image.reshape(-1, 3).max(axis=0), rtol=1e-5)
    assert not np.allclose(out, image)
    # monotonic: the order of the voxels within a channel is kept
    for channel in range(3):
        order = np.argsort(image[..., channel], axis=None)
        assert np.all(np.diff(out[..., channel].ravel()[order]) >= -1e-4 * np.ptp(image[..., channel]))
    identity = aug.RandomGamma(1.0, seed=0)({"images": image})["images"]
    np.testing.assert_allclose(identity, image, rtol=1e-5, atol=1e-5)


def test_gamma_matches_the_formula_with_the_drawn_exponent() -> None:
    """Reference: lo + (hi - lo) * ((x - lo) / (hi - lo)) ** gamma with gamma re-drawn from the same seed."""
    image = image_of((10, 10, 1)).astype(np.float64)
    out = aug.RandomGamma((0.7, 1.5), seed=9)({"images": image})["images"]
    rng = np.random.default_rng(9)
    rng.random()
    gamma = rng.uniform(0.7, 1.5, size=1)
    lo, hi = image.min(), image.max()
    np.testing.assert_allclose(out, lo + (hi - lo) * ((image - lo) / (hi - lo)) ** gamma, rtol=1e-12)


def test_gaussian_noise_has_the_requested_std_and_mean() -> None:
    image = np.zeros((100, 100, 2), dtype=np.float32)
    out = aug.RandomGaussianNoise(0.3, mean=1.0, seed=0)({"images": image})["images"]
    assert out.dtype == np.float32
    assert out.std() == pytest.approx(0.3, rel=0.02)
    assert out.mean() == pytest.approx(1.0, abs=0.01)
    assert not np.array_equal(out[..., 0], out[..., 1])
    unchanged = aug.RandomGaussianNoise((0.0, 0.0), seed=0)({"images": image})["images"]
    np.testing.assert_array_equal(unchanged, image)


def test_intensity_shift_adds_one_offset_per_channel_within_the_range() -> None:
    image = image_of((12, 12, 3))
    offsets = []
    shift = aug.RandomIntensityShift(0.5, seed=1)
    for _ in range(30):
        out = shift({"images": image})["images"]
        difference = (out - image).reshape(-1, 3)
        np.testing.assert_allclose(difference, difference[:1].repeat(len(difference), axis=0), atol=1e-3)
        offsets.append(difference[0])
    offsets = np.array(offsets)
    assert np.all(np.abs(offsets) <= 0.5 + 1e-3) and offsets.max() > 0.3 and offsets.min() < -0.3
    np.testing.assert_array_equal(aug.RandomIntensityShift(0.0, seed=1)({"images": image})["images"], image)
    joint = aug.RandomIntensityShift((1.0, 2.0), per_channel=False, seed=1)({"images": image})["images"] - image
    assert np.ptp(joint) < 1e-3 and 1.0 <= joint.mean() <= 2.0


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda: aug.RandomGaussianNoise(-0.1), "std"),
        (lambda: aug.RandomGaussianNoise((0.2, 0.1)), "low <= high"),
        (lambda: aug.RandomGamma(0.0), "gamma"),
        (lambda: aug.RandomGamma("wide"), "gamma"),
        (lambda: aug.RandomIntensityShift(-1), "non-negative"),
        (lambda: aug.RandomIntensityShift((1, 2, 3)), "pair"),
    ],
)
def test_invalid_intensity_parameters_raise_with_the_name(build, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        build()


def test_intensity_transforms_skip_samples_with_probability() -> None:
    image = image_of((8, 8, 1))
    never = aug.RandomGaussianNoise(1.0, p=0.0, seed=0)
    assert never({"images": image})["images"] is image
    half = aug.RandomIntensityShift(1.0, p=0.5, seed=0)
    changed = sum(half({"images": image})["images"] is not image for _ in range(400))
    assert 160 < changed < 240
