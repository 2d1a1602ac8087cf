"""Behaviour of each spatial augmentation, checked against NumPy/SciPy references and identities."""

from __future__ import annotations

import warnings

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
import SimpleITK as sitk
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import ndimage

from pymia.data import augmentation as aug
from pymia.data.augmentation.elastic import displacement_field
from pymia.errors import GeometryMismatchError, InvalidInputError, PymiaWarning


def sample_of(shape: tuple[int, ...], seed: int = 0, channels: int = 2) -> dict:
    rng = np.random.default_rng(seed)
    return {
        "images": rng.standard_normal((*shape, channels)).astype(np.float32),
        "labels": rng.integers(0, 5, (*shape, 1)).astype(np.uint8),
    }


# --- identity at zero strength ----------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(13, 17), (9, 11, 10)])
@pytest.mark.parametrize(
    "transform",
    [
        aug.RandomRotation(0.0, order=3),
        aug.RandomScaling(1.0, 1.0, isotropic=False, order=3),
        aug.RandomElasticDeformation(5, 0.0, p=1.0, order=3),
        aug.RandomShift((0.0, 0.0), mode="constant"),
        aug.RandomCrop((9, 10)),
        aug.RandomFlip(p=0.0),
        aug.RandomMirror(p=0.0),
        aug.RandomRotation90(p=0.0),
    ],
    ids=lambda t: type(t).__name__,
)
def test_zero_strength_is_the_identity(transform: aug.RandomTransform, shape: tuple[int, ...]) -> None:
    sample = sample_of(shape)
    if isinstance(transform, aug.RandomCrop):  # a crop of the full size along both axes
        sample = {key: value[:9, :10] for key, value in sample.items()}
    expected = {key: value.copy() for key, value in sample.items()}
    out = transform(sample)
    for key in expected:
        np.testing.assert_allclose(out[key], expected[key], rtol=0, atol=1e-5)
        assert out[key].dtype == expected[key].dtype


# --- rotation and scaling ----------------------------------------------------------------------------


def test_rotation_2d_matches_scipy_rotate_with_the_drawn_angle() -> None:
    """Reference: scipy.ndimage.rotate(angle, reshape=False), the angle re-drawn from the same seed.

    The draw order (one number for p, then three angles about z, y, x) is part of the documented stream.
    """
    image = ndimage.gaussian_filter(np.random.default_rng(1).random((31, 29)), 2).astype(np.float32)
    out = aug.RandomRotation(16, entries=("images",), seed=7)({"images": image[..., None]})["images"][..., 0]
    rng = np.random.default_rng(7)
    rng.random()
    angle = rng.uniform(-16, 16, size=3)[0]
    reference = ndimage.rotate(image, angle, axes=(0, 1), reshape=False, order=1)
    assert abs(angle) > 1
    np.testing.assert_allclose(out, reference, atol=1e-5)


@pytest.mark.parametrize("axis, plane", [(0, (1, 2)), (1, (0, 2)), (2, (0, 1))])
def test_rotation_3d_about_each_axis_matches_scipy_rotate(axis: int, plane: tuple[int, int]) -> None:
    """Reference: scipy.ndimage.rotate in the plane of the two other axes, with the re-drawn angle."""
    volume = ndimage.gaussian_filter(np.random.default_rng(2).random((15, 17, 16)), 1.5).astype(np.float32)
    maxima = [0.0, 0.0, 0.0]
    maxima[axis] = 25.0
    out = aug.RandomRotation(maxima, entries=("images",), seed=3)({"images": volume[..., None]})["images"][..., 0]
    rng = np.random.default_rng(3)
    rng.random()
    angle = rng.uniform(-np.array(maxima), maxima)[axis]
    reference = ndimage.rotate(volume, angle, axes=plane, reshape=False, order=1)
    np.testing.assert_allclose(out, reference, atol=1e-5)


@pytest.mark.parametrize("factor", [0.8, 1.25])
def test_scaling_changes_the_area_of_a_centred_disk_by_the_factor_squared(factor: float) -> None:
    """Reference: geometry; a disk of radius r scaled by f has area π (f r)²."""
    grid = np.indices((81, 81)) - 40.0
    disk = (np.hypot(*grid) <= 20).astype(np.uint8)[..., None]
    out = aug.RandomScaling(factor, factor, entries=("labels",), seed=0)({"labels": disk})["labels"]
    assert out.sum() / disk.sum() == pytest.approx(factor**2, rel=0.03)
    assert np.array_equal(np.unique(out), [0, 1])


def test_anisotropic_scaling_draws_one_factor_per_axis() -> None:
    grid = np.indices((61, 61)) - 30.0
    square = ((np.abs(grid) <= 10).all(axis=0)).astype(np.uint8)[..., None]
    out = aug.RandomScaling(0.6, 1.4, isotropic=False, entries=("labels",), seed=4)({"labels": square})["labels"]
    extents = [np.ptp(np.nonzero(out[..., 0])[axis]) + 1 for axis in (0, 1)]
    assert extents[0] != extents[1]


# --- elastic deformation -----------------------------------------------------------------------------


def test_displacement_field_passes_through_the_control_points() -> None:
    """Control points of a 7-voxel axis with 4 points sit at indices 0, 2, 4, 6 (spline interpolation)."""
    control = np.random.default_rng(0).standard_normal((2, 4, 4))
    field = displacement_field(control, (7, 7))
    assert field.shape == (2, 7, 7)
    np.testing.assert_allclose(field[:, ::2, ::2], control, atol=1e-12)


def test_elastic_sigma_zero_along_z_leaves_z_positions_unchanged() -> None:
    transform = aug.RandomElasticDeformation(4, (0.0, 3.0, 3.0), p=1.0, seed=0)
    coordinates = transform.draw_mapping((6, 20, 20))["coordinates"]
    grid = np.indices((6, 20, 20), dtype=np.float64)
    np.testing.assert_array_equal(coordinates[0], grid[0])
    assert np.abs(coordinates[1:] - grid[1:]).max() > 0.5


def test_elastic_displacement_scales_with_sigma() -> None:
    """The displacement at the control points (indices 0, 10, ..., 40) is normal with std sigma (voxels)."""
    shape = (41, 41)
    grid = np.indices(shape, dtype=np.float64)
    transform = aug.RandomElasticDeformation(5, 4.0, p=1.0, seed=1)
    control_values = np.concatenate(
        [(transform.draw_mapping(shape)["coordinates"] - grid)[:, ::10, ::10].ravel() for _ in range(40)]
    )
    assert control_values.std() == pytest.approx(4.0, rel=0.1)


def test_elastic_accepts_pymia_034_simpleitk_interpolators() -> None:
    """interpolators=(sitkNearestNeighbor, sitkNearestNeighbor) must equal order 0 for both entries."""
    labels = sample_of((20, 20))["labels"]
    sample = {"images": labels.astype(np.float32), "labels": labels}
    legacy = aug.RandomElasticDeformation(
        4, 3.0, (sitk.sitkNearestNeighbor, sitk.sitkNearestNeighbor), 2, 0.0, 1.0, ("images", "labels"), seed=2
    )
    out = legacy({key: value.copy() for key, value in sample.items()})
    np.testing.assert_array_equal(out["images"], out["labels"].astype(np.float32))
    modern = aug.RandomElasticDeformation(4, 3.0, p=1.0, order=0, seed=2)
    np.testing.assert_array_equal(modern(dict(sample))["images"], out["images"])


def test_elastic_rejects_bad_parameters_with_the_value() -> None:
    with pytest.raises(InvalidInputError, match="num_control_points"):
        aug.RandomElasticDeformation(1)
    with pytest.raises(InvalidInputError, match="-2"):
        aug.RandomElasticDeformation(4, -2.0)
    with pytest.raises(InvalidInputError, match="one per entry"):
        aug.RandomElasticDeformation(4, 1.0, (sitk.sitkLinear,))
    with pytest.raises(InvalidInputError, match="BSpline"):
        aug.RandomElasticDeformation(4, 1.0, (sitk.sitkGaussian, sitk.sitkNearestNeighbor))
    with pytest.raises(InvalidInputError, match="spatial_rank=2"):
        aug.RandomElasticDeformation(4, 1.0, spatial_rank=2, p=1.0)(sample_of((8, 8, 8)))


# --- label sets (property test) ----------------------------------------------------------------------


@settings(max_examples=20, deadline=None)
@given(
    labels=hnp.arrays(
        np.uint8,
        hnp.array_shapes(min_dims=2, max_dims=3, min_side=4, max_side=12),
        elements=st.sampled_from([0, 2, 9, 200]),
    ),
    seed=st.integers(0, 2**32 - 1),
    which=st.sampled_from(["rotation", "scaling", "elastic"]),
)
def test_resampled_labels_never_get_new_values(labels: np.ndarray, seed: int, which: str) -> None:
    transform = {
        "rotation": aug.RandomRotation(45, entries=("labels",), seed=seed, mode="nearest"),
        "scaling": aug.RandomScaling(0.5, 2.0, entries=("labels",), isotropic=False, seed=seed),
        "elastic": aug.RandomElasticDeformation(3, 4.0, p=1.0, entries=("labels",), seed=seed),
    }[which]
    out = transform({"labels": labels[..., None]})["labels"]
    assert out.dtype == np.uint8
    assert set(np.unique(out).tolist()) <= set(np.unique(labels).tolist()) | {0}


# --- interpolation of integer and boolean entries ----------------------------------------------------


def test_integer_images_are_rounded_into_their_dtype_and_booleans_stay_boolean() -> None:
    """Reference: the same rotation of the image as float64, rounded and clipped to [0, 255] by hand."""
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (20, 20, 1)).astype(np.uint8)
    mask = rng.random((20, 20, 1)) > 0.5
    out = aug.RandomRotation(30, entries=("images", "mask"), order=3, seed=1)({"images": image, "mask": mask})
    as_float = aug.RandomRotation(30, entries=("images",), order=3, seed=1)({"images": image.astype(np.float64)})
    assert out["images"].dtype == np.uint8
    np.testing.assert_array_equal(out["images"], np.clip(np.rint(as_float["images"]), 0, 255).astype(np.uint8))
    assert out["mask"].dtype == bool
    assert 0 < out["mask"].sum() < mask.size


# --- crop, shift, flips, quarter turns -----------------------------------------------------------------


def test_crop_reaches_every_position_including_the_last_and_crops_all_entries_alike() -> None:
    """pymia 0.3.4 drew the start from [0, size - crop) and never reached the last position."""
    volume = np.arange(5 * 6 * 4, dtype=np.float32).reshape(5, 6, 4, 1)
    sample = {"images": volume, "labels": volume.astype(np.int32)}
    crop = aug.RandomCrop((4, 6, 3), seed=0)
    starts = set()
    for _ in range(60):
        out = crop(dict(sample))
        z, y, x = (int(v) for v in np.argwhere(volume[..., 0] == out["images"][0, 0, 0, 0])[0])
        starts.add((z, y, x))
        np.testing.assert_array_equal(out["images"], volume[z : z + 4, y : y + 6, x : x + 3])
        np.testing.assert_array_equal(out["labels"], out["images"].astype(np.int32))
    assert starts == {(z, 0, x) for z in (0, 1) for x in (0, 1)}


def test_crop_larger_than_the_sample_names_both_shapes() -> None:
    with pytest.raises(InvalidInputError, match=r"\(20, 8\).*\(16, 16\)"):
        aug.RandomCrop((20, 8), seed=0)(sample_of((16, 16)))


def test_crop_with_axis_and_none_follows_pymia_034_conventions() -> None:
    out = aug.RandomCrop((None, 8, 5), axis=(1, 2, 0), seed=0)(sample_of((10, 12, 14)))
    assert out["images"].shape == (5, 12, 8, 2)
    assert out["labels"].shape == (5, 12, 8, 1)


def test_shift_wrap_is_a_roll_and_constant_fills_the_border() -> None:
    image = np.arange(1, 1 + 10 * 12, dtype=np.float32).reshape(10, 12, 1)
    sample = {"images": image, "labels": (image % 3).astype(np.uint8)}
    wrapped = aug.RandomShift((0.3, 0.3), seed=5)({k: v.copy() for k, v in sample.items()})
    shifts = [
        (dy, dx)
        for dy in range(-3, 4)
        for dx in range(-3, 4)
        if np.array_equal(np.roll(image, (dy, dx), (0, 1)), wrapped["images"])
    ]
    assert len(shifts) == 1 and shifts[0] != (0, 0)
    np.testing.assert_array_equal(wrapped["labels"], np.roll(sample["labels"], shifts[0], (0, 1)))
    filled = aug.RandomShift((0.3, 0.3), mode="constant", fill_value=-1.0, seed=5)(dict(sample))
    dy, dx = shifts[0]
    inside = np.roll(image, (dy, dx), (0, 1))[max(dy, 0) : 10 + min(dy, 0), max(dx, 0) : 12 + min(dx, 0)]
    np.testing.assert_array_equal(filled["images"][max(dy, 0) : 10 + min(dy, 0), max(dx, 0) : 12 + min(dx, 0)], inside)
    assert (filled["images"] == -1).sum() == image.size - inside.size
    assert filled["labels"][filled["images"][..., 0] == -1].max() == 0


def test_shift_accepts_a_float_fraction_and_reaches_both_extremes() -> None:
    """pymia 0.3.4 crashed on a float ``shift`` and never drew the largest positive shift."""
    image = np.arange(10, dtype=np.float32).reshape(10, 1, 1)
    shift = aug.RandomShift(0.2, entries=("images",), seed=0)
    seen = {int(np.argmax(shift({"images": image})["images"][..., 0, 0] == 0)) for _ in range(80)}
    assert seen == {0, 1, 2, 8, 9}  # shifts 0, +1, +2, -2, -1


def flipped(array: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    return np.flip(array, axes) if axes else array


def test_mirror_flips_one_axis_and_flip_chooses_axes_independently() -> None:
    sample = sample_of((6, 7, 8))
    out = aug.RandomMirror(axis=-2, seed=0)({k: v.copy() for k, v in sample.items()})
    for key in sample:
        np.testing.assert_array_equal(out[key], np.flip(sample[key], -2))
    seen = set()
    flip = aug.RandomFlip(seed=1)
    for _ in range(40):
        out = flip({k: v.copy() for k, v in sample.items()})
        matching = [
            combination
            for combination in [(), (0,), (1,), (2,), (0, 1), (0, 2), (1, 2), (0, 1, 2)]
            if np.array_equal(
                np.flip(sample["images"], combination) if combination else sample["images"], out["images"]
            )
        ]
        assert len(matching) == 1
        np.testing.assert_array_equal(out["labels"], flipped(sample["labels"], matching[0]))
        assert out["images"].flags.c_contiguous
        seen.add(matching[0])
    assert len(seen) == 8


def test_rotation90_is_a_numpy_quarter_turn_and_warns_on_non_square_planes() -> None:
    sample = sample_of((5, 8, 8))
    out = aug.RandomRotation90(seed=2)({k: v.copy() for k, v in sample.items()})
    turns = [k for k in (1, 2, 3) if np.array_equal(np.rot90(sample["images"], k, axes=(1, 2)), out["images"])]
    assert len(turns) == 1
    np.testing.assert_array_equal(out["labels"], np.rot90(sample["labels"], turns[0], axes=(1, 2)))
    with pytest.warns(PymiaWarning, match=r"non-square plane \(6, 8\)"):
        aug.RandomRotation90(seed=0)(sample_of((6, 8)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        aug.RandomRotation90(axes=(0, 1), seed=0)(sample_of((6, 6)))


def test_entries_on_different_grids_are_rejected_naming_the_shapes() -> None:
    sample = {"images": np.zeros((8, 8, 1), np.float32), "labels": np.zeros((8, 9, 1), np.uint8)}
    for transform in (aug.RandomRotation(seed=0), aug.RandomFlip(seed=0), aug.RandomCrop((4, 4), seed=0)):
        with pytest.raises(GeometryMismatchError, match=r"\(8, 9"):
            transform(dict(sample))


def test_resampling_needs_a_channel_axis() -> None:
    with pytest.raises(InvalidInputError, match=r"shape \(8,\)"):
        aug.RandomScaling(seed=0)({"images": np.zeros(8), "labels": np.zeros((8,), np.uint8)})


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda: aug.RandomRotation(-1), "max_degrees"),
        (lambda: aug.RandomRotation((1, 2)), "max_degrees"),
        (lambda: aug.RandomScaling(1.2, 1.1), "minimum"),
        (lambda: aug.RandomScaling(0.0, 1.1), "minimum"),
        (lambda: aug.RandomRotation(order=7), "order"),
        (lambda: aug.RandomRotation(mode="edge"), "mode"),
        (lambda: aug.RandomShift(1.5), "fractions"),
        (lambda: aug.RandomShift(0.1, mode="reflect"), "wrap"),
        (lambda: aug.RandomCrop((4, 4), axis=0), "axes"),
        (lambda: aug.RandomCrop(0), "positive"),
        (lambda: aug.RandomRotation90(axes=(0,)), "two ints"),
        (lambda: aug.RandomMirror(axis=(0, 1)), "RandomFlip"),
    ],
)
def test_invalid_parameters_raise_with_the_value(build, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        build()
