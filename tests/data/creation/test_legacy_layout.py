"""pymia 0.3.4's exact layout versus ours: every 0.3.4 path exists in our files with the same values.

The 0.3.4 file is written here with raw h5py as pymia 0.3.4 wrote it (research note pymia-0.3.4.md §3:
contiguous datasets, no attributes, uint16 shapes, 3-D image_props, vlen str, ``data/gender/<k>`` of
shape (1,)), from the same phantom files. Both files are then read through the pymia reader.
"""

from __future__ import annotations

import os

import h5py
import numpy as np
import SimpleITK as sitk

import pymia.data.definition as defs
from pymia.data.creation.pipeline import create_dataset
from pymia.data.storage.hdf5_reader import get_reader


def write_like_pymia_0_3_4(path, subjects) -> None:
    """Write the 0.3.4 layout by hand (reference: the paths, dtypes and shapes listed in the research note)."""
    n = len(subjects)
    text = h5py.string_dtype()
    all_files = [p for sf in subjects for p in [*sf.get_files("images").values(), *sf.get_files("labels").values()]]
    root = os.path.commonpath([os.path.dirname(p) for p in all_files])
    with h5py.File(path, "w", libver="latest") as f:
        f.create_dataset("meta/subjects", data=np.array([sf.subject for sf in subjects], dtype=object), dtype=text)
        f.create_dataset("meta/names/images_names", data=np.array(["T1", "T2"], dtype=object), dtype=text)
        f.create_dataset("meta/names/labels_names", data=np.array(["GT"], dtype=object), dtype=text)
        f.create_dataset("meta/names/numerical_names", data=np.array(["age", "score"], dtype=object), dtype=text)
        f.create_dataset("meta/names/gender_names", data=np.array(["sex"], dtype=object), dtype=text)
        f.create_dataset("meta/files/file_root", data=root, dtype=text)
        for category in ("images", "labels"):
            rows = [[os.path.relpath(p, root) for p in sf.get_files(category).values()] for sf in subjects]
            f.create_dataset(f"meta/files/{category}_files", data=np.array(rows, dtype=object), dtype=text)
        shapes = {c: np.zeros((n, 4), np.uint16) for c in ("images", "labels")}
        props = {k: np.zeros((n, 9 if k == "directions" else 3)) for k in ("origins", "directions", "spacing")}
        image_shapes = np.zeros((n, 3), np.uint16)
        for i, sf in enumerate(subjects):
            key = defs.subject_key(i, n)
            images = [sitk.ReadImage(p) for p in sf.get_files("images").values()]
            data = np.stack([sitk.GetArrayFromImage(im) for im in images], axis=-1)
            labels = sitk.GetArrayFromImage(sitk.ReadImage(sf.get_files("labels")["GT"]))[..., None]
            f.create_dataset(f"data/images/{key}", data=data)
            f.create_dataset(f"data/labels/{key}", data=labels)
            numbers = [sf.get_files("numerical")[c].value for c in ("age", "score")]
            f.create_dataset(f"data/numerical/{key}", data=np.array([numbers], np.float64))
            f.create_dataset(f"data/gender/{key}", data=np.array([sf.get_files("sex")["sex"].value], dtype=object))
            shapes["images"][i], shapes["labels"][i] = data.shape, labels.shape
            image_shapes[i] = images[0].GetSize()
            props["origins"][i], props["spacing"][i] = images[0].GetOrigin(), images[0].GetSpacing()
            props["directions"][i] = images[0].GetDirection()
        for category, values in shapes.items():
            f.create_dataset(f"meta/shapes/{category}_shapes", data=values)
        f.create_dataset("meta/image_props/shapes", data=image_shapes)
        for name, values in props.items():
            f.create_dataset(f"meta/image_props/{name}", data=values)


def _paths(file: h5py.File) -> dict[str, h5py.Dataset]:
    found = {}

    def visit(name, obj):  # must return None, else visititems stops
        if isinstance(obj, h5py.Dataset):
            found[name] = obj

    file.visititems(visit)
    return found


def test_our_layout_contains_every_0_3_4_path_with_equal_values(phantom_subjects, tmp_path):
    legacy, ours = tmp_path / "legacy.h5", tmp_path / "ours.h5"
    write_like_pymia_0_3_4(legacy, phantom_subjects)
    create_dataset(phantom_subjects, ours, progress=False)
    with h5py.File(legacy) as old, h5py.File(ours) as new:
        assert dict(old.attrs) == {}
        new_paths = _paths(new)
        for path, dataset in _paths(old).items():
            path = path.replace("gender", "sex")  # 0.3.4 example named the category 'gender'; ours is the column
            assert path in new_paths, path
            a, b = dataset[()], new_paths[path][()]
            if dataset.dtype.kind == "O":
                a, b = np.asarray(dataset.asstr()[()]), np.asarray(new_paths[path].asstr()[()])
                b = b.reshape(a.shape) if b.size == a.size else b  # data/sex/<k> is (1, 1), 0.3.4 wrote (1,)
            np.testing.assert_array_equal(a, b, err_msg=path)


def test_reader_reads_both_the_same(phantom_subjects, tmp_path):
    legacy, ours = tmp_path / "legacy.h5", tmp_path / "ours.h5"
    write_like_pymia_0_3_4(legacy, phantom_subjects)
    create_dataset(phantom_subjects, ours, progress=False)
    with get_reader(legacy) as old, get_reader(ours) as new:
        assert old.get_subjects() == new.get_subjects() == ["Subject_1", "Subject_2", "Subject_3"]
        assert old.format_version == defs.LEGACY_FORMAT_VERSION and new.format_version == defs.FORMAT_VERSION
        for i, entry in enumerate(new.get_subject_entries()):
            assert old.get_shape(i) == new.get_shape(i)
            np.testing.assert_array_equal(old.read(entry), new.read(entry))
