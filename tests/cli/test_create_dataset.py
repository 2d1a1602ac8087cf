"""Tests of the ``pymia-create-dataset`` command, run through subprocess as a user runs it."""

from __future__ import annotations

import subprocess
import sys

import h5py
import pytest

from pymia.cli.create_dataset import main
from pymia.testing.phantoms import write_phantom_subjects

IMAGE_OPTIONS = ["--images", "T1", "T2", "--labels", "GT", "--mask", "MASK", "--no-progress"]


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pymia.cli.create_dataset", *map(str, args)], capture_output=True, text=True, timeout=120
    )


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli") / "example"
    write_phantom_subjects(folder, 2, (5, 6, 7), seed=3)
    return folder


def test_manifest_mode(data_dir, tmp_path):
    out = tmp_path / "m.h5"
    result = run(
        "--manifest", data_dir / "manifest.csv", *IMAGE_OPTIONS,
        "--numerical", "age", "score", "--categorical", "sex", "-o", out,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert f"wrote 2 subjects to {out}" in result.stdout
    with h5py.File(out) as f:
        assert set(f["data"]) == {"images", "labels", "mask", "numerical", "sex"}
        assert f["data/images/0"].shape == (5, 6, 7, 2)


def test_folder_mode_with_options(data_dir, tmp_path):
    pytest.importorskip("hdf5plugin")  # writes and reads Blosc (the import registers the filter)
    out = tmp_path / "f.h5"
    result = run(
        data_dir, "-o", out, *IMAGE_OPTIONS, "--demographics", data_dir / "demographics.csv",
        "--workers", "2", "--chunks", "4,4,4", "--compression", "blosc-lz4", "--normalize", "zscore", "--anonymize",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    with h5py.File(out) as f:
        assert f["data/images/1"].chunks == (4, 4, 4, 2)
        assert f.attrs["anonymized"] and f.attrs["transform"].startswith("IntensityNormalization")
        assert abs(float(f["data/images/0"][..., 0].mean())) < 1e-4
        assert set(f["data"]) == {"images", "labels", "mask", "numerical", "sex"}


def test_meta_only_and_overwrite(data_dir, tmp_path):
    out = tmp_path / "meta.h5"
    assert run(data_dir, "-o", out, *IMAGE_OPTIONS, "--meta-only").returncode == 0
    again = run(data_dir, "-o", out, *IMAGE_OPTIONS)
    assert again.returncode == 1
    assert again.stderr.strip().startswith("pymia-create-dataset: error: output file")
    assert "--overwrite" in again.stderr and "Traceback" not in again.stderr
    assert run(data_dir, "-o", out, *IMAGE_OPTIONS, "--overwrite").returncode == 0
    with h5py.File(out) as f:
        assert not f.attrs["meta_only"] and "images" in f["data"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--images", "T1"], "give either DATA_DIR or --manifest"),
        (["{data}", "--images", "T9"], "has no file for key 'T9'"),
        (["{data}/nope", "--images", "T1"], "does not exist"),
        (["--manifest", "{data}/manifest.csv", "--images", "T1", "--numerical", "sex"], "non-numeric value"),
        (["{data}", "--images", "T1", "--chunks", "x"], "--chunks 'x' is not"),
        (["{data}", "--images", "T1", "--meta-only", "--anonymize"], "neither voxels nor file paths"),
        (["{data}", "--images", "T1", "--numerical", "age"], "need --demographics"),
    ],
)
def test_user_errors_are_one_line_without_traceback(data_dir, tmp_path, args, message, capsys):
    """In-process through main() (the same code path as the console script, without interpreter start-up)."""
    args = [a.replace("{data}", str(data_dir)) for a in args]
    assert main([*args, "-o", str(tmp_path / "x.h5"), "--no-progress"]) == 1
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("pymia-create-dataset: error: ") and message in lines[0], err
    assert not list(tmp_path.iterdir())


def test_user_error_through_the_command(data_dir, tmp_path):
    result = run(data_dir, "--images", "T9", "-o", tmp_path / "x.h5")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "has no file for key 'T9'" in result.stderr


def test_help_lists_every_option():
    result = run("--help")
    assert result.returncode == 0
    for option in (
        "--manifest", "--images", "--labels", "--mask", "--numerical", "--categorical", "--demographics",
        "--workers", "--chunks", "--compression", "--anonymize", "--meta-only", "--overwrite", "--no-progress",
        "--normalize", "--resample",
    ):  # fmt: skip
        assert option in result.stdout


def test_bad_option_is_a_usage_error(tmp_path):
    result = run("--images", "T1", "-o", tmp_path / "x.h5", "--compression", "zip")
    assert result.returncode == 2 and "invalid choice" in result.stderr


def test_console_script_is_installed():
    """The entry point from pyproject.toml resolves to main()."""
    from importlib.metadata import entry_points

    (script,) = [e for e in entry_points(group="console_scripts") if e.name == "pymia-create-dataset"]
    assert script.load() is main


def test_geometry_mismatch_and_resample(tmp_path, capsys):
    """In-process: a label map on another grid fails with a one-line error, and passes with --resample."""
    import SimpleITK as sitk

    write_phantom_subjects(tmp_path / "raw", 1, (5, 6, 7), seed=4)
    gt = tmp_path / "raw" / "Subject_1" / "Subject_1_GT.nii.gz"
    image = sitk.ReadImage(str(gt))
    image.SetSpacing((0.5, 0.5, 0.5))
    sitk.WriteImage(image, str(gt))
    options = ["--images", "T1", "--labels", "GT", "--no-progress"]
    assert main([str(tmp_path / "raw"), "-o", str(tmp_path / "a.h5"), *options]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "entry 'GT'" in err and "spacing" in err and "--resample" in err
    assert main([str(tmp_path / "raw"), "-o", str(tmp_path / "a.h5"), *options, "--tolerance", "2"]) == 0
    assert main([str(tmp_path / "raw"), "-o", str(tmp_path / "b.h5"), *options, "--resample"]) == 0
    with h5py.File(tmp_path / "b.h5") as f:
        assert f["data/labels/0"].shape == (5, 6, 7, 1)
