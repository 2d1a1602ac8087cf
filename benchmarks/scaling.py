"""Benchmark: datasource start-up time, memory and per-sample time from 10 to 10,000 subjects.

Each dataset holds N subjects of 128³ one-channel float32 images plus the metadata pymia indexes
from, in two layouts whose voxels are never written, so the files stay small:

* ``contiguous``: pymia's default layout (contiguous, uncompressed), storage allocated at creation
  in a sparse file (10,000 subjects: 84 GB apparent, a few MB on disk; unwritten voxels read as 0);
* ``chunked``: *unallocated* 32³ chunks (reads return the fill value through HDF5's chunk index).

The datasource cuts every subject into slices of all three planes
(``SliceIndexing((0, 1, 2))``: 384 samples per subject). For pymia and pymia 0.3.4 (in
``.benchmarks-venv-pymia034``, NumPy aliases restored), each N runs in a fresh process that measures

* start-up: constructing the datasource and asking its length (0.3.4 builds a Python list of
  ``(subject, IndexExpression)`` here);
* memory: growth of the resident set size over that start-up (MB);
* per-sample: median time of ``ds[i]`` over random samples, one per subject (as many subjects as
  possible: all 10 of the smallest dataset), so each read is the first of its subject in the process
  (µs); then *revisit*: the same samples again, now from subjects already opened. In training,
  revisits are the common case (a subject has 384 samples per epoch); a first visit costs what the
  storage costs once per subject and process: for the contiguous layout the kernel mapping the
  pages on first touch (measured with a bare ``np.memmap``-style read: 460–570 µs per slice here,
  for any N), for the chunked layout HDF5 opening the dataset and loading its chunk index.

The contiguous files are read once before timing (both readers), so that the kernel's filling of
never-written pages of the sparse file (about 25 ms for a sagittal slice) is not timed.

    python benchmarks/scaling.py [--sizes 10 100 1000 10000] [--samples 300] [--layouts contiguous chunked] [--no-peer]
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

from pymia.data.creation.writer import write_offset_tables

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
    with open(sys.argv[4]) as handle:
        chosen = json.load(handle)  # sample indices, drawn by the parent (which also warmed their pages)
    gc.collect()
    before = rss_mb()
    start = time.perf_counter()
    ds = extr.PymiaDatasource(path, extr.SliceIndexing((0, 1, 2)), extr.DataExtractor(categories=("images",)))
    n = len(ds)
    startup = time.perf_counter() - start
    memory = rss_mb() - before
    first_start = time.perf_counter()
    ds[chosen[0]]
    first = time.perf_counter() - first_start
    passes = []
    for _ in range(2):  # first visits of the sampled subjects, then the same samples again
        times = []
        for index in chosen[1:]:
            t = time.perf_counter()
            ds[index]
            times.append(time.perf_counter() - t)
        passes.append(statistics.median(times) * 1e6)
    print(json.dumps({"samples": n, "startup_s": startup, "memory_mb": memory, "first_sample_ms": first * 1e3,
                      "per_sample_us": passes[0], "revisit_us": passes[1], "timed_samples": len(chosen) - 1}))
    """
)


def write_unwritten(path: pathlib.Path, n: int, layout: str) -> None:
    """N subjects of metadata and image datasets whose voxels are never written (the 0.3.4 layout paths)."""
    width = len(str(n))
    with h5py.File(path, "w", libver="latest") as file:
        images = file.create_group("data/images")
        if layout == "chunked":
            for i in range(n):
                images.create_dataset(str(i).zfill(width), shape=SHAPE, dtype="f4", chunks=(32, 32, 32, 1))
        else:
            # Contiguous storage allocated now but never filled: the file is sparse.
            type_id = h5py.h5t.py_create(np.dtype("f4"))
            space = h5py.h5s.create_simple(SHAPE)
            properties = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
            properties.set_alloc_time(h5py.h5d.ALLOC_TIME_EARLY)
            properties.set_fill_time(h5py.h5d.FILL_TIME_NEVER)
            for i in range(n):
                h5py.h5d.create(images.id, str(i).zfill(width).encode(), type_id, space, dcpl=properties)
        file.create_dataset("meta/subjects", data=[f"Subject_{i}" for i in range(n)], dtype=h5py.string_dtype())
        file.create_dataset("meta/shapes/images_shapes", data=np.tile(SHAPE, (n, 1)).astype(np.uint16))
        file.create_dataset("meta/names/images_names", data=["T1"], dtype=h5py.string_dtype())
        file.create_dataset("meta/image_props/shapes", data=np.tile(SHAPE[:3][::-1], (n, 1)).astype(np.uint16))
        file.create_dataset("meta/image_props/spacing", data=np.ones((n, 3)))
        file.create_dataset("meta/image_props/origins", data=np.zeros((n, 3)))
        file.create_dataset("meta/image_props/directions", data=np.tile(np.eye(3).ravel(), (n, 1)))
        write_offset_tables(file)  # what pymia's writer adds on close (0.3.4 ignores it)


def choose_samples(path: pathlib.Path, n: int, samples: int, warm: bool) -> list[int]:
    """Random sample indices (the same for both readers); with ``warm``, read their subjects' bytes once.

    Warming puts the sampled subjects' pages into the page cache, so that the timing shows what the
    readers do per sample, not the kernel filling pages of the sparse file on first touch (about 25 ms
    for a sagittal slice, for any reader).
    """
    per_subject = sum(SHAPE[:3])  # SliceIndexing((0, 1, 2)) of a 128³ volume: 384 slices, subject by subject
    rng = np.random.default_rng(0)
    subjects = rng.choice(n, size=min(n, samples + 1), replace=False)
    chosen = (subjects * per_subject + rng.integers(per_subject, size=len(subjects))).tolist()
    if warm:
        width = len(str(n))
        with h5py.File(path, "r") as file, open(path, "rb") as raw:
            for subject in sorted({index // per_subject for index in chosen}):
                dataset = file[f"data/images/{str(subject).zfill(width)}"]
                raw.seek(dataset.id.get_offset())
                raw.read(dataset.nbytes)
    return chosen


def measure(python: str, path: pathlib.Path, samples: int, kind: str, cwd: str, chosen: pathlib.Path) -> dict:
    command = [python, "-c", DRIVER, str(path), str(samples), kind, str(chosen)]
    run = subprocess.run(command, capture_output=True, text=True, cwd=cwd)
    if run.returncode != 0:
        raise RuntimeError(f"{kind} driver failed:\n{run.stderr[-2000:]}")
    return json.loads(run.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=(10, 100, 1000, 10000))
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--out", default="benchmarks/results/scaling.json")
    parser.add_argument("--layouts", nargs="+", default=("contiguous", "chunked"), choices=("contiguous", "chunked"))
    parser.add_argument("--no-peer", action="store_true", help="skip pymia 0.3.4")
    args = parser.parse_args(argv)
    peer = None
    if not args.no_peer:
        peer = ensure_venv(PYMIA034_VENV, ["pymia==0.3.4"], "import pymia, sys; sys.exit(pymia.__version__ != '0.3.4')")
        if peer is None:
            print("pymia 0.3.4 could not be installed; measuring pymia only", file=sys.stderr)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for layout in args.layouts:
            for n in args.sizes:
                path = pathlib.Path(tmp) / f"{layout}{n}.h5"
                write_unwritten(path, n, layout)
                chosen = pathlib.Path(tmp) / "chosen.json"
                chosen.write_text(json.dumps(choose_samples(path, n, args.samples, warm=layout == "contiguous")))
                row = {"layout": layout, "subjects": n}
                row["pymia"] = measure(sys.executable, path, args.samples, "ours", tmp, chosen)
                if peer is not None:
                    row["pymia 0.3.4"] = measure(str(peer), path, args.samples, "peer", tmp, chosen)
                rows.append(row)
                path.unlink()
                print(f"measured {n} subjects, {layout}", file=sys.stderr)
    header = (
        f"{'layout':>11}{'subjects':>9}{'samples':>10} | {'start-up s':>22} | {'memory MB':>15} |"
        f" {'per sample µs':>15} | {'revisit µs':>15} | {'first sample ms':>15}"
    )
    print(header + "\n" + " " * 30 + " |   pymia  0.3.4  ratio" + " |   pymia   0.3.4" * 4)
    nan = float("nan")
    for row in rows:
        ours, theirs = row["pymia"], row.get("pymia 0.3.4")
        if theirs is None:
            theirs = {
                "startup_s": nan,
                "memory_mb": nan,
                "per_sample_us": nan,
                "revisit_us": nan,
                "first_sample_ms": nan,
            }
        ratio = theirs["startup_s"] / ours["startup_s"]
        print(
            f"{row['layout']:>11}{row['subjects']:>9}{ours['samples']:>10} | {ours['startup_s']:>7.3f}"
            f" {theirs['startup_s']:>6.2f} {ratio:>6.0f}× | {ours['memory_mb']:>7.1f} {theirs['memory_mb']:>7.1f} |"
            f" {ours['per_sample_us']:>7.0f} {theirs['per_sample_us']:>7.0f} |"
            f" {ours['revisit_us']:>7.0f} {theirs['revisit_us']:>7.0f} |"
            f" {ours['first_sample_ms']:>7.2f} {theirs['first_sample_ms']:>7.2f}"
        )
    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"shape": SHAPE, "strategy": "SliceIndexing((0, 1, 2))", "rows": rows}, indent=2))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
