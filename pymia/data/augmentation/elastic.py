"""Random elastic deformation: smooth random displacements from a coarse grid of control points.

Each control point gets a random displacement (normal, standard deviation ``deformation_sigma`` voxels);
a cubic spline through the control points gives the displacement of every voxel, and all entries are
resampled at the displaced positions (images linear or cubic, labels nearest neighbour).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np

import pymia.data.definition as defs
from pymia.data.augmentation.randomtransform import SeedLike
from pymia.data.augmentation.resamplingtransform import ResamplingTransform
from pymia.errors import InvalidInputError

__all__ = ["RandomElasticDeformation"]


@functools.lru_cache(maxsize=64)
def _interpolation_weights(size: int, n_control_points: int) -> np.ndarray:
    """Weights (size, n_control_points) that map control-point values to every index along one axis.

    The control points sit evenly from index 0 to ``size - 1``; row ``i`` holds the cubic-spline
    (not-a-knot; linear for two points) weights of each control point at index ``i``.
    """
    if size == 1:
        weights = np.full((1, n_control_points), 1.0 / n_control_points)
    else:
        from scipy.interpolate import CubicSpline  # imported on first use, as it is slow to import

        positions = np.linspace(0.0, size - 1.0, n_control_points)
        weights = CubicSpline(positions, np.eye(n_control_points), axis=0)(np.arange(size, dtype=np.float64))
    weights.setflags(write=False)
    return weights


def displacement_field(control_displacements: np.ndarray, spatial_shape: Sequence[int]) -> np.ndarray:
    """Interpolate control-point displacements to a dense field, one separable spline pass per axis.

    Parameters
    ----------
    control_displacements : numpy.ndarray
        Shape (ndim, k_0, ..., k_{ndim-1}): displacement along each axis at each control point (voxels).
    spatial_shape : sequence of int
        (y, x) or (z, y, x) of the dense field.

    Returns
    -------
    numpy.ndarray
        Shape (ndim, *spatial_shape), float64, displacement in voxels.
    """
    field = control_displacements
    for size in spatial_shape:
        weights = _interpolation_weights(int(size), field.shape[1])
        # contract the leading control-point axis with the weights; the new axis goes last, so after
        # all axes the spatial axes are back in order
        field = np.tensordot(field, weights, axes=([1], [1]))
    return field


def _orders_from_simpleitk(interpolators: Sequence[int], entries: Sequence[str]) -> tuple[int, ...]:
    """Translate pymia 0.3.4's SimpleITK interpolator ids (one per entry) to spline orders."""
    import SimpleITK as sitk

    table = {
        sitk.sitkNearestNeighbor: 0,
        sitk.sitkLinear: 1,
        sitk.sitkBSpline1: 1,
        sitk.sitkBSpline2: 2,
        sitk.sitkBSpline3: 3,  # sitk.sitkBSpline is BSpline3
        sitk.sitkBSpline4: 4,
        sitk.sitkBSpline5: 5,
    }
    interpolators = tuple(interpolators)
    if len(interpolators) != len(entries):
        raise InvalidInputError(
            f"RandomElasticDeformation got {len(interpolators)} interpolators {interpolators} for "
            f"{len(entries)} entries {tuple(entries)}; give one per entry"
        )
    unknown = [value for value in interpolators if value not in table]
    if unknown:
        raise InvalidInputError(
            f"RandomElasticDeformation supports the SimpleITK interpolators NearestNeighbor, Linear and "
            f"BSpline1-5, got {unknown}; use order= instead"
        )
    return tuple(table[value] for value in interpolators)


class RandomElasticDeformation(ResamplingTransform):
    """Deform the sample elastically with a random smooth displacement field, the same for every entry.

    A grid of ``num_control_points`` points per axis spans the array from its first to its last voxel.
    Each point is displaced along each axis by a normal random number with standard deviation
    ``deformation_sigma`` (voxels); a cubic spline through the points gives every voxel's displacement
    ``d``, and the output at index ``o`` is the input at ``o + d(o)``.

    Parameters
    ----------
    num_control_points : int or sequence of int, default 4
        Control points per axis (at least 2), one value or one per spatial axis. More points give a
        finer, more local deformation.
    deformation_sigma : float or sequence of float, default 5.0
        Standard deviation of the control-point displacements in voxels, one value or one per spatial
        axis (z, y, x); 0 switches deformation along that axis off (e.g. ``(0, 5, 5)`` for thick slices),
        and 0 everywhere is the identity.
    interpolators : sequence of int, optional
        pymia 0.3.4's way to set the interpolation: one SimpleITK interpolator id per entry
        (``sitk.sitkNearestNeighbor``, ``sitk.sitkLinear``, ``sitk.sitkBSpline``); overrides ``order`` and
        ``label_entries`` for the choice of interpolation. ``None`` (default): images use ``order``,
        label entries nearest neighbour.
    spatial_rank : int, optional
        Kept from pymia 0.3.4; the rank is read from the arrays (ndim - 1). If given, it must match.
    fill_value : float, default 0.0
        Image value outside the array (``mode='constant'``); labels are filled with 0.
    p : float, default 0.5
        Probability that the sample is deformed (0.5 as in pymia 0.3.4).
    entries : sequence of str, default ('images', 'labels')
        The sample keys to deform; all must share their spatial shape.
    order : int, default 1
        Spline order for images (1 linear; 3 cubic as pymia 0.3.4's B-spline, about 5× slower).
    label_entries, mode, seed, rng
        See :class:`~pymia.data.augmentation.ResamplingTransform`.

    Examples
    --------
    >>> import numpy as np
    >>> from pymia.data.augmentation import RandomElasticDeformation
    >>> labels = np.zeros((24, 24, 24, 1), dtype=np.uint8)
    >>> labels[6:18, 6:18, 6:18] = 3
    >>> out = RandomElasticDeformation(deformation_sigma=2.0, p=1.0, entries=('labels',), seed=1)({'labels': labels})
    >>> sorted(np.unique(out['labels']).tolist())
    [0, 3]
    """

    def __init__(
        self,
        num_control_points: int | Sequence[int] = 4,
        deformation_sigma: float | Sequence[float] = 5.0,
        interpolators: Sequence[int] | None = None,
        spatial_rank: int | None = None,
        fill_value: float = 0.0,
        p: float = 0.5,
        entries: Sequence[str] = (defs.KEY_IMAGES, defs.KEY_LABELS),
        *,
        order: int = 1,
        label_entries: Sequence[str] = (defs.KEY_LABELS,),
        mode: str = "constant",
        seed: SeedLike = None,
        rng: np.random.Generator | None = None,
    ) -> None:
        super().__init__(
            p=p,
            entries=entries,
            order=order,
            label_entries=label_entries,
            mode=mode,
            fill_value=fill_value,
            seed=seed,
            rng=rng,
        )
        points = np.atleast_1d(np.asarray(num_control_points))
        if points.ndim != 1 or points.dtype.kind not in "iu" or np.any(points < 2):
            raise InvalidInputError(
                f"RandomElasticDeformation needs num_control_points as int(s) >= 2, got {num_control_points!r}"
            )
        sigma = np.atleast_1d(np.asarray(deformation_sigma, dtype=np.float64))
        if sigma.ndim != 1 or not np.all(np.isfinite(sigma)) or np.any(sigma < 0):
            raise InvalidInputError(
                f"RandomElasticDeformation needs deformation_sigma as non-negative number(s) in voxels, got "
                f"{deformation_sigma!r}"
            )
        if spatial_rank is not None and spatial_rank not in (2, 3):
            raise InvalidInputError(f"RandomElasticDeformation supports spatial_rank 2 or 3, got {spatial_rank!r}")
        for name, values in (("num_control_points", points), ("deformation_sigma", sigma)):
            if spatial_rank is not None and values.size not in (1, spatial_rank):
                raise InvalidInputError(
                    f"RandomElasticDeformation got {values.size} values for {name} but spatial_rank={spatial_rank}"
                )
        self.num_control_points = int(points[0]) if points.size == 1 else tuple(int(v) for v in points)
        self.deformation_sigma = float(sigma[0]) if sigma.size == 1 else tuple(float(v) for v in sigma)
        self.spatial_rank = spatial_rank
        self.interpolators = None if interpolators is None else tuple(interpolators)
        self._interpolator_orders = (
            None if interpolators is None else _orders_from_simpleitk(self.interpolators, self.entries)
        )

    def entry_orders(self, sample: dict, entries: Sequence[str]) -> dict[str, int]:
        if self._interpolator_orders is None:
            return super().entry_orders(sample, entries)
        by_entry = dict(zip(self.entries, self._interpolator_orders))
        return {entry: by_entry[entry] for entry in entries}

    def _per_axis(self, value: int | float | tuple, name: str, ndim: int) -> np.ndarray:
        values = np.atleast_1d(np.asarray(value))
        if values.size == 1:
            return np.repeat(values, ndim)
        if values.size != ndim:
            raise InvalidInputError(
                f"RandomElasticDeformation got {values.size} values for {name} ({value!r}) but the sample has "
                f"{ndim} spatial axes"
            )
        return values

    def draw_mapping(self, spatial_shape: tuple[int, ...]) -> dict:
        ndim = len(spatial_shape)
        if self.spatial_rank is not None and self.spatial_rank != ndim:
            raise InvalidInputError(
                f"RandomElasticDeformation was built with spatial_rank={self.spatial_rank} but the sample has "
                f"{ndim} spatial axes {spatial_shape}; leave spatial_rank=None to take it from the arrays"
            )
        points = tuple(int(v) for v in self._per_axis(self.num_control_points, "num_control_points", ndim))
        sigma = self._per_axis(self.deformation_sigma, "deformation_sigma", ndim).astype(np.float64)
        standard_normal = self.rng.standard_normal((ndim, *points))
        control = standard_normal * sigma.reshape((ndim,) + (1,) * ndim)
        field = displacement_field(control, spatial_shape)
        grid = np.indices(spatial_shape, dtype=np.float64)
        return {"coordinates": grid + field}
