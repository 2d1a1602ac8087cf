"""PyTorch adapter: tensors without copies, batched reads, collate with metadata, workers under every
start method, seeded augmentation independent of the worker count, samplers and DDP with gloo."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys

import numpy as np
import pytest

from tests.conftest import requires_torch

pytestmark = requires_torch

torch = pytest.importorskip("torch")

from pymia.data.augmentation import RandomFlip, RandomGaussianNoise  # noqa: E402
from pymia.data.backends.batching import BatchError  # noqa: E402
from pymia.data.backends.pytorch import (  # noqa: E402
    DistributedEvaluationSampler,
    PytorchDatasetAdapter,
    SeededRandomSampler,
    SubsetSequentialSampler,
    collate_samples,
    create_batch_loader,
    create_dataloader,
    sample_to_tensors,
    seed_worker,
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
from tests.data.backends.torch_batches import assert_same_batches  # noqa: E402

N_SUBJECTS, SHAPE = 3, (6, 10, 12)  # 18 axial slices of (10, 12)


@pytest.fixture(scope="module")
def dataset_path(tmp_path_factory):
    return create_test_dataset(tmp_path_factory.mktemp("torch") / "data.h5", n_subjects=N_SUBJECTS, shape=SHAPE)


def _slices(path, extractor=None) -> PymiaDatasource:
    return PymiaDatasource(path, SliceIndexing(), extractor or DataExtractor(categories=("images", "labels")))


class CountingDatasource:
    """Wraps a datasource and records how it was called (batched or one by one)."""

    def __init__(self, datasource):
        self.datasource = datasource
        self.batched_calls: list[list[int]] = []
        self.single_calls = 0

    def __len__(self):
        return len(self.datasource)

    def __getitem__(self, index):
        self.single_calls += 1
        return self.datasource[index]

    def __getitems__(self, indices):
        self.batched_calls.append(list(indices))
        return self.datasource.__getitems__(indices)


def _all_batches(loader, epoch=None):
    if epoch is not None:
        loader.dataset.set_epoch(epoch)
    return list(loader)


def test_getitem_returns_tensors_sharing_the_arrays_memory(dataset_path):
    datasource = _slices(dataset_path)
    adapter = PytorchDatasetAdapter(datasource)
    assert len(adapter) == N_SUBJECTS * SHAPE[0]
    sample = adapter[7]
    assert sample["images"].shape == (10, 12, 2) and sample["images"].dtype == torch.float32
    assert sample["labels"].shape == (10, 12, 1) and sample["labels"].dtype == torch.uint8
    assert sample["sample_index"] == 7
    np.testing.assert_array_equal(sample["images"].numpy(), datasource[7]["images"])
    array = np.arange(6, dtype=np.float32).reshape(2, 3)
    assert sample_to_tensors({"images": array})["images"].data_ptr() == array.ctypes.data  # no copy


def test_read_only_flipped_and_big_endian_arrays_become_safe_tensors():
    read_only = np.arange(4, dtype=np.float32)
    read_only.flags.writeable = False
    flipped = np.arange(4, dtype=np.int16)[::-1]
    big_endian = np.arange(4, dtype=">f8")
    tensors = sample_to_tensors({"a": read_only, "b": flipped, "c": big_endian, "subject": "S1"})
    assert tensors["a"].data_ptr() != read_only.ctypes.data  # copied: writing must not hit read-only memory
    assert tensors["b"].tolist() == [3, 2, 1, 0]
    assert tensors["c"].dtype == torch.float64 and tensors["c"].tolist() == [0, 1, 2, 3]
    assert tensors["subject"] == "S1"


def test_dataloader_reads_batches_through_getitems(dataset_path):
    counting = CountingDatasource(_slices(dataset_path))
    loader = create_dataloader(counting, batch_size=4)
    batches = list(loader)
    assert counting.single_calls == 0
    assert counting.batched_calls[:2] == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert batches[0]["images"].shape == (4, 10, 12, 2)
    assert batches[-1]["images"].shape == (2, 10, 12, 2)  # 18 = 4 * 4 + 2
    assert torch.cat([b["sample_index"] for b in batches]).tolist() == list(range(18))


def test_collate_keeps_subject_and_index_expression_next_to_the_batch(dataset_path):
    extractor = ComposeExtractor([DataExtractor(categories=("images",)), SubjectExtractor(), IndexingExtractor()])
    loader = create_dataloader(_slices(dataset_path, extractor), batch_size=8)
    batch = next(iter(loader))
    assert batch["images"].shape == (8, 10, 12, 2)
    assert batch["subject"] == ["Subject_1"] * 6 + ["Subject_2"] * 2
    assert batch["subject_index"].tolist() == [0] * 6 + [1] * 2
    assert all(isinstance(e, IndexExpression) for e in batch["index_expr"])
    assert [e.expression[0] for e in batch["index_expr"]] == [0, 1, 2, 3, 4, 5, 0, 1]


def test_collate_of_numpy_samples_and_string_arrays():
    samples = [
        {"images": np.full((2, 2), i, np.float32), "names": np.array(["T1", "T2"]), "sample_index": i} for i in range(3)
    ]
    batch = collate_samples(samples)
    assert batch["images"].shape == (3, 2, 2) and batch["images"][2, 0, 0] == 2
    assert batch["sample_index"].tolist() == [0, 1, 2]
    assert [list(n) for n in batch["names"]] == [["T1", "T2"]] * 3


def test_ragged_samples_name_the_samples_shapes_and_fix(dataset_path):
    """PatchWiseIndexing(ignore_incomplete=False) gives smaller border patches (0.3.4 behaviour)."""
    datasource = PymiaDatasource(
        dataset_path, PatchWiseIndexing((4, 4, 4), ignore_incomplete=False), DataExtractor(categories=("images",))
    )
    loader = create_dataloader(datasource, batch_size=len(datasource))
    with pytest.raises(
        BatchError, match=r"sample 0 has shape \(4, 4, 4, 2\) but sample \d+ has shape .*SizeCorrection"
    ):
        next(iter(loader))


def test_wrong_dtypes_are_reported_per_sample():
    with pytest.raises(BatchError, match=r"'images' of sample 5 has dtype object"):
        collate_samples([{"images": np.array([1, None], dtype=object), "sample_index": 5}])
    with pytest.raises(BatchError, match=r"sample 0 has dtype float32 but sample 1 has dtype float64"):
        collate_samples(
            [{"images": np.zeros(2, np.float32), "sample_index": 0}, {"images": np.zeros(2), "sample_index": 1}]
        )
    with pytest.raises(BatchError, match="different entries"):
        collate_samples([{"a": 1}, {"b": 1}])
    assert issubclass(BatchError, InvalidInputError)


def test_adapter_is_picklable_after_reading(dataset_path):
    adapter = PytorchDatasetAdapter(_slices(dataset_path))
    before = adapter[3]
    clone = pickle.loads(pickle.dumps(adapter))
    torch.testing.assert_close(clone[3]["images"], before["images"])


@pytest.mark.parametrize(
    "start_method",
    ["fork", pytest.param("spawn", marks=pytest.mark.slow), pytest.param("forkserver", marks=pytest.mark.slow)],
)
def test_two_workers_return_the_same_batches_as_the_main_process(dataset_path, start_method):
    """The parent reads first (its HDF5 handle is open), then workers are forked or spawned."""
    datasource = _slices(dataset_path)
    datasource[0]  # open the file in the parent before the workers start
    reference = list(create_dataloader(datasource, batch_size=4))
    loader = create_dataloader(datasource, batch_size=4, num_workers=2, multiprocessing_context=start_method)
    assert_same_batches(list(loader), reference)


def _augmentation():
    return ComposeTransform([RandomFlip(axes=(0, 1), p=0.5), RandomGaussianNoise(std=(0.1, 0.5))])


@pytest.mark.parametrize("persistent", [True, False])
def test_seeded_augmentation_is_the_same_with_zero_and_two_workers(dataset_path, persistent):
    def loader(workers, seed=3):
        return create_dataloader(
            _slices(dataset_path),
            batch_size=4,
            shuffle=True,
            seed=seed,
            transform=_augmentation(),
            num_workers=workers,
            persistent_workers=persistent if workers else False,
        )

    serial, parallel = loader(0), loader(2)
    epoch0 = _all_batches(serial, epoch=0)
    assert_same_batches(_all_batches(parallel, epoch=0), epoch0)
    epoch1 = _all_batches(serial, epoch=1)
    assert_same_batches(_all_batches(parallel, epoch=1), epoch1)  # set_epoch reaches persistent workers
    by_index0 = {int(i): img for b in epoch0 for i, img in zip(b["sample_index"], b["images"])}
    by_index1 = {int(i): img for b in epoch1 for i, img in zip(b["sample_index"], b["images"])}
    assert not torch.equal(by_index0[5], by_index1[5])  # a new epoch draws new augmentation
    other_seed = _all_batches(loader(0, seed=4), epoch=0)
    assert not torch.equal(other_seed[0]["images"], epoch0[0]["images"])


def test_adapter_forwards_the_epoch_to_the_datasource():
    class EpochDatasource:
        def __init__(self):
            self.epochs = []

        def __len__(self):
            return 2

        def __getitem__(self, index):
            return {"sample_index": index}

        def set_epoch(self, epoch):
            self.epochs.append(epoch)

    datasource = EpochDatasource()
    adapter = PytorchDatasetAdapter(datasource)
    adapter[0]
    adapter.set_epoch(2)
    adapter.__getitems__([0, 1])
    adapter[1]
    assert datasource.epochs == [0, 2]
    with pytest.raises(InvalidInputError, match="epoch must be >= 0"):
        adapter.set_epoch(-1)
    with pytest.raises(InvalidInputError, match="seed"):
        PytorchDatasetAdapter(datasource, seed=-3)


def test_create_dataloader_refuses_a_second_transform_for_an_adapter(dataset_path):
    adapter = PytorchDatasetAdapter(_slices(dataset_path), _augmentation(), seed=1)
    with pytest.raises(InvalidInputError, match="has its own"):
        create_dataloader(adapter, transform=_augmentation())


@pytest.mark.parametrize("factory", [create_dataloader, create_batch_loader, PytorchDatasetAdapter])
def test_a_path_or_other_object_instead_of_a_datasource_says_how_to_open_it(dataset_path, factory):
    with pytest.raises(InvalidInputError, match=r"got the path '.*data.h5'; open the dataset first, e.g. PymiaData"):
        factory(dataset_path)
    with pytest.raises(InvalidInputError, match=r"expected a datasource .* got int; build one with PymiaDatasource"):
        factory(3)


def test_seeded_random_sampler_follows_the_adapter_epoch_unless_set(dataset_path):
    adapter = PytorchDatasetAdapter(_slices(dataset_path))
    sampler = SeededRandomSampler(adapter, seed=2)
    epoch0 = list(sampler)
    assert sorted(epoch0) == list(range(18)) and list(sampler) == epoch0
    adapter.set_epoch(1)
    epoch1 = list(sampler)
    assert epoch1 != epoch0
    sampler.set_epoch(0)  # an explicit epoch wins over the adapter's
    assert list(sampler) == epoch0


def test_seed_worker_seeds_the_global_generators_from_torch():
    """What the DataLoader does in a worker: torch's per-worker seed decides NumPy's and Python's state."""
    import random

    torch.manual_seed(123)
    seed_worker(0)
    first = (np.random.random(), random.random())  # noqa: NPY002 - the legacy global state is under test
    torch.manual_seed(123)
    seed_worker(0)
    assert (np.random.random(), random.random()) == first  # noqa: NPY002


def test_subset_sequential_sampler_also_at_its_034_module_paths():
    from pymia.data.backends.pytorch.dataset import PytorchDatasetAdapter as adapter_034
    from pymia.data.backends.pytorch.sample import SubsetSequentialSampler as sampler_034

    assert sampler_034 is SubsetSequentialSampler and adapter_034 is PytorchDatasetAdapter
    sampler = SubsetSequentialSampler(np.array([5, 1, 3]))
    assert list(sampler) == [5, 1, 3] and len(sampler) == 3


def test_evaluation_sampler_reads_every_sample_once_and_keeps_subjects_whole(dataset_path):
    adapter = PytorchDatasetAdapter(_slices(dataset_path))  # subjects own samples 0-5, 6-11, 12-17
    shards = [list(DistributedEvaluationSampler(adapter, num_replicas=2, rank=r)) for r in range(2)]
    # equal halves would cut at 9; the subject borders 6 and 12 are equally near, the first one wins
    assert shards == [list(range(0, 6)), list(range(6, 18))]
    plain = [list(DistributedEvaluationSampler(adapter, 4, r, by_subject=False)) for r in range(4)]
    assert sorted(i for shard in plain for i in shard) == list(range(18)) and [len(s) for s in plain] == [4, 5, 4, 5]
    with pytest.raises(InvalidInputError, match=r"torch\.distributed is not initialized"):
        DistributedEvaluationSampler(adapter)


def test_missing_torch_names_the_extra():
    code = (
        "import sys; sys.modules['torch'] = None\n"
        "try:\n    import pymia.data.backends.pytorch\n"
        "except ImportError as e:\n    print(type(e).__name__, e)\n"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "MissingDependencyError" in output and "pip install pymia[torch]" in output


def _ddp_worker(rank: int, world_size: int, dataset_path: str, port: int, out_dir: str) -> None:
    """One DDP rank: record the sample numbers it reads per epoch (training) and in evaluation."""
    import torch.distributed as dist
    from torch.utils.data.distributed import DistributedSampler

    os.environ["MASTER_ADDR"], os.environ["MASTER_PORT"] = "127.0.0.1", str(port)
    dist.init_process_group("gloo", rank=rank, world_size=world_size)
    adapter = PytorchDatasetAdapter(_slices(dataset_path))
    seen = {}
    sampler = DistributedSampler(adapter, shuffle=True, seed=11)
    loader = create_dataloader(adapter, batch_size=4, sampler=sampler)
    for epoch in range(2):
        sampler.set_epoch(epoch)
        seen[f"train{epoch}"] = [int(i) for batch in loader for i in batch["sample_index"]]
    with create_batch_loader(adapter, batch_size=4, sampler=sampler, num_workers=2) as batch_loader:
        for epoch in range(2):
            sampler.set_epoch(epoch)
            seen[f"batch_loader{epoch}"] = [int(i) for batch in batch_loader for i in batch["sample_index"]]
    evaluation = create_dataloader(adapter, batch_size=4, sampler=DistributedEvaluationSampler(adapter))
    seen["evaluation"] = [int(i) for batch in evaluation for i in batch["sample_index"]]
    gathered = [None] * world_size
    dist.all_gather_object(gathered, seen)
    if rank == 0:
        with open(os.path.join(out_dir, "seen.pkl"), "wb") as file:
            pickle.dump(gathered, file)
    dist.destroy_process_group()


@pytest.mark.slow
def test_ddp_gloo_two_ranks_see_every_sample_once_per_epoch(dataset_path, tmp_path):
    """18 samples over 2 ranks: DistributedSampler covers all once (no padding needed) and reshuffles with
    set_epoch; DistributedEvaluationSampler covers all once with unequal shards."""
    import socket

    import torch.multiprocessing as mp

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    mp.spawn(_ddp_worker, args=(2, str(dataset_path), port, str(tmp_path)), nprocs=2, join=True)
    with open(tmp_path / "seen.pkl", "rb") as file:
        ranks = pickle.load(file)
    for key in ("train0", "train1", "evaluation"):
        combined = ranks[0][key] + ranks[1][key]
        assert sorted(combined) == list(range(18)), key
    assert ranks[0]["train0"] != ranks[0]["train1"]  # set_epoch reshuffled
    for rank in ranks:  # BatchLoader with 2 workers per rank: the DataLoader's samples, in the same order
        assert (rank["batch_loader0"], rank["batch_loader1"]) == (rank["train0"], rank["train1"])
    assert ranks[0]["evaluation"] == list(range(6)) and ranks[1]["evaluation"] == list(range(6, 18))
