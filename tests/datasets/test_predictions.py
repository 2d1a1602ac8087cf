"""Tests of the simulated predictions used in evaluation demos."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import SimpleITK as sitk

from pymia.datasets import predictions
from pymia.errors import InvalidInputError, MissingFileError, OutputExistsError
from pymia.testing import phantoms


def _dice(a: np.ndarray, b: np.ndarray) -> float:
    return 2.0 * np.count_nonzero(a & b) / (np.count_nonzero(a) + np.count_nonzero(b))


@pytest.fixture
def phantom_dir(tmp_path):
    phantoms.write_phantom_subjects(tmp_path / "examples", n_subjects=2, shape=(24, 28, 32), spacing=(1.5, 1.0, 1.0))
    return tmp_path / "examples"


def test_predictions_layout_geometry_and_quality(phantom_dir, tmp_path):
    table = predictions.generate_predictions(phantom_dir, tmp_path / "pred", seed=0, progress=False)
    with table.open(newline="", encoding="utf-8") as stream:
        rows = list(csv.DictReader(stream))
    assert [row["subject"] for row in rows] == ["Subject_1", "Subject_2"]
    for row in rows:
        assert row["prediction"] == f"predictions/{row['subject']}.nii.gz"
        assert row["reference"] == f"references/{row['subject']}.nii.gz"
        reference_image = sitk.ReadImage(str(table.parent / row["reference"]))
        prediction_image = sitk.ReadImage(str(table.parent / row["prediction"]))
        original = phantom_dir / row["subject"] / f"{row['subject']}_GT.nii.gz"
        assert (table.parent / row["reference"]).read_bytes() == original.read_bytes()
        assert prediction_image.GetSize() == reference_image.GetSize()
        np.testing.assert_allclose(prediction_image.GetSpacing(), reference_image.GetSpacing())
        np.testing.assert_allclose(prediction_image.GetOrigin(), reference_image.GetOrigin())
        np.testing.assert_allclose(prediction_image.GetDirection(), reference_image.GetDirection())
        reference = sitk.GetArrayFromImage(reference_image)
        predicted = sitk.GetArrayFromImage(prediction_image)
        assert predicted.dtype == reference.dtype
        assert set(np.unique(predicted)) <= set(np.unique(reference))
        # Imperfect, but a segmentation of the same structures: the inner (thick) label overlaps well.
        assert 0.6 < _dice(predicted == 1, reference == 1) < 0.995
        assert 0.6 < _dice(predicted > 0, reference > 0) < 0.995


def test_predictions_are_deterministic_and_need_overwrite(phantom_dir, tmp_path):
    first = predictions.generate_predictions(phantom_dir, tmp_path / "a", seed=5, progress=False)
    second = predictions.generate_predictions(phantom_dir, tmp_path / "b", seed=5, progress=False)
    name = "predictions/Subject_1.nii.gz"
    assert (first.parent / name).read_bytes() == (second.parent / name).read_bytes()
    with pytest.raises(OutputExistsError):
        predictions.generate_predictions(phantom_dir, tmp_path / "a", seed=6, progress=False)
    predictions.generate_predictions(phantom_dir, tmp_path / "a", seed=6, progress=False, overwrite=True)
    assert (first.parent / name).read_bytes() != (second.parent / name).read_bytes()


def test_perturb_labels_in_2d():
    labels = phantoms.nested_ellipsoids((40, 48), [(16.0, 20.0), (8.0, 10.0)]).labels
    image = phantoms.make_image(labels)
    predicted = predictions.perturb_labels(labels, image, np.random.default_rng(0))
    assert predicted.shape == labels.shape and 0.7 < _dice(predicted == 2, labels == 2) < 1.0


def test_missing_manifest_is_a_clear_error(tmp_path):
    with pytest.raises(MissingFileError, match=r"manifest\.csv"):
        predictions.generate_predictions(tmp_path, tmp_path / "pred", progress=False)


def test_write_references_copies_the_asked_subjects_flat(phantom_dir, tmp_path):
    """References are byte copies of each subject's GT, named <subject><suffix>, for pymia-evaluate."""
    with (phantom_dir / "manifest.csv").open(newline="") as stream:
        rows = list(csv.DictReader(stream))
    chosen = rows[-1]["subject"]
    written = predictions.write_references(phantom_dir, tmp_path / "refs", subjects=[chosen])
    assert [path.name.split(".")[0] for path in written] == [chosen]
    assert written[0].read_bytes() == (phantom_dir / rows[-1]["GT"]).read_bytes()
    everything = predictions.write_references(phantom_dir, tmp_path / "all")
    assert sorted(path.name.split(".")[0] for path in everything) == sorted(row["subject"] for row in rows)


def test_write_references_rejects_unknown_subjects(phantom_dir, tmp_path):
    with pytest.raises(InvalidInputError, match="Nobody"):
        predictions.write_references(phantom_dir, tmp_path / "refs", subjects=["Nobody"])
