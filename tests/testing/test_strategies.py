"""Tests of the hypothesis strategies: they produce what they promise, within the given bounds."""

from __future__ import annotations

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings  # noqa: E402

from pymia.testing import strategies  # noqa: E402


@settings(max_examples=25, deadline=None)
@given(strategies.masks(max_side=8))
def test_masks_are_boolean_2d_or_3d(mask):
    assert mask.dtype == np.bool_ and mask.ndim in (2, 3) and all(1 <= n <= 8 for n in mask.shape)


@settings(max_examples=25, deadline=None)
@given(strategies.label_maps((5, 6, 7), max_label=4))
def test_label_maps_have_the_shape_and_range(labels):
    assert labels.shape == (5, 6, 7) and labels.dtype == np.uint8 and labels.max(initial=0) <= 4


@settings(max_examples=25, deadline=None)
@given(strategies.spacings(3, min_mm=0.5, max_mm=2.0))
def test_spacings_are_positive_and_bounded(spacing):
    assert len(spacing) == 3 and all(0.5 <= s <= 2.0 for s in spacing)


@settings(max_examples=25, deadline=None)
@given(strategies.volumes(dtype=np.int16, min_value=-5, max_value=5, dimensions=(3,), max_side=6))
def test_volumes_respect_dtype_and_bounds(volume):
    assert volume.dtype == np.int16 and volume.ndim == 3
    assert volume.size == 0 or (volume.min() >= -5 and volume.max() <= 5)


def test_masks_cover_the_edge_cases():
    """Empty, full and blob masks must all be reachable (metric edge cases)."""
    found = {"empty": False, "full": False, "partial": False}

    @settings(max_examples=200, deadline=None)
    @given(strategies.masks((6, 6, 6)))
    def collect(mask):
        if not mask.any():
            found["empty"] = True
        elif mask.all():
            found["full"] = True
        else:
            found["partial"] = True

    collect()
    assert all(found.values()), found
