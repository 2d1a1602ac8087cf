"""Train pymia's slice-wise 2-D U-Net with PyTorch (the pymia paper's example, extended).

Recipe of pymia's example: T1 + T2 axial slices → tissue labels, U-Net with 16 base channels and 3
poolings, Adam 1e-3, unweighted cross-entropy, batch 16, elastic deformation + mirroring on the
training slices, validation after every epoch on full volumes assembled from the slice predictions and
evaluated with pymia's ``SegmentationEvaluator`` (Dice), TensorBoard logs. ``--ct-recipe`` switches to
instance norm + LeakyReLU(0.01), Tanimoto^0.6·CE^0.4 and percentile windowing (0.6/0.99) before a
z-score from a voxel sample.

    python examples/training/unet2d_torch.py --dataset example.h5 --output runs/unet2d --epochs 10
    python examples/training/unet2d_torch.py --output /tmp/unet --quick          # seconds, on CPU
    torchrun --nproc-per-node 2 examples/training/unet2d_torch.py --dataset example.h5 --output runs/ddp
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import losses_torch
import models_torch
import pipeline
import runtime_torch
import torch
import trainer_torch

from pymia.data.augmentation import RandomElasticDeformation, RandomFlip
from pymia.data.extraction import PymiaDatasource, SliceIndexing


def parse_arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options (``--help`` lists them)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    pipeline.add_dataset_arguments(parser)
    runtime_torch.add_runtime_arguments(parser, batch_size=16, learning_rate=1e-3)
    parser.add_argument("--base-channels", type=int, default=16, help="U-Net channels of the first level")
    # pymia's original torch example used Dropout2d(0.2); on short CPU budgets it kept the thin CSF class from
    # being learned (1 epoch on the example data: CSF Dice 0.001 with 0.2, 0.22-0.28 without), so it is opt-in.
    parser.add_argument("--dropout", type=float, default=0.0, help="Dropout2d rate after each convolution unit")
    parser.add_argument("--loss", choices=losses_torch.LOSS_NAMES,
                        help="loss (default ce; tanimoto_ce with --ct-recipe)")
    parser.add_argument("--no-augmentation", action="store_true", help="train without elastic deformation/flips")
    parser.add_argument("--ct-recipe", action="store_true",
                        help="instance norm + LeakyReLU(0.01), Tanimoto^0.6·CE^0.4, percentile windowing 0.6/0.99")
    args = parser.parse_args(argv)
    if args.quick:
        args.epochs = args.epochs or 1
        args.max_steps = args.max_steps or 3
        args.batch_size = min(args.batch_size, 8)
    args.epochs = args.epochs or 100
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Train, validate every epoch, write the final evaluation; returns the exit code."""
    args = parse_arguments(argv)
    runtime = runtime_torch.setup_runtime(args)
    output = Path(args.output)
    dataset = pipeline.ensure_dataset(args) if runtime.is_main else None
    if runtime.distributed:  # rank 0 may have generated the --quick dataset
        shared = [str(dataset) if dataset else None]
        torch.distributed.broadcast_object_list(shared, src=0)
        dataset = Path(shared[0])
    summary = pipeline.summarize_dataset(dataset, args.labels)
    train_subjects, validation_subjects = pipeline.split_subjects(len(summary.subjects), args.validation_subjects)
    statistics = pipeline.intensity_statistics(dataset, range(len(summary.subjects)), seed=args.seed,
                                               window=(0.6, 0.99) if args.ct_recipe else None)
    normalize = pipeline.SubjectIntensityNormalization(statistics)
    augmentation = None if args.no_augmentation else pipeline.compose(
        RandomElasticDeformation(num_control_points=4, deformation_sigma=5.0, p=0.5),
        RandomFlip(axes=(-2,), p=0.5),  # left-right on (y, x, c) slices
    )
    train_source = PymiaDatasource(dataset, SliceIndexing(), pipeline.make_extractor(("images", "labels")),
                                   normalize, subject_subset=train_subjects)
    validation_source = PymiaDatasource(dataset, SliceIndexing(), pipeline.make_extractor(("images",)), normalize,
                                        subject_subset=validation_subjects)

    model = models_torch.UNet(summary.image_channels, summary.n_classes, base_channels=args.base_channels,
                              n_pooling=3, dropout=args.dropout,
                              normalization="instance" if args.ct_recipe else "batch",
                              activation="leaky_relu" if args.ct_recipe else "relu")
    model = runtime_torch.wrap_model(model, runtime)
    loss = losses_torch.make_loss(args.loss or ("tanimoto_ce" if args.ct_recipe else "ce"))
    train_loader = runtime_torch.make_loader(train_source, runtime, batch_size=args.batch_size, shuffle=True,
                                             seed=args.seed, workers=args.workers, augmentation=augmentation)
    validation_loader = runtime_torch.make_loader(validation_source, runtime, batch_size=args.batch_size,
                                                  shuffle=False, seed=args.seed, workers=args.workers)

    def validate(network: torch.nn.Module, final: bool) -> pipeline.EvaluationOutput:
        evaluation = pipeline.VolumeEvaluation(validation_source, summary, final=final)
        runtime_torch.predict_into(network, validation_loader, evaluation, runtime)
        return evaluation.finish()

    setup = trainer_torch.TrainingSetup(
        model=model,
        optimizer=torch.optim.Adam(model.parameters(), lr=args.learning_rate),
        loss_for_epoch=lambda epoch: loss,
        train_loader=train_loader,
        validate=validate,
        summary=summary,
    )
    trainer_torch.fit(setup, args, runtime, output, args.epochs)
    if runtime.distributed:
        torch.distributed.destroy_process_group()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
