"""Hypothesis property tests: symmetry, translation and label-permutation invariance, bounds, identities."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import surface_distance
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from pymia.errors import NotComputableMetricWarning
from pymia.evaluation.metric import (
    SegmentationInputs,
    adjusted_rand_index,
    average_surface_distance,
    cohen_kappa,
    dice,
    f_measure,
    global_consistency_error,
    hausdorff_distance,
    interclass_correlation,
    jaccard,
    mutual_information,
    rand_index,
    surface_dice,
    variation_of_information,
    volume_similarity,
)

# surface-distance still imports from deprecated SciPy namespaces.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
SETTINGS = settings(max_examples=25, deadline=None)
spacings = st.tuples(*(st.sampled_from([0.5, 1.0, 1.3, 2.0]) for _ in range(3)))


@st.composite
def mask_pairs(draw, ndim=None):
    """Two random boolean masks of the same small shape (2-D or 3-D), both non-empty and not full."""
    ndim = draw(st.sampled_from([2, 3])) if ndim is None else ndim
    shape = tuple(draw(st.integers(3, 7)) for _ in range(ndim))
    reference = draw(arrays(bool, shape))
    prediction = draw(arrays(bool, shape))
    assume(reference.any() and prediction.any() and not reference.all() and not prediction.all())
    return reference, prediction


def _quiet(function, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotComputableMetricWarning)
        return function(*args, **kwargs)


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, rel=1e-9, abs=1e-12)


SYMMETRIC = [
    dice, jaccard, volume_similarity, cohen_kappa, mutual_information, variation_of_information, rand_index,
    adjusted_rand_index, global_consistency_error, interclass_correlation, hausdorff_distance,
    average_surface_distance, surface_dice,
]  # fmt: skip
PARTITION = [mutual_information, variation_of_information, rand_index, adjusted_rand_index, global_consistency_error]


@SETTINGS
@given(mask_pairs())
def test_symmetric_metrics(pair):
    """Swapping reference and prediction leaves the symmetric metrics unchanged."""
    reference, prediction = pair
    for function in SYMMETRIC:
        assert _same(_quiet(function, reference, prediction), _quiet(function, prediction, reference)), function


@SETTINGS
@given(mask_pairs(), st.data())
def test_translation_invariance(pair, data):
    """Moving both masks inside a larger image changes no overlap or distance metric."""
    reference, prediction = pair
    offset = tuple(data.draw(st.integers(0, 3)) for _ in range(reference.ndim))
    spacing = (1.0, 1.7, 0.6)[: reference.ndim]

    def embed(mask):
        big = np.zeros(tuple(s + 3 for s in mask.shape), bool)
        big[tuple(slice(o, o + s) for o, s in zip(offset, mask.shape))] = mask
        return big

    for function in (dice, jaccard, hausdorff_distance, average_surface_distance, surface_dice):
        options = {} if function in (dice, jaccard) else {"spacing": spacing}
        assert _same(
            _quiet(function, reference, prediction, **options),
            _quiet(function, embed(reference), embed(prediction), **options),
        ), function


@SETTINGS
@given(mask_pairs())
def test_label_permutation_invariance(pair):
    """Partition metrics do not depend on which part is called foreground, in either mask; kappa and ICC
    do not change when both masks are inverted."""
    reference, prediction = pair
    for function in PARTITION:
        value = function(reference, prediction)
        assert _same(value, function(reference, ~prediction)), function
        assert _same(value, function(~reference, prediction)), function
    for function in (cohen_kappa, interclass_correlation):
        assert _same(_quiet(function, reference, prediction), _quiet(function, ~reference, ~prediction)), function


@SETTINGS
@given(mask_pairs(), spacings)
def test_bounds_and_identities(pair, spacing):
    """Bounds of each metric and identities between them (Taha & Hanbury 2015)."""
    reference, prediction = pair
    spacing = spacing[: reference.ndim]
    d, j = dice(reference, prediction), jaccard(reference, prediction)
    assert 0 <= d <= 1 and 0 <= j <= 1
    assert j == pytest.approx(d / (2 - d))
    assert f_measure(reference, prediction) == pytest.approx(d)
    assert -1 <= _quiet(cohen_kappa, reference, prediction) <= 1
    assert 0 <= mutual_information(reference, prediction) <= 1 + 1e-12
    assert variation_of_information(reference, prediction) >= 0
    assert 0 <= global_consistency_error(reference, prediction) <= 1
    assert 0 <= rand_index(reference, prediction) <= 1
    hd = hausdorff_distance(reference, prediction, spacing=spacing)
    hd95 = hausdorff_distance(reference, prediction, spacing=spacing, percentile=95)
    assd = average_surface_distance(reference, prediction, spacing=spacing)
    assert 0 <= assd <= hd + 1e-12
    assert hd95 <= hd + 1e-12
    assert 0 <= surface_dice(reference, prediction, spacing=spacing) <= 1
    assert hausdorff_distance(reference, reference, spacing=spacing) == 0
    assert surface_dice(reference, reference, spacing=spacing) == 1


@SETTINGS
@given(mask_pairs(), spacings)
def test_surfel_distances_equal_surface_distance_on_random_masks(pair, spacing):
    """Reference: surface_distance (DeepMind) on random, non-smooth 2-D and 3-D masks, which exercise all
    neighbourhood codes."""
    reference, prediction = pair
    spacing = spacing[: reference.ndim]
    theirs = surface_distance.compute_surface_distances(reference, prediction, spacing)
    ours = SegmentationInputs(reference, prediction, spacing).surface_distances("surfel")
    for percentile in (100, 95, 50):
        assert ours.hausdorff(percentile) == pytest.approx(
            surface_distance.compute_robust_hausdorff(theirs, percentile), rel=1e-9
        )
    assert ours.surface_dice(1.0) == pytest.approx(
        surface_distance.compute_surface_dice_at_tolerance(theirs, 1.0), rel=1e-9
    )
