"""VolumeAccumulator: weights from the boxes (grid closed form vs box by box), kernels, blending windows."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pymia.data.assembly import VolumeAccumulator, blending_profiles, blending_window
from pymia.data.indexexpression import IndexExpression
from pymia.errors import InvalidInputError


def _box_expr(start: tuple[int, ...], size: tuple[int, ...]) -> IndexExpression:
    return IndexExpression([(s, s + n) for s, n in zip(start, size)], axis=tuple(range(len(start))))


def _brute_force_weights(shape, boxes, mode, sigma_scale=0.125):
    """Sum of the windows over the boxes, clipped to the volume: the definition of the weight map."""
    weights = np.zeros(shape, np.float64)
    for start, size in boxes:
        window = blending_window(size, mode, sigma_scale=sigma_scale).astype(np.float64)
        source, target = _box_expr(start, size).clip(shape)
        weights[source] += window[target]
    return weights


@settings(max_examples=60, deadline=None)
@given(
    shape=st.lists(st.integers(1, 13), min_size=1, max_size=3).map(tuple),
    data=st.data(),
    mode=st.sampled_from(["mean", "gaussian", "crop"]),
    full_grid=st.booleans(),
)
def test_weights_equal_the_sum_of_windows_for_grids_and_any_boxes(shape, data, mode, full_grid) -> None:
    """Full grids use the per-axis closed form, other box sets add windows: both give the sum of windows."""
    size = tuple(data.draw(st.integers(1, 6)) for _ in shape)
    if full_grid:
        per_axis = [sorted(set(data.draw(st.lists(st.integers(-3, n), min_size=1, max_size=4)))) for n in shape]
        starts = list(itertools.product(*per_axis))
    else:
        starts = data.draw(st.lists(st.tuples(*(st.integers(-3, n) for n in shape)), min_size=1, max_size=6))
    boxes = [(start, size) for start in starts]
    accumulator = VolumeAccumulator(shape, 2, mode=mode, kernel="numpy")
    rng = np.random.default_rng(0)
    samples = [rng.random((*size, 2), dtype=np.float32) for _ in boxes]
    for (start, _), sample in zip(boxes, samples):
        accumulator.add(_box_expr(start, size), sample)
    expected = _brute_force_weights(shape, boxes, mode)
    np.testing.assert_allclose(accumulator.coverage, expected, rtol=2e-6, atol=1e-30)
    # and the result is the weighted mean
    numerator = np.zeros((*shape, 2), np.float64)
    for (start, _), sample in zip(boxes, samples):
        window = blending_window(size, mode).astype(np.float64)
        source, target = _box_expr(start, size).clip(shape)
        numerator[source] += sample[target] * window[target][..., None]
    mean = np.divide(numerator, expected[..., None], out=np.zeros_like(numerator), where=expected[..., None] > 0)
    np.testing.assert_allclose(accumulator.result(), mean, rtol=1e-5, atol=1e-6)


def test_grid_closed_form_is_used_only_for_exact_cartesian_grids() -> None:
    accumulator = VolumeAccumulator((10, 10), 1, mode="gaussian")
    for start in itertools.product((0, 4), (0, 5)):
        accumulator.add(_box_expr(start, (6, 5)), np.ones((6, 5, 1), np.float32))
    assert accumulator._grid_factors() is not None
    accumulator.add(_box_expr((0, 0), (6, 5)), np.ones((6, 5, 1), np.float32))  # a duplicate: not a grid
    assert accumulator._grid_factors() is None
    np.testing.assert_allclose(accumulator.result(), 1.0, rtol=1e-6)


@pytest.mark.parametrize("mode", ["mean", "gaussian", "crop"])
@pytest.mark.parametrize("threads", [1, 2])
def test_torch_kernels_give_the_numpy_result(mode: str, threads: int) -> None:
    pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    samples = [
        (_box_expr(start, (40, 40, 40)), rng.random((40, 40, 40, 3), np.float32))
        for start in [(-10, 0, 0), (5, 10, 3), (20, -5, 7)]
    ]
    results = []
    for kernel in ("numpy", "torch"):
        accumulator = VolumeAccumulator((50, 45, 40), 3, mode=mode, kernel=kernel, threads=threads)
        for expr, values in samples:
            accumulator.add(expr, values)
        results.append(accumulator.result())
    np.testing.assert_allclose(results[1], results[0], rtol=1e-6)


def test_torch_kernel_falls_back_for_arrays_torch_cannot_wrap() -> None:
    """Read-only, flipped (negative strides) or other-dtype outputs are added with NumPy, silently."""
    pytest.importorskip("torch")
    values = np.arange(24, dtype=np.float64).reshape(2, 3, 4, 1)
    read_only = values.astype(np.float32)
    read_only.flags.writeable = False
    for sample in (read_only, values.astype(np.float32)[::-1], values):
        accumulator = VolumeAccumulator((2, 3, 4), 1, kernel="torch")
        accumulator.add(_box_expr((0, 0, 0), (2, 3, 4)), sample)
        np.testing.assert_array_equal(accumulator.result(), sample.astype(np.float32))


def test_unknown_kernel_is_rejected() -> None:
    with pytest.raises(InvalidInputError, match="kernel must be one of"):
        VolumeAccumulator((4,), 1, kernel="cuda")


@pytest.mark.parametrize("shape", [(64,), (64, 64), (64, 48, 32)])
def test_gaussian_window_is_the_outer_product_of_its_profiles(shape: tuple[int, ...]) -> None:
    profiles = blending_profiles(shape, "gaussian")
    window = blending_window(shape, "gaussian")
    outer = profiles[0]
    for profile in profiles[1:]:
        outer = np.multiply.outer(outer, profile)
    np.testing.assert_allclose(window, outer, rtol=1e-6)
    assert window.max() == pytest.approx(1.0) and window.min() > 1e-12
    assert blending_profiles(shape, "crop") is None
