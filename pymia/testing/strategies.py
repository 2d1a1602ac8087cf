"""Hypothesis strategies for property tests of image code: shapes, spacings, masks, label maps, volumes.

hypothesis is a development dependency, so it is imported when a strategy is built, not when this
module is imported. Sizes stay small by default (at most 16 voxels per side) to keep property tests
fast; ``masks`` mixes random voxels with solid ellipsoids, because metric code breaks on shapes
that random noise rarely produces (a single blob, a full or an empty mask).
"""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np

from pymia.errors import MissingDependencyError
from pymia.testing.phantoms import ellipsoid_mask

__all__ = ["image_shapes", "label_maps", "masks", "spacings", "volumes"]


def _hypothesis() -> tuple[Any, Any]:
    try:
        strategies = importlib.import_module("hypothesis.strategies")
        extra_numpy = importlib.import_module("hypothesis.extra.numpy")
    except ImportError as error:
        raise MissingDependencyError(
            "pymia.testing.strategies needs hypothesis; install the `dev` extra (pip install -e '.[dev]') "
            "or pip install hypothesis"
        ) from error
    return strategies, extra_numpy


def image_shapes(dimensions: tuple[int, ...] = (2, 3), *, min_side: int = 1, max_side: int = 16) -> Any:
    """Strategy for array shapes in numpy order with 2 or 3 (or the given) axes.

    Parameters
    ----------
    dimensions : tuple of int, default (2, 3)
        Allowed numbers of axes.
    min_side, max_side : int
        Range of each axis length.
    """
    st, _ = _hypothesis()
    return st.sampled_from(dimensions).flatmap(lambda n: st.tuples(*[st.integers(min_side, max_side)] * n))


def spacings(dimensions: int, *, min_mm: float = 0.25, max_mm: float = 4.0) -> Any:
    """Strategy for voxel spacings (mm, numpy order): ``dimensions`` floats in ``[min_mm, max_mm]``."""
    st, _ = _hypothesis()
    value = st.floats(min_mm, max_mm, allow_nan=False, allow_infinity=False)
    return st.tuples(*[value] * dimensions)


def masks(shape: tuple[int, ...] | None = None, **shape_options: int) -> Any:
    """Strategy for boolean masks: random voxels, one solid ellipsoid, or an empty or full mask.

    Parameters
    ----------
    shape : tuple of int, optional
        Fixed shape; default any shape from :func:`image_shapes` (``shape_options`` go there).
    """
    st, hnp = _hypothesis()
    shapes = st.just(tuple(shape)) if shape is not None else image_shapes(**shape_options)

    def for_shape(size: tuple[int, ...]) -> Any:
        random_voxels = hnp.arrays(np.bool_, size)
        blob = st.tuples(
            *[st.floats(0.5, max(n, 1) * 0.75, allow_nan=False) for n in size],
            *[st.floats(0.0, max(n - 1, 0), allow_nan=False) for n in size],
        ).map(lambda values: ellipsoid_mask(size, values[: len(size)], center_mm=values[len(size) :]))
        constant = st.sampled_from([False, True]).map(lambda value: np.full(size, value))
        return st.one_of(random_voxels, blob, constant)

    return shapes.flatmap(for_shape)


def label_maps(shape: tuple[int, ...] | None = None, *, max_label: int = 3, **shape_options: int) -> Any:
    """Strategy for ``uint8`` label maps with values ``0..max_label`` (0 is background)."""
    st, hnp = _hypothesis()
    shapes = st.just(tuple(shape)) if shape is not None else image_shapes(**shape_options)
    return shapes.flatmap(lambda size: hnp.arrays(np.uint8, size, elements=st.integers(0, max_label)))


def volumes(
    shape: tuple[int, ...] | None = None,
    *,
    dtype: Any = np.float32,
    min_value: float = -1000.0,
    max_value: float = 1000.0,
    **shape_options: int,
) -> Any:
    """Strategy for intensity images of ``dtype`` with finite values in ``[min_value, max_value]``."""
    st, hnp = _hypothesis()
    shapes = st.just(tuple(shape)) if shape is not None else image_shapes(**shape_options)
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        elements = st.floats(min_value, max_value, allow_nan=False, allow_infinity=False, width=dtype.itemsize * 8)
    else:
        info = np.iinfo(dtype)
        elements = st.integers(max(int(min_value), int(info.min)), min(int(max_value), int(info.max)))
    return shapes.flatmap(lambda size: hnp.arrays(dtype, size, elements=elements))
