"""Metric objects by id (``metric_from_id('HDRFDST95')``) and the metric lists of pymia 0.3.4 (``get_*_metrics``).

The evaluators and the ``pymia-evaluate`` command line build their metrics here.
"""

from __future__ import annotations

import inspect
import re
from typing import Any

from pymia.errors import InvalidInputError
from pymia.evaluation.metric.base import Metric
from pymia.evaluation.metric.continuous import (
    CoefficientOfDetermination,
    MeanAbsoluteError,
    MeanSquaredError,
    NormalizedRootMeanSquaredError,
    PeakSignalToNoiseRatio,
    RootMeanSquaredError,
)
from pymia.evaluation.metric.distance import (
    AverageDistance,
    HausdorffDistance,
    MahalanobisDistance,
    SurfaceDiceOverlap,
    SurfaceOverlap,
)
from pymia.evaluation.metric.information import (
    AdjustedRandIndex,
    GlobalConsistencyError,
    MutualInformation,
    RandIndex,
    VariationOfInformation,
)
from pymia.evaluation.metric.overlap import (
    Accuracy,
    AreaUnderCurve,
    CohenKappaCoefficient,
    DiceCoefficient,
    Fallout,
    FalseNegative,
    FalseNegativeRate,
    FalsePositive,
    FMeasure,
    JaccardCoefficient,
    Precision,
    Sensitivity,
    Specificity,
    TrueNegative,
    TruePositive,
    VolumeSimilarity,
)
from pymia.evaluation.metric.probabilistic import InterclassCorrelation, ProbabilisticDistance
from pymia.evaluation.metric.structural_similarity import StructuralSimilarityIndexMeasure
from pymia.evaluation.metric.volume import PredictionArea, PredictionVolume, ReferenceArea, ReferenceVolume

__all__ = [
    "METRIC_CLASSES",
    "get_classical_metrics",
    "get_distance_metrics",
    "get_overlap_metrics",
    "get_reconstruction_metrics",
    "get_regression_metrics",
    "get_segmentation_metrics",
    "metric_from_id",
    "metric_ids",
]

#: Default id → metric class, for every metric. ``HDRFDST<p>`` (e.g. ``HDRFDST95``) also works in
#: :func:`metric_from_id`.
METRIC_CLASSES: dict[str, type[Metric]] = {
    "ACURCY": Accuracy,
    "ADJRIND": AdjustedRandIndex,
    "AUC": AreaUnderCurve,
    "AVGDIST": AverageDistance,
    "DICE": DiceCoefficient,
    "FALLOUT": Fallout,
    "FMEASR": FMeasure,
    "FN": FalseNegative,
    "FNR": FalseNegativeRate,
    "FP": FalsePositive,
    "GCOERR": GlobalConsistencyError,
    "HDRFDST": HausdorffDistance,
    "ICCORR": InterclassCorrelation,
    "JACRD": JaccardCoefficient,
    "KAPPA": CohenKappaCoefficient,
    "MAHLNBS": MahalanobisDistance,
    "MUTINF": MutualInformation,
    "PREDAREA": PredictionArea,
    "PREDVOL": PredictionVolume,
    "PRCISON": Precision,
    "PROBDST": ProbabilisticDistance,
    "REFAREA": ReferenceArea,
    "REFVOL": ReferenceVolume,
    "RNDIND": RandIndex,
    "SNSVTY": Sensitivity,
    "SPCFTY": Specificity,
    "SURFDICE": SurfaceDiceOverlap,
    "SURFOVLP": SurfaceOverlap,
    "TN": TrueNegative,
    "TP": TruePositive,
    "VARINFO": VariationOfInformation,
    "VOLSMTY": VolumeSimilarity,
    "R2": CoefficientOfDetermination,
    "MAE": MeanAbsoluteError,
    "MSE": MeanSquaredError,
    "RMSE": RootMeanSquaredError,
    "NRMSE": NormalizedRootMeanSquaredError,
    "PSNR": PeakSignalToNoiseRatio,
    "SSIM": StructuralSimilarityIndexMeasure,
}

_HAUSDORFF_PERCENTILE = re.compile(r"HDRFDST(\d+(?:\.\d+)?)")


def _accepted_options(cls: type[Metric]) -> set[str]:
    return {name for name in inspect.signature(cls.__init__).parameters if name not in ("self", "metric")}


_ALL_OPTIONS = set().union(*(_accepted_options(cls) for cls in METRIC_CLASSES.values()))


def metric_ids() -> tuple[str, ...]:
    """Every default metric id, sorted (``HDRFDST<percentile>`` ids such as ``HDRFDST95`` work too)."""
    return tuple(sorted(METRIC_CLASSES))


def metric_from_id(metric_id: str, **options: Any) -> Metric:
    """A new metric object for an id such as ``'DICE'``, ``'HDRFDST95'`` or ``'SURFDICE'``.

    Parameters
    ----------
    metric_id : str
        A metric id (case does not matter). ``'HDRFDST<p>'`` gives the Hausdorff distance at
        percentile ``p`` (``'HDRFDST95'``, ``'HDRFDST99.5'``).
    **options
        Constructor options, e.g. ``tolerance=2.0`` for ``SURFDICE``, ``method='voxel'`` for the
        distance metrics, ``data_range=1.0`` for ``PSNR``. An option that some metric takes but this
        one does not is ignored, so one set of options can be passed for a list of ids; an option no
        metric takes is an error.

    Returns
    -------
    Metric
        The metric, with ``metric`` set to the canonical id (e.g. ``'HDRFDST95'``).

    Raises
    ------
    InvalidInputError
        For an unknown id (the message lists the valid ones) or an option no metric takes.

    Examples
    --------
    >>> metric_from_id("HDRFDST95")
    HausdorffDistance(percentile=95.0, method='surfel', metric='HDRFDST95')
    >>> metric_from_id("SURFDICE", tolerance=2.0).tolerance
    2.0
    """
    unknown = sorted(set(options) - _ALL_OPTIONS)
    if unknown:
        raise InvalidInputError(
            f"no metric takes the option(s) {unknown}; the options metrics take are {sorted(_ALL_OPTIONS)}."
        )
    canonical = str(metric_id).strip().upper()
    if canonical in METRIC_CLASSES:
        cls = METRIC_CLASSES[canonical]
        arguments = {key: value for key, value in options.items() if key in _accepted_options(cls)}
        return cls(**arguments)
    match = _HAUSDORFF_PERCENTILE.fullmatch(canonical)
    if match:
        arguments = {key: value for key, value in options.items() if key in _accepted_options(HausdorffDistance)}
        arguments["percentile"] = float(match.group(1))
        return HausdorffDistance(metric=canonical, **arguments)
    raise InvalidInputError(
        f"unknown metric id {metric_id!r}; valid ids are {', '.join(metric_ids())} and HDRFDST<percentile> "
        "(e.g. HDRFDST95)."
    )


def get_overlap_metrics() -> list[Metric]:
    """New overlap metrics: ADJRIND, AUC, KAPPA, DICE, ICCORR, JACRD, MUTINF, RNDIND, SURFOVLP, SURFDICE, VOLSMTY."""
    return [
        AdjustedRandIndex(),
        AreaUnderCurve(),
        CohenKappaCoefficient(),
        DiceCoefficient(),
        InterclassCorrelation(),
        JaccardCoefficient(),
        MutualInformation(),
        RandIndex(),
        SurfaceOverlap(),
        SurfaceDiceOverlap(),
        VolumeSimilarity(),
    ]


def get_distance_metrics() -> list[Metric]:
    """New distance metrics: HDRFDST, AVGDIST, MAHLNBS, VARINFO, GCOERR, PROBDST."""
    return [
        HausdorffDistance(),
        AverageDistance(),
        MahalanobisDistance(),
        VariationOfInformation(),
        GlobalConsistencyError(),
        ProbabilisticDistance(),
    ]


def get_classical_metrics() -> list[Metric]:
    """New classical metrics: SNSVTY, SPCFTY, PRCISON, FMEASR, ACURCY, FALLOUT, FNR, TP, FP, TN, FN, REFVOL, PREDVOL."""
    return [
        Sensitivity(),
        Specificity(),
        Precision(),
        FMeasure(),
        Accuracy(),
        Fallout(),
        FalseNegativeRate(),
        TruePositive(),
        FalsePositive(),
        TrueNegative(),
        FalseNegative(),
        ReferenceVolume(),
        PredictionVolume(),
    ]


def get_segmentation_metrics() -> list[Metric]:
    """New segmentation metrics: the overlap, distance and classical metrics (as pymia 0.3.4)."""
    return get_overlap_metrics() + get_distance_metrics() + get_classical_metrics()


def get_regression_metrics() -> list[Metric]:
    """New regression metrics: R2, MAE, MSE, RMSE, NRMSE."""
    return [
        CoefficientOfDetermination(),
        MeanAbsoluteError(),
        MeanSquaredError(),
        RootMeanSquaredError(),
        NormalizedRootMeanSquaredError(),
    ]


def get_reconstruction_metrics() -> list[Metric]:
    """New reconstruction metrics: PSNR and SSIM (data range: each reference's range; see the classes)."""
    return [PeakSignalToNoiseRatio(), StructuralSimilarityIndexMeasure()]
