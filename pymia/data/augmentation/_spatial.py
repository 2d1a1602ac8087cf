"""The one resampling path of the spatial augmentations, and the checks they share.

Every spatial transform maps output voxel positions to input positions (an affine matrix, or a
dense coordinate field for the elastic deformation) and calls :func:`resample` once per entry, so
images and labels of a sample are moved by exactly the same mapping. Entries are channel-last:
(y, x, c) for 2-D, (z, y, x, c) for 3-D.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pymia.errors import GeometryMismatchError, InvalidInputError

#: Boundary modes of :mod:`scipy.ndimage` accepted by the resampling transforms.
MODES = ("constant", "grid-constant", "nearest", "reflect", "mirror", "grid-mirror", "wrap", "grid-wrap")


def check_mode(mode: str, owner: str) -> str:
    """Return ``mode`` if it is one of :data:`MODES`; raise otherwise."""
    if mode not in MODES:
        raise InvalidInputError(f"{owner} got mode={mode!r}; use one of {list(MODES)}")
    return mode


def check_order(order: int, owner: str) -> int:
    """Return the spline ``order`` if it is an int in [0, 5]; raise otherwise."""
    if isinstance(order, bool) or not isinstance(order, (int, np.integer)) or not 0 <= order <= 5:
        raise InvalidInputError(
            f"{owner} got order={order!r}; the spline order must be an int in [0, 5] (0 nearest, 1 linear, 3 cubic)"
        )
    return int(order)


def as_entries(entries: Sequence[str] | str, name: str = "entries") -> tuple[str, ...]:
    """Return ``entries`` as a tuple of keys (a single string becomes a one-element tuple)."""
    if isinstance(entries, str):
        return (entries,)
    entries = tuple(entries)
    if not all(isinstance(entry, str) for entry in entries):
        raise InvalidInputError(f"{name} must be sample keys (str), got {entries!r}")
    return entries


def common_spatial_shape(sample: dict, entries: Sequence[str], owner: str) -> tuple[int, ...]:
    """Return the spatial shape (all axes but the last, the channel axis) shared by ``entries``.

    Raises
    ------
    InvalidInputError
        If an entry is not 2-D or 3-D with a channel axis, i.e. ``ndim`` not in (3, 4).
    GeometryMismatchError
        If the entries differ in spatial shape (they could not stay aligned).
    """
    shapes = {entry: np.shape(sample[entry]) for entry in entries}
    for entry, shape in shapes.items():
        if len(shape) not in (3, 4):
            raise InvalidInputError(
                f"{owner} resamples channel-last 2-D (y, x, c) or 3-D (z, y, x, c) arrays, but entry '{entry}' "
                f"has shape {shape}; add a channel axis (e.g. transformation.UnSqueeze) or apply it before "
                "squeezing/permuting"
            )
    spatial = {entry: shape[:-1] for entry, shape in shapes.items()}
    if len(set(spatial.values())) > 1:
        raise GeometryMismatchError(
            f"{owner} must move all entries identically, but their spatial shapes differ: {spatial}; "
            "transform only entries on the same grid (entries=...)"
        )
    return next(iter(spatial.values()))


def entry_orders(entries: Sequence[str], order: int, label_entries: Sequence[str], sample: dict) -> dict[str, int]:
    """Return the spline order per entry: 0 (nearest) for label entries and boolean arrays, else ``order``."""
    return {
        entry: 0 if entry in label_entries or np.asarray(sample[entry]).dtype == bool else order for entry in entries
    }


def resample(
    array: np.ndarray,
    *,
    order: int,
    mode: str,
    fill_value: float,
    matrix: np.ndarray | None = None,
    offset: np.ndarray | None = None,
    coordinates: np.ndarray | None = None,
) -> np.ndarray:
    """Resample a channel-last array at mapped positions, each channel with the same mapping.

    Exactly one of (``matrix``, ``offset``) or ``coordinates`` describes the mapping from output index
    ``o`` (spatial axes only) to input position: ``matrix @ o + offset`` (``matrix`` may be the diagonal
    as a 1-D array), or ``coordinates[:, *o]`` of shape (ndim, *spatial_shape).

    Parameters
    ----------
    array : numpy.ndarray
        Shape (*spatial_shape, c).
    order : int
        Spline order: 0 keeps the values (labels), 1 linear, 3 cubic.
    mode : str
        Boundary mode of :mod:`scipy.ndimage` for positions outside the array.
    fill_value : float
        Value outside the array when ``mode`` is ``'constant'`` or ``'grid-constant'``.

    Returns
    -------
    numpy.ndarray
        Same shape and dtype as ``array``. Integer arrays resampled with ``order > 0`` are rounded
        and clipped to their dtype's range.
    """
    from scipy import ndimage  # imported on first use: it costs about a second, and import pymia should not

    source = np.asarray(array)
    if source.dtype == bool:  # scipy.ndimage does not take booleans; nearest neighbour keeps 0/1
        as_bytes = resample(
            source.view(np.uint8),
            order=0,
            mode=mode,
            fill_value=float(bool(fill_value)),
            matrix=matrix,
            offset=offset,
            coordinates=coordinates,
        )
        return as_bytes.astype(bool)
    integer = source.dtype.kind in "iu"
    if order == 0 or not integer:
        work_dtype = source.dtype
    else:
        work_dtype = np.dtype(np.float64)
    output = np.empty(source.shape, dtype=work_dtype)
    for channel in range(source.shape[-1]):
        kwargs = {"order": order, "mode": mode, "cval": fill_value, "output": output[..., channel]}
        if coordinates is not None:
            ndimage.map_coordinates(source[..., channel], coordinates, **kwargs)
        else:
            ndimage.affine_transform(source[..., channel], matrix, offset=offset, **kwargs)
    if work_dtype == source.dtype:
        return output
    info = np.iinfo(source.dtype)
    rounded = np.rint(output)
    np.clip(rounded, info.min, info.max, out=rounded)
    return rounded.astype(source.dtype)


def centred_offset(matrix: np.ndarray, spatial_shape: Sequence[int]) -> np.ndarray:
    """Offset that makes the affine mapping ``matrix @ o + offset`` keep the array centre in place.

    ``matrix`` is the full (ndim, ndim) matrix or its diagonal; the centre of an axis of size ``n`` is
    at index ``(n - 1) / 2``.
    """
    centre = (np.asarray(spatial_shape, dtype=np.float64) - 1.0) / 2.0
    matrix = np.asarray(matrix, dtype=np.float64)
    mapped = matrix * centre if matrix.ndim == 1 else matrix @ centre
    return centre - mapped


def normalized_axes(
    sample: dict, entries: Sequence[str], axes: Sequence[int], owner: str
) -> dict[str, tuple[int, ...]]:
    """Return, per entry, ``axes`` as non-negative indices; raise if an axis is out of range for an entry."""
    result = {}
    for entry in entries:
        ndim = np.ndim(sample[entry])
        bad = [axis for axis in axes if not -ndim <= axis < ndim]
        if bad:
            raise InvalidInputError(
                f"{owner} works on axes {tuple(axes)}, but entry '{entry}' has only {ndim} dimensions "
                f"(shape {np.shape(sample[entry])}); axis {bad[0]} is out of range"
            )
        result[entry] = tuple(axis % ndim for axis in axes)
    return result


def common_axis_sizes(sample: dict, axes_by_entry: dict[str, tuple[int, ...]], owner: str) -> tuple[int, ...]:
    """Return the sizes along the given axes, which must be the same for every entry (else they misalign)."""
    sizes = {entry: tuple(np.shape(sample[entry])[axis] for axis in axes) for entry, axes in axes_by_entry.items()}
    if not sizes:
        return ()
    if len(set(sizes.values())) > 1:
        raise GeometryMismatchError(
            f"{owner} must move all entries identically, but their sizes along the transformed axes differ: "
            f"{sizes}; transform only entries on the same grid (entries=...)"
        )
    return next(iter(sizes.values()))


def axis_arguments(
    values: object, axis: int | Sequence[int] | None, owner: str, name: str
) -> tuple[tuple[int, ...], tuple]:
    """Pair per-axis ``values`` with ``axis`` as pymia 0.3.4's RandomCrop and RandomShift did.

    ``values`` is one value or a sequence; ``axis`` defaults to the first ``len(values)`` axes. Pairs whose
    value is ``None`` are dropped. Returns ``(axes, values)``.
    """
    values = tuple(values) if isinstance(values, (tuple, list)) else (values,)
    if axis is None:
        axis = tuple(range(len(values)))
    elif isinstance(axis, (int, np.integer)):
        axis = (int(axis),)
    else:
        axis = tuple(int(a) for a in axis)
    if len(axis) != len(values):
        raise InvalidInputError(
            f"{owner} got {len(values)} {name} values {values} but {len(axis)} axes {axis}; give one axis per value"
        )
    kept = [(a, v) for a, v in zip(axis, values) if v is not None]
    return tuple(a for a, _ in kept), tuple(v for _, v in kept)
