"""A short TensorFlow training loop over pymia data, with validation and TensorBoard logging.

A small 2-D Keras network segments axial slices. Training reads shuffled, augmented slices from
``create_tf_dataset`` (parallel reads, optionally in worker processes); validation assembles each
subject's predicted slices back into a volume, evaluates it with pymia's evaluator and logs the Dice
per label and an image/reference/prediction overlay through ``tf.summary``.

    python examples/training_loops/tf_loop.py --dataset data.h5 --output runs/tf --epochs 10
    python examples/training_loops/tf_loop.py --quick        # tiny phantom dataset, one epoch on CPU
    tensorboard --logdir runs/tf
"""

from __future__ import annotations

import argparse
import pathlib
import sys

import numpy as np
import tensorflow as tf

from pymia.data.assembly import SubjectAssembler
from pymia.data.augmentation import RandomFlip, RandomGaussianNoise
from pymia.data.backends.tensorflow import create_tf_dataset
from pymia.data.extraction import DataExtractor, PymiaDatasource, SliceIndexing
from pymia.data.transformation import ComposeTransform
from pymia.evaluation.evaluator import SegmentationEvaluator
from pymia.evaluation.metric import DiceCoefficient
from pymia.evaluation.tensorboard import TensorBoardLogger
from pymia.testing.datasets import create_test_dataset

LABELS = {1: "INNER", 2: "MIDDLE", 3: "OUTER"}  # the label names of pymia's phantom test data


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", type=pathlib.Path, help="pymia HDF5 dataset (default: phantom data)")
    parser.add_argument("--output", type=pathlib.Path, default=pathlib.Path("runs/tf_loop"))
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--workers", type=int, default=0, help="reader processes (0: tf.data threads)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="tiny phantom data and one epoch (smoke run)")
    return parser.parse_args(argv)


def build_network(in_channels: int, n_classes: int) -> tf.keras.Model:
    inputs = tf.keras.Input(shape=(None, None, in_channels))
    features = tf.keras.layers.Conv2D(16, 3, padding="same", activation="relu")(inputs)
    features = tf.keras.layers.Conv2D(16, 3, padding="same", activation="relu")(features)
    return tf.keras.Model(inputs, tf.keras.layers.Conv2D(n_classes, 1)(features))


def validate(network, datasource, logger, epoch, batch_size) -> float:
    """Predict every slice, assemble subjects, evaluate them and log the results; return the mean Dice."""
    evaluator = SegmentationEvaluator([DiceCoefficient()], LABELS)
    assembler = SubjectAssembler(datasource)
    subjects = datasource.get_subjects()
    for batch in create_tf_dataset(datasource, batch_size=batch_size):
        logits = network(batch["images"], training=False)
        prediction = tf.argmax(logits, axis=-1)[..., tf.newaxis].numpy()  # (B, Y, X, 1)
        outputs = {"prediction": prediction, "labels": batch["labels"].numpy(), "images": batch["images"].numpy()}
        assembler.add_batch(outputs, batch["sample_index"].numpy())
        for subject_index in sorted(assembler.subjects_ready):
            volumes = assembler.get_assembled_subject(subject_index)  # (Z, Y, X, C) each
            evaluator.evaluate(volumes["prediction"][..., 0], volumes["labels"][..., 0], subjects[subject_index])
            logger.log_overlay(
                f"validation/overlay/{subjects[subject_index]}",
                volumes["images"],
                volumes["labels"],
                volumes["prediction"],
                step=epoch,
            )
    logged = logger.log_results(evaluator.results, step=epoch, prefix="validation")
    return float(np.nanmean([value for tag, value in logged.items() if tag.endswith("/MEAN")]))


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    tf.keras.utils.set_random_seed(arguments.seed)
    arguments.output.mkdir(parents=True, exist_ok=True)
    dataset = arguments.dataset
    if dataset is None:
        shape = (6, 24, 24) if arguments.quick else (16, 48, 48)
        dataset = create_test_dataset(arguments.output / "phantoms.h5", n_subjects=4, shape=shape, overwrite=True)
    epochs = 1 if arguments.quick else arguments.epochs

    extractor = DataExtractor(categories=("images", "labels"))
    n_subjects = len(PymiaDatasource(dataset).get_subjects())
    training = PymiaDatasource(dataset, SliceIndexing(), extractor, subject_subset=range(n_subjects - 1))
    validation = PymiaDatasource(dataset, SliceIndexing(), extractor, subject_subset=[n_subjects - 1])
    augmentation = ComposeTransform([RandomFlip(axes=(0, 1)), RandomGaussianNoise(std=(0.0, 0.05))])
    pipeline = create_tf_dataset(
        training,
        batch_size=arguments.batch_size,
        shuffle=True,
        seed=arguments.seed,
        transform=augmentation,
        keys=("images", "labels"),
        num_workers=arguments.workers,
    ).map(lambda batch: (batch["images"], tf.cast(batch["labels"][..., 0], tf.int32)))

    network = build_network(training[0]["images"].shape[-1], n_classes=len(LABELS) + 1)
    optimizer = tf.keras.optimizers.Adam(1e-2)
    loss_function = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    @tf.function
    def train_step(images: tf.Tensor, labels: tf.Tensor) -> tf.Tensor:
        with tf.GradientTape() as tape:
            loss = loss_function(labels, network(images, training=True))
        optimizer.apply_gradients(zip(tape.gradient(loss, network.trainable_variables), network.trainable_variables))
        return loss

    with TensorBoardLogger(tf.summary.create_file_writer(str(arguments.output))) as logger:
        for epoch in range(epochs):  # every pass over `pipeline` is a new epoch: new order and augmentation
            losses = [float(train_step(images, labels)) for images, labels in pipeline]
            logger.log_scalar("train/loss", float(np.mean(losses)), step=epoch)
            dice = validate(network, validation, logger, epoch, arguments.batch_size)
            print(f"epoch {epoch}: loss {np.mean(losses):.4f}, validation mean Dice {dice:.3f}")
    print(f"TensorBoard logs in {arguments.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
