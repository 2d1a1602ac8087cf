"""The plain metric functions in one namespace: numpy arrays (or SimpleITK images) in, float out.

>>> from pymia.evaluation.metric import functional as F
>>> import numpy as np
>>> F.dice(np.array([1, 1, 0]), np.array([1, 0, 0]))
0.6666666666666666
"""

from __future__ import annotations

from pymia.evaluation.metric.continuous import (
    coefficient_of_determination,
    mean_absolute_error,
    mean_squared_error,
    normalized_root_mean_squared_error,
    peak_signal_to_noise_ratio,
    root_mean_squared_error,
)
from pymia.evaluation.metric.distance import (
    average_surface_distance,
    hausdorff_distance,
    mahalanobis_distance,
    surface_dice,
    surface_overlap,
)
from pymia.evaluation.metric.information import (
    adjusted_rand_index,
    global_consistency_error,
    mutual_information,
    rand_index,
    variation_of_information,
)
from pymia.evaluation.metric.overlap import (
    accuracy,
    area_under_curve,
    cohen_kappa,
    dice,
    f_measure,
    fallout,
    false_negative_rate,
    false_negatives,
    false_positives,
    jaccard,
    precision,
    sensitivity,
    specificity,
    true_negatives,
    true_positives,
    volume_similarity,
)
from pymia.evaluation.metric.probabilistic import interclass_correlation, probabilistic_distance
from pymia.evaluation.metric.structural_similarity import structural_similarity
from pymia.evaluation.metric.volume import area, volume

__all__ = [
    "accuracy",
    "adjusted_rand_index",
    "area",
    "area_under_curve",
    "average_surface_distance",
    "coefficient_of_determination",
    "cohen_kappa",
    "dice",
    "f_measure",
    "fallout",
    "false_negative_rate",
    "false_negatives",
    "false_positives",
    "global_consistency_error",
    "hausdorff_distance",
    "interclass_correlation",
    "jaccard",
    "mahalanobis_distance",
    "mean_absolute_error",
    "mean_squared_error",
    "mutual_information",
    "normalized_root_mean_squared_error",
    "peak_signal_to_noise_ratio",
    "precision",
    "probabilistic_distance",
    "rand_index",
    "root_mean_squared_error",
    "sensitivity",
    "specificity",
    "structural_similarity",
    "surface_dice",
    "surface_overlap",
    "true_negatives",
    "true_positives",
    "variation_of_information",
    "volume",
    "volume_similarity",
]
