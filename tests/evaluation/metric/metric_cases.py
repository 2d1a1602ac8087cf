"""Mask pairs shared by the metric agreement tests: analytic phantoms and random smooth shapes, 2-D and 3-D."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from pymia.testing import ellipsoid_mask


def smooth_blob(shape: tuple[int, ...], seed: int, fill: float = 0.3, sigma: float = 2.5) -> np.ndarray:
    """A random smooth shape: Gaussian-filtered noise thresholded so ``fill`` of the voxels are inside."""
    noise = ndimage.gaussian_filter(np.random.default_rng(seed).random(shape), sigma)
    mask = noise > np.quantile(noise, 1.0 - fill)
    mask[(0,) * len(shape)] = False  # keep one background voxel even in corner cases
    return mask


def mask_pairs() -> list[tuple[str, np.ndarray, np.ndarray, tuple[float, ...]]]:
    """(name, reference, prediction, spacing) cases: phantoms with shifts and scalings, random blobs, 2-D and 3-D."""
    cases = []
    spacing_3d = (1.5, 0.8, 1.1)
    reference = ellipsoid_mask((28, 32, 30), (12.0, 9.0, 10.0), spacing=spacing_3d)
    prediction = ellipsoid_mask((28, 32, 30), (10.0, 10.5, 9.0), spacing=spacing_3d, center_mm=(21.0, 11.0, 17.0))
    cases.append(("ellipsoids-3d-anisotropic", reference, prediction, spacing_3d))
    reference = ellipsoid_mask((30, 30, 30), (9.0, 9.0, 9.0))
    cases.append(("sphere-shifted-3d", reference, np.roll(reference, (1, -1, 2), axis=(0, 1, 2)), (1.0, 1.0, 1.0)))
    cases.append(("blobs-3d", smooth_blob((26, 30, 28), 1), smooth_blob((26, 30, 28), 2), (1.2, 1.0, 0.7)))
    cases.append(("blobs-3d-isotropic", smooth_blob((24, 24, 24), 3), smooth_blob((24, 24, 24), 4), (1.0, 1.0, 1.0)))
    spacing_2d = (0.7, 1.3)
    reference = ellipsoid_mask((40, 36), (10.0, 14.0), spacing=spacing_2d)
    prediction = ellipsoid_mask((40, 36), (12.0, 12.0), spacing=spacing_2d, center_mm=(15.0, 25.0))
    cases.append(("ellipses-2d-anisotropic", reference, prediction, spacing_2d))
    cases.append(("blobs-2d", smooth_blob((48, 40), 5, sigma=3.0), smooth_blob((48, 40), 6, sigma=3.0), (1.0, 0.6)))
    return cases


def case_ids() -> list[str]:
    return [case[0] for case in mask_pairs()]
