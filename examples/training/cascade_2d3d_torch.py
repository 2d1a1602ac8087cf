"""Train the 2D-3D cascade of Mlynarski et al. (CMIG 2019) on a pymia dataset with PyTorch.

1. Three 2-D models with modality-specific subnetworks, trained on axial, coronal and sagittal slices
   (loss 0.75 · main + 0.25 · mean of the subnetwork losses; cross-entropy with batch-adaptive class
   weights, background target 0.7).
2. Their unnormalised outputs (one map per class and orientation, 3·C channels) are computed once for
   every subject and stored in ``OUTPUT/features/<subject>.npy``.
3. A 3-D U-Net-like model ("model A") is trained on 3-D patches of the images with those features as
   extra input channels (a pymia ``Extractor`` reads the feature patch for each sample); background
   target 0.4.
4. The 2-D models and the 2D-3D model are combined per voxel by hierarchical voting with thresholds
   0.4/0.3/0.4 (``--fusion vote``) or by averaging their probabilities (``--fusion stack``, the CT
   recipe's stacking), evaluated and written to ``OUTPUT/results.csv`` and ``OUTPUT/predictions``.

``--optimizer normalized-sgd`` uses the paper's optimiser: SGD with momentum on the gradient summed over
10 (2-D) or 5 (3-D) batches and divided by its norm, learning rate 0.25 halved on plateaus down to 0.001.
``--ct-recipe``: instance norm + LeakyReLU(0.01), Tanimoto^0.6·CE^0.4, percentile windowing 0.6/0.99.

    python examples/training/cascade_2d3d_torch.py --dataset example.h5 --output runs/cascade --epochs 10
    python examples/training/cascade_2d3d_torch.py --output /tmp/cascade --quick         # seconds, on CPU
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import ensemble
import losses_torch
import models_torch
import numpy as np
import optim_torch
import pipeline
import runtime_torch
import torch
import trainer_torch

from pymia.data import definition as defs
from pymia.data.extraction import (
    ComposeExtractor,
    EmptyIndexing,
    Extractor,
    LabelBalancedPatchSampling,
    PatchWiseIndexing,
    PymiaDatasource,
    SliceIndexing,
)
from pymia.data.transformation import Transform


def parse_arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options (``--help`` lists them)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    pipeline.add_dataset_arguments(parser)
    runtime_torch.add_runtime_arguments(parser, batch_size=8, learning_rate=1e-3)
    parser.add_argument("--epochs-2d", type=int, help="epochs of each 2-D model (default: --epochs)")
    parser.add_argument("--subnetwork", choices=("unet", "conv"), default="unet",
                        help="modality-specific subnetworks: reduced U-Nets (2D model 1) or 3 conv layers (model 2)")
    parser.add_argument("--patch-size", type=int, default=32, help="3-D training patch size (the paper used 70)")
    parser.add_argument("--patches-per-subject", type=int, default=16, help="3-D patches per subject and epoch")
    parser.add_argument("--optimizer", choices=("adam", "normalized-sgd"), default="adam",
                        help="adam, or the paper's normalised-gradient SGD with plateau halving")
    parser.add_argument("--fusion", choices=("vote", "stack"), default="vote",
                        help="hierarchical voting (thresholds 0.4/0.3/0.4) or probability averaging")
    parser.add_argument("--ct-recipe", action="store_true",
                        help="instance norm + LeakyReLU(0.01), Tanimoto^0.6·CE^0.4, percentile windowing 0.6/0.99")
    args = parser.parse_args(argv)
    if args.quick:
        args.epochs = args.epochs or 1
        args.max_steps = args.max_steps or 2
        args.patch_size = min(args.patch_size, 12)
        args.patches_per_subject = min(args.patches_per_subject, 4)
        args.batch_size = min(args.batch_size, 4)
    args.epochs = args.epochs or 20
    args.epochs_2d = args.epochs_2d or args.epochs
    return args


def class_targets(n_classes: int, background: float) -> list[float]:
    """Batch-adaptive CE targets: ``background`` for class 0, the rest shared equally (paper: 0.7/0.1/0.1/0.1)."""
    return [background] + [(1 - background) / (n_classes - 1)] * (n_classes - 1)


def make_optimizer(model: torch.nn.Module, args: argparse.Namespace, accumulate: int
                   ) -> tuple[torch.optim.Optimizer, optim_torch.PlateauHalvingSchedule | None, int]:
    """Adam, or the paper's optimiser with its schedule and the number of batches summed per step."""
    if args.optimizer == "adam":
        return torch.optim.Adam(model.parameters(), lr=args.learning_rate), None, 1
    optimizer = optim_torch.NormalizedGradientSGD(model.parameters(), lr=0.25, momentum=0.9)
    period = 4 if args.quick else 200
    return optimizer, optim_torch.PlateauHalvingSchedule(optimizer, period=period, minimum_lr=1e-3), accumulate


class FeatureExtractor(Extractor):
    """Read the stored 2-D features of a sample's region (zero outside the volume) into ``features``."""

    def __init__(self, feature_files: dict[int, Path]) -> None:
        self.feature_files = feature_files
        self._arrays: dict[int, np.ndarray] = {}

    def extract(self, reader: Any, params: dict, extracted: dict) -> None:
        """Add ``features`` ``(*region, 3·C)`` float32 for ``params['index_expr']`` (whole volume if None)."""
        subject_index = int(params[defs.KEY_SUBJECT_INDEX])
        if subject_index not in self._arrays:
            self._arrays[subject_index] = np.load(self.feature_files[subject_index], mmap_mode="r")
        volume = self._arrays[subject_index]
        index_expr = params.get(defs.KEY_INDEX_EXPR)
        if index_expr is None:
            extracted["features"] = np.array(volume, dtype=np.float32)
            return
        spatial = volume.shape[:-1]
        source, target = index_expr.clip(spatial)
        box = index_expr.box(spatial)
        patch = np.zeros([stop - start for start, stop in box] + [volume.shape[-1]], dtype=np.float32)
        patch[target] = volume[source]
        extracted["features"] = patch

    def __getstate__(self) -> dict:
        return {"feature_files": self.feature_files, "_arrays": {}}  # memory maps reopen in each worker


class ConcatenateFeatures(Transform):
    """Append ``features`` to ``images`` along the channel axis (after the images were normalised)."""

    def __call__(self, sample: dict) -> dict:
        """Concatenate and drop the ``features`` entry."""
        features = sample.pop("features")
        sample[defs.KEY_IMAGES] = np.concatenate([sample[defs.KEY_IMAGES], features], axis=-1).astype(np.float32)
        return sample


def train_2d_model(axis: int, name: str, args: argparse.Namespace, runtime: runtime_torch.Runtime,
                   context: dict) -> torch.nn.Module:
    """Stage 1: train the 2-D model on slices along ``axis`` (0 axial, 1 coronal, 2 sagittal)."""
    summary = context["summary"]
    dataset = context["dataset"]
    normalize = context["normalize"]
    train = PymiaDatasource(dataset, SliceIndexing(axis), pipeline.make_extractor(("images", "labels")), normalize,
                            subject_subset=context["train_subjects"])
    validation = PymiaDatasource(dataset, SliceIndexing(axis), pipeline.make_extractor(("images",)), normalize,
                                 subject_subset=context["validation_subjects"])
    network = models_torch.ModalitySpecificUNet2D(summary.image_channels, summary.n_classes,
                                                  subnetwork=args.subnetwork, **context["layer_options"])
    model = runtime_torch.wrap_model(network, runtime)
    optimizer, schedule, accumulate = make_optimizer(model, args, accumulate=10)
    main_loss = context["loss_2d"]

    def step_losses(net: torch.nn.Module, images: torch.Tensor, labels: torch.Tensor, _: Any) -> torch.Tensor:
        main, subnetworks = net(images, return_subnetworks=True)
        return 0.75 * main_loss(main, labels) + 0.25 * sum(main_loss(s, labels) for s in subnetworks) / len(subnetworks)

    train_loader = runtime_torch.make_loader(train, runtime, batch_size=args.batch_size, shuffle=True,
                                             seed=args.seed + axis, workers=args.workers)
    validation_loader = runtime_torch.make_loader(validation, runtime, batch_size=args.batch_size, shuffle=False,
                                                  seed=args.seed, workers=args.workers)

    def validate(net: torch.nn.Module, final: bool) -> pipeline.EvaluationOutput:
        evaluation = pipeline.VolumeEvaluation(validation, summary, final=final)
        runtime_torch.predict_into(net, validation_loader, evaluation, runtime)
        return evaluation.finish()

    setup = trainer_torch.TrainingSetup(model=model, optimizer=optimizer, loss_for_epoch=lambda epoch: main_loss,
                                        train_loader=train_loader, validate=validate, step_losses=step_losses,
                                        accumulate=accumulate, after_step=schedule.step if schedule else None,
                                        scheduler_state=schedule)
    trainer_torch.fit(setup, args, runtime, Path(args.output) / f"2d-{name}", args.epochs_2d)
    return runtime_torch.unwrap(model).eval()


@torch.no_grad()
def write_features(models: list[torch.nn.Module], context: dict, runtime: runtime_torch.Runtime,
                   folder: Path) -> dict[int, Path]:
    """Stage 2: the 3·C feature maps of every subject, stored channel-last as ``<subject>.npy``."""
    folder.mkdir(parents=True, exist_ok=True)
    whole = PymiaDatasource(context["dataset"], EmptyIndexing(), pipeline.make_extractor(("images",)),
                            context["normalize"])
    files = {}
    for subject_index, name in enumerate(context["summary"].subjects):
        images = whole.direct_extract(whole.extractor, subject_index, None, whole.transform)["images"]
        volume = torch.from_numpy(np.moveaxis(images, -1, 0)).float().to(runtime.device)
        with runtime.autocast():
            features = models_torch.orthogonal_features(models, volume)
        path = folder / f"{name}.npy"
        np.save(path, np.moveaxis(features.float().cpu().numpy(), 0, -1))
        files[subject_index] = path
    whole.close_reader()
    return files


def train_3d_model(feature_files: dict[int, Path], args: argparse.Namespace, runtime: runtime_torch.Runtime,
                   context: dict) -> tuple[torch.nn.Module, PymiaDatasource, Any]:
    """Stage 3: the 3-D model on patches of images + features; returns it with its validation source/loader."""
    summary = context["summary"]
    dataset = context["dataset"]
    feature_channels = 3 * summary.n_classes
    train_features = np.concatenate([np.load(feature_files[i], mmap_mode="r").reshape(-1, feature_channels)
                                     for i in context["train_subjects"]])
    feature_scale = float(1.0 / max(train_features.std(), 1e-6))  # features to about unit range, as the images
    transform = pipeline.compose(context["normalize"], ConcatenateFeatures())
    shapes = PymiaDatasource(dataset).spatial_shapes
    patch = tuple(int(min(args.patch_size, s)) for s in shapes.min(axis=0))

    def extractor(categories: tuple[str, ...]) -> Extractor:
        return ComposeExtractor([pipeline.make_extractor(categories), FeatureExtractor(feature_files)])

    train = PymiaDatasource(dataset, LabelBalancedPatchSampling(patch, args.patches_per_subject, seed=args.seed),
                            extractor(("images", "labels")), transform, subject_subset=context["train_subjects"])
    validation = PymiaDatasource(dataset, PatchWiseIndexing(patch, overlap=0.25, pad=True), extractor(("images",)),
                                 transform, subject_subset=context["validation_subjects"])
    network = models_torch.FeatureInputUNet3D(summary.image_channels, feature_channels, summary.n_classes,
                                              feature_scale=feature_scale, **context["layer_options_3d"])
    model = runtime_torch.wrap_model(network, runtime)
    optimizer, schedule, accumulate = make_optimizer(model, args, accumulate=5)
    loss = context["loss_3d"]
    train_loader = runtime_torch.make_loader(train, runtime, batch_size=max(1, args.batch_size // 2), shuffle=True,
                                             seed=args.seed + 3, workers=args.workers)
    validation_loader = runtime_torch.make_loader(validation, runtime, batch_size=2, shuffle=False, seed=args.seed,
                                                  workers=args.workers)

    def validate(net: torch.nn.Module, final: bool) -> pipeline.EvaluationOutput:
        evaluation = pipeline.VolumeEvaluation(validation, summary, final=final, blending="gaussian")
        runtime_torch.predict_into(net, validation_loader, evaluation, runtime)
        return evaluation.finish()

    setup = trainer_torch.TrainingSetup(model=model, optimizer=optimizer, loss_for_epoch=lambda epoch: loss,
                                        train_loader=train_loader, validate=validate, accumulate=accumulate,
                                        after_step=schedule.step if schedule else None, scheduler_state=schedule)
    trainer_torch.fit(setup, args, runtime, Path(args.output) / "2d3d", args.epochs)
    return runtime_torch.unwrap(model).eval(), validation, validation_loader


def fuse(args: argparse.Namespace, context: dict, feature_files: dict[int, Path], model_3d: torch.nn.Module,
         validation: PymiaDatasource, validation_loader: Any, runtime: runtime_torch.Runtime) -> None:
    """Stage 4: ensemble of the three 2-D models and the 2D-3D model, evaluated and written."""
    summary = context["summary"]
    n_classes = summary.n_classes
    prediction_3d = pipeline.VolumeEvaluation(validation, summary, blending="gaussian")
    runtime_torch.predict_into(model_3d, validation_loader, prediction_3d, runtime)
    final = pipeline.VolumeEvaluation(validation, summary, final=True)
    for subject_index in context["validation_subjects"]:
        stored = np.load(feature_files[subject_index])  # (z, y, x, 3·C): axial, coronal, sagittal blocks
        logits_2d = stored.reshape(*stored.shape[:-1], 3, n_classes)
        probabilities_2d = torch.softmax(torch.from_numpy(logits_2d), dim=-1).numpy()
        probabilities_3d = prediction_3d.probabilities[subject_index]
        if args.fusion == "stack":
            mean_2d = probabilities_2d.mean(axis=-2)
            fused = ensemble.stack_probabilities([mean_2d, probabilities_3d]).argmax(axis=-1)
        else:
            members = [probabilities_2d[..., k, :].argmax(axis=-1) for k in range(3)] + [probabilities_3d.argmax(-1)]
            if n_classes == 4:
                fused = ensemble.hierarchical_vote(members)
            else:  # the nested-region vote needs labels 0..3; fall back to a plain majority vote
                votes = np.stack([(np.stack(members) == c).sum(axis=0) for c in range(n_classes)], axis=-1)
                fused = votes.argmax(axis=-1)
        final.evaluate_label_map(subject_index, fused.astype(np.uint8))
    result = final.finish()
    csv_path = pipeline.write_outputs(result, Path(args.output))
    print(f"ensemble ({args.fusion}) mean Dice {result.mean('DICE'):.4f}; results in {csv_path}")
    (Path(args.output) / "summary.json").write_text(
        json.dumps({"mean_dice": result.mean("DICE"), "mean_hd95_mm": result.mean("HDRFDST95"),
                                  "dice_per_label": result.mean_per_label("DICE"), "fusion": args.fusion}, indent=2))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the four stages; returns the exit code."""
    args = parse_arguments(argv)
    runtime = runtime_torch.setup_runtime(args)
    output = Path(args.output)
    dataset = pipeline.ensure_dataset(args) if runtime.is_main else None
    if runtime.distributed:
        shared = [str(dataset) if dataset else None]
        torch.distributed.broadcast_object_list(shared, src=0)
        dataset = Path(shared[0])
    summary = pipeline.summarize_dataset(dataset, args.labels)
    train_subjects, validation_subjects = pipeline.split_subjects(len(summary.subjects), args.validation_subjects)
    statistics = pipeline.intensity_statistics(dataset, range(len(summary.subjects)), seed=args.seed,
                                               window=(0.6, 0.99) if args.ct_recipe else None)
    layer_options = {"normalization": "instance" if args.ct_recipe else "batch",
                     "activation": "leaky_relu" if args.ct_recipe else "relu"}
    n = summary.n_classes
    if args.ct_recipe:
        loss_2d = loss_3d = losses_torch.make_loss("tanimoto_ce")
    else:
        def loss_2d(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
            return losses_torch.batch_adaptive_cross_entropy(logits, labels, class_targets(n, 0.7))

        def loss_3d(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
            return losses_torch.batch_adaptive_cross_entropy(logits, labels, class_targets(n, 0.4))
    context = {
        "summary": summary, "dataset": dataset, "train_subjects": train_subjects,
        "validation_subjects": validation_subjects,
        "normalize": pipeline.SubjectIntensityNormalization(statistics),
        "layer_options": layer_options,
        # the paper's 3-D model has no normalisation layers; the CT recipe uses instance norm
        "layer_options_3d": {**layer_options, "normalization": "instance" if args.ct_recipe else "none"},
        "loss_2d": loss_2d, "loss_3d": loss_3d,
    }
    models = [train_2d_model(axis, name, args, runtime, context) for name, axis in models_torch.ORIENTATIONS.items()]
    feature_files: dict[int, Path] = {}
    if runtime.is_main:
        feature_files = write_features(models, context, runtime, output / "features")
    if runtime.distributed:
        shared = [feature_files]
        torch.distributed.broadcast_object_list(shared, src=0)
        feature_files = shared[0]
    model_3d, validation, validation_loader = train_3d_model(feature_files, args, runtime, context)
    if runtime.is_main:
        fuse(args, context, feature_files, model_3d, validation, validation_loader, runtime)
    runtime.barrier()
    if runtime.distributed:
        torch.distributed.destroy_process_group()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
