"""Reseeding of transform trees per worker and per sample, including a real PyTorch DataLoader."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from pymia.data import augmentation as aug
from pymia.data.transformation import ComposeTransform, IntensityRescale
from pymia.errors import InvalidInputError
from tests.conftest import requires_torch


def pipeline() -> ComposeTransform:
    return ComposeTransform(
        [
            aug.RandomFlip(entries=("images",), seed=0),
            IntensityRescale(0.0, 1.0),
            ComposeTransform([aug.RandomGaussianNoise(0.1, seed=0), aug.RandomIntensityShift(0.2, seed=0)]),
        ]
    )


def noise_of(transform: ComposeTransform) -> np.ndarray:
    sample = {"images": np.linspace(0, 1, 64, dtype=np.float32).reshape(8, 8, 1)}
    return transform(sample)["images"]


def test_iter_random_transforms_finds_nested_ones_in_application_order() -> None:
    transform = pipeline()
    found = list(aug.iter_random_transforms(transform))
    assert [type(t).__name__ for t in found] == ["RandomFlip", "RandomGaussianNoise", "RandomIntensityShift"]
    assert list(aug.iter_random_transforms(aug.RandomGamma())) != []
    assert list(aug.iter_random_transforms(IntensityRescale(0, 1))) == []


def test_reseed_transforms_gives_each_transform_its_own_reproducible_stream() -> None:
    first, second = pipeline(), pipeline()
    assert aug.reseed_transforms(first, (3, 1)) == 3
    aug.reseed_transforms(second, (3, 1))
    np.testing.assert_array_equal(noise_of(first), noise_of(second))
    # three transforms built with the same seed would draw the same numbers; after reseeding they do not
    draws = [t.rng.random() for t in aug.iter_random_transforms(pipeline())]
    assert len(set(draws)) == 1
    reseeded = pipeline()
    aug.reseed_transforms(reseeded, 3)
    draws = [t.rng.random() for t in aug.iter_random_transforms(reseeded)]
    assert len(set(draws)) == 3


def test_reseed_transforms_does_not_change_a_seed_sequence_it_is_given() -> None:
    sequence = np.random.SeedSequence(5)
    first, second = pipeline(), pipeline()
    aug.reseed_transforms(first, sequence)
    aug.reseed_transforms(second, sequence)
    assert sequence.n_children_spawned == 0
    np.testing.assert_array_equal(noise_of(first), noise_of(second))


def test_per_sample_seeds_make_the_output_independent_of_the_call_history() -> None:
    """Seeding with (seed, epoch, sample_index) before each sample: the order of samples does not matter."""
    transform = pipeline()
    outputs = {}
    for index in (0, 1, 2):
        aug.reseed_transforms(transform, (7, 0, index))
        outputs[index] = noise_of(transform)
    for index in (2, 0, 1):
        aug.reseed_transforms(transform, (7, 0, index))
        np.testing.assert_array_equal(noise_of(transform), outputs[index])
    assert not np.array_equal(outputs[0], outputs[1])


def test_reseed_transforms_rejects_a_bad_seed() -> None:
    with pytest.raises(InvalidInputError, match="-1"):
        aug.reseed_transforms(pipeline(), -1)


def test_worker_init_fn_gives_workers_different_and_reproducible_streams() -> None:
    """Simulates what DataLoader workers do: each holds an unpickled copy of the dataset and the function."""

    def worker_output(worker_id: int, seed: int) -> np.ndarray:
        transform = pipeline()
        init = aug.make_worker_init_fn(transform, seed=seed)
        transform_copy, init_copy = pickle.loads(pickle.dumps((transform, init)))
        init_copy(worker_id)  # reseeds transform_copy: both travelled in one pickle, as into a worker
        return noise_of(transform_copy)

    np.testing.assert_array_equal(worker_output(0, 1), worker_output(0, 1))
    assert not np.array_equal(worker_output(0, 1), worker_output(1, 1))
    assert not np.array_equal(worker_output(0, 1), worker_output(0, 2))
    with pytest.raises(InvalidInputError, match="seed"):
        aug.make_worker_init_fn(pipeline(), seed=-5)


class _AugmentedDataset:
    """A map-style dataset: the same image for every index, augmented by a random transform."""

    def __init__(self, transform: ComposeTransform) -> None:
        self.transform = transform

    def __len__(self) -> int:
        return 8

    def __getitem__(self, index: int) -> np.ndarray:
        return noise_of(self.transform)


@requires_torch
@pytest.mark.slow
def test_dataloader_workers_augment_differently_and_reproducibly() -> None:
    """With two fork workers and no reseeding, workers 0 and 1 return identical augmentations (the
    classic pitfall); with make_worker_init_fn they differ, and torch.manual_seed reproduces them."""
    import torch

    def run(reseed: bool) -> np.ndarray:
        torch.manual_seed(0)
        dataset = _AugmentedDataset(pipeline())
        loader = torch.utils.data.DataLoader(
            dataset,
            batch_size=4,
            num_workers=2,
            multiprocessing_context="fork",
            worker_init_fn=aug.make_worker_init_fn(dataset.transform, seed=3) if reseed else None,
        )
        return torch.cat(list(loader)).numpy()

    plain = run(reseed=False)
    np.testing.assert_array_equal(plain[:4], plain[4:])  # worker 0 loads batch 0, worker 1 batch 1
    reseeded = run(reseed=True)
    assert not np.array_equal(reseeded[:4], reseeded[4:])
    np.testing.assert_array_equal(run(reseed=True), reseeded)


def test_reseeding_never_changes_a_generator_the_caller_passed_in() -> None:
    shared = np.random.default_rng(123)
    state = shared.bit_generator.state
    transforms = ComposeTransform([aug.RandomGamma(rng=shared), aug.RandomIntensityShift(rng=shared)])
    aug.reseed_transforms(transforms, 1)
    assert shared.bit_generator.state == state
    first, second = transforms.transforms
    assert first.rng is not shared and second.rng is not first.rng
    assert first.rng.random() != second.rng.random()


def test_pickled_transform_after_fast_reseed_keeps_its_stream() -> None:
    transform = pipeline()
    aug.reseed_transforms(transform, (4, 2))
    clone = pickle.loads(pickle.dumps(transform))
    np.testing.assert_array_equal(noise_of(clone), noise_of(transform))
