"""Tests of pymia.data.creation.geometry: mismatch descriptions and resampling onto a reference grid."""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk

from pymia.data.conversion import ImageProperties
from pymia.data.creation.geometry import describe_mismatch, require_same_geometry, resample_onto
from pymia.errors import GeometryMismatchError
from pymia.testing.phantoms import oblique_direction


def test_describe_mismatch_lists_each_field():
    a = ImageProperties.from_geometry((4, 5, 6), spacing=(1.0, 1.0, 2.0))
    assert describe_mismatch(a, a, 1e-4) == []
    b = ImageProperties.from_geometry((4, 5, 7), origin=(0.0, 0.5, 0.0), direction=oblique_direction(3, 10.0))
    problems = describe_mismatch(a, b, 1e-4)
    assert [p.split()[0] for p in problems] == ["size", "spacing", "origin", "direction"]
    assert describe_mismatch(a, ImageProperties.from_geometry((4, 5)), 1e-4) == ["dimension 2 vs 3"]


def test_require_same_geometry_message():
    a = ImageProperties.from_geometry((4, 5), spacing=(1.0, 1.0))
    b = ImageProperties.from_geometry((4, 5), spacing=(1.0, 1.2))
    with pytest.raises(GeometryMismatchError, match=r"subject 's': entry 'T2' \(t2.mha\).*'T1' \(t1.mha\).*spacing"):
        require_same_geometry("s", ("T1", "t1.mha", a), ("T2", "t2.mha", b), 1e-4)
    require_same_geometry("s", ("T1", "t1.mha", a), ("T2", "t2.mha", b), 0.5)  # within tolerance


def test_resample_onto_reference_grid():
    """Reference: the same resampling with SimpleITK directly (identity transform, reference grid)."""
    labels = np.zeros((8, 8), np.uint8)
    labels[2:6, 3:7] = 3
    source = ImageProperties.from_geometry((8, 8), spacing=(1.0, 1.0))
    reference = ImageProperties.from_geometry((4, 4), spacing=(2.0, 2.0), origin=(0.5, 0.5))
    out, props = resample_onto(labels, source, reference, nearest=True)
    assert out.shape == (4, 4) and out.dtype == np.uint8 and set(np.unique(out)) <= {0, 3}
    assert props.spacing == (2.0, 2.0) and props.origin == (0.5, 0.5)
    image = sitk.GetImageFromArray(labels)
    grid = sitk.Image([4, 4], sitk.sitkUInt8)
    grid.SetSpacing((2.0, 2.0))
    grid.SetOrigin((0.5, 0.5))
    expected = sitk.Resample(image, grid, sitk.Transform(), sitk.sitkNearestNeighbor, 0.0, image.GetPixelID())
    np.testing.assert_array_equal(out, sitk.GetArrayFromImage(expected))
    smooth, _ = resample_onto(labels.astype(np.float32), source, reference, nearest=False)
    assert 0 < smooth.max() <= 3 and smooth.dtype == np.float32
