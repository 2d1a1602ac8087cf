"""The tf.data reader processes: arrays through a shared segment (grown on demand) equal in-process reads."""

from __future__ import annotations

import pathlib

import numpy as np
import pytest

pytest.importorskip("tensorflow")

from pymia.data.backends.tensorflow.reading import read_samples
from pymia.data.backends.tensorflow.signature import infer_signature
from pymia.data.backends.tensorflow.worker_pool import ReaderProcessPool, _shared_memory_supported
from pymia.data.extraction import ComposeExtractor, DataExtractor, PymiaDatasource, SliceIndexing, SubjectExtractor
from pymia.testing.datasets import create_test_dataset


@pytest.mark.parametrize("context", ["fork", pytest.param("spawn", marks=pytest.mark.slow)])
def test_reader_processes_return_what_an_in_process_read_returns(tmp_path: pathlib.Path, context: str) -> None:
    path = create_test_dataset(tmp_path / "data.h5", n_subjects=2, shape=(6, 10, 12))
    extractor = DataExtractor(categories=("images", "labels"))
    datasource = PymiaDatasource(path, SliceIndexing(), extractor)
    signature = infer_signature(datasource[0], ("images", "labels"))
    pool = ReaderProcessPool(1, context, datasource, signature, None, None)
    try:
        # one sample, then batches of growing size: the process replaces its segment by a larger one
        for indices, batched in (([3], False), ([0, 1], True), (list(range(12)), True), ([5, 7], True)):
            arrays = pool.read(indices, 0, batched)
            expected = read_samples(datasource, indices, 0, signature, None, None, batched)
            assert len(arrays) == len(expected)
            for array, reference in zip(arrays, expected):
                np.testing.assert_array_equal(array, reference)
                assert array.flags.owndata and array.flags.writeable  # never a view of the shared segment
        if _shared_memory_supported():
            assert len(pool._segments) == 1
    finally:
        pool.close()


def test_text_entries_still_travel_pickled(tmp_path: pathlib.Path) -> None:
    path = create_test_dataset(tmp_path / "data.h5", n_subjects=2, shape=(4, 6, 6))
    extractor = ComposeExtractor([DataExtractor(("images",)), SubjectExtractor()])
    datasource = PymiaDatasource(path, SliceIndexing(), extractor)
    signature = infer_signature(datasource[0], ("images", "subject"))
    pool = ReaderProcessPool(1, "fork", datasource, signature, None, None)
    try:
        images, subjects = pool.read([0, 5], 0, True)
        expected_images, expected_subjects = read_samples(datasource, [0, 5], 0, signature, None, None, True)
        np.testing.assert_array_equal(images, expected_images)
        assert images.shape == (2, 6, 6, 2) and subjects.tolist() == expected_subjects.tolist()
        assert len(set(subjects.tolist())) == 2
    finally:
        pool.close()
