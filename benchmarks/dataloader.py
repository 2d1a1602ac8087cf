"""Training-style loader throughput: samples/s at batch 16, random order, with 0 and 2 workers.

Compared in one run, on the same phantom subjects: pymia's PyTorch adapter (``create_dataloader``),
pymia's own PyTorch loader (``create_batch_loader``), pymia's ``tf.data`` pipeline (``create_tf_dataset``;
0 workers = tf.data threads, 2 = reader processes), pymia 0.3.4's ``PytorchDatasetAdapter`` (venv
``.benchmarks-venv-pymia034``, NumPy aliases restored), TorchIO's ``Queue`` (venv
``.benchmarks-venv-torchio``) and MONAI's ``Dataset`` and ``CacheDataset`` (random crops from NIfTI files).
Two workloads: 2-D axial slices and 3-D patches.

Each measurement runs in its own process: one warm-up epoch (workers start, caches fill), then
``--repeats`` timings, each of as many whole epochs as take at least ``--min-seconds`` (default 1 s);
the best timing counts (other load only slows a timing down), the median is kept in the JSON. Ratios
(2 workers / 0 workers, pymia / peer) are printed and written to ``benchmarks/results/dataloader.json``.

Why timings of several epochs, and 16 subjects by default (there were 4): a 2-D epoch of 4 subjects is 256
samples (16 batches, about 20 ms without workers), and each epoch with workers starts with a pipeline
refill (a round trip to every worker, then the first batch) that took 3-8 ms here. Timing single epochs
of 4 subjects measured mostly that start and the timer's noise, while training throughput is the steady
state of long epochs. Every loader is timed the same way. The loaders are timed minutes apart, while the
machine's speed drifts; ``benchmarks/worker_scaling.py`` measures the 2-worker / 0-worker ratio of pymia's
PyTorch loaders with alternating timings instead. Run::

    python benchmarks/dataloader.py                      # ~20 minutes on 2 busy cores
    python benchmarks/dataloader.py --loaders 'pymia torch' --modes 2d 3d      # ~1 minute
    python benchmarks/dataloader.py --loaders 'pymia torch' --torch-shared-batches off   # PyTorch's own transfer
    python benchmarks/dataloader.py --subjects 2 --shape 32 64 64 --patch 16 --loaders 'pymia torch' 'pymia 0.3.4'
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results" / "dataloader.json"
BATCH = 16
LOADERS = (
    "pymia torch",
    "pymia BatchLoader",
    "pymia tf.data",
    "pymia 0.3.4",
    "TorchIO Queue",
    "MONAI Dataset",
    "MONAI CacheDataset",
)
WORKERS = (0, 2)
MODES = ("2d", "3d")


# -- one measurement (runs in a child process, possibly in a peer venv) ---------------------------
def _time_epochs(iterate, config: dict) -> dict:
    """One warm-up epoch, then ``repeats`` timings of whole epochs lasting at least ``min_seconds`` each.

    ``iterate()`` yields one epoch's batch sizes. The best timing is reported: on a shared machine, other
    processes only ever slow a timing down.
    """
    warm_up = sum(iterate())
    rates, epochs = [], []
    for _ in range(config["repeats"]):
        samples, count = 0, 0
        start = time.perf_counter()
        while count == 0 or time.perf_counter() - start < config["min_seconds"]:
            samples += sum(iterate())
            count += 1
        rates.append(samples / (time.perf_counter() - start))
        epochs.append(count)
    order = sorted(range(len(rates)), key=rates.__getitem__)
    return {
        "samples_per_s": rates[order[-1]],
        "median_samples_per_s": rates[order[len(order) // 2]],
        "rates": rates,
        "epochs_per_timing": epochs,
        "epoch_samples": warm_up,
    }


def _ours_torch(config: dict) -> dict:
    from pymia.data.backends.pytorch import create_dataloader
    from pymia.data.extraction import DataExtractor, PatchWiseIndexing, PymiaDatasource, SliceIndexing

    patch = config["patch"]
    indexing = SliceIndexing() if config["mode"] == "2d" else PatchWiseIndexing((patch,) * 3)
    datasource = PymiaDatasource(config["h5"], indexing, DataExtractor(categories=("images", "labels")))
    loader = create_dataloader(
        datasource,
        batch_size=BATCH,
        shuffle=True,
        seed=0,
        num_workers=config["workers"],
        shared_batches=config.get("shared_batches", True),
    )

    def iterate():
        return (len(batch["images"]) for batch in loader)

    return _time_epochs(iterate, config)


def _ours_batch_loader(config: dict) -> dict:
    from pymia.data.backends.pytorch import create_batch_loader
    from pymia.data.extraction import DataExtractor, PatchWiseIndexing, PymiaDatasource, SliceIndexing

    patch = config["patch"]
    indexing = SliceIndexing() if config["mode"] == "2d" else PatchWiseIndexing((patch,) * 3)
    datasource = PymiaDatasource(config["h5"], indexing, DataExtractor(categories=("images", "labels")))
    loader = create_batch_loader(datasource, batch_size=BATCH, shuffle=True, seed=0, num_workers=config["workers"])

    def iterate():
        return (len(batch["images"]) for batch in loader)

    try:
        return _time_epochs(iterate, config)
    finally:
        loader.close()


def _ours_tf(config: dict) -> dict:
    from pymia.data.backends.tensorflow import create_tf_dataset
    from pymia.data.extraction import DataExtractor, PatchWiseIndexing, PymiaDatasource, SliceIndexing

    patch = config["patch"]
    indexing = SliceIndexing() if config["mode"] == "2d" else PatchWiseIndexing((patch,) * 3)
    datasource = PymiaDatasource(config["h5"], indexing, DataExtractor(categories=("images", "labels")))
    dataset = create_tf_dataset(
        datasource, batch_size=BATCH, shuffle=True, seed=0, num_workers=config["workers"], keys=("images", "labels")
    )

    def iterate():
        return (int(batch["images"].shape[0]) for batch in dataset)

    return _time_epochs(iterate, config)


def _pymia034(config: dict) -> dict:
    import numpy as np

    for alias, value in {"float": float, "int": int, "object": object, "bool": bool}.items():
        setattr(np, alias, value)  # removed in NumPy >= 1.24; pymia 0.3.4 still uses them
    import torch

    import pymia
    import pymia.data.backends.pytorch as pymia_torch
    import pymia.data.extraction as extraction

    assert pymia.__version__ == "0.3.4", pymia.__file__
    patch = config["patch"]
    indexing = extraction.SliceIndexing() if config["mode"] == "2d" else extraction.PatchWiseIndexing((patch,) * 3)
    datasource = extraction.PymiaDatasource(
        config["h5"], indexing, extraction.DataExtractor(categories=("images", "labels"))
    )
    loader = torch.utils.data.DataLoader(
        pymia_torch.PytorchDatasetAdapter(datasource),
        batch_size=BATCH,
        shuffle=True,
        num_workers=config["workers"],
        persistent_workers=config["workers"] > 0,
        generator=torch.Generator().manual_seed(0),
    )

    def iterate():
        return (len(batch["images"]) for batch in loader)

    return _time_epochs(iterate, config)


def _torchio(config: dict) -> dict:
    import torch
    import torchio as tio

    subjects = [
        tio.Subject(t1=tio.ScalarImage(a), t2=tio.ScalarImage(b), gt=tio.LabelMap(c)) for a, b, c in config["nifti"]
    ]
    _z, y, x = config["shape"]
    patch = config["patch"]
    size = (x, y, 1) if config["mode"] == "2d" else (patch, patch, patch)  # TorchIO axes are (x, y, z)
    per_volume = config["samples_per_subject"]
    queue = tio.Queue(
        tio.SubjectsDataset(subjects),
        max_length=2 * per_volume,
        samples_per_volume=per_volume,
        sampler=tio.UniformSampler(size),
        num_workers=config["workers"],
        shuffle_subjects=True,
        shuffle_patches=True,
    )
    loader = torch.utils.data.DataLoader(queue, batch_size=BATCH, num_workers=0)  # the Queue's own rule

    def iterate():
        return (len(batch["t1"][tio.DATA]) for batch in loader)

    return _time_epochs(iterate, config)


def _monai(config: dict, cached: bool) -> dict:
    import monai.transforms as mt
    import torch
    from monai.data import CacheDataset, Dataset, list_data_collate

    _z, y, x = config["shape"]
    patch = config["patch"]
    # MONAI's arrays are (C, x, y, z) from NIfTI; an axial slice is a (x, y, 1) crop.
    roi = (x, y, 1) if config["mode"] == "2d" else (patch, patch, patch)
    load = mt.Compose(
        [
            mt.LoadImaged(keys=["t1", "t2", "gt"], image_only=True),
            mt.EnsureChannelFirstd(keys=["t1", "t2", "gt"]),
            mt.ConcatItemsd(keys=["t1", "t2"], name="image"),
            mt.DeleteItemsd(keys=["t1", "t2"]),
        ]
    )
    crop = mt.RandSpatialCropSamplesd(
        keys=["image", "gt"], roi_size=roi, num_samples=BATCH, random_size=False
    )  # MONAI's idiom: several crops per loaded volume
    data = [{"t1": a, "t2": b, "gt": c} for a, b, c in config["nifti"]]
    if cached:
        dataset = CacheDataset(data, mt.Compose([load, crop]), cache_rate=1.0, num_workers=None, progress=False)
    else:
        dataset = Dataset(data, mt.Compose([load, crop]))
    dataset.transform.set_random_state(seed=0)
    # One loader item = BATCH crops of one volume; an epoch gives samples_per_subject crops per subject.
    repeats = max(1, config["samples_per_subject"] // BATCH)
    indices = [i for i in range(len(data)) for _ in range(repeats)]
    subset = torch.utils.data.Subset(dataset, indices)
    loader = torch.utils.data.DataLoader(
        subset,
        batch_size=1,
        shuffle=True,
        num_workers=config["workers"],
        persistent_workers=config["workers"] > 0,
        collate_fn=list_data_collate,
        generator=torch.Generator().manual_seed(0),
    )

    def iterate():
        return (len(batch["image"]) for batch in loader)

    return _time_epochs(iterate, config)


DRIVERS = {
    "pymia torch": _ours_torch,
    "pymia BatchLoader": _ours_batch_loader,
    "pymia tf.data": _ours_tf,
    "pymia 0.3.4": _pymia034,
    "TorchIO Queue": _torchio,
    "MONAI Dataset": lambda config: _monai(config, cached=False),
    "MONAI CacheDataset": lambda config: _monai(config, cached=True),
}


# -- orchestration (runs in .venv) --------------------------------------------------------------
def write_data(folder: pathlib.Path, n_subjects: int, shape: tuple[int, int, int]) -> tuple[str, list]:
    """The pymia dataset and uncompressed NIfTI copies (T1, T2, GT) of the same subjects."""
    import SimpleITK as sitk

    from pymia.testing.datasets import create_test_dataset

    h5 = create_test_dataset(folder / "data.h5", n_subjects=n_subjects, shape=shape, spacing=(1.2, 1.0, 1.0))
    nifti = []
    for subject in sorted(p for p in (folder / "data_raw").iterdir() if p.is_dir()):
        paths = []
        for name in ("T1", "T2", "GT"):
            source = next(subject.glob(f"*_{name}.*"))
            target = folder / f"{subject.name}_{name}.nii"
            sitk.WriteImage(sitk.ReadImage(str(source)), str(target))
            paths.append(str(target))
        nifti.append(paths)
    return str(h5), nifti


def peer_python(name: str) -> pathlib.Path | None:
    """The interpreter of a peer's venv, created with benchmarks/loading.py's helper when missing."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    import loading  # the same peer environments as the extraction benchmark

    if name == "pymia 0.3.4":
        return loading.ensure_venv(
            loading.PYMIA034_VENV, ["pymia==0.3.4"], "import pymia, sys; sys.exit(pymia.__version__ != '0.3.4')"
        )
    return loading.ensure_venv(
        loading.TORCHIO_VENV,
        ["torchio==1.2.1", "deprecated", "einops", "humanize", "jaxtyping", "wadler-lindig", "wrapt"],
        "import torchio",
    )


def measure(name: str, config: dict, timeout: float) -> dict:
    python: pathlib.Path | str | None = sys.executable
    if name in ("pymia 0.3.4", "TorchIO Queue"):
        python = peer_python(name)
        if python is None:
            return {"error": f"{name}: its venv could not be created"}
    command = [str(python), str(pathlib.Path(__file__).resolve()), "--run", name, "--config", json.dumps(config)]
    try:
        # cwd outside the repository, so that ./pymia never shadows pymia 0.3.4 in its venv
        run = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=tempfile.gettempdir())
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    if run.returncode != 0:
        return {"error": run.stderr.strip().splitlines()[-1] if run.stderr.strip() else f"exit {run.returncode}"}
    return json.loads(run.stdout.strip().splitlines()[-1])


def report(results: dict) -> None:
    for mode in MODES:
        print(f"\n{mode}: samples/s (batch {BATCH}, random order); ratio 2 workers / 0 workers; pymia torch / loader")
        print(f"{'loader':<20}{'0 workers':>12}{'2 workers':>12}{'2w / 0w':>10}{'ours/it 0w':>12}{'ours/it 2w':>12}")
        ours = results[mode].get("pymia torch", {})
        for name in LOADERS:
            row = results[mode].get(name, {})
            cells = []
            for workers in WORKERS:
                value = row.get(str(workers), {}).get("samples_per_s")
                cells.append(f"{value:>12.0f}" if value else f"{'—':>12}")
            zero, two = (row.get(str(w), {}).get("samples_per_s") for w in WORKERS)
            cells.append(f"{two / zero:>9.2f}×" if zero and two else f"{'—':>10}")
            for workers in WORKERS:
                mine = ours.get(str(workers), {}).get("samples_per_s")
                theirs = row.get(str(workers), {}).get("samples_per_s")
                cells.append(f"{mine / theirs:>11.2f}×" if mine and theirs else f"{'—':>12}")
            print(f"{name:<20}" + "".join(cells))
            for workers in WORKERS:
                error = row.get(str(workers), {}).get("error")
                if error:
                    print(f"    {workers} workers: {error}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subjects", type=int, default=16)
    parser.add_argument("--shape", type=int, nargs=3, default=(64, 128, 128), help="(z, y, x) voxels")
    parser.add_argument("--patch", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3, help="timings after one warm-up epoch (best counts)")
    parser.add_argument("--min-seconds", type=float, default=1.0, help="each timing runs whole epochs this long")
    parser.add_argument(
        "--torch-shared-batches",
        choices=("on", "off"),
        default="on",
        help="pymia torch with workers: shared-memory batch slots (default) or PyTorch's own transfer",
    )
    parser.add_argument("--loaders", nargs="+", default=list(LOADERS), choices=LOADERS)
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=MODES)
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per measurement")
    parser.add_argument("--output", type=pathlib.Path, default=RESULTS)
    parser.add_argument("--run", choices=LOADERS, help=argparse.SUPPRESS)  # child process: one measurement
    parser.add_argument("--config", help=argparse.SUPPRESS)
    arguments = parser.parse_args(argv)
    if arguments.run:
        print(json.dumps(DRIVERS[arguments.run](json.loads(arguments.config))))
        return 0

    shape = tuple(arguments.shape)
    results: dict = {mode: {} for mode in arguments.modes}
    with tempfile.TemporaryDirectory() as folder:
        h5, nifti = write_data(pathlib.Path(folder), arguments.subjects, shape)
        per_subject = {
            "2d": shape[0],
            "3d": (shape[0] // arguments.patch) * (shape[1] // arguments.patch) * (shape[2] // arguments.patch),
        }
        for mode in arguments.modes:
            for name in arguments.loaders:
                for workers in WORKERS:
                    config = {
                        "h5": h5,
                        "nifti": nifti,
                        "mode": mode,
                        "workers": workers,
                        "repeats": arguments.repeats,
                        "min_seconds": arguments.min_seconds,
                        "shared_batches": arguments.torch_shared_batches == "on",
                        "patch": arguments.patch,
                        "shape": shape,
                        "samples_per_subject": per_subject[mode],
                    }
                    load = os.getloadavg()[0]
                    result = {**measure(name, config, arguments.timeout), "load_1min_before": load}
                    results[mode].setdefault(name, {})[str(workers)] = result
                    value = result.get("samples_per_s")
                    print(
                        f"{mode} {name:<20} {workers} workers: "
                        + (f"{value:,.0f} samples/s" if value else result.get("error", "?"))
                        + f"  (load {load:.1f})",
                        flush=True,
                    )
    report(results)
    arguments.output.parent.mkdir(parents=True, exist_ok=True)
    setup = {
        "subjects": arguments.subjects,
        "shape": shape,
        "patch": arguments.patch,
        "batch": BATCH,
        "repeats": arguments.repeats,
        "min_seconds": arguments.min_seconds,
        "torch_shared_batches": arguments.torch_shared_batches,
        "cpus": os.cpu_count(),
        "load_at_end": os.getloadavg(),
    }
    arguments.output.write_text(json.dumps({"setup": setup, "results": results}, indent=2))
    print(f"\nwritten to {arguments.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
