"""The HDF5 reader and file manager: memory-map fast path, h5py fallback, padding, pickling, errors."""

from __future__ import annotations

import os
import pathlib
import pickle

import h5py
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pymia.data.indexexpression import IndexExpression
from pymia.data.storage import Hdf5FileManager, Hdf5Reader, get_reader, read_region
from pymia.errors import DatasetFormatError, InvalidInputError, MissingFileError
from pymia.testing.datasets import create_test_dataset


@pytest.fixture(scope="module")
def arrays_file(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    """One array stored contiguous, chunked, gzip-compressed, big-endian and unallocated."""
    path = tmp_path_factory.mktemp("arrays") / "arrays.h5"
    values = np.arange(7 * 8 * 9 * 2, dtype=np.float32).reshape(7, 8, 9, 2)
    with h5py.File(path, "w") as file:
        file.create_dataset("contiguous", data=values)
        file.create_dataset("chunked", data=values, chunks=(3, 3, 3, 2))
        file.create_dataset("gzip", data=values, chunks=(4, 4, 4, 2), compression="gzip")
        file.create_dataset("big_endian", data=values.astype(">f4"))
        file.create_dataset("unallocated", shape=(4, 4), dtype="f4", fillvalue=2.5)
        file.create_dataset("text", data=["a", "bc"], dtype=h5py.string_dtype())
    return path


def _reference(path: pathlib.Path, name: str) -> np.ndarray:
    with h5py.File(path, "r") as file:
        return file[name][()]


def test_contiguous_datasets_are_memory_mapped(arrays_file: pathlib.Path) -> None:
    files = Hdf5FileManager(arrays_file)
    assert isinstance(files.array("contiguous"), np.ndarray)
    assert isinstance(files.array("big_endian"), np.ndarray)
    for name in ("chunked", "gzip", "unallocated", "text"):
        assert isinstance(files.array(name), h5py.Dataset), name
    assert isinstance(Hdf5FileManager(arrays_file, use_mmap=False).array("contiguous"), h5py.Dataset)


@pytest.mark.parametrize("name", ["contiguous", "chunked", "gzip", "big_endian"])
def test_every_storage_reads_the_same_values(arrays_file: pathlib.Path, name: str) -> None:
    array = Hdf5FileManager(arrays_file).array(name)
    reference = _reference(arrays_file, name)
    for expression in [(3,), (slice(None), 4), (slice(None), slice(None), 8), (slice(1, 5), slice(2, 7), slice(0, 9))]:
        np.testing.assert_array_equal(np.asarray(array[expression]), reference[expression])


def test_unallocated_dataset_reads_its_fill_value(arrays_file: pathlib.Path) -> None:
    np.testing.assert_array_equal(Hdf5FileManager(arrays_file).array("unallocated")[1], [2.5] * 4)


@settings(max_examples=25, deadline=None)
@given(
    starts=st.tuples(st.integers(-4, 8), st.integers(-4, 9), st.integers(-4, 10)),
    sizes=st.tuples(st.integers(1, 12), st.integers(1, 12), st.integers(1, 12)),
    name=st.sampled_from(["contiguous", "gzip"]),
)
def test_read_region_equals_numpy_pad_reference(
    arrays_file: pathlib.Path, starts: tuple, sizes: tuple, name: str
) -> None:
    """Reference: np.pad the whole array with a margin, then slice the box shifted by the margin."""
    reference = _reference(arrays_file, name)
    margin = 16  # larger than any box overhang drawn below
    padded = np.pad(reference, [(margin, margin)] * 3 + [(0, 0)])
    box = [(s, s + n) for s, n in zip(starts, sizes)]
    expected = padded[tuple(slice(a + margin, b + margin) for a, b in box)]
    expression = IndexExpression(box, axis=(0, 1, 2))
    got = read_region(Hdf5FileManager(arrays_file).array(name), expression)
    np.testing.assert_array_equal(got, expected)


def test_read_region_squeezes_integer_axes_outside_the_volume(arrays_file: pathlib.Path) -> None:
    array = Hdf5FileManager(arrays_file).array("contiguous")
    assert read_region(array, IndexExpression(-1)).shape == (8, 9, 2)
    np.testing.assert_array_equal(read_region(array, IndexExpression(-1)), 0)
    np.testing.assert_array_equal(
        read_region(array, IndexExpression(2, axis=1)), _reference(arrays_file, "contiguous")[:, 2]
    )


def test_read_region_with_pad_function(arrays_file: pathlib.Path) -> None:
    reference = _reference(arrays_file, "contiguous")
    expression = IndexExpression([(-2, 3)], axis=(0,))
    got = read_region(
        Hdf5FileManager(arrays_file).array("contiguous"),
        expression,
        pad_fn=lambda inside, width: np.pad(inside, width, mode="edge"),
    )
    np.testing.assert_array_equal(got, np.pad(reference, [(2, 0), (0, 0), (0, 0), (0, 0)], mode="edge")[:5])


def test_file_manager_pickles_without_handles_and_reopens(arrays_file: pathlib.Path, tmp_path: pathlib.Path) -> None:
    # A copy: HDF5 refuses to open one file with different locking flags in one process.
    path = tmp_path / "copy.h5"
    path.write_bytes(arrays_file.read_bytes())
    expected = _reference(path, "contiguous")[0]
    files = Hdf5FileManager(path, locking=False)
    files.array("contiguous")
    assert files.is_open
    clone = pickle.loads(pickle.dumps(files))
    assert not clone.is_open and clone.locking is False
    np.testing.assert_array_equal(clone.array("contiguous")[0], expected)
    files.close()
    clone.close()
    assert not files.is_open and not clone.is_open


def test_file_manager_reopens_when_the_process_id_changes(arrays_file: pathlib.Path) -> None:
    """Simulates a fork: the recorded PID differs from os.getpid(), so the handles are replaced."""
    files = Hdf5FileManager(arrays_file)
    first = files.file
    files._pid = os.getpid() + 1
    assert files.file is not first
    assert files._pid == os.getpid()


def test_file_manager_caches_dataset_objects(arrays_file: pathlib.Path) -> None:
    files = Hdf5FileManager(arrays_file)
    assert files.dataset("chunked") is files.dataset("chunked")


def test_errors_name_the_problem(arrays_file: pathlib.Path, tmp_path: pathlib.Path) -> None:
    with pytest.raises(MissingFileError, match="does not exist"):
        _ = Hdf5FileManager(tmp_path / "nothing.h5").file
    with pytest.raises(DatasetFormatError, match="has no entry 'missing'"):
        Hdf5FileManager(arrays_file).dataset("missing")
    not_hdf5 = tmp_path / "text.h5"
    not_hdf5.write_text("hello")
    with pytest.raises(DatasetFormatError, match="cannot be opened as an HDF5 file"):
        _ = Hdf5FileManager(not_hdf5).file
    with pytest.raises(InvalidInputError, match=r"unknown dataset file extension '.nii'"):
        get_reader(tmp_path / "x.nii")


def test_reader_metadata_of_a_created_dataset(tmp_path: pathlib.Path) -> None:
    path = create_test_dataset(tmp_path / "ds.h5", n_subjects=2, shape=(5, 6, 7))
    reader = Hdf5Reader(path)
    assert reader.format_version == 2 and not reader.is_meta_only
    assert reader.n_subjects == 2
    assert set(reader.categories()) == {"images", "labels", "mask", "numerical", "sex"}
    assert reader.is_image_category("labels") and not reader.is_image_category("numerical")
    assert reader.shapes("images").tolist() == [[5, 6, 7, 2]] * 2
    properties = reader.image_properties(1)
    assert properties.size == (7, 6, 5)
    with pytest.raises(InvalidInputError, match="subject index 2 is out of range for a dataset of 2 subjects"):
        reader.data("images", 2)
    np.testing.assert_array_equal(reader.read_box("images", 1, None), _reference(path, "data/images/1"))


def test_reader_on_chunked_compressed_dataset(tmp_path: pathlib.Path) -> None:
    from pymia.data.storage import Hdf5Layout

    path = create_test_dataset(
        tmp_path / "gz.h5", n_subjects=1, shape=(5, 6, 7), layout=Hdf5Layout(chunks="auto", compression="gzip")
    )
    reader = Hdf5Reader(path)
    assert isinstance(reader.data("images", 0), h5py.Dataset)
    np.testing.assert_array_equal(
        reader.read_box("images", 0, IndexExpression(2, axis=2)), _reference(path, "data/images/0")[:, :, 2]
    )


@pytest.mark.parametrize("use_mmap", [True, False])
def test_open_datasets_are_bounded(tmp_path: pathlib.Path, use_mmap: bool) -> None:
    """Datasets of many subjects must not keep every h5py.Dataset (and its chunk cache) open.

    Memory-mapped views hold no HDF5 handle and cost a few hundred bytes: they are all kept, so
    revisiting a subject of a large dataset costs no HDF5 lookup.
    """
    path = create_test_dataset(tmp_path / "ds.h5", n_subjects=3, shape=(4, 5, 6))
    reader = Hdf5Reader(path, use_mmap=use_mmap)
    reader.files.max_open_datasets = 2
    for subject in range(3):
        for category in ("images", "labels"):
            reader.read_box(category, subject, IndexExpression(1))
    assert len(reader.files._datasets) <= 2
    if use_mmap:
        assert not any(name.startswith("data/") for name in reader.files._datasets)
        assert len(reader._data_cache) == 6
    else:
        assert len(reader._data_cache) <= 2 and len(reader.files._arrays) == 0
    np.testing.assert_array_equal(reader.read_box("images", 0, None), _reference(path, "data/images/0"))


def test_offset_table_maps_subjects_without_opening_their_datasets(tmp_path: pathlib.Path) -> None:
    path = create_test_dataset(tmp_path / "ds.h5", n_subjects=4, shape=(4, 5, 6))
    with h5py.File(path, "r") as file:
        offsets = file["meta/storage/images_offsets"][()]
        assert offsets.dtype == np.int64 and len(offsets) == 4 and (offsets > 0).all()
        assert file["meta/storage/images_offsets"].attrs["dtype"] == file["data/images/0"].dtype.str
    reader = Hdf5Reader(path)
    for subject in range(4):
        expected = _reference(path, f"data/images/{subject}")
        np.testing.assert_array_equal(reader.read_box("images", subject, None), expected)
    assert reader._offset_table("images") is not None
    assert not reader.files._arrays and not any(name.startswith("data/") for name in reader.files._datasets)


def test_no_offset_table_for_chunked_voxels(tmp_path: pathlib.Path) -> None:
    """Chunked image data has no file offsets: the writer leaves its table out, the reader uses h5py."""
    from pymia.data.storage.hdf5_writer import Hdf5Layout

    path = create_test_dataset(tmp_path / "ds.h5", n_subjects=2, shape=(4, 5, 6), layout=Hdf5Layout(chunks="auto"))
    with h5py.File(path, "r") as file:
        assert "images_offsets" not in file.get("meta/storage", {})
    reader = Hdf5Reader(path)
    assert reader._offset_table("images") is None
    np.testing.assert_array_equal(reader.read_box("images", 1, None), _reference(path, "data/images/1"))


@pytest.mark.parametrize("damage", ["wrong offsets", "repacked"])
def test_a_stale_offset_table_is_ignored(tmp_path: pathlib.Path, damage: str) -> None:
    """A table that no longer matches the data (edited, or the file rewritten by another tool) is not used."""
    path = create_test_dataset(tmp_path / "ds.h5", n_subjects=3, shape=(4, 5, 6))
    if damage == "wrong offsets":
        with h5py.File(path, "r+") as file:
            file["meta/storage/images_offsets"][...] = file["meta/storage/images_offsets"][()] + 8
    else:  # like h5repack: every object copied into a new file, where the data lands elsewhere
        copy = tmp_path / "copy.h5"
        with h5py.File(path, "r") as source, h5py.File(copy, "w") as target:
            target.create_dataset("padding", data=np.arange(1000))  # shifts everything written after it
            for key in source:
                source.copy(source[key], target, name=key)
            for name, value in source.attrs.items():
                target.attrs[name] = value
        path = copy
    reader = Hdf5Reader(path)
    assert reader._offset_table("images") is None
    for subject in range(3):
        expected = _reference(path, f"data/images/{subject}")
        np.testing.assert_array_equal(reader.read_box("images", subject, None), expected)


def test_arrays_stay_valid_after_the_reader_is_closed(arrays_file: pathlib.Path) -> None:
    """Memory-mapped arrays outlive ``close()``: using them afterwards must not crash the process.

    Run in a subprocess because the failure mode is a segmentation fault (reported while writing the
    training scripts: a map closed under live views).
    """
    import subprocess
    import sys

    code = (
        "import numpy as np\n"
        "from pymia.data.storage import Hdf5FileManager\n"
        f"manager = Hdf5FileManager({str(arrays_file)!r})\n"
        "array = manager.array('contiguous')\n"
        "view = array[1:3]\n"
        "manager.close()\n"
        "import gc; gc.collect()\n"
        "print(float(np.asarray(view).sum()), float(np.asarray(array).sum()))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    expected = np.arange(7 * 8 * 9 * 2, dtype=np.float32).reshape(7, 8, 9, 2)
    view_sum, array_sum = (float(v) for v in result.stdout.split())
    assert view_sum == float(expected[1:3].sum())
    assert array_sum == float(expected.sum())
