"""Hypothesis property tests: any image written to a file and through the creation API reads back identical."""

from __future__ import annotations

import itertools
import tempfile

import h5py
import numpy as np
import SimpleITK as sitk
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import pymia.data.definition as defs
from pymia.data.creation.pipeline import create_dataset
from pymia.data.storage.hdf5_writer import Hdf5Layout
from pymia.data.subjectfile import SubjectFile

_counter = itertools.count()

dtypes = st.sampled_from([np.uint8, np.int16, np.float32, np.float64])
layouts = st.sampled_from(
    [Hdf5Layout(), Hdf5Layout(chunks=(2, 3, 2)), Hdf5Layout(chunks="auto", compression="gzip", compression_level=1)]
)
geometry = st.floats(0.1, 5.0, allow_nan=False).map(lambda v: round(v, 3))


@st.composite
def images(draw):
    dtype = draw(dtypes)
    shape = draw(hnp.array_shapes(min_dims=2, max_dims=3, min_side=1, max_side=6))
    array = draw(
        hnp.arrays(dtype, shape, elements=hnp.from_dtype(np.dtype(dtype), allow_nan=False, allow_infinity=False))
    )
    spacing = tuple(draw(geometry) for _ in shape)
    origin = tuple(draw(st.floats(-100, 100).map(lambda v: round(v, 2))) for _ in shape)
    return array, spacing, origin


@settings(max_examples=25, deadline=None)
@given(first=images(), n_subjects=st.integers(1, 3), layout=layouts, suffix=st.sampled_from([".mha", ".nrrd"]))
def test_write_read_identity(first, n_subjects, layout, suffix):
    array, spacing, origin = first
    with tempfile.TemporaryDirectory() as folder:
        subjects, references = [], []
        for i in range(n_subjects):
            image = sitk.GetImageFromArray(array + np.asarray(i).astype(array.dtype))
            image.SetSpacing(spacing)
            image.SetOrigin(origin)
            path = f"{folder}/s{i}{suffix}"
            sitk.WriteImage(image, path)
            subjects.append(SubjectFile(f"s{i}", images={"img": path}, labels={"lab": path}))
            references.append(sitk.ReadImage(path))
        output = create_dataset(subjects, f"{folder}/d{next(_counter)}.h5", layout=layout, progress=False)
        with h5py.File(output) as f:
            for i, reference in enumerate(references):
                key = defs.subject_key(i, n_subjects)
                expected = sitk.GetArrayFromImage(reference)
                for category in ("images", "labels"):
                    stored = f[f"data/{category}/{key}"][...]
                    assert stored.dtype == expected.dtype and stored.shape == (*expected.shape, 1)
                    np.testing.assert_array_equal(stored[..., 0], expected)
                np.testing.assert_array_equal(f[defs.LOC_IMGPROP_SHAPE][i], reference.GetSize())
                np.testing.assert_array_equal(f[defs.LOC_IMGPROP_SPACING][i], reference.GetSpacing())
                np.testing.assert_array_equal(f[defs.LOC_IMGPROP_ORIGIN][i], reference.GetOrigin())
