"""Selection strategies and select_indices (one batched pass)."""

from __future__ import annotations

import pathlib

import numpy as np

import pymia.data.extraction as extr


def _sample(images: np.ndarray, labels: np.ndarray | None = None, **extra: object) -> dict:
    sample = {"images": images, **extra}
    if labels is not None:
        sample["labels"] = labels
    return sample


def test_non_constant_selection() -> None:
    assert not extr.NonConstantSelection()(_sample(np.full((3, 3, 2), 4.0)))
    varied = np.zeros((3, 3, 2))
    varied[1, 1, 1] = 1
    assert extr.NonConstantSelection()(_sample(varied))
    assert extr.NonConstantSelection(loop_axis=-1)(_sample(varied))
    channels_constant = np.stack([np.zeros((3, 3)), np.ones((3, 3))], axis=-1)
    assert extr.NonConstantSelection()(_sample(channels_constant))
    assert not extr.NonConstantSelection(loop_axis=-1)(_sample(channels_constant))


def test_non_black_and_percentile_selection() -> None:
    assert not extr.NonBlackSelection()(_sample(np.zeros((2, 2))))
    assert extr.NonBlackSelection(black_value=0.5)(_sample(np.array([0.0, 0.6])))
    assert extr.PercentileSelection(50)(_sample(np.ones(4)))
    assert not extr.PercentileSelection(50)(_sample(np.arange(4.0)))


def test_foreground_subject_and_compose_selection() -> None:
    sample = _sample(np.ones(2), np.array([0, 2]), subject="Subject_1", subject_index=0)
    assert extr.WithForegroundSelection()(sample)
    assert extr.SubjectSelection("Subject_1")(sample) and extr.SubjectSelection([0])(sample)
    assert not extr.SubjectSelection(["Subject_2", 3])(sample)
    assert not extr.ComposeSelection([extr.WithForegroundSelection(), extr.SubjectSelection(5)])(sample)


def test_select_indices_keeps_foreground_slices(dataset_3d: pathlib.Path) -> None:
    """Reference: the slices whose label slice (read with h5py) has any non-zero voxel."""
    import h5py

    ds = extr.PymiaDatasource(dataset_3d, extr.SliceIndexing(), extr.DataExtractor(("images", "labels")))
    kept = extr.select_indices(ds, extr.WithForegroundSelection(), batch_size=7)
    expected = []
    with h5py.File(dataset_3d) as file:
        for subject in range(3):
            labels = file[f"data/labels/{subject}"][()]
            expected += [subject * 12 + z for z in range(12) if labels[z].any()]
    assert kept == expected
    assert 0 < len(kept) < len(ds)
