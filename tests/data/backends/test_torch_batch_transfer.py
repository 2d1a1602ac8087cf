"""Shared-memory batch slots of the PyTorch loader (SharedBatchCollate): the same batches as without workers,
under every start method; kept batches stay valid; the fallback when slots run out; pin_memory; nothing left
in /dev/shm or mapped after the loader is gone."""

from __future__ import annotations

import gc
import os
import pickle
import re
import sys
import warnings

import numpy as np
import pytest

from tests.conftest import requires_torch

pytestmark = [
    requires_torch,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the checks read /proc/self/maps (Linux)"),
]

torch = pytest.importorskip("torch")

from torch.utils.data import DataLoader, Dataset  # noqa: E402

from pymia.data.augmentation import RandomFlip, RandomGaussianNoise  # noqa: E402
from pymia.data.backends.batching import BatchError  # noqa: E402
from pymia.data.backends.pytorch import (  # noqa: E402
    SharedBatchCollate,
    collate_samples,
    create_dataloader,
    shared_batches_supported,
)
from pymia.data.extraction import (  # noqa: E402
    ComposeExtractor,
    DataExtractor,
    IndexingExtractor,
    PatchWiseIndexing,
    PymiaDatasource,
    SliceIndexing,
    SubjectExtractor,
)
from pymia.data.indexexpression import IndexExpression  # noqa: E402
from pymia.data.transformation import ComposeTransform  # noqa: E402
from pymia.errors import InvalidInputError  # noqa: E402
from pymia.testing.datasets import create_test_dataset  # noqa: E402
from tests.data.backends.torch_batches import assert_same_batches, in_slot, slot_ranges  # noqa: E402

N_SUBJECTS, SHAPE = 3, (8, 10, 12)  # 24 axial slices of (10, 12); 3-D patches of 4³: 2·2·3 = 12 per subject


@pytest.fixture(scope="module")
def dataset_path(tmp_path_factory):
    return create_test_dataset(tmp_path_factory.mktemp("ring") / "data.h5", n_subjects=N_SUBJECTS, shape=SHAPE)


def _datasource(path, mode="2d", extractor=None) -> PymiaDatasource:
    indexing = SliceIndexing() if mode == "2d" else PatchWiseIndexing((4, 4, 4))
    return PymiaDatasource(path, indexing, extractor or DataExtractor(categories=("images", "labels")))


def _augmentation():
    return ComposeTransform([RandomFlip(axes=(0, 1), p=0.5), RandomGaussianNoise(std=(0.1, 0.5))])


def _mapped_slots() -> int:
    return len(slot_ranges())


def _loader(path, workers, mode="2d", **options):
    return create_dataloader(
        _datasource(path, mode),
        batch_size=4,
        shuffle=True,
        seed=5,
        transform=_augmentation(),
        num_workers=workers,
        **options,
    )


@pytest.mark.parametrize("mode", ["2d", "3d"])
def test_two_workers_give_the_zero_worker_batches_through_slots(dataset_path, mode):
    reference = list(_loader(dataset_path, 0, mode))
    loader = _loader(dataset_path, 2, mode)
    assert isinstance(loader.collate_fn, SharedBatchCollate)
    for epoch in range(2):  # persistent workers reuse their slots in the second epoch
        batches = list(loader)
        assert_same_batches(batches, reference)
        assert all(in_slot(batch["images"]) and in_slot(batch["sample_index"]) for batch in batches), epoch
        assert batches[0]["images"].shape == ((4, 10, 12, 2) if mode == "2d" else (4, 4, 4, 4, 2))
        del batches  # else the second epoch finds the slots held and falls back


@pytest.mark.slow
@pytest.mark.parametrize("start_method", ["spawn", "forkserver"])
def test_slots_under_spawn_and_forkserver(dataset_path, start_method):
    reference = list(_loader(dataset_path, 0))
    batches = list(_loader(dataset_path, 2, multiprocessing_context=start_method))
    assert_same_batches(batches, reference)
    assert all(in_slot(batch["images"]) for batch in batches)


def test_shared_batches_off_uses_pytorchs_path(dataset_path):
    loader = _loader(dataset_path, 2, shared_batches=False)
    assert loader.collate_fn is collate_samples
    batches = list(loader)
    assert_same_batches(batches, list(_loader(dataset_path, 0)))
    assert not any(in_slot(batch["images"]) for batch in batches)
    assert _loader(dataset_path, 0, shared_batches=True).collate_fn is collate_samples  # nothing to share


def test_metadata_travels_next_to_the_slot(dataset_path):
    extractor = ComposeExtractor([DataExtractor(categories=("images",)), SubjectExtractor(), IndexingExtractor()])
    datasource = _datasource(dataset_path, extractor=extractor)
    batch = next(iter(create_dataloader(datasource, batch_size=10, num_workers=2)))
    assert in_slot(batch["images"]) and in_slot(batch["subject_index"])
    assert list(batch) == list(collate_samples([datasource[0]]))
    assert batch["subject"] == ["Subject_1"] * 8 + ["Subject_2"] * 2
    assert batch["subject_index"].tolist() == [0] * 8 + [1] * 2
    assert all(isinstance(e, IndexExpression) for e in batch["index_expr"])
    np.testing.assert_array_equal(batch["images"][9].numpy(), datasource[9]["images"])


def test_kept_batches_stay_correct_after_many_more_batches(dataset_path):
    """Keeping every batch holds every slot: workers then fall back to PyTorch's path, and nothing is overwritten."""
    datasource = _datasource(dataset_path)
    reference = [collate_samples([datasource[i]]) for i in range(len(datasource))]
    loader = create_dataloader(datasource, batch_size=1, num_workers=2, prefetch_factor=1)  # 4 slots a worker
    kept = []
    for epoch in range(3):
        kept.append(list(loader))  # 24 batches per epoch, 72 in all, against 8 slots
        assert len(kept[-1]) == len(datasource), epoch
    for batches in kept:
        assert_same_batches(batches, reference)
    via_slots = sum(in_slot(batch["images"]) for batches in kept for batch in batches)
    assert via_slots == 8  # each slot once, then held; all others came through the fallback


def test_slots_are_reused_when_batches_are_dropped(dataset_path):
    loader = create_dataloader(_datasource(dataset_path), batch_size=1, num_workers=2, prefetch_factor=1)
    for _ in range(3):
        for batch in loader:
            assert in_slot(batch["images"])  # a released slot is found again every time


def test_a_view_of_a_batch_keeps_its_slot(dataset_path):
    datasource = _datasource(dataset_path)
    loader = create_dataloader(datasource, batch_size=1, num_workers=1, prefetch_factor=1)
    iterator = iter(loader)
    first = next(iterator)
    view = first["images"][0, 2:5].numpy()  # only a NumPy view of a slice of one tensor survives
    expected = datasource[0]["images"][2:5].copy()
    del first
    gc.collect()
    rest = list(iterator)
    assert len(rest) == len(datasource) - 1
    np.testing.assert_array_equal(view, expected)


class GrowingDataset(Dataset):
    """Sample ``i`` is an (n, 3) float32 array with n growing with the batch number; every fifth has bfloat16."""

    def __init__(self, batch_size: int) -> None:
        self.batch_size = batch_size

    def __len__(self) -> int:
        return 8 * self.batch_size

    def __getitem__(self, index: int) -> dict:
        rows = 1 + 40 * (index // self.batch_size)
        sample = {"data": np.full((rows, 3), index, np.float32), "sample_index": index, "name": f"s{index}"}
        sample["half"] = torch.full((2,), float(index), dtype=torch.bfloat16)
        sample["empty"] = np.zeros((0, 2), np.int16)
        return sample


def test_larger_batches_grow_the_slots_and_dtypes_without_numpy_pass():
    dataset = GrowingDataset(batch_size=2)
    collate = SharedBatchCollate(slots_per_worker=3)  # the batch in use, the previous one, the next one
    loader = DataLoader(dataset, batch_size=2, num_workers=1, collate_fn=collate, prefetch_factor=1)
    slotted = []
    for number, batch in enumerate(loader):  # batches are dropped: slots are reused, replaced when too small
        reference = collate_samples([dataset[2 * number], dataset[2 * number + 1]])
        assert_same_batches([batch], [reference])
        assert batch["data"].shape == (2, 1 + 40 * number, 3) and batch["half"].dtype == torch.bfloat16
        assert batch["empty"].shape == (2, 0, 2) and batch["name"] == [f"s{2 * number}", f"s{2 * number + 1}"]
        slotted.append(in_slot(batch["data"]) and in_slot(batch["half"]))
    assert number == 7 and all(slotted)


def test_fallback_when_no_slot_is_free_gives_correct_batches(dataset_path):
    datasource = _datasource(dataset_path)
    collate = SharedBatchCollate(slots_per_worker=1)
    loader = DataLoader(
        create_dataloader(datasource).dataset, batch_size=3, num_workers=1, collate_fn=collate, prefetch_factor=2
    )
    batches = list(loader)  # kept: the one slot stays busy after the first batch
    assert_same_batches(batches, list(create_dataloader(datasource, batch_size=3)))
    assert [in_slot(batch["images"]) for batch in batches] == [True] + [False] * 7


def test_ragged_batches_still_name_the_samples(dataset_path):
    datasource = PymiaDatasource(
        dataset_path, PatchWiseIndexing((3, 4, 5), ignore_incomplete=False), DataExtractor(categories=("images",))
    )
    loader = create_dataloader(datasource, batch_size=len(datasource), num_workers=1, persistent_workers=False)
    iterator = iter(loader)
    try:
        next(iterator)
    except BatchError as error:
        message = str(error)
        # The traceback (a reference cycle through torch's reraise frame) would keep the iterator for the garbage
        # collector, which finalizes its queues before it, so that its shutdown waits 5 s for the worker.
        error.__traceback__ = None
    else:
        pytest.fail("no BatchError")
    del iterator
    assert re.search(r"sample 0 has shape \(3, 4, 5, 2\) but sample \d+ has shape .*SizeCorrection", message)


def test_non_persistent_workers_and_epochs(dataset_path):
    reference = list(_loader(dataset_path, 0))
    loader = _loader(dataset_path, 2, persistent_workers=False)
    first = list(loader)
    second = list(loader)  # new worker processes, new slots
    assert_same_batches(first, reference)
    assert_same_batches(second, reference)
    assert all(in_slot(batch["images"]) for batch in first + second)


_PINNED_FROM_SLOTS: list[bool] = []


def _fake_pin(data, device=None):
    """What pinning does to a batch: copy every tensor (into page-locked memory on a GPU machine)."""
    if isinstance(data, torch.Tensor):
        _PINNED_FROM_SLOTS.append(in_slot(data))
        return data.clone()
    if isinstance(data, dict):
        return {key: _fake_pin(value) for key, value in data.items()}
    return data


def test_pin_memory(dataset_path, monkeypatch):
    reference = list(_loader(dataset_path, 0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # without an accelerator PyTorch warns and does not pin
        batches = list(_loader(dataset_path, 2, pin_memory=True))
    assert_same_batches(batches, reference)
    if torch.cuda.is_available():  # pragma: no cover - GPU machines
        assert all(batch["images"].is_pinned() for batch in batches)
        return
    # The pin-memory thread path on a CPU machine: batches are unpickled in that thread and copied.
    import torch.utils.data._utils.pin_memory as pin_module

    monkeypatch.setattr(torch.accelerator, "is_available", lambda: True)
    monkeypatch.setattr(torch.accelerator, "current_accelerator", lambda *args, **kwargs: torch.device("cuda"))
    monkeypatch.setattr(torch.accelerator, "current_device_index", lambda: 0)
    monkeypatch.setattr(torch.accelerator, "set_device_index", lambda index: None)
    monkeypatch.setattr(pin_module, "pin_memory", _fake_pin)
    loader = _loader(dataset_path, 2, pin_memory=True, prefetch_factor=1)
    _PINNED_FROM_SLOTS.clear()
    for _ in range(3):  # 18 batches through 8 slots: each is freed once the pin thread has copied it
        batches = list(loader)
        assert loader._iterator._pin_memory and loader._iterator._pin_memory_thread.is_alive()
        assert_same_batches(batches, reference)
        assert not any(in_slot(batch["images"]) for batch in batches)  # the copies
    assert len(_PINNED_FROM_SLOTS) == 3 * len(reference) * 3 and all(_PINNED_FROM_SLOTS)
    del loader, batches
    gc.collect()


def test_nothing_left_after_the_loader_and_batches_are_gone(dataset_path):
    shm_before = set(os.listdir("/dev/shm")) if os.path.isdir("/dev/shm") else set()
    gc.collect()
    mapped_before = _mapped_slots()
    loader = _loader(dataset_path, 2, prefetch_factor=1)
    kept = list(loader) + list(loader)
    assert _mapped_slots() > mapped_before
    assert os.path.isdir("/dev/shm") is False or set(os.listdir("/dev/shm")) <= shm_before  # anonymous segments
    del loader
    gc.collect()
    assert _mapped_slots() > mapped_before  # kept batches keep their slots mapped ...
    assert kept[0]["images"].sum() != 0
    del kept
    gc.collect()
    assert _mapped_slots() == mapped_before  # ... until they are gone
    if os.path.isdir("/dev/shm"):
        assert set(os.listdir("/dev/shm")) <= shm_before


def test_collate_object_in_the_main_process_and_pickled():
    samples = [{"images": np.full((2, 2), i, np.float32), "sample_index": i} for i in range(3)]
    collate = SharedBatchCollate()
    assert_same_batches([collate(samples)], [collate_samples(samples)])  # not in a worker: plain collate
    clone = pickle.loads(pickle.dumps(collate))
    assert clone.slots_per_worker == 5 and repr(clone) == "SharedBatchCollate(slots_per_worker=5)"
    assert_same_batches([clone(samples)], [collate_samples(samples)])
    assert shared_batches_supported()
    for wrong in (0, 1.5, True):
        with pytest.raises(InvalidInputError, match="slots_per_worker"):
            SharedBatchCollate(slots_per_worker=wrong)
