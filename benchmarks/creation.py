"""Benchmark: dataset creation time, pymia (this package) versus pymia 0.3.4, on the same raw files.

Writes N phantom subjects (default 8 × 128³: T1, T2 float32 .mha; GT .nii.gz; MASK .nii.gz) and creates
a dataset from them with a per-channel z-score transform:

* ``pymia 0.3.4``: ``Traverser`` + ``get_default_callbacks`` + ``IntensityNormalization``, run in its
  own virtual environment (``.benchmarks-venv-pymia034`` at the repository root; created on first use
  with ``pip install --no-deps pymia==0.3.4``; numpy, h5py, SimpleITK are shared from this
  environment) with the removed NumPy aliases (``np.float`` ...) restored, because 0.3.4 crashes on
  NumPy 2 without them;
* this pymia, serial, serial without file hashes, and with 2 worker processes.

Each variant runs ``--repeats`` times in a fresh process, round robin; the median wall time (of the
creation call only, not the interpreter start) is reported, with the ratio to 0.3.4 from the same run.
Results go to JSON.

    python benchmarks/creation.py [--subjects 8] [--shape 128 128 128] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import pathlib
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import textwrap
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
PEER_VENV = REPO / ".benchmarks-venv-pymia034"

# Driver of pymia 0.3.4, run with the peer environment's python. It uses 0.3.4's documented API only.
PEER_DRIVER = textwrap.dedent(
    """
    import contextlib, csv, io, pathlib, resource, sys, time
    import numpy as np
    for alias, value in {"float": float, "int": int, "object": object, "bool": bool}.items():
        setattr(np, alias, value)  # removed in NumPy >= 1.24; pymia 0.3.4 still uses them
    import pymia
    assert ".benchmarks-venv-pymia034" in pymia.__file__, f"imported the wrong pymia: {pymia.__file__}"
    import pymia.data.creation as crt
    import pymia.data.subjectfile as subj
    import pymia.data.transformation as tfm
    folder, output = pathlib.Path(sys.argv[1]), sys.argv[2]
    rows = list(csv.DictReader(open(folder / "manifest.csv")))
    subjects = [
        subj.SubjectFile(r["subject"], images={"T1": str(folder / r["T1"]), "T2": str(folder / r["T2"])},
                         labels={"GT": str(folder / r["GT"])}, mask={"MASK": str(folder / r["MASK"])})
        for r in rows
    ]
    def cpu():
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        return time.process_time() + children.ru_utime + children.ru_stime
    start, cpu_start = time.perf_counter(), cpu()
    with contextlib.redirect_stdout(io.StringIO()), crt.get_writer(output) as writer:
        transform = tfm.IntensityNormalization(loop_axis=3, entries=("images",))
        crt.Traverser().traverse(subjects, callback=crt.get_default_callbacks(writer), load=crt.LoadDefault(),
                                 transform=transform)
    print(time.perf_counter() - start, cpu() - cpu_start)
    """
)

OUR_DRIVER = textwrap.dedent(
    """
    import pathlib, resource, sys, time
    from pymia.data.creation.discovery import subjects_from_manifest
    from pymia.data.creation.pipeline import create_dataset
    from pymia.data.transformation import IntensityNormalization
    folder, output, workers, hashes = pathlib.Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4] == "1"
    subjects = subjects_from_manifest(folder / "manifest.csv", images=["T1", "T2"], labels=["GT"], mask="MASK")
    def cpu():
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        return time.process_time() + children.ru_utime + children.ru_stime
    start, cpu_start = time.perf_counter(), cpu()
    create_dataset(subjects, output, transform=IntensityNormalization(loop_axis=-1, entries=("images",)),
                   workers=workers, hashes=hashes, progress=False)
    print(time.perf_counter() - start, cpu() - cpu_start)
    """
)


def ensure_peer_venv() -> pathlib.Path:
    """Create the pymia 0.3.4 environment if missing and return its python."""
    python = PEER_VENV / "bin" / "python"
    if python.exists() and _run(
        [str(python), "-I", "-c", "import importlib.metadata as m, sys; sys.exit(m.version('pymia') != '0.3.4')"]
    ):
        return python
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(PEER_VENV)], check=True)
    peer_site = next((PEER_VENV / "lib").glob("python*/site-packages"))
    # share numpy, h5py, SimpleITK, scipy, scikit-image with this environment; a plain path in a .pth
    # file does not run this environment's own .pth files, so our editable pymia is not visible there
    (peer_site / "_shared_from_main_venv.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(peer_site), "pymia==0.3.4"],
        check=True,
    )
    return python


def _run(command: list[str]) -> bool:
    return subprocess.run(command, capture_output=True).returncode == 0


def timed(command: list[str]) -> tuple[float, float]:
    # -I for the peer: never put the working directory (this repository, with our pymia) on sys.path
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{command[:2]} failed:\n{result.stderr[-2000:]}")
    wall, cpu = result.stdout.strip().splitlines()[-1].split()
    return float(wall), float(cpu)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subjects", type=int, default=8)
    parser.add_argument("--shape", type=int, nargs=3, default=(128, 128, 128), help="(z, y, x)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default="benchmarks/results/creation.json")
    parser.add_argument("--no-peer", action="store_true", help="skip pymia 0.3.4")
    args = parser.parse_args(argv)

    from pymia.testing.phantoms import write_phantom_subjects

    with tempfile.TemporaryDirectory() as tmp:
        folder = pathlib.Path(tmp) / "raw"
        start = time.perf_counter()
        write_phantom_subjects(folder, args.subjects, tuple(args.shape), (1.2, 1.0, 1.0), seed=0)
        raw_mb = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6
        elapsed = time.perf_counter() - start
        print(f"wrote {args.subjects} subjects {tuple(args.shape)} ({raw_mb:.0f} MB raw files) in {elapsed:.1f} s")
        variants = {}
        if not args.no_peer:
            peer = ensure_peer_venv()
            variants["pymia 0.3.4"] = lambda out: [str(peer), "-I", "-c", PEER_DRIVER, str(folder), out]
        variants["pymia (serial)"] = lambda out: [sys.executable, "-c", OUR_DRIVER, str(folder), out, "1", "1"]
        variants["pymia (serial, no hashes)"] = lambda out: [
            sys.executable,
            "-c",
            OUR_DRIVER,
            str(folder),
            out,
            "1",
            "0",
        ]
        variants["pymia (2 workers)"] = lambda out: [sys.executable, "-c", OUR_DRIVER, str(folder), out, "2", "1"]
        # round robin over the variants, so that changing load on a shared machine hits all of them alike
        times: dict[str, list[float]] = {name: [] for name in variants}
        cpu_times: dict[str, list[float]] = {name: [] for name in variants}
        sizes: dict[str, float] = {}
        for repeat in range(args.repeats):
            for index, (name, command) in enumerate(variants.items()):
                out = pathlib.Path(tmp) / f"{index}-{repeat}.h5"
                wall, cpu = timed(command(str(out)))
                times[name].append(wall)
                cpu_times[name].append(cpu)
                sizes[name] = out.stat().st_size / 1e6
                out.unlink()
        for name, values in times.items():
            print(f"measured {name}: {values}", file=sys.stderr)
        results = {
            name: {
                "median_s": statistics.median(values),
                "median_cpu_s": statistics.median(cpu_times[name]),
                "times_s": values,
                "cpu_s": cpu_times[name],
                "file_mb": sizes[name],
            }
            for name, values in times.items()
        }
    base = results.get("pymia 0.3.4", next(iter(results.values())))
    print("wall time (median) and CPU time (median, incl. worker processes); × = ratio to pymia 0.3.4")
    print(f"{'variant':<28}{'wall s':>8}{'s/subject':>11}{'×':>7}{'CPU s':>8}{'×':>7}{'file MB':>9}")
    for name, row in results.items():
        wall, cpu = row["median_s"], row["median_cpu_s"]
        ratio_wall, ratio_cpu = wall / base["median_s"], cpu / base["median_cpu_s"]
        per_subject = wall / args.subjects
        print(
            f"{name:<28}{wall:>8.3f}{per_subject:>11.3f}{ratio_wall:>7.2f}{cpu:>8.3f}{ratio_cpu:>7.2f}{row['file_mb']:>9.0f}"
        )
    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps({"subjects": args.subjects, "shape": args.shape, "raw_mb": raw_mb, "results": results}, indent=2)
    )
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
