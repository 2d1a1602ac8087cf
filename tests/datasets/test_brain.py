"""Tests of the simulated brain example data: layout, content, geometry, determinism, CLI, errors.

The generator runs on a 4 mm grid (47 × 58 × 49 voxels) to stay fast; the code path is the same as
at the default 2 mm, apart from the block size of the template down-sampling.
"""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk

from pymia.datasets import brain, cli, template
from pymia.errors import InvalidInputError, MissingDependencyError, OutputExistsError
from tests.conftest import requires_nilearn

RESOLUTION = 4.0
N_SUBJECTS = 2


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as stream:
        return list(csv.DictReader(stream))


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def example_dir(tmp_path_factory) -> Path:
    if not template.importlib.util.find_spec("nilearn"):
        pytest.skip("needs the `examples` extra (nilearn)")
    folder = tmp_path_factory.mktemp("example") / "data"
    brain.generate_brain_dataset(folder, n_subjects=N_SUBJECTS, seed=0, resolution_mm=RESOLUTION, progress=False)
    return folder


@requires_nilearn
def test_layout_and_tables(example_dir):
    rows = _rows(example_dir / "manifest.csv")
    assert list(rows[0]) == ["subject", "T1", "T2", "GT", "MASK", "age", "sex", "score"]
    assert [row["subject"] for row in rows] == ["Subject_1", "Subject_2"]
    demographics = _rows(example_dir / "demographics.csv")
    assert list(demographics[0]) == ["subject", "age", "sex", "score"]
    for row, values in zip(rows, demographics):
        assert row["T1"] == f"{row['subject']}/{row['subject']}_T1.mha"
        assert row["T2"] == f"{row['subject']}/{row['subject']}_T2.mha"
        assert row["GT"] == f"{row['subject']}/{row['subject']}_GT.nii.gz"
        assert row["MASK"] == f"{row['subject']}/{row['subject']}_MASK.nii.gz"
        assert {k: row[k] for k in ("subject", "age", "sex", "score")} == values
        assert 20 <= int(row["age"]) <= 85 and row["sex"] in ("F", "M") and 0 <= float(row["score"]) <= 30
    readme = (example_dir / "README.txt").read_text(encoding="utf-8")
    assert template.MCGILL_COPYRIGHT in readme
    assert "Copyright (C) 1993–2004 Louis Collins, McConnell Brain Imaging Centre" in readme
    assert "Fonov" in readme and "SIMULATED" in readme
    assert brain.is_example_folder(example_dir)
    assert not list(example_dir.parent.glob(".*partial*")), "staging folder left behind"


@requires_nilearn
def test_metaimage_files_are_compressed(example_dir):
    header = (example_dir / "Subject_1" / "Subject_1_T1.mha").read_bytes()[:600].decode("latin-1")
    assert "CompressedData = True" in header and "ElementType = MET_FLOAT" in header


@requires_nilearn
def test_images_share_geometry_and_labels_are_plausible(example_dir):
    for row in _rows(example_dir / "manifest.csv"):
        images = {key: sitk.ReadImage(str(example_dir / row[key])) for key in ("T1", "T2", "GT", "MASK")}
        first = images["T1"]
        assert first.GetSpacing() == (RESOLUTION,) * 3
        # The template's NIfTI is RAS; SimpleITK reports LPS, so x and y flip.
        np.testing.assert_allclose(first.GetDirection(), (-1, 0, 0, 0, -1, 0, 0, 0, 1))
        for image in images.values():
            assert image.GetSize() == first.GetSize()
            np.testing.assert_allclose(image.GetOrigin(), first.GetOrigin(), atol=1e-4)
            np.testing.assert_allclose(image.GetSpacing(), first.GetSpacing(), atol=1e-6)
            np.testing.assert_allclose(image.GetDirection(), first.GetDirection(), atol=1e-6)
        arrays = {key: sitk.GetArrayFromImage(image) for key, image in images.items()}
        labels, mask = arrays["GT"], arrays["MASK"]
        assert labels.dtype == np.uint8 and mask.dtype == np.uint8
        assert arrays["T1"].dtype == np.float32 and arrays["T2"].dtype == np.float32
        assert set(np.unique(labels)) == {0, 1, 2, 3}
        np.testing.assert_array_equal(mask, (labels > 0).astype(np.uint8))
        assert 0.05 < mask.mean() < 0.5  # a brain, not an empty or a full volume
        assert np.all(arrays["T1"][mask == 0] == 0) and np.all(arrays["T2"][mask == 0] == 0)  # skull-stripped
        t1 = [arrays["T1"][labels == label].mean() for label in (1, 2, 3)]
        t2 = [arrays["T2"][labels == label].mean() for label in (1, 2, 3)]
        assert t1[0] > t1[1] > t1[2], f"T1 must be bright in WM, dark in CSF: {t1}"
        assert t2[0] < t2[1] < t2[2], f"T2-like must be dark in WM, bright in CSF: {t2}"


@requires_nilearn
def test_subjects_differ(example_dir):
    """Each subject has its own deformation, so their label maps differ."""
    first = sitk.GetArrayFromImage(sitk.ReadImage(str(example_dir / "Subject_1" / "Subject_1_GT.nii.gz")))
    second = sitk.GetArrayFromImage(sitk.ReadImage(str(example_dir / "Subject_2" / "Subject_2_GT.nii.gz")))
    assert 0.01 < np.mean(first != second) < 0.5


@requires_nilearn
def test_same_seed_gives_byte_identical_files(example_dir, tmp_path):
    """Byte identity includes the gzip headers of .nii.gz (SimpleITK writes time stamp 0)."""
    again = tmp_path / "again"
    brain.generate_brain_dataset(again, n_subjects=N_SUBJECTS, seed=0, resolution_mm=RESOLUTION, progress=False)
    expected, actual = _files(example_dir), _files(again)
    assert sorted(expected) == sorted(actual)
    for name, content in expected.items():
        assert actual[name] == content, f"{name} differs between two runs with the same seed"
    gz = (again / "Subject_1" / "Subject_1_GT.nii.gz").read_bytes()
    assert gz[:2] == b"\x1f\x8b" and gz[4:8] == b"\x00\x00\x00\x00"  # gzip magic, MTIME = 0


@requires_nilearn
def test_subject_depends_only_on_seed_and_number(example_dir, tmp_path):
    """Subject_1 of a 1-subject run equals Subject_1 of the 2-subject run; another seed differs."""
    one = tmp_path / "one"
    brain.generate_brain_dataset(one, n_subjects=1, seed=0, resolution_mm=RESOLUTION, progress=False)
    other = tmp_path / "other"
    brain.generate_brain_dataset(other, n_subjects=1, seed=1, resolution_mm=RESOLUTION, progress=False)
    for key, suffix in (("T1", ".mha"), ("GT", ".nii.gz")):
        name = f"Subject_1/Subject_1_{key}{suffix}"
        assert (one / name).read_bytes() == (example_dir / name).read_bytes()
        assert (other / name).read_bytes() != (example_dir / name).read_bytes()


@requires_nilearn
def test_existing_output_needs_overwrite_and_never_deletes_foreign_folders(example_dir, tmp_path):
    target = tmp_path / "data"
    brain.generate_brain_dataset(target, n_subjects=2, resolution_mm=RESOLUTION, progress=False)
    with pytest.raises(OutputExistsError, match="--overwrite"):
        brain.generate_brain_dataset(target, n_subjects=1, resolution_mm=RESOLUTION, progress=False)
    brain.generate_brain_dataset(target, n_subjects=1, resolution_mm=RESOLUTION, progress=False, overwrite=True)
    assert sorted(p.name for p in target.iterdir() if p.is_dir()) == ["Subject_1"]
    assert len(_rows(target / "manifest.csv")) == 1

    foreign = tmp_path / "my-thesis"
    foreign.mkdir()
    (foreign / "chapter1.tex").write_text("precious", encoding="utf-8")
    with pytest.raises(OutputExistsError, match="not written by pymia"):
        brain.generate_brain_dataset(foreign, n_subjects=1, resolution_mm=RESOLUTION, progress=False, overwrite=True)
    assert (foreign / "chapter1.tex").read_text(encoding="utf-8") == "precious"


@requires_nilearn
def test_failure_leaves_no_output_and_no_partial_folder(tmp_path, monkeypatch):
    calls = []

    def failing_simulation(template_, rng):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("simulated crash while generating subject 2")
        return real_simulation(template_, rng)

    real_simulation = brain.simulate_subject
    monkeypatch.setattr(brain, "simulate_subject", failing_simulation)
    with pytest.raises(RuntimeError, match="simulated crash"):
        brain.generate_brain_dataset(tmp_path / "data", n_subjects=3, resolution_mm=RESOLUTION, progress=False)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"n_subjects": 0}, "n_subjects"), ({"seed": -1}, "seed"), ({"n_subjects": 2.5}, "n_subjects")],
)
def test_invalid_arguments(tmp_path, kwargs, message):
    with pytest.raises(InvalidInputError, match=message):
        brain.generate_brain_dataset(tmp_path / "data", progress=False, **kwargs)


@requires_nilearn
@pytest.mark.parametrize(
    ("resolution", "message"), [(0.5, "finer than the 1 mm template"), (12.0, "too coarse"), ("two", "not a number")]
)
def test_resolution_out_of_range_is_rejected(tmp_path, resolution, message):
    with pytest.raises(InvalidInputError, match=message):
        brain.generate_brain_dataset(tmp_path / "data", resolution_mm=resolution, progress=False)
    assert list(tmp_path.iterdir()) == []


@requires_nilearn
def test_unwritable_output_location_is_a_clear_error(tmp_path, capsys):
    """A file where a parent folder should be (root ignores permission bits, so no chmod here)."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(InvalidInputError, match="cannot write the output folder"):
        brain.generate_brain_dataset(blocker / "data", n_subjects=1, resolution_mm=RESOLUTION, progress=False)
    assert cli.main(["-o", str(blocker / "data"), "--resolution", "4", "--no-progress"]) == 1
    assert "choose a writable location" in capsys.readouterr().err


@requires_nilearn
def test_template_grids():
    """2 mm averages 2×2×2 blocks of the 1 mm template (189 × 233 × 197 voxels, z, y, x)."""
    two = template.load_template(2.0)
    assert two.shape == (94, 116, 98)
    assert two.reference.GetSpacing() == (2.0, 2.0, 2.0)
    # Block centres: the first 2 mm voxel sits half a 1 mm voxel inside the template's first voxel.
    np.testing.assert_allclose(two.reference.GetOrigin(), (97.5, 133.5, -71.5))
    for array in (two.t1, two.gray_matter, two.white_matter):
        assert array.dtype == np.float32 and array.min() >= 0 and array.max() <= 1


@requires_nilearn
@pytest.mark.slow
def test_template_non_integer_grid_keeps_the_field_of_view():
    """2.5 mm is no whole block of 1 mm voxels: smoothing + linear resampling, same field of view."""
    odd = template.load_template(2.5)
    assert odd.shape == (75, 93, 78)  # floor(189 / 2.5), floor(233 / 2.5), floor(197 / 2.5)
    np.testing.assert_allclose(odd.reference.GetOrigin(), (97.25, 133.25, -71.25))  # first voxel centre
    assert odd.t1.max() > 0.5 and odd.gray_matter.max() > 0.5


def test_missing_nilearn_gives_a_clear_error(tmp_path, monkeypatch, capsys):
    real_find_spec = template.importlib.util.find_spec
    monkeypatch.setattr(
        template.importlib.util, "find_spec", lambda name, *a: None if name == "nilearn" else real_find_spec(name, *a)
    )
    with pytest.raises(MissingDependencyError, match=r"examples.*extra"):
        brain.generate_brain_dataset(tmp_path / "data", n_subjects=1, progress=False)
    assert not (tmp_path / "data").exists()
    assert cli.main(["-o", str(tmp_path / "data"), "--no-progress"]) == 1
    error = capsys.readouterr().err
    assert error.startswith("pymia-example-data: error:") and "nilearn" in error and "Traceback" not in error


def test_missing_template_files_give_a_clear_error(tmp_path, monkeypatch):
    fake_spec = type("Spec", (), {"submodule_search_locations": [str(tmp_path / "nilearn")]})()
    monkeypatch.setattr(template.importlib.util, "find_spec", lambda name, *a: fake_spec)
    with pytest.raises(template.MissingFileError, match="lacks the MNI152 template"):
        template.find_template_files()


@requires_nilearn
def test_cli_subprocess_writes_data_without_importing_nilearn(tmp_path, capsys):
    """The console script's module form; nilearn must not be imported (it takes seconds)."""
    output = tmp_path / "cli-data"
    code = (
        "import sys; from pymia.datasets.cli import main; "
        f"rc = main(['-o', {str(output)!r}, '--subjects', '1', '--resolution', '4', '--no-progress', '--seed', '3']); "
        "sys.exit(rc if 'nilearn' not in sys.modules else 99)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(output / "manifest.csv")
    assert (output / "Subject_1" / "Subject_1_MASK.nii.gz").is_file()

    assert cli.main(["-o", str(output), "--subjects", "1", "--resolution", "4", "--no-progress"]) == 1
    error = capsys.readouterr().err
    assert "exists and is not empty" in error and "Traceback" not in error


def test_cli_help_lists_the_options():
    result = subprocess.run(
        [sys.executable, "-m", "pymia.datasets", "--help"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0
    for option in ("--output", "--subjects", "--seed", "--resolution", "--overwrite", "--no-progress", "--predictions"):
        assert option in result.stdout


def test_package_exports_generators_lazily():
    import pymia.datasets
    from pymia.datasets import predictions

    assert pymia.datasets.generate_brain_dataset is brain.generate_brain_dataset
    assert pymia.datasets.generate_predictions is predictions.generate_predictions
    with pytest.raises(AttributeError, match="no attribute"):
        pymia.datasets.download_everything  # noqa: B018
