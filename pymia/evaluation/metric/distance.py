"""Distance metrics of one label in mm: Hausdorff distance (and percentiles), average surface distance,
surface Dice, surface overlap, and the Mahalanobis distance.

The surface metrics all read the one :class:`~pymia.evaluation.metric.surface.SurfaceDistances` of
the inputs. ``method='surfel'`` (default) follows DeepMind's surface-distance (area-weighted
surface elements on voxel corners, as pymia 0.3.4); ``method='voxel'`` follows MONAI and medpy
(boundary voxels, weight 1). The values equal those tools to floating-point precision.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from pymia.errors import InvalidInputError
from pymia.evaluation.metric.arrays import ArrayOrImage, Spacing
from pymia.evaluation.metric.base import SegmentationInputs, SegmentationMetric
from pymia.evaluation.metric.policy import not_computable
from pymia.evaluation.metric.surface import SURFACE_METHODS, SurfaceDistances

__all__ = [
    "AverageDistance",
    "HausdorffDistance",
    "MahalanobisDistance",
    "SurfaceDiceOverlap",
    "SurfaceOverlap",
    "average_surface_distance",
    "hausdorff_distance",
    "mahalanobis_distance",
    "surface_dice",
    "surface_overlap",
]


def _check_method(method: str) -> str:
    if method not in SURFACE_METHODS:
        raise InvalidInputError(f"method must be one of {SURFACE_METHODS}, got {method!r}.")
    return method


def _check_percentile(percentile: float) -> float:
    percentile = float(percentile)
    if not 0.0 <= percentile <= 100.0:
        raise InvalidInputError(f"percentile must be in [0, 100], got {percentile}.")
    return percentile


def _check_tolerance(tolerance: float) -> float:
    tolerance = float(tolerance)
    if not (tolerance >= 0.0 and math.isfinite(tolerance)):
        raise InvalidInputError(f"tolerance must be a finite distance ≥ 0 in mm, got {tolerance}.")
    return tolerance


def _both_surfaces(distances: SurfaceDistances, name: str) -> bool:
    """Whether both surfaces exist; warns (via the policy) when not."""
    if distances.reference_is_empty and distances.prediction_is_empty:
        not_computable(name, "both reference and prediction are empty")
        return False
    if distances.reference_is_empty or distances.prediction_is_empty:
        which = "reference" if distances.reference_is_empty else "prediction"
        not_computable(name, f"the {which} is empty (no surface to measure a distance to)")
        return False
    return True


def _hausdorff(distances: SurfaceDistances, name: str, percentile: float) -> float:
    return distances.hausdorff(percentile) if _both_surfaces(distances, name) else math.nan


def _average(distances: SurfaceDistances, name: str) -> float:
    return distances.average() if _both_surfaces(distances, name) else math.nan


def _surface_dice(distances: SurfaceDistances, name: str, tolerance: float) -> float:
    if distances.reference_is_empty and distances.prediction_is_empty:
        return not_computable(name, "both reference and prediction are empty")
    return distances.surface_dice(tolerance)


def _surface_overlap(distances: SurfaceDistances, name: str, tolerance: float, prediction_to_reference: bool) -> float:
    source_empty = distances.prediction_is_empty if prediction_to_reference else distances.reference_is_empty
    if source_empty:
        which = "prediction" if prediction_to_reference else "reference"
        return not_computable(name, f"the {which} is empty (no surface whose overlap could be measured)")
    return distances.surface_overlap(tolerance, prediction_to_reference)


def hausdorff_distance(
    reference: ArrayOrImage,
    prediction: ArrayOrImage,
    *,
    spacing: Spacing = None,
    percentile: float = 100.0,
    method: str = "surfel",
) -> float:
    """Hausdorff distance in mm, or its ``percentile`` version (e.g. 95 for HD95).

    The directed distance of each surface to the other is taken at the percentile, and the larger
    of the two directions is returned.

    Parameters
    ----------
    reference, prediction : numpy.ndarray or SimpleITK.Image
        Binary masks of the same shape, numpy axis order (z, y, x). 2-D or 3-D for ``'surfel'``, any
        number of axes for ``'voxel'``.
    spacing : sequence of float, optional
        Voxel spacing in mm in numpy order. Default: the images' spacing, else 1 mm.
    percentile : float, optional
        In [0, 100]. 100 (default) is the classic Hausdorff distance (the maximum).
    method : {'surfel', 'voxel'}, optional
        ``'surfel'``: surface elements weighted by area; the percentile is the smallest distance whose
        cumulative area reaches the percentile (DeepMind's ``compute_robust_hausdorff``).
        ``'voxel'``: boundary voxels; the percentile interpolates linearly between voxels
        (MONAI's ``compute_hausdorff_distance``).

    Returns
    -------
    float
        The distance in mm; ``nan`` with a :class:`~pymia.errors.NotComputableMetricWarning` when either
        mask is empty.

    Examples
    --------
    >>> import numpy as np
    >>> reference = np.zeros((20, 20), bool); reference[5:10, 5:10] = True
    >>> prediction = np.zeros((20, 20), bool); prediction[5:10, 7:12] = True
    >>> hausdorff_distance(reference, prediction, spacing=(1.0, 0.5))
    1.0
    """
    inputs = SegmentationInputs(reference, prediction, spacing)
    distances = inputs.surface_distances(_check_method(method))
    return _hausdorff(distances, "hausdorff_distance", _check_percentile(percentile))


def average_surface_distance(
    reference: ArrayOrImage, prediction: ArrayOrImage, *, spacing: Spacing = None, method: str = "surfel"
) -> float:
    """Average symmetric surface distance (ASSD) in mm.

    The mean distance of every surface point of both masks to the other surface (Heimann et al.,
    IEEE TMI 28(8), 2009): (Σ_r w_r·d(r, P) + Σ_p w_p·d(p, R)) / (Σ_r w_r + Σ_p w_p), with weights w the
    surfel areas (``'surfel'``) or 1 (``'voxel'``). With ``method='voxel'`` it equals MONAI's
    ``compute_average_surface_distance(symmetric=True)`` and medpy's ``assd`` (medpy ≥ 0.5). Note that
    the mean of the two directed averages (e.g. of the pair DeepMind's ``compute_average_surface_distance``
    returns) differs when the two surfaces differ in size; the directed values are
    ``SegmentationInputs.surface_distances(method).reference_to_prediction.mean()`` and
    ``prediction_to_reference.mean()``.

    Parameters
    ----------
    reference, prediction, spacing, method
        As for :func:`hausdorff_distance`.

    Returns
    -------
    float
        The distance in mm; ``nan`` when either mask is empty.
    """
    inputs = SegmentationInputs(reference, prediction, spacing)
    return _average(inputs.surface_distances(_check_method(method)), "average_surface_distance")


def surface_dice(
    reference: ArrayOrImage,
    prediction: ArrayOrImage,
    *,
    spacing: Spacing = None,
    tolerance: float = 1.0,
    method: str = "surfel",
) -> float:
    """Surface Dice (normalised surface distance) at ``tolerance`` mm, in [0, 1] (Nikolov et al. 2021).

    The part of both surfaces (by area, or by voxel count for ``'voxel'``) lying within ``tolerance``
    of the other surface, over the size of both surfaces. Equals DeepMind's
    ``compute_surface_dice_at_tolerance`` (surfel) and MONAI's ``compute_surface_dice`` (voxel).

    Parameters
    ----------
    reference, prediction, spacing, method
        As for :func:`hausdorff_distance`.
    tolerance : float, optional
        Distance in mm, ≥ 0. Default 1 mm.

    Returns
    -------
    float
        0 when exactly one mask is empty; ``nan`` when both are.
    """
    inputs = SegmentationInputs(reference, prediction, spacing)
    distances = inputs.surface_distances(_check_method(method))
    return _surface_dice(distances, "surface_dice", _check_tolerance(tolerance))


def surface_overlap(
    reference: ArrayOrImage,
    prediction: ArrayOrImage,
    *,
    spacing: Spacing = None,
    tolerance: float = 1.0,
    prediction_to_reference: bool = True,
    method: str = "surfel",
) -> float:
    """Fraction of one surface within ``tolerance`` mm of the other, in [0, 1].

    Parameters
    ----------
    reference, prediction, spacing, method
        As for :func:`hausdorff_distance`.
    tolerance : float, optional
        Distance in mm, ≥ 0. Default 1 mm.
    prediction_to_reference : bool, optional
        True (default): the fraction of the prediction's surface near the reference's; False: the
        other way round. These are the two values of DeepMind's ``compute_surface_overlap_at_tolerance``.

    Returns
    -------
    float
        ``nan`` when the measured surface is empty; 0 when only the other one is.
    """
    inputs = SegmentationInputs(reference, prediction, spacing)
    distances = inputs.surface_distances(_check_method(method))
    return _surface_overlap(distances, "surface_overlap", _check_tolerance(tolerance), bool(prediction_to_reference))


def _mahalanobis(inputs: SegmentationInputs, name: str) -> float:
    spacing = np.asarray(inputs.spacing)
    moments = []
    for which, mask in (("reference", inputs.reference), ("prediction", inputs.prediction)):
        coordinates = np.stack(np.nonzero(mask), axis=1) * spacing
        if coordinates.shape[0] == 0:
            return not_computable(name, f"the {which} is empty")
        mean = coordinates.mean(axis=0)
        centred = coordinates - mean
        moments.append((coordinates.shape[0], mean, centred.T @ centred))
    (n_reference, mean_reference, scatter_reference), (n_prediction, mean_prediction, scatter_prediction) = moments
    pooled = (scatter_reference + scatter_prediction) / (n_reference + n_prediction)
    eigenvalues = np.linalg.eigvalsh(pooled)
    if eigenvalues.max() <= 0 or eigenvalues.min() <= 1e-12 * eigenvalues.max():
        return not_computable(
            name, "the pooled covariance of the voxel positions is singular (flat or single-voxel objects)"
        )
    difference = mean_reference - mean_prediction
    return float(np.sqrt(max(difference @ np.linalg.solve(pooled, difference), 0.0)))


def mahalanobis_distance(reference: ArrayOrImage, prediction: ArrayOrImage, *, spacing: Spacing = None) -> float:
    """Mahalanobis distance between the voxel-position distributions of the two masks.

    d = sqrt((μ_r − μ_p)ᵀ S⁻¹ (μ_r − μ_p)) with μ the mean voxel position of each mask and
    S = (n_r·C_r + n_p·C_p) / (n_r + n_p) the pooled covariance (C the population covariance of the
    positions, n the voxel counts), as Taha & Hanbury (2015). Dimensionless and invariant to the
    spacing (it only improves numerical conditioning).

    Parameters
    ----------
    reference, prediction, spacing
        As for :func:`hausdorff_distance`.

    Returns
    -------
    float
        ≥ 0; ``nan`` when a mask is empty or the pooled covariance is singular (e.g. both objects lie
        in one plane).
    """
    return _mahalanobis(SegmentationInputs(reference, prediction, spacing), "mahalanobis_distance")


class HausdorffDistance(SegmentationMetric):
    """Hausdorff distance or its percentile version in mm; see :func:`hausdorff_distance`.

    Parameters
    ----------
    percentile : float, optional
        In [0, 100]. Default 100.
    metric : str, optional
        The id. Default ``'HDRFDST'`` for percentile 100, else ``'HDRFDST<percentile>'`` (e.g. ``'HDRFDST95'``).
    method : {'surfel', 'voxel'}, optional
        The surface convention. Default ``'surfel'``.
    """

    def __init__(self, percentile: float = 100.0, metric: str | None = None, *, method: str = "surfel") -> None:
        self.percentile = _check_percentile(percentile)
        self.method = _check_method(method)
        if metric is None:
            metric = "HDRFDST" if self.percentile == 100.0 else f"HDRFDST{self.percentile:g}"
        super().__init__(metric)

    def options(self) -> dict[str, Any]:
        return {"percentile": self.percentile, "method": self.method}

    def _calculate(self, inputs: SegmentationInputs) -> float:
        return _hausdorff(inputs.surface_distances(self.method), self.metric, self.percentile)


class AverageDistance(SegmentationMetric):
    """Average symmetric surface distance in mm (id ``AVGDIST``); see :func:`average_surface_distance`."""

    def __init__(self, metric: str = "AVGDIST", *, method: str = "surfel") -> None:
        super().__init__(metric)
        self.method = _check_method(method)

    def options(self) -> dict[str, Any]:
        return {"method": self.method}

    def _calculate(self, inputs: SegmentationInputs) -> float:
        return _average(inputs.surface_distances(self.method), self.metric)


class SurfaceDiceOverlap(SegmentationMetric):
    """Surface Dice at a tolerance in mm (id ``SURFDICE``); see :func:`surface_dice`."""

    def __init__(self, tolerance: float = 1.0, metric: str = "SURFDICE", *, method: str = "surfel") -> None:
        super().__init__(metric)
        self.tolerance = _check_tolerance(tolerance)
        self.method = _check_method(method)

    def options(self) -> dict[str, Any]:
        return {"tolerance": self.tolerance, "method": self.method}

    def _calculate(self, inputs: SegmentationInputs) -> float:
        return _surface_dice(inputs.surface_distances(self.method), self.metric, self.tolerance)


class SurfaceOverlap(SegmentationMetric):
    """Surface overlap at a tolerance in mm (id ``SURFOVLP``); see :func:`surface_overlap`."""

    def __init__(
        self,
        tolerance: float = 1.0,
        prediction_to_reference: bool = True,
        metric: str = "SURFOVLP",
        *,
        method: str = "surfel",
    ) -> None:
        super().__init__(metric)
        self.tolerance = _check_tolerance(tolerance)
        self.prediction_to_reference = bool(prediction_to_reference)
        self.method = _check_method(method)

    def options(self) -> dict[str, Any]:
        return {
            "tolerance": self.tolerance,
            "prediction_to_reference": self.prediction_to_reference,
            "method": self.method,
        }

    def _calculate(self, inputs: SegmentationInputs) -> float:
        return _surface_overlap(
            inputs.surface_distances(self.method), self.metric, self.tolerance, self.prediction_to_reference
        )


class MahalanobisDistance(SegmentationMetric):
    """Mahalanobis distance (id ``MAHLNBS``); see :func:`mahalanobis_distance`."""

    def __init__(self, metric: str = "MAHLNBS") -> None:
        super().__init__(metric)

    def _calculate(self, inputs: SegmentationInputs) -> float:
        return _mahalanobis(inputs, self.metric)
