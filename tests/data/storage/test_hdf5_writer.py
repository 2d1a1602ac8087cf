"""Tests of pymia.data.storage.hdf5_writer: layouts, chunk shapes, filters, and reading every layout back."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from pymia.data.storage.hdf5_writer import DEFAULT_LAYOUT, Hdf5Layout, create_array_dataset
from pymia.errors import InvalidInputError, MissingDependencyError


def test_default_layout_is_contiguous_and_memmap_readable(tmp_path, rng):
    array = rng.random((6, 7, 8, 2)).astype(np.float32)
    with h5py.File(tmp_path / "x.h5", "w", libver="latest") as file:
        dataset = create_array_dataset(file, "data/images/0", array)
        assert DEFAULT_LAYOUT.is_contiguous and dataset.chunks is None and dataset.compression is None
        offset = dataset.id.get_offset()
    # the fast path a reader may take: np.memmap at the dataset's byte offset equals h5py's read
    mapped = np.memmap(tmp_path / "x.h5", dtype=np.float32, mode="r", offset=offset, shape=array.shape)
    np.testing.assert_array_equal(mapped, array)


@pytest.mark.parametrize(
    ("layout", "expected_chunks"),
    [
        (Hdf5Layout(chunks="auto"), (6, 32, 32, 2)),
        (Hdf5Layout(chunks=(4, 8, 8)), (4, 8, 8, 2)),
        (Hdf5Layout(chunks=(16,)), (6, 40, 16, 2)),
        (Hdf5Layout(compression="gzip", compression_level=1), (6, 32, 32, 2)),
        (Hdf5Layout(chunks=(8, 8, 8), compression="lzf"), (6, 8, 8, 2)),
        (Hdf5Layout(chunks="auto", compression="blosc-lz4"), (6, 32, 32, 2)),
        (Hdf5Layout(chunks="auto", compression="blosc-zstd", compression_level=3, shuffle=False), (6, 32, 32, 2)),
    ],
)
def test_layouts_write_chunks_and_read_back_equal(tmp_path, rng, layout, expected_chunks):
    if layout.compression and layout.compression.startswith("blosc"):
        pytest.importorskip("hdf5plugin")  # a dev dependency; Blosc is optional for users
    array = (rng.random((6, 40, 50, 2)) * 1000).astype(np.float32)
    with h5py.File(tmp_path / "x.h5", "w") as file:
        dataset = create_array_dataset(file, "data/images/0", array, layout)
        assert dataset.chunks == expected_chunks
        np.testing.assert_array_equal(dataset[...], array)
        np.testing.assert_array_equal(dataset[:, 3, :, :], array[:, 3])


def test_chunks_for_two_d_arrays_use_the_last_values():
    assert Hdf5Layout(chunks=(4, 8, 8)).chunk_shape((20, 30, 1)) == (8, 8, 1)


def test_small_and_string_arrays_stay_contiguous(tmp_path):
    layout = Hdf5Layout(chunks="auto", compression="gzip")
    with h5py.File(tmp_path / "x.h5", "w") as file:
        assert create_array_dataset(file, "data/numerical/0", np.ones((1, 2)), layout).chunks is None
        strings = create_array_dataset(file, "data/sex/0", np.array([["F"]], dtype=object), layout)
        assert strings.asstr()[0, 0] == "F"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"chunks": "big"}, "chunks must be"),
        ({"chunks": (0, 4)}, "positive integers"),
        ({"compression": "zip"}, "unknown compression 'zip'"),
        ({"compression": "lzf", "compression_level": 3}, "lzf has no compression level"),
    ],
)
def test_invalid_layouts(kwargs, message):
    with pytest.raises(InvalidInputError, match=message):
        Hdf5Layout(**kwargs)


def test_describe_is_json():
    assert Hdf5Layout(chunks=(8, 8, 8), compression="gzip").describe() == (
        '{"chunks": [8, 8, 8], "compression": "gzip", "compression_level": null, "shuffle": true}'
    )


def test_blosc_without_hdf5plugin_names_the_package(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_hdf5plugin(name, *args, **kwargs):
        if name == "hdf5plugin":
            raise ImportError("No module named 'hdf5plugin'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_hdf5plugin)
    with pytest.raises(MissingDependencyError, match="pip install hdf5plugin"):
        Hdf5Layout(compression="blosc-lz4").filter_options()
