"""Probabilistic agreement metrics of one label: interclass correlation and probabilistic distance.

Both treat the masks as two raters giving every voxel the value 0 or 1 and are computed from the
:class:`~pymia.evaluation.metric.confusion.ConfusionMatrix` with exact rational arithmetic.
"""

from __future__ import annotations

from fractions import Fraction

from pymia.evaluation.metric.arrays import ArrayOrImage
from pymia.evaluation.metric.base import SegmentationInputs, SegmentationMetric
from pymia.evaluation.metric.confusion import ConfusionMatrix
from pymia.evaluation.metric.policy import not_computable

__all__ = [
    "InterclassCorrelation",
    "ProbabilisticDistance",
    "interclass_correlation",
    "probabilistic_distance",
]


def _interclass_correlation(cm: ConfusionMatrix, name: str) -> float:
    n = cm.n
    if n < 2:
        return not_computable(name, "there are fewer than two voxels")
    # Per voxel x with ratings a, b ∈ {0, 1}: mean m = (a + b) / 2. Σ m² = TP + (FP + FN) / 4.
    grand_mean = Fraction(2 * cm.tp + cm.fp + cm.fn, 2 * n)
    sum_of_squares = Fraction(4 * cm.tp + cm.fp + cm.fn, 4) - n * grand_mean * grand_mean
    between = 2 * sum_of_squares / (n - 1)
    within = Fraction(cm.fp + cm.fn, 2 * n)  # Σ ((a − m)² + (b − m)²) / n = Σ (a − b)² / (2n)
    if between + within == 0:
        return not_computable(name, "both masks have the same value in every voxel (no variance)")
    return float((between - within) / (between + within))


def _probabilistic_distance(cm: ConfusionMatrix, name: str) -> float:
    if cm.tp == 0:
        return not_computable(name, "the masks do not overlap (no true positives)")
    return (cm.fp + cm.fn) / (2 * cm.tp)


def interclass_correlation(reference: ArrayOrImage, prediction: ArrayOrImage) -> float:
    """Interclass correlation ICC(1) of the two masks as raters of every voxel, in [−1, 1].

    ICC = (MS_b − MS_w) / (MS_b + MS_w) with, over the n voxels x with ratings a(x), b(x) and mean
    m(x) = (a + b) / 2, MS_b = 2 / (n − 1) · Σ (m(x) − μ)² and MS_w = 1 / n · Σ ((a − m)² + (b − m)²),
    μ the mean of all ratings (Taha & Hanbury 2015, eq. 18).

    Parameters
    ----------
    reference, prediction : numpy.ndarray or SimpleITK.Image
        Binary masks of the same shape (bool, or numbers 0 and 1), any number of axes.

    Returns
    -------
    float
        The ICC; ``nan`` when all ratings are equal (both masks empty, or both cover every voxel).
    """
    return _interclass_correlation(SegmentationInputs(reference, prediction).confusion_matrix, "interclass_correlation")


def probabilistic_distance(reference: ArrayOrImage, prediction: ArrayOrImage) -> float:
    """Probabilistic distance Σ\\|a − b\\| / (2·Σ a·b) = (FP + FN) / (2·TP), ≥ 0 (Gerig et al. 2001).

    Parameters are those of :func:`interclass_correlation`. ``nan`` when the masks do not overlap
    (TP = 0), including both empty.
    """
    return _probabilistic_distance(SegmentationInputs(reference, prediction).confusion_matrix, "probabilistic_distance")


class InterclassCorrelation(SegmentationMetric):
    """Interclass correlation (id ``ICCORR``); see :func:`interclass_correlation`."""

    def __init__(self, metric: str = "ICCORR") -> None:
        super().__init__(metric)

    def _calculate(self, inputs: SegmentationInputs) -> float:
        return _interclass_correlation(inputs.confusion_matrix, self.metric)


class ProbabilisticDistance(SegmentationMetric):
    """Probabilistic distance (id ``PROBDST``); see :func:`probabilistic_distance`."""

    def __init__(self, metric: str = "PROBDST") -> None:
        super().__init__(metric)

    def _calculate(self, inputs: SegmentationInputs) -> float:
        return _probabilistic_distance(inputs.confusion_matrix, self.metric)
