"""Indexing strategies: one contract for all of them, plus known grids and error messages."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pymia.data.extraction as extr
from pymia.errors import InvalidInputError

STRATEGIES_3D = [
    extr.EmptyIndexing(),
    extr.SliceIndexing(0),
    extr.SliceIndexing((0, 1, 2)),
    extr.VoxelWiseIndexing(),
    extr.PatchWiseIndexing((3, 4, 5)),
    extr.PatchWiseIndexing((3, 4, 5), ignore_incomplete=False),
    extr.PatchWiseIndexing((3, 4, 5), overlap=0.5, pad=True),
    extr.PatchWiseIndexing((9, 9, 9), stride=(2, 3, 4), pad=True),
    extr.SlabIndexing(3, slice_axis=2),
    extr.TriPlanarIndexing(),
    extr.TriPlanarIndexing(plane_shape=(8, 8)),
]


@pytest.mark.parametrize("strategy", STRATEGIES_3D, ids=repr)
@settings(max_examples=10, deadline=None)
@given(shape=st.tuples(st.integers(5, 9), st.integers(5, 9), st.integers(5, 9)))
def test_count_and_expression_agree_with_the_list_interface(strategy: extr.IndexingStrategy, shape: tuple) -> None:
    """count() and expression() (vectorised, lazy) must give exactly the 0.3.4 list ``strategy(shape)``."""
    expressions = strategy(shape)
    assert int(strategy.count(np.array([shape]))[0]) == len(expressions)
    for i in {0, len(expressions) // 2, len(expressions) - 1}:
        assert strategy.expression(shape, i) == expressions[i]


@pytest.mark.parametrize("strategy", STRATEGIES_3D, ids=repr)
def test_count_is_vectorised_over_subjects(strategy: extr.IndexingStrategy) -> None:
    shapes = np.array([[5, 6, 7], [9, 9, 9], [5, 6, 7]])
    counts = strategy.count(shapes)
    assert counts.dtype == np.int64
    assert counts.tolist() == [len(strategy(tuple(s))) for s in shapes]


def test_slice_indexing_enumerates_planes_in_order() -> None:
    strategy = extr.SliceIndexing((0, 2))
    shape = (2, 3, 4)
    got = [e.expression for e in strategy(shape)]
    full = slice(None)
    assert got[:2] == [(0,), (1,)]  # the 0.3.4 form IndexExpression(index, axis)
    assert got[2:] == [(full, full, i) for i in range(4)]


def test_slice_indexing_rejects_axis_beyond_volume() -> None:
    with pytest.raises(InvalidInputError, match="slice axis 3 does not exist"):
        extr.SliceIndexing(3).count(np.array([[4, 5, 6]]))


def test_patch_grid_without_padding_drops_the_remainder() -> None:
    """0.3.4 behaviour: 10 voxels and patch 4 → patches at 0 and 4 only."""
    starts = [e.expression[0].start for e in extr.PatchWiseIndexing((4,))((10,))]
    assert starts == [0, 4]


def test_patch_grid_ragged_covers_with_smaller_border_patches() -> None:
    boxes = [e.box((10,))[0] for e in extr.PatchWiseIndexing((4,), ignore_incomplete=False)((10,))]
    assert boxes == [(0, 4), (4, 8), (8, 10)]


def test_patch_grid_with_overlap_and_padding_covers_everything() -> None:
    """Stride round(4 * 0.5) = 2; the last start (6) is the first whose patch reaches the end (10)."""
    boxes = [e.box((10,))[0] for e in extr.PatchWiseIndexing((4,), overlap=0.5, pad=True)((10,))]
    assert boxes == [(0, 4), (2, 6), (4, 8), (6, 10)]
    boxes = [e.box((11,))[0] for e in extr.PatchWiseIndexing((4,), overlap=0.5, pad=True)((11,))]
    assert boxes[-1] == (8, 12)  # reaches one voxel past the border: padded


def test_patch_larger_than_image_is_an_error_without_padding() -> None:
    with pytest.raises(InvalidInputError, match=r"patch shape \(64, 64, 64\) is larger than the image \(48, 60, 60\)"):
        extr.PatchWiseIndexing((64, 64, 64)).count(np.array([[48, 60, 60]]))


def test_patch_larger_than_image_with_padding_is_one_patch() -> None:
    (expr,) = extr.PatchWiseIndexing((8, 8), pad=True)((5, 6))
    assert expr.box((5, 6)) == ((0, 8), (0, 8))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"overlap": 1.0}, "overlap must be a fraction"),
        ({"stride": 0}, "stride must be positive"),
        ({"overlap": (0.5,)}, "overlap must be a fraction"),
    ],
)
def test_patch_options_are_validated(kwargs: dict, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        extr.PatchWiseIndexing((4, 4), **kwargs)


def test_patch_dimension_mismatch_names_both_shapes() -> None:
    with pytest.raises(InvalidInputError, match=r"has 2 axes but the images have 3"):
        extr.PatchWiseIndexing((4, 4)).count(np.array([[5, 5, 5]]))


def test_slab_expression_is_centred_and_assembles_as_its_centre_slice() -> None:
    expr = extr.SlabIndexing(5, slice_axis=1).expression((4, 6, 8), 0)
    assert expr.box((4, 6, 8)) == ((0, 4), (-2, 3), (0, 8))
    assert expr.centre_slice.expression == (slice(None), 0, slice(None))


def test_tri_planar_positions_visit_every_slice_of_every_plane() -> None:
    shape = (5, 9, 7)
    positions = np.array([e.position for e in extr.TriPlanarIndexing()(shape)])
    for axis, size in enumerate(shape):
        assert set(positions[:, axis].tolist()) == set(range(size))


def test_tri_planar_needs_three_axes() -> None:
    with pytest.raises(InvalidInputError, match="need 3-D volumes"):
        extr.TriPlanarIndexing().count(np.array([[5, 6]]))


def test_voxelwise_expression_is_the_voxel() -> None:
    assert extr.VoxelWiseIndexing().expression((2, 3, 4), 5).expression == (0, 1, 1)


def test_strategies_pickle_without_their_cache() -> None:
    import pickle

    strategy = extr.PatchWiseIndexing((2, 2), overlap=0.5, pad=True)
    strategy.expression((5, 5), 0)
    clone = pickle.loads(pickle.dumps(strategy))
    assert clone.count(np.array([[5, 5]])).tolist() == strategy.count(np.array([[5, 5]])).tolist()
