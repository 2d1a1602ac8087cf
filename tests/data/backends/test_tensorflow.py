"""tf.data pipeline: inferred signature, every sample once per epoch, seeded shuffling, worker processes,
sharding for tf.distribute, clear errors for ragged samples, and 0.3.4's get_tf_generator."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from tests.conftest import requires_tf

pytestmark = requires_tf

tf = pytest.importorskip("tensorflow")

from pymia.data.augmentation import RandomFlip, RandomGaussianNoise  # noqa: E402
from pymia.data.backends.tensorflow import (  # noqa: E402
    create_tf_dataset,
    distributed_dataset_fn,
    get_tf_generator,
    infer_signature,
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
from pymia.data.transformation import ComposeTransform  # noqa: E402
from pymia.errors import InvalidInputError  # noqa: E402
from pymia.testing.datasets import create_test_dataset  # noqa: E402

N_SUBJECTS, SHAPE = 3, (5, 8, 10)  # 15 axial slices of (8, 10)
N_SAMPLES = N_SUBJECTS * SHAPE[0]


@pytest.fixture(scope="module")
def dataset_path(tmp_path_factory):
    return create_test_dataset(tmp_path_factory.mktemp("tf") / "data.h5", n_subjects=N_SUBJECTS, shape=SHAPE)


def _slices(path, extractor=None) -> PymiaDatasource:
    return PymiaDatasource(path, SliceIndexing(), extractor or DataExtractor(categories=("images", "labels")))


def _epoch(dataset) -> list[dict[str, np.ndarray]]:
    return [{key: value.numpy() for key, value in element.items()} for element in dataset]


def _indices(elements) -> list[int]:
    return [int(i) for element in elements for i in np.atleast_1d(element["sample_index"])]


def test_a_path_instead_of_a_datasource_says_how_to_open_it(dataset_path):
    with pytest.raises(InvalidInputError, match=r"got the path '.*data.h5'; open the dataset first"):
        create_tf_dataset(str(dataset_path), batch_size=2)


def test_signature_is_inferred_and_values_match_the_datasource(dataset_path):
    datasource = _slices(dataset_path)
    dataset = create_tf_dataset(datasource, batch_size=4)
    spec = dataset.element_spec
    assert spec["images"].shape.as_list() == [None, 8, 10, 2] and spec["images"].dtype == tf.float32
    assert spec["labels"].shape.as_list() == [None, 8, 10, 1] and spec["labels"].dtype == tf.uint8
    assert spec["sample_index"].shape.as_list() == [None] and spec["sample_index"].dtype == tf.int64
    elements = _epoch(dataset)
    assert [len(e["sample_index"]) for e in elements] == [4, 4, 4, 3]
    assert _indices(elements) == list(range(N_SAMPLES))
    np.testing.assert_array_equal(elements[1]["images"][2], datasource[6]["images"])
    single = create_tf_dataset(datasource)
    assert single.element_spec["images"].shape.as_list() == [8, 10, 2]
    fixed = create_tf_dataset(datasource, batch_size=4, drop_remainder=True)
    assert fixed.element_spec["images"].shape.as_list() == [4, 8, 10, 2]
    assert len(_epoch(fixed)) == 3


def test_seeded_shuffle_is_reproducible_and_changes_every_epoch(dataset_path):
    first = create_tf_dataset(_slices(dataset_path), batch_size=4, shuffle=True, seed=7)
    second = create_tf_dataset(_slices(dataset_path), batch_size=4, shuffle=True, seed=7)
    epoch0, epoch1 = _indices(_epoch(first)), _indices(_epoch(first))
    assert sorted(epoch0) == sorted(epoch1) == list(range(N_SAMPLES))
    assert epoch0 != epoch1
    assert _indices(_epoch(second)) == epoch0 and _indices(_epoch(second)) == epoch1
    resumed = create_tf_dataset(_slices(dataset_path), batch_size=4, shuffle=True, seed=7, initial_epoch=1)
    assert _indices(_epoch(resumed)) == epoch1


def test_worker_processes_give_the_same_augmented_elements(dataset_path):
    """Reads in 2 processes (fork) equal reads in tf.data's threads, augmentation included."""

    def pipeline(workers):
        augmentation = ComposeTransform([RandomFlip(axes=(0, 1)), RandomGaussianNoise(std=(0.1, 0.3))])
        return create_tf_dataset(
            _slices(dataset_path), batch_size=4, shuffle=True, seed=5, transform=augmentation, num_workers=workers
        )

    threads, processes = pipeline(0), pipeline(2)
    for _ in range(2):  # two epochs: new draws, still equal
        expected, actual = _epoch(threads), _epoch(processes)
        for a, b in zip(expected, actual):
            for key in a:
                np.testing.assert_array_equal(a[key], b[key])
    plain = {
        int(i): img
        for e in _epoch(create_tf_dataset(_slices(dataset_path), batch_size=4))
        for i, img in zip(e["sample_index"], e["images"])
    }
    augmented = {int(i): img for e in expected for i, img in zip(e["sample_index"], e["images"])}
    assert not np.allclose(plain[3], augmented[3])


@pytest.mark.parametrize(("mode", "lengths"), [("pad", [8, 8]), ("drop", [7, 7]), ("exact", [7, 8])])
def test_input_context_shards_cover_the_samples(dataset_path, mode, lengths):
    datasource = _slices(dataset_path)
    make = distributed_dataset_fn(datasource, global_batch_size=4, shard_mode=mode)
    shards = []
    for pipeline in range(2):
        context = tf.distribute.InputContext(num_input_pipelines=2, input_pipeline_id=pipeline, num_replicas_in_sync=2)
        dataset = make(context)
        assert dataset.element_spec["images"].shape.as_list() == [None, 8, 10, 2]  # per-replica batch 2
        shards.append(_indices(_epoch(dataset)))
    assert [len(s) for s in shards] == lengths
    combined = shards[0] + shards[1]
    if mode == "exact":
        assert combined == list(range(N_SAMPLES))
    elif mode == "drop":
        assert len(set(combined)) == 14
    else:
        assert set(combined) == set(range(N_SAMPLES))
    with pytest.raises(InvalidInputError, match="set from the InputContext"):
        distributed_dataset_fn(datasource, 4, batch_size=2)


def test_mirrored_strategy_distributes_the_dataset(dataset_path):
    strategy = tf.distribute.MirroredStrategy(["/cpu:0"])
    distributed = strategy.distribute_datasets_from_function(
        distributed_dataset_fn(_slices(dataset_path), global_batch_size=4, shuffle=True, seed=1)
    )
    seen = []
    for element in distributed:
        for local in strategy.experimental_local_results(element["sample_index"]):
            seen.extend(local.numpy().tolist())
    assert sorted(seen) == list(range(N_SAMPLES))


@pytest.mark.parametrize("workers", [0, 2])
def test_text_entries_become_strings_and_other_metadata_is_left_out(dataset_path, workers):
    extractor = ComposeExtractor([DataExtractor(categories=("images",)), SubjectExtractor(), IndexingExtractor()])
    dataset = create_tf_dataset(_slices(dataset_path, extractor), batch_size=6, num_workers=workers)
    spec = dataset.element_spec
    assert set(spec) == {"images", "subject", "subject_index", "sample_index"}  # no IndexExpression
    assert spec["subject"].dtype == tf.string
    first = next(iter(dataset))
    assert [s.decode() for s in first["subject"].numpy()] == ["Subject_1"] * 5 + ["Subject_2"]
    with pytest.raises(InvalidInputError, match="'index_expr' holds IndexExpression"):
        create_tf_dataset(_slices(dataset_path, extractor), keys=("images", "index_expr"))
    with pytest.raises(InvalidInputError, match="'mask' is not in the sample"):
        create_tf_dataset(_slices(dataset_path, extractor), keys=("mask",))


@pytest.mark.parametrize("workers", [0, 2])
def test_ragged_samples_fail_with_the_sample_and_shapes(dataset_path, workers):
    datasource = PymiaDatasource(
        dataset_path, PatchWiseIndexing((4, 4, 4), ignore_incomplete=False), DataExtractor(categories=("images",))
    )
    with pytest.raises(
        tf.errors.OpError,
        match=r"entry 'images' of sample \d+ has shape \(4, 4, 2, 2\), but .* is \(4, 4, 4, 2\).*SizeCorrection",
    ):
        _epoch(create_tf_dataset(datasource, batch_size=4, num_workers=workers))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"batch_size": 0}, "batch_size must be a positive int"),
        ({"num_workers": -1}, "num_workers must be >= 0"),
        ({"shard_mode": "even"}, "shard_mode must be one of"),
        ({"num_shards": 2, "shard_index": 2}, "rank=2, world_size=2"),
        ({"shard_mode": "exact", "shuffle": True}, "cannot shuffle"),
    ],
)
def test_invalid_options(dataset_path, options, message):
    with pytest.raises(InvalidInputError, match=message):
        create_tf_dataset(_slices(dataset_path), **options)


def test_infer_signature_rejects_samples_without_tensors():
    with pytest.raises(InvalidInputError, match="no entry that can become a tensor"):
        infer_signature({"index_expr": object()})


def test_get_tf_generator_yields_samples_in_order(dataset_path):
    from pymia.data.backends.tensorflow.dataset import get_tf_generator as generator_034  # 0.3.4 module path

    assert generator_034 is get_tf_generator
    datasource = _slices(dataset_path)
    generator = get_tf_generator(datasource)
    assert [sample["sample_index"] for sample in generator()] == list(range(N_SAMPLES))
    dataset = tf.data.Dataset.from_generator(
        generator,
        output_signature={
            "images": tf.TensorSpec((8, 10, 2), tf.float32),
            "labels": tf.TensorSpec((8, 10, 1), tf.uint8),
            "sample_index": tf.TensorSpec((), tf.int64),
        },
    )
    assert _indices(_epoch(dataset)) == list(range(N_SAMPLES))


def test_missing_tensorflow_names_the_extra():
    code = (
        "import sys; sys.modules['tensorflow'] = None\n"
        "try:\n    import pymia.data.backends.tensorflow\n"
        "except ImportError as e:\n    print(type(e).__name__, e)\n"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "MissingDependencyError" in output and "pip install pymia[tf]" in output
