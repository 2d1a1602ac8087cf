"""The contract every strategy and assembler share: extract → assemble is the identity.

Hypothesis draws small 2-D and 3-D volumes of odd and even sizes, strategies (slices in every plane
set, slabs, tri-planar, patch grids with and without overlap or padding, patches larger than the
image, voxels, whole volumes), blending modes and a shuffled order of batches. The assembled volume
must equal the stored one.
"""

from __future__ import annotations

import pathlib
import tempfile

import h5py
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pymia.data.assembly as assembly
import pymia.data.definition as defs
import pymia.data.extraction as extr


def write_volumes(path: pathlib.Path, volumes: list[np.ndarray], spacing: tuple[float, ...]) -> pathlib.Path:
    """A minimal format-2 dataset of ``images`` only, written with h5py (fast enough for hypothesis)."""
    n = len(volumes)
    dim = volumes[0].ndim - 1
    with h5py.File(path, "w") as file:
        for i, volume in enumerate(volumes):
            file.create_dataset(f"data/images/{defs.subject_key(i, n)}", data=volume)
        file.create_dataset("meta/subjects", data=[f"S{i}" for i in range(n)], dtype=h5py.string_dtype())
        file.create_dataset("meta/shapes/images_shapes", data=[v.shape for v in volumes])
        file.create_dataset("meta/image_props/shapes", data=[v.shape[:-1][::-1] for v in volumes])
        file.create_dataset("meta/image_props/spacing", data=[spacing[::-1]] * n)
        file.create_dataset("meta/image_props/origins", data=[[0.5 * (a + 1) for a in range(dim)]] * n)
        file.create_dataset("meta/image_props/directions", data=[np.eye(dim).ravel()] * n)
        file.attrs[defs.ATTR_FORMAT_VERSION] = defs.FORMAT_VERSION
    return path


def run_round_trip(
    datasource: extr.PymiaDatasource,
    assembler: assembly.SubjectAssembler,
    rng: np.random.Generator,
    output: callable = lambda sample: sample["images"],
) -> dict[int, np.ndarray]:
    """Feed every sample in a shuffled order, in batches of random size, as a network output would."""
    order = rng.permutation(len(datasource))
    results = {}
    position = 0
    while position < len(order):
        size = int(rng.integers(1, 6))
        batch_indices = order[position : position + size].tolist()
        position += size
        samples = datasource.__getitems__(batch_indices)
        shapes = {output(s).shape for s in samples}
        if len(shapes) == 1:
            assembler.add_batch(np.stack([output(s) for s in samples]), batch_indices)
        else:  # planes of different shapes cannot be stacked: one by one
            for index, sample in zip(batch_indices, samples):
                assembler.add_batch(output(sample)[None], [index])
        for subject in list(assembler.subjects_ready):
            results[subject] = assembler.get_assembled_subject(subject)
    return results


CASES_3D = [
    ("slices axial", lambda s: extr.SliceIndexing(0), "subject", "mean"),
    ("slices sagittal", lambda s: extr.SliceIndexing(2), "subject", "overwrite"),
    ("slices all planes", lambda s: extr.SliceIndexing((0, 1, 2)), "plane", "mean"),
    ("slices two planes", lambda s: extr.SliceIndexing((1, 2)), "plane", "mean"),
    ("tri-planar", lambda s: extr.TriPlanarIndexing(), "plane", "mean"),
    ("tri-planar padded", lambda s: extr.TriPlanarIndexing((max(s) + 3, max(s) + 2)), "plane", "mean"),
    ("slab", lambda s: extr.SlabIndexing(3, slice_axis=1), "slab", "mean"),
    ("patches inside", lambda s: extr.PatchWiseIndexing(tuple(min(3, x) for x in s)), "partial", "mean"),
    ("patches ragged", lambda s: extr.PatchWiseIndexing((3, 4, 2), ignore_incomplete=False), "subject", "mean"),
    (
        "patches overlap gaussian",
        lambda s: extr.PatchWiseIndexing((4, 3, 5), overlap=0.5, pad=True),
        "subject",
        "gaussian",
    ),
    ("patches overlap mean", lambda s: extr.PatchWiseIndexing((4, 4, 4), overlap=0.25, pad=True), "subject", "mean"),
    ("patches stride crop", lambda s: extr.PatchWiseIndexing((5, 5, 5), stride=3, pad=True), "subject", "crop"),
    ("patch larger than image", lambda s: extr.PatchWiseIndexing((12, 12, 12), pad=True), "subject", "gaussian"),
    ("whole volume", lambda s: extr.EmptyIndexing(), "subject", "mean"),
    ("voxels", lambda s: extr.VoxelWiseIndexing(), "subject", "overwrite"),
]


def _assembler(kind: str, datasource: extr.PymiaDatasource, blending: str, dtype: type) -> assembly.SubjectAssembler:
    if kind == "plane":
        return assembly.PlaneSubjectAssembler(datasource, dtype=dtype, blending=blending)
    return assembly.SubjectAssembler(datasource, dtype=dtype, blending=blending, crop_border=1)


@pytest.mark.parametrize(("name", "make_strategy", "kind", "blending"), CASES_3D, ids=[c[0] for c in CASES_3D])
@settings(max_examples=6, deadline=None)
@given(
    shape=st.tuples(st.integers(3, 9), st.integers(3, 9), st.integers(3, 9)),
    channels=st.integers(1, 2),
    seed=st.integers(0, 2**16),
    labels=st.booleans(),
)
def test_extract_assemble_identity_3d(
    name: str, make_strategy: callable, kind: str, blending: str, shape: tuple, channels: int, seed: int, labels: bool
) -> None:
    rng = np.random.default_rng(seed)
    if labels:
        volumes = [rng.integers(0, 5, (*shape, channels)).astype(np.uint8) for _ in range(2)]
        dtype = np.uint8
    else:
        volumes = [rng.normal(size=(*shape, channels)).astype(np.float32) for _ in range(2)]
        dtype = np.float32
    with tempfile.TemporaryDirectory() as folder:
        path = write_volumes(pathlib.Path(folder) / "ds.h5", volumes, (2.5, 1.0, 0.7))
        datasource = extr.PymiaDatasource(path, make_strategy(shape), extr.DataExtractor(("images",)))
        if kind == "partial" and len(datasource) == 0:
            return
        assembler = _assembler(kind, datasource, blending, dtype)
        if kind == "slab":  # a network output for a slab is its centre slice: channels [C, 2C) of the 3 slices
            results = run_round_trip(datasource, assembler, rng, lambda s: s["images"][..., channels : 2 * channels])
        else:
            results = run_round_trip(datasource, assembler, rng)
        datasource.close_reader()
    assert sorted(results) == [0, 1]
    for subject, volume in enumerate(volumes):
        result = results[subject]
        assert result.dtype == dtype and result.shape == volume.shape
        if kind == "partial":  # patches fully inside: only the covered region is checked
            strategy = make_strategy(shape)
            covered = np.zeros(shape, bool)
            for expr in strategy(shape):
                covered[expr.expression] = True
            np.testing.assert_allclose(result[covered], volume[covered], rtol=1e-5, atol=1e-5)
        else:
            np.testing.assert_allclose(result, volume, rtol=1e-5, atol=1e-5)


CASES_2D = [
    ("rows", lambda s: extr.SliceIndexing(0), "subject", "mean"),
    ("both axes", lambda s: extr.SliceIndexing((0, 1)), "plane", "mean"),
    ("patches overlap", lambda s: extr.PatchWiseIndexing((4, 3), overlap=0.5, pad=True), "subject", "gaussian"),
    ("patch larger than image", lambda s: extr.PatchWiseIndexing((11, 11), pad=True), "subject", "mean"),
    ("whole image", lambda s: extr.EmptyIndexing(), "2d", "mean"),
    ("slab of rows", lambda s: extr.SlabIndexing(1, slice_axis=0), "slab1", "mean"),
]


@pytest.mark.parametrize(("name", "make_strategy", "kind", "blending"), CASES_2D, ids=[c[0] for c in CASES_2D])
@settings(max_examples=5, deadline=None)
@given(shape=st.tuples(st.integers(3, 10), st.integers(3, 10)), seed=st.integers(0, 2**16))
def test_extract_assemble_identity_2d(
    name: str, make_strategy: callable, kind: str, blending: str, shape: tuple, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    volumes = [rng.normal(size=(*shape, 2)).astype(np.float32) for _ in range(2)]
    with tempfile.TemporaryDirectory() as folder:
        path = write_volumes(pathlib.Path(folder) / "ds.h5", volumes, (0.8, 1.3))
        datasource = extr.PymiaDatasource(path, make_strategy(shape))
        if kind == "2d":
            assembler = assembly.Subject2dAssembler(datasource)
        else:
            assembler = _assembler(kind, datasource, blending, np.float32)
        results = run_round_trip(datasource, assembler, rng)
        datasource.close_reader()
    for subject, volume in enumerate(volumes):
        np.testing.assert_allclose(results[subject], volume, rtol=1e-5, atol=1e-5)


def test_assembled_image_keeps_anisotropic_geometry(tmp_path: pathlib.Path) -> None:
    rng = np.random.default_rng(0)
    volume = rng.normal(size=(5, 6, 7, 1)).astype(np.float32)
    path = write_volumes(tmp_path / "ds.h5", [volume], (2.5, 1.0, 0.7))
    datasource = extr.PymiaDatasource(path, extr.PatchWiseIndexing((4, 4, 4), overlap=0.5, pad=True))
    assembler = assembly.SubjectAssembler(datasource, blending="gaussian")
    for i in range(len(datasource)):
        assembler.add_batch(datasource[i]["images"][None], [i])
    image = assembler.get_assembled_image(0)
    assert image.GetSpacing() == (0.7, 1.0, 2.5)
    assert image.GetOrigin() == (0.5, 1.0, 1.5)
    import SimpleITK as sitk

    np.testing.assert_allclose(sitk.GetArrayFromImage(image), volume[..., 0], rtol=1e-5, atol=1e-6)
