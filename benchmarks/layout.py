"""Benchmark: read time of slices (axial, coronal, sagittal) and 64³ patches for candidate HDF5 layouts.

Writes one synthetic two-channel float32 subject per layout through pymia's own writer
(:func:`pymia.data.storage.hdf5_writer.create_array_dataset`) and reads random samples with a kept
h5py handle (and through ``np.memmap`` at ``dataset.id.get_offset()`` for the contiguous layout). Prints
median milliseconds per sample and the ratio to contiguous raw h5py measured in the same run, and
writes the numbers to JSON. This is how the writer's default layout was chosen.

    python benchmarks/layout.py [--shape 128 128 128] [--samples 40] [--out benchmarks/results/layout.json]
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

import h5py
import numpy as np

from pymia.data.storage.hdf5_writer import Hdf5Layout, create_array_dataset

CANDIDATES = {
    "contiguous (h5py)": Hdf5Layout(),
    "contiguous (np.memmap)": Hdf5Layout(),
    "chunks 1 slice (1,Y,X)": Hdf5Layout(chunks=(1, 100000, 100000)),
    "chunks 16³": Hdf5Layout(chunks=(16, 16, 16)),
    "chunks 32³": Hdf5Layout(chunks=(32, 32, 32)),
    "chunks 64³": Hdf5Layout(chunks=(64, 64, 64)),
    "chunks 32³ + lzf": Hdf5Layout(chunks=(32, 32, 32), compression="lzf"),
    "chunks 32³ + gzip-1": Hdf5Layout(chunks=(32, 32, 32), compression="gzip", compression_level=1),
    "chunks 32³ + blosc-lz4": Hdf5Layout(chunks=(32, 32, 32), compression="blosc-lz4"),
    "chunks 32³ + blosc-zstd": Hdf5Layout(chunks=(32, 32, 32), compression="blosc-zstd", compression_level=3),
}
ACCESSES = ("axial", "coronal", "sagittal", "patch64")


def synthetic_subject(shape: tuple[int, int, int], seed: int = 0) -> np.ndarray:
    """A head-like two-channel volume: smooth field plus noise inside an ellipsoid, zero outside (~50-70 %)."""
    rng = np.random.default_rng(seed)
    grids = np.meshgrid(*[np.linspace(-1, 1, s, dtype=np.float32) for s in shape], indexing="ij")
    inside = sum(g**2 / r**2 for g, r in zip(grids, (0.8, 0.9, 0.75))) <= 1
    channels = []
    for c in range(2):
        field = 100 + 40 * np.sin(3 * grids[0] + c) * np.cos(2 * grids[1]) + 20 * grids[2]
        noisy = field + rng.normal(0, 5, size=shape).astype(np.float32)
        channels.append(np.where(inside, noisy, 0).astype(np.float32))
    return np.stack(channels, axis=-1)


def sample_indices(shape, access: str, rng: np.random.Generator):
    z, y, x = shape
    if access == "axial":
        return (int(rng.integers(z)), slice(None), slice(None), slice(None))
    if access == "coronal":
        return (slice(None), int(rng.integers(y)), slice(None), slice(None))
    if access == "sagittal":
        return (slice(None), slice(None), int(rng.integers(x)), slice(None))
    starts = [int(rng.integers(0, s - 64 + 1)) for s in shape]
    return (*(slice(s, s + 64) for s in starts), slice(None))


def time_reads(read, shape, access: str, samples: int, seed: int) -> float:
    rng = np.random.default_rng(seed)
    indices = [sample_indices(shape, access, rng) for _ in range(samples)]
    read(indices[0])  # warm up handles and page cache
    times = []
    for index in indices:
        start = time.perf_counter()
        read(index)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shape", type=int, nargs=3, default=(128, 128, 128), help="volume shape (z, y, x)")
    parser.add_argument("--samples", type=int, default=40, help="random samples per access and layout")
    parser.add_argument("--out", default="benchmarks/results/layout.json", help="JSON result file")
    parser.add_argument("--folder", help="where to write the test files (default: a temporary folder)")
    args = parser.parse_args(argv)
    shape = tuple(args.shape)
    if min(shape) < 64:
        parser.error("every axis needs at least 64 voxels for the 64³ patch")
    volume = synthetic_subject(shape)
    results = {}
    with tempfile.TemporaryDirectory(dir=args.folder) as folder:
        for name, layout in CANDIDATES.items():
            path = os.path.join(folder, f"{len(results)}.h5")
            start = time.perf_counter()
            with h5py.File(path, "w", libver="latest") as f:
                create_array_dataset(f, "data/images/0", volume, layout)
            write_s = time.perf_counter() - start
            with h5py.File(path, "r") as f:
                dataset = f["data/images/0"]
                if "memmap" in name:
                    mapped = np.memmap(path, dtype=dataset.dtype, mode="r", offset=dataset.id.get_offset(),
                                       shape=dataset.shape)  # fmt: skip

                    def read(index, mapped=mapped):
                        return np.array(mapped[index])
                else:

                    def read(index, dataset=dataset):
                        return dataset[index]

                np.testing.assert_array_equal(read((5,)), volume[5])
                timings = {a: time_reads(read, shape, a, args.samples, seed=i) for i, a in enumerate(ACCESSES)}
            results[name] = {
                **timings,
                "size_ratio": volume.nbytes / os.path.getsize(path),
                "write_s": write_s,
            }
            print(f"measured {name}", file=sys.stderr)
    reference = results["contiguous (h5py)"]
    header = f"{'layout':<26}" + "".join(f"{a + ' ms':>13}{'×':>8}" for a in ACCESSES) + f"{'size÷':>7}{'write s':>9}"
    print(f"shape {shape} × 2 channels float32, median of {args.samples} random samples, ratio × vs contiguous h5py")
    print(header)
    for name, row in results.items():
        cells = "".join(f"{row[a]:>13.3f}{row[a] / reference[a]:>8.2f}" for a in ACCESSES)
        print(f"{name:<26}{cells}{row['size_ratio']:>7.2f}{row['write_s']:>9.3f}")
    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"shape": shape, "samples": args.samples, "results": results}, indent=2))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    try:
        import hdf5plugin  # noqa: F401 - registers the Blosc filters for the blosc candidates
    except ImportError:
        print("hdf5plugin is not installed: the Blosc candidates are left out", file=sys.stderr)
        CANDIDATES = {k: v for k, v in CANDIDATES.items() if "blosc" not in k}
    sys.exit(main())
