"""Sample descriptions that are more than one box: slabs (slices as channels) and tri-planar samples.

Both derive from :class:`~pymia.data.indexexpression.IndexExpression`, so every extractor and
assembler can handle them through two functions: :func:`read_sample` reads a sample of any kind
from a reader, and :func:`placements` says where the parts of a network output for that sample
belong in the subject's volume.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from pymia.data.indexexpression import IndexExpression

__all__ = ["OrthogonalPlanesExpression", "SlabExpression", "placements", "read_sample"]


def _expression(entries: Sequence[slice | int]) -> IndexExpression:
    expr = IndexExpression.__new__(IndexExpression)
    expr.expression = tuple(entries)
    return expr


class SlabExpression(IndexExpression):
    """``slab_size`` neighbouring slices along ``slab_axis``, centred on ``centre``, as channels.

    The sample has the shape of a slice with ``slab_size * C`` channels, ordered slice-major (all
    channels of the first slice, then of the next). Slices outside the volume are zero.

    Parameters
    ----------
    centre : int
        Index of the centre slice along ``slab_axis``.
    slab_axis : int
        Spatial axis (0 = z: axial, 1 = y: coronal, 2 = x: sagittal for a (z, y, x) volume).
    slab_size : int
        Number of slices (odd sizes are centred; even sizes have one more slice before the centre).
    n_axes : int
        Number of spatial axes of the volume.
    """

    def __init__(self, centre: int, slab_axis: int, slab_size: int, n_axes: int) -> None:
        start = centre - slab_size // 2
        entries: list[slice | int] = [slice(None)] * n_axes
        entries[slab_axis] = slice(start, start + slab_size)
        self.expression = tuple(entries)
        self.centre = centre
        self.slab_axis = slab_axis
        self.slab_size = slab_size

    @property
    def centre_slice(self) -> IndexExpression:
        """The centre slice (the region a network output for this sample describes)."""
        entries: list[slice | int] = [slice(None)] * len(self.expression)
        entries[self.slab_axis] = self.centre
        return _expression(entries)

    def arrange(self, box: np.ndarray) -> np.ndarray:
        """Move the slab axis of a read box ``(..., k, ..., C)`` into the channels ``(..., k*C)``."""
        moved = np.moveaxis(box, self.slab_axis, -2)
        return moved.reshape((*moved.shape[:-2], moved.shape[-2] * moved.shape[-1]))

    def __repr__(self) -> str:
        return f"SlabExpression(centre={self.centre}, slab_axis={self.slab_axis}, slab_size={self.slab_size})"


class OrthogonalPlanesExpression(IndexExpression):
    """The three orthogonal planes through one voxel of a 3-D volume, as one (3, H, W, C) sample.

    Plane 0 is axial (fixed z, shape (Y, X)), plane 1 coronal (fixed y, shape (Z, X)), plane 2
    sagittal (fixed x, shape (Z, Y)). Each plane is centred in ``plane_shape`` = (H, W): padded
    with zeros where it is smaller, cropped where it is larger.

    Parameters
    ----------
    position : tuple of int
        The voxel (z, y, x) the planes pass through.
    plane_shape : tuple of int
        The common (H, W) of the three planes.
    """

    def __init__(self, position: Sequence[int], plane_shape: Sequence[int]) -> None:
        self.position = tuple(int(p) for p in position)
        self.plane_shape = (int(plane_shape[0]), int(plane_shape[1]))
        self.expression = self.position

    @property
    def planes(self) -> tuple[IndexExpression, IndexExpression, IndexExpression]:
        """Slice expressions of the axial, coronal and sagittal plane."""
        z, y, x = self.position
        full = slice(None)
        return _expression((z, full, full)), _expression((full, y, full)), _expression((full, full, x))

    def plane_boxes(self, volume_shape: Sequence[int]) -> list[IndexExpression]:
        """Per plane, the 2-D box (relative to the plane) that is centred in ``plane_shape``.

        The boxes may reach outside the plane (padding) or cover only part of it (cropping).
        """
        z_size, y_size, x_size = (int(s) for s in volume_shape[:3])
        boxes = []
        for rows, cols in ((y_size, x_size), (z_size, x_size), (z_size, y_size)):
            row0 = (rows - self.plane_shape[0]) // 2
            col0 = (cols - self.plane_shape[1]) // 2
            boxes.append(
                _expression((slice(row0, row0 + self.plane_shape[0]), slice(col0, col0 + self.plane_shape[1])))
            )
        return boxes

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, OrthogonalPlanesExpression):
            return NotImplemented
        return self.position == other.position and self.plane_shape == other.plane_shape

    def __hash__(self) -> int:
        return hash((self.position, self.plane_shape))

    def __repr__(self) -> str:
        return f"OrthogonalPlanesExpression(position={self.position}, plane_shape={self.plane_shape})"


def _plane_box_in_volume(plane: IndexExpression, box: IndexExpression) -> IndexExpression:
    """Combine a plane (one squeezed axis) with a 2-D box over the remaining axes into a 3-D box."""
    entries: list[slice | int] = []
    box_entries = iter(box.expression)
    for e in plane.expression:
        entries.append(e if isinstance(e, int) else next(box_entries))
    return _expression(entries)


def read_sample(
    read_box: Callable[[IndexExpression | None], np.ndarray],
    index_expr: IndexExpression | None,
    volume_shape: Sequence[int],
) -> np.ndarray:
    """Read one sample for any kind of index expression.

    Parameters
    ----------
    read_box : callable
        ``read_box(box_expression) -> array``: reads a box (which may reach outside the volume) of
        one subject's data, e.g. ``functools.partial(reader.read_box, 'images', subject_index)``.
    index_expr : IndexExpression, SlabExpression, OrthogonalPlanesExpression or None
        Where the sample sits; ``None`` reads the whole volume.
    volume_shape : sequence of int
        Shape of the subject's data (spatial axes first).

    Returns
    -------
    numpy.ndarray
        A box: ``(box shape without squeezed axes..., C)``; a slab: ``(slice shape..., k*C)``;
        tri-planar: ``(3, H, W, C)``.
    """
    if index_expr is None or type(index_expr) is IndexExpression:
        return read_box(index_expr)
    if isinstance(index_expr, SlabExpression):
        return index_expr.arrange(read_box(index_expr))
    if isinstance(index_expr, OrthogonalPlanesExpression):
        boxes = index_expr.plane_boxes(volume_shape)
        return np.stack([read_box(_plane_box_in_volume(plane, box)) for plane, box in zip(index_expr.planes, boxes)])
    return read_box(index_expr)


def placements(
    index_expr: IndexExpression, prediction: np.ndarray, volume_shape: Sequence[int]
) -> list[tuple[IndexExpression, np.ndarray]]:
    """Where the parts of a network output for a sample belong in the subject's volume.

    Parameters
    ----------
    index_expr : IndexExpression
        The sample's location (as returned by the datasource).
    prediction : numpy.ndarray
        The output for that sample, shaped like the sample (channels may differ): a box or slice
        ``(..., C)``, for a slab the centre slice ``(..., C)``, for tri-planar ``(3, H, W, C)``.
    volume_shape : sequence of int
        Spatial shape (z, y, x) of the subject's volume.

    Returns
    -------
    list of (IndexExpression, numpy.ndarray)
        Regions of the volume (boxes, possibly reaching outside it) and the arrays for them.
        Tri-planar outputs give three entries, one per plane, in plane order.
    """
    if isinstance(index_expr, SlabExpression):
        return [(index_expr.centre_slice, prediction)]
    if isinstance(index_expr, OrthogonalPlanesExpression):
        boxes = index_expr.plane_boxes(volume_shape)
        return [
            (_plane_box_in_volume(plane, box), prediction[i])
            for i, (plane, box) in enumerate(zip(index_expr.planes, boxes))
        ]
    return [(index_expr, prediction)]
