"""Smoke test of examples/evaluation/evaluate_segmentations.py on its tiny synthetic demo data.

The expected CSV comes from SegmentationEvaluator + CSVWriter on the demo files the script wrote; the
agreement of the metric values with independent tools is tested in tests/evaluation/metric.
"""

from __future__ import annotations

import pathlib
import runpy
import subprocess
import sys
import warnings

import pandas as pd
import pytest

from pymia.evaluation import metric
from pymia.evaluation.evaluator import SegmentationEvaluator
from pymia.evaluation.writer import to_dataframe

SCRIPT = pathlib.Path(__file__).parents[2] / "examples" / "evaluation" / "evaluate_segmentations.py"


def _evaluate_directly(data: pathlib.Path, labels: dict[int, str]) -> pd.DataFrame:
    evaluator = SegmentationEvaluator(
        [
            metric.DiceCoefficient(),
            metric.HausdorffDistance(percentile=95, metric="HDRFDST95"),
            metric.AverageDistance(),
            metric.SurfaceDiceOverlap(tolerance=1.0),
        ],
        labels,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for reference in sorted((data / "reference").iterdir()):
            subject = reference.name.removesuffix(".nii.gz")
            evaluator.evaluate(data / "prediction" / reference.name, reference, subject)
    return to_dataframe(evaluator.results, wide=True)


@pytest.mark.slow  # a subprocess with a process pool and matplotlib: ~3 s idle, ~10 s on a loaded machine
def test_demo_writes_csv_statistics_and_plot(tmp_path):
    pytest.importorskip("matplotlib", reason="needs the `examples` extra")
    completed = subprocess.run(
        [sys.executable, str(SCRIPT), "--demo", "--output-dir", str(tmp_path), "--workers", "2"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    results = pd.read_csv(tmp_path / "results.csv")
    assert list(results.columns) == ["SUBJECT", "LABEL", "DICE", "HDRFDST95", "AVGDIST", "SURFDICE"]
    assert len(results) == 4 * 3
    expected = _evaluate_directly(tmp_path / "demo-data", {1: "WM", 2: "GM", 3: "CSF"})
    pd.testing.assert_frame_equal(results, expected, check_exact=True)
    statistics = pd.read_csv(tmp_path / "statistics.csv")
    assert set(statistics.STATISTIC) == {"MEAN", "STD", "COUNT"}
    assert (tmp_path / "boxplot.png").read_bytes()[:4] == b"\x89PNG"
    assert "MEAN" in completed.stdout  # the console statistics


def test_folders_with_default_labels(tmp_path):
    module = runpy.run_path(str(SCRIPT))
    module["write_demo_data"](tmp_path / "data", n_subjects=2, shape=(12, 14, 14))
    module["main"](
        [
            "--reference", str(tmp_path / "data" / "reference"),
            "--prediction", str(tmp_path / "data" / "prediction"),
            "--output-dir", str(tmp_path / "out"),
        ]
    )  # fmt: skip
    results = pd.read_csv(tmp_path / "out" / "results.csv")
    assert results.LABEL.tolist() == [1, 2, 3, 1, 2, 3]
    expected = _evaluate_directly(tmp_path / "data", {1: "1", 2: "2", 3: "3"})
    expected["LABEL"] = expected["LABEL"].astype(int)
    pd.testing.assert_frame_equal(results, expected, check_exact=True)
