"""Datasets written by pymia 0.3.4 (uint16 shapes, no attributes, bytes strings) stay readable."""

from __future__ import annotations

import pathlib
import types

import numpy as np

import pymia.data.extraction as extr


def test_legacy_reader_metadata(legacy_dataset: pathlib.Path, legacy_layout: types.SimpleNamespace) -> None:
    reader = extr.get_reader(legacy_dataset)
    assert reader.format_version == 1
    assert reader.get_subjects() == [f"Subject_{i}" for i in range(legacy_layout.n_subjects)]
    assert reader.get_subject_entries()[10] == "data/images/10"
    assert reader.get_shape(3) == [*legacy_layout.shape, 2]
    assert reader.shapes("images").dtype == np.int64
    assert reader.names("numerical") == ["AGE", "GPA"]


def test_legacy_slices_labels_and_metadata(legacy_dataset: pathlib.Path, legacy_layout: types.SimpleNamespace) -> None:
    extractor = extr.ComposeExtractor(
        [
            extr.DataExtractor(("images", "labels", "numerical", "gender")),
            extr.SubjectExtractor(),
            extr.NamesExtractor(categories=("images",)),
            extr.FilesExtractor(categories=("images",)),
            extr.ImagePropertiesExtractor(),
        ]
    )
    ds = extr.PymiaDatasource(legacy_dataset, extr.SliceIndexing(), extractor)
    assert len(ds) == legacy_layout.n_subjects * legacy_layout.shape[0]
    sample = ds[10 * legacy_layout.shape[0] + 2]
    np.testing.assert_array_equal(sample["images"], legacy_layout.images(10)[2])
    np.testing.assert_array_equal(sample["labels"], legacy_layout.labels(10)[2])
    np.testing.assert_array_equal(sample["numerical"], [[30.0, 3.5]])
    assert sample["gender"].tolist() == ["M"]
    assert sample["subject"] == "Subject_10" and sample["subject_index"] == 10
    assert sample["images_names"] == ["T1", "T2"]
    assert sample["file_root"] == "/data/raw" and sample["images_files"] == ["Subject_10/T1.mha", "Subject_10/T2.mha"]
    properties = sample["properties"]
    assert properties.size == legacy_layout.shape[::-1] and properties.spacing == (1.0, 1.0, 1.2)
    assert properties.origin == (1.0, 2.0, 3.0)


def test_legacy_0_3_4_read_interface(legacy_dataset: pathlib.Path, legacy_layout: types.SimpleNamespace) -> None:
    reader = extr.Hdf5Reader(legacy_dataset)
    assert reader.read("meta/subjects", extr.SliceIndexing(0).expression((11,), 4)) == "Subject_4"
    assert reader.has("meta/names/images_names") and not reader.has("meta/hashes")
    with reader:
        np.testing.assert_array_equal(reader.read("data/images/03"), legacy_layout.images(3))
