"""Benchmark: does pymia's loader keep a GPU busy? A training loop timed on the GPU and on the host.

The loop trains the 2-D U-Net of ``examples/training`` (pymia's paper network: 16 base channels,
3 poolings, batch 16 of axial 128 × 128 slices with T1 and T2) from ``create_dataloader`` (PyTorch's
``DataLoader``) and from ``create_batch_loader`` (pymia's ``BatchLoader``) over the
same phantom subjects as ``benchmarks/dataloader.py``, with ``pin_memory`` and ``non_blocking``
copies and AMP on CUDA. For each number of workers it reports, over ``--iterations`` steps after a
warm-up:

* samples/s of the whole loop;
* **GPU busy**: the time CUDA events measure for the step's work on the GPU (copy, forward, backward,
  optimiser), summed and divided by the loop's wall time. The loader is not the bottleneck when this
  is ≥ 90 %;
* **loader wait**: the share of wall time the host spent waiting for the next batch.

Without CUDA the same loop runs on the CPU as a smoke test (GPU busy is then not measured); results
go to ``benchmarks/results/gpu_fed.json`` only when a GPU was used (or ``--out`` says where)::

    python benchmarks/gpu_fed.py                                  # on a machine with a GPU
    python benchmarks/gpu_fed.py --subjects 2 --shape 8 64 64 --iterations 5 --workers 0  # CPU smoke
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import statistics
import sys
import tempfile
import time

import torch

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "examples" / "training"))
import models_torch  # noqa: E402 - the examples' U-Net

from pymia.data.backends.pytorch import BatchLoader, create_batch_loader, create_dataloader  # noqa: E402
from pymia.data.extraction import DataExtractor, PymiaDatasource, SliceIndexing  # noqa: E402
from pymia.testing.datasets import create_test_dataset  # noqa: E402

RESULTS = REPO / "benchmarks" / "results" / "gpu_fed.json"


def batches_forever(loader: torch.utils.data.DataLoader):
    """Batches of the loader, epoch after epoch."""
    if len(loader) == 0:
        raise SystemExit("the dataset has fewer slices than one batch of 16: use more --subjects or a larger --shape")
    while True:
        yield from loader


LOADERS = {"DataLoader": create_dataloader, "BatchLoader": create_batch_loader}


def run_loop(
    datasource: PymiaDatasource,
    workers: int,
    device: torch.device,
    iterations: int,
    warm_up: int,
    loader_name: str = "DataLoader",
) -> dict:
    """Train for ``warm_up + iterations`` steps; time the last ``iterations``."""
    cuda = device.type == "cuda"
    loader = LOADERS[loader_name](
        datasource, batch_size=16, shuffle=True, seed=0, num_workers=workers, pin_memory=cuda, drop_last=True
    )
    channels = datasource[0]["images"].shape[-1]
    network = models_torch.UNet(channels, 4, base_channels=16, n_pooling=3, dropout=0.0).to(device)
    optimizer = torch.optim.Adam(network.parameters(), lr=1e-3)
    scaler = torch.amp.GradScaler(device.type, enabled=cuda)
    loss_function = torch.nn.CrossEntropyLoss()
    batches = batches_forever(loader)
    events: list[tuple[torch.cuda.Event, torch.cuda.Event]] = []
    wait_s = 0.0
    samples = 0
    start = 0.0
    for step in range(warm_up + iterations):
        if step == warm_up:
            if cuda:
                torch.cuda.synchronize(device)
            start = time.perf_counter()
            wait_s, samples = 0.0, 0
        waited = time.perf_counter()
        batch = next(batches)
        wait_s += time.perf_counter() - waited
        if cuda:
            begin, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            begin.record()
        images = batch["images"].to(device, non_blocking=True).permute(0, 3, 1, 2).float()
        labels = batch["labels"].to(device, non_blocking=True)[..., 0].long()
        with torch.autocast(device.type, enabled=cuda):
            loss = loss_function(network(images), labels)
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        if cuda:
            end.record()
            if step >= warm_up:
                events.append((begin, end))
        samples += len(images) if step >= warm_up else 0
    if cuda:
        torch.cuda.synchronize(device)
    wall = time.perf_counter() - start
    result = {
        "loader": loader_name,
        "workers": workers,
        "samples_per_s": samples / wall,
        "loader_wait": wait_s / wall,
        "wall_s": wall,
    }
    if cuda:
        busy_ms = [begin.elapsed_time(end) for begin, end in events]
        result["gpu_busy"] = sum(busy_ms) / (wall * 1e3)
        result["gpu_ms_per_step"] = statistics.median(busy_ms)
    if isinstance(loader, BatchLoader):
        loader.close()  # stop its worker processes now
    del loader
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subjects", type=int, default=16)
    parser.add_argument("--shape", type=int, nargs=3, default=(64, 128, 128), help="(z, y, x) voxels")
    parser.add_argument("--iterations", type=int, default=300, help="timed steps per worker setting")
    parser.add_argument("--warm-up", type=int, default=30)
    parser.add_argument("--workers", type=int, nargs="+", help="default: 0, 2 and 4 where the CPUs allow")
    parser.add_argument(
        "--loaders", nargs="+", choices=tuple(LOADERS), default=list(LOADERS), help="pymia loaders to compare"
    )
    parser.add_argument("--device", default="auto", help="'auto' (CUDA if available), 'cuda' or 'cpu'")
    parser.add_argument("--out", type=pathlib.Path, help=f"JSON output (default {RESULTS} on a GPU, none on CPU)")
    args = parser.parse_args(argv)
    device = torch.device(
        "cuda"
        if args.device == "auto" and torch.cuda.is_available()
        else "cpu"
        if args.device == "auto"
        else args.device
    )
    workers = args.workers or [w for w in (0, 2, 4) if w <= (os.cpu_count() or 1)]
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        path = create_test_dataset(pathlib.Path(folder) / "data.h5", n_subjects=args.subjects, shape=tuple(args.shape))
        datasource = PymiaDatasource(path, SliceIndexing(), DataExtractor(categories=("images", "labels")))
        for loader_name in args.loaders:
            for count in workers:
                rows.append(run_loop(datasource, count, device, args.iterations, args.warm_up, loader_name))
                datasource.close_reader()
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU (smoke run: no GPU timing)"
    print(f"device: {name}; batch 16 of {tuple(args.shape[1:])} slices, 2-D U-Net, {args.iterations} steps")
    print(f"{'loader':<12}{'workers':>8}{'samples/s':>12}{'GPU busy':>10}{'loader wait':>13}")
    for row in rows:
        busy = f"{row['gpu_busy']:.0%}" if "gpu_busy" in row else "—"
        cells = f"{row['workers']:>8}{row['samples_per_s']:>12.0f}{busy:>10}{row['loader_wait']:>13.0%}"
        print(f"{row['loader']:<12}" + cells)
    out = args.out or (RESULTS if device.type == "cuda" else None)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        setup = {
            "device": name,
            "subjects": args.subjects,
            "shape": args.shape,
            "iterations": args.iterations,
            "cpus": os.cpu_count(),
            "torch": torch.__version__,
        }
        out.write_text(json.dumps({"setup": setup, "rows": rows}, indent=2))
        print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
