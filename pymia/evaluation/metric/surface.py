"""The one surface-distance computation behind every distance metric (HD, HD percentile, AVGDIST, SURFDICE, SURFOVLP).

:func:`compute_surface_distances` finds the surface points of both masks on the bounding box of
their union and, for every surface point of one mask, the exact Euclidean distance in mm to the
nearest surface point of the other. Two conventions for "surface point":

* ``'surfel'`` (default): voxel corners whose 2×2(×2) neighbourhood is partly inside the mask,
  each weighted by the area (3-D, mm²) or length (2-D, mm) of the surface crossing it. This is the
  convention of DeepMind's surface-distance and of pymia 0.3.4.
* ``'voxel'``: mask voxels with a background face neighbour (the mask minus its erosion with the
  face-connected structuring element), each with weight 1. This is the convention of MONAI and
  medpy. Works for any number of axes.

The nearest neighbours are found exactly: first by looking up grid offsets in order of their
length within a small ball (most surface points of a reasonable segmentation find their match
there), then with a k-d tree for the points left over. Memory and time grow with the bounding box
and the surface sizes, never with the image.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np

from pymia.errors import InvalidInputError
from pymia.evaluation.metric.surface_elements import neighbourhood_sizes

__all__ = ["SURFACE_METHODS", "DirectedSurfaceDistances", "SurfaceDistances", "compute_surface_distances"]

#: The surface conventions :func:`compute_surface_distances` knows.
SURFACE_METHODS = ("surfel", "voxel")

# Radius (in multiples of the smallest spacing) of the ball of grid offsets searched before the
# k-d tree: large enough that almost every point of a good segmentation is matched in the ball,
# small enough that the ball has a few hundred offsets.
_SEARCH_RADIUS_VOXELS = {1: 16.0, 2: 6.0, 3: 4.0}
_SEARCH_RADIUS_VOXELS_HIGHER = 2.0
# Planes of the corner grid handled at once when finding surfels.
_SLAB_PLANES = 16


class DirectedSurfaceDistances:
    """Distances from the surface points of one mask to the surface of the other, sorted ascending.

    Parameters
    ----------
    distances : numpy.ndarray
        Distance in mm of each surface point to the other surface (``inf`` if the other surface is empty).
    weights : numpy.ndarray
        Weight of each point: surfel area (mm², 3-D), contour length (mm, 2-D) or 1 (voxel method).
    order : numpy.ndarray, optional
        A permutation that sorts ``distances`` ascending, if the caller knows one. Default: computed.

    Attributes
    ----------
    distances, weights : numpy.ndarray
        Both sorted by distance, shape (n,).
    """

    def __init__(self, distances: np.ndarray, weights: np.ndarray, order: np.ndarray | None = None) -> None:
        if order is None:
            order = np.argsort(distances, kind="stable")
        self.distances: np.ndarray = distances[order]
        self.weights: np.ndarray = weights[order]
        self.distances.setflags(write=False)
        self.weights.setflags(write=False)

    def __len__(self) -> int:
        return int(self.distances.size)

    @property
    def total_weight(self) -> float:
        """Sum of the weights: surface area in mm² (3-D), contour length in mm (2-D) or point count (voxel)."""
        return float(np.sum(self.weights))

    @functools.cached_property
    def _cumulative_fraction(self) -> np.ndarray:
        return np.cumsum(self.weights) / np.sum(self.weights)

    def weighted_percentile(self, percentile: float) -> float:
        """Smallest distance at which the cumulative weight reaches ``percentile`` % of the total (surfel rule)."""
        if percentile >= 100.0:
            return float(self.distances[-1])
        index = int(np.searchsorted(self._cumulative_fraction, percentile / 100.0))
        return float(self.distances[min(index, self.distances.size - 1)])

    def interpolated_percentile(self, percentile: float) -> float:
        """Percentile with linear interpolation between points (``numpy.percentile``; the voxel rule)."""
        return float(np.percentile(self.distances, percentile))

    def mean(self) -> float:
        """Weighted mean distance in mm."""
        return float(np.sum(self.distances * self.weights) / np.sum(self.weights))

    def weight_within(self, tolerance: float) -> float:
        """Sum of the weights of the points at most ``tolerance`` mm from the other surface."""
        count = int(np.searchsorted(self.distances, tolerance, side="right"))
        return float(np.sum(self.weights[:count]))


class SurfaceDistances:
    """The surface distances of a reference and a prediction mask in both directions.

    Built by :func:`compute_surface_distances`. The methods give the raw quantities; they assume
    both surfaces are non-empty (check :attr:`reference_is_empty` / :attr:`prediction_is_empty`;
    the metric functions in :mod:`pymia.evaluation.metric.distance` apply the edge-case policy).

    Attributes
    ----------
    method : str
        ``'surfel'`` or ``'voxel'``.
    reference_to_prediction : DirectedSurfaceDistances
        From each reference surface point to the prediction surface.
    prediction_to_reference : DirectedSurfaceDistances
        From each prediction surface point to the reference surface.
    """

    def __init__(
        self,
        method: str,
        reference_to_prediction: DirectedSurfaceDistances,
        prediction_to_reference: DirectedSurfaceDistances,
    ) -> None:
        self.method = method
        self.reference_to_prediction = reference_to_prediction
        self.prediction_to_reference = prediction_to_reference

    @property
    def reference_is_empty(self) -> bool:
        """Whether the reference has no surface (it is empty)."""
        return len(self.reference_to_prediction) == 0

    @property
    def prediction_is_empty(self) -> bool:
        """Whether the prediction has no surface (it is empty)."""
        return len(self.prediction_to_reference) == 0

    def _percentile(self, directed: DirectedSurfaceDistances, percentile: float) -> float:
        if self.method == "surfel":
            return directed.weighted_percentile(percentile)
        return directed.interpolated_percentile(percentile)

    def hausdorff(self, percentile: float = 100.0) -> float:
        """Maximum over both directions of the directed ``percentile`` distance, in mm."""
        return max(
            self._percentile(self.reference_to_prediction, percentile),
            self._percentile(self.prediction_to_reference, percentile),
        )

    def average(self) -> float:
        """Average symmetric surface distance in mm: the weighted mean distance over the points of both surfaces."""
        both = (self.reference_to_prediction, self.prediction_to_reference)
        total_distance = sum(float(np.sum(d.distances * d.weights)) for d in both)
        return total_distance / sum(d.total_weight for d in both)

    def surface_dice(self, tolerance: float) -> float:
        """Weight of both surfaces within ``tolerance`` mm of the other, over the total weight of both."""
        within = self.reference_to_prediction.weight_within(tolerance) + self.prediction_to_reference.weight_within(
            tolerance
        )
        total = self.reference_to_prediction.total_weight + self.prediction_to_reference.total_weight
        return within / total

    def surface_overlap(self, tolerance: float, prediction_to_reference: bool = True) -> float:
        """Fraction (by weight) of one surface within ``tolerance`` mm of the other."""
        directed = self.prediction_to_reference if prediction_to_reference else self.reference_to_prediction
        return directed.weight_within(tolerance) / directed.total_weight


def compute_surface_distances(
    reference: np.ndarray,
    prediction: np.ndarray,
    *,
    spacing: Sequence[float] | None = None,
    method: str = "surfel",
) -> SurfaceDistances:
    """Compute the distances between the surfaces of two binary masks, in both directions.

    Parameters
    ----------
    reference, prediction : numpy.ndarray of bool
        Masks of the same shape, numpy axis order (z, y, x). The surfel method needs 2 or 3 axes,
        the voxel method works for any number.
    spacing : sequence of float, optional
        Voxel spacing in mm, numpy order. Default 1 mm per axis.
    method : {'surfel', 'voxel'}
        The surface convention (see the module docstring).

    Returns
    -------
    SurfaceDistances
        Empty directions for empty masks; ``inf`` distances from a non-empty surface to an empty one.

    Examples
    --------
    >>> import numpy as np
    >>> reference = np.zeros((8, 8), bool); reference[2:5, 2:5] = True
    >>> prediction = np.roll(reference, 1, axis=1)
    >>> distances = compute_surface_distances(reference, prediction, method="voxel")
    >>> distances.hausdorff(), distances.average()
    (1.0, 0.5)
    """
    if method not in SURFACE_METHODS:
        raise InvalidInputError(f"method must be one of {SURFACE_METHODS}, got {method!r}.")
    if reference.shape != prediction.shape:
        raise InvalidInputError(f"masks differ in shape: {reference.shape} vs {prediction.shape}.")
    ndim = reference.ndim
    if method == "surfel" and ndim not in (2, 3):
        raise InvalidInputError(
            f"the surfel method needs 2-D or 3-D masks, got {ndim} axes (shape {reference.shape}); "
            "use method='voxel' for other dimensions."
        )
    spacing = (1.0,) * ndim if spacing is None else tuple(float(s) for s in spacing)
    if len(spacing) != ndim:
        raise InvalidInputError(f"spacing {spacing} has {len(spacing)} values for {ndim}-D masks.")
    reference = np.asarray(reference, dtype=bool)
    prediction = np.asarray(prediction, dtype=bool)

    box = _bounding_box(reference, prediction)
    if box is None:
        empty = DirectedSurfaceDistances(np.zeros(0), np.zeros(0))
        return SurfaceDistances(method, empty, DirectedSurfaceDistances(np.zeros(0), np.zeros(0)))

    find_points = _surfel_points if method == "surfel" else _boundary_voxel_points
    reference_coords, reference_weights, grid_shape = find_points(reference[box], spacing)
    prediction_coords, prediction_weights, _ = find_points(prediction[box], spacing)

    search = _OffsetBall(spacing)
    lookup = _PointGrid(grid_shape, search.reach)
    reference_index = lookup.flat_index(reference_coords)
    prediction_index = lookup.flat_index(prediction_coords)
    directed = []
    for source, target, weights in (
        (reference_index, prediction_index, reference_weights),
        (prediction_index, reference_index, prediction_weights),
    ):
        distances, order = search.nearest(source, target, lookup)
        directed.append(DirectedSurfaceDistances(distances, weights, order))
    return SurfaceDistances(method, *directed)


def _bounding_box(*masks: np.ndarray) -> tuple[slice, ...] | None:
    """Smallest box holding every True voxel of all masks, or None if all are empty."""
    ndim = masks[0].ndim
    low = [np.iinfo(np.int64).max] * ndim
    high = [-1] * ndim
    for mask in masks:
        view = mask
        offsets = [0] * ndim
        for axis in range(ndim):
            others = tuple(a for a in range(ndim) if a != axis)
            present = np.flatnonzero(np.any(view, axis=others) if others else view)
            if present.size == 0:
                break
            first, last = int(present[0]), int(present[-1])
            low[axis] = min(low[axis], offsets[axis] + first)
            high[axis] = max(high[axis], offsets[axis] + last)
            # Narrow the view so the projections on the next axes read fewer voxels.
            index = [slice(None)] * ndim
            index[axis] = slice(first, last + 1)
            view = view[tuple(index)]
            offsets[axis] += first
    if high[0] < 0:
        return None
    return tuple(slice(lo, hi + 1) for lo, hi in zip(low, high))


def _shifted(array: np.ndarray, axis: int, start: int, stop: int | None) -> np.ndarray:
    index = [slice(None)] * array.ndim
    index[axis] = slice(start, stop)
    return array[tuple(index)]


def _surfel_points(mask: np.ndarray, spacing: tuple[float, ...]) -> tuple[np.ndarray, np.ndarray, tuple[int, ...]]:
    """Voxel corners whose neighbourhood is partly inside ``mask``, and their surface sizes.

    Corner ``c`` (shape of the corner grid: ``mask.shape + 1``) is shared by the voxels ``c - 1 .. c``
    of each axis. Returns the corner coordinates (n, ndim), the surfel sizes (n,) and the grid shape.
    """
    ndim = mask.ndim
    padded = np.pad(mask, 1)
    grid_shape = tuple(s + 1 for s in mask.shape)
    strides = np.array(padded.strides) // padded.itemsize
    # Corner c covers padded[c : c + 2] on every axis; bit b of its code is the voxel at offset unravel_index(b).
    bit_offsets = [int(np.array(np.unravel_index(bit, (2,) * ndim)) @ strides) for bit in range(2**ndim)]
    plane = int(np.prod(grid_shape[1:]))
    found = []
    for first in range(0, grid_shape[0], _SLAB_PLANES):  # slabs keep the temporaries small and in cache
        any_inside = all_inside = padded[first : first + _SLAB_PLANES + 1]
        for axis in range(ndim):  # separable 2×2(×2) any / all: one pass per axis
            any_inside = _shifted(any_inside, axis, None, -1) | _shifted(any_inside, axis, 1, None)
            all_inside = _shifted(all_inside, axis, None, -1) & _shifted(all_inside, axis, 1, None)
        found.append(np.flatnonzero(any_inside & ~all_inside) + first * plane)
    coordinates = np.unravel_index(np.concatenate(found), grid_shape)
    base = sum(c * int(stride) for c, stride in zip(coordinates, strides))
    padded_flat = padded.ravel()
    codes = np.zeros(base.size, dtype=np.intp)
    for bit, offset in enumerate(bit_offsets):
        codes |= padded_flat[base + offset].astype(np.intp) << bit
    return np.stack(coordinates, axis=1), neighbourhood_sizes(spacing)[codes], grid_shape


def _boundary_voxel_points(
    mask: np.ndarray, spacing: tuple[float, ...]
) -> tuple[np.ndarray, np.ndarray, tuple[int, ...]]:
    """Voxels of ``mask`` with at least one face neighbour outside it (outside the array counts as outside)."""
    padded = np.pad(mask, 1)
    inner = tuple(slice(1, -1) for _ in range(mask.ndim))
    eroded = padded[inner].copy()
    for axis in range(mask.ndim):
        for start, stop in ((0, -2), (2, None)):
            index = list(inner)
            index[axis] = slice(start, stop)
            eroded &= padded[tuple(index)]
    boundary = np.flatnonzero(mask & ~eroded)
    coords = np.stack(np.unravel_index(boundary, mask.shape), axis=1)
    return coords, np.ones(boundary.size), mask.shape


class _PointGrid:
    """A flat boolean grid of the point coordinates, padded by the search reach so lookups stay inside."""

    def __init__(self, grid_shape: tuple[int, ...], reach: np.ndarray) -> None:
        self.reach = reach
        self.shape = tuple(int(s + 2 * r) for s, r in zip(grid_shape, reach))
        self.strides = np.array([int(np.prod(self.shape[axis + 1 :])) for axis in range(len(self.shape))])

    def flat_index(self, coords: np.ndarray) -> np.ndarray:
        # Column by column: integer matrix products do not use BLAS and are slow.
        return sum(
            (coords[:, axis] + int(self.reach[axis])) * int(self.strides[axis]) for axis in range(coords.shape[1])
        )

    def coordinates(self, flat_index: np.ndarray) -> np.ndarray:
        return np.stack(np.unravel_index(flat_index, self.shape), axis=1) - self.reach

    def occupancy(self, flat_index: np.ndarray) -> np.ndarray:
        grid = np.zeros(int(np.prod(self.shape)), dtype=bool)
        grid[flat_index] = True
        return grid


class _OffsetBall:
    """The integer grid offsets within a small ball, in shells of equal length in mm, shortest first."""

    def __init__(self, spacing: tuple[float, ...]) -> None:
        self.spacing = np.asarray(spacing, dtype=np.float64)
        radius_voxels = _SEARCH_RADIUS_VOXELS.get(len(spacing), _SEARCH_RADIUS_VOXELS_HIGHER)
        radius = radius_voxels * float(self.spacing.min())
        self.reach = np.floor(radius / self.spacing).astype(np.int64)
        axes = [np.arange(-r, r + 1) for r in self.reach]
        offsets = np.stack([g.ravel() for g in np.meshgrid(*axes, indexing="ij")], axis=1)
        lengths = np.sqrt(np.sum((offsets * self.spacing) ** 2, axis=1))
        inside = lengths <= radius
        order = np.argsort(lengths[inside], kind="stable")
        self.offsets = offsets[inside][order]
        self.lengths = lengths[inside][order]
        # Shell k holds the offsets self.offsets[starts[k]:starts[k + 1]], all of length shell_lengths[k].
        self.shell_lengths, starts = np.unique(self.lengths, return_index=True)
        self.shell_starts = np.append(starts, self.lengths.size)

    def nearest(self, source: np.ndarray, target: np.ndarray, grid: _PointGrid) -> tuple[np.ndarray, np.ndarray]:
        """Distance in mm from each source point to the nearest target point (flat indices in ``grid``).

        Returns the distances and a permutation that sorts them ascending.
        """
        distances = np.full(source.size, np.inf)
        if source.size == 0 or target.size == 0:
            return distances, np.arange(source.size)
        occupied = grid.occupancy(target)
        index_type = np.int32 if occupied.size < np.iinfo(np.int32).max else np.int64
        flat_offsets = (self.offsets @ grid.strides).astype(index_type)
        shells = self.shell_lengths.size
        shell = np.full(source.size, shells, dtype=np.int16 if shells < np.iinfo(np.int16).max else np.int32)
        pending = np.arange(source.size)
        pending_index = source.astype(index_type)
        # Shells come in order of length, so the first shell with a hit holds a point's nearest target.
        for k in range(shells):
            first, stop = self.shell_starts[k], self.shell_starts[k + 1]
            hit = occupied[pending_index + flat_offsets[first]]
            for offset in flat_offsets[first + 1 : stop]:
                hit |= occupied[pending_index + offset]
            if hit.any():
                found = pending[hit]
                distances[found] = self.shell_lengths[k]
                shell[found] = k
                missed = ~hit
                pending = pending[missed]
                pending_index = pending_index[missed]
                if pending.size == 0:
                    break
        if pending.size:
            # Points farther than the ball: exact nearest neighbours from a k-d tree over all target points.
            from scipy.spatial import cKDTree  # imported here: scipy.spatial is slow to import and rarely needed

            tree = cKDTree(grid.coordinates(target) * self.spacing, balanced_tree=False, compact_nodes=False)
            distances[pending], _ = tree.query(grid.coordinates(pending_index.astype(np.int64)) * self.spacing)
        # Sort by shell (a fast stable integer sort), then the few far points by distance.
        in_ball = np.flatnonzero(shell < shells)
        order = in_ball[np.argsort(shell[in_ball], kind="stable")]
        if pending.size:
            order = np.concatenate([order, pending[np.argsort(distances[pending], kind="stable")]])
        return distances, order
