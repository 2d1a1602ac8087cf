"""Tests of pymia.data.transformation: contract, values, dtypes and errors of each transform."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import pymia.data.transformation.transform as transform_module
from pymia.data.transformation import (
    ClipPercentile,
    ComposeTransform,
    IntensityNormalization,
    IntensityRescale,
    LambdaTransform,
    LoopEntryTransform,
    Mask,
    Permute,
    Relabel,
    Reshape,
    SizeCorrection,
    Squeeze,
    Transform,
    UnSqueeze,
)
from pymia.errors import InvalidInputError


def test_transform_is_abstract_and_contract_is_dict_to_dict():
    with pytest.raises(TypeError):
        Transform()  # type: ignore[abstract]

    class AddOne(Transform):
        def __call__(self, sample: dict) -> dict:
            sample["images"] = sample["images"] + 1
            return sample

    out = ComposeTransform([AddOne(), AddOne()])({"images": np.zeros(2)})
    assert out["images"].tolist() == [2.0, 2.0]


def test_compose_rejects_non_callables():
    with pytest.raises(InvalidInputError, match="not callable"):
        ComposeTransform([IntensityRescale(0, 1), 3])


def test_repr_names_parameters_for_the_dataset_provenance():
    assert repr(IntensityRescale(0, 1)) == "IntensityRescale(loop_axis=None, entries=('images',), lower=0, upper=1)"
    assert "IntensityNormalization(loop_axis=-1" in repr(ComposeTransform([IntensityNormalization(loop_axis=-1)]))


@pytest.mark.parametrize("dtype", [np.int16, np.uint8, np.float32, np.float64])
def test_intensity_normalization_zscore_and_dtype(rng, dtype):
    image = (rng.random((4, 5, 6, 2)) * 100).astype(dtype)
    out = IntensityNormalization(loop_axis=-1)({"images": image})["images"]
    assert out.dtype == (np.float64 if dtype == np.float64 else np.float32)
    for c in range(2):
        expected = (image[..., c] - image[..., c].mean()) / image[..., c].std()  # definition of the z-score
        np.testing.assert_allclose(out[..., c], expected, rtol=1e-5, atol=1e-5)


def test_intensity_normalization_whole_array_and_constant():
    out = IntensityNormalization()({"images": np.full((3, 3), 7, np.int16)})["images"]
    assert out.dtype == np.float32 and np.all(out == 0)


def test_intensity_rescale_range_and_constant(rng):
    image = rng.normal(size=(5, 6, 3)).astype(np.float32)
    out = IntensityRescale(-1, 1, loop_axis=2)({"images": image})["images"]
    for c in range(3):
        assert out[..., c].min() == pytest.approx(-1) and out[..., c].max() == pytest.approx(1)
    const = IntensityRescale(2, 3)({"images": np.ones(4)})["images"]
    assert np.all(const == 2)
    with pytest.raises(InvalidInputError, match="lower < upper"):
        IntensityRescale(1, 1)


@settings(max_examples=25, deadline=None)
@given(
    hnp.arrays(
        np.float32, hnp.array_shapes(min_dims=1, max_dims=3, max_side=6), elements=st.floats(-1e3, 1e3, width=32)
    )
)
def test_intensity_rescale_stays_in_bounds(array):
    out = IntensityRescale(0.0, 1.0)({"images": array})["images"]
    assert out.min() >= 0.0 and out.max() <= 1.0


def test_clip_percentile_matches_numpy(rng):
    image = rng.normal(size=(10, 10)).astype(np.float32)
    out = ClipPercentile(95)({"images": image})["images"]
    low, high = np.percentile(image, (5, 95))
    assert out.min() == pytest.approx(low) and out.max() == pytest.approx(high)
    with pytest.raises(InvalidInputError):
        ClipPercentile(90, 95)


def test_relabel_is_simultaneous():
    labels = np.array([0, 1, 2, 3], np.uint8)
    out = Relabel({2: 1, 3: 2})({"labels": labels})["labels"]  # new label: old label, as in pymia 0.3.4
    assert out.tolist() == [0, 2, 3, 3]  # pymia 0.3.4 chained the changes and gave [0, 3, 3, 3]
    assert Relabel({1: 3})({"labels": labels})["labels"].tolist() == [0, 1, 2, 1]
    assert out.dtype == np.uint8


def test_reshape_permute_squeeze_unsqueeze():
    sample = {"images": np.arange(24).reshape(2, 3, 4, 1), "labels": np.zeros((2, 3, 4, 1))}
    sample = Squeeze(entries=("images",))(sample)
    assert sample["images"].shape == (2, 3, 4)
    sample = UnSqueeze(axis=0, entries=("images",))(sample)
    assert sample["images"].shape == (1, 2, 3, 4)
    sample = Permute((3, 0, 1, 2), entries=("labels",))(sample)
    assert sample["labels"].shape == (1, 2, 3, 4)
    sample = Reshape({"images": (6, -1)})(sample)
    assert sample["images"].shape == (6, 4)
    with pytest.raises(InvalidInputError, match="cannot reshape"):
        Reshape({"images": (5, 5)})(sample)
    with pytest.raises(InvalidInputError, match="permutation"):
        Permute((0, 1))(sample)
    with pytest.raises(InvalidInputError, match="length 1"):
        Squeeze(entries=("labels",), squeeze_axis=1)(sample)


def test_size_correction_crop_and_pad_centred():
    image = np.arange(5 * 4).reshape(5, 4, 1)
    cropped = SizeCorrection((3, None), entries=("images",))({"images": image})["images"]
    np.testing.assert_array_equal(cropped, image[1:4])
    padded = SizeCorrection((7, 6), pad_value=-1, entries=("images",))({"images": image})["images"]
    assert padded.shape == (7, 6, 1)
    np.testing.assert_array_equal(padded[1:6, 1:5], image)
    assert padded[0].min() == -1 and padded[:, 0].max() == -1
    with pytest.raises(InvalidInputError, match="more axes"):
        SizeCorrection((1, 2, 3, 4), entries=("images",))({"images": image})


def test_mask_broadcasts_channel_axis_and_loops():
    images = np.ones((2, 2, 3), np.float32)
    mask = np.array([[1, 0], [0, 1]], np.uint8)[..., None]
    out = Mask("mask", entries=("images",))({"images": images, "mask": mask})["images"]
    assert out[..., 0].tolist() == [[1, 0], [0, 1]] and np.all(out[..., 0] == out[..., 2])
    for mask_variant in (np.repeat(mask, 3, -1), mask, mask[..., 0]):
        looped = Mask("mask", loop_axis=-1, entries=("images",))({"images": images.copy(), "mask": mask_variant})
        np.testing.assert_array_equal(looped["images"], out)
    unlooped = Mask("mask", entries=("images",))({"images": images.copy(), "mask": mask[..., 0]})
    np.testing.assert_array_equal(unlooped["images"], out)
    with pytest.raises(InvalidInputError, match="does not fit"):
        Mask("mask", entries=("images",))({"images": images, "mask": np.ones((3, 3))})


def test_lambda_transform_per_slice():
    out = LambdaTransform(lambda a: a - a.min(), loop_axis=0)({"images": np.array([[1, 2], [5, 9]])})["images"]
    assert out.tolist() == [[0, 1], [0, 4]]
    with pytest.raises(InvalidInputError):
        LambdaTransform(3)


def test_missing_entry_raises_unless_switched_off(monkeypatch):
    with pytest.raises(InvalidInputError, match=r"needs the entries \['labels'\]"):
        Relabel({1: 2})({"images": np.zeros(2)})
    monkeypatch.setattr(transform_module, "raise_error_if_entry_not_extracted", False)
    assert Relabel({1: 2})({"images": np.zeros(2)})["images"].tolist() == [0, 0]


def test_loop_axis_out_of_range():
    with pytest.raises(InvalidInputError, match="out of range"):
        IntensityNormalization(loop_axis=3)({"images": np.zeros((2, 2))})


def test_loop_entry_transform_subclass_sees_each_slice():
    seen = []

    class Record(LoopEntryTransform):
        def transform_entry(self, array, entry, loop_index=None):
            seen.append((entry, loop_index, array.shape))
            return array

    Record(loop_axis=-1, entries=("images",))({"images": np.zeros((2, 3, 4))})
    assert seen == [("images", i, (2, 3)) for i in range(4)]


def test_random_crop_keeps_its_0_3_4_path():
    import pymia.data.augmentation
    import pymia.data.transformation

    assert pymia.data.transformation.RandomCrop is pymia.data.augmentation.RandomCrop
    with pytest.raises(AttributeError):
        pymia.data.transformation.NoSuchTransform  # noqa: B018


def test_loop_results_are_contiguous_and_may_drop_axes(rng):
    image = rng.random((3, 4, 5, 2)).astype(np.float32)
    out = IntensityNormalization(loop_axis=-1)({"images": image})["images"]
    assert out.flags["C_CONTIGUOUS"]  # written to HDF5 without another copy
    reduced = LambdaTransform(lambda a: a.sum(axis=0), loop_axis=-1)({"images": image})["images"]
    np.testing.assert_allclose(reduced, image.sum(axis=0), rtol=1e-6)
    ragged = LambdaTransform(lambda a: a[: int(a[0]) + 1], loop_axis=0)  # slice 0 keeps 1 value, slice 1 keeps 2
    with pytest.raises(InvalidInputError, match="every slice must keep one shape"):
        ragged({"images": np.array([[0.0, 0.0], [1.0, 1.0]])})
