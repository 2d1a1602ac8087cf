"""Smoke runs of the framework training-loop examples and the TensorBoard evaluation example on tiny data."""

from __future__ import annotations

import importlib.util
import pathlib

import pytest

from tests.conftest import requires_tf, requires_torch

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples"
event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")


def _load(relative_path: str):
    spec = importlib.util.spec_from_file_location(pathlib.Path(relative_path).stem, EXAMPLES / relative_path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _tags(log_dir: pathlib.Path) -> dict[str, list[str]]:
    accumulator = event_accumulator.EventAccumulator(str(log_dir))
    accumulator.Reload()
    return accumulator.Tags()


@requires_torch
@pytest.mark.parametrize("loader", ["dataloader", "batch"])
def test_torch_loop_quick_run_logs_loss_dice_and_overlays(tmp_path, capsys, loader):
    arguments = ["--quick", "--output", str(tmp_path), "--loader", loader, "--workers", "1"]
    assert _load("training_loops/torch_loop.py").main(arguments) == 0
    assert "validation mean Dice" in capsys.readouterr().out
    tags = _tags(tmp_path)
    assert {"train/loss", "validation/DICE/INNER/MEAN", "validation/DICE/OUTER/STD"} <= set(tags["scalars"])
    assert tags["images"] == ["validation/overlay/Subject_4"]


@requires_tf
def test_tf_loop_quick_run_logs_loss_dice_and_overlays(tmp_path, capsys):
    assert _load("training_loops/tf_loop.py").main(["--quick", "--output", str(tmp_path)]) == 0
    assert "validation mean Dice" in capsys.readouterr().out
    tags = _tags(tmp_path)  # tf.summary writes tensor summaries, images included
    assert {"train/loss", "validation/DICE/INNER/MEAN", "validation/overlay/Subject_4"} <= set(tags["tensors"])


def test_tensorboard_logging_example_writes_results_per_checkpoint(tmp_path):
    assert _load("evaluation/tensorboard_logging.py").main(["--output", str(tmp_path), "--subjects", "2"]) == 0
    accumulator = event_accumulator.EventAccumulator(str(tmp_path))
    accumulator.Reload()
    dice = [event.value for event in accumulator.Scalars("validation/DICE/OUTER/MEAN")]
    assert len(dice) == 3 and dice[0] < dice[1] < dice[2]  # the fake model improves per checkpoint
    assert "validation-subjects/HDRFDST95/INNER/Subject_2" in accumulator.Tags()["scalars"]
    assert sorted(accumulator.Tags()["images"]) == ["overlay/Subject_1", "overlay/Subject_2"]
