"""Train pymia's slice-wise 2-D U-Net with TensorFlow/Keras (the pymia paper's TensorFlow example).

Recipe of pymia's example: T1 + T2 axial slices → tissue labels, the Keras U-Net (2 poolings, 16 root
filters, no batch norm), Adam 1e-3, unweighted cross-entropy, batch 16, elastic deformation and
mirroring; samples are shuffled one by one (pymia 0.3.4's example shuffled whole batches). Validation
after every epoch on full volumes assembled from the slice predictions and evaluated with pymia's
``SegmentationEvaluator``; TensorBoard logs; ``tf.distribute.MirroredStrategy`` over all visible GPUs;
mixed precision on GPU. Batches come from pymia's tf.data factory (``distributed_dataset_fn``).

    python examples/training/unet2d_tf.py --dataset example.h5 --output runs/unet2d-tf --epochs 10
    python examples/training/unet2d_tf.py --output /tmp/unet-tf --quick              # seconds, on CPU
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pipeline

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from pymia.data.augmentation import RandomElasticDeformation, RandomFlip
from pymia.data.extraction import PymiaDatasource, SliceIndexing
from pymia.evaluation.tensorboard import TensorBoardLogger


def parse_arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options (``--help`` lists them)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    pipeline.add_dataset_arguments(parser)
    parser.add_argument("--device", choices=("auto", "cpu", "gpu"), default="auto",
                        help="auto: all visible GPUs (MirroredStrategy), else the CPU")
    parser.add_argument("--batch-size", type=int, default=16, help="global batch size")
    parser.add_argument("--learning-rate", type=float, default=1e-3, help="Adam learning rate")
    parser.add_argument("--filters-root", type=int, default=16, help="filters of the first level")
    parser.add_argument("--no-amp", action="store_true", help="disable mixed precision on GPU")
    parser.add_argument("--no-augmentation", action="store_true", help="train without elastic deformation/flips")
    parser.add_argument("--deterministic", action="store_true", help="deterministic TensorFlow ops")
    args = parser.parse_args(argv)
    if args.quick:
        args.epochs = args.epochs or 1
        args.max_steps = args.max_steps or 3
        args.batch_size = min(args.batch_size, 8)
    args.epochs = args.epochs or 100
    return args


def setup_tensorflow(args: argparse.Namespace):
    """Select devices, precision and seeds; return the distribution strategy."""
    import tensorflow as tf

    if args.device == "cpu":
        tf.config.set_visible_devices([], "GPU")
    gpus = tf.config.list_logical_devices("GPU")
    if args.device == "gpu" and not gpus:
        raise SystemExit("error: --device gpu but TensorFlow sees no GPU")
    tf.keras.utils.set_random_seed(args.seed)
    if args.deterministic:
        tf.config.experimental.enable_op_determinism()
    if gpus and not args.no_amp:
        tf.keras.mixed_precision.set_global_policy("mixed_float16")
    return tf.distribute.MirroredStrategy() if len(gpus) > 1 else tf.distribute.get_strategy()


def main(argv: Sequence[str] | None = None) -> int:
    """Train, validate every epoch, write the final evaluation; returns the exit code."""
    args = parse_arguments(argv)
    strategy = setup_tensorflow(args)
    import models_tf
    import tensorflow as tf

    from pymia.data.backends.tensorflow import distributed_dataset_fn

    output = Path(args.output)
    output.mkdir(parents=True, exist_ok=True)
    dataset = pipeline.ensure_dataset(args)
    summary = pipeline.summarize_dataset(dataset, args.labels)
    train_subjects, validation_subjects = pipeline.split_subjects(len(summary.subjects), args.validation_subjects)
    normalize = pipeline.SubjectIntensityNormalization(
        pipeline.intensity_statistics(dataset, range(len(summary.subjects)), seed=args.seed))
    augmentation = None if args.no_augmentation else pipeline.compose(
        RandomElasticDeformation(num_control_points=4, deformation_sigma=5.0, p=0.5), RandomFlip(axes=(-2,), p=0.5))
    train_source = PymiaDatasource(dataset, SliceIndexing(), pipeline.make_extractor(("images", "labels")),
                                   normalize, subject_subset=train_subjects)
    validation_source = PymiaDatasource(dataset, SliceIndexing(), pipeline.make_extractor(("images",)), normalize,
                                        subject_subset=validation_subjects)

    with strategy.scope():
        model = models_tf.build_unet(summary.image_channels, summary.n_classes, filters_root=args.filters_root)
        optimizer = tf.keras.optimizers.Adam(args.learning_rate)
        epoch_variable = tf.Variable(-1, dtype=tf.int64, name="epoch")
    loss_object = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="none")
    checkpoint = tf.train.Checkpoint(model=model, optimizer=optimizer, epoch=epoch_variable)
    manager = tf.train.CheckpointManager(checkpoint, str(output / "tf-checkpoints"), max_to_keep=2)
    if args.resume and manager.latest_checkpoint:
        checkpoint.restore(manager.latest_checkpoint)
        print(f"resumed from {manager.latest_checkpoint} after epoch {int(epoch_variable.numpy())}")

    @tf.function
    def train_step(batch: dict) -> tuple[tf.Tensor, tf.Tensor]:
        def replica_step(batch: dict) -> tuple[tf.Tensor, tf.Tensor]:
            images, labels = batch["images"], batch["labels"][..., 0]
            with tf.GradientTape() as tape:
                logits = tf.cast(model(images, training=True), tf.float32)
                per_sample = tf.reduce_mean(loss_object(labels, logits), axis=[1, 2])
                loss = tf.nn.compute_average_loss(per_sample, global_batch_size=args.batch_size)
            gradients = tape.gradient(loss, model.trainable_variables)
            optimizer.apply_gradients(zip(gradients, model.trainable_variables))
            return loss, tf.shape(images)[0]

        losses, counts = strategy.run(replica_step, args=(batch,))
        return (strategy.reduce(tf.distribute.ReduceOp.SUM, losses, axis=None),
                strategy.reduce(tf.distribute.ReduceOp.SUM, counts, axis=None))

    def validate(final: bool) -> pipeline.EvaluationOutput:
        evaluation = pipeline.VolumeEvaluation(validation_source, summary, final=final)
        n = len(validation_source)
        for start in range(0, n, args.batch_size):
            indices = list(range(start, min(start + args.batch_size, n)))
            samples = validation_source.__getitems__(indices)
            images = np.stack([s["images"] for s in samples]).astype(np.float32)
            probabilities = tf.nn.softmax(tf.cast(model(images, training=False), tf.float32)).numpy()
            evaluation.add_batch(probabilities, indices, start + args.batch_size >= n)
        return evaluation.finish()

    logger = TensorBoardLogger(output / "tensorboard")
    budget = pipeline.Budget(args.time_budget, args.cpu_budget)
    global_step = int(optimizer.iterations.numpy())
    epochs_run, samples_seen = 0, 0
    first_epoch = int(epoch_variable.numpy()) + 1
    # pymia's tf.data factory: per-sample shuffling and augmentation seeded by (seed, epoch, sample), one
    # shard per input pipeline; each iteration over the distributed dataset is one epoch.
    dataset_fn = distributed_dataset_fn(train_source, args.batch_size, keys=("images", "labels"), shuffle=True,
                                        seed=args.seed, transform=augmentation, initial_epoch=first_epoch)
    if args.max_steps is not None:
        dataset_fn = _limited(dataset_fn, args.max_steps)
    batches = strategy.distribute_datasets_from_function(dataset_fn)
    for epoch in range(first_epoch, args.epochs):
        epochs_run += 1
        epoch_start, losses, samples = time.perf_counter(), [], 0
        for batch in batches:
            if budget.spent():
                break
            loss, count = train_step(batch)
            losses.append(float(loss))
            samples += int(count)
            global_step += 1
            logger.log_scalar("train/loss", losses[-1], global_step)
        seconds = time.perf_counter() - epoch_start
        samples_seen += samples
        evaluation = validate(False)
        logger.log_results(evaluation.results, step=epoch, prefix="validation")
        logger.log_scalar("train/samples_per_second", samples / max(seconds, 1e-9), epoch)
        mean_loss = float(np.mean(losses)) if losses else math.nan
        pipeline.append_history(output, epoch, {"train_loss": mean_loss, "validation_dice": evaluation.mean(),
                                                "train_seconds": seconds, "samples": samples})
        print(f"epoch {epoch}: loss {mean_loss:.4f}, validation mean Dice {evaluation.mean():.4f}, "
              f"{samples / max(seconds, 1e-9):.1f} samples/s", flush=True)
        epoch_variable.assign(epoch)
        manager.save()
        if budget.spent():
            break
    final = validate(True)
    csv_path = pipeline.write_outputs(final, output)
    pipeline.log_overlay(logger, summary, final, args.epochs)
    summary_values = {"mean_dice": final.mean("DICE"), "mean_hd95_mm": final.mean("HDRFDST95"),
                      "dice_per_label": final.mean_per_label("DICE"),
                      "train_seconds": budget.elapsed(), "cpu_seconds": budget.cpu_seconds(), "epochs_run": epochs_run,
                      "samples_seen": samples_seen,
                      "replicas": strategy.num_replicas_in_sync}
    (output / "summary.json").write_text(json.dumps(summary_values, indent=2))
    print(f"final mean Dice {summary_values['mean_dice']:.4f}; results in {csv_path}")
    logger.close()
    return 0


def _limited(dataset_fn, steps: int):
    """``dataset_fn`` whose datasets stop after ``steps`` batches (``--max-steps``)."""
    return lambda context: dataset_fn(context).take(steps)


if __name__ == "__main__":
    raise SystemExit(main())
