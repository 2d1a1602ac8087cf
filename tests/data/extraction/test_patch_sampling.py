"""Random patch samplers: deterministic per (seed, epoch, subject, sample), inside the volume, balanced."""

from __future__ import annotations

import pathlib

import h5py
import numpy as np
import pytest

import pymia.data.extraction as extr
from pymia.errors import InvalidInputError


def test_uniform_sampling_is_reproducible_and_changes_with_the_epoch(dataset_3d: pathlib.Path) -> None:
    sampler = extr.UniformPatchSampling((4, 5, 6), samples_per_subject=4, seed=7)
    ds = extr.PymiaDatasource(dataset_3d, sampler, extr.DataExtractor(("images",)))
    assert len(ds) == 12
    first = [ds.sample_location(i)[1] for i in range(12)]
    assert first == [ds.sample_location(i)[1] for i in range(12)]
    ds.set_epoch(1)
    assert first != [ds.sample_location(i)[1] for i in range(12)]
    for _, expr in (ds.sample_location(i) for i in range(12)):
        assert expr.is_inside((12, 14, 16))
    assert ds[3]["images"].shape == (4, 5, 6, 2)


def test_uniform_patch_larger_than_volume_is_centred_and_padded(dataset_3d: pathlib.Path) -> None:
    ds = extr.PymiaDatasource(dataset_3d, extr.UniformPatchSampling((16, 14, 16), seed=0))
    subject, expr = ds.sample_location(0)
    assert expr.box((12, 14, 16)) == ((-2, 14), (0, 14), (0, 16))
    with h5py.File(dataset_3d) as file:
        volume = file[f"data/images/{subject}"][()]
    np.testing.assert_array_equal(ds[0]["images"][2:14], volume)


def test_label_balanced_sampling_follows_the_ratios(dataset_3d: pathlib.Path) -> None:
    """With ratios {0: 0, 3: 1} every patch centre lies on label 3 (checked on the stored labels)."""
    sampler = extr.LabelBalancedPatchSampling((3, 3, 3), samples_per_subject=20, label_ratios={0: 0.0, 3: 1.0})
    ds = extr.PymiaDatasource(dataset_3d, sampler, extr.DataExtractor(("labels",)))
    for i in range(0, len(ds), 5):
        sample = ds[i]
        assert sample["labels"][1, 1, 1, 0] == 3 or np.any(sample["labels"] == 3)


def test_label_balanced_equal_classes_visits_every_class(dataset_3d: pathlib.Path) -> None:
    sampler = extr.LabelBalancedPatchSampling((1, 1, 1), samples_per_subject=200, seed=2)
    ds = extr.PymiaDatasource(dataset_3d, sampler, extr.DataExtractor(("labels",)), subject_subset=[0])
    centres = np.array([int(ds[i]["labels"][0, 0, 0, 0]) for i in range(len(ds))])
    counts = np.bincount(centres, minlength=4)
    assert np.all(counts > 25)  # 4 classes, 200 draws: about 50 each (binomial sd ≈ 6)


def test_label_balanced_without_requested_classes_is_an_error(dataset_3d: pathlib.Path) -> None:
    ds = extr.PymiaDatasource(dataset_3d, extr.LabelBalancedPatchSampling((2, 2, 2), label_ratios={9: 1.0}))
    with pytest.raises(InvalidInputError, match=r"has none of the classes in label_ratios \{9: 1.0\}"):
        ds.sample_location(0)


def test_weighted_sampling_centres_on_the_only_positive_voxel(dataset_3d: pathlib.Path) -> None:
    """A probability map with one positive voxel: every patch is centred on it (masks are stored as 'mask')."""
    with h5py.File(dataset_3d) as file:
        mask = file["data/mask/1"][()]
    sampler = extr.WeightedPatchSampling((3, 3, 3), samples_per_subject=5, probability_category="mask")
    ds = extr.PymiaDatasource(dataset_3d, sampler, subject_subset=[1])
    for i in range(5):
        _, expr = ds.sample_location(i)
        (z0, z1), (y0, y1), (x0, x1) = expr.box((12, 14, 16))
        assert mask[z0:z1, y0:y1, x0:x1].any()


def test_samplers_reject_bad_options() -> None:
    with pytest.raises(InvalidInputError, match="samples_per_subject must be at least 1"):
        extr.UniformPatchSampling((2, 2), samples_per_subject=0)
    with pytest.raises(InvalidInputError, match="label_ratios must be non-negative"):
        extr.LabelBalancedPatchSampling((2, 2), label_ratios=[0.0, 0.0])
