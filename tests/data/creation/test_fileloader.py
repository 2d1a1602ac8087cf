"""Round trips of real files shipped by installed packages: raw file → HDF5 → arrays and geometry.

Reference values: SimpleITK's reading of the same file (arrays, spacing, origin, direction). Files:
nibabel ``tests/data/anatomical.nii`` (flipped y axis) and ``example4d.nii.gz`` (4-D, oblique),
dipy ``data/files/aniso_vox.nii.gz`` (4×4×5 mm, oblique), pydicom ``CT_small.dcm`` and ``MR_small.dcm``
(DICOM, read as a one-slice series from a folder). Located with importlib, nothing is downloaded.
"""

from __future__ import annotations

import importlib.util
import pathlib
import shutil

import h5py
import numpy as np
import pytest
import SimpleITK as sitk

import pymia.data.definition as defs
from pymia.data.creation.fileloader import LoadDefault, read_dicom_series
from pymia.data.creation.pipeline import create_dataset
from pymia.data.creation.tabular import CsvValue
from pymia.data.subjectfile import SubjectFile
from pymia.errors import InvalidInputError, MissingFileError


def package_file(package: str, *parts: str) -> pathlib.Path:
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        pytest.skip(f"{package} is not installed (dev extra)")
    path = pathlib.Path(spec.origin).parent.joinpath(*parts)
    assert path.exists(), f"{path} is missing from the installed {package}"
    return path


REAL_FILES = {
    "nibabel-anatomical": ("nibabel", "tests", "data", "anatomical.nii"),
    "nibabel-example4d": ("nibabel", "tests", "data", "example4d.nii.gz"),
    "dipy-aniso_vox": ("dipy", "data", "files", "aniso_vox.nii.gz"),
}


def _assert_round_trip(output: pathlib.Path, reference: sitk.Image) -> None:
    with h5py.File(output) as f:
        data = f["data/images/0"][...]
        np.testing.assert_array_equal(data[..., 0], sitk.GetArrayFromImage(reference))
        np.testing.assert_array_equal(f[defs.LOC_IMGPROP_SHAPE][0], reference.GetSize())
        np.testing.assert_allclose(f[defs.LOC_IMGPROP_SPACING][0], reference.GetSpacing())
        np.testing.assert_allclose(f[defs.LOC_IMGPROP_ORIGIN][0], reference.GetOrigin())
        np.testing.assert_allclose(f[defs.LOC_IMGPROP_DIRECTION][0], reference.GetDirection())


@pytest.mark.parametrize("name", sorted(REAL_FILES))
def test_real_nifti_round_trip(name, tmp_path):
    path = package_file(*REAL_FILES[name])
    reference = sitk.ReadImage(str(path))
    output = create_dataset([SubjectFile("s", images={"img": str(path)})], tmp_path / "d.h5", progress=False)
    _assert_round_trip(output, reference)
    if name != "nibabel-anatomical":  # these two have a non-identity (oblique) direction matrix
        assert not np.allclose(reference.GetDirection(), np.eye(reference.GetDimension()).ravel())


def test_real_4d_image_keeps_four_dimensional_geometry(tmp_path):
    path = package_file(*REAL_FILES["nibabel-example4d"])
    output = create_dataset([SubjectFile("s", images={"bold": str(path)})], tmp_path / "d.h5", progress=False)
    with h5py.File(output) as f:
        assert f["data/images/0"].shape == (2, 24, 96, 128, 1)
        assert f[defs.LOC_IMGPROP_DIRECTION].shape == (1, 16)


@pytest.mark.parametrize("name", ["CT_small.dcm", "MR_small.dcm"])
def test_dicom_series_folder(name, tmp_path):
    source = package_file("pydicom", "data", "test_files", name)
    folder = tmp_path / "series"
    folder.mkdir()
    shutil.copy(source, folder / name)
    reference = sitk.ReadImage(str(source))
    image = read_dicom_series(folder)
    assert image.GetSize() == reference.GetSize()
    output = create_dataset([SubjectFile("s", images={"CT": str(folder)})], tmp_path / "d.h5", progress=False)
    _assert_round_trip(output, reference)
    raw = output.read_bytes()
    # the DICOM header is not stored: the patient name of the pydicom test file must not appear
    assert b"CompressedSamples" in source.read_bytes()
    assert b"CompressedSamples" not in raw


def test_dicom_folder_errors(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(MissingFileError, match="holds no DICOM series"):
        LoadDefault()(str(empty), "CT", "images", "s1")
    two = tmp_path / "two"
    two.mkdir()
    shutil.copy(package_file("pydicom", "data", "test_files", "CT_small.dcm"), two / "a.dcm")
    shutil.copy(package_file("pydicom", "data", "test_files", "MR_small.dcm"), two / "b.dcm")
    with pytest.raises(InvalidInputError, match="holds 2 DICOM series"):
        LoadDefault()(str(two), "CT", "images", "s1")


@pytest.mark.parametrize("suffix", [".nii.gz", ".mha", ".nrrd"])
def test_formats_and_table_values(tmp_path, rng, suffix):
    array = rng.integers(0, 100, size=(3, 4, 5)).astype(np.int16)
    image = sitk.GetImageFromArray(array)
    image.SetSpacing((0.5, 0.7, 2.5))
    sitk.WriteImage(image, str(tmp_path / f"x{suffix}"))
    loaded, props = LoadDefault()(str(tmp_path / f"x{suffix}"), "T1", "images", "s1")
    np.testing.assert_array_equal(loaded, array)
    assert props.spacing == pytest.approx((0.5, 0.7, 2.5))
    number, none = LoadDefault()(CsvValue("t.csv", "age", 3.5), "age", "numerical", "s1")
    assert number.dtype == np.float64 and number.tolist() == [3.5] and none is None
    text, _ = LoadDefault()(CsvValue("t.csv", "sex", "F"), "sex", "sex", "s1")
    assert text.tolist() == ["F"]


def test_unreadable_and_missing_files(tmp_path):
    (tmp_path / "bad.nii.gz").write_bytes(b"garbage")
    with pytest.raises(MissingFileError, match=r"subject 's1', entry 'T1': cannot read image '.*bad.nii.gz'"):
        LoadDefault()(str(tmp_path / "bad.nii.gz"), "T1", "images", "s1")
    with pytest.raises(MissingFileError, match="does not exist"):
        LoadDefault()(str(tmp_path / "none.nii.gz"), "T1", "images", "s1")
