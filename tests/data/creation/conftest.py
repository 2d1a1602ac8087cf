"""Fixtures of the creation tests: phantom subject folders on disk."""

from __future__ import annotations

import pathlib

import pytest

from pymia.data.creation.discovery import subjects_from_manifest
from pymia.data.subjectfile import SubjectFile
from pymia.testing.phantoms import write_phantom_subjects

SHAPE = (6, 7, 8)
SPACING = (2.0, 1.5, 1.0)


@pytest.fixture
def phantom_folder(tmp_path: pathlib.Path) -> pathlib.Path:
    """Three phantom subjects (T1, T2 .mha; GT, MASK .nii.gz; demographics and manifest CSV)."""
    folder = tmp_path / "raw"
    write_phantom_subjects(folder, 3, SHAPE, SPACING, seed=1)
    return folder


@pytest.fixture
def phantom_subjects(phantom_folder: pathlib.Path) -> list[SubjectFile]:
    """The phantom subjects as SubjectFile objects with images, labels, mask, numerical and sex."""
    return subjects_from_manifest(
        phantom_folder / "manifest.csv",
        images=["T1", "T2"],
        labels=["GT"],
        mask="MASK",
        numerical=["age", "score"],
        categorical=["sex"],
    )
