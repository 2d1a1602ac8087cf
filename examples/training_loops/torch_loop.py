"""A short PyTorch training loop over pymia data, with validation and TensorBoard logging.

A small 2-D network segments axial slices. Training reads shuffled, augmented slices through
``create_dataloader`` (same batches for any number of workers, for a given seed), or pymia's own
``create_batch_loader`` with ``--loader batch`` (the same batches, less work per batch); validation
assembles each subject's predicted slices back into a volume, evaluates it with pymia's evaluator
and logs the Dice per label and an image/reference/prediction overlay to TensorBoard.

    python examples/training_loops/torch_loop.py --dataset data.h5 --output runs/torch --epochs 10
    python examples/training_loops/torch_loop.py --quick      # tiny phantom dataset, a few seconds on CPU
    tensorboard --logdir runs/torch
"""

from __future__ import annotations

import argparse
import pathlib
import sys

import numpy as np
import torch

from pymia.data.assembly import SubjectAssembler
from pymia.data.augmentation import RandomFlip, RandomGaussianNoise
from pymia.data.backends.pytorch import create_batch_loader, create_dataloader
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
    parser.add_argument("--output", type=pathlib.Path, default=pathlib.Path("runs/torch_loop"))
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--workers", type=int, default=0, help="worker processes of the training loader")
    parser.add_argument(
        "--loader",
        choices=("dataloader", "batch"),
        default="dataloader",
        help="PyTorch's DataLoader (create_dataloader) or pymia's BatchLoader (create_batch_loader)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--writer",
        choices=("tensorboard", "torch"),
        default="tensorboard",
        help="event writer: the tensorboard package's (default, imports no framework) or torch's SummaryWriter "
        "(which imports TensorFlow when it is installed)",
    )
    parser.add_argument("--quick", action="store_true", help="tiny phantom data and one epoch (smoke run)")
    return parser.parse_args(argv)


def build_network(in_channels: int, n_classes: int) -> torch.nn.Module:
    return torch.nn.Sequential(
        torch.nn.Conv2d(in_channels, 16, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.Conv2d(16, 16, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.Conv2d(16, n_classes, 1),
    )


def validate(network, datasource, logger, epoch, batch_size) -> float:
    """Predict every slice, assemble subjects, evaluate them and log the results; return the mean Dice."""
    evaluator = SegmentationEvaluator([DiceCoefficient()], LABELS)
    assembler = SubjectAssembler(datasource)
    subjects = datasource.get_subjects()
    network.eval()
    with torch.no_grad():
        for batch in create_dataloader(datasource, batch_size=batch_size):
            logits = network(batch["images"].permute(0, 3, 1, 2))  # (B, Y, X, C) -> (B, C, Y, X)
            prediction = logits.argmax(dim=1, keepdim=True).permute(0, 2, 3, 1)  # (B, Y, X, 1)
            outputs = {"prediction": prediction, "labels": batch["labels"], "images": batch["images"]}
            assembler.add_batch(outputs, batch["sample_index"])
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
    torch.manual_seed(arguments.seed)
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
    make_loader = create_batch_loader if arguments.loader == "batch" else create_dataloader
    loader = make_loader(
        training,
        batch_size=arguments.batch_size,
        shuffle=True,
        seed=arguments.seed,
        transform=augmentation,
        num_workers=arguments.workers,
    )
    in_channels = training[0]["images"].shape[-1]
    network = build_network(in_channels, n_classes=len(LABELS) + 1)
    optimizer = torch.optim.Adam(network.parameters(), lr=1e-2)

    with TensorBoardLogger(arguments.output, framework=arguments.writer) as logger:
        for epoch in range(epochs):
            loader.dataset.set_epoch(epoch)  # new shuffling order and augmentation draws
            network.train()
            losses = []
            for batch in loader:
                logits = network(batch["images"].permute(0, 3, 1, 2))
                loss = torch.nn.functional.cross_entropy(logits, batch["labels"][..., 0].long())
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                losses.append(loss.item())
            logger.log_scalar("train/loss", float(np.mean(losses)), step=epoch)
            dice = validate(network, validation, logger, epoch, arguments.batch_size)
            print(f"epoch {epoch}: loss {np.mean(losses):.4f}, validation mean Dice {dice:.3f}")
    if arguments.loader == "batch":
        loader.close()  # stops its worker processes (garbage collection would too)
    print(f"TensorBoard logs in {arguments.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
