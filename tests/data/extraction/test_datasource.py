"""PymiaDatasource: the contract H7/H8 rely on, index arithmetic, pickling, subsets, batched reads."""

from __future__ import annotations

import pathlib
import pickle

import h5py
import numpy as np
import pytest

import pymia.data.definition as defs
import pymia.data.extraction as extr
from pymia.errors import InvalidInputError


def _volume(path: pathlib.Path, category: str, subject: int) -> np.ndarray:
    with h5py.File(path, "r") as file:
        return file[f"data/{category}/{subject}"][()]


def test_contract_slices_of_images_and_labels(dataset_3d: pathlib.Path) -> None:
    """The contract of the common brief: len, dict with images (Y, X, C) float32, labels, sample_index."""
    ds = extr.PymiaDatasource(dataset_3d, extr.SliceIndexing(), extr.DataExtractor(categories=("images", "labels")))
    assert len(ds) == 3 * 12
    sample = ds[13]
    assert sample["images"].shape == (14, 16, 2) and sample["images"].dtype == np.float32
    assert sample["labels"].shape == (14, 16, 1) and sample["labels"].dtype == np.uint8
    assert sample["sample_index"] == 13
    np.testing.assert_array_equal(sample["images"], _volume(dataset_3d, "images", 1)[1])
    np.testing.assert_array_equal(sample["labels"], _volume(dataset_3d, "labels", 1)[1])
    batch = ds.__getitems__([35, 0, 13])
    assert [s["sample_index"] for s in batch] == [35, 0, 13]
    np.testing.assert_array_equal(batch[2]["images"], sample["images"])
    clone = pickle.loads(pickle.dumps(ds))
    np.testing.assert_array_equal(clone[13]["images"], sample["images"])


def test_samples_own_their_memory(dataset_3d: pathlib.Path) -> None:
    """Samples are writable arrays of their own, not views into the memory-mapped file."""
    ds = extr.PymiaDatasource(dataset_3d, extr.SliceIndexing())
    sample = ds[0]["images"]
    assert sample.flags.owndata and sample.flags.writeable
    sample[...] = -1
    assert not np.all(ds[0]["images"] == -1)


def test_sample_location_and_indices(dataset_3d: pathlib.Path) -> None:
    ds = extr.PymiaDatasource(dataset_3d, extr.SliceIndexing(2))
    subject, expr = ds.sample_location(16 + 3)
    assert subject == 1 and expr == extr.SliceIndexing(2)((12, 14, 16))[3]
    assert expr.expression == (slice(None), slice(None), 3)
    assert ds.indices[19] == (subject, expr)
    assert len(ds.indices) == len(ds)
    assert list(ds.samples_of_subject(2)) == list(range(32, 48))


def test_negative_and_out_of_range_indices(dataset_3d: pathlib.Path) -> None:
    ds = extr.PymiaDatasource(dataset_3d, extr.EmptyIndexing())
    assert ds[-1]["sample_index"] == 2
    with pytest.raises(IndexError, match="sample index 3 is out of range for a datasource of 3 samples"):
        ds[3]


def test_subject_subset_and_set_indexing_strategy(dataset_3d: pathlib.Path) -> None:
    ds = extr.PymiaDatasource(dataset_3d, extr.SliceIndexing(), subject_subset=[2, 0])
    assert len(ds) == 24
    assert ds.sample_location(0)[0] == 2 and ds.sample_location(12)[0] == 0
    ds.set_indexing_strategy(extr.EmptyIndexing(), subject_subset=[1])
    assert len(ds) == 1 and ds.sample_location(0)[0] == 1
    with pytest.raises(InvalidInputError, match=r"indices \[7\] outside the 3 subjects"):
        len(extr.PymiaDatasource(dataset_3d, subject_subset=[7]))


def test_default_extractor_reads_whole_images(dataset_3d: pathlib.Path) -> None:
    ds = extr.PymiaDatasource(dataset_3d)
    np.testing.assert_array_equal(ds[1]["images"], _volume(dataset_3d, "images", 1))


def test_transform_is_applied_and_can_be_replaced(dataset_3d: pathlib.Path) -> None:
    def add_flag(sample: dict) -> dict:
        sample["flag"] = True
        return sample

    ds = extr.PymiaDatasource(dataset_3d, extr.SliceIndexing(), transform=add_flag)
    assert ds[0]["flag"] is True
    ds.set_transform(None)
    assert "flag" not in ds[0]


def test_direct_extract_outside_the_index(dataset_3d: pathlib.Path) -> None:
    ds = extr.PymiaDatasource(dataset_3d, extr.SliceIndexing())
    shape = ds.direct_extract(extr.ImagePropertyShapeExtractor(), 0)
    assert shape == {defs.KEY_SHAPE: (12, 14, 16)}


def test_non_image_categories_are_read_whole(dataset_3d: pathlib.Path) -> None:
    ds = extr.PymiaDatasource(dataset_3d, extr.SliceIndexing(), extr.DataExtractor(("numerical", "sex")))
    sample = ds[5]
    assert sample["numerical"].shape == (1, 2) and sample["numerical"].dtype == np.float64
    assert sample["sex"].shape == (1, 1) and isinstance(sample["sex"][0, 0], str)


def test_init_reader_once_false_closes_after_each_sample(dataset_3d: pathlib.Path) -> None:
    ds = extr.PymiaDatasource(dataset_3d, extr.SliceIndexing(), init_reader_once=False)
    first = ds[3]["images"]
    assert not ds.reader.files.is_open
    np.testing.assert_array_equal(ds[3]["images"], first)


def test_close_reader_and_reopen(dataset_3d: pathlib.Path) -> None:
    ds = extr.PymiaDatasource(dataset_3d, extr.SliceIndexing())
    ds[0]
    ds.close_reader()
    assert not ds.reader.files.is_open
    assert ds[1]["images"].shape == (14, 16, 2)


def test_get_subjects(dataset_3d: pathlib.Path) -> None:
    ds = extr.PymiaDatasource(dataset_3d, subject_subset=[1])
    assert ds.get_subjects() == ["Subject_1", "Subject_2", "Subject_3"]


def test_2d_dataset_samples(dataset_2d: pathlib.Path) -> None:
    ds = extr.PymiaDatasource(dataset_2d, extr.SliceIndexing(0), extr.DataExtractor(("images", "labels")))
    assert len(ds) == 2 * 14
    assert ds[0]["images"].shape == (16, 2)
    ds.set_indexing_strategy(extr.PatchWiseIndexing((8, 8), pad=True, overlap=0.5))
    assert ds[0]["images"].shape == (8, 8, 2)


def test_index_of_many_subjects_is_small(tmp_path: pathlib.Path) -> None:
    """A 2,000-subject dataset (unallocated data) is indexed from meta/shapes in one vectorised pass."""
    n = 2000
    path = tmp_path / "many.h5"
    with h5py.File(path, "w") as file:
        file.create_dataset("meta/subjects", data=[f"S{i}" for i in range(n)], dtype=h5py.string_dtype())
        file.create_dataset("meta/shapes/images_shapes", data=np.tile([[32, 32, 32, 1]], (n, 1)))
        for i in range(n):
            file.create_dataset(f"data/images/{defs.subject_key(i, n)}", shape=(32, 32, 32, 1), dtype="f4")
    ds = extr.PymiaDatasource(path, extr.SliceIndexing((0, 1, 2)))
    assert len(ds) == n * 96
    assert ds.sample_index.ends.nbytes == n * 8
    assert ds.sample_location(len(ds) - 1)[0] == n - 1
    assert ds[len(ds) - 1]["images"].shape == (32, 32, 1)  # unallocated: h5py fill value through the fallback


@pytest.mark.parametrize("axis", [0, 2])
def test_batched_reads_of_chunked_data_equal_single_reads(tmp_path: pathlib.Path, axis: int) -> None:
    """__getitems__ reads runs of neighbouring slices of chunked data as one block: same samples, same order."""
    from pymia.data.storage import Hdf5Layout
    from pymia.testing.datasets import create_test_dataset

    path = create_test_dataset(
        tmp_path / "gz.h5", n_subjects=2, shape=(6, 7, 8), layout=Hdf5Layout(chunks=(3, 3, 3), compression="gzip")
    )
    calls = []

    def transform(sample: dict) -> dict:
        calls.append(1)
        return sample

    ds = extr.PymiaDatasource(path, extr.SliceIndexing(axis), extr.DataExtractor(("images", "labels", "numerical")))
    ds.set_transform(transform)
    indices = [3, 1, 2, 0, 9, 10, 5, len(ds) - 1]
    reads = []
    read_box = ds.reader.read_box
    ds.reader.read_box = lambda category, *args, **kwargs: reads.append(category) or read_box(category, *args, **kwargs)
    batch = ds.__getitems__(indices)
    assert reads.count("images") < len(indices)  # runs 0..3 and 9..10 were read as blocks
    del ds.reader.read_box
    assert len(calls) == len(indices)
    for index, sample in zip(indices, batch):
        single = ds[index]
        assert sample["sample_index"] == index
        assert sample.keys() == single.keys()
        for key in ("images", "labels", "numerical"):
            np.testing.assert_array_equal(sample[key], single[key])
            assert sample[key].flags.c_contiguous and sample[key].dtype == single[key].dtype
