"""Smoke tests of examples/extraction_assembly: each runs on a tiny dataset and checks its own result.

Every example raises if its assembled output differs from processing the whole volume at once, so a
zero exit status is a real check.
"""

from __future__ import annotations

import pathlib
import sys

import pytest

from pymia.testing.datasets import create_test_dataset

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "examples" / "extraction_assembly"))
import patches_padded
import slice_wise
import two_and_a_half_d


@pytest.fixture(scope="module")
def tiny_dataset(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    return create_test_dataset(tmp_path_factory.mktemp("examples") / "tiny.h5", n_subjects=2, shape=(9, 10, 11))


def test_slice_wise_example(tiny_dataset: pathlib.Path, tmp_path: pathlib.Path) -> None:
    assert slice_wise.main(["--dataset", str(tiny_dataset), "--out", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.glob("*.nii.gz")) == [
        "Subject_1_segmentation.nii.gz",
        "Subject_2_segmentation.nii.gz",
    ]


def test_patches_padded_example(tiny_dataset: pathlib.Path) -> None:
    assert patches_padded.main(["--dataset", str(tiny_dataset), "--patch", "6"]) == 0


def test_two_and_a_half_d_example(tiny_dataset: pathlib.Path) -> None:
    assert two_and_a_half_d.main(["--dataset", str(tiny_dataset)]) == 0
