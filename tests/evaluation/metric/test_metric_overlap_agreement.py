"""Confusion-matrix metrics against SimpleITK, scikit-learn and per-voxel closed forms."""

from __future__ import annotations

import math

import numpy as np
import pytest
import SimpleITK as sitk
from metric_cases import case_ids, mask_pairs
from scipy import stats
from sklearn import metrics as skm

from pymia.evaluation.metric import (
    ConfusionMatrix,
    SegmentationInputs,
    accuracy,
    adjusted_rand_index,
    area_under_curve,
    cohen_kappa,
    dice,
    f_measure,
    fallout,
    false_negative_rate,
    false_negatives,
    false_positives,
    global_consistency_error,
    interclass_correlation,
    jaccard,
    mutual_information,
    precision,
    probabilistic_distance,
    rand_index,
    sensitivity,
    specificity,
    true_negatives,
    true_positives,
    variation_of_information,
    volume_similarity,
)

CASES = mask_pairs()


@pytest.mark.parametrize(("name", "reference", "prediction", "spacing"), CASES, ids=case_ids())
def test_overlap_equals_simpleitk_label_overlap_measures(name, reference, prediction, spacing):
    """Reference: SimpleITK LabelOverlapMeasuresImageFilter (source = prediction, target = reference).
    ITK's VolumeSimilarity is the signed 2(|P| − |R|)/(|P| + |R|); ours is 1 − |that| / 2."""
    measures = sitk.LabelOverlapMeasuresImageFilter()
    measures.Execute(
        sitk.GetImageFromArray(prediction.astype(np.uint8)), sitk.GetImageFromArray(reference.astype(np.uint8))
    )
    assert dice(reference, prediction) == pytest.approx(measures.GetDiceCoefficient(), rel=1e-12)
    assert jaccard(reference, prediction) == pytest.approx(measures.GetJaccardCoefficient(), rel=1e-12)
    assert false_negative_rate(reference, prediction) == pytest.approx(measures.GetFalseNegativeError(), rel=1e-12)
    assert fallout(reference, prediction) == pytest.approx(measures.GetFalsePositiveError(), rel=1e-12)
    assert 1 - precision(reference, prediction) == pytest.approx(measures.GetFalseDiscoveryRate(), rel=1e-12)
    assert volume_similarity(reference, prediction) == pytest.approx(
        1 - abs(measures.GetVolumeSimilarity()) / 2, rel=1e-12
    )


@pytest.mark.parametrize(("name", "reference", "prediction", "spacing"), CASES, ids=case_ids())
def test_classical_metrics_equal_scikit_learn(name, reference, prediction, spacing):
    """Reference: sklearn.metrics confusion_matrix, recall_score, precision_score, accuracy_score,
    fbeta_score, cohen_kappa_score and roc_auc_score on the flattened masks."""
    y_true, y_pred = reference.ravel(), prediction.ravel()
    tn, fp, fn, tp = skm.confusion_matrix(y_true, y_pred, labels=[False, True]).ravel()
    assert (true_positives(reference, prediction), false_positives(reference, prediction)) == (tp, fp)
    assert (true_negatives(reference, prediction), false_negatives(reference, prediction)) == (tn, fn)
    assert sensitivity(reference, prediction) == pytest.approx(skm.recall_score(y_true, y_pred), rel=1e-12)
    assert specificity(reference, prediction) == pytest.approx(skm.recall_score(~y_true, ~y_pred), rel=1e-12)
    assert precision(reference, prediction) == pytest.approx(skm.precision_score(y_true, y_pred), rel=1e-12)
    assert accuracy(reference, prediction) == pytest.approx(skm.accuracy_score(y_true, y_pred), rel=1e-12)
    for beta in (0.5, 1.0, 2.0):
        assert f_measure(reference, prediction, beta=beta) == pytest.approx(
            skm.fbeta_score(y_true, y_pred, beta=beta), rel=1e-12
        )
    assert cohen_kappa(reference, prediction) == pytest.approx(skm.cohen_kappa_score(y_true, y_pred), rel=1e-9)
    assert area_under_curve(reference, prediction) == pytest.approx(
        skm.roc_auc_score(y_true, y_pred.astype(float)), rel=1e-12
    )


@pytest.mark.parametrize(("name", "reference", "prediction", "spacing"), CASES, ids=case_ids())
def test_partition_metrics_equal_scikit_learn(name, reference, prediction, spacing):
    """Reference: sklearn.metrics rand_score, adjusted_rand_score and mutual_info_score (nats, divided by
    ln 2 for bits); the variation of information from those and scipy.stats.entropy in bits."""
    y_true, y_pred = reference.ravel(), prediction.ravel()
    assert rand_index(reference, prediction) == pytest.approx(skm.rand_score(y_true, y_pred), rel=1e-12)
    assert adjusted_rand_index(reference, prediction) == pytest.approx(
        skm.adjusted_rand_score(y_true, y_pred), rel=1e-9
    )
    information = skm.mutual_info_score(y_true, y_pred) / math.log(2)
    assert mutual_information(reference, prediction) == pytest.approx(information, rel=1e-9)
    entropy_true = stats.entropy(np.bincount(y_true), base=2)
    entropy_pred = stats.entropy(np.bincount(y_pred), base=2)
    assert variation_of_information(reference, prediction) == pytest.approx(
        entropy_true + entropy_pred - 2 * information, rel=1e-9
    )


def _global_consistency_error_per_voxel(reference: np.ndarray, prediction: np.ndarray) -> float:
    """Martin et al. (2001) by its definition: E(S1, S2, x) = |R(S1, x) \\ R(S2, x)| / |R(S1, x)| per voxel."""
    a, b = reference.ravel(), prediction.ravel()
    errors = np.zeros((2, a.size))
    for index in range(a.size):
        region_a = a == a[index]
        region_b = b == b[index]
        errors[0, index] = np.count_nonzero(region_a & ~region_b) / np.count_nonzero(region_a)
        errors[1, index] = np.count_nonzero(region_b & ~region_a) / np.count_nonzero(region_b)
    return min(errors[0].sum(), errors[1].sum()) / a.size


def _interclass_correlation_per_voxel(reference: np.ndarray, prediction: np.ndarray) -> float:
    """Taha & Hanbury (2015) eq. 18 evaluated on the voxel ratings with numpy."""
    ratings = np.stack([reference.ravel(), prediction.ravel()], axis=1).astype(float)
    n = ratings.shape[0]
    means = ratings.mean(axis=1)
    between = 2 / (n - 1) * np.sum((means - ratings.mean()) ** 2)
    within = np.sum((ratings - means[:, None]) ** 2) / n
    return (between - within) / (between + within)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gce_icc_probabilistic_distance_equal_per_voxel_definitions(seed):
    """Reference: per-voxel evaluations of the definitions (GCE: Martin et al. 2001; ICC: Taha & Hanbury 2015
    eq. 18; probabilistic distance: Σ|a − b| / (2 Σ a·b), Gerig et al. 2001) on small random masks."""
    generator = np.random.default_rng(seed)
    reference = generator.random((7, 9)) < 0.4
    prediction = generator.random((7, 9)) < 0.5
    assert global_consistency_error(reference, prediction) == pytest.approx(
        _global_consistency_error_per_voxel(reference, prediction), rel=1e-12
    )
    assert interclass_correlation(reference, prediction) == pytest.approx(
        _interclass_correlation_per_voxel(reference, prediction), rel=1e-12
    )
    a, b = reference.astype(float), prediction.astype(float)
    assert probabilistic_distance(reference, prediction) == pytest.approx(
        np.abs(a - b).sum() / (2 * (a * b).sum()), rel=1e-12
    )


def test_gce_is_zero_for_a_refinement():
    """Closed form: GCE is 0 when one partition refines the other (Martin et al. 2001), e.g. an empty
    prediction against any reference. (The closed form printed in Taha & Hanbury gives 0.5 here.)"""
    assert global_consistency_error(np.array([1, 0], bool), np.array([0, 0], bool)) == 0.0


@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.int64, np.float32, bool])
def test_any_integer_or_float_binary_dtype(dtype):
    """Closed form: Dice of [1, 1, 0, 0] and [1, 0, 0, 0] is 2/3 whatever the dtype."""
    assert dice(np.array([1, 1, 0, 0], dtype), np.array([1, 0, 0, 0], dtype)) == pytest.approx(2 / 3)


def test_simpleitk_images_are_accepted():
    """Closed form: the same counts from SimpleITK images as from their arrays."""
    reference = np.zeros((4, 5, 6), np.uint8)
    reference[1:3, 1:4, 2:5] = 1
    prediction = np.roll(reference, 1, axis=2)
    from_images = SegmentationInputs(sitk.GetImageFromArray(reference), sitk.GetImageFromArray(prediction))
    assert from_images.confusion_matrix == ConfusionMatrix.from_masks(reference.astype(bool), prediction.astype(bool))


def test_confusion_matrix_counts():
    """Closed form: counts of a hand-made example."""
    cm = ConfusionMatrix.from_masks(np.array([1, 1, 1, 0, 0, 0], bool), np.array([1, 0, 0, 1, 0, 0], bool))
    assert (cm.tp, cm.fp, cm.tn, cm.fn, cm.n) == (1, 1, 2, 2, 6)
    assert (cm.reference_positives, cm.prediction_positives) == (3, 2)
