"""Structural similarity (SSIM) of 2-D and 3-D images with an explicit data range (Wang et al. 2004).

The local statistics are computed with a uniform (default) or Gaussian window over all axes, so a
3-D image gets a volumetric SSIM. The defaults and the result equal
:func:`skimage.metrics.structural_similarity` for float64 images; with a mask, the SSIM map is
averaged over the masked voxels.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from pymia.errors import InvalidInputError
from pymia.evaluation.metric.arrays import ArrayOrImage
from pymia.evaluation.metric.base import ContinuousInputs, ContinuousMetric
from pymia.evaluation.metric.policy import not_computable

__all__ = ["StructuralSimilarityIndexMeasure", "structural_similarity"]

_GAUSSIAN_TRUNCATE = 3.5  # window radius in standard deviations, as scikit-image


def _window_size(win_size: int | None, gaussian_weights: bool, sigma: float) -> int:
    if win_size is None:
        return 2 * int(_GAUSSIAN_TRUNCATE * sigma + 0.5) + 1 if gaussian_weights else 7
    if win_size < 3 or win_size % 2 == 0:
        raise InvalidInputError(f"win_size must be an odd integer ≥ 3, got {win_size}.")
    return int(win_size)


def _ssim(
    inputs: ContinuousInputs,
    name: str,
    *,
    data_range: float | None,
    win_size: int | None,
    gaussian_weights: bool,
    sigma: float,
    k1: float,
    k2: float,
) -> float:
    reference = inputs.reference.astype(np.float64, copy=False)
    prediction = inputs.prediction.astype(np.float64, copy=False)
    if reference.ndim not in (2, 3):
        raise InvalidInputError(f"SSIM needs 2-D or 3-D images, got {reference.ndim} axes (shape {reference.shape}).")
    size = _window_size(win_size, gaussian_weights, sigma)
    if min(reference.shape) < size:
        raise InvalidInputError(
            f"the images (shape {reference.shape}) are smaller than the SSIM window ({size} voxels per axis); "
            "give a smaller odd win_size."
        )
    if not (np.isfinite(reference).all() and np.isfinite(prediction).all()):
        return not_computable(name, "the images contain NaN or infinite values")
    if data_range is None:
        data_range = float(reference.max() - reference.min())
        if data_range == 0:
            return not_computable(name, "the reference is constant, so its range (the default data_range) is 0")

    from scipy import ndimage  # imported here: slow to import, and only SSIM needs it

    if gaussian_weights:

        def local_mean(image: np.ndarray) -> np.ndarray:
            return ndimage.gaussian_filter(image, sigma=sigma, truncate=_GAUSSIAN_TRUNCATE)
    else:

        def local_mean(image: np.ndarray) -> np.ndarray:
            return ndimage.uniform_filter(image, size=size)

    points = size**reference.ndim
    covariance_norm = points / (points - 1)  # sample covariance, as scikit-image's default
    mean_r = local_mean(reference)
    mean_p = local_mean(prediction)
    variance_r = covariance_norm * (local_mean(reference * reference) - mean_r * mean_r)
    variance_p = covariance_norm * (local_mean(prediction * prediction) - mean_p * mean_p)
    covariance = covariance_norm * (local_mean(reference * prediction) - mean_r * mean_p)
    c1 = (k1 * data_range) ** 2
    c2 = (k2 * data_range) ** 2
    ssim_map = ((2 * mean_r * mean_p + c1) * (2 * covariance + c2)) / (
        (mean_r * mean_r + mean_p * mean_p + c1) * (variance_r + variance_p + c2)
    )
    # Only windows that lie fully inside the image count (border of (size - 1) // 2 voxels dropped).
    border = (size - 1) // 2
    interior = tuple(slice(border, s - border) for s in reference.shape)
    if inputs.mask is None:
        return float(ssim_map[interior].mean(dtype=np.float64))
    selected = ssim_map[interior][inputs.mask[interior]]
    if selected.size == 0:
        return not_computable(name, "the mask selects no voxels away from the image border")
    return float(selected.mean(dtype=np.float64))


def structural_similarity(
    reference: ArrayOrImage,
    prediction: ArrayOrImage,
    *,
    data_range: float,
    win_size: int | None = None,
    gaussian_weights: bool = False,
    sigma: float = 1.5,
    k1: float = 0.01,
    k2: float = 0.03,
    mask: ArrayOrImage | None = None,
) -> float:
    """Mean structural similarity index of two 2-D or 3-D images, in [−1, 1].

    Parameters
    ----------
    reference, prediction : numpy.ndarray or SimpleITK.Image
        Real-valued images of the same shape, (y, x) or (z, y, x); every axis at least ``win_size`` long.
    data_range : float
        The range of values the images can take (e.g. 255 for 8-bit, 1.0 for [0, 1]). Required.
    win_size : int, optional
        Odd side length of the window. Default 7 (uniform window) or ``2·int(3.5·sigma + 0.5) + 1``
        (Gaussian window).
    gaussian_weights : bool, optional
        Weight the window with a Gaussian of standard deviation ``sigma`` (Wang et al. used this with
        sigma 1.5). Default False (uniform window, scikit-image's default).
    sigma : float, optional
        Standard deviation of the Gaussian window in voxels. Default 1.5.
    k1, k2 : float, optional
        The stabilising constants, C1 = (k1·data_range)², C2 = (k2·data_range)². Default 0.01 and 0.03.
    mask : numpy.ndarray or SimpleITK.Image, optional
        Average the SSIM map over these voxels only. Default: all voxels.

    Returns
    -------
    float
        The mean SSIM over voxels whose window lies inside the image; ``nan`` with a
        :class:`~pymia.errors.NotComputableMetricWarning` for NaN or infinite voxels.

    Examples
    --------
    >>> import numpy as np
    >>> image = np.linspace(0, 1, 100).reshape(10, 10)
    >>> structural_similarity(image, image, data_range=1.0)
    1.0
    """
    data_range = float(data_range)
    if not (data_range > 0 and math.isfinite(data_range)):
        raise InvalidInputError(f"data_range must be positive and finite, got {data_range}.")
    return _ssim(
        ContinuousInputs(reference, prediction, mask=mask),
        "structural_similarity",
        data_range=data_range,
        win_size=win_size,
        gaussian_weights=gaussian_weights,
        sigma=sigma,
        k1=k1,
        k2=k2,
    )


class StructuralSimilarityIndexMeasure(ContinuousMetric):
    """Structural similarity (id ``SSIM``); see :func:`structural_similarity`.

    Parameters
    ----------
    data_range : float, optional
        The value range of the images. Default ``None``: the range max − min of each reference, which
        makes values of different images incomparable; give it explicitly when you can.
    metric : str, optional
        The id. Default ``'SSIM'``.
    win_size, gaussian_weights, sigma, k1, k2
        As for :func:`structural_similarity`.
    """

    def __init__(
        self,
        data_range: float | None = None,
        metric: str = "SSIM",
        *,
        win_size: int | None = None,
        gaussian_weights: bool = False,
        sigma: float = 1.5,
        k1: float = 0.01,
        k2: float = 0.03,
    ) -> None:
        super().__init__(metric)
        if data_range is not None:
            data_range = float(data_range)
            if not (data_range > 0 and math.isfinite(data_range)):
                raise InvalidInputError(f"data_range must be positive and finite, got {data_range}.")
        self.data_range = data_range
        self.win_size = win_size if win_size is None else _window_size(win_size, gaussian_weights, sigma)
        self.gaussian_weights = bool(gaussian_weights)
        self.sigma = float(sigma)
        self.k1 = float(k1)
        self.k2 = float(k2)

    def options(self) -> dict[str, Any]:
        return {
            "data_range": self.data_range,
            "win_size": self.win_size,
            "gaussian_weights": self.gaussian_weights,
            "sigma": self.sigma,
            "k1": self.k1,
            "k2": self.k2,
        }

    def _calculate(self, inputs: ContinuousInputs) -> float:
        return _ssim(
            inputs,
            self.metric,
            data_range=self.data_range,
            win_size=self.win_size,
            gaussian_weights=self.gaussian_weights,
            sigma=self.sigma,
            k1=self.k1,
            k2=self.k2,
        )
