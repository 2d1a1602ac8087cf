"""Several worker processes read the same samples as the main process (lazy per-process file handles)."""

from __future__ import annotations

import multiprocessing
import pathlib
import pickle

import numpy as np
import pytest

import pymia.data.extraction as extr
from tests.conftest import requires_torch


def _read(args: tuple[bytes, list[int]]) -> list[np.ndarray]:
    datasource = pickle.loads(args[0])
    return [s["images"] for s in datasource.__getitems__(args[1])]


def test_fork_after_the_parent_read_gives_identical_samples(dataset_3d: pathlib.Path) -> None:
    """The parent opens the file first (the classic h5py-before-fork bug); forked children must reopen."""
    ds = extr.PymiaDatasource(dataset_3d, extr.PatchWiseIndexing((4, 4, 4), pad=True, overlap=0.5))
    expected = [ds[i]["images"] for i in range(len(ds))]
    assert ds.reader.files.is_open
    chunks = [list(range(i, len(ds), 2)) for i in range(2)]
    context = multiprocessing.get_context("fork")
    with context.Pool(2) as pool:
        results = pool.map(_read, [(pickle.dumps(ds), chunk) for chunk in chunks])
        forked = pool.apply(_fork_inherited_read, ())
    for chunk, arrays in zip(chunks, results):
        for index, array in zip(chunk, arrays):
            np.testing.assert_array_equal(array, expected[index])
    assert forked is None


_INHERITED: extr.PymiaDatasource | None = None


def _fork_inherited_read() -> None:
    return None if _INHERITED is None else _INHERITED[0]


def test_inherited_datasource_reopens_in_the_child(dataset_3d: pathlib.Path) -> None:
    """A datasource inherited through fork (not pickled) detects the new PID and opens its own handle."""
    global _INHERITED
    _INHERITED = extr.PymiaDatasource(dataset_3d, extr.SliceIndexing())
    parent = _INHERITED[7]["images"]
    parent_file = _INHERITED.reader.files.file
    context = multiprocessing.get_context("fork")
    with context.Pool(1) as pool:
        child = pool.apply(_child_sample)
    np.testing.assert_array_equal(child["images"], parent)
    assert child["reopened"]
    assert _INHERITED.reader.files.file is parent_file
    _INHERITED = None


def _child_sample() -> dict:
    assert _INHERITED is not None
    before = _INHERITED.reader.files._file
    images = _INHERITED[7]["images"]
    return {"images": images, "reopened": _INHERITED.reader.files._file is not before}


class _TorchDataset:
    """The thin wrapper the adapters use: map-style, with ``__getitems__``."""

    def __init__(self, datasource: extr.PymiaDatasource) -> None:
        self.datasource = datasource

    def __len__(self) -> int:
        return len(self.datasource)

    def __getitem__(self, index: int) -> dict:
        return self.datasource[index]

    def __getitems__(self, indices: list[int]) -> list[dict]:
        return self.datasource.__getitems__(indices)


@pytest.mark.slow  # starts torch worker processes: several seconds on a busy 2-core machine
@requires_torch
def test_torch_dataloader_two_workers_equals_zero_workers(dataset_3d: pathlib.Path) -> None:
    import torch.utils.data

    ds = extr.PymiaDatasource(dataset_3d, extr.SliceIndexing(), extr.DataExtractor(("images", "labels")))
    ds[0]  # open in the parent first, on purpose

    def collect(workers: int) -> tuple[np.ndarray, np.ndarray]:
        loader = torch.utils.data.DataLoader(_TorchDataset(ds), batch_size=5, num_workers=workers)
        images, indices = [], []
        for batch in loader:
            images.append(batch["images"].numpy())
            indices.append(batch["sample_index"].numpy())
        return np.concatenate(images), np.concatenate(indices)

    images0, indices0 = collect(0)
    images2, indices2 = collect(2)
    np.testing.assert_array_equal(indices0, np.arange(len(ds)))
    np.testing.assert_array_equal(indices2, indices0)
    np.testing.assert_array_equal(images2, images0)
