"""Tests of pymia.data.creation.verification.verify_source_files."""

from __future__ import annotations

import shutil

import pytest

from pymia.data.creation.pipeline import create_dataset
from pymia.data.creation.verification import verify_source_files
from pymia.errors import DatasetFormatError, MissingFileError


def test_unchanged_changed_missing_and_moved_files(phantom_subjects, phantom_folder, tmp_path):
    output = create_dataset(phantom_subjects, tmp_path / "d.h5", progress=False)
    assert verify_source_files(output) == []
    (phantom_folder / "Subject_2" / "Subject_2_GT.nii.gz").write_bytes(b"edited")
    (phantom_folder / "Subject_3" / "Subject_3_T1.mha").unlink()
    problems = verify_source_files(output)
    assert len(problems) == 2
    assert any(p.startswith("subject 'Subject_2', category 'labels'") and "GT.nii.gz' changed" in p for p in problems)
    assert any("Subject_3_T1.mha' is missing" in p for p in problems)
    moved = tmp_path / "moved"
    shutil.move(str(phantom_folder), moved)
    assert len(verify_source_files(output)) == 12  # T1, T2, GT, MASK of 3 subjects are gone from the old root
    assert len(verify_source_files(output, file_root=moved)) == 2


def test_datasets_without_hashes_or_paths(phantom_subjects, tmp_path):
    with pytest.raises(MissingFileError):
        verify_source_files(tmp_path / "none.h5")
    plain = create_dataset(phantom_subjects, tmp_path / "p.h5", hashes=False, progress=False)
    with pytest.raises(DatasetFormatError, match="stores no hashes"):
        verify_source_files(plain)
    anonymous = create_dataset(phantom_subjects, tmp_path / "a.h5", anonymize=True, progress=False)
    with pytest.raises(DatasetFormatError, match="no file paths"):
        verify_source_files(anonymous)
