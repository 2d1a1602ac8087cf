"""Tests of pymia.data.creation.discovery: manifest and folder mode, key matching, early errors."""

from __future__ import annotations

import csv

import pytest

from pymia.data.creation.discovery import find_entry_file, subjects_from_folder, subjects_from_manifest
from pymia.errors import InvalidInputError, MissingFileError


def _touch(folder, *names):
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_bytes(b"")


@pytest.mark.parametrize(
    ("names", "subject", "key", "expected"),
    [
        (["Subject_1_T1.mha", "Subject_1_T1c.mha", "Subject_1_T2.mha"], "Subject_1", "T1", "Subject_1_T1.mha"),
        (["T1.nii.gz", "T1c.nii.gz"], "sub-01", "T1", "T1.nii.gz"),
        (["sub-01_T1w.nii.gz", "sub-01_T2w.nii.gz"], "sub-01", "T1w", "sub-01_T1w.nii.gz"),
        (["T1x_T2.mha", "T1x_T1.mha"], "T1x", "T1", "T1x_T1.mha"),
        (["case_flair_pre.nrrd", "case_flair.nrrd"], "case", "flair", "case_flair.nrrd"),
    ],
)
def test_key_matches_whole_tokens_only(tmp_path, names, subject, key, expected):
    _touch(tmp_path / subject, *names)
    assert find_entry_file(tmp_path / subject, subject, key).name == expected


def test_key_matches_a_dicom_folder(tmp_path):
    (tmp_path / "s1" / "CT").mkdir(parents=True)
    _touch(tmp_path / "s1", "s1_GT.nii.gz")
    assert find_entry_file(tmp_path / "s1", "s1", "CT").is_dir()


def test_key_errors(tmp_path):
    _touch(tmp_path / "s1", "s1_T1c.mha", "s1_T2.mha", "a_GT.mha", "b_GT.mha")
    with pytest.raises(MissingFileError, match=r"subject 's1' has no file for key 'T1'.*s1_T1c.mha"):
        find_entry_file(tmp_path / "s1", "s1", "T1")
    with pytest.raises(InvalidInputError, match="key 'GT' matches several files"):
        find_entry_file(tmp_path / "s1", "s1", "GT")


def test_folder_mode_with_demographics(phantom_folder):
    subjects = subjects_from_folder(
        phantom_folder,
        images=["T1", "T2"],
        labels=["GT"],
        mask="MASK",
        demographics=phantom_folder / "demographics.csv",
    )
    assert [s.subject for s in subjects] == ["Subject_1", "Subject_2", "Subject_3"]
    first = subjects[0]
    assert list(first.categories) == ["images", "labels", "mask", "numerical", "sex"]
    assert first.get_files("images")["T2"].endswith("Subject_1_T2.mha")
    assert list(first.get_files("numerical")) == ["age", "score"]  # numeric columns detected
    assert first.get_files("sex")["sex"].value in {"F", "M"}


def test_folder_mode_errors(tmp_path, phantom_folder):
    with pytest.raises(MissingFileError, match="does not exist"):
        subjects_from_folder(tmp_path / "nope", images=["T1"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(MissingFileError, match="has no subject folders"):
        subjects_from_folder(tmp_path / "empty", images=["T1"])
    with pytest.raises(InvalidInputError, match="no image keys"):
        subjects_from_folder(phantom_folder, images=[])
    with pytest.raises(InvalidInputError, match=r"keys \['T1'\] are given more than once"):
        subjects_from_folder(phantom_folder, images=["T1"], labels=["T1"])
    (phantom_folder / "Subject_2" / "Subject_2_T2.mha").unlink()
    with pytest.raises(MissingFileError, match="subject 'Subject_2' has no file for key 'T2'"):
        subjects_from_folder(phantom_folder, images=["T1", "T2"])
    (phantom_folder / "Subject_9").mkdir()
    with pytest.raises(InvalidInputError, match=r"no row for subjects \['Subject_9'\]"):
        subjects_from_folder(phantom_folder, images=["T1"], demographics=phantom_folder / "demographics.csv")


def test_manifest_mode(phantom_folder):
    subjects = subjects_from_manifest(
        phantom_folder / "manifest.csv", images=["T1"], labels=["GT"], numerical=["age"], categorical=["sex"]
    )
    assert len(subjects) == 3 and list(subjects[0].categories) == ["images", "labels", "numerical", "sex"]
    assert subjects[0].get_files("images")["T1"] == str(phantom_folder / "Subject_1" / "Subject_1_T1.mha")


def _write_manifest(path, rows):
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerows(rows)
    return path


def test_manifest_errors(phantom_folder, tmp_path):
    t1 = str(phantom_folder / "Subject_1" / "Subject_1_T1.mha")
    with pytest.raises(InvalidInputError, match="has no column 'T2x'"):
        subjects_from_manifest(phantom_folder / "manifest.csv", images=["T2x"])
    manifest = _write_manifest(tmp_path / "m.csv", [["subject", "T1", "age"], ["a", t1, "3"], ["b", "", "4"]])
    with pytest.raises(InvalidInputError, match="subject 'b' has no file for 'T1'"):
        subjects_from_manifest(manifest, images=["T1"])
    manifest = _write_manifest(
        tmp_path / "m.csv", [["subject", "T1", "age"], ["a", t1, "3"], ["b", "missing.mha", "4"]]
    )
    with pytest.raises(MissingFileError, match=r"file '.*missing.mha' of subject 'b', entry 'T1' does not exist"):
        subjects_from_manifest(manifest, images=["T1"])
    manifest = _write_manifest(tmp_path / "m.csv", [["subject", "T1", "age"], ["a", t1, "3"], ["a", t1, "4"]])
    with pytest.raises(InvalidInputError, match="duplicate subject id 'a'"):
        subjects_from_manifest(manifest, images=["T1"])
    manifest = _write_manifest(tmp_path / "m.csv", [["subject", "T1", "age"], ["a", t1, "old"]])
    with pytest.raises(
        InvalidInputError, match="subject 'a' has the non-numeric value 'old' in numerical column 'age'"
    ):
        subjects_from_manifest(manifest, images=["T1"], numerical=["age"])
    with pytest.raises(MissingFileError, match="does not exist"):
        subjects_from_manifest(tmp_path / "none.csv", images=["T1"])
