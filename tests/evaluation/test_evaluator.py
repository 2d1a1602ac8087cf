"""SegmentationEvaluator, ContinuousEvaluator and cohort evaluation.

Reference values come from SimpleITK's LabelOverlapMeasuresImageFilter (Dice) and from numpy closed
forms (MAE, RMSE); distances are compared between input forms (arrays with spacing vs images vs files)
because their agreement with peer tools is tested with the metrics themselves.
"""

from __future__ import annotations

import concurrent.futures
import math
import pickle

import numpy as np
import pytest
import SimpleITK as sitk

from pymia.errors import GeometryMismatchError, InvalidInputError, MissingFileError
from pymia.evaluation import evaluator as evaluator_module
from pymia.evaluation import metric
from pymia.evaluation.evaluator import ContinuousEvaluator, Result, SegmentationEvaluator, present_labels

SPACING_XYZ = (0.8, 1.0, 2.5)  # SimpleITK order; numpy order (z, y, x) is the reverse


def _phantom(shift: tuple[int, int, int] = (0, 0, 0), shape=(12, 20, 24)) -> np.ndarray:
    """Two nested boxes (labels 1, 2) and a small blob (label 3), optionally shifted by whole voxels."""
    labels = np.zeros(shape, dtype=np.uint8)
    labels[2:10, 3:17, 4:20] = 1
    labels[4:8, 6:14, 8:16] = 2
    labels[1:3, 1:3, 20:23] = 3
    return np.roll(labels, shift, axis=(0, 1, 2))


def _image(array: np.ndarray, spacing=SPACING_XYZ, origin=(0.0, 0.0, 0.0)) -> sitk.Image:
    image = sitk.GetImageFromArray(array)
    image.SetSpacing(spacing)
    image.SetOrigin(origin)
    return image


def _sitk_dice(reference: np.ndarray, prediction: np.ndarray) -> float:
    overlap = sitk.LabelOverlapMeasuresImageFilter()
    overlap.Execute(
        sitk.GetImageFromArray(reference.astype(np.uint8)), sitk.GetImageFromArray(prediction.astype(np.uint8))
    )
    return overlap.GetDiceCoefficient()


@pytest.fixture
def pair() -> tuple[np.ndarray, np.ndarray]:
    return _phantom((1, -1, 2)), _phantom()  # prediction, reference


def _metrics():
    return [metric.DiceCoefficient(), metric.HausdorffDistance(percentile=95, metric="HDRFDST95")]


# --- Result ----------------------------------------------------------------------------------------------


def test_result_has_the_0_3_4_fields_and_pickles():
    result = Result("S1", "WM", "DICE", 0.5)
    assert (result.id_, result.label, result.metric, result.value) == ("S1", "WM", "DICE", 0.5)
    assert pickle.loads(pickle.dumps(result)) == result


# --- SegmentationEvaluator -------------------------------------------------------------------------------


def test_dice_per_label_matches_simpleitk(pair):
    """Reference: SimpleITK LabelOverlapMeasuresImageFilter.GetDiceCoefficient on each label's masks."""
    prediction, reference = pair
    evaluator = SegmentationEvaluator([metric.DiceCoefficient()], {1: "OUTER", 2: "INNER", 3: "BLOB"})
    results = evaluator.evaluate(prediction, reference, "S1")
    assert [(r.id_, r.label, r.metric) for r in results] == [
        ("S1", "OUTER", "DICE"),
        ("S1", "INNER", "DICE"),
        ("S1", "BLOB", "DICE"),
    ]
    for result, label in zip(results, (1, 2, 3)):
        assert result.value == pytest.approx(_sitk_dice(reference == label, prediction == label), rel=1e-12)
    assert evaluator.results == results


def test_tuple_label_merges_labels(pair):
    """Reference: SimpleITK Dice of the union of labels 1 and 2 (the whole outer box)."""
    prediction, reference = pair
    evaluator = SegmentationEvaluator([metric.DiceCoefficient()])
    evaluator.add_label((1, 2), "BOX")
    (result,) = evaluator.evaluate(prediction, reference, "S1")
    expected = _sitk_dice(np.isin(reference, (1, 2)), np.isin(prediction, (1, 2)))
    assert result.label == "BOX" and result.value == pytest.approx(expected, rel=1e-12)


def test_results_are_label_major_then_metric_order(pair):
    evaluator = SegmentationEvaluator(_metrics(), {2: "INNER", 1: "OUTER"})
    results = evaluator.evaluate(*pair, "S1")
    assert [(r.label, r.metric) for r in results] == [
        ("INNER", "DICE"),
        ("INNER", "HDRFDST95"),
        ("OUTER", "DICE"),
        ("OUTER", "HDRFDST95"),
    ]


def test_images_give_their_spacing_to_the_metrics(pair):
    """The same masks as arrays with spacing=(z, y, x) and as SimpleITK images with (x, y, z) spacing agree."""
    prediction, reference = pair
    evaluator = SegmentationEvaluator(_metrics(), {1: "OUTER", 2: "INNER"})
    from_images = evaluator.evaluate(_image(prediction), _image(reference), "S1")
    from_arrays = evaluator.evaluate(prediction, reference, "S2", spacing=SPACING_XYZ[::-1])
    one_mm = evaluator.evaluate(prediction, reference, "S3")
    assert [r.value for r in from_images] == [r.value for r in from_arrays]
    assert from_images[1].value != one_mm[1].value  # HD95 depends on the spacing


def test_explicit_spacing_overrides_the_image_spacing(pair):
    prediction, reference = pair
    evaluator = SegmentationEvaluator(_metrics(), {1: "OUTER"})
    overridden = evaluator.evaluate(_image(prediction), _image(reference), "S1", spacing=(1.0, 1.0, 1.0))
    plain = evaluator.evaluate(prediction, reference, "S2")
    assert [r.value for r in overridden] == [r.value for r in plain]


def test_files_equal_images(tmp_path, pair):
    prediction, reference = pair
    sitk.WriteImage(_image(prediction), str(tmp_path / "p.nii.gz"))
    sitk.WriteImage(_image(reference), str(tmp_path / "r.mha"))
    evaluator = SegmentationEvaluator(_metrics(), {1: "OUTER", 2: "INNER"})
    from_files = evaluator.evaluate(tmp_path / "p.nii.gz", str(tmp_path / "r.mha"), "S1")
    from_images = evaluator.evaluate(_image(prediction), _image(reference), "S2")
    np.testing.assert_allclose([r.value for r in from_files], [r.value for r in from_images], rtol=1e-6)


def test_2d_label_images(rng):
    reference = np.zeros((16, 20), dtype=np.int32)
    reference[3:12, 4:15] = 5
    prediction = np.roll(reference, 1, axis=1)
    (result,) = SegmentationEvaluator([metric.DiceCoefficient()], {5: "A"}).evaluate(prediction, reference, "S1")
    assert result.value == pytest.approx(_sitk_dice(reference == 5, prediction == 5), rel=1e-12)


def test_boolean_and_whole_float_label_images_are_accepted(pair):
    prediction, reference = pair
    evaluator = SegmentationEvaluator([metric.DiceCoefficient()], {1: "OUTER"})
    as_int = evaluator.evaluate(prediction, reference, "S1")[0].value
    as_float = evaluator.evaluate(prediction.astype(np.float32), reference.astype(np.float64), "S2")[0].value
    as_bool = evaluator.evaluate(prediction == 1, reference == 1, "S3")[0].value
    assert as_int == as_float == as_bool


def test_label_absent_from_both_is_nan_with_a_warning(pair):
    from pymia.errors import NotComputableMetricWarning

    evaluator = SegmentationEvaluator(_metrics(), {9: "ABSENT"})
    with pytest.warns(NotComputableMetricWarning):
        results = evaluator.evaluate(*pair, "S1")
    assert math.isnan(results[1].value)  # HD of two empty masks is undefined


def test_shape_mismatch_names_both_shapes(pair):
    prediction, reference = pair
    evaluator = SegmentationEvaluator(_metrics(), {1: "OUTER"})
    with pytest.raises(GeometryMismatchError, match=r"prediction shape \(12, 20, 23\) differs from reference shape"):
        evaluator.evaluate(prediction[..., :-1], reference, "S1")


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (
            lambda image: image.SetSpacing((0.8, 1.0, 2.0)),
            r"spacing \(0\.8, 1\.0, 2\.0\) differs .* \(0\.8, 1\.0, 2\.5\)",
        ),
        (lambda image: image.SetOrigin((0.0, 3.0, 0.0)), r"origin \(0\.0, 3\.0, 0\.0\) differs"),
        (lambda image: image.SetDirection((0, 1, 0, 1, 0, 0, 0, 0, 1)), "direction"),
    ],
)
def test_geometry_mismatch_names_the_values(pair, change, match):
    prediction, reference = pair
    moved = _image(prediction)
    change(moved)
    evaluator = SegmentationEvaluator(_metrics(), {1: "OUTER"})
    with pytest.raises(GeometryMismatchError, match=match):
        evaluator.evaluate(moved, _image(reference), "S1")


def test_float32_rounding_of_the_geometry_is_not_a_mismatch(pair):
    prediction, reference = pair
    evaluator = SegmentationEvaluator([metric.DiceCoefficient()], {1: "OUTER"})
    rounded = _image(prediction, spacing=tuple(float(np.float32(s)) for s in (0.1, 0.7, 1.3)), origin=(1e-7, 0, 0))
    evaluator.evaluate(rounded, _image(reference, spacing=(0.1, 0.7, 1.3)), "S1")


def test_non_integer_labels_are_rejected(pair):
    prediction, reference = pair
    noisy = prediction.astype(np.float32)
    noisy[0, 0, 0] = 0.5
    evaluator = SegmentationEvaluator(_metrics(), {1: "OUTER"})
    with pytest.raises(InvalidInputError, match=r"subject 'S1': prediction contains the non-integer value 0\.5"):
        evaluator.evaluate(noisy, reference, "S1")


def test_missing_file_is_a_missing_file_error(tmp_path, pair):
    evaluator = SegmentationEvaluator(_metrics(), {1: "OUTER"})
    with pytest.raises(MissingFileError, match=r"reference file .*nothing\.nii\.gz"):
        evaluator.evaluate(pair[0], tmp_path / "nothing.nii.gz", "S1")


def test_one_segmentation_inputs_per_label_is_shared_by_all_metrics(pair, monkeypatch):
    """Shared computation: 2 labels × 3 metrics build 2 SegmentationInputs, and each surface computation once."""
    built = []

    class CountingInputs(metric.SegmentationInputs):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            built.append(self)
            self.surface_calls = 0

        def surface_distances(self, method="surfel"):
            if method not in self._surface_distances:
                self.surface_calls += 1
            return super().surface_distances(method)

    monkeypatch.setattr(evaluator_module, "SegmentationInputs", CountingInputs)
    metrics = [*_metrics(), metric.AverageDistance()]
    SegmentationEvaluator(metrics, {1: "OUTER", 2: "INNER"}).evaluate(*pair, "S1")
    assert len(built) == 2
    assert [inputs.surface_calls for inputs in built] == [1, 1]


def test_clear_forgets_results_but_keeps_labels(pair):
    evaluator = SegmentationEvaluator(_metrics(), {1: "OUTER"})
    evaluator.evaluate(*pair, "S1")
    evaluator.clear()
    assert evaluator.results == [] and evaluator.labels == {1: "OUTER"}


def test_without_labels_evaluate_says_how_to_add_them(pair):
    with pytest.raises(InvalidInputError, match="add_label"):
        SegmentationEvaluator(_metrics()).evaluate(*pair, "S1")


@pytest.mark.parametrize("label", [1.5, (), (1, "2"), True, "1"])
def test_bad_labels_are_rejected(label):
    with pytest.raises(InvalidInputError, match="label must be"):
        SegmentationEvaluator(_metrics()).add_label(label, "X")


def test_duplicate_description_is_rejected():
    evaluator = SegmentationEvaluator(_metrics(), {1: "WM"})
    with pytest.raises(InvalidInputError, match="'WM' is used already"):
        evaluator.add_label(2, "WM")
    evaluator.add_label(1, "WM")  # re-adding the same label is fine


def test_metric_checks_at_construction():
    with pytest.raises(InvalidInputError, match=r"is a continuous metric.*ContinuousEvaluator"):
        SegmentationEvaluator([metric.MeanAbsoluteError()])
    with pytest.raises(InvalidInputError, match="appears twice"):
        SegmentationEvaluator([metric.DiceCoefficient(), metric.DiceCoefficient()])
    with pytest.raises(InvalidInputError, match="not a metric object"):
        SegmentationEvaluator(["DICE"])


# --- ContinuousEvaluator --------------------------------------------------------------------------------


def test_continuous_values_match_numpy_closed_forms(rng):
    """Reference: MAE = mean|p − r|, RMSE = sqrt(mean (p − r)²), in the mask and overall."""
    reference = rng.random((6, 10, 12)).astype(np.float32)
    prediction = reference + rng.normal(0, 0.1, reference.shape).astype(np.float32)
    mask = np.zeros(reference.shape, dtype=np.uint8)
    mask[1:5, 2:8, 3:9] = 1
    evaluator = ContinuousEvaluator([metric.MeanAbsoluteError(), metric.RootMeanSquaredError()])
    overall = evaluator.evaluate(prediction, reference, "S1")
    masked = evaluator.evaluate(prediction, reference, "S2", mask, label="BRAIN")
    difference = prediction.astype(np.float64) - reference
    assert [r.label for r in overall] == ["ALL", "ALL"] and [r.label for r in masked] == ["BRAIN", "BRAIN"]
    assert overall[0].value == pytest.approx(np.abs(difference).mean(), rel=1e-6)
    assert overall[1].value == pytest.approx(np.sqrt((difference**2).mean()), rel=1e-6)
    inside = difference[mask == 1]
    assert masked[0].value == pytest.approx(np.abs(inside).mean(), rel=1e-6)


def test_continuous_mask_on_another_grid_is_rejected(rng):
    reference = _image(rng.random((6, 10, 12)))
    mask = _image(np.ones((6, 10, 12), np.uint8), origin=(5.0, 0.0, 0.0))
    with pytest.raises(GeometryMismatchError, match="mask origin"):
        ContinuousEvaluator([metric.MeanAbsoluteError()]).evaluate(reference, reference, "S1", mask)


def test_continuous_evaluator_rejects_segmentation_metrics():
    with pytest.raises(InvalidInputError, match=r"is a segmentation metric.*SegmentationEvaluator"):
        ContinuousEvaluator([metric.DiceCoefficient()])


# --- cohort --------------------------------------------------------------------------------------------


def _cohort(n: int = 4) -> list[tuple[np.ndarray, np.ndarray, str]]:
    return [(_phantom((i % 2, -i, i)), _phantom(), f"S{i}") for i in range(n)]


def _one_by_one(evaluator: SegmentationEvaluator, cohort) -> list[Result]:
    evaluator.clear()
    for case in cohort:
        evaluator.evaluate(*case)
    results = evaluator.results
    evaluator.clear()
    return results


def test_cohort_in_process_equals_one_by_one(capsys):
    evaluator = SegmentationEvaluator(_metrics(), {1: "OUTER", 2: "INNER"})
    expected = _one_by_one(evaluator, _cohort())
    assert evaluator.evaluate_cohort(_cohort(), progress=False) == expected
    assert evaluator.results == expected
    assert capsys.readouterr().err == ""


def test_cohort_progress_bar_goes_to_stderr(capsys):
    SegmentationEvaluator(_metrics(), {1: "OUTER"}).evaluate_cohort(_cohort(2), progress=True)
    assert "2/2" in capsys.readouterr().err


def test_cohort_on_a_process_pool_keeps_input_order(tmp_path):
    """Files are read in the workers; results come back in the order of the pairs."""
    cohort = []
    for prediction, reference, id_ in _cohort(4):
        sitk.WriteImage(_image(prediction), str(tmp_path / f"{id_}_p.nii.gz"))
        sitk.WriteImage(_image(reference), str(tmp_path / f"{id_}_r.nii.gz"))
        cohort.append((tmp_path / f"{id_}_p.nii.gz", tmp_path / f"{id_}_r.nii.gz", id_))
    evaluator = SegmentationEvaluator(_metrics(), {1: "OUTER", 2: "INNER"})
    expected = _one_by_one(evaluator, cohort)
    with concurrent.futures.ProcessPoolExecutor(2) as executor:
        results = evaluator.evaluate_cohort(list(reversed(cohort)), executor=executor, progress=False)
    by_key = {(r.id_, r.label, r.metric): r.value for r in expected}
    assert [r.id_ for r in results[::4]] == ["S3", "S2", "S1", "S0"]
    assert {(r.id_, r.label, r.metric): r.value for r in results} == by_key


def test_cohort_error_in_a_worker_is_raised():
    cohort = _cohort(3)
    cohort[1] = (cohort[1][0][:, :, :-1], cohort[1][1], "BROKEN")
    evaluator = SegmentationEvaluator(_metrics(), {1: "OUTER"})
    with concurrent.futures.ThreadPoolExecutor(2) as executor, pytest.raises(GeometryMismatchError, match="BROKEN"):
        evaluator.evaluate_cohort(cohort, executor=executor, progress=False)
    assert evaluator.results == []


def test_cohort_on_a_dask_client_executor():
    """A dask.distributed client's executor is a concurrent.futures.Executor and works unchanged."""
    distributed = pytest.importorskip("distributed", reason="needs the `distributed` extra")
    evaluator = SegmentationEvaluator(_metrics(), {1: "OUTER"})
    expected = _one_by_one(evaluator, _cohort(3))
    with (
        distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) as cluster,
        distributed.Client(cluster) as client,
    ):
        results = evaluator.evaluate_cohort(_cohort(3), executor=client.get_executor(), progress=False)
    assert results == expected


def test_cohort_rejects_duplicate_ids_and_short_tuples():
    evaluator = SegmentationEvaluator(_metrics(), {1: "OUTER"})
    cohort = _cohort(2)
    with pytest.raises(InvalidInputError, match="'S0' appears twice"):
        evaluator.evaluate_cohort([cohort[0], cohort[0]], progress=False)
    with pytest.raises(InvalidInputError, match=r"\(prediction, reference, id_\)"):
        evaluator.evaluate_cohort([cohort[0][:2]], progress=False)


def test_continuous_cohort_takes_masks():
    rng = np.random.default_rng(1)
    reference = rng.random((4, 8, 8))
    mask = np.zeros(reference.shape, bool)
    mask[1:3] = True
    evaluator = ContinuousEvaluator([metric.MeanAbsoluteError()])
    results = evaluator.evaluate_cohort(
        [(reference + 1, reference, "A", mask), (reference, reference, "B")], progress=False
    )
    assert [r.value for r in results] == [pytest.approx(1.0), 0.0]


# --- present_labels -------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.uint32, np.float32, bool])
def test_present_labels(dtype):
    array = _phantom().astype(dtype)
    expected = [1] if dtype is bool else [1, 2, 3]
    assert present_labels(array) == expected


def test_present_labels_rejects_non_integer_values():
    with pytest.raises(InvalidInputError, match=r"non-integer value 0\.25"):
        present_labels(np.array([[0.0, 0.25]]))
