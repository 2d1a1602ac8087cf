"""Extractors: one contract (they only add keys, never need a particular order) plus each one's values."""

from __future__ import annotations

import pathlib
import pickle

import h5py
import numpy as np
import pytest

import pymia.data.definition as defs
import pymia.data.extraction as extr
from pymia.data.indexexpression import IndexExpression
from pymia.errors import DatasetFormatError, InvalidInputError

ALL_EXTRACTORS = [
    extr.DataExtractor(("images", "labels")),
    extr.DataExtractor(("images",), ignore_indexing=True),
    extr.SelectiveDataExtractor("T2", category="images"),
    extr.RandomDataExtractor(category="images", seed=1),
    extr.PadDataExtractor([(1, 1), (2, 2), (0, 3)], extr.DataExtractor(("images",))),
    extr.FilesystemDataExtractor(("images",)),
    extr.SubjectExtractor(),
    extr.NamesExtractor(),
    extr.FilesExtractor(),
    extr.IndexingExtractor(),
    extr.ImagePropertiesExtractor(),
    extr.ImagePropertyShapeExtractor(),
]


def _volume(path: pathlib.Path, category: str, subject: int) -> np.ndarray:
    with h5py.File(path, "r") as file:
        return file[f"data/{category}/{subject}"][()]


@pytest.mark.parametrize("extractor", ALL_EXTRACTORS, ids=lambda e: type(e).__name__)
def test_extractor_contract(dataset_3d: pathlib.Path, extractor: extr.Extractor) -> None:
    """Every extractor adds keys to the dict, keeps existing unrelated keys, works on a patch, pickles."""
    ds = extr.PymiaDatasource(dataset_3d, extr.PatchWiseIndexing((4, 5, 6)), extractor)
    sample = ds.direct_extract(extractor, 1, ds.sample_location(9)[1])
    assert sample
    extracted = {"untouched": 1}
    extractor.extract(ds.reader, {defs.KEY_SUBJECT_INDEX: 1, defs.KEY_INDEX_EXPR: ds.sample_location(9)[1]}, extracted)
    assert extracted["untouched"] == 1
    clone = pickle.loads(pickle.dumps(extractor))
    again = ds.direct_extract(clone, 1, ds.sample_location(9)[1])
    assert again.keys() == sample.keys()


def test_selective_extractor_follows_selection_order(dataset_3d: pathlib.Path) -> None:
    """Issue #24 of 0.3.4: selected entries in the asked order, with their names, no NamesExtractor needed."""
    ds = extr.PymiaDatasource(dataset_3d, extr.SliceIndexing(), extr.SelectiveDataExtractor(("T2", "T1"), "images"))
    sample = ds[4]
    full = _volume(dataset_3d, "images", 0)[4]
    np.testing.assert_array_equal(sample["images"], full[..., ::-1])
    assert sample["images_names_selected"] == ["T2", "T1"]
    with pytest.raises(InvalidInputError, match=r"entries \['FLAIR'\] are not in category 'images'"):
        ds.direct_extract(extr.SelectiveDataExtractor("FLAIR", "images"), 0)


def test_random_extractor_picks_one_entry(dataset_3d: pathlib.Path) -> None:
    ds = extr.PymiaDatasource(dataset_3d, extr.SliceIndexing(), extr.RandomDataExtractor(category="images", seed=3))
    full = _volume(dataset_3d, "images", 0)[2]
    seen = set()
    for _ in range(20):
        sample = ds[2]
        name = sample["images_names_selected"][0]
        seen.add(name)
        np.testing.assert_array_equal(sample["images"][..., 0], full[..., ["T1", "T2"].index(name)])
    assert seen == {"T1", "T2"}


def test_pad_extractor_zero_pads_outside_and_unsqueezes_slices(dataset_3d: pathlib.Path) -> None:
    """Reference: numpy.pad of the whole volume, then the same window."""
    extractor = extr.PadDataExtractor([(2, 2), (1, 0), (0, 3)], extr.DataExtractor(("images",)))
    ds = extr.PymiaDatasource(dataset_3d, extr.SliceIndexing(), extractor)
    sample = ds[0]["images"]
    padded = np.pad(_volume(dataset_3d, "images", 0), ((2, 2), (1, 0), (0, 3), (0, 0)))
    assert sample.shape == (5, 15, 19, 2)
    np.testing.assert_array_equal(sample, padded[0:5])


def test_pad_extractor_with_numpy_mode(dataset_3d: pathlib.Path) -> None:
    extractor = extr.PadDataExtractor([2, 2, 2], extr.DataExtractor(("images",)), pad_mode="reflect")
    ds = extr.PymiaDatasource(dataset_3d, extr.PatchWiseIndexing((4, 4, 4)), extractor)
    subject, expr = ds.sample_location(0)
    padded = np.pad(_volume(dataset_3d, "images", subject), ((2, 2), (2, 2), (2, 2), (0, 0)), mode="reflect")
    np.testing.assert_array_equal(ds[0]["images"], padded[0:8, 0:8, 0:8])
    assert expr.box((12, 14, 16)) == ((0, 4), (0, 4), (0, 4))


def test_pad_extractor_validates(dataset_3d: pathlib.Path) -> None:
    with pytest.raises(InvalidInputError, match="needs an extractor with 'categories'"):
        extr.PadDataExtractor([1, 1, 1], extr.SubjectExtractor())
    with pytest.raises(InvalidInputError, match="pad_mode must be one of"):
        extr.PadDataExtractor([1, 1, 1], extr.DataExtractor(), pad_mode="mirror")
    ds = extr.PymiaDatasource(dataset_3d, extr.SliceIndexing(), extr.PadDataExtractor([1, 1], extr.DataExtractor()))
    with pytest.raises(InvalidInputError, match="padding has 2 axes but the volume has 3"):
        ds[0]


def test_filesystem_extractor_matches_the_dataset(dataset_3d: pathlib.Path) -> None:
    """The raw phantom files (kept beside the dataset) hold the same voxels as data/images."""
    ds = extr.PymiaDatasource(dataset_3d, extr.SliceIndexing(1), extr.FilesystemDataExtractor(("images", "labels")))
    sample = ds[14 + 3]
    np.testing.assert_allclose(sample["images"], _volume(dataset_3d, "images", 1)[:, 3])
    np.testing.assert_array_equal(sample["labels"], _volume(dataset_3d, "labels", 1)[:, 3])


def test_filesystem_extractor_missing_root(dataset_3d: pathlib.Path, tmp_path: pathlib.Path) -> None:
    ds = extr.PymiaDatasource(
        dataset_3d, extr.SliceIndexing(), extr.FilesystemDataExtractor(override_file_root=str(tmp_path))
    )
    with pytest.raises(FileNotFoundError, match="override_file_root"):
        ds[0]


def test_metadata_extractors(dataset_3d: pathlib.Path) -> None:
    extractor = extr.ComposeExtractor(
        [
            extr.SubjectExtractor(),
            extr.NamesExtractor(categories=("images", "labels", "numerical")),
            extr.FilesExtractor(categories=("labels",)),
            extr.IndexingExtractor(do_pickle=True),
            extr.ImagePropertiesExtractor(),
            extr.ImagePropertyShapeExtractor(numpy_format=False),
        ]
    )
    ds = extr.PymiaDatasource(dataset_3d, extr.SliceIndexing(), extractor)
    sample = ds[12 + 5]
    assert sample["subject"] == "Subject_2" and sample["subject_index"] == 1
    assert sample["images_names"] == ["T1", "T2"] and sample["numerical_names"] == ["age", "score"]
    assert sample["labels_files"][0].endswith(".nii.gz") and sample["file_root"]
    assert pickle.loads(sample["index_expr"]) == IndexExpression(5)
    assert sample["properties"].size == (16, 14, 12) and sample["properties"].spacing == (1.0, 1.5, 2.0)
    assert sample["properties"].components == 2
    assert sample["shape"] == (16, 14, 12)


def test_missing_category_names_what_exists(dataset_3d: pathlib.Path) -> None:
    ds = extr.PymiaDatasource(dataset_3d, extr.SliceIndexing(), extr.DataExtractor(("flair",)))
    with pytest.raises(DatasetFormatError, match=r"no 'data/flair/0'.*categories present"):
        ds[0]


def test_slab_and_tri_planar_samples(dataset_3d: pathlib.Path) -> None:
    volume = _volume(dataset_3d, "images", 0)
    ds = extr.PymiaDatasource(dataset_3d, extr.SlabIndexing(3, slice_axis=0))
    slab = ds[0]["images"]
    assert slab.shape == (14, 16, 6)
    np.testing.assert_array_equal(slab[..., :2], 0)  # slice -1 is outside: zero
    np.testing.assert_array_equal(slab[..., 2:4], volume[0])
    np.testing.assert_array_equal(slab[..., 4:6], volume[1])
    ds.set_indexing_strategy(extr.TriPlanarIndexing())
    sample = ds[5]["images"]
    z, y, x = ds.sample_location(5)[1].position
    assert sample.shape == (3, 14, 16, 2)  # common (max(Y, Z), max(X, Y))
    np.testing.assert_array_equal(sample[0], volume[z])
    np.testing.assert_array_equal(sample[1, 1:13], volume[:, y])  # 12 rows centred in 14
    np.testing.assert_array_equal(sample[2, 1:13, 1:15], volume[:, :, x])


def test_meta_only_dataset_reads_voxels_from_the_raw_files(tmp_path: pathlib.Path) -> None:
    """A meta-only dataset (no voxels stored) gives the same samples through FilesystemDataExtractor."""
    from pymia.testing.datasets import create_test_dataset

    full = create_test_dataset(tmp_path / "full.h5", n_subjects=2, shape=(5, 6, 7))
    meta = create_test_dataset(tmp_path / "meta.h5", n_subjects=2, shape=(5, 6, 7), meta_only=True)
    from_files = extr.PymiaDatasource(meta, extr.SliceIndexing(2), extr.FilesystemDataExtractor(("images", "labels")))
    stored = extr.PymiaDatasource(full, extr.SliceIndexing(2), extr.DataExtractor(("images", "labels")))
    assert len(from_files) == len(stored) == 14
    for index in (0, 9):
        np.testing.assert_array_equal(from_files[index]["images"], stored[index]["images"])
        np.testing.assert_array_equal(from_files[index]["labels"], stored[index]["labels"])
    with pytest.raises(DatasetFormatError, match="use FilesystemDataExtractor for meta-only datasets"):
        extr.PymiaDatasource(meta, extr.SliceIndexing())[0]
