"""One contract test run against every metric class, plus the factories and the public API."""

from __future__ import annotations

import math
import pickle
import warnings

import numpy as np
import pytest

import pymia.evaluation.metric as metric_package
from pymia.errors import InvalidInputError
from pymia.evaluation.metric import (
    METRIC_CLASSES,
    ContinuousInputs,
    HausdorffDistance,
    Metric,
    SegmentationInputs,
    functional,
    get_classical_metrics,
    get_distance_metrics,
    get_overlap_metrics,
    get_reconstruction_metrics,
    get_regression_metrics,
    get_segmentation_metrics,
    metric_from_id,
    metric_ids,
)


def _segmentation_inputs() -> SegmentationInputs:
    reference = np.zeros((12, 14, 16), bool)
    reference[3:9, 4:10, 5:12] = True
    return SegmentationInputs(reference, np.roll(reference, (1, 2), axis=(0, 2)), spacing=(1.5, 1.0, 0.8))


def _continuous_inputs() -> ContinuousInputs:
    generator = np.random.default_rng(1)
    reference = generator.random((10, 11, 12))
    return ContinuousInputs(reference, reference + generator.normal(0, 0.05, reference.shape))


@pytest.mark.parametrize("metric_id", sorted(METRIC_CLASSES))
def test_metric_contract(metric_id):
    """Every metric: default id, kind, calculate_from == __call__, picklable, repr round trip, metric= override,
    refuses the other kind of inputs."""
    cls = METRIC_CLASSES[metric_id]
    metric = cls()
    assert isinstance(metric, Metric)
    assert metric.metric == metric_id
    assert metric.kind in ("segmentation", "continuous")
    inputs = _segmentation_inputs() if metric.kind == "segmentation" else _continuous_inputs()
    other = _continuous_inputs() if metric.kind == "segmentation" else _segmentation_inputs()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value = metric.calculate_from(inputs)
    assert isinstance(value, float)
    assert math.isfinite(value)
    called = metric(inputs.reference, inputs.prediction, spacing=inputs.spacing)
    assert called == pytest.approx(value, rel=1e-12)
    clone = pickle.loads(pickle.dumps(metric))
    assert clone.calculate_from(inputs) == value
    assert eval(repr(metric), vars(metric_package)).options() == metric.options()
    assert cls(metric="CUSTOM").metric == "CUSTOM"
    with pytest.raises(InvalidInputError, match="needs"):
        metric.calculate_from(other)


def test_ids_and_factory():
    """The ids of pymia 0.3.4 plus HDRFDST<p>; options go to the metrics that take them."""
    assert len(metric_ids()) == 39
    assert metric_from_id("HDRFDST95").percentile == 95.0
    assert metric_from_id("HDRFDST95").metric == "HDRFDST95"
    assert metric_from_id("hdrfdst99.5").metric == "HDRFDST99.5"
    assert HausdorffDistance(percentile=95).metric == "HDRFDST95"
    assert HausdorffDistance().metric == "HDRFDST"
    assert metric_from_id("SURFDICE", tolerance=2.5).tolerance == 2.5
    assert metric_from_id("DICE", tolerance=2.5).metric == "DICE"  # tolerance is for other metrics
    assert metric_from_id("AVGDIST", method="voxel").method == "voxel"
    assert metric_from_id("PSNR", data_range=255).data_range == 255.0
    with pytest.raises(InvalidInputError, match=r"unknown metric id 'DICEE'.*DICE"):
        metric_from_id("DICEE")
    with pytest.raises(InvalidInputError, match="no metric takes the option"):
        metric_from_id("DICE", tolerence=1.0)


def test_metric_lists_match_pymia_034():
    """Reference: the get_*_metrics lists of pymia 0.3.4 (research note §6)."""
    assert [m.metric for m in get_overlap_metrics()] == [
        "ADJRIND", "AUC", "KAPPA", "DICE", "ICCORR", "JACRD", "MUTINF", "RNDIND", "SURFOVLP", "SURFDICE", "VOLSMTY",
    ]  # fmt: skip
    assert [m.metric for m in get_distance_metrics()] == [
        "HDRFDST",
        "AVGDIST",
        "MAHLNBS",
        "VARINFO",
        "GCOERR",
        "PROBDST",
    ]
    assert [m.metric for m in get_classical_metrics()] == [
        "SNSVTY", "SPCFTY", "PRCISON", "FMEASR", "ACURCY", "FALLOUT", "FNR",
        "TP", "FP", "TN", "FN", "REFVOL", "PREDVOL",
    ]  # fmt: skip
    assert len(get_segmentation_metrics()) == 30
    assert [m.metric for m in get_regression_metrics()] == ["R2", "MAE", "MSE", "RMSE", "NRMSE"]
    assert [m.metric for m in get_reconstruction_metrics()] == ["PSNR", "SSIM"]
    assert get_overlap_metrics()[0] is not get_overlap_metrics()[0]  # new instances each time


def test_public_api_is_frozen():
    """The documented names of pymia.evaluation.metric (a change here must be deliberate)."""
    classes = sorted(cls.__name__ for cls in METRIC_CLASSES.values())
    expected = set(classes) | set(functional.__all__) | {
        "METRIC_CLASSES", "ConfusionMatrix", "ContinuousInputs", "ContinuousMetric", "Metric",
        "NotComputableMetricWarning", "SegmentationInputs", "SegmentationMetric", "SurfaceDistances",
        "compute_surface_distances", "get_classical_metrics", "get_distance_metrics", "get_overlap_metrics",
        "get_reconstruction_metrics", "get_regression_metrics", "get_segmentation_metrics", "metric_from_id",
        "metric_ids",
    }  # fmt: skip
    assert set(metric_package.__all__) == expected
    assert len(metric_package.__all__) == len(set(metric_package.__all__))
    for name in metric_package.__all__:
        assert hasattr(metric_package, name), name


def test_invalid_options_are_pymia_errors():
    for build in (
        lambda: HausdorffDistance(percentile=120),
        lambda: metric_from_id("SURFDICE", tolerance=-1),
        lambda: metric_from_id("FMEASR", beta=0),
        lambda: metric_from_id("AVGDIST", method="mesh"),
        lambda: metric_from_id("NRMSE", normalization="range"),
        lambda: metric_from_id("PSNR", data_range=0),
        lambda: metric_from_id("SSIM", win_size=4),
        lambda: metric_from_id("REFAREA", slice_number=-1),
        lambda: metric_from_id("DICE", metric=""),
    ):
        with pytest.raises(InvalidInputError):
            build()
