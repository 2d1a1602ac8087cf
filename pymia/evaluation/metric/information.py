"""Partition-comparison metrics of one label: mutual information, variation of information, Rand indices, GCE.

These treat reference and prediction as two partitions of the voxels (inside / outside) and only
depend on the :class:`~pymia.evaluation.metric.confusion.ConfusionMatrix`. They are invariant to
swapping the two labels of either mask. Information is measured in bits (log base 2), as in pymia
0.3.4 and Taha & Hanbury (2015). Pair counts use exact Python integers.
"""

from __future__ import annotations

import math

from pymia.evaluation.metric.arrays import ArrayOrImage
from pymia.evaluation.metric.base import SegmentationInputs, SegmentationMetric
from pymia.evaluation.metric.confusion import ConfusionMatrix
from pymia.evaluation.metric.policy import not_computable

__all__ = [
    "AdjustedRandIndex",
    "GlobalConsistencyError",
    "MutualInformation",
    "RandIndex",
    "VariationOfInformation",
    "adjusted_rand_index",
    "global_consistency_error",
    "mutual_information",
    "rand_index",
    "variation_of_information",
]


def _entropy(counts: tuple[int, ...], n: int) -> float:
    """Entropy in bits of the distribution ``counts / n`` (zero counts contribute nothing)."""
    return -sum((c / n) * math.log2(c / n) for c in counts if c > 0)


def _entropies(cm: ConfusionMatrix) -> tuple[float, float, float]:
    """Entropies H(reference), H(prediction) and the joint entropy, in bits."""
    n = cm.n
    reference = _entropy((cm.tp + cm.fn, cm.tn + cm.fp), n)
    prediction = _entropy((cm.tp + cm.fp, cm.tn + cm.fn), n)
    joint = _entropy((cm.tp, cm.fp, cm.tn, cm.fn), n)
    return reference, prediction, joint


def _mutual_information(cm: ConfusionMatrix, name: str) -> float:
    reference, prediction, joint = _entropies(cm)
    return max(reference + prediction - joint, 0.0)


def _variation_of_information(cm: ConfusionMatrix, name: str) -> float:
    reference, prediction, joint = _entropies(cm)
    return max(2.0 * joint - reference - prediction, 0.0)


def _pair_counts(cm: ConfusionMatrix) -> tuple[int, int, int, int]:
    """Voxel pairs (a, b, c, d): together in both masks, in the reference only, in the prediction only, in neither."""
    cells = (cm.tp, cm.fp, cm.tn, cm.fn)
    same_cell = sum(c * (c - 1) for c in cells) // 2
    same_reference = sum(c * (c - 1) for c in (cm.tp + cm.fn, cm.tn + cm.fp)) // 2
    same_prediction = sum(c * (c - 1) for c in (cm.tp + cm.fp, cm.tn + cm.fn)) // 2
    total = cm.n * (cm.n - 1) // 2
    a = same_cell
    b = same_reference - same_cell
    c = same_prediction - same_cell
    return a, b, c, total - a - b - c


def _rand_index(cm: ConfusionMatrix, name: str) -> float:
    if cm.n < 2:
        return not_computable(name, "there are fewer than two voxels (no voxel pairs)")
    a, b, c, d = _pair_counts(cm)
    return (a + d) / (a + b + c + d)


def _adjusted_rand_index(cm: ConfusionMatrix, name: str) -> float:
    if cm.n < 2:
        return not_computable(name, "there are fewer than two voxels (no voxel pairs)")
    a, b, c, d = _pair_counts(cm)
    denominator = (a + b) * (b + d) + (a + c) * (c + d)
    if denominator == 0:
        # Both partitions put all voxels in one part: they are the same partition (as scikit-learn).
        return 1.0
    return 2.0 * (a * d - b * c) / denominator


def _global_consistency_error(cm: ConfusionMatrix, name: str) -> float:
    def part(error: int, kept: int) -> float:
        # Local refinement error summed over the voxels of one region of the first partition, which the
        # second partition splits into `kept` and `error` voxels: each side sees the other as missing,
        # so the sum is kept·error/size + error·kept/size. An empty region adds nothing.
        size = error + kept
        return 0.0 if size == 0 else 2.0 * error * kept / size

    reference_in_prediction = part(cm.fn, cm.tp) + part(cm.fp, cm.tn)
    prediction_in_reference = part(cm.fp, cm.tp) + part(cm.fn, cm.tn)
    return min(reference_in_prediction, prediction_in_reference) / cm.n


def mutual_information(reference: ArrayOrImage, prediction: ArrayOrImage) -> float:
    """Mutual information in bits of the two masks as partitions of the voxels; always defined, ≥ 0.

    Equals :func:`sklearn.metrics.mutual_info_score` divided by ln 2. Both masks empty gives 0.

    Parameters
    ----------
    reference, prediction : numpy.ndarray or SimpleITK.Image
        Binary masks of the same shape (bool, or numbers 0 and 1), any number of axes.

    Returns
    -------
    float
        I(reference; prediction) = H(reference) + H(prediction) − H(reference, prediction), in bits.
    """
    return _mutual_information(SegmentationInputs(reference, prediction).confusion_matrix, "mutual_information")


def variation_of_information(reference: ArrayOrImage, prediction: ArrayOrImage) -> float:
    """Variation of information in bits: H(reference) + H(prediction) − 2·I; always defined, ≥ 0.

    Parameters are those of :func:`mutual_information`. 0 for identical partitions.
    """
    return _variation_of_information(
        SegmentationInputs(reference, prediction).confusion_matrix, "variation_of_information"
    )


def rand_index(reference: ArrayOrImage, prediction: ArrayOrImage) -> float:
    """Rand index: the fraction of voxel pairs on which both masks agree (same part or different parts).

    Equals :func:`sklearn.metrics.rand_score`. ``nan`` for a single voxel (no pairs).
    Parameters are those of :func:`mutual_information`.
    """
    return _rand_index(SegmentationInputs(reference, prediction).confusion_matrix, "rand_index")


def adjusted_rand_index(reference: ArrayOrImage, prediction: ArrayOrImage) -> float:
    """Rand index adjusted for chance (Hubert & Arabie), in [−0.5, 1].

    Equals :func:`sklearn.metrics.adjusted_rand_score`, including its convention of 1 when both
    masks put every voxel in one part (e.g. both empty). ``nan`` for a single voxel.
    Parameters are those of :func:`mutual_information`.
    """
    return _adjusted_rand_index(SegmentationInputs(reference, prediction).confusion_matrix, "adjusted_rand_index")


def global_consistency_error(reference: ArrayOrImage, prediction: ArrayOrImage) -> float:
    """Global consistency error (Martin et al. 2001), in [0, 1]; always defined, 0 for identical masks.

    GCE = min(Σ_x E(R, P, x), Σ_x E(P, R, x)) / n with the local refinement error
    E(R, P, x) = \\|R(x) \\\\ P(x)\\| / \\|R(x)\\|, R(x) the part of the reference partition holding voxel x.
    Parameters are those of :func:`mutual_information`.
    """
    return _global_consistency_error(
        SegmentationInputs(reference, prediction).confusion_matrix, "global_consistency_error"
    )


class MutualInformation(SegmentationMetric):
    """Mutual information in bits (id ``MUTINF``); see :func:`mutual_information`."""

    def __init__(self, metric: str = "MUTINF") -> None:
        super().__init__(metric)

    def _calculate(self, inputs: SegmentationInputs) -> float:
        return _mutual_information(inputs.confusion_matrix, self.metric)


class VariationOfInformation(SegmentationMetric):
    """Variation of information in bits (id ``VARINFO``); see :func:`variation_of_information`."""

    def __init__(self, metric: str = "VARINFO") -> None:
        super().__init__(metric)

    def _calculate(self, inputs: SegmentationInputs) -> float:
        return _variation_of_information(inputs.confusion_matrix, self.metric)


class RandIndex(SegmentationMetric):
    """Rand index (id ``RNDIND``); see :func:`rand_index`."""

    def __init__(self, metric: str = "RNDIND") -> None:
        super().__init__(metric)

    def _calculate(self, inputs: SegmentationInputs) -> float:
        return _rand_index(inputs.confusion_matrix, self.metric)


class AdjustedRandIndex(SegmentationMetric):
    """Adjusted Rand index (id ``ADJRIND``); see :func:`adjusted_rand_index`."""

    def __init__(self, metric: str = "ADJRIND") -> None:
        super().__init__(metric)

    def _calculate(self, inputs: SegmentationInputs) -> float:
        return _adjusted_rand_index(inputs.confusion_matrix, self.metric)


class GlobalConsistencyError(SegmentationMetric):
    """Global consistency error (id ``GCOERR``); see :func:`global_consistency_error`."""

    def __init__(self, metric: str = "GCOERR") -> None:
        super().__init__(metric)

    def _calculate(self, inputs: SegmentationInputs) -> float:
        return _global_consistency_error(inputs.confusion_matrix, self.metric)
