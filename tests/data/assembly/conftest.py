"""Fixtures of the assembly tests: a tiny one-dimensional-looking dataset written with h5py."""

from __future__ import annotations

import pathlib

import h5py
import numpy as np
import pytest

import pymia.data.definition as defs


@pytest.fixture
def line_dataset(tmp_path: pathlib.Path) -> pathlib.Path:
    """Two subjects of shape (1, 1, 10) and (1, 1, 6), one channel, values 0..9 and 100..105."""
    path = tmp_path / "line.h5"
    volumes = [
        np.arange(10, dtype=np.float32).reshape(1, 1, 10, 1),
        100 + np.arange(6, dtype=np.float32).reshape(1, 1, 6, 1),
    ]
    with h5py.File(path, "w") as file:
        for i, volume in enumerate(volumes):
            file.create_dataset(f"data/images/{i}", data=volume)
        file.create_dataset("meta/subjects", data=["A", "B"], dtype=h5py.string_dtype())
        file.create_dataset("meta/shapes/images_shapes", data=[v.shape for v in volumes])
        file.create_dataset("meta/image_props/shapes", data=[v.shape[:-1][::-1] for v in volumes])
        file.create_dataset("meta/image_props/spacing", data=[[1.0, 1.0, 1.0]] * 2)
        file.create_dataset("meta/image_props/origins", data=[[0.0, 0.0, 0.0]] * 2)
        file.create_dataset("meta/image_props/directions", data=[np.eye(3).ravel()] * 2)
        file.attrs[defs.ATTR_FORMAT_VERSION] = defs.FORMAT_VERSION
    return path
