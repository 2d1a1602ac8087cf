"""Tests of pymia.data.creation.writer: atomic writing, overwrite protection, writer registry."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from pymia.data.creation.writer import Hdf5Writer, get_writer
from pymia.data.indexexpression import IndexExpression
from pymia.data.storage.hdf5_writer import Hdf5Layout
from pymia.errors import InvalidInputError, MissingFileError, OutputExistsError, PymiaError


def _partials(folder):
    return [p.name for p in folder.iterdir() if ".partial-" in p.name]


def test_writes_to_temp_file_and_renames_on_close(tmp_path):
    target = tmp_path / "d.h5"
    with Hdf5Writer(target) as writer:
        writer.write("meta/subjects", ["a", "b"], dtype=str)
        writer.reserve("meta/shapes/images_shapes", (2, 4), np.int64)
        writer.fill("meta/shapes/images_shapes", [1, 2, 3, 4], 1)
        writer.reserve("meta/other", (2, 3), "str")
        writer.fill("meta/other", ["a", "b", "c"], IndexExpression(0))  # the pymia 0.3.4 form
        writer.write("data/images/0", np.ones((2, 3, 4, 1), np.float32))
        writer.write_attribute("pymia_format_version", 2)
        assert not target.exists() and len(_partials(tmp_path)) == 1
    assert target.exists() and not _partials(tmp_path)
    with h5py.File(target) as file:
        assert file["meta/subjects"].asstr()[:].tolist() == ["a", "b"]
        assert file["meta/shapes/images_shapes"][1].tolist() == [1, 2, 3, 4]
        assert file["meta/other"].asstr()[0].tolist() == ["a", "b", "c"]
        assert file.attrs["pymia_format_version"] == 2


def test_exception_discards_everything(tmp_path):
    target = tmp_path / "d.h5"
    with pytest.raises(RuntimeError), Hdf5Writer(target) as writer:
        writer.write("data/images/0", np.ones((2, 2, 2, 1)))
        raise RuntimeError("interrupted")
    assert not target.exists() and not _partials(tmp_path)


def test_existing_file_is_never_overwritten_without_overwrite(tmp_path):
    target = tmp_path / "d.h5"
    target.write_bytes(b"precious")
    with pytest.raises(OutputExistsError, match="exists; pass overwrite=True"):
        Hdf5Writer(target).open()
    assert target.read_bytes() == b"precious"
    with Hdf5Writer(target, overwrite=True) as writer:
        writer.write("meta/subjects", ["a"], dtype=str)
    assert h5py.is_hdf5(target)


def test_file_appearing_while_writing_is_kept(tmp_path):
    target = tmp_path / "d.h5"
    writer = Hdf5Writer(target)
    writer.open()
    target.write_bytes(b"someone else")
    with pytest.raises(OutputExistsError, match="created by someone else"):
        writer.close()
    assert target.read_bytes() == b"someone else" and not _partials(tmp_path)


def test_output_folder_problems(tmp_path):
    with pytest.raises(MissingFileError, match="does not exist; create it first"):
        Hdf5Writer(tmp_path / "missing" / "d.h5").open()
    with pytest.raises(OutputExistsError, match="is a folder"):
        Hdf5Writer(tmp_path).open()


def test_output_folder_not_writable(tmp_path, monkeypatch):
    """The suite may run as root, where chmod does not block writes, so the access check is simulated."""
    monkeypatch.setattr("pymia.data.creation.writer.os.access", lambda path, mode: False)
    with pytest.raises(MissingFileError, match="not writable"):
        Hdf5Writer(tmp_path / "d.h5").open()


def test_closed_writer_refuses_writes(tmp_path):
    with pytest.raises(PymiaError, match="not open"):
        Hdf5Writer(tmp_path / "d.h5").write("meta/x", [1])


def test_dropped_writer_leaves_no_partial_file(tmp_path):
    writer = Hdf5Writer(tmp_path / "d.h5")
    writer.open()
    del writer
    assert not _partials(tmp_path) and not (tmp_path / "d.h5").exists()


def test_layout_applies_to_voxel_data_only(tmp_path):
    target = tmp_path / "d.h5"
    with Hdf5Writer(target, layout=Hdf5Layout(chunks=(2, 2, 2), compression="gzip")) as writer:
        writer.write("data/images/0", np.ones((4, 4, 4, 1), np.float32))
        writer.write("data/numerical/0", np.ones((1, 2)))
    with h5py.File(target) as file:
        assert file["data/images/0"].chunks == (2, 2, 2, 1) and file["data/images/0"].compression == "gzip"
        assert file["data/numerical/0"].chunks is None
        assert "gzip" in file.attrs["data_layout"]


def test_get_writer_by_extension(tmp_path):
    assert isinstance(get_writer(tmp_path / "a.hdf5"), Hdf5Writer)
    assert get_writer(tmp_path / "a.H5", overwrite=True).overwrite
    with pytest.raises(InvalidInputError, match=r"no writer for file extension '\.nii'"):
        get_writer(tmp_path / "a.nii")


def test_a_writer_written_for_0_3_4_still_works(phantom_subjects):
    """A custom Writer with only the 0.3.4 methods (no write_attribute) runs the default callbacks."""
    from pymia.data.creation import Traverser, Writer, get_default_callbacks

    class MemoryWriter(Writer):
        def __init__(self):
            self.entries = {}

        def open(self):
            pass

        def close(self):
            pass

        def reserve(self, entry, shape, dtype=None):
            self.entries[entry] = np.empty(shape, dtype=object if dtype is str else dtype)

        def fill(self, entry, data, index=None):
            self.entries[entry][index] = data

        def write(self, entry, data, dtype=None):
            self.entries[entry] = np.asarray(data)

    with MemoryWriter() as writer:
        Traverser().traverse(phantom_subjects, callback=get_default_callbacks(writer), progress=False)
    assert writer.entries["data/images/1"].shape == (6, 7, 8, 2)
    assert writer.entries["meta/subjects"].tolist() == ["Subject_1", "Subject_2", "Subject_3"]
