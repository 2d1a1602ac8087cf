"""Tests of the written dataset: layout paths, values equal to SimpleITK's reading, metadata, options."""

from __future__ import annotations

import hashlib
import pathlib

import h5py
import numpy as np
import pytest
import SimpleITK as sitk

import pymia
import pymia.data.definition as defs
from pymia.data.creation import Traverser, get_default_callbacks, get_writer
from pymia.data.creation.pipeline import create_dataset
from pymia.data.storage.hdf5_writer import Hdf5Layout
from pymia.data.transformation import IntensityNormalization
from pymia.errors import InvalidInputError, MissingFileError, OutputExistsError


def _strings(dataset) -> list:
    return np.asarray(dataset.asstr()[...]).tolist()


def test_layout_and_values_equal_simpleitk(phantom_subjects, tmp_path):
    """Reference: SimpleITK's own reading of each raw file (arrays and geometry)."""
    output = create_dataset(phantom_subjects, tmp_path / "d.h5", progress=False)
    with h5py.File(output) as f:
        assert f.attrs[defs.ATTR_FORMAT_VERSION] == defs.FORMAT_VERSION
        assert f.attrs[defs.ATTR_PYMIA_VERSION] == pymia.__version__
        assert not f.attrs[defs.ATTR_META_ONLY] and not f.attrs[defs.ATTR_ANONYMIZED]
        assert f.attrs[defs.ATTR_CREATED].endswith("+00:00")
        assert _strings(f[defs.LOC_SUBJECT]) == ["Subject_1", "Subject_2", "Subject_3"]
        assert _strings(f[defs.LOC_NAMES_PLACEHOLDER.format("images")]) == ["T1", "T2"]
        assert _strings(f[defs.LOC_NAMES_PLACEHOLDER.format("numerical")]) == ["age", "score"]
        root = pathlib.Path(f[defs.LOC_FILES_ROOT].asstr()[()])
        for i, sf in enumerate(phantom_subjects):
            key = defs.subject_key(i, 3)
            for category in ("images", "labels", "mask"):
                data = f[f"data/{category}/{key}"]
                assert data.chunks is None  # default layout: contiguous
                assert f[defs.LOC_SHAPES_PLACEHOLDER.format(category)][i].tolist() == list(data.shape)
                relative = _strings(f[defs.LOC_FILES_PLACEHOLDER.format(category)])[i]
                for channel, path in enumerate(sf.get_files(category).values()):
                    image = sitk.ReadImage(path)
                    np.testing.assert_array_equal(data[..., channel], sitk.GetArrayFromImage(image))
                    assert data.dtype == sitk.GetArrayViewFromImage(image).dtype
                    assert root / relative[channel] == pathlib.Path(path)
                    assert f[defs.LOC_HASHES_FILES_PLACEHOLDER.format(category)].asstr()[i, channel] == (
                        hashlib.sha256(pathlib.Path(path).read_bytes()).hexdigest()
                    )
            image = sitk.ReadImage(sf.get_files("images")["T1"])
            np.testing.assert_array_equal(f[defs.LOC_IMGPROP_SHAPE][i], image.GetSize())
            np.testing.assert_allclose(f[defs.LOC_IMGPROP_SPACING][i], image.GetSpacing())
            np.testing.assert_allclose(f[defs.LOC_IMGPROP_ORIGIN][i], image.GetOrigin())
            np.testing.assert_allclose(f[defs.LOC_IMGPROP_DIRECTION][i], image.GetDirection())
            numbers = [sf.get_files("numerical")[c].value for c in ("age", "score")]
            np.testing.assert_array_equal(f[f"data/numerical/{key}"][...], [numbers])
            assert f[f"data/sex/{key}"].asstr()[0, 0] == sf.get_files("sex")["sex"].value
        assert len(set(_strings(f[defs.LOC_HASHES_SUBJECT]))) == 3


def test_meta_only_writes_no_voxels_but_all_meta(phantom_subjects, tmp_path):
    """pymia 0.3.4 inverted meta_only: it wrote data/images and dropped meta/names."""
    output = create_dataset(phantom_subjects, tmp_path / "m.h5", meta_only=True, progress=False)
    with h5py.File(output) as f:
        assert f.attrs[defs.ATTR_META_ONLY]
        assert set(f["data"]) == {"numerical", "sex"}
        assert set(f["meta/names"]) == {f"{c}_names" for c in ("images", "labels", "mask", "numerical", "sex")}
        assert f[defs.LOC_SHAPES_PLACEHOLDER.format("images")][0].tolist() == [6, 7, 8, 2]
        assert defs.LOC_FILES_ROOT in f and defs.LOC_IMGPROP_SPACING in f


def test_anonymize_stores_no_ids_paths_or_names(phantom_subjects, tmp_path):
    output = create_dataset(phantom_subjects, tmp_path / "a.h5", anonymize=True, progress=False)
    raw = output.read_bytes()
    for forbidden in (b"Subject_1", b"Subject_1_T1", str(tmp_path).encode(), b".mha", b"manifest"):
        assert forbidden not in raw
    with h5py.File(output) as f:
        assert f.attrs[defs.ATTR_ANONYMIZED] and "files" not in f["meta"]
        assert all(s.startswith("anon-") for s in _strings(f[defs.LOC_SUBJECT]))
    with pytest.raises(InvalidInputError, match="neither voxels nor file paths"):
        create_dataset(phantom_subjects, tmp_path / "b.h5", anonymize=True, meta_only=True)


def test_transform_and_layout_are_recorded(phantom_subjects, tmp_path):
    layout = Hdf5Layout(chunks=(4, 4, 4), compression="lzf")
    transform = IntensityNormalization(loop_axis=-1)
    output = create_dataset(phantom_subjects, tmp_path / "t.h5", transform=transform, layout=layout, progress=False)
    with h5py.File(output) as f:
        assert f.attrs[defs.ATTR_TRANSFORM] == repr(transform)
        assert f["data/images/0"].chunks == (4, 4, 4, 2) and f["data/images/0"].compression == "lzf"
        assert f["data/images/0"].dtype == np.float32
        np.testing.assert_allclose(f["data/images/0"][..., 1].mean(), 0, atol=1e-5)


def test_parallel_workers_give_the_same_file_content(phantom_subjects, tmp_path):
    serial = create_dataset(phantom_subjects, tmp_path / "s.h5", progress=False)
    parallel = create_dataset(phantom_subjects, tmp_path / "p.h5", workers=2, progress=False)
    with h5py.File(serial) as a, h5py.File(parallel) as b:
        for i in range(3):
            np.testing.assert_array_equal(a[f"data/images/{i}"][...], b[f"data/images/{i}"][...])
        assert _strings(a[defs.LOC_HASHES_SUBJECT]) == _strings(b[defs.LOC_HASHES_SUBJECT])


def test_existing_output_is_kept(phantom_subjects, tmp_path):
    target = tmp_path / "d.h5"
    target.write_bytes(b"old")
    with pytest.raises(OutputExistsError):
        create_dataset(phantom_subjects, target, progress=False)
    assert target.read_bytes() == b"old"
    create_dataset(phantom_subjects, target, overwrite=True, progress=False)
    assert h5py.is_hdf5(target)


def test_failure_midway_leaves_no_file(phantom_subjects, phantom_folder, tmp_path):
    (phantom_folder / "Subject_3" / "Subject_3_GT.nii.gz").write_bytes(b"not an image")
    with pytest.raises(MissingFileError, match="subject 'Subject_3', entry 'GT': cannot read image"):
        create_dataset(phantom_subjects, tmp_path / "d.h5", progress=False)
    assert list(tmp_path.glob("*d.h5*")) == []


def test_the_0_3_4_style_api(phantom_subjects, tmp_path):
    """The pymia 0.3.4 way: get_writer + get_default_callbacks + Traverser().traverse."""
    with get_writer(tmp_path / "old.h5") as writer:
        Traverser().traverse(phantom_subjects, callback=get_default_callbacks(writer), progress=False)
    with h5py.File(tmp_path / "old.h5") as f:
        assert f["data/images/2"].shape == (6, 7, 8, 2)


def test_two_d_images(tmp_path):
    from pymia.data.creation.discovery import subjects_from_folder
    from pymia.testing.phantoms import oblique_direction, write_phantom_subjects

    direction = oblique_direction(2, 20.0)
    write_phantom_subjects(tmp_path / "raw", 2, (9, 11), (0.5, 0.8), origin=(3.0, -2.0), direction=direction)
    subjects = subjects_from_folder(tmp_path / "raw", images=["T1", "T2"], labels=["GT"])
    output = create_dataset(subjects, tmp_path / "d2.h5", progress=False)
    with h5py.File(output) as f:
        assert f["data/images/0"].shape == (9, 11, 2)
        assert f[defs.LOC_IMGPROP_DIRECTION].shape == (2, 4)
        np.testing.assert_allclose(f[defs.LOC_IMGPROP_DIRECTION][1], direction, atol=1e-6)
        np.testing.assert_allclose(f[defs.LOC_IMGPROP_SPACING][0], (0.8, 0.5))
        np.testing.assert_allclose(f[defs.LOC_IMGPROP_ORIGIN][0], (3.0, -2.0))
        image = sitk.ReadImage(subjects[1].get_files("labels")["GT"])
        np.testing.assert_array_equal(f["data/labels/1"][..., 0], sitk.GetArrayFromImage(image))


def test_interrupt_leaves_no_file(phantom_subjects, tmp_path):
    """Ctrl-C while loading the third subject: neither the target nor a partial file remains."""
    from pymia.data.creation.fileloader import LoadDefault

    class InterruptingLoad(LoadDefault):
        def __call__(self, file_name, id_, category, subject_id):
            if subject_id == "Subject_3":
                raise KeyboardInterrupt
            return super().__call__(file_name, id_, category, subject_id)

    with pytest.raises(KeyboardInterrupt):
        create_dataset(phantom_subjects, tmp_path / "d.h5", load=InterruptingLoad(), progress=False)
    assert list(tmp_path.glob("*d.h5*")) == []
