"""TensorBoard logging: event files written by every backend are read back with TensorBoard's own reader."""

from __future__ import annotations

import io
import math
import subprocess
import sys

import numpy as np
import pytest

from pymia.errors import GeometryMismatchError, InvalidInputError
from pymia.evaluation.evaluator import Result
from pymia.evaluation.tensorboard import (
    EventFileBackend,
    SummaryWriterBackend,
    TensorBoardLogger,
    create_backend,
    encode_png,
    overlay_slices,
    select_slice,
)
from tests.conftest import requires_tf, requires_torch

event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")


def _result(subject: str, label: str, metric: str, value: object) -> Result:
    return Result(subject, label, metric, value)


RESULTS = [
    _result("Subject_1", "WM", "DICE", 0.8),
    _result("Subject_2", "WM", "DICE", 0.9),
    _result("Subject_3", "WM", "DICE", 0.7),
    _result("Subject_1", "GM", "DICE", 0.5),
    _result("Subject_2", "GM", "DICE", float("nan")),
    _result("Subject_1", "WM", "HDRFDST95", 2.0),
    _result("Subject_2", "WM", "HDRFDST95", 4.0),
    _result("Subject_1", "WM", "NOTE", "text is skipped"),
]


def _read(log_dir) -> event_accumulator.EventAccumulator:
    accumulator = event_accumulator.EventAccumulator(
        str(log_dir), size_guidance={"scalars": 0, "images": 0, "tensors": 0}
    )
    accumulator.Reload()
    return accumulator


def _scalars(accumulator) -> dict[str, list[tuple[int, float]]]:
    """Scalars stored as ``simple_value`` and tensors written by ``tf.summary.scalar`` alike."""
    from tensorboard.util import tensor_util

    values = {tag: [(e.step, e.value) for e in accumulator.Scalars(tag)] for tag in accumulator.Tags()["scalars"]}
    for tag in accumulator.Tags()["tensors"]:
        arrays = [(e.step, tensor_util.make_ndarray(e.tensor_proto)) for e in accumulator.Tensors(tag)]
        if all(array.ndim == 0 for _, array in arrays):  # images are tensors too: keep scalars only
            values[tag] = [(step, float(array)) for step, array in arrays]
    return values


def _decode_png(encoded: bytes) -> np.ndarray:
    from PIL import Image  # Pillow comes with matplotlib; it is the independent decoder here

    return np.asarray(Image.open(io.BytesIO(encoded)).convert("RGB"))


def test_encode_png_round_trips_through_pillow(rng):
    """Pillow, an independent decoder, reads back exactly the pixels written."""
    picture = rng.integers(0, 256, size=(7, 11, 3), dtype=np.uint8)
    np.testing.assert_array_equal(_decode_png(encode_png(picture)), picture)


@pytest.mark.parametrize(
    "bad", [np.zeros((4, 4), np.uint8), np.zeros((4, 4, 3), np.float32), np.zeros((0, 4, 3), np.uint8)]
)
def test_encode_png_rejects_wrong_arrays(bad):
    with pytest.raises(InvalidInputError, match="shape"):
        encode_png(bad)


def test_log_results_writes_mean_and_std_over_subjects(tmp_path):
    """Statistics are numpy nanmean/nanstd over subjects (undefined values left out), per label and metric."""
    with TensorBoardLogger(tmp_path) as logger:
        logged = logger.log_results(RESULTS, step=4, prefix="validation")
    scalars = _scalars(_read(tmp_path))
    assert (
        set(scalars)
        == set(logged)
        == {
            "validation/DICE/WM/MEAN",
            "validation/DICE/WM/STD",
            "validation/DICE/GM/MEAN",
            "validation/DICE/GM/STD",
            "validation/HDRFDST95/WM/MEAN",
            "validation/HDRFDST95/WM/STD",
        }
    )
    assert scalars["validation/DICE/WM/MEAN"] == [(4, pytest.approx(0.8))]
    assert scalars["validation/DICE/WM/STD"] == [(4, pytest.approx(np.std([0.8, 0.9, 0.7]), rel=1e-6))]
    assert scalars["validation/DICE/GM/MEAN"] == [(4, pytest.approx(0.5))]
    assert scalars["validation/HDRFDST95/WM/STD"] == [(4, pytest.approx(1.0))]


def test_log_results_per_subject_and_several_steps(tmp_path):
    with TensorBoardLogger(tmp_path) as logger:
        for step in (1, 2):
            logger.log_results(RESULTS[:3], step=step, per_subject=True)
    scalars = _scalars(_read(tmp_path))
    assert scalars["evaluation-subjects/DICE/WM/Subject_2"] == [(1, pytest.approx(0.9)), (2, pytest.approx(0.9))]
    assert [step for step, _ in scalars["evaluation/DICE/WM/MEAN"]] == [1, 2]


def test_all_undefined_values_log_nan_without_warning(tmp_path):
    results = [_result("a", "CSF", "HDRFDST", float("nan")), _result("b", "CSF", "HDRFDST", float("nan"))]
    with TensorBoardLogger(tmp_path) as logger:
        logged = logger.log_results(results, step=0)
    assert math.isnan(logged["evaluation/HDRFDST/CSF/MEAN"])
    assert math.isnan(_scalars(_read(tmp_path))["evaluation/HDRFDST/CSF/MEAN"][0][1])


def test_custom_statistics_and_tag_sanitizing(tmp_path):
    results = [_result("s 1", "white matter", "DICE", 0.25), _result("s 2", "white matter", "DICE", 0.75)]
    with TensorBoardLogger(tmp_path, statistics={"MEDIAN": np.median, "MAX": np.max}) as logger:
        logged = logger.log_results(results, step=0, per_subject=True)
    assert logged == {
        "evaluation-subjects/DICE/white_matter/s_1": 0.25,
        "evaluation-subjects/DICE/white_matter/s_2": 0.75,
        "evaluation/DICE/white_matter/MEDIAN": 0.5,
        "evaluation/DICE/white_matter/MAX": 0.75,
    }
    with pytest.raises(InvalidInputError, match="callable"):
        TensorBoardLogger(tmp_path, statistics={"MEAN": "mean"})


def test_overlay_panels_show_image_reference_and_prediction():
    image = np.zeros((3, 6, 5), np.float32)
    image[:, :, 2:] = 100.0
    reference = np.zeros((3, 6, 5), np.uint8)
    reference[1, 1:3, 1:3] = 1
    prediction = np.zeros((3, 6, 5, 1), np.uint8)  # pymia samples keep a channel axis of size 1
    prediction[1, 4, 4, 0] = 2
    picture = overlay_slices(image[..., np.newaxis], reference, prediction, alpha=1.0)
    assert picture.shape == (6, 3 * 5 + 4, 3) and picture.dtype == np.uint8
    plain, with_reference, with_prediction = picture[:, 0:5], picture[:, 7:12], picture[:, 14:19]
    np.testing.assert_array_equal(plain[:, :2], 0)
    np.testing.assert_array_equal(plain[:, 2:], 255)
    np.testing.assert_array_equal(picture[:, 5:7], 255)
    np.testing.assert_array_equal(with_reference[1, 1], (230, 25, 75))  # label 1, alpha 1: pure colour
    np.testing.assert_array_equal(with_reference[0, 0], (0, 0, 0))
    np.testing.assert_array_equal(with_prediction[4, 4], (60, 180, 75))
    np.testing.assert_array_equal(with_prediction[1, 1], plain[1, 1])


def test_overlay_picks_the_slice_with_most_reference_and_honours_axis():
    reference = np.zeros((4, 5, 6), np.uint8)
    reference[3, :2, :2] = 1
    reference[1, :3, :3] = 1
    assert select_slice(reference, axis=0) == 1
    assert select_slice(np.zeros((4, 5, 6)), axis=2) == 3
    picture = overlay_slices(np.ones((4, 5, 6)), reference, reference, axis=2, slice_index=0)
    assert picture.shape == (4, 3 * 5 + 4, 3)


def test_overlay_2d_and_errors():
    labels = np.zeros((6, 7), np.int16)
    assert overlay_slices(np.ones((6, 7)), labels, labels).shape == (6, 25, 3)
    with pytest.raises(GeometryMismatchError, match=r"\(6, 7\).*\(6, 8\)"):
        overlay_slices(np.ones((6, 7)), labels, np.zeros((6, 8)))
    with pytest.raises(InvalidInputError, match="slice_index 9"):
        overlay_slices(np.ones((3, 6, 7)), np.zeros((3, 6, 7)), np.zeros((3, 6, 7)), slice_index=9)
    with pytest.raises(InvalidInputError, match="label map"):
        overlay_slices(np.ones(5), np.zeros(5), np.zeros(5))


def test_log_overlay_event_file_image_reads_back(tmp_path):
    reference = np.zeros((3, 8, 9), np.uint8)
    reference[1, 2:6, 2:6] = 1
    image = np.linspace(0, 1, 3 * 8 * 9).reshape(3, 8, 9)
    with TensorBoardLogger(tmp_path) as logger:
        picture = logger.log_overlay("validation/overlay/Subject 1", image, reference, reference, step=7)
    accumulator = _read(tmp_path)
    (event,) = accumulator.Images("validation/overlay/Subject_1")
    assert (event.step, event.height, event.width) == (7, 8, 31)
    np.testing.assert_array_equal(_decode_png(event.encoded_image_string), picture)


def test_create_backend_wraps_writers_and_rejects_other_objects(tmp_path):
    backend = EventFileBackend(tmp_path)
    assert create_backend(backend) is backend
    with pytest.raises(InvalidInputError, match="framework must be one of"):
        create_backend(tmp_path, framework="mxnet")
    with pytest.raises(InvalidInputError, match="cannot log to 'int'"):
        create_backend(3)
    backend.close()


@requires_torch
def test_torch_summary_writer_backend(tmp_path):
    """A user's torch SummaryWriter is wrapped, written to, flushed but left open."""
    from torch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(log_dir=str(tmp_path))
    logger = TensorBoardLogger(writer)
    assert isinstance(logger.backend, SummaryWriterBackend)
    logger.log_results(RESULTS[:3], step=2)
    labels = np.zeros((5, 6), np.uint8)
    labels[2, 3] = 1
    picture = logger.log_overlay("overlay", np.ones((5, 6)), labels, labels, step=2)
    logger.log_scalar("train/loss", 0.125, step=2)
    logger.close()
    writer.add_scalar("still/open", 1.0, 3)  # the user's writer was not closed
    writer.close()
    accumulator = _read(tmp_path)
    scalars = _scalars(accumulator)
    assert scalars["evaluation/DICE/WM/MEAN"] == [(2, pytest.approx(0.8))]
    assert scalars["train/loss"] == [(2, 0.125)]
    assert "still/open" in scalars
    np.testing.assert_array_equal(_decode_png(accumulator.Images("overlay")[0].encoded_image_string), picture)


@requires_torch
def test_torch_framework_creates_its_own_writer(tmp_path):
    with TensorBoardLogger(tmp_path, framework="torch") as logger:
        logger.log_scalar("a", 1.5, 1)
    assert _scalars(_read(tmp_path))["a"] == [(1, 1.5)]


@requires_tf
@pytest.mark.slow
def test_tensorflow_summary_backend(tmp_path):
    """tf.summary writes tensor summaries; TensorBoard's reader converts them back to the same values."""
    with TensorBoardLogger(tmp_path, framework="tensorflow") as logger:
        logger.log_results(RESULTS[:3], step=5)
        labels = np.zeros((5, 6), np.uint8)
        labels[1, 1] = 1
        picture = logger.log_overlay("overlay", np.ones((5, 6)), labels, labels, step=5)
    accumulator = _read(tmp_path)
    scalars = _scalars(accumulator)
    assert scalars["evaluation/DICE/WM/MEAN"] == [(5, pytest.approx(0.8))]
    from tensorboard.util import tensor_util

    (event,) = accumulator.Tensors("overlay")
    encoded = tensor_util.make_ndarray(event.tensor_proto)[2]  # width, height, then the PNG
    np.testing.assert_array_equal(_decode_png(encoded), picture)


def test_default_writer_imports_no_deep_learning_framework(tmp_path):
    """The default backend writes event files itself: neither torch nor tensorflow gets imported."""
    code = (
        "import sys, numpy as np\n"
        "from pymia.evaluation.tensorboard import TensorBoardLogger\n"
        f"with TensorBoardLogger({str(tmp_path)!r}) as logger:\n"
        "    logger.log_scalar('a', 1.0, 0)\n"
        "    logger.log_overlay('o', np.ones((4, 5)), np.zeros((4, 5)), np.zeros((4, 5)), 0)\n"
        "print(','.join(m for m in ('torch', 'tensorflow') if m in sys.modules))\n"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert output.strip() == ""
    accumulator = _read(tmp_path)
    assert accumulator.Tags()["scalars"] == ["a"] and accumulator.Tags()["images"] == ["o"]
