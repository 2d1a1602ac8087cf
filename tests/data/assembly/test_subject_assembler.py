"""SubjectAssembler and PlaneSubjectAssembler: readiness, blending values, dtypes, hooks, errors."""

from __future__ import annotations

import pathlib

import numpy as np
import pytest
import scipy.signal

import pymia.data.assembler as asm
import pymia.data.extraction as extr
from pymia.data.assembly import blending_window
from pymia.errors import InvalidInputError


def _patches(path: pathlib.Path, **kwargs: object) -> extr.PymiaDatasource:
    return extr.PymiaDatasource(path, extr.PatchWiseIndexing((1, 1, 4), **kwargs))


def test_subjects_become_ready_when_all_their_samples_arrived_in_any_order(line_dataset: pathlib.Path) -> None:
    ds = _patches(line_dataset, pad=True)  # subject 0: 3 patches (0..4, 4..8, 8..12); subject 1: 2 patches
    assert len(ds) == 5
    assembler = asm.SubjectAssembler(ds)
    assembler.add_batch(np.stack([ds[i]["images"] for i in (4, 0)]), [4, 0])
    assert assembler.subjects_ready == set()
    assembler.add_batch(np.stack([ds[i]["images"] for i in (3, 2)]), np.array([3, 2]))
    assert assembler.subjects_ready == {1}
    np.testing.assert_array_equal(assembler.get_assembled_subject(1)[0, 0, :, 0], 100 + np.arange(6))
    assembler.add_batch(ds[1]["images"][None], [1])
    assert assembler.subjects_ready == {0}
    np.testing.assert_array_equal(assembler.get_assembled_subject(0)[0, 0, :, 0], np.arange(10))
    assert assembler.subjects_ready == set()


def test_last_batch_marks_partial_subjects_ready(line_dataset: pathlib.Path) -> None:
    ds = _patches(line_dataset, pad=True)
    assembler = asm.SubjectAssembler(ds)
    assembler.add_batch(ds[0]["images"][None], [0], last_batch=True)
    assert assembler.subjects_ready == {0}
    result = assembler.get_assembled_subject(0)
    np.testing.assert_array_equal(result[0, 0, :4, 0], np.arange(4))
    np.testing.assert_array_equal(result[0, 0, 4:, 0], 0)  # never covered: zero


def test_buffers_are_float32_by_default_and_follow_the_dtype_asked(line_dataset: pathlib.Path) -> None:
    ds = extr.PymiaDatasource(line_dataset)
    for dtype in (np.float32, np.float16, np.float64, np.int16):
        assembler = asm.SubjectAssembler(ds, dtype=dtype) if dtype is not np.float32 else asm.SubjectAssembler(ds)
        assembler.add_batch(ds[0]["images"][None], [0])
        assert assembler.get_assembled_subject(0).dtype == dtype


def test_mean_blending_averages_overlaps(line_dataset: pathlib.Path) -> None:
    """Patches 0..4, 2..6, 4..8, 6..10 with constant outputs 1, 2, 3, 4: voxel 5 is covered by 2 and 3."""
    ds = _patches(line_dataset, overlap=0.5, pad=True)
    indices = list(ds.samples_of_subject(0))
    assert len(indices) == 4
    outputs = np.stack([np.full((1, 1, 4, 1), k + 1.0, np.float32) for k in range(4)])
    assembler = asm.SubjectAssembler(ds, blending="mean")
    assembler.add_batch(outputs, indices)
    got = assembler.get_assembled_subject(0)[0, 0, :, 0]
    np.testing.assert_allclose(got, [1, 1, 1.5, 1.5, 2.5, 2.5, 3.5, 3.5, 4, 4])


def test_gaussian_blending_matches_scipy_windows(line_dataset: pathlib.Path) -> None:
    """Reference weights: scipy.signal.windows.gaussian(4, std=4 * 0.25) for each patch."""
    ds = _patches(line_dataset, overlap=0.5, pad=True)
    indices = list(ds.samples_of_subject(0))
    outputs = np.stack([np.full((1, 1, 4, 1), k + 1.0, np.float32) for k in range(4)])
    assembler = asm.SubjectAssembler(ds, blending="gaussian", sigma_scale=0.25)
    assembler.add_batch(outputs, indices)
    got = assembler.get_assembled_subject(0)[0, 0, :, 0]
    window = scipy.signal.windows.gaussian(4, std=1.0)
    weights, values = np.zeros(10), np.zeros(10)
    for k, start in enumerate((0, 2, 4, 6)):
        weights[start : start + 4] += window
        values[start : start + 4] += window * (k + 1)
    np.testing.assert_allclose(got, values / weights, rtol=1e-5)


def test_crop_blending_keeps_patch_centres(line_dataset: pathlib.Path) -> None:
    ds = _patches(line_dataset, overlap=0.5, pad=True)
    indices = list(ds.samples_of_subject(0))
    outputs = np.stack([np.full((1, 1, 4, 1), k + 1.0, np.float32) for k in range(4)])
    assembler = asm.SubjectAssembler(ds, blending="crop", crop_border=(0, 0, 1))
    assembler.add_batch(outputs, indices)
    got = assembler.get_assembled_subject(0)[0, 0, :, 0]
    # centres: 1..2 ← 1, 3..4 ← 2, 5..6 ← 3, 7..8 ← 4; voxels 0 and 9 only at patch borders
    np.testing.assert_allclose(got, [1, 1, 1, 2, 2, 3, 3, 4, 4, 4], rtol=1e-5)


def test_overwrite_lets_the_last_sample_win(line_dataset: pathlib.Path) -> None:
    ds = _patches(line_dataset, overlap=0.5, pad=True)
    indices = list(ds.samples_of_subject(0))
    outputs = np.stack([np.full((1, 1, 4, 1), k + 1.0, np.float32) for k in range(4)])
    assembler = asm.SubjectAssembler(ds, blending="overwrite")
    assembler.add_batch(outputs, indices)
    np.testing.assert_array_equal(assembler.get_assembled_subject(0)[0, 0, :, 0], [1, 1, 2, 2, 3, 3, 4, 4, 4, 4])


def test_dict_outputs_torch_tensors_and_missing_channel_axis(line_dataset: pathlib.Path) -> None:
    torch = pytest.importorskip("torch")
    ds = extr.PymiaDatasource(line_dataset, extr.SliceIndexing(2))
    assembler = asm.SubjectAssembler(ds)
    indices = list(ds.samples_of_subject(1))
    probabilities = torch.from_numpy(np.stack([np.full((1, 1, 3), i, np.float32) for i in indices]))
    labels = np.array([[[i]] for i in indices])  # (B, 1, 1): no channel axis
    assembler.add_batch({"probabilities": probabilities, "labels": labels}, torch.tensor(indices))
    result = assembler.get_assembled_subject(1)
    assert set(result) == {"probabilities", "labels"}
    assert result["probabilities"].shape == (1, 1, 6, 3)
    np.testing.assert_array_equal(result["labels"][0, 0, :, 0], indices)


def test_zero_fn_and_interaction_hooks(line_dataset: pathlib.Path) -> None:
    ds = extr.PymiaDatasource(line_dataset)
    calls = []

    def zeros(shape: tuple, key: str, subject: int) -> np.ndarray:
        calls.append((shape, key, subject))
        return np.zeros(shape, np.float64)

    double = asm.ApplyTransformInteractionFn(lambda sample: {**sample, "__prediction": sample["__prediction"] * 2})
    assembler = asm.SubjectAssembler(ds, zero_fn=zeros, assemble_interaction_fn=double)
    assembler.add_batch(ds[1]["images"][None], [1])
    result = assembler.get_assembled_subject(1)
    assert calls == [((1, 1, 6, 1), "__prediction", 1)]
    assert result.dtype == np.float64
    np.testing.assert_array_equal(result[0, 0, :, 0], 2 * (100 + np.arange(6)))


def test_errors_state_the_values(line_dataset: pathlib.Path) -> None:
    ds = _patches(line_dataset, pad=True)
    with pytest.raises(InvalidInputError, match="blending mode must be one of"):
        asm.SubjectAssembler(ds, blending="max")
    assembler = asm.SubjectAssembler(ds)
    with pytest.raises(InvalidInputError, match=r"values of shape \(1, 1, 3, 1\) do not fit the region"):
        assembler.add_batch(np.zeros((1, 1, 1, 3, 1)), [0])
    with pytest.raises(InvalidInputError, match="holds 2 outputs but 1 sample indices"):
        assembler.add_batch(np.zeros((2, 1, 1, 4, 1)), [0])
    with pytest.raises(InvalidInputError, match=r"subject 1 has no outputs in the assembler"):
        assembler.get_assembled_subject(1)


def test_blending_window_properties() -> None:
    window = blending_window((5, 4), "gaussian")
    assert window.dtype == np.float32 and window.max() == pytest.approx(1.0) and window.min() > 0
    assert not window.flags.writeable
    np.testing.assert_allclose(window, window[::-1, ::-1])
    crop = blending_window((6,), "crop", crop_border=2)
    assert crop.tolist()[2:4] == [1.0, 1.0] and crop[0] < 1e-5


def test_plane_assembler_majority_vote_for_labels(line_dataset: pathlib.Path) -> None:
    """Axial says 1, coronal says 2, sagittal says 2 → 2; where all differ the axial plane wins."""
    volume_shape = (1, 1, 10)
    ds = extr.PymiaDatasource(line_dataset, extr.SliceIndexing((0, 1, 2)), subject_subset=[0])
    assembler = asm.PlaneSubjectAssembler(ds, dtype=np.uint8)
    for index in range(len(ds)):
        _, expr = ds.sample_location(index)
        plane = expr.squeeze_axes[0]
        shape = [s for a, s in enumerate(volume_shape) if a != plane]
        value = {0: 1, 1: 2, 2: 2}[plane]
        output = np.full((*shape, 1), value, np.uint8)
        if plane == 1:
            output[..., 9, :] = 7  # the last voxel: 1 (axial), 7 (coronal), 2 (sagittal)
        assembler.add_batch(output[None], [index])
    result = assembler.get_assembled_subject(0)
    assert result.dtype == np.uint8
    np.testing.assert_array_equal(result[0, 0, :9, 0], 2)
    assert result[0, 0, 9, 0] == 1


def test_plane_assembler_mean_for_probabilities(line_dataset: pathlib.Path) -> None:
    ds = extr.PymiaDatasource(line_dataset, extr.SliceIndexing((0, 2)), subject_subset=[1])
    assembler = asm.PlaneSubjectAssembler(ds)
    for index in range(len(ds)):
        _, expr = ds.sample_location(index)
        plane = expr.squeeze_axes[0]
        shape = (1, 6) if plane == 0 else (1, 1)
        assembler.add_batch(np.full((1, *shape, 2), float(plane), np.float32), [index])
    np.testing.assert_allclose(assembler.get_assembled_subject(1), 1.0)


def test_plane_assembler_rejects_patches(line_dataset: pathlib.Path) -> None:
    ds = _patches(line_dataset, pad=True)
    with pytest.raises(InvalidInputError, match="assembles 2-D slices"):
        asm.PlaneSubjectAssembler(ds).add_batch(ds[0]["images"][None], [0])


@pytest.mark.parametrize("blending", ["mean", "gaussian"])
def test_threaded_accumulation_equals_single_threaded(blending: str) -> None:
    """Slabs accumulated by two threads give the same volume as one thread (large enough to be split)."""
    from pymia.data.assembly import VolumeAccumulator
    from pymia.data.indexexpression import IndexExpression

    rng = np.random.default_rng(1)
    patches = [
        (IndexExpression([(z, z + 40), (y, y + 40), (0, 40)], axis=(0, 1, 2)), rng.random((40, 40, 40, 5), np.float32))
        for z, y in [(-10, 0), (5, 10), (20, -5)]
    ]
    results = []
    for threads in (1, 2):
        accumulator = VolumeAccumulator((50, 45, 40), 5, mode=blending, threads=threads)
        for expr, values in patches:
            accumulator.add(expr, values)
        results.append(accumulator.result())
    np.testing.assert_allclose(results[1], results[0], rtol=1e-6)
