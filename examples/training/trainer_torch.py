"""The epoch loop shared by the PyTorch reference scripts: train, validate on assembled volumes with
pymia's evaluator, log to TensorBoard, checkpoint, resume, and write the final CSV and NIfTI files.

Example code, not part of :mod:`pymia`. A script builds a :class:`TrainingSetup` (model, optimiser,
loss, loaders, validation) and calls :func:`fit`.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pipeline
import runtime_torch
import torch

from pymia.evaluation.tensorboard import TensorBoardLogger

LossFunction = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


@dataclasses.dataclass
class TrainingSetup:
    """Everything :func:`fit` needs.

    Attributes
    ----------
    model : torch.nn.Module
        Already on the device and wrapped for DDP (:func:`runtime_torch.wrap_model`).
    optimizer : torch.optim.Optimizer
        The optimiser.
    loss_for_epoch : callable
        ``epoch -> loss function`` (lets the lung-tumour recipe switch from Dice to focal loss).
    train_loader : DataLoader
        Shuffled training batches.
    validate : callable
        ``(model, final) -> pipeline.EvaluationOutput``; runs on rank 0 only.
    step_losses : callable, optional
        ``(model, images, labels, loss) -> loss tensor`` for models with several outputs (cascade);
        default ``loss(model(images), labels)``.
    accumulate : int
        Batches whose gradients are summed before each optimiser step (cascade optimiser).
    after_step : callable, optional
        Called with each optimiser step's loss (e.g. a plateau schedule).
    scheduler_state : object, optional
        Object with ``state_dict``/``load_state_dict`` saved in checkpoints.
    epoch_hook : callable, optional
        ``epoch -> None`` before each epoch.
    summary : pipeline.DatasetSummary, optional
        When given, an overlay picture of the final prediction is logged to TensorBoard.
    """

    model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    loss_for_epoch: Callable[[int], LossFunction]
    train_loader: Any
    validate: Callable[[torch.nn.Module, bool], pipeline.EvaluationOutput]
    step_losses: Callable[[torch.nn.Module, torch.Tensor, torch.Tensor, LossFunction], torch.Tensor] | None = None
    accumulate: int = 1
    after_step: Callable[[float], None] | None = None
    scheduler_state: Any = None
    epoch_hook: Callable[[int], None] | None = None
    summary: pipeline.DatasetSummary | None = None


def _train_epoch(setup: TrainingSetup, epoch: int, runtime: runtime_torch.Runtime, scaler: torch.amp.GradScaler,
                 clock: runtime_torch.TrainingClock, logger: TensorBoardLogger | None, global_step: int
                 ) -> tuple[int, float, int]:
    loss_function = setup.loss_for_epoch(epoch)
    for seeded in (getattr(setup.train_loader, "sampler", None), getattr(setup.train_loader, "dataset", None)):
        if hasattr(seeded, "set_epoch"):
            seeded.set_epoch(epoch)  # DDP shuffling, augmentation seeds and random patch positions
    if setup.epoch_hook is not None:
        setup.epoch_hook(epoch)
    setup.model.train()
    losses = []
    samples = 0
    setup.optimizer.zero_grad(set_to_none=True)
    accumulated = 0.0
    for step, batch in clock.steps(setup.train_loader):
        images, labels = runtime_torch.batch_tensors(batch, runtime)
        with runtime.autocast():
            if setup.step_losses is not None:
                loss = setup.step_losses(setup.model, images, labels, loss_function)
            else:
                loss = loss_function(setup.model(images), labels)
        scaler.scale(loss).backward()
        accumulated += loss.item()
        samples += images.shape[0]
        if (step + 1) % setup.accumulate:
            continue
        scaler.step(setup.optimizer)
        scaler.update()
        setup.optimizer.zero_grad(set_to_none=True)
        step_loss = accumulated / setup.accumulate
        accumulated = 0.0
        if setup.after_step is not None:
            setup.after_step(step_loss)
        losses.append(step_loss)
        global_step += 1
        if logger is not None:
            logger.log_scalar("train/loss", step_loss, global_step)
    return global_step, float(np.mean(losses)) if losses else math.nan, samples


def fit(setup: TrainingSetup, args: argparse.Namespace, runtime: runtime_torch.Runtime, output: Path,
        epochs: int) -> pipeline.EvaluationOutput | None:
    """Train for ``epochs`` epochs (or until the time budget), validating after each one.

    Rank 0 logs ``train/loss`` per step and ``validation/DICE/<label>/MEAN|STD`` per epoch to
    ``OUTPUT/tensorboard``, appends ``OUTPUT/history.csv``, keeps ``checkpoint.pt`` (every epoch) and
    ``model_best.pt`` (best mean validation Dice), and finally evaluates the last model with Dice and
    HD95, writing ``results.csv``, ``predictions/<subject>.nii.gz`` and ``summary.json``.
    ``--resume`` continues from ``checkpoint.pt``. Returns the final evaluation on rank 0, else ``None``.
    """
    output.mkdir(parents=True, exist_ok=True)
    checkpoints = runtime_torch.Checkpoints(output, runtime)
    scaler = runtime.grad_scaler()
    start_epoch, global_step, best = 0, 0, -math.inf
    if args.resume:
        state = checkpoints.load()
        if state is not None:
            runtime_torch.unwrap(setup.model).load_state_dict(state["model"])
            setup.optimizer.load_state_dict(state["optimizer"])
            scaler.load_state_dict(state["scaler"])
            if setup.scheduler_state is not None and state.get("scheduler") is not None:
                setup.scheduler_state.load_state_dict(state["scheduler"])
            start_epoch, global_step, best = state["epoch"] + 1, state["global_step"], state["best"]
            if runtime.is_main:
                print(f"resumed from {checkpoints.last} after epoch {state['epoch']}")
    logger = TensorBoardLogger(output / "tensorboard") if runtime.is_main else None
    clock = runtime_torch.TrainingClock(args.time_budget, args.max_steps, args.cpu_budget)
    epochs_run, samples_seen = 0, 0
    try:
        for epoch in range(start_epoch, epochs):
            epochs_run += 1
            epoch_start = clock.elapsed()
            global_step, train_loss, samples = _train_epoch(setup, epoch, runtime, scaler, clock, logger, global_step)
            train_seconds = clock.elapsed() - epoch_start
            samples_seen += samples
            mean_dice = math.nan
            # When the time budget ran out, the final evaluation below replaces this epoch's validation.
            if logger is not None and not clock.out_of_time():
                evaluation = setup.validate(runtime_torch.unwrap(setup.model), False)
                mean_dice = evaluation.mean("DICE")
                logger.log_results(evaluation.results, step=epoch, prefix="validation")
                logger.log_scalar("train/samples_per_second", samples / max(train_seconds, 1e-9), epoch)
                pipeline.append_history(output, epoch, {"train_loss": train_loss, "validation_dice": mean_dice,
                                                        "train_seconds": train_seconds, "samples": samples})
                print(f"epoch {epoch}: loss {train_loss:.4f}, validation mean Dice {mean_dice:.4f}, "
                      f"{samples / max(train_seconds, 1e-9):.1f} samples/s", flush=True)
            is_best = runtime.is_main and not math.isnan(mean_dice) and mean_dice > best
            if is_best:
                best = mean_dice
            checkpoints.save({
                "model": runtime_torch.unwrap(setup.model).state_dict(),
                "optimizer": setup.optimizer.state_dict(),
                "scaler": scaler.state_dict(),
                "scheduler": setup.scheduler_state.state_dict() if setup.scheduler_state is not None else None,
                "epoch": epoch, "global_step": global_step, "best": best,
            }, best=is_best)
            runtime.barrier()
            if clock.out_of_time():
                break
        final = None
        if runtime.is_main:
            final = setup.validate(runtime_torch.unwrap(setup.model), True)
            csv_path = pipeline.write_outputs(final, output)
            if logger is not None and setup.summary is not None:
                pipeline.log_overlay(logger, setup.summary, final, epochs)
            summary = {"mean_dice": final.mean("DICE"), "mean_hd95_mm": final.mean("HDRFDST95"),
                       "dice_per_label": final.mean_per_label("DICE"), "train_seconds": clock.elapsed(),
                       "cpu_seconds": clock.cpu_seconds(),
                       "epochs_run": epochs_run, "samples_seen": samples_seen, "device": str(runtime.device)}
            (output / "summary.json").write_text(json.dumps(summary, indent=2))
            print(f"final mean Dice {summary['mean_dice']:.4f}; results in {csv_path}")
        runtime.barrier()
        return final
    finally:
        if logger is not None:
            logger.close()
