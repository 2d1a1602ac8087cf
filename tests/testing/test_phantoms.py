"""Tests of the numpy phantoms: analytic volumes, masks, geometry and the on-disk subject layout."""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest
import SimpleITK as sitk
import skimage.draw

from pymia.errors import InvalidInputError
from pymia.testing import phantoms


def _volume_bounds(radii: tuple[float, ...], spacing: tuple[float, ...]) -> tuple[float, float]:
    """Rigorous bounds on the voxel-counted volume of an ellipsoid with semi-axes ``radii``.

    The union of the voxel cells whose centres lie inside E(a) is inside E(a) ⊕ B(d) and contains
    E(a) ⊖ B(d), d = half the voxel diagonal. Since the support function of E(a) is at least
    min(a), E(a) ⊕ B(d) ⊆ E(a · (1 + d/min a)) and E(a · (1 − d/min a)) ⊕ B(d) ⊆ E(a); scaling an
    n-D ellipsoid by s scales its volume by sⁿ.
    """
    d = 0.5 * math.sqrt(sum(s * s for s in spacing))
    volume = phantoms.ellipsoid_volume(radii)
    ratio = d / min(radii)
    n = len(radii)
    return volume * max(1 - ratio, 0.0) ** n, volume * (1 + ratio) ** n


@pytest.mark.parametrize(
    ("radii", "expected"),
    [
        ((1.0, 1.0), math.pi),  # unit disk
        ((2.0, 3.0), 6 * math.pi),  # ellipse π·a·b
        ((1.0, 1.0, 1.0), 4 / 3 * math.pi),  # unit ball
        ((2.0, 3.0, 4.0), 4 / 3 * math.pi * 24),  # ellipsoid 4/3·π·a·b·c
        ((1.0,), 2.0),  # 1-D "ball": a segment of length 2
    ],
)
def test_ellipsoid_volume_matches_textbook_formulas(radii, expected):
    assert phantoms.ellipsoid_volume(radii) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    ("shape", "radius", "expected_count"),
    [
        ((5, 5), 1.0, 5),  # centre + 4 edge neighbours; diagonal ones are at √2 > 1
        ((5, 5), math.sqrt(2), 9),  # now the diagonal neighbours are on the boundary (inclusive)
        ((5, 5, 5), 1.0, 7),  # centre + 6 face neighbours
        ((7, 7, 7), math.sqrt(3), 27),  # the full 3×3×3 block (corners exactly on the sphere)
    ],
)
def test_sphere_mask_counts_small_cases_by_hand(shape, radius, expected_count):
    """Counts enumerated by hand on a 1 mm grid with the sphere centred on the middle voxel."""
    mask = phantoms.sphere_mask(shape, radius + 1e-9)
    assert mask.dtype == bool and mask.shape == shape
    assert int(mask.sum()) == expected_count


@pytest.mark.parametrize(
    ("radii", "spacing"),
    [((5.0, 4.0, 3.0), (1.0, 1.0, 1.0)), ((6.0, 6.0, 6.0), (2.0, 1.0, 1.0)), ((7.0, 5.0, 4.0), (1.5, 0.5, 1.0))],
)
def test_ellipsoid_mask_equals_scikit_image(radii, spacing):
    """Reference: ``skimage.draw.ellipsoid`` (same voxel-centre rule, its own grid and centre)."""
    # skimage's "level set" is (x/a)² + (y/b)² + (z/c)² − 1: minimal (−1) at the centre, ≤ 0 inside.
    level_set = skimage.draw.ellipsoid(*radii, spacing=spacing, levelset=True)
    center_index = np.unravel_index(np.argmin(level_set), level_set.shape)
    center_mm = tuple(i * s for i, s in zip(center_index, spacing))
    mask = phantoms.ellipsoid_mask(level_set.shape, radii, spacing=spacing, center_mm=center_mm)
    np.testing.assert_array_equal(mask, level_set <= 0)


@pytest.mark.parametrize(
    ("shape", "radii", "spacing"),
    [
        ((64, 64), (20.0, 14.0), (1.0, 1.0)),
        ((50, 80), (30.0, 22.0), (1.5, 0.7)),
        ((40, 40, 40), (15.0, 12.0, 10.0), (1.0, 1.0, 1.0)),
        ((24, 48, 40), (20.0, 16.0, 13.0), (2.0, 0.8, 0.9)),
    ],
)
def test_voxel_volume_within_discretisation_bounds(shape, radii, spacing):
    """The counted volume must lie within the rigorous bounds and, for these well-resolved shapes,
    within 2 % of the analytic volume (discretisation error scales with surface/volume × voxel size)."""
    mask = phantoms.ellipsoid_mask(shape, radii, spacing=spacing)
    measured = mask.sum() * math.prod(spacing)
    lower, upper = _volume_bounds(radii, spacing)
    assert lower <= measured <= upper
    assert measured == pytest.approx(phantoms.ellipsoid_volume(radii), rel=0.02)


def test_volume_error_shrinks_with_finer_spacing():
    """Same physical sphere (r = 9 mm) sampled at 3, 1.5 and 0.75 mm: the error must converge."""
    radius = 9.0
    errors = []
    for voxel in (3.0, 1.5, 0.75):
        n = round(2 * radius / voxel) + 5
        mask = phantoms.sphere_mask((n, n, n), radius, spacing=(voxel,) * 3)
        errors.append(abs(mask.sum() * voxel**3 - phantoms.ellipsoid_volume((radius,) * 3)))
    assert errors[2] < errors[0]
    assert errors[2] / phantoms.ellipsoid_volume((radius,) * 3) < 0.02  # lattice-point effects ~1 %


def test_anisotropic_spacing_measures_physical_not_voxel_radii():
    """A 6 mm sphere on a (2, 1, 1) mm grid spans 3 voxels in z but 6 in y and x."""
    mask = phantoms.sphere_mask((9, 15, 15), 6.0, spacing=(2.0, 1.0, 1.0))
    z_extent = np.flatnonzero(mask.any(axis=(1, 2)))
    x_extent = np.flatnonzero(mask.any(axis=(0, 1)))
    assert len(z_extent) == 7 and len(x_extent) == 13  # centre ± 3 voxels in z, ± 6 voxels in x


@pytest.mark.parametrize("dimensions", [2, 3])
def test_nested_ellipsoids_shell_volumes(dimensions):
    shape = (48, 56, 40)[:dimensions]
    spacing = (1.2, 0.9, 1.0)[:dimensions]
    outer, inner = (20.0, 18.0, 16.0)[:dimensions], (10.0, 9.0, 7.0)[:dimensions]
    phantom = phantoms.nested_ellipsoids(shape, [outer, inner], spacing=spacing, label_values=(3, 1))
    assert set(np.unique(phantom.labels)) == {0, 1, 3}
    analytic = phantom.analytic_volumes
    assert analytic[1] == pytest.approx(phantoms.ellipsoid_volume(inner))
    assert analytic[3] == pytest.approx(phantoms.ellipsoid_volume(outer) - phantoms.ellipsoid_volume(inner))
    for label, volume in phantom.measured_volumes.items():
        assert volume == pytest.approx(analytic[label], rel=0.04)
    np.testing.assert_array_equal(phantom.mask(), phantoms.ellipsoid_mask(shape, outer, spacing=spacing))


def test_nested_ellipsoids_rejects_inner_larger_than_outer():
    with pytest.raises(InvalidInputError, match="not inside"):
        phantoms.nested_ellipsoids((20, 20), [(5.0, 5.0), (6.0, 2.0)])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"shape": (10, 10), "radii_mm": (3.0, 3.0), "spacing": (1.0,)}, "spacing"),
        ({"shape": (10, 10), "radii_mm": (3.0, 3.0), "spacing": (1.0, 0.0)}, "positive"),
        ({"shape": (10, 10), "radii_mm": (3.0,)}, "radii"),
        ({"shape": (10, 10), "radii_mm": (3.0, -1.0)}, "radii"),
    ],
)
def test_invalid_mask_arguments_raise_pymia_errors(kwargs, message):
    with pytest.raises(InvalidInputError, match=message):
        phantoms.ellipsoid_mask(**kwargs)


def test_intensity_image_values_and_seeded_noise():
    labels = np.array([[0, 1], [2, 5]], dtype=np.uint8)
    image = phantoms.intensity_image(labels, {1: 10.0, 2: 20.0}, background=-1.0)
    np.testing.assert_array_equal(image, np.array([[-1.0, 10.0], [20.0, -1.0]], dtype=np.float32))
    noisy_a = phantoms.intensity_image(np.zeros((50, 50), np.uint8), {}, noise_std=1.0, seed=3)
    noisy_b = phantoms.intensity_image(np.zeros((50, 50), np.uint8), {}, noise_std=1.0, seed=3)
    np.testing.assert_array_equal(noisy_a, noisy_b)
    assert 0.9 < noisy_a.std() < 1.1 and noisy_a.dtype == np.float32


@pytest.mark.parametrize("dimensions", [2, 3])
def test_oblique_direction_is_a_proper_rotation(dimensions):
    matrix = np.array(phantoms.oblique_direction(dimensions)).reshape(dimensions, dimensions)
    np.testing.assert_allclose(matrix @ matrix.T, np.eye(dimensions), atol=1e-12)
    assert np.linalg.det(matrix) == pytest.approx(1.0)
    assert not np.allclose(matrix, np.eye(dimensions))


def test_make_image_sets_geometry_in_itk_order():
    array = np.zeros((4, 5, 6), dtype=np.float32)
    direction = phantoms.oblique_direction(3)
    image = phantoms.make_image(array, spacing=(3.0, 2.0, 1.0), origin=(1.0, 2.0, 3.0), direction=direction)
    assert image.GetSize() == (6, 5, 4)
    assert image.GetSpacing() == (1.0, 2.0, 3.0)
    assert image.GetOrigin() == (1.0, 2.0, 3.0)
    np.testing.assert_allclose(image.GetDirection(), direction)
    with pytest.raises(InvalidInputError, match="orthonormal"):
        phantoms.make_image(array, direction=(1.0, 0.0, 0.0, 0.0, 2.0, 0.0, 0.0, 0.0, 1.0))


def _read_csv(path):
    with open(path, newline="", encoding="utf-8") as stream:
        return list(csv.DictReader(stream))


@pytest.mark.parametrize("dimensions", [2, 3])
def test_write_phantom_subjects_layout_and_geometry(tmp_path, dimensions):
    shape = (12, 14, 16)[-dimensions:]
    spacing = (2.0, 1.5, 1.0)[-dimensions:]
    origin = (-10.0, 5.0, 2.5)[:dimensions]
    direction = phantoms.oblique_direction(dimensions)
    folders = phantoms.write_phantom_subjects(
        tmp_path, n_subjects=2, shape=shape, spacing=spacing, origin=origin, direction=direction
    )
    assert [f.name for f in folders] == ["Subject_1", "Subject_2"]
    rows = _read_csv(tmp_path / "manifest.csv")
    assert list(rows[0]) == ["subject", "T1", "T2", "GT", "MASK", "age", "sex", "score"]
    assert list(_read_csv(tmp_path / "demographics.csv")[0]) == ["subject", "age", "sex", "score"]
    for row, folder in zip(rows, folders):
        assert row["T1"] == f"{folder.name}/{folder.name}_T1.mha"
        assert row["GT"] == f"{folder.name}/{folder.name}_GT.nii.gz"
        images = {key: sitk.ReadImage(str(tmp_path / row[key])) for key in ("T1", "T2", "GT", "MASK")}
        for image in images.values():
            assert image.GetSize() == tuple(reversed(shape))
            np.testing.assert_allclose(image.GetSpacing(), tuple(reversed(spacing)))
            np.testing.assert_allclose(image.GetOrigin(), origin, atol=1e-5)
            np.testing.assert_allclose(image.GetDirection(), direction, atol=1e-5)
        labels = sitk.GetArrayFromImage(images["GT"])
        mask = sitk.GetArrayFromImage(images["MASK"])
        assert set(np.unique(labels)) == {0, 1, 2, 3}
        np.testing.assert_array_equal(mask, labels > 0)
        t1 = sitk.GetArrayFromImage(images["T1"])
        assert t1.dtype == np.float32
        assert t1[labels == 1].mean() > t1[labels == 2].mean() > t1[labels == 3].mean()  # T1: WM > GM > CSF
        t2 = sitk.GetArrayFromImage(images["T2"])
        assert t2[labels == 3].mean() > t2[labels == 2].mean() > t2[labels == 1].mean()  # T2 reversed
        assert 20 <= int(row["age"]) <= 85 and row["sex"] in ("F", "M")


def test_write_phantom_subjects_is_deterministic_and_seed_dependent(tmp_path):
    kwargs = {"n_subjects": 2, "shape": (10, 12, 14)}
    phantoms.write_phantom_subjects(tmp_path / "a", seed=1, **kwargs)
    phantoms.write_phantom_subjects(tmp_path / "b", seed=1, **kwargs)
    phantoms.write_phantom_subjects(tmp_path / "c", seed=2, **kwargs)
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    assert len(files) == 2 * 4 + 2
    for relative in files:
        assert (tmp_path / "a" / relative).read_bytes() == (tmp_path / "b" / relative).read_bytes(), relative
    t1 = "Subject_1/Subject_1_T1.mha"
    assert (tmp_path / "a" / t1).read_bytes() != (tmp_path / "c" / t1).read_bytes()


def test_write_phantom_subjects_formats(tmp_path):
    phantoms.write_phantom_subjects(tmp_path, n_subjects=1, shape=(8, 9, 10), formats={"T1": ".nrrd", "GT": "nii"})
    row = _read_csv(tmp_path / "manifest.csv")[0]
    assert row["T1"].endswith("_T1.nrrd") and row["GT"].endswith("_GT.nii") and row["T2"].endswith("_T2.mha")
    assert all((tmp_path / row[key]).is_file() for key in ("T1", "T2", "GT", "MASK"))
    with pytest.raises(InvalidInputError, match="unsupported file format"):
        phantoms.write_phantom_subjects(tmp_path, n_subjects=1, shape=(8, 9, 10), formats=".png")
    with pytest.raises(InvalidInputError, match="unknown image entries"):
        phantoms.write_phantom_subjects(tmp_path, n_subjects=1, shape=(8, 9, 10), formats={"FLAIR": ".mha"})
