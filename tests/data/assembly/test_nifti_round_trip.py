"""A real NIfTI (nibabel's test data, flipped y direction) through creation, patches and assembly."""

from __future__ import annotations

import pathlib

import numpy as np
import pytest
import SimpleITK as sitk

import pymia.data.assembly as assembly
import pymia.data.extraction as extr

nibabel = pytest.importorskip("nibabel")


@pytest.mark.parametrize("name", ["anatomical.nii", "reoriented_anat_moved.nii"])
def test_nifti_round_trip_keeps_voxels_and_geometry(tmp_path: pathlib.Path, name: str) -> None:
    """Reference: SimpleITK reading the same file (voxels, origin, spacing, direction)."""
    from pymia.data.creation.pipeline import create_dataset
    from pymia.data.subjectfile import SubjectFile

    source = pathlib.Path(nibabel.__file__).parent / "tests" / "data" / name
    reference = sitk.ReadImage(str(source))
    assert reference.GetDirection() != (1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0)
    dataset = create_dataset([SubjectFile("anat", images={"T1": source})], tmp_path / "anat.h5", progress=False)
    datasource = extr.PymiaDatasource(dataset, extr.PatchWiseIndexing((16, 16, 16), overlap=0.5, pad=True))
    assembler = assembly.SubjectAssembler(datasource, blending="gaussian")
    order = np.random.default_rng(0).permutation(len(datasource))
    for start in range(0, len(order), 4):
        indices = order[start : start + 4].tolist()
        assembler.add_batch(np.stack([s["images"] for s in datasource.__getitems__(indices)]), indices)
    assert assembler.subjects_ready == {0}
    image = assembler.get_assembled_image(0)
    np.testing.assert_allclose(
        sitk.GetArrayFromImage(image), sitk.GetArrayFromImage(reference).astype(np.float32), rtol=1e-5, atol=1e-3
    )
    assert image.GetSize() == reference.GetSize()
    np.testing.assert_allclose(image.GetOrigin(), reference.GetOrigin(), atol=1e-4)
    np.testing.assert_allclose(image.GetSpacing(), reference.GetSpacing(), atol=1e-6)
    np.testing.assert_allclose(image.GetDirection(), reference.GetDirection(), atol=1e-6)
