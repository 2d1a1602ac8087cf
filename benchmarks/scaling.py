"""Benchmark: datasource start-up time, memory and per-sample time from 10 to 10,000 subjects.

Each dataset holds N subjects of 128³ one-channel float32 images stored as *unallocated* chunked
datasets (no voxel is written, so the files stay small; reads return the fill value), plus the
metadata pymia indexes from. The datasource cuts every subject into slices of all three planes
(``SliceIndexing((0, 1, 2))``: 384 samples per subject). For pymia and pymia 0.3.4 (in
``.benchmarks-venv-pymia034``, NumPy aliases restored), each N runs in a fresh process that measures

* start-up: constructing the datasource and asking its length (0.3.4 builds a Python list of
  ``(subject, IndexExpression)`` here);
* memory: growth of the resident set size over that start-up (MB);
* per-sample: median time of ``ds[i]`` over random samples (µs).

    python benchmarks/scaling.py [--sizes 10 100 1000 10000] [--samples 300] [--no-peer]
"""

from __future__ import annotations

import argparse
import json
import pathlib
import subprocess
import sys
import tempfile
import textwrap

import h5py
import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from loading import PYMIA034_VENV, ensure_venv  # the shared peer-environment helper

SHAPE = (128, 128, 128, 1)

DRIVER = textwrap.dedent(
    """
    import gc, json, statistics, sys, time
    import numpy as np
    if sys.argv[3] == "peer":
        for alias, value in {"float": float, "int": int, "object": object, "bool": bool}.items():
            setattr(np, alias, value)  # removed in NumPy >= 1.24; pymia 0.3.4 still uses them
    import pymia.data.extraction as extr

    def rss_mb():
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024

    path, samples = sys.argv[1], int(sys.argv[2])
    gc.collect()
    before = rss_mb()
    start = time.perf_counter()
    ds = extr.PymiaDatasource(path, extr.SliceIndexing((0, 1, 2)), extr.DataExtractor(categories=("images",)))
    n = len(ds)
    startup = time.perf_counter() - start
    memory = rss_mb() - before
    rng = np.random.default_rng(0)
    first_start = time.perf_counter()
    ds[int(rng.integers(n))]
    first = time.perf_counter() - first_start
    times = []
    for _ in range(samples):
        t = time.perf_counter()
        ds[int(rng.integers(n))]
        times.append(time.perf_counter() - t)
    print(json.dumps({"samples": n, "startup_s": startup, "memory_mb": memory, "first_sample_ms": first * 1e3,
                      "per_sample_us": statistics.median(times) * 1e6}))
    """
)


def write_unallocated(path: pathlib.Path, n: int) -> None:
    """N subjects of metadata and unallocated chunked image datasets (the 0.3.4 layout paths)."""
    width = len(str(n))
    with h5py.File(path, "w", libver="latest") as file:
        images = file.create_group("data/images")
        for i in range(n):
            images.create_dataset(str(i).zfill(width), shape=SHAPE, dtype="f4", chunks=(32, 32, 32, 1))
        file.create_dataset("meta/subjects", data=[f"Subject_{i}" for i in range(n)], dtype=h5py.string_dtype())
        file.create_dataset("meta/shapes/images_shapes", data=np.tile(SHAPE, (n, 1)).astype(np.uint16))
        file.create_dataset("meta/names/images_names", data=["T1"], dtype=h5py.string_dtype())
        file.create_dataset("meta/image_props/shapes", data=np.tile(SHAPE[:3][::-1], (n, 1)).astype(np.uint16))
        file.create_dataset("meta/image_props/spacing", data=np.ones((n, 3)))
        file.create_dataset("meta/image_props/origins", data=np.zeros((n, 3)))
        file.create_dataset("meta/image_props/directions", data=np.tile(np.eye(3).ravel(), (n, 1)))


def measure(python: str, path: pathlib.Path, samples: int, kind: str, cwd: str) -> dict:
    run = subprocess.run([python, "-c", DRIVER, str(path), str(samples), kind], capture_output=True, text=True, cwd=cwd)
    if run.returncode != 0:
        raise RuntimeError(f"{kind} driver failed:\n{run.stderr[-2000:]}")
    return json.loads(run.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=(10, 100, 1000, 10000))
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--out", default="benchmarks/results/scaling.json")
    parser.add_argument("--no-peer", action="store_true", help="skip pymia 0.3.4")
    args = parser.parse_args(argv)
    peer = None
    if not args.no_peer:
        peer = ensure_venv(PYMIA034_VENV, ["pymia==0.3.4"], "import pymia, sys; sys.exit(pymia.__version__ != '0.3.4')")
        if peer is None:
            print("pymia 0.3.4 could not be installed; measuring pymia only", file=sys.stderr)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            path = pathlib.Path(tmp) / f"n{n}.h5"
            write_unallocated(path, n)
            row = {"subjects": n, "pymia": measure(sys.executable, path, args.samples, "ours", tmp)}
            if peer is not None:
                row["pymia 0.3.4"] = measure(str(peer), path, args.samples, "peer", tmp)
            rows.append(row)
            path.unlink()
            print(f"measured {n} subjects", file=sys.stderr)
    header = f"{'subjects':>9}{'samples':>10} | {'start-up s':>22} | {'memory MB':>18} | {'per sample µs':>18}"
    print(header + "\n" + " " * 19 + " |" + "   pymia  0.3.4  ratio |" * 1 + "  pymia   0.3.4 |   pymia   0.3.4")
    for row in rows:
        ours, theirs = row["pymia"], row.get("pymia 0.3.4")
        if theirs is None:
            theirs = {"startup_s": float("nan"), "memory_mb": float("nan"), "per_sample_us": float("nan")}
        ratio = theirs["startup_s"] / ours["startup_s"]
        print(
            f"{row['subjects']:>9}{ours['samples']:>10} | {ours['startup_s']:>7.3f} {theirs['startup_s']:>6.2f}"
            f" {ratio:>6.0f}× | {ours['memory_mb']:>7.1f} {theirs['memory_mb']:>7.1f} |"
            f" {ours['per_sample_us']:>7.0f} {theirs['per_sample_us']:>7.0f}"
        )
    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"shape": SHAPE, "strategy": "SliceIndexing((0, 1, 2))", "rows": rows}, indent=2))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
