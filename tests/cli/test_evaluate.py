"""`pymia-evaluate`: pairing, CSV format, labels, metrics, workers, continuous mode and one-line errors.

The expected values come from `SegmentationEvaluator` / `ContinuousEvaluator` on the same arrays (their
agreement with independent tools is tested in tests/evaluation); here we test what the CLI adds.
Process-level behaviour (exit status, no traceback) runs through a subprocess; the rest calls
`main(argv)` in this process, which is the same code without the start-up cost.
"""

from __future__ import annotations

import math
import pathlib
import re
import shutil
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
import SimpleITK as sitk

from pymia.cli.evaluate import find_pairs, main, parse_labels
from pymia.errors import InvalidInputError, MissingFileError
from pymia.evaluation import metric
from pymia.evaluation.evaluator import ContinuousEvaluator, SegmentationEvaluator
from pymia.evaluation.writer import to_dataframe

SPACING_XYZ = (1.0, 0.9, 2.0)


def _labels(shift: int = 0, with_label_3: bool = True) -> np.ndarray:
    array = np.zeros((8, 14, 16), dtype=np.uint8)
    array[1:7, 2:12, 2:14] = 1
    array[3:5, 4:10, 5:11] = 2
    if with_label_3:
        array[0:2, 0:2, 13:16] = 3
    return np.roll(array, shift, axis=2)


def _write(path, array, spacing=SPACING_XYZ):
    image = sitk.GetImageFromArray(array)
    image.SetSpacing(spacing)
    path.parent.mkdir(parents=True, exist_ok=True)
    sitk.WriteImage(image, str(path))


@pytest.fixture
def folders(tmp_path):
    """Three subjects in three formats; subject c has no label 3 in its reference."""
    reference, prediction = tmp_path / "ref", tmp_path / "pred"
    for name, shift, has_3 in (("a.nii.gz", 1, True), ("b.mha", 0, True), ("c.nrrd", -1, False)):
        _write(reference / name, _labels(0, has_3))
        _write(prediction / name, _labels(shift, True))
    return reference, prediction


def _run_cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pymia.cli.evaluate", *map(str, args)], capture_output=True, text=True, timeout=120
    )


def _expected(folders, metrics, labels) -> pd.DataFrame:
    reference, prediction = folders
    evaluator = SegmentationEvaluator(metrics, labels)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, subject in (("a.nii.gz", "a"), ("b.mha", "b"), ("c.nrrd", "c")):
            evaluator.evaluate(prediction / name, reference / name, subject)
    return to_dataframe(evaluator.results, wide=True)


def test_end_to_end_through_the_console_entry_point(folders, tmp_path):
    """Header in the order asked, full precision, statistics file, exit 0, no output on stdout."""
    reference, prediction = folders
    output = tmp_path / "out" / "results.csv"
    completed = _run_cli(
        "--reference", reference, "--prediction", prediction, "--labels", "1=WM", "2=GM",
        "--metrics", "SURFDICE", "DICE", "HDRFDST95", "AVGDIST", "-o", output, "--statistics", tmp_path / "stats.csv",
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    assert "Traceback" not in completed.stderr
    assert output.read_text().splitlines()[0] == "SUBJECT,LABEL,SURFDICE,DICE,HDRFDST95,AVGDIST"
    metrics = [
        metric.SurfaceDiceOverlap(tolerance=1.0),
        metric.DiceCoefficient(),
        metric.HausdorffDistance(percentile=95, metric="HDRFDST95"),
        metric.AverageDistance(),
    ]
    expected = _expected(folders, metrics, {1: "WM", 2: "GM"})
    pd.testing.assert_frame_equal(pd.read_csv(output), expected, check_exact=True)
    statistics = pd.read_csv(tmp_path / "stats.csv")
    mean_dice_wm = statistics.query("LABEL == 'WM' and METRIC == 'DICE' and STATISTIC == 'MEAN'").VALUE.item()
    assert mean_dice_wm == pytest.approx(expected.query("LABEL == 'WM'").DICE.mean(), rel=1e-12)


def test_default_labels_are_every_non_zero_reference_label(folders, tmp_path):
    """Label 3 is missing from c's reference: its row is still written (undefined values are nan)."""
    output = tmp_path / "results.csv"
    assert main(["--reference", str(folders[0]), "--prediction", str(folders[1]), "-o", str(output)]) == 0
    frame = pd.read_csv(output)
    assert list(frame.columns) == ["SUBJECT", "LABEL", "DICE", "HDRFDST95", "AVGDIST", "SURFDICE"]
    assert frame[["SUBJECT", "LABEL"]].values.tolist() == [[s, n] for s in "abc" for n in (1, 2, 3)]
    c3 = frame.query("SUBJECT == 'c' and LABEL == 3").iloc[0]
    assert c3.DICE == 0.0 and math.isnan(c3.HDRFDST95)


def test_merged_labels_and_tolerance(folders, tmp_path):
    output = tmp_path / "results.csv"
    argv = ["--reference", str(folders[0]), "--prediction", str(folders[1]), "-o", str(output)]
    assert main([*argv, "--labels", "1+2=TISSUE", "--metrics", "SURFDICE", "--tolerance", "0.5"]) == 0
    expected = _expected(folders, [metric.SurfaceDiceOverlap(tolerance=0.5)], {(1, 2): "TISSUE"})
    pd.testing.assert_frame_equal(pd.read_csv(output), expected, check_exact=True)
    at_one_mm = _expected(folders, [metric.SurfaceDiceOverlap(tolerance=1.0)], {(1, 2): "TISSUE"})
    assert not np.array_equal(at_one_mm.SURFDICE.values, expected.SURFDICE.values)


def test_two_workers_write_the_same_file_as_one(folders, tmp_path):
    argv = ["--reference", str(folders[0]), "--prediction", str(folders[1]), "--labels", "1=WM", "2=GM"]
    assert main([*argv, "-o", str(tmp_path / "one.csv")]) == 0
    assert main([*argv, "-o", str(tmp_path / "two.csv"), "--workers", "2"]) == 0
    assert (tmp_path / "one.csv").read_text() == (tmp_path / "two.csv").read_text()


def test_plot_is_written(folders, tmp_path):
    pytest.importorskip("matplotlib", reason="needs the `examples` extra")
    argv = ["--reference", str(folders[0]), "--prediction", str(folders[1]), "--metrics", "DICE"]
    assert main([*argv, "-o", str(tmp_path / "r.csv"), "--plot", str(tmp_path / "box.png")]) == 0
    assert (tmp_path / "box.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_continuous_mode(tmp_path, rng):
    """Reference: MAE = mean |p − r| over the voxels (numpy)."""
    reference = rng.random((6, 10, 12)).astype(np.float32)
    prediction = reference + np.float32(0.25)
    _write(tmp_path / "ref" / "s1.nii.gz", reference)
    _write(tmp_path / "pred" / "s1.nii.gz", prediction)
    output = tmp_path / "results.csv"
    argv = ["--reference", str(tmp_path / "ref"), "--prediction", str(tmp_path / "pred"), "-o", str(output)]
    assert main([*argv, "--continuous", "--metrics", "MAE", "RMSE"]) == 0
    frame = pd.read_csv(output)
    assert list(frame.columns) == ["SUBJECT", "LABEL", "MAE", "RMSE"]
    assert frame.LABEL.item() == "ALL"
    assert frame.MAE.item() == pytest.approx(np.abs(prediction.astype(np.float64) - reference).mean(), rel=1e-6)
    expected = ContinuousEvaluator([metric.MeanAbsoluteError(), metric.RootMeanSquaredError()]).evaluate(
        tmp_path / "pred" / "s1.nii.gz", tmp_path / "ref" / "s1.nii.gz", "s1"
    )
    assert [frame.MAE.item(), frame.RMSE.item()] == [r.value for r in expected]


def test_continuous_default_metrics_run(tmp_path, rng):
    reference = rng.random((8, 16, 16)).astype(np.float32)
    _write(tmp_path / "ref" / "s1.mha", reference)
    _write(tmp_path / "pred" / "s1.mha", reference * 0.9)
    output = tmp_path / "results.csv"
    argv = ["--reference", str(tmp_path / "ref"), "--prediction", str(tmp_path / "pred"), "-o", str(output)]
    assert main([*argv, "--continuous"]) == 0
    frame = pd.read_csv(output)
    assert list(frame.columns)[2:] == ["MAE", "RMSE", "NRMSE", "PSNR", "SSIM"]
    assert frame.iloc[0, 2:].notna().all()


# --- errors: one line on stderr, non-zero exit, no traceback -------------------------------------------


def _assert_one_line_error(completed: subprocess.CompletedProcess, pattern: str) -> None:
    assert completed.returncode == 1
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1, completed.stderr
    assert lines[0].startswith("pymia-evaluate: error: ")
    assert re.search(pattern, lines[0]), lines[0]


def test_prediction_missing_is_a_one_line_error(folders, tmp_path):
    (folders[1] / "b.mha").unlink()
    completed = _run_cli("--reference", folders[0], "--prediction", folders[1], "-o", tmp_path / "r.csv")
    _assert_one_line_error(completed, r"prediction missing for reference .*b\.mha")
    assert not (tmp_path / "r.csv").exists()


def test_geometry_mismatch_is_a_one_line_error_with_the_values(folders, tmp_path):
    _write(folders[1] / "b.mha", _labels(), spacing=(1.0, 1.0, 2.0))
    completed = _run_cli("--reference", folders[0], "--prediction", folders[1], "-o", tmp_path / "r.csv")
    _assert_one_line_error(
        completed, r"subject 'b': prediction spacing \(1\.0, 1\.0, 2\.0\) differs from reference spacing \(1\.0, 0\.9"
    )


@pytest.mark.parametrize(
    ("setup", "extra", "pattern"),
    [
        (
            lambda r, p: _write(p / "a.nii.gz", _labels()[:, :, :-2]),
            [],
            r"shape \(8, 14, 14\) differs .* \(8, 14, 16\)",
        ),
        (lambda r, p: _write(r / "b.mha", _labels() * 0.5), [], r"b\.mha' contains the non-integer value 1\.5"),
        (
            lambda r, p: _write(p / "b.mha", _labels() * 0.5),
            ["--labels", "1=WM"],
            r"subject 'b': prediction contains the non-integer value 1\.5",
        ),
        (lambda r, p: [f.unlink() for f in r.iterdir()], [], r"no pairs found"),
        (lambda r, p: None, ["--metrics", "DICE", "NOPE"], r"unknown metric id 'NOPE'; valid ids are .*DICE"),
        (lambda r, p: None, ["--metrics", "DICE", "dice"], r"--metrics names 'DICE' twice"),
        (lambda r, p: None, ["--metrics", "PSNR"], r"'PSNR' is a continuous metric; add --continuous"),
        (lambda r, p: None, ["--labels", "WM"], r"--labels entry 'WM' is not VALUE=NAME"),
        (lambda r, p: None, ["--continuous", "--labels", "1=WM"], r"--labels applies to segmentations"),
        (lambda r, p: None, ["--tolerance", "-1"], r"--tolerance must be a non-negative"),
    ],
)
def test_user_errors_are_one_line(folders, tmp_path, capsys, setup, extra, pattern):
    """The same errors as the subprocess tests, through main() to save start-up time."""
    setup(*folders)
    argv = ["--reference", str(folders[0]), "--prediction", str(folders[1]), "-o", str(tmp_path / "r.csv"), *extra]
    assert main(argv) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pymia-evaluate: error: ")
    assert re.search(pattern, lines[0]), lines[0]


def test_plot_without_matplotlib_fails_before_evaluating(folders, tmp_path, capsys, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def without_matplotlib(name, *args, **kwargs):
        if name == "matplotlib" or name.startswith("matplotlib."):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", without_matplotlib)
    argv = ["--reference", str(folders[0]), "--prediction", str(folders[1]), "-o", str(tmp_path / "r.csv")]
    assert main([*argv, "--plot", str(tmp_path / "box.png")]) == 1
    assert "pip install 'pymia[examples]'" in capsys.readouterr().err
    assert not (tmp_path / "r.csv").exists()


def test_output_folder_is_rejected_before_evaluating(folders, tmp_path, capsys):
    argv = ["--reference", str(folders[0]), "--prediction", str(folders[1]), "-o", str(tmp_path)]
    assert main(argv) == 1
    assert "is a folder" in capsys.readouterr().err


def test_missing_reference_folder(tmp_path, capsys):
    assert main(["--reference", str(tmp_path / "x"), "--prediction", str(tmp_path), "-o", str(tmp_path / "r")]) == 1
    assert "reference folder" in capsys.readouterr().err


def test_command_line_errors_exit_with_2(capsys):
    assert main(["--reference", "a", "--prediction", "b"]) == 2
    assert "-o/--output" in capsys.readouterr().err
    assert main(["--reference", "a", "--prediction", "b", "-o", "x", "--workers", "0"]) == 2


def test_console_script_is_installed():
    script = shutil.which("pymia-evaluate", path=str(pathlib.Path(sys.executable).parent))
    assert script is not None
    completed = subprocess.run([script, "--help"], capture_output=True, text=True, timeout=60)
    assert completed.returncode == 0 and "--reference REF_DIR" in completed.stdout


# --- pairing and label parsing -------------------------------------------------------------------------


def test_find_pairs_strips_extensions_and_ignores_other_files(folders):
    reference, prediction = folders
    (reference / "notes.txt").write_text("x")
    (reference / "d.raw").write_bytes(b"")
    _write(prediction / "extra.nii", _labels())
    pairs, unpaired = find_pairs(reference, prediction)
    assert [pair.subject for pair in pairs] == ["a", "b", "c"]
    assert pairs[0].prediction == prediction / "a.nii.gz"
    assert unpaired == ["extra.nii"]


def test_find_pairs_rejects_two_files_of_one_subject(folders):
    _write(folders[0] / "a.nii", _labels())
    with pytest.raises(InvalidInputError, match="two reference files for subject 'a'"):
        find_pairs(*folders)


def test_find_pairs_missing_folder(tmp_path):
    with pytest.raises(MissingFileError, match="prediction folder"):
        find_pairs(tmp_path, tmp_path / "missing")


def test_parse_labels():
    assert parse_labels(["1=WM", "2=GM", "1+2=TISSUE"]) == {1: "WM", 2: "GM", (1, 2): "TISSUE"}
    with pytest.raises(InvalidInputError, match="twice"):
        parse_labels(["1=WM", "2=WM"])
    with pytest.raises(InvalidInputError, match="not VALUE=NAME"):
        parse_labels(["1.5=X"])
