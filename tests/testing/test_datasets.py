"""Tests of pymia.testing.datasets.create_test_dataset."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

import pymia.data.definition as defs
from pymia.data.storage.hdf5_writer import Hdf5Layout
from pymia.errors import InvalidInputError, OutputExistsError
from pymia.testing.datasets import TEST_DATASET_CATEGORIES, create_test_dataset
from pymia.testing.phantoms import oblique_direction


def test_default_3d_dataset(tmp_path):
    path = create_test_dataset(tmp_path / "t.h5")
    assert path == tmp_path / "t.h5" and (tmp_path / "t_raw" / "manifest.csv").exists()
    with h5py.File(path) as f:
        assert f["meta/subjects"].asstr()[:].tolist() == ["Subject_1", "Subject_2", "Subject_3"]
        for category, names in TEST_DATASET_CATEGORIES.items():
            assert tuple(f[defs.LOC_NAMES_PLACEHOLDER.format(category)].asstr()[:]) == names
        assert f["data/images/0"].shape == (12, 14, 16, 2) and f["data/images/0"].dtype == np.float32
        assert set(np.unique(f["data/labels/2"][...])) == {0, 1, 2, 3}
        np.testing.assert_allclose(f[defs.LOC_IMGPROP_SPACING][0], (1.0, 1.5, 2.0))  # ITK order


def test_two_d_oblique_meta_only_and_layout(tmp_path):
    direction = oblique_direction(2, 30.0)
    path = create_test_dataset(
        tmp_path / "t2.h5", n_subjects=2, two_d=True, direction=direction, layout=Hdf5Layout(chunks=(4, 4))
    )
    with h5py.File(path) as f:
        assert f["data/images/1"].shape == (14, 16, 2) and f["data/images/1"].chunks == (4, 4, 2)
        np.testing.assert_allclose(f[defs.LOC_IMGPROP_DIRECTION][0], direction, atol=1e-6)
    meta = create_test_dataset(tmp_path / "m.h5", meta_only=True, shape=(4, 5, 6))
    with h5py.File(meta) as f:
        assert f.attrs[defs.ATTR_META_ONLY] and "images" not in f["data"]


def test_same_seed_same_data_and_overwrite(tmp_path):
    a = create_test_dataset(tmp_path / "a.h5", seed=4)
    b = create_test_dataset(tmp_path / "b.h5", seed=4)
    with h5py.File(a) as fa, h5py.File(b) as fb:
        np.testing.assert_array_equal(fa["data/images/1"][...], fb["data/images/1"][...])
    with pytest.raises(OutputExistsError):
        create_test_dataset(a)
    create_test_dataset(a, overwrite=True, n_subjects=1)
    with pytest.raises(InvalidInputError, match="2 or 3 values"):
        create_test_dataset(tmp_path / "x.h5", shape=(4,))
