"""Regression and reconstruction metrics of continuous images: R2, MAE, MSE, RMSE, NRMSE and PSNR.

The metrics compare voxel values (optionally inside a mask) of a reference and a prediction of
any number of axes. Non-finite values (NaN, ±inf) in the compared voxels make a metric undefined:
``nan`` with a :class:`~pymia.errors.NotComputableMetricWarning`. SSIM is in
:mod:`pymia.evaluation.metric.structural_similarity`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from pymia.errors import InvalidInputError
from pymia.evaluation.metric.arrays import ArrayOrImage
from pymia.evaluation.metric.base import ContinuousInputs, ContinuousMetric
from pymia.evaluation.metric.policy import not_computable

__all__ = [
    "NRMSE_NORMALIZATIONS",
    "CoefficientOfDetermination",
    "MeanAbsoluteError",
    "MeanSquaredError",
    "NormalizedRootMeanSquaredError",
    "PeakSignalToNoiseRatio",
    "RootMeanSquaredError",
    "coefficient_of_determination",
    "mean_absolute_error",
    "mean_squared_error",
    "normalized_root_mean_squared_error",
    "peak_signal_to_noise_ratio",
    "root_mean_squared_error",
]

#: Normalizations of :func:`normalized_root_mean_squared_error` (the names of scikit-image).
NRMSE_NORMALIZATIONS = ("min-max", "euclidean", "mean")


def _checked_values(inputs: ContinuousInputs, name: str) -> tuple[np.ndarray, np.ndarray] | None:
    """The compared values, or None (after the policy warning) if there are none or some are not finite."""
    reference, prediction = inputs.values()
    if reference.size == 0:
        not_computable(name, "the mask selects no voxels")
        return None
    if not (np.isfinite(reference).all() and np.isfinite(prediction).all()):
        not_computable(name, "the compared voxels contain NaN or infinite values")
        return None
    return reference, prediction


def _mean_squared(inputs: ContinuousInputs, name: str) -> float | None:
    values = _checked_values(inputs, name)
    if values is None:
        return None
    difference = values[0] - values[1]
    return float(np.mean(difference * difference))


def _mean_absolute_error(inputs: ContinuousInputs, name: str) -> float:
    values = _checked_values(inputs, name)
    return math.nan if values is None else float(np.mean(np.abs(values[0] - values[1])))


def _mean_squared_error(inputs: ContinuousInputs, name: str) -> float:
    mse = _mean_squared(inputs, name)
    return math.nan if mse is None else mse


def _root_mean_squared_error(inputs: ContinuousInputs, name: str) -> float:
    mse = _mean_squared(inputs, name)
    return math.nan if mse is None else math.sqrt(mse)


def _normalized_root_mean_squared_error(inputs: ContinuousInputs, name: str, normalization: str) -> float:
    mse = _mean_squared(inputs, name)
    if mse is None:
        return math.nan
    reference = inputs.values()[0]
    if normalization == "min-max":
        scale = float(reference.max() - reference.min())
    elif normalization == "euclidean":
        scale = math.sqrt(float(np.mean(reference * reference)))
    else:
        scale = float(np.mean(reference))
    if scale == 0:
        return not_computable(name, f"the {normalization} normalization of the reference is 0")
    return math.sqrt(mse) / scale


def _coefficient_of_determination(inputs: ContinuousInputs, name: str) -> float:
    values = _checked_values(inputs, name)
    if values is None:
        return math.nan
    reference, prediction = values
    residual = float(np.sum((reference - prediction) ** 2))
    total = float(np.sum((reference - reference.mean()) ** 2))
    if total == 0:
        return not_computable(name, "the reference is constant (zero variance)")
    return 1.0 - residual / total


def _peak_signal_to_noise_ratio(inputs: ContinuousInputs, name: str, data_range: float | None) -> float:
    mse = _mean_squared(inputs, name)
    if mse is None:
        return math.nan
    if data_range is None:
        reference = inputs.values()[0]
        data_range = float(reference.max() - reference.min())
        if data_range == 0:
            return not_computable(name, "the reference is constant, so its range (the default data_range) is 0")
    if mse == 0:
        return math.inf  # identical images: the ratio is unbounded (as scikit-image)
    return 10.0 * math.log10(data_range * data_range / mse)


def _check_data_range(data_range: float | None, required: bool) -> float | None:
    if data_range is None and not required:
        return None
    try:
        value = float(data_range)  # type: ignore[arg-type]
    except (TypeError, ValueError) as error:
        raise InvalidInputError(f"data_range must be a positive number, got {data_range!r}.") from error
    if not (value > 0 and math.isfinite(value)):
        raise InvalidInputError(
            f"data_range must be positive and finite (the value range of the images, e.g. 255 or 1.0), got {value}."
        )
    return value


def _check_normalization(normalization: str) -> str:
    if normalization not in NRMSE_NORMALIZATIONS:
        raise InvalidInputError(f"normalization must be one of {NRMSE_NORMALIZATIONS}, got {normalization!r}.")
    return normalization


def mean_absolute_error(
    reference: ArrayOrImage, prediction: ArrayOrImage, *, mask: ArrayOrImage | None = None
) -> float:
    """Mean absolute error mean(\\|reference − prediction\\|), in the units of the images.

    Parameters
    ----------
    reference, prediction : numpy.ndarray or SimpleITK.Image
        Real-valued arrays of the same shape, any number of axes.
    mask : numpy.ndarray or SimpleITK.Image, optional
        Binary mask of the same shape; only its voxels are compared. Default: all voxels.

    Returns
    -------
    float
        ``nan`` with a :class:`~pymia.errors.NotComputableMetricWarning` if a compared voxel is NaN or
        infinite, or the mask is empty.
    """
    return _mean_absolute_error(ContinuousInputs(reference, prediction, mask=mask), "mean_absolute_error")


def mean_squared_error(reference: ArrayOrImage, prediction: ArrayOrImage, *, mask: ArrayOrImage | None = None) -> float:
    """Mean squared error mean((reference − prediction)²); see :func:`mean_absolute_error` for the parameters."""
    return _mean_squared_error(ContinuousInputs(reference, prediction, mask=mask), "mean_squared_error")


def root_mean_squared_error(
    reference: ArrayOrImage, prediction: ArrayOrImage, *, mask: ArrayOrImage | None = None
) -> float:
    """Root mean squared error; see :func:`mean_absolute_error` for the parameters."""
    return _root_mean_squared_error(ContinuousInputs(reference, prediction, mask=mask), "root_mean_squared_error")


def normalized_root_mean_squared_error(
    reference: ArrayOrImage,
    prediction: ArrayOrImage,
    *,
    normalization: str = "min-max",
    mask: ArrayOrImage | None = None,
) -> float:
    """Root mean squared error divided by a scale of the reference.

    Parameters
    ----------
    reference, prediction, mask
        As for :func:`mean_absolute_error`.
    normalization : {'min-max', 'euclidean', 'mean'}, optional
        The scale: ``'min-max'`` (default, as pymia 0.3.4) the range max − min of the reference;
        ``'euclidean'`` its root mean square; ``'mean'`` its mean. The results equal
        :func:`skimage.metrics.normalized_root_mse` with the same normalization.

    Returns
    -------
    float
        ``nan`` when the scale is 0 (e.g. a constant reference with ``'min-max'``).
    """
    return _normalized_root_mean_squared_error(
        ContinuousInputs(reference, prediction, mask=mask),
        "normalized_root_mean_squared_error",
        _check_normalization(normalization),
    )


def coefficient_of_determination(
    reference: ArrayOrImage, prediction: ArrayOrImage, *, mask: ArrayOrImage | None = None
) -> float:
    """Coefficient of determination R² = 1 − Σ(reference − prediction)² / Σ(reference − mean(reference))².

    Parameters are those of :func:`mean_absolute_error`. Equals :func:`sklearn.metrics.r2_score`;
    ``nan`` when the reference is constant.
    """
    return _coefficient_of_determination(
        ContinuousInputs(reference, prediction, mask=mask), "coefficient_of_determination"
    )


def peak_signal_to_noise_ratio(
    reference: ArrayOrImage,
    prediction: ArrayOrImage,
    *,
    data_range: float,
    mask: ArrayOrImage | None = None,
) -> float:
    """Peak signal-to-noise ratio 10·log10(data_range² / MSE) in dB.

    Parameters
    ----------
    reference, prediction, mask
        As for :func:`mean_absolute_error`.
    data_range : float
        The range of values the images can take (e.g. 255 for 8-bit images, 1.0 for [0, 1]). Required:
        a range guessed from the data makes results incomparable between images.

    Returns
    -------
    float
        ``inf`` for identical images (MSE 0), as :func:`skimage.metrics.peak_signal_noise_ratio`.

    Examples
    --------
    >>> import numpy as np
    >>> peak_signal_to_noise_ratio(np.zeros(4), np.full(4, 0.1), data_range=1.0)
    20.0
    """
    return _peak_signal_to_noise_ratio(
        ContinuousInputs(reference, prediction, mask=mask),
        "peak_signal_to_noise_ratio",
        _check_data_range(data_range, required=True),
    )


class MeanAbsoluteError(ContinuousMetric):
    """Mean absolute error (id ``MAE``); see :func:`mean_absolute_error`."""

    def __init__(self, metric: str = "MAE") -> None:
        super().__init__(metric)

    def _calculate(self, inputs: ContinuousInputs) -> float:
        return _mean_absolute_error(inputs, self.metric)


class MeanSquaredError(ContinuousMetric):
    """Mean squared error (id ``MSE``); see :func:`mean_squared_error`."""

    def __init__(self, metric: str = "MSE") -> None:
        super().__init__(metric)

    def _calculate(self, inputs: ContinuousInputs) -> float:
        return _mean_squared_error(inputs, self.metric)


class RootMeanSquaredError(ContinuousMetric):
    """Root mean squared error (id ``RMSE``); see :func:`root_mean_squared_error`."""

    def __init__(self, metric: str = "RMSE") -> None:
        super().__init__(metric)

    def _calculate(self, inputs: ContinuousInputs) -> float:
        return _root_mean_squared_error(inputs, self.metric)


class NormalizedRootMeanSquaredError(ContinuousMetric):
    """Normalized root mean squared error (id ``NRMSE``); see :func:`normalized_root_mean_squared_error`."""

    def __init__(self, metric: str = "NRMSE", *, normalization: str = "min-max") -> None:
        super().__init__(metric)
        self.normalization = _check_normalization(normalization)

    def options(self) -> dict[str, Any]:
        return {"normalization": self.normalization}

    def _calculate(self, inputs: ContinuousInputs) -> float:
        return _normalized_root_mean_squared_error(inputs, self.metric, self.normalization)


class CoefficientOfDetermination(ContinuousMetric):
    """Coefficient of determination (id ``R2``); see :func:`coefficient_of_determination`."""

    def __init__(self, metric: str = "R2") -> None:
        super().__init__(metric)

    def _calculate(self, inputs: ContinuousInputs) -> float:
        return _coefficient_of_determination(inputs, self.metric)


class PeakSignalToNoiseRatio(ContinuousMetric):
    """Peak signal-to-noise ratio in dB (id ``PSNR``); see :func:`peak_signal_to_noise_ratio`.

    Parameters
    ----------
    data_range : float, optional
        The value range of the images. Default ``None``: the range max − min of each reference
        (compared voxels), which makes values of different images incomparable; give it explicitly
        when you can.
    metric : str, optional
        The id. Default ``'PSNR'``.
    """

    def __init__(self, data_range: float | None = None, metric: str = "PSNR") -> None:
        super().__init__(metric)
        self.data_range = _check_data_range(data_range, required=False)

    def options(self) -> dict[str, Any]:
        return {"data_range": self.data_range}

    def _calculate(self, inputs: ContinuousInputs) -> float:
        return _peak_signal_to_noise_ratio(inputs, self.metric, self.data_range)
