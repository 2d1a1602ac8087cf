"""Weight windows for blending overlapping samples: constant (mean), Gaussian, crop-to-centre.

A window gives each voxel of a sample a weight; the assembler accumulates ``weight * value`` and
``weight`` per voxel and divides at the end, so every covered voxel is exactly normalised. Windows
depend only on the sample shape and are computed once.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np

from pymia.errors import InvalidInputError

__all__ = ["BLENDING_MODES", "blending_profiles", "blending_window"]

#: Supported blending modes.
BLENDING_MODES = ("overwrite", "mean", "gaussian", "crop")

# Weight of voxels outside the kept centre in 'crop' mode: small enough not to change covered voxels
# (relative effect below float32 resolution after normalisation is not guaranteed, but ≤ 1e-6), large
# enough that voxels seen only by patch borders (volume corners) still get a value.
_CROP_BORDER_WEIGHT = 1e-6

# Floor of each axis' Gaussian profile: a 3-D window stays ≥ 1e-18, far above float32's smallest
# normal number, so voxels seen only by patch corners keep a weight even for small sigmas. With the
# default sigma (1/8 of the size) the profiles never reach it (their minimum is about 4e-4).
_GAUSSIAN_PROFILE_FLOOR = 1e-6


@functools.lru_cache(maxsize=64)
def _profiles(shape: tuple[int, ...], mode: str, sigma_scale: float) -> tuple[np.ndarray, ...] | None:
    if mode == "crop":
        return None
    if mode != "gaussian":
        return tuple(np.ones(size, dtype=np.float64) for size in shape)
    profiles = []
    for size in shape:
        sigma = max(size * sigma_scale, 1e-3)
        coordinates = np.arange(size, dtype=np.float64) - (size - 1) / 2
        profile = np.exp(-0.5 * (coordinates / sigma) ** 2)
        profile = np.maximum(profile / profile.max(), _GAUSSIAN_PROFILE_FLOOR)
        profile.flags.writeable = False
        profiles.append(profile)
    return tuple(profiles)


def blending_profiles(
    shape: Sequence[int], mode: str = "mean", *, sigma_scale: float = 0.125
) -> tuple[np.ndarray, ...] | None:
    """The 1-D factors of a separable window (the window is their outer product), or None.

    ``'mean'``, ``'overwrite'`` and ``'gaussian'`` windows are separable; ``'crop'`` is not. Assemblers
    use the factors to compute the weight sum of a full patch grid axis by axis.

    Returns
    -------
    tuple of numpy.ndarray or None
        One read-only float64 profile per axis, of length ``shape[axis]``; None for ``'crop'``.
    """
    if mode not in BLENDING_MODES:
        raise InvalidInputError(f"blending mode must be one of {BLENDING_MODES}, got '{mode}'")
    return _profiles(tuple(int(s) for s in shape), mode, float(sigma_scale))


@functools.lru_cache(maxsize=64)
def _window(shape: tuple[int, ...], mode: str, sigma_scale: float, border: tuple[int, ...]) -> np.ndarray:
    if mode == "gaussian":
        window = np.ones((), dtype=np.float64)
        for profile in _profiles(shape, mode, sigma_scale) or ():
            window = np.multiply.outer(window, profile)
        return window.astype(np.float32)
    if mode == "crop":
        window = np.full(shape, _CROP_BORDER_WEIGHT, dtype=np.float32)
        centre = tuple(slice(min(b, s // 2), max(s - b, s - s // 2)) for s, b in zip(shape, border))
        window[centre] = 1.0
        return window
    return np.ones(shape, dtype=np.float32)


def blending_window(
    shape: Sequence[int],
    mode: str = "mean",
    *,
    sigma_scale: float = 0.125,
    crop_border: Sequence[int] | int = 0,
) -> np.ndarray:
    """The weight window of a sample region.

    Parameters
    ----------
    shape : sequence of int
        Spatial shape of the sample region (numpy order).
    mode : {'overwrite', 'mean', 'gaussian', 'crop'}
        ``'mean'`` and ``'overwrite'``: all ones. ``'gaussian'``: a separable Gaussian, the outer
        product of one profile per axis with ``sigma = sigma_scale * size``, maximum 1; each profile is
        floored at 1e-6 so that no weight underflows. ``'crop'``: 1 in the
        centre, 1e-6 in a border of ``crop_border`` voxels per axis.
    sigma_scale : float, default 0.125
        Gaussian sigma as a fraction of the sample size (nnU-Net and MONAI use 1/8).
    crop_border : int or sequence of int, default 0
        Border per axis, in voxels, discarded in ``'crop'`` mode.

    Returns
    -------
    numpy.ndarray
        float32 window of ``shape`` (read-only, shared between calls).
    """
    if mode not in BLENDING_MODES:
        raise InvalidInputError(f"blending mode must be one of {BLENDING_MODES}, got '{mode}'")
    shape = tuple(int(s) for s in shape)
    border = (int(crop_border),) * len(shape) if np.isscalar(crop_border) else tuple(int(b) for b in crop_border)  # type: ignore[arg-type, union-attr]
    if len(border) != len(shape):
        raise InvalidInputError(f"crop_border {crop_border!r} must have one entry per axis of the sample {shape}")
    window = _window(shape, mode, float(sigma_scale), border)
    window.flags.writeable = False
    return window
