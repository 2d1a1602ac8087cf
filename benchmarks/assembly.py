"""Benchmark: assembling a 181×217×181 4-class float32 volume from 64³ patches with 50 % overlap.

Patches cover the whole volume (``PatchWiseIndexing((64, 64, 64), overlap=0.5, pad=True)``: 150
patches, border patches padded) and are fed in batches of 4 as a network's output would be. Timed,
on the same patches in one run:

* ``pymia gaussian`` / ``pymia mean``: :class:`pymia.data.assembly.SubjectAssembler`, add all batches
  and get the subject, once with NumPy kernels (``kernel='numpy'``, also with ``threads=2``) and once
  with torch's kernels (``kernel='torch'``, what ``'auto'`` picks in a process that imported torch);
* ``numpy naive gaussian``: the straightforward NumPy accumulation (weights broadcast over classes per
  patch, division at the end) that the research note measured at 402 ms;
* ``MONAI gaussian``: ``monai.inferers.sliding_window_inference(mode='gaussian', overlap=0.5)`` with
  an identity predictor on the same volume (it also cuts the patches; torch CPU).

The median of ``--repeats`` runs is reported, with ratios to pymia gaussian. Results go to JSON.

    python benchmarks/assembly.py [--repeats 5] [--shape 181 217 181] [--classes 4]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import pathlib
import statistics
import sys
import tempfile
import time

import h5py
import numpy as np

import pymia.data.assembly as assembly
import pymia.data.extraction as extr

PATCH = 64


def write_dataset(path: pathlib.Path, shape: tuple[int, ...], classes: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    volume = rng.random((*shape, classes), dtype=np.float32)
    with h5py.File(path, "w") as file:
        file.create_dataset("data/images/0", data=volume)
        file.create_dataset("meta/subjects", data=["S0"], dtype=h5py.string_dtype())
        file.create_dataset("meta/shapes/images_shapes", data=[volume.shape])
    return volume


def naive_gaussian(shape: tuple[int, ...], classes: int, patches: list, window: np.ndarray) -> np.ndarray:
    values = np.zeros((*shape, classes), np.float32)
    weights = np.zeros(shape, np.float32)
    for box, patch in patches:
        source = tuple(slice(max(a, 0), min(b, s)) for (a, b), s in zip(box, shape))
        target = tuple(slice(s.start - a, s.stop - a) for s, (a, _) in zip(source, box))
        values[source] += patch[target] * window[target][..., None]
        weights[source] += window[target]
    return values / weights[..., None]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shape", type=int, nargs=3, default=(181, 217, 181))
    parser.add_argument("--classes", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", default="benchmarks/results/assembly.json")
    parser.add_argument("--no-peers", action="store_true", help="skip MONAI")
    args = parser.parse_args(argv)
    shape = tuple(args.shape)
    results: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        volume = write_dataset(pathlib.Path(tmp) / "volume.h5", shape, args.classes)
        grid = extr.PatchWiseIndexing((PATCH,) * 3, overlap=0.5, pad=True)
        datasource = extr.PymiaDatasource(pathlib.Path(tmp) / "volume.h5", grid)
        indices = list(range(len(datasource)))
        batches = [
            (indices[i : i + 4], np.stack([s["images"] for s in datasource.__getitems__(indices[i : i + 4])]))
            for i in range(0, len(indices), 4)
        ]
        print(f"{len(indices)} patches of {PATCH}³ × {args.classes} classes for a {shape} volume", file=sys.stderr)
        runs = [("gaussian", 1, "numpy"), ("gaussian", 2, "numpy"), ("mean", 1, "numpy")]
        if importlib.util.find_spec("torch") is not None:
            runs += [("gaussian", 1, "torch"), ("mean", 1, "torch")]
        for blending, threads, kernel in runs:
            times = []
            for _ in range(args.repeats):
                start = time.perf_counter()
                assembler = assembly.SubjectAssembler(datasource, blending=blending, threads=threads, kernel=kernel)
                for batch_indices, batch in batches:
                    assembler.add_batch(batch, batch_indices)
                result = assembler.get_assembled_subject(0)
                times.append(time.perf_counter() - start)
            if not np.allclose(result, volume, atol=1e-5):
                raise RuntimeError(f"pymia {blending} did not reproduce the volume")
            name = f"pymia {blending}, {kernel}" + (f", {threads} threads" if threads > 1 else "")
            results[name] = times
        window = assembly.blending_window((PATCH,) * 3, "gaussian")
        patches = [
            (datasource.sample_location(i)[1].box(shape), batch[k])
            for batch_indices, batch in batches
            for k, i in enumerate(batch_indices)
        ]
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            naive = naive_gaussian(shape, args.classes, patches, window)
            times.append(time.perf_counter() - start)
        if not np.allclose(naive, volume, atol=1e-5):
            raise RuntimeError("the naive reference did not reproduce the volume")
        results["numpy naive gaussian"] = times
        if not args.no_peers:
            try:
                import torch
                from monai.inferers import sliding_window_inference

                tensor = torch.from_numpy(np.moveaxis(volume, -1, 0)[None].copy())
                times = []
                with torch.no_grad():
                    for _ in range(args.repeats):
                        start = time.perf_counter()
                        out = sliding_window_inference(
                            tensor, (PATCH,) * 3, 4, lambda x: x, overlap=0.5, mode="gaussian"
                        )
                        times.append(time.perf_counter() - start)
                if not np.allclose(out[0].numpy(), np.moveaxis(volume, -1, 0), atol=1e-4):
                    raise RuntimeError("MONAI did not reproduce the volume")
                results["MONAI gaussian"] = times
            except ImportError as error:
                print(f"MONAI skipped: {error}", file=sys.stderr)
        datasource.close_reader()
    reference = statistics.median(results["pymia gaussian, numpy"])
    print(f"{'assembler':<34}{'median ms':>10}{'× pymia gaussian, numpy':>25}")
    for name, times in results.items():
        median = statistics.median(times)
        print(f"{name:<34}{median * 1e3:>10.0f}{median / reference:>25.2f}")
    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "shape": shape,
                "classes": args.classes,
                "patches": len(indices),
                "median_s": {k: statistics.median(v) for k, v in results.items()},
                "times_s": results,
            },
            indent=2,
        )
    )
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
