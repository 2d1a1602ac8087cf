"""BatchLoader (pymia's own worker processes): the batches of create_dataloader for any worker count and start
method, epochs cut short, kept batches, worker errors and deaths, timeouts, samplers, pinning, clean shutdown."""

from __future__ import annotations

import gc
import os
import signal
import sys
import time

import numpy as np
import pytest

from tests.conftest import requires_torch

pytestmark = [
    requires_torch,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the checks read /proc/self/maps (Linux)"),
]

torch = pytest.importorskip("torch")

from torch.utils.data.distributed import DistributedSampler  # noqa: E402

from pymia.data.augmentation import RandomFlip, RandomGaussianNoise  # noqa: E402
from pymia.data.backends.batching import BatchError  # noqa: E402
from pymia.data.backends.pytorch import (  # noqa: E402
    BatchLoader,
    DistributedEvaluationSampler,
    PytorchDatasetAdapter,
    WorkerError,
    create_batch_loader,
    create_dataloader,
)
from pymia.data.backends.pytorch import batch_loader as batch_loader_module  # noqa: E402
from pymia.data.extraction import (  # noqa: E402
    ComposeExtractor,
    DataExtractor,
    IndexingExtractor,
    PatchWiseIndexing,
    PymiaDatasource,
    SliceIndexing,
    SubjectExtractor,
)
from pymia.data.transformation import ComposeTransform  # noqa: E402
from pymia.errors import InvalidInputError  # noqa: E402
from pymia.testing.datasets import create_test_dataset  # noqa: E402
from tests.data.backends.torch_batches import assert_same_batches, in_slot, slot_ranges  # noqa: E402

N_SUBJECTS, SHAPE = 3, (8, 10, 12)  # 24 axial slices of (10, 12); 12 patches of 4³ per subject


@pytest.fixture(scope="module")
def dataset_path(tmp_path_factory):
    return create_test_dataset(tmp_path_factory.mktemp("batch_loader") / "data.h5", n_subjects=N_SUBJECTS, shape=SHAPE)


def _datasource(path, mode="2d", extractor=None) -> PymiaDatasource:
    indexing = SliceIndexing() if mode == "2d" else PatchWiseIndexing((4, 4, 4))
    return PymiaDatasource(path, indexing, extractor or DataExtractor(categories=("images", "labels")))


def _augmentation():
    return ComposeTransform([RandomFlip(axes=(0, 1), p=0.5), RandomGaussianNoise(std=(0.1, 0.5))])


def _loader(path, workers, mode="2d", factory=create_batch_loader, **options):
    return factory(
        _datasource(path, mode),
        batch_size=4,
        shuffle=True,
        seed=5,
        transform=_augmentation(),
        num_workers=workers,
        **options,
    )


@pytest.mark.parametrize("mode", ["2d", "3d"])
@pytest.mark.parametrize("workers", [0, 1, 2, 3])
def test_batches_equal_the_dataloaders_for_any_worker_count(dataset_path, mode, workers):
    reference_loader = _loader(dataset_path, 0, mode, factory=create_dataloader)
    loader = _loader(dataset_path, workers, mode)
    try:
        for epoch in range(3):  # new order and augmentation per epoch; workers and slots are reused
            reference_loader.dataset.set_epoch(epoch)
            loader.dataset.set_epoch(epoch)
            batches = list(loader)
            assert_same_batches(batches, list(reference_loader))
            assert len(batches) == len(loader) == (6 if mode == "2d" else 9)
            if workers:  # all kept here: each worker has prefetch + 3 slots, then sends ordinary batches
                slotted = [in_slot(batch["images"]) for batch in batches]
                assert sum(slotted) == min(len(batches), (loader.prefetch + 3) * workers)
            del batches
    finally:
        loader.close()


@pytest.mark.slow
@pytest.mark.parametrize("start_method", ["spawn", "forkserver"])
def test_spawn_and_forkserver(dataset_path, start_method):
    reference = list(_loader(dataset_path, 0))
    with _loader(dataset_path, 2, multiprocessing_context=start_method) as loader:
        loader.dataset.set_epoch(1)  # reaches the workers with the epoch plan
        batches = list(loader)
        loader.dataset.set_epoch(0)
        assert_same_batches(list(loader), reference)
    assert batches[0]["images"].sum() != reference[0]["images"].sum()


def test_metadata_travels_next_to_the_batch(dataset_path):
    extractor = ComposeExtractor([DataExtractor(categories=("images",)), SubjectExtractor(), IndexingExtractor()])
    datasource = _datasource(dataset_path, extractor=extractor)
    with create_batch_loader(datasource, batch_size=5, num_workers=2) as loader:
        batches = list(loader)
    assert_same_batches(batches, list(create_dataloader(datasource, batch_size=5)))
    first_subject = datasource.get_subjects()[0]
    assert batches[0]["subject"][:2] == [first_subject] * 2 and len(batches[-1]["subject"]) == 4
    assert [len(batch["images"]) for batch in batches] == [5, 5, 5, 5, 4]


def test_an_epoch_cut_short_does_not_leak_into_the_next(dataset_path):
    reference = list(_loader(dataset_path, 0))
    with _loader(dataset_path, 2, prefetch=3) as loader:
        for stop in (0, 1, 3):
            iterator = iter(loader)
            for _ in range(stop):
                next(iterator)
            assert_same_batches(list(loader), reference)  # a new epoch cancels the unfinished one
        partial = iter(loader)
        first = next(partial)
        assert_same_batches([first], reference[:1])
        second = iter(loader)
        with pytest.raises(StopIteration):
            next(partial)  # cancelled by the new epoch
        assert_same_batches(list(second), reference)


def test_kept_batches_stay_valid_and_slots_run_out_into_ordinary_batches(dataset_path):
    reference = list(_loader(dataset_path, 0)) * 4
    with _loader(dataset_path, 1, prefetch=1) as loader:  # 4 slots
        kept = [batch for _ in range(4) for batch in loader]
    assert_same_batches(kept, reference)
    slotted = [in_slot(batch["images"]) for batch in kept]
    assert slotted[:4] == [True] * 4 and not any(slotted[4:])


def test_slots_are_reused_when_batches_are_dropped(dataset_path):
    with _loader(dataset_path, 2) as loader:
        for _ in range(4):
            for batch in loader:
                assert in_slot(batch["images"])
        assert len(loader._workers.slots[0]) <= loader.prefetch + 3


def test_larger_batches_grow_a_slot(dataset_path):
    datasource = _datasource(dataset_path)
    adapter = PytorchDatasetAdapter(datasource)
    with BatchLoader(adapter, batch_size=2, num_workers=1, sampler=list(range(24))) as loader:
        small = list(loader)
        loader.batch_size = 8
        large = list(loader)
    assert_same_batches(
        small + large,
        list(create_dataloader(datasource, batch_size=2)) + list(create_dataloader(datasource, batch_size=8)),
    )


def test_ragged_batch_raises_the_workers_batch_error_with_its_traceback(dataset_path):
    class Ragged(PytorchDatasetAdapter):
        def __getitems__(self, indices):
            samples = super().__getitems__(indices)
            if 5 in indices:
                samples[0]["images"] = samples[0]["images"][:, :4]
            return samples

    loader = BatchLoader(Ragged(_datasource(dataset_path)), batch_size=4, num_workers=2)
    with loader, pytest.raises(BatchError, match=r"cannot batch entry 'images'.*sample 4 has shape") as info:
        list(loader)
    # batches 0 and 1 are the first chunk of worker 0 (batches_per_message=2)
    assert any("raised in BatchLoader worker 0 while reading batch 1" in note for note in info.value.__notes__)
    assert "Traceback" in info.value.__notes__[0]


def test_loader_is_usable_after_a_worker_error(dataset_path):
    class FailsOnce(PytorchDatasetAdapter):
        failed = torch.zeros((), dtype=torch.int64).share_memory_()

        def __getitems__(self, indices):
            if 9 in indices and int(self.failed) == 0:
                self.failed.fill_(1)
                raise OSError("disk hiccup")
            return super().__getitems__(indices)

    datasource = _datasource(dataset_path)
    with BatchLoader(FailsOnce(datasource), batch_size=4, num_workers=2) as loader:
        with pytest.raises(OSError, match="disk hiccup"):
            list(loader)
        assert_same_batches(list(loader), list(create_dataloader(datasource, batch_size=4)))


class _Unpicklable(Exception):
    def __reduce__(self):
        raise TypeError("no pickling")


def test_an_unpicklable_worker_error_arrives_as_text(dataset_path):
    class Fails(PytorchDatasetAdapter):
        def __getitems__(self, indices):
            raise _Unpicklable("custom failure")

    loader = BatchLoader(Fails(_datasource(dataset_path)), batch_size=4, num_workers=1)
    with loader, pytest.raises(WorkerError, match=r"(?s)_Unpicklable in BatchLoader worker 0 .*custom failure"):
        list(loader)


def test_a_worker_that_dies_is_reported(dataset_path):
    class Dies(PytorchDatasetAdapter):
        def __getitems__(self, indices):
            if 13 in indices:
                os.kill(os.getpid(), signal.SIGKILL)
            return super().__getitems__(indices)

    loader = BatchLoader(Dies(_datasource(dataset_path)), batch_size=4, num_workers=2)
    with pytest.raises(WorkerError, match=r"worker 1 \(pid \d+\) exited unexpectedly with exit code -9"):
        list(loader)
    assert loader._workers is None  # closed; the next iteration starts new workers
    loader.close()


def _die_if_second_worker(worker_id: int) -> None:
    if worker_id == 1:
        os.kill(os.getpid(), signal.SIGKILL)


@pytest.mark.parametrize("batch_size", [4, 12])  # 6 batches, or 2: then the dead worker has none to read
def test_a_worker_that_dies_before_reading_is_reported(dataset_path, batch_size):
    adapter = PytorchDatasetAdapter(_datasource(dataset_path))
    loader = BatchLoader(adapter, batch_size=batch_size, num_workers=2, worker_init_fn=_die_if_second_worker)
    with pytest.raises(WorkerError, match=r"worker 1 \(pid \d+\) exited unexpectedly with exit code -9"):
        list(loader)
    assert loader._workers is None
    loader.close()


def test_timeout_names_the_worker(dataset_path):
    class Slow(PytorchDatasetAdapter):
        def __getitems__(self, indices):
            time.sleep(2)
            return super().__getitems__(indices)

    loader = BatchLoader(Slow(_datasource(dataset_path)), batch_size=4, num_workers=1, timeout=0.2)
    with loader, pytest.raises(WorkerError, match=r"worker 0 sent no batch within timeout=0.2 s"):
        next(iter(loader))


def test_samplers_drop_last_and_len(dataset_path):
    datasource = _datasource(dataset_path)
    adapter = PytorchDatasetAdapter(datasource)
    sampler = DistributedSampler(adapter, num_replicas=2, rank=1, shuffle=True, seed=3)
    with BatchLoader(adapter, batch_size=5, sampler=sampler, num_workers=2, drop_last=True) as loader:
        assert len(loader) == 2
        orders = []
        for epoch in range(2):
            sampler.set_epoch(epoch)
            batches = list(loader)
            assert [len(batch["images"]) for batch in batches] == [5, 5]
            orders.append([int(i) for batch in batches for i in batch["sample_index"]])
            sampler.set_epoch(epoch)
            assert orders[-1] == list(sampler)[:10]
    assert orders[0] != orders[1]
    evaluation = DistributedEvaluationSampler(adapter, num_replicas=2, rank=0)
    with BatchLoader(adapter, batch_size=5, sampler=evaluation, num_workers=2) as loader:
        assert [int(i) for batch in loader for i in batch["sample_index"]] == list(evaluation)


def test_worker_init_fn_and_global_seeds(dataset_path):
    class Draws(PytorchDatasetAdapter):
        def __getitems__(self, indices):
            samples = super().__getitems__(indices)
            for sample in samples:
                sample["draw"] = float(np.random.random()) + float(torch.rand(()))  # noqa: NPY002
                sample["init"] = int(os.environ.get("PYMIA_TEST_INIT", "-1"))
            return samples

    def draws(seed):
        with BatchLoader(
            Draws(_datasource(dataset_path)), batch_size=4, num_workers=2, seed=seed, worker_init_fn=_set_init_variable
        ) as loader:
            batches = list(loader)
        return [d for b in batches for d in b["draw"].tolist()], [i for b in batches for i in b["init"].tolist()]

    first, init = draws(1)
    assert first == draws(1)[0] != draws(2)[0]
    assert init == [0] * 8 + [1] * 8 + [0] * 8  # chunks of 2 batches of 4 dealt in turn


def _set_init_variable(worker_id: int) -> None:
    os.environ["PYMIA_TEST_INIT"] = str(worker_id)


def test_pin_memory_copies_and_frees_the_slot(dataset_path, monkeypatch):
    reference = list(_loader(dataset_path, 0))
    pinned = []

    def fake_pin(tensor):
        pinned.append(in_slot(tensor))
        return tensor.clone()

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(batch_loader_module, "_pin", fake_pin)
    with _loader(dataset_path, 2, pin_memory=True, prefetch=1) as loader:
        for _ in range(3):  # 18 batches through 8 slots: each slot is free again once its batch is copied
            batches = list(loader)
            assert_same_batches(batches, reference)
            assert not any(in_slot(batch["images"]) for batch in batches)
    assert len(pinned) == 3 * 6 * 3 and all(pinned)


def test_close_stops_the_workers_and_unmaps_the_slots(dataset_path):
    gc.collect()
    mapped_before = len(slot_ranges())
    shm_before = set(os.listdir("/dev/shm"))
    loader = _loader(dataset_path, 2)
    kept = list(loader)
    processes = list(loader._workers.processes)
    loader.close()
    assert not any(process.is_alive() for process in processes)
    assert kept[0]["images"].abs().sum() > 0  # kept batches stay readable after close
    assert_same_batches(list(loader), list(_loader(dataset_path, 0)))  # new workers on demand
    processes = list(loader._workers.processes)
    del loader, kept
    gc.collect()
    time.sleep(0.1)
    assert not any(process.is_alive() for process in processes)  # the finalizer stopped them
    assert len(slot_ranges()) == mapped_before
    assert set(os.listdir("/dev/shm")) <= shm_before


def test_invalid_arguments_say_what_to_pass(dataset_path):
    adapter = PytorchDatasetAdapter(_datasource(dataset_path))
    for options, message in (
        ({"batch_size": 0}, "batch_size must be an int >= 1"),
        ({"num_workers": -1}, "num_workers must be an int >= 0"),
        ({"prefetch": True}, "prefetch must be an int >= 1"),
        ({"batches_per_message": 0}, "batches_per_message must be an int >= 1"),
        ({"timeout": -1}, "timeout must be >= 0"),
    ):
        with pytest.raises(InvalidInputError, match=message):
            BatchLoader(adapter, **options)
    with pytest.raises(InvalidInputError, match="pass the transform to the adapter"):
        create_batch_loader(adapter, transform=_augmentation())
    assert repr(BatchLoader(adapter)) == "BatchLoader(batch_size=16, num_workers=0, prefetch=4, batches=2)"


@pytest.mark.parametrize("prefetch", [1, 2, 4])
def test_a_worker_reads_at_most_prefetch_batches_ahead(dataset_path, prefetch):
    class Counts(PytorchDatasetAdapter):
        reads = torch.zeros((), dtype=torch.int64).share_memory_()

        def __getitems__(self, indices):
            self.reads.add_(1)
            return super().__getitems__(indices)

    adapter = Counts(_datasource(dataset_path))
    with BatchLoader(adapter, batch_size=2, num_workers=1, prefetch=prefetch) as loader:  # 12 batches
        iterator = iter(loader)
        for taken in range(1, 4):
            next(iterator)
            returned = taken - taken % max(1, prefetch // 2)  # credits go back in groups of prefetch // 2
            deadline = time.monotonic() + 30  # the worker reads ahead until it runs out of credits ...
            while int(adapter.reads) < prefetch + returned and time.monotonic() < deadline:
                time.sleep(0.01)
            time.sleep(0.2)  # ... and then no further
            assert int(adapter.reads) == prefetch + returned


@pytest.mark.parametrize(
    ("prefetch", "batches_per_message", "workers"), [(1, 1, 2), (1, 3, 1), (2, 2, 2), (3, 2, 3), (4, 4, 2), (5, 3, 2)]
)
def test_every_prefetch_and_chunk_size_delivers_all_batches(dataset_path, prefetch, batches_per_message, workers):
    """No combination may stall: a worker holding a part-built chunk always gets credits back (timeout guards)."""
    reference = list(_loader(dataset_path, 0))
    options = {"prefetch": prefetch, "batches_per_message": batches_per_message, "timeout": 20}
    with _loader(dataset_path, workers, **options) as loader:
        for _ in range(2):
            assert_same_batches(list(loader), reference)
