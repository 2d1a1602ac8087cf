"""Train HighRes3DNet (Li et al., IPMI 2017) on 3-D patches of a pymia dataset with PyTorch.

``--recipe niftynet`` (default) follows NiftyNet's HighRes3DNet configuration: batch norm + ReLU, Dice
loss, Adam, batch 1, label-balanced random patches, rotation ±10° and scaling ±10 %. ``--recipe lung``
follows the lung-tumour paper's DenseHighRes3DNet-style variant: group norm, dense skip connections, Dice
loss for ``--dice-epochs`` rounds then focal loss (α = 0.75, γ = 2), Adam 3e-4 with weight decay 2e-4,
batch 2, elastic deformation and scaling 0.9–1.1. Validation predicts overlapping patches, assembles
full volumes with pymia's ``SubjectAssembler`` (overlaps averaged) and evaluates them every epoch.

    python examples/training/highres3dnet_torch.py --dataset example.h5 --output runs/highres --epochs 20
    python examples/training/highres3dnet_torch.py --recipe lung --dataset example.h5 --output runs/lung
    python examples/training/highres3dnet_torch.py --output /tmp/highres --quick      # seconds, on CPU
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import losses_torch
import models_torch
import numpy as np
import pipeline
import runtime_torch
import torch
import trainer_torch

from pymia.data.augmentation import RandomElasticDeformation, RandomRotation, RandomScaling
from pymia.data.extraction import LabelBalancedPatchSampling, PatchWiseIndexing, PymiaDatasource

RECIPES = {
    # batch, learning rate, weight decay, normalisation, dense skip
    "niftynet": {"batch_size": 1, "learning_rate": 1e-4, "weight_decay": 0.0, "normalization": "batch",
                 "dense_skip": False},
    "lung": {"batch_size": 2, "learning_rate": 3e-4, "weight_decay": 2e-4, "normalization": "group",
             "dense_skip": True},
}


def parse_arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options (``--help`` lists them)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    pipeline.add_dataset_arguments(parser)
    runtime_torch.add_runtime_arguments(parser, batch_size=0, learning_rate=0.0)
    parser.add_argument("--recipe", choices=sorted(RECIPES), default="niftynet", help="training recipe")
    parser.add_argument("--patch-size", type=int, nargs="+", default=[32],
                        help="training patch size (z y x, or one value)")
    parser.add_argument("--validation-patch-size", type=int, nargs="+",
                        help="validation patch size (default: twice the training patch; no pooling, any size works)")
    parser.add_argument("--validation-overlap", type=float, default=0.25,
                        help="overlap of validation patches (fraction; blended with Gaussian weights)")
    parser.add_argument("--patches-per-subject", type=int, default=32, help="random patches per subject and epoch")
    parser.add_argument("--dice-epochs", type=int,
                        help="lung recipe: epochs with Dice loss before switching to focal loss (default half)")
    parser.add_argument("--no-augmentation", action="store_true", help="train without spatial augmentation")
    args = parser.parse_args(argv)
    recipe = RECIPES[args.recipe]
    args.batch_size = args.batch_size or recipe["batch_size"]
    args.learning_rate = args.learning_rate or recipe["learning_rate"]
    if args.quick:
        args.epochs = args.epochs or 1
        args.max_steps = args.max_steps or 2
        args.patch_size = [min(p, 12) for p in args.patch_size]
        args.validation_patch_size = args.validation_patch_size or args.patch_size
        args.patches_per_subject = min(args.patches_per_subject, 4)
    args.epochs = args.epochs or 50
    if args.dice_epochs is None:
        args.dice_epochs = max(1, args.epochs // 2)
    return args


def patch_shape_for(patch_size: list[int], image_shapes: np.ndarray) -> tuple[int, int, int]:
    """A ``--patch-size`` value as (z, y, x), shrunk to the smallest image so random patches fit inside."""
    size = patch_size * 3 if len(patch_size) == 1 else patch_size
    if len(size) != 3:
        raise SystemExit(f"error: patch sizes take 1 or 3 values, got {patch_size}")
    smallest = image_shapes.min(axis=0)
    return tuple(int(min(p, s)) for p, s in zip(size, smallest))  # type: ignore[return-value]


def main(argv: Sequence[str] | None = None) -> int:
    """Train, validate every epoch, write the final evaluation; returns the exit code."""
    args = parse_arguments(argv)
    recipe = RECIPES[args.recipe]
    runtime = runtime_torch.setup_runtime(args)
    output = Path(args.output)
    dataset = pipeline.ensure_dataset(args) if runtime.is_main else None
    if runtime.distributed:
        shared = [str(dataset) if dataset else None]
        torch.distributed.broadcast_object_list(shared, src=0)
        dataset = Path(shared[0])
    summary = pipeline.summarize_dataset(dataset, args.labels)
    train_subjects, validation_subjects = pipeline.split_subjects(len(summary.subjects), args.validation_subjects)
    normalize = pipeline.SubjectIntensityNormalization(
        pipeline.intensity_statistics(dataset, range(len(summary.subjects)), seed=args.seed))

    probe = PymiaDatasource(dataset)
    patch_shape = patch_shape_for(args.patch_size, probe.spatial_shapes)
    validation_patch = patch_shape_for(args.validation_patch_size or [2 * p for p in args.patch_size],
                                       probe.spatial_shapes)
    probe.close_reader()
    # Label-balanced centres (background as often as each tissue) keep small structures in the batches.
    sampling = LabelBalancedPatchSampling(patch_shape, args.patches_per_subject, seed=args.seed)
    train_source = PymiaDatasource(dataset, sampling, pipeline.make_extractor(("images", "labels")), normalize,
                                   subject_subset=train_subjects)
    validation_indexing = PatchWiseIndexing(validation_patch, overlap=args.validation_overlap, pad=True)
    validation_source = PymiaDatasource(dataset, validation_indexing,
                                        pipeline.make_extractor(("images",)), normalize,
                                        subject_subset=validation_subjects)
    if args.no_augmentation:
        augmentation = None
    elif args.recipe == "lung":
        augmentation = pipeline.compose(RandomElasticDeformation(num_control_points=4, deformation_sigma=2.0, p=0.5),
                                        RandomScaling(0.9, 1.1, p=1.0))
    else:
        augmentation = pipeline.compose(RandomRotation(max_degrees=10.0, p=1.0), RandomScaling(0.9, 1.1, p=1.0))

    model = models_torch.HighRes3DNet(summary.image_channels, summary.n_classes,
                                      normalization=recipe["normalization"], dense_skip=recipe["dense_skip"])
    model = runtime_torch.wrap_model(model, runtime)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.learning_rate, weight_decay=recipe["weight_decay"])
    dice = losses_torch.make_loss("dice")
    focal = losses_torch.make_loss("focal")

    def loss_for_epoch(epoch: int) -> losses_torch.LossFunction:
        return focal if args.recipe == "lung" and epoch >= args.dice_epochs else dice

    train_loader = runtime_torch.make_loader(train_source, runtime, batch_size=args.batch_size, shuffle=True,
                                             seed=args.seed, workers=args.workers, augmentation=augmentation)
    validation_loader = runtime_torch.make_loader(validation_source, runtime, batch_size=max(args.batch_size, 2),
                                                  shuffle=False, seed=args.seed, workers=args.workers)

    def validate(network: torch.nn.Module, final: bool) -> pipeline.EvaluationOutput:
        evaluation = pipeline.VolumeEvaluation(validation_source, summary, final=final, blending="gaussian")
        runtime_torch.predict_into(network, validation_loader, evaluation, runtime)
        return evaluation.finish()

    setup = trainer_torch.TrainingSetup(model=model, optimizer=optimizer, loss_for_epoch=loss_for_epoch,
                                        train_loader=train_loader, validate=validate, summary=summary)
    trainer_torch.fit(setup, args, runtime, output, args.epochs)
    if runtime.distributed:
        torch.distributed.destroy_process_group()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
