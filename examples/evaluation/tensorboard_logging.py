"""Log evaluation results and segmentation overlays to TensorBoard without PyTorch or TensorFlow.

Phantom subjects (nested ellipsoids as references, the same shapes shifted and eroded as
"predictions" of a model at three checkpoints) are evaluated with pymia's evaluator; the mean and
standard deviation over subjects of each metric and label, every subject's values, and one overlay
per subject are written with the ``tensorboard`` package's event format.

    python examples/evaluation/tensorboard_logging.py --output runs/evaluation
    tensorboard --logdir runs/evaluation
"""

from __future__ import annotations

import argparse
import pathlib
import sys

import numpy as np
from scipy import ndimage

from pymia.evaluation.evaluator import SegmentationEvaluator
from pymia.evaluation.metric import DiceCoefficient, HausdorffDistance
from pymia.evaluation.tensorboard import TensorBoardLogger
from pymia.testing.phantoms import nested_ellipsoids

LABELS = {1: "OUTER", 2: "INNER"}
SPACING = (2.0, 1.0, 1.0)  # mm, (z, y, x)


def make_subject(rng: np.random.Generator, shape=(16, 40, 40)) -> tuple[np.ndarray, np.ndarray]:
    """Return an intensity image and its reference label map, (Z, Y, X)."""
    outer = rng.uniform(10.0, 14.0, size=3) * (1.2, 1.0, 1.0)
    phantom = nested_ellipsoids(shape, [tuple(outer), tuple(outer * 0.5)], spacing=SPACING)
    image = phantom.labels * 40.0 + rng.normal(0.0, 5.0, size=shape)
    return image.astype(np.float32), phantom.labels


def predict(reference: np.ndarray, checkpoint: int, rng: np.random.Generator) -> np.ndarray:
    """A fake model output that improves with the checkpoint: less shift, fewer missing voxels."""
    shift = rng.integers(-1, 2, size=3) * (3 - checkpoint)
    prediction = np.roll(reference, tuple(shift), axis=(0, 1, 2))
    if checkpoint < 2:
        prediction = np.where(ndimage.binary_erosion(prediction > 0, iterations=2 - checkpoint), prediction, 0)
    return prediction.astype(np.uint8)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", type=pathlib.Path, default=pathlib.Path("runs/evaluation"))
    parser.add_argument("--subjects", type=int, default=4)
    arguments = parser.parse_args(argv)

    rng = np.random.default_rng(0)
    subjects = {f"Subject_{i + 1}": make_subject(rng) for i in range(arguments.subjects)}
    with TensorBoardLogger(arguments.output) as logger:  # the tensorboard package's writer: no framework
        for checkpoint in range(3):
            evaluator = SegmentationEvaluator([DiceCoefficient(), HausdorffDistance(percentile=95)], LABELS)
            for name, (image, reference) in subjects.items():
                prediction = predict(reference, checkpoint, rng)
                evaluator.evaluate(prediction, reference, name, spacing=SPACING)
                logger.log_overlay(f"overlay/{name}", image, reference, prediction, step=checkpoint)
            logged = logger.log_results(evaluator.results, step=checkpoint, prefix="validation", per_subject=True)
            means = {tag: round(value, 3) for tag, value in logged.items() if tag.endswith("/MEAN")}
            print(f"checkpoint {checkpoint}: {means}")
    print(f"event files in {arguments.output}; view them with `tensorboard --logdir {arguments.output}`")
    return 0


if __name__ == "__main__":
    sys.exit(main())
