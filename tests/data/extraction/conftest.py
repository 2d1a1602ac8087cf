"""Fixtures of the extraction tests: datasets written by the creation API and in pymia 0.3.4's layout."""

from __future__ import annotations

import pathlib
import types

import h5py
import numpy as np
import pytest

from pymia.testing.datasets import create_test_dataset

LEGACY_SHAPE = (4, 5, 6)
LEGACY_SUBJECTS = 11  # two-digit subject keys '00'..'10', as 0.3.4 wrote them


def legacy_images(subject_index: int) -> np.ndarray:
    """Deterministic (Z, Y, X, 2) float32 images of a subject of the legacy dataset."""
    values = np.arange(np.prod(LEGACY_SHAPE) * 2, dtype=np.float32).reshape((*LEGACY_SHAPE, 2))
    return values + 1000 * subject_index


def legacy_labels(subject_index: int) -> np.ndarray:
    """Deterministic (Z, Y, X, 1) uint8 labels of a subject of the legacy dataset."""
    return ((legacy_images(subject_index)[..., :1] + subject_index) % 4).astype(np.uint8)


def write_legacy_dataset(path: pathlib.Path) -> pathlib.Path:
    """Write a dataset the way pymia 0.3.4 did (research note pymia-0.3.4.md §3).

    uint16 shapes, no root attributes, strings as h5py vlen ``str`` (read back as ``bytes``),
    3-D image properties, zero-padded subject keys, contiguous uncompressed data.
    """
    string = h5py.special_dtype(vlen=str)
    n = LEGACY_SUBJECTS
    width = len(str(n))
    with h5py.File(path, "w") as file:
        for i in range(n):
            key = str(i).zfill(width)
            file.create_dataset(f"data/images/{key}", data=legacy_images(i))
            file.create_dataset(f"data/labels/{key}", data=legacy_labels(i))
            file.create_dataset(f"data/numerical/{key}", data=np.array([[20.0 + i, 3.5]]))
            gender = np.array(["F" if i % 2 else "M"], dtype=object)
            file.create_dataset(f"data/gender/{key}", data=gender, dtype=string)
        subjects = np.array([f"Subject_{i}" for i in range(n)], dtype=object)
        file.create_dataset("meta/subjects", data=subjects, dtype=string)
        names = {"images": ["T1", "T2"], "labels": ["GT"], "numerical": ["AGE", "GPA"], "gender": ["GENDER"]}
        for category, entries in names.items():
            file.create_dataset(f"meta/names/{category}_names", data=np.array(entries, dtype=object), dtype=string)
        shape4 = np.array([[*LEGACY_SHAPE, 2]] * n, dtype=np.uint16)
        file.create_dataset("meta/shapes/images_shapes", data=shape4)
        file.create_dataset("meta/shapes/labels_shapes", data=np.array([[*LEGACY_SHAPE, 1]] * n, dtype=np.uint16))
        file.create_dataset("meta/shapes/numerical_shapes", data=np.array([[1, 2]] * n, dtype=np.uint16))
        file.create_dataset("meta/shapes/gender_shapes", data=np.array([[1]] * n, dtype=np.uint16))
        file.create_dataset("meta/image_props/shapes", data=np.array([LEGACY_SHAPE[::-1]] * n, dtype=np.uint16))
        file.create_dataset("meta/image_props/origins", data=np.array([[1.0, 2.0, 3.0]] * n))
        file.create_dataset("meta/image_props/spacing", data=np.array([[1.0, 1.0, 1.2]] * n))
        file.create_dataset("meta/image_props/directions", data=np.array([np.eye(3).ravel()] * n))
        file.create_dataset("meta/files/file_root", data="/data/raw", dtype=string)
        files = np.array([[f"Subject_{i}/T1.mha", f"Subject_{i}/T2.mha"] for i in range(n)], dtype=object)
        file.create_dataset("meta/files/images_files", data=files, dtype=string)
    return path


@pytest.fixture(scope="session")
def dataset_3d(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    """Three phantom subjects of (12, 14, 16) voxels, written by the creation API (contiguous)."""
    return create_test_dataset(tmp_path_factory.mktemp("ds3d") / "ds.h5", n_subjects=3)


@pytest.fixture(scope="session")
def dataset_2d(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    """Two phantom subjects of 2-D (14, 16) images."""
    return create_test_dataset(tmp_path_factory.mktemp("ds2d") / "ds.h5", n_subjects=2, shape=(14, 16), two_d=True)


@pytest.fixture(scope="session")
def legacy_dataset(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    """A dataset in pymia 0.3.4's layout (see :func:`write_legacy_dataset`)."""
    return write_legacy_dataset(tmp_path_factory.mktemp("legacy") / "legacy.h5")


@pytest.fixture(scope="session")
def legacy_layout() -> types.SimpleNamespace:
    """What :func:`write_legacy_dataset` writes: shape, number of subjects, images and labels per subject."""
    return types.SimpleNamespace(
        shape=LEGACY_SHAPE, n_subjects=LEGACY_SUBJECTS, images=legacy_images, labels=legacy_labels
    )
