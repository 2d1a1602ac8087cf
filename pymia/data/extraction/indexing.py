"""Indexing strategies: how a subject's volume is cut into samples (slices, patches, voxels, ...).

A strategy answers two questions for a spatial shape (z, y, x) — or (y, x) for 2-D images —
without building a Python object per sample: :meth:`IndexingStrategy.count` gives the number of
samples of many subjects at once (a numpy array), and :meth:`IndexingStrategy.expression` gives the
:class:`~pymia.data.indexexpression.IndexExpression` of one sample on demand. The pymia 0.3.4 call
``strategy(shape) -> list[IndexExpression]`` still works and is what custom strategies implement.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from typing import Any

import numpy as np

from pymia.data.extraction.sample_expression import OrthogonalPlanesExpression, SlabExpression
from pymia.data.indexexpression import IndexExpression
from pymia.errors import InvalidInputError

__all__ = [
    "EmptyIndexing",
    "IndexingStrategy",
    "PatchWiseIndexing",
    "SlabIndexing",
    "SliceIndexing",
    "TriPlanarIndexing",
    "VoxelWiseIndexing",
]

_FULL = slice(None)


def _make(entries: tuple[slice | int, ...]) -> IndexExpression:
    expr = IndexExpression.__new__(IndexExpression)
    expr.expression = entries
    return expr


def _as_shape(shape: Sequence[int]) -> tuple[int, ...]:
    return tuple(int(s) for s in shape)


class IndexingStrategy(abc.ABC):
    """Base class: cuts a volume of a given spatial shape into samples.

    Subclasses implement :meth:`__call__` (all expressions of a shape, the 0.3.4 interface). Built-in
    strategies also override :meth:`count` and :meth:`expression` with closed forms, so that the
    datasource never materialises per-sample objects.
    """

    #: Whether :meth:`locate` reads data of the subject (random samplers weighted by labels).
    needs_reader: bool = False

    def __init__(self) -> None:
        self._cache: dict[tuple[int, ...], list[IndexExpression]] = {}

    @abc.abstractmethod
    def __call__(self, shape: Sequence[int]) -> list[IndexExpression]:
        """All index expressions of a volume of spatial ``shape`` (numpy order), in sample order."""

    def count(self, shapes: np.ndarray) -> np.ndarray:
        """Number of samples of each subject.

        Parameters
        ----------
        shapes : numpy.ndarray
            Spatial shapes, (n_subjects, n_axes), numpy axis order.

        Returns
        -------
        numpy.ndarray
            int64 (n_subjects,).
        """
        shapes = np.asarray(shapes, dtype=np.int64)
        unique, inverse = np.unique(shapes, axis=0, return_inverse=True)
        per_shape = np.array([len(self._expressions(tuple(u))) for u in unique], dtype=np.int64)
        return per_shape[np.asarray(inverse).reshape(-1)]

    def _expressions(self, shape: tuple[int, ...]) -> list[IndexExpression]:
        shape = _as_shape(shape)
        if shape not in self._cache:
            self._cache[shape] = list(self(shape))
        return self._cache[shape]

    def expression(self, shape: Sequence[int], local_index: int) -> IndexExpression:
        """The expression of sample ``local_index`` of a volume of spatial ``shape``."""
        return self._expressions(_as_shape(shape))[local_index]

    def locate(self, reader: Any, subject_index: int, shape: Sequence[int], local_index: int) -> IndexExpression:
        """The expression of a subject's sample; random samplers override this to read the subject."""
        return self.expression(shape, local_index)

    def set_epoch(self, epoch: int) -> None:  # noqa: B027  # a no-op hook for deterministic strategies
        """Tell the strategy the training epoch (random samplers draw new positions per epoch)."""

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_cache"] = {}
        return state

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class EmptyIndexing(IndexingStrategy):
    """One sample per subject: the whole volume.

    Examples
    --------
    >>> EmptyIndexing()((10, 20, 30))
    [IndexExpression([None])]
    """

    def __call__(self, shape: Sequence[int]) -> list[IndexExpression]:
        return [IndexExpression()]

    def count(self, shapes: np.ndarray) -> np.ndarray:
        return np.ones(len(shapes), dtype=np.int64)

    def expression(self, shape: Sequence[int], local_index: int) -> IndexExpression:
        return _make((_FULL,))


class SliceIndexing(IndexingStrategy):
    """2-D slices along one or several axes; a slice of a (z, y, x) volume along axis 0 is axial.

    Parameters
    ----------
    slice_axis : int or tuple of int, default 0
        Axis (0: axial, 1: coronal, 2: sagittal) or axes. Several axes give all slices of the first
        axis, then of the second, ... (pymia 0.3.4's "2.5-D"; see :class:`TriPlanarIndexing` for
        three planes in one sample).

    Examples
    --------
    >>> SliceIndexing(1).expression((4, 5, 6), 2).expression
    (slice(None, None, None), 2)
    >>> SliceIndexing((0, 2)).count(np.array([[4, 5, 6]]))
    array([10])
    """

    def __init__(self, slice_axis: int | Sequence[int] = 0) -> None:
        super().__init__()
        axes = (slice_axis,) if isinstance(slice_axis, (int, np.integer)) else tuple(slice_axis)
        if not axes or any(int(a) < 0 for a in axes):
            raise InvalidInputError(f"slice_axis must be a non-negative axis or tuple of axes, got {slice_axis!r}")
        self.slice_axis = tuple(int(a) for a in axes)

    def _check(self, n_axes: int) -> None:
        if max(self.slice_axis) >= n_axes:
            raise InvalidInputError(
                f"slice axis {max(self.slice_axis)} does not exist in a volume with {n_axes} spatial axes; "
                f"use axes 0..{n_axes - 1}"
            )

    def __call__(self, shape: Sequence[int]) -> list[IndexExpression]:
        shape = _as_shape(shape)
        return [self.expression(shape, i) for i in range(int(self.count(np.array([shape]))[0]))]

    def count(self, shapes: np.ndarray) -> np.ndarray:
        shapes = np.asarray(shapes, dtype=np.int64)
        self._check(shapes.shape[1])
        return shapes[:, list(self.slice_axis)].sum(axis=1)

    def expression(self, shape: Sequence[int], local_index: int) -> IndexExpression:
        for axis in self.slice_axis:
            size = shape[axis]
            if local_index < size:
                # The 0.3.4 form IndexExpression(index, axis): entries up to the slice axis only.
                return _make((_FULL,) * axis + (int(local_index),))
            local_index -= size
        raise IndexError(f"sample {local_index} is beyond the slices of shape {tuple(shape)}")

    def __repr__(self) -> str:
        return f"SliceIndexing(slice_axis={self.slice_axis})"


class VoxelWiseIndexing(IndexingStrategy):
    """One sample per voxel (C-order); the sample is the (C,) vector of the voxel.

    Parameters
    ----------
    image_dimension : int, default 3
        Kept for pymia 0.3.4 compatibility; the number of axes comes from the volume's shape.
    """

    def __init__(self, image_dimension: int = 3) -> None:
        super().__init__()
        self.image_dimension = image_dimension

    def __call__(self, shape: Sequence[int]) -> list[IndexExpression]:
        shape = _as_shape(shape)
        return [self.expression(shape, i) for i in range(int(np.prod(shape)))]

    def count(self, shapes: np.ndarray) -> np.ndarray:
        return np.prod(np.asarray(shapes, dtype=np.int64), axis=1)

    def expression(self, shape: Sequence[int], local_index: int) -> IndexExpression:
        return _make(tuple(int(i) for i in np.unravel_index(local_index, tuple(shape))))


class _Grid:
    """Start positions of patches along one axis: regular steps of ``stride``."""

    @staticmethod
    def count(size: np.ndarray, patch: int, stride: int, mode: str) -> np.ndarray:
        size = np.asarray(size, dtype=np.int64)
        if mode == "inside":
            return np.where(size >= patch, (size - patch) // stride + 1, 0)
        # 'ragged' and 'pad': steps until a patch reaches the end of the axis
        return 1 + np.maximum(0, -(-(size - patch) // stride))


class PatchWiseIndexing(IndexingStrategy):
    """A regular grid of N-D patches, with optional overlap and border padding.

    Parameters
    ----------
    patch_shape : tuple of int
        Patch size per spatial axis, numpy order (z, y, x).
    ignore_incomplete : bool, default True
        Without ``pad``: ``True`` keeps only patches fully inside the volume (the border remainder
        is dropped, as in pymia 0.3.4); ``False`` covers the volume with smaller border patches.
    overlap : float or tuple of float, default 0
        Fraction of the patch shared by neighbours (0 ≤ overlap < 1); the stride is
        ``max(1, round(patch * (1 - overlap)))``. Ignored when ``stride`` is given.
    stride : int or tuple of int, optional
        Step between patch starts per axis, in voxels.
    pad : bool, default False
        Cover the whole volume with equal-sized patches: the last patch per axis reaches past the
        border and its outside part is zero-padded (``ignore_incomplete`` is then irrelevant).
        Patches larger than the volume are allowed only with ``pad=True`` or
        ``ignore_incomplete=False``.

    Examples
    --------
    >>> grid = PatchWiseIndexing((4, 4), overlap=0.5, pad=True)
    >>> int(grid.count(np.array([[10, 6]]))[0])  # starts 0, 2, 4, 6 along y and 0, 2 along x
    8
    """

    def __init__(
        self,
        patch_shape: Sequence[int],
        ignore_incomplete: bool = True,
        *,
        overlap: float | Sequence[float] = 0.0,
        stride: int | Sequence[int] | None = None,
        pad: bool = False,
    ) -> None:
        super().__init__()
        self.patch_shape = _as_shape(patch_shape)
        if not self.patch_shape or any(p < 1 for p in self.patch_shape):
            raise InvalidInputError(f"patch_shape must contain positive sizes, got {tuple(patch_shape)}")
        n = len(self.patch_shape)
        if stride is None:
            overlaps = (float(overlap),) * n if np.isscalar(overlap) else tuple(float(o) for o in overlap)  # type: ignore[union-attr]
            if len(overlaps) != n or any(not 0 <= o < 1 for o in overlaps):
                raise InvalidInputError(
                    f"overlap must be a fraction in [0, 1) or one per axis of patch_shape {self.patch_shape}, "
                    f"got {overlap!r}"
                )
            self.stride = tuple(max(1, round(p * (1 - o))) for p, o in zip(self.patch_shape, overlaps))
        else:
            strides = (int(stride),) * n if np.isscalar(stride) else tuple(int(s) for s in stride)  # type: ignore[arg-type, union-attr]
            if len(strides) != n or any(s < 1 for s in strides):
                raise InvalidInputError(f"stride must be positive, one per axis of {self.patch_shape}, got {stride!r}")
            self.stride = strides
        self.ignore_incomplete = ignore_incomplete
        self.pad = pad
        self.mode = "pad" if pad else ("inside" if ignore_incomplete else "ragged")

    def _check(self, shapes: np.ndarray) -> None:
        if shapes.shape[1] != len(self.patch_shape):
            raise InvalidInputError(
                f"patch shape {self.patch_shape} has {len(self.patch_shape)} axes but the images have "
                f"{shapes.shape[1]} spatial axes (shape {tuple(int(s) for s in shapes[0])})"
            )
        if self.mode == "inside":
            too_small = np.any(shapes < np.asarray(self.patch_shape), axis=1)
            if np.any(too_small):
                shape = tuple(int(s) for s in shapes[int(np.argmax(too_small))])
                raise InvalidInputError(
                    f"patch shape {self.patch_shape} is larger than the image {shape} and padding is off; "
                    "use pad=True (or ignore_incomplete=False) or a smaller patch"
                )

    def count(self, shapes: np.ndarray) -> np.ndarray:
        shapes = np.asarray(shapes, dtype=np.int64)
        self._check(shapes)
        counts = np.ones(len(shapes), dtype=np.int64)
        for axis, (patch, stride) in enumerate(zip(self.patch_shape, self.stride)):
            counts *= _Grid.count(shapes[:, axis], patch, stride, self.mode)
        return counts

    def __call__(self, shape: Sequence[int]) -> list[IndexExpression]:
        shape = _as_shape(shape)
        return [self.expression(shape, i) for i in range(int(self.count(np.array([shape]))[0]))]

    def expression(self, shape: Sequence[int], local_index: int) -> IndexExpression:
        per_axis = [
            int(_Grid.count(np.array(size), patch, stride, self.mode))
            for size, patch, stride in zip(shape, self.patch_shape, self.stride)
        ]
        entries = []
        for position, size, patch, stride in zip(
            np.unravel_index(local_index, per_axis), shape, self.patch_shape, self.stride
        ):
            start = int(position) * stride
            stop = start + patch if self.mode != "ragged" else min(start + patch, int(size))
            entries.append(slice(start, stop))
        return _make(tuple(entries))

    def __repr__(self) -> str:
        return (
            f"PatchWiseIndexing(patch_shape={self.patch_shape}, stride={self.stride}, "
            f"ignore_incomplete={self.ignore_incomplete}, pad={self.pad})"
        )


class SlabIndexing(IndexingStrategy):
    """One slab per slice: ``slab_size`` neighbouring slices as the channels of a 2-D sample.

    Parameters
    ----------
    slab_size : int
        Number of slices per slab (odd sizes are centred on the slice). Slices outside the volume
        are zero.
    slice_axis : int, default 0
        The axis along which slices are taken (0: axial, 1: coronal, 2: sagittal).

    Notes
    -----
    An axial slab of a (Z, Y, X, C) volume is a (Y, X, slab_size * C) sample; a network output for
    it is assembled as the centre slice.
    """

    def __init__(self, slab_size: int, slice_axis: int = 0) -> None:
        super().__init__()
        if int(slab_size) < 1:
            raise InvalidInputError(f"slab_size must be at least 1, got {slab_size}")
        self.slab_size = int(slab_size)
        self.slice_axis = int(slice_axis)

    def count(self, shapes: np.ndarray) -> np.ndarray:
        shapes = np.asarray(shapes, dtype=np.int64)
        if not 0 <= self.slice_axis < shapes.shape[1]:
            raise InvalidInputError(
                f"slice axis {self.slice_axis} does not exist in a volume with {shapes.shape[1]} spatial axes"
            )
        return shapes[:, self.slice_axis].copy()

    def __call__(self, shape: Sequence[int]) -> list[IndexExpression]:
        shape = _as_shape(shape)
        return [self.expression(shape, i) for i in range(shape[self.slice_axis])]

    def expression(self, shape: Sequence[int], local_index: int) -> IndexExpression:
        return SlabExpression(int(local_index), self.slice_axis, self.slab_size, len(shape))

    def __repr__(self) -> str:
        return f"SlabIndexing(slab_size={self.slab_size}, slice_axis={self.slice_axis})"


class TriPlanarIndexing(IndexingStrategy):
    """True 2.5-D: the axial, coronal and sagittal plane through one voxel as one (3, H, W, C) sample.

    The voxels visited are ``(z, y, x) = floor(t * (Z, Y, X) / n)`` for ``t = 0 .. n-1`` with
    ``n = max(Z, Y, X)``, so every slice of every plane appears at least once (what the 2.5-D
    assembler needs). All planes are centred in a common (H, W) and zero-padded or cropped.

    Parameters
    ----------
    plane_shape : tuple of int, optional
        The common (H, W). Default: per subject ``(max(Y, Z), max(X, Y))``, the smallest size holding
        every plane uncropped. Give it explicitly to batch subjects of different shapes.
    """

    def __init__(self, plane_shape: Sequence[int] | None = None) -> None:
        super().__init__()
        if plane_shape is not None and (len(plane_shape) != 2 or any(int(s) < 1 for s in plane_shape)):
            raise InvalidInputError(f"plane_shape must be two positive sizes (H, W), got {plane_shape!r}")
        self.plane_shape = None if plane_shape is None else (int(plane_shape[0]), int(plane_shape[1]))

    def count(self, shapes: np.ndarray) -> np.ndarray:
        shapes = np.asarray(shapes, dtype=np.int64)
        if shapes.shape[1] != 3:
            raise InvalidInputError(
                f"tri-planar samples need 3-D volumes, got {shapes.shape[1]} spatial axes; use SliceIndexing for 2-D"
            )
        return shapes.max(axis=1)

    def __call__(self, shape: Sequence[int]) -> list[IndexExpression]:
        shape = _as_shape(shape)
        return [self.expression(shape, i) for i in range(max(shape))]

    def expression(self, shape: Sequence[int], local_index: int) -> IndexExpression:
        z, y, x = (int(s) for s in shape)
        n = max(z, y, x)
        position = tuple((local_index * size) // n for size in (z, y, x))
        plane_shape = self.plane_shape or (max(y, z), max(x, y))
        return OrthogonalPlanesExpression(position, plane_shape)

    def __repr__(self) -> str:
        return f"TriPlanarIndexing(plane_shape={self.plane_shape})"
