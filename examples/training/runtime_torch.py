"""PyTorch run-time plumbing shared by the reference training scripts: device and mixed precision,
seeding, DDP through ``torchrun``, checkpoints with ``--resume``, data loaders over pymia datasources,
and prediction into :class:`pipeline.VolumeEvaluation`.

Example code, not part of :mod:`pymia`.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pipeline
import torch
from torch.utils.data import DataLoader

from pymia.data.backends.pytorch import create_dataloader


def add_runtime_arguments(parser: argparse.ArgumentParser, *, batch_size: int, learning_rate: float) -> None:
    """Options for device, precision, loader and optimiser shared by the torch scripts."""
    parser.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda or cuda:N")
    parser.add_argument("--batch-size", type=int, default=batch_size, help=f"samples per batch (default {batch_size})")
    parser.add_argument("--learning-rate", type=float, default=learning_rate,
                        help=f"initial learning rate (default {learning_rate:g})")
    parser.add_argument("--workers", type=int, default=0, help="DataLoader worker processes (default 0)")
    parser.add_argument("--no-amp", action="store_true", help="disable mixed precision on GPU")
    parser.add_argument("--deterministic", action="store_true",
                        help="deterministic algorithms only (slower on GPU; bit-identical reruns)")


@dataclasses.dataclass
class Runtime:
    """Where and how a script runs: device, precision and its place in a DDP job."""

    device: torch.device
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    amp_dtype: torch.dtype | None = None

    @property
    def distributed(self) -> bool:
        """Whether the script runs as one of several ``torchrun`` processes."""
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Rank 0 writes checkpoints, logs, CSV and NIfTI and runs the validation."""
        return self.rank == 0

    def autocast(self) -> contextlib.AbstractContextManager:
        """Mixed-precision context on GPU (bfloat16 where supported, else float16); no-op on CPU."""
        if self.amp_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=self.amp_dtype)

    def grad_scaler(self) -> torch.amp.GradScaler:
        """Loss scaler, active only for float16 autocast."""
        return torch.amp.GradScaler(self.device.type, enabled=self.amp_dtype == torch.float16)

    def barrier(self) -> None:
        """Wait for all DDP processes (no-op when not distributed)."""
        if self.distributed:
            torch.distributed.barrier()


def setup_runtime(args: argparse.Namespace) -> Runtime:
    """Pick the device, join the DDP group started by ``torchrun`` and seed every generator.

    Under ``torchrun`` (``WORLD_SIZE`` > 1) each process uses ``cuda:LOCAL_RANK`` with NCCL, or the
    CPU with Gloo. ``--device auto`` chooses CUDA when available.
    """
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    requested = args.device
    if requested == "auto":
        requested = "cuda" if torch.cuda.is_available() else "cpu"
    if requested.startswith("cuda") and not torch.cuda.is_available():
        raise SystemExit(f"error: --device {args.device} asked for CUDA but torch sees no CUDA device")
    device = torch.device(requested)
    if device.type == "cuda" and world_size > 1:
        device = torch.device("cuda", local_rank)
    if device.type == "cuda":
        torch.cuda.set_device(device)
    if world_size > 1 and not torch.distributed.is_initialized():
        torch.distributed.init_process_group("nccl" if device.type == "cuda" else "gloo")
    amp_dtype = None
    if device.type == "cuda" and not args.no_amp:
        amp_dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    seed_everything(args.seed + rank, deterministic=args.deterministic)
    return Runtime(device, rank, world_size, local_rank, amp_dtype)


def seed_everything(seed: int, *, deterministic: bool = False) -> None:
    """Seed Python, NumPy and torch; with ``deterministic`` also force deterministic kernels."""
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 - third-party code may draw from NumPy's global state
    torch.manual_seed(seed)
    torch.backends.cudnn.benchmark = not deterministic
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True, warn_only=True)


def make_loader(
    datasource: Any, runtime: Runtime, *, batch_size: int, shuffle: bool, seed: int, workers: int = 0,
    augmentation: Any = None, drop_last: bool = False,
) -> DataLoader:
    """A DataLoader over a pymia datasource through pymia's torch adapter (:func:`create_dataloader`).

    ``augmentation`` runs in the adapter, reseeded per sample from ``(seed, epoch, sample)``, so the same
    seed gives the same batches for any number of workers; the trainer calls ``set_epoch`` on the
    adapter and the sampler before every epoch. Training under DDP uses a ``DistributedSampler``;
    evaluation loaders are sequential so the assembler receives each subject's samples in order.
    """
    sampler = None
    if shuffle and runtime.distributed:
        sampler = torch.utils.data.DistributedSampler(datasource, runtime.world_size, runtime.rank, shuffle=True,
                                                      seed=seed, drop_last=drop_last)
    return create_dataloader(datasource, batch_size=batch_size, shuffle=shuffle, num_workers=workers, seed=seed,
                             transform=augmentation, sampler=sampler, drop_last=drop_last,
                             pin_memory=runtime.device.type == "cuda")


def to_channels_first(array: torch.Tensor) -> torch.Tensor:
    """``(B, *spatial, C)`` (pymia) → ``(B, C, *spatial)`` (torch), contiguous."""
    return array.movedim(-1, 1).contiguous()


def batch_tensors(batch: dict, runtime: Runtime) -> tuple[torch.Tensor, torch.Tensor]:
    """Images ``(B, C, *spatial)`` float32 and labels ``(B, *spatial)`` int64 on the device."""
    images = to_channels_first(torch.as_tensor(batch["images"]).float()).to(runtime.device, non_blocking=True)
    labels = torch.as_tensor(batch["labels"])[..., 0].long().to(runtime.device, non_blocking=True)
    return images, labels


def unwrap(model: torch.nn.Module) -> torch.nn.Module:
    """The module inside a ``DistributedDataParallel`` wrapper."""
    return model.module if isinstance(model, torch.nn.parallel.DistributedDataParallel) else model


def wrap_model(model: torch.nn.Module, runtime: Runtime) -> torch.nn.Module:
    """Move to the device and wrap for DDP when distributed.

    On GPUs batch-norm layers are synchronised across processes (``SyncBatchNorm``, which PyTorch supports
    on CUDA only); on the CPU (Gloo) each process keeps its own batch statistics.
    """
    model = model.to(runtime.device)
    if runtime.distributed:
        if runtime.device.type == "cuda":
            model = torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)
        device_ids = [runtime.device.index] if runtime.device.type == "cuda" else None
        model = torch.nn.parallel.DistributedDataParallel(model, device_ids=device_ids)
    return model


class Checkpoints:
    """``OUTPUT/checkpoint.pt`` (last epoch, for ``--resume``) and ``OUTPUT/model_best.pt``.

    Files are written to a temporary name and renamed, so an interrupted run never leaves a broken checkpoint.
    """

    def __init__(self, output: Path, runtime: Runtime) -> None:
        self.output = output
        self.runtime = runtime
        self.last = output / "checkpoint.pt"
        self.best = output / "model_best.pt"

    def save(self, state: dict, *, best: bool = False) -> None:
        """Save on rank 0; ``state`` holds state dicts, epoch, step and anything else to restore."""
        if not self.runtime.is_main:
            return
        numpy_state = np.random.get_state()  # noqa: NPY002 - the global state seeded in seed_everything
        state = {**state, "rng": {"torch": torch.get_rng_state(), "numpy": numpy_state, "python": random.getstate()}}
        for path in [self.last] + ([self.best] if best else []):
            temporary = path.with_suffix(".tmp")
            torch.save(state, temporary)
            os.replace(temporary, path)

    def load(self) -> dict | None:
        """The last checkpoint (mapped to this process's device), or ``None`` if there is none."""
        if not self.last.exists():
            return None
        state = torch.load(self.last, map_location=self.runtime.device, weights_only=False)
        torch.set_rng_state(state["rng"]["torch"].cpu())
        np.random.set_state(state["rng"]["numpy"])  # noqa: NPY002 - restores the state saved above
        random.setstate(state["rng"]["python"])
        return state


class TrainingClock(pipeline.Budget):
    """The run's budgets (``--time-budget``, ``--cpu-budget``) and ``--max-steps`` per epoch."""

    def __init__(self, time_budget: float | None, max_steps: int | None, cpu_budget: float | None = None) -> None:
        super().__init__(time_budget, cpu_budget)
        self.max_steps = max_steps

    def out_of_time(self) -> bool:
        """Whether a budget is spent."""
        return self.spent()

    def steps(self, loader: Any) -> Iterator[tuple[int, Any]]:
        """Enumerate ``loader``, stopping at ``max_steps`` or when a budget is spent."""
        for step, batch in enumerate(loader):
            if (self.max_steps is not None and step >= self.max_steps) or self.out_of_time():
                return
            yield step, batch


@torch.no_grad()
def predict_into(
    model: torch.nn.Module,
    loader: DataLoader,
    evaluation: Any,
    runtime: Runtime,
    *,
    forward: Callable[[torch.nn.Module, torch.Tensor], torch.Tensor] | None = None,
) -> None:
    """Run ``model`` over a sequential ``loader`` and feed softmax probabilities ``(B, *spatial, C)``
    with the sample indices to ``evaluation.add_batch`` (which assembles and evaluates)."""
    model.eval()
    batches = len(loader)
    for i, batch in enumerate(loader):
        images = to_channels_first(torch.as_tensor(batch["images"]).float()).to(runtime.device)
        with runtime.autocast():
            logits = forward(model, images) if forward is not None else model(images)
        probabilities = torch.softmax(logits.float(), dim=1).movedim(1, -1).cpu().numpy()
        evaluation.add_batch(probabilities, np.asarray(batch["sample_index"]), i == batches - 1)
