"""Overlap and classical (confusion-matrix) metrics of one label: Dice, Jaccard, sensitivity, kappa, AUC, ...

Each metric is a plain function of two binary masks and a class with the id used by pymia 0.3.4.
Both compute from the one :class:`~pymia.evaluation.metric.confusion.ConfusionMatrix` of the
inputs. Formulas follow Taha & Hanbury, BMC Medical Imaging 15:29 (2015); an undefined value
(a zero denominator) is ``nan`` with a :class:`~pymia.errors.NotComputableMetricWarning`.
"""

from __future__ import annotations

from typing import Any

from pymia.errors import InvalidInputError
from pymia.evaluation.metric.arrays import ArrayOrImage
from pymia.evaluation.metric.base import SegmentationInputs, SegmentationMetric
from pymia.evaluation.metric.confusion import ConfusionMatrix
from pymia.evaluation.metric.policy import not_computable

__all__ = [
    "Accuracy",
    "AreaUnderCurve",
    "CohenKappaCoefficient",
    "DiceCoefficient",
    "FMeasure",
    "Fallout",
    "FalseNegative",
    "FalseNegativeRate",
    "FalsePositive",
    "JaccardCoefficient",
    "Precision",
    "Sensitivity",
    "Specificity",
    "TrueNegative",
    "TruePositive",
    "VolumeSimilarity",
    "accuracy",
    "area_under_curve",
    "cohen_kappa",
    "dice",
    "f_measure",
    "fallout",
    "false_negative_rate",
    "false_negatives",
    "false_positives",
    "jaccard",
    "precision",
    "sensitivity",
    "specificity",
    "true_negatives",
    "true_positives",
    "volume_similarity",
]


def _confusion(reference: ArrayOrImage, prediction: ArrayOrImage) -> ConfusionMatrix:
    return SegmentationInputs(reference, prediction).confusion_matrix


def _ratio(numerator: float, denominator: float, name: str, reason: str) -> float:
    if denominator == 0:
        return not_computable(name, reason)
    return numerator / denominator


# --- formulas on the confusion matrix (shared by the functions and the classes) -----------------


def _dice(cm: ConfusionMatrix, name: str) -> float:
    return _ratio(2 * cm.tp, 2 * cm.tp + cm.fp + cm.fn, name, "both reference and prediction are empty")


def _jaccard(cm: ConfusionMatrix, name: str) -> float:
    return _ratio(cm.tp, cm.tp + cm.fp + cm.fn, name, "both reference and prediction are empty")


def _sensitivity(cm: ConfusionMatrix, name: str) -> float:
    return _ratio(cm.tp, cm.tp + cm.fn, name, "the reference is empty")


def _specificity(cm: ConfusionMatrix, name: str) -> float:
    return _ratio(cm.tn, cm.tn + cm.fp, name, "the reference covers every voxel (no negatives)")


def _fallout(cm: ConfusionMatrix, name: str) -> float:
    return _ratio(cm.fp, cm.fp + cm.tn, name, "the reference covers every voxel (no negatives)")


def _false_negative_rate(cm: ConfusionMatrix, name: str) -> float:
    return _ratio(cm.fn, cm.fn + cm.tp, name, "the reference is empty")


def _accuracy(cm: ConfusionMatrix, name: str) -> float:
    return (cm.tp + cm.tn) / cm.n


def _precision(cm: ConfusionMatrix, name: str) -> float:
    return _ratio(cm.tp, cm.tp + cm.fp, name, "the prediction is empty")


def _f_measure(cm: ConfusionMatrix, name: str, beta: float) -> float:
    weight = beta * beta
    return _ratio(
        (1 + weight) * cm.tp,
        (1 + weight) * cm.tp + weight * cm.fn + cm.fp,
        name,
        "both reference and prediction are empty",
    )


def _volume_similarity(cm: ConfusionMatrix, name: str) -> float:
    denominator = 2 * cm.tp + cm.fp + cm.fn
    if denominator == 0:
        return not_computable(name, "both reference and prediction are empty")
    return 1.0 - abs(cm.fn - cm.fp) / denominator


def _cohen_kappa(cm: ConfusionMatrix, name: str) -> float:
    # (p_o - p_e) / (1 - p_e) with the counts multiplied out, exact in Python integers.
    numerator = 2 * (cm.tp * cm.tn - cm.fn * cm.fp)
    denominator = (cm.tp + cm.fp) * (cm.fp + cm.tn) + (cm.tp + cm.fn) * (cm.fn + cm.tn)
    return _ratio(
        numerator, denominator, name, "the expected agreement is 1 (both masks empty, or both cover every voxel)"
    )


def _area_under_curve(cm: ConfusionMatrix, name: str) -> float:
    if cm.tp + cm.fn == 0 or cm.tn + cm.fp == 0:
        return not_computable(name, "the reference has no positives or no negatives")
    return 0.5 * (cm.tp / (cm.tp + cm.fn) + cm.tn / (cm.tn + cm.fp))


# --- public functions -----------------------------------------------------------------------------


def dice(reference: ArrayOrImage, prediction: ArrayOrImage) -> float:
    """Dice coefficient 2·TP / (2·TP + FP + FN), in [0, 1].

    Parameters
    ----------
    reference, prediction : numpy.ndarray or SimpleITK.Image
        Binary masks of the same shape (bool, or numbers 0 and 1), any number of axes.

    Returns
    -------
    float
        The Dice coefficient; ``nan`` with a :class:`~pymia.errors.NotComputableMetricWarning` when
        both masks are empty. 0 when exactly one is empty.

    Examples
    --------
    >>> import numpy as np
    >>> dice(np.array([1, 1, 0, 0]), np.array([1, 0, 0, 0]))
    0.6666666666666666
    """
    return _dice(_confusion(reference, prediction), "dice")


def jaccard(reference: ArrayOrImage, prediction: ArrayOrImage) -> float:
    """Jaccard index TP / (TP + FP + FN), in [0, 1]; ``nan`` when both masks are empty.

    Parameters are those of :func:`dice`.
    """
    return _jaccard(_confusion(reference, prediction), "jaccard")


def sensitivity(reference: ArrayOrImage, prediction: ArrayOrImage) -> float:
    """Sensitivity (recall, true positive rate) TP / (TP + FN); ``nan`` when the reference is empty.

    Parameters are those of :func:`dice`.
    """
    return _sensitivity(_confusion(reference, prediction), "sensitivity")


def specificity(reference: ArrayOrImage, prediction: ArrayOrImage) -> float:
    """Specificity (true negative rate) TN / (TN + FP); ``nan`` when the reference covers every voxel.

    Parameters are those of :func:`dice`.
    """
    return _specificity(_confusion(reference, prediction), "specificity")


def fallout(reference: ArrayOrImage, prediction: ArrayOrImage) -> float:
    """Fallout (false positive rate) FP / (FP + TN) = 1 − specificity; ``nan`` when the reference covers every voxel.

    Parameters are those of :func:`dice`.
    """
    return _fallout(_confusion(reference, prediction), "fallout")


def false_negative_rate(reference: ArrayOrImage, prediction: ArrayOrImage) -> float:
    """False negative rate FN / (FN + TP) = 1 − sensitivity; ``nan`` when the reference is empty.

    Parameters are those of :func:`dice`.
    """
    return _false_negative_rate(_confusion(reference, prediction), "false_negative_rate")


def accuracy(reference: ArrayOrImage, prediction: ArrayOrImage) -> float:
    """Accuracy (TP + TN) / N over all N voxels; always defined.

    Parameters are those of :func:`dice`.
    """
    return _accuracy(_confusion(reference, prediction), "accuracy")


def precision(reference: ArrayOrImage, prediction: ArrayOrImage) -> float:
    """Precision (positive predictive value) TP / (TP + FP); ``nan`` when the prediction is empty.

    Parameters are those of :func:`dice`.
    """
    return _precision(_confusion(reference, prediction), "precision")


def f_measure(reference: ArrayOrImage, prediction: ArrayOrImage, *, beta: float = 1.0) -> float:
    """F-measure (1 + β²)·TP / ((1 + β²)·TP + β²·FN + FP); β = 1 gives the Dice coefficient.

    Parameters
    ----------
    reference, prediction : numpy.ndarray or SimpleITK.Image
        Binary masks of the same shape.
    beta : float, optional
        Weight of recall against precision, positive. Default 1.

    Returns
    -------
    float
        The F-measure; ``nan`` when both masks are empty.
    """
    return _f_measure(_confusion(reference, prediction), "f_measure", _check_beta(beta))


def true_positives(reference: ArrayOrImage, prediction: ArrayOrImage) -> float:
    """Number of voxels in both masks (TP), as a float."""
    return float(_confusion(reference, prediction).tp)


def false_positives(reference: ArrayOrImage, prediction: ArrayOrImage) -> float:
    """Number of voxels in the prediction only (FP), as a float."""
    return float(_confusion(reference, prediction).fp)


def true_negatives(reference: ArrayOrImage, prediction: ArrayOrImage) -> float:
    """Number of voxels in neither mask (TN), as a float."""
    return float(_confusion(reference, prediction).tn)


def false_negatives(reference: ArrayOrImage, prediction: ArrayOrImage) -> float:
    """Number of voxels in the reference only (FN), as a float."""
    return float(_confusion(reference, prediction).fn)


def volume_similarity(reference: ArrayOrImage, prediction: ArrayOrImage) -> float:
    """Volume similarity 1 − \\|FN − FP\\| / (2·TP + FP + FN), in [0, 1]; ``nan`` when both masks are empty.

    Parameters are those of :func:`dice`.
    """
    return _volume_similarity(_confusion(reference, prediction), "volume_similarity")


def cohen_kappa(reference: ArrayOrImage, prediction: ArrayOrImage) -> float:
    """Cohen's kappa (p_o − p_e) / (1 − p_e) of the two masks as raters of every voxel, in [−1, 1].

    ``nan`` when the expected agreement p_e is 1 (both masks empty, or both cover every voxel),
    as :func:`sklearn.metrics.cohen_kappa_score`.

    Parameters are those of :func:`dice`.
    """
    return _cohen_kappa(_confusion(reference, prediction), "cohen_kappa")


def area_under_curve(reference: ArrayOrImage, prediction: ArrayOrImage) -> float:
    """Area under the ROC curve of a binary prediction: (sensitivity + specificity) / 2.

    Equals :func:`sklearn.metrics.roc_auc_score` with the binary prediction as score. ``nan`` when
    the reference has no positives or no negatives.

    Parameters are those of :func:`dice`.
    """
    return _area_under_curve(_confusion(reference, prediction), "area_under_curve")


def _check_beta(beta: float) -> float:
    beta = float(beta)
    if not beta > 0 or beta == float("inf"):
        raise InvalidInputError(f"beta must be positive and finite, got {beta}.")
    return beta


# --- classes (pymia 0.3.4 names and ids) -----------------------------------------------------------


class DiceCoefficient(SegmentationMetric):
    """Dice coefficient (id ``DICE``); see :func:`dice`."""

    def __init__(self, metric: str = "DICE") -> None:
        super().__init__(metric)

    def _calculate(self, inputs: SegmentationInputs) -> float:
        return _dice(inputs.confusion_matrix, self.metric)


class JaccardCoefficient(SegmentationMetric):
    """Jaccard index (id ``JACRD``); see :func:`jaccard`."""

    def __init__(self, metric: str = "JACRD") -> None:
        super().__init__(metric)

    def _calculate(self, inputs: SegmentationInputs) -> float:
        return _jaccard(inputs.confusion_matrix, self.metric)


class Sensitivity(SegmentationMetric):
    """Sensitivity (id ``SNSVTY``); see :func:`sensitivity`."""

    def __init__(self, metric: str = "SNSVTY") -> None:
        super().__init__(metric)

    def _calculate(self, inputs: SegmentationInputs) -> float:
        return _sensitivity(inputs.confusion_matrix, self.metric)


class Specificity(SegmentationMetric):
    """Specificity (id ``SPCFTY``); see :func:`specificity`."""

    def __init__(self, metric: str = "SPCFTY") -> None:
        super().__init__(metric)

    def _calculate(self, inputs: SegmentationInputs) -> float:
        return _specificity(inputs.confusion_matrix, self.metric)


class Fallout(SegmentationMetric):
    """Fallout (id ``FALLOUT``); see :func:`fallout`."""

    def __init__(self, metric: str = "FALLOUT") -> None:
        super().__init__(metric)

    def _calculate(self, inputs: SegmentationInputs) -> float:
        return _fallout(inputs.confusion_matrix, self.metric)


class FalseNegativeRate(SegmentationMetric):
    """False negative rate (id ``FNR``); see :func:`false_negative_rate`."""

    def __init__(self, metric: str = "FNR") -> None:
        super().__init__(metric)

    def _calculate(self, inputs: SegmentationInputs) -> float:
        return _false_negative_rate(inputs.confusion_matrix, self.metric)


class Accuracy(SegmentationMetric):
    """Accuracy (id ``ACURCY``); see :func:`accuracy`."""

    def __init__(self, metric: str = "ACURCY") -> None:
        super().__init__(metric)

    def _calculate(self, inputs: SegmentationInputs) -> float:
        return _accuracy(inputs.confusion_matrix, self.metric)


class Precision(SegmentationMetric):
    """Precision (id ``PRCISON``); see :func:`precision`."""

    def __init__(self, metric: str = "PRCISON") -> None:
        super().__init__(metric)

    def _calculate(self, inputs: SegmentationInputs) -> float:
        return _precision(inputs.confusion_matrix, self.metric)


class FMeasure(SegmentationMetric):
    """F-measure (id ``FMEASR``); see :func:`f_measure`.

    Parameters
    ----------
    beta : float, optional
        Weight of recall against precision. Default 1.
    metric : str, optional
        The metric id. Default ``'FMEASR'``.
    """

    def __init__(self, beta: float = 1.0, metric: str = "FMEASR") -> None:
        super().__init__(metric)
        self.beta = _check_beta(beta)

    def options(self) -> dict[str, Any]:
        return {"beta": self.beta}

    def _calculate(self, inputs: SegmentationInputs) -> float:
        return _f_measure(inputs.confusion_matrix, self.metric, self.beta)


class TruePositive(SegmentationMetric):
    """True positive count (id ``TP``); see :func:`true_positives`."""

    def __init__(self, metric: str = "TP") -> None:
        super().__init__(metric)

    def _calculate(self, inputs: SegmentationInputs) -> float:
        return float(inputs.confusion_matrix.tp)


class FalsePositive(SegmentationMetric):
    """False positive count (id ``FP``); see :func:`false_positives`."""

    def __init__(self, metric: str = "FP") -> None:
        super().__init__(metric)

    def _calculate(self, inputs: SegmentationInputs) -> float:
        return float(inputs.confusion_matrix.fp)


class TrueNegative(SegmentationMetric):
    """True negative count (id ``TN``); see :func:`true_negatives`."""

    def __init__(self, metric: str = "TN") -> None:
        super().__init__(metric)

    def _calculate(self, inputs: SegmentationInputs) -> float:
        return float(inputs.confusion_matrix.tn)


class FalseNegative(SegmentationMetric):
    """False negative count (id ``FN``); see :func:`false_negatives`."""

    def __init__(self, metric: str = "FN") -> None:
        super().__init__(metric)

    def _calculate(self, inputs: SegmentationInputs) -> float:
        return float(inputs.confusion_matrix.fn)


class VolumeSimilarity(SegmentationMetric):
    """Volume similarity (id ``VOLSMTY``); see :func:`volume_similarity`."""

    def __init__(self, metric: str = "VOLSMTY") -> None:
        super().__init__(metric)

    def _calculate(self, inputs: SegmentationInputs) -> float:
        return _volume_similarity(inputs.confusion_matrix, self.metric)


class CohenKappaCoefficient(SegmentationMetric):
    """Cohen's kappa (id ``KAPPA``); see :func:`cohen_kappa`."""

    def __init__(self, metric: str = "KAPPA") -> None:
        super().__init__(metric)

    def _calculate(self, inputs: SegmentationInputs) -> float:
        return _cohen_kappa(inputs.confusion_matrix, self.metric)


class AreaUnderCurve(SegmentationMetric):
    """Area under the ROC curve (id ``AUC``); see :func:`area_under_curve`."""

    def __init__(self, metric: str = "AUC") -> None:
        super().__init__(metric)

    def _calculate(self, inputs: SegmentationInputs) -> float:
        return _area_under_curve(inputs.confusion_matrix, self.metric)
