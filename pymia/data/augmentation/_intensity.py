"""Helpers shared by the intensity transforms: parameter ranges and the voxels statistics come from.

Images are channel-last, so a channel is the last axis; statistics per channel are taken over all
other axes.
"""

from __future__ import annotations

import numpy as np

from pymia.errors import InvalidInputError


def value_range(value: object, name: str, owner: str, *, symmetric: bool, minimum: float | None = None) -> tuple:
    """Return a ``(low, high)`` range from one number or a pair.

    One number ``v`` means ``(-v, v)`` when ``symmetric`` (then ``v >= 0``), else the fixed value ``(v, v)``.
    Raises if ``low > high``, a bound is not finite or below ``minimum``.
    """
    values = np.atleast_1d(np.asarray(value, dtype=np.float64)) if _is_numeric(value) else None
    if values is None or values.ndim != 1 or values.size not in (1, 2) or not np.all(np.isfinite(values)):
        raise InvalidInputError(f"{owner} needs {name} as one number or a (low, high) pair, got {value!r}")
    if values.size == 1:
        if symmetric and values[0] < 0:
            raise InvalidInputError(f"{owner} needs a non-negative {name} (the range is ±{name}), got {value!r}")
        low, high = (-values[0], values[0]) if symmetric else (values[0], values[0])
    else:
        low, high = values
    if low > high or (minimum is not None and low < minimum):
        bound = "" if minimum is None else f" and low >= {minimum}"
        raise InvalidInputError(f"{owner} needs {name} with low <= high{bound}, got {value!r}")
    return float(low), float(high)


def _is_numeric(value: object) -> bool:
    try:
        np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return True


def statistics_rows(
    sample: dict, entry: str, mask: str | None, sample_fraction: float | None, rng: np.random.Generator | None
) -> np.ndarray | None:
    """Return the flat voxel indices (over the spatial axes) that statistics of ``entry`` come from.

    ``None`` means all voxels. With a ``mask`` key, the voxels where the mask is non-zero (in any of its
    channels); if it selects none, all voxels. With ``sample_fraction``, that fraction of those voxels
    (at least one) drawn uniformly with replacement from ``rng``.
    """
    spatial_shape = np.shape(sample[entry])[:-1]
    n_voxels = int(np.prod(spatial_shape))
    rows = None
    if mask is not None:
        if mask not in sample:
            raise InvalidInputError(
                f"the statistics mask '{mask}' is not in the sample (keys {sorted(sample)}); extract it or "
                "pass mask=None"
            )
        mask_array = np.asarray(sample[mask])
        if mask_array.shape[: len(spatial_shape)] != spatial_shape or mask_array.ndim > len(spatial_shape) + 1:
            raise InvalidInputError(
                f"the statistics mask '{mask}' has shape {mask_array.shape} but entry '{entry}' has spatial shape "
                f"{spatial_shape}; the mask must be {spatial_shape} or {spatial_shape} + (channels,)"
            )
        selected = mask_array.reshape(n_voxels, -1).any(axis=1)
        if selected.any():
            rows = np.flatnonzero(selected)
    if sample_fraction is not None:
        population = n_voxels if rows is None else rows.size
        count = max(1, round(sample_fraction * population))
        picks = rng.integers(0, population, size=count)
        rows = picks if rows is None else rows[picks]
    return rows


def channel_table(array: np.ndarray, rows: np.ndarray | None) -> np.ndarray:
    """Return the voxel values as (n_voxels, channels), restricted to ``rows`` when given."""
    table = array.reshape(-1, array.shape[-1])
    return table if rows is None else table[rows]
