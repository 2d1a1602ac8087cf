"""Benchmark: reading samples (paper Fig. 5) from pymia's HDF5 dataset versus files and peer loaders.

On the same N phantom subjects (default 4 × 128³, images T1+T2 float32 and labels uint8) it times one
sample of each kind — whole volume, 64³ patch, axial slice, sagittal slice, 2.5-D (axial, coronal and
sagittal plane through one voxel) — with images and labels read together, from:

* ``pymia``: this package's ``PymiaDatasource`` on the dataset written by ``create_dataset`` (default
  layout: contiguous, uncompressed; read through the memory map);
* ``h5py``: raw h5py on the same file with dataset handles kept open;
* ``npy mmap``: ``np.load(mmap_mode='r')`` of per-subject ``.npy`` files;
* ``mha`` / ``mha.gz``: SimpleITK reads the whole MetaImage (uncompressed / zlib), then indexes;
* ``pymia 0.3.4``: its ``PymiaDatasource`` on the same HDF5 file, in ``.benchmarks-venv-pymia034``
  (NumPy aliases restored); its 2.5-D is three ``SliceIndexing((0, 1, 2))`` samples;
* ``MONAI``: ``Dataset`` with ``LoadImaged`` (+ ``SpatialCropd`` for patches and slices) on ``.nii.gz``;
* ``TorchIO``: ``SubjectsDataset`` + ``UniformSampler`` on ``.nii.gz``, in ``.benchmarks-venv-torchio``
  (torch shared from ``.venv`` through a ``.pth`` file, so ``.venv`` is unchanged); skipped with a
  message if it cannot be installed.

Every cell is the median time per sample in µs over random samples (page cache warm). Ratios are to
pymia in the same run. Results go to JSON.

    python benchmarks/loading.py [--subjects 4] [--shape 128 128 128] [--samples 200] [--no-peers]
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
from collections.abc import Callable

import h5py
import numpy as np
import SimpleITK as sitk

REPO = pathlib.Path(__file__).resolve().parents[1]
PYMIA034_VENV = REPO / ".benchmarks-venv-pymia034"
TORCHIO_VENV = REPO / ".benchmarks-venv-torchio"
PATTERNS = ("volume", "patch64", "axial", "sagittal", "2.5-D")
PATCH = 64


# -- peer environments --------------------------------------------------------------------------
def _site_packages(venv: pathlib.Path) -> pathlib.Path:
    return next((venv / "lib").glob("python*/site-packages"))


def _works(python: pathlib.Path, check: str) -> bool:
    # cwd outside the repository: ``python -c`` puts the cwd first on sys.path, where ./pymia would shadow 0.3.4
    run = subprocess.run([str(python), "-c", check], capture_output=True, cwd=tempfile.gettempdir())
    return python.exists() and run.returncode == 0


def ensure_venv(venv: pathlib.Path, packages: list[str], check: str) -> pathlib.Path | None:
    """Create ``venv`` (idempotent) sharing ``.venv``'s packages through a .pth file; install ``packages``."""
    python = venv / "bin" / "python"
    if python.exists() and _works(python, check):
        return python
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = _site_packages(venv)
    # A plain path in a .pth file does not run .venv's own .pth files: our editable pymia stays invisible.
    (site / "_shared_from_main_venv.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site), *packages]
    if subprocess.run(command, capture_output=True).returncode != 0 or not _works(python, check):
        return None
    return python


# -- data -----------------------------------------------------------------------------------------
def write_data(folder: pathlib.Path, n: int, shape: tuple[int, ...]) -> dict[str, list]:
    """Phantom subjects in every format; returns the file lists per format."""
    from pymia.data.creation.pipeline import create_dataset
    from pymia.data.subjectfile import SubjectFile
    from pymia.testing.phantoms import write_phantom_subjects

    raw = folder / "raw"
    write_phantom_subjects(raw, n, shape, (1.2, 1.0, 1.0), seed=0)
    subjects = sorted(p for p in raw.iterdir() if p.is_dir())
    files: dict[str, list] = {"npy": [], "mha": [], "mha.gz": [], "nii.gz": []}
    subject_files = []
    for index, subject in enumerate(subjects):
        t1, t2 = (sitk.ReadImage(str(next(subject.glob(f"*{name}*.mha")))) for name in ("T1", "T2"))
        gt = sitk.ReadImage(str(next(subject.glob("*GT*"))))
        images = np.stack([sitk.GetArrayFromImage(t1), sitk.GetArrayFromImage(t2)], axis=-1).astype(np.float32)
        labels = sitk.GetArrayFromImage(gt).astype(np.uint8)[..., None]
        stem = folder / f"s{index}"
        np.save(f"{stem}_images.npy", images)
        np.save(f"{stem}_labels.npy", labels)
        files["npy"].append((f"{stem}_images.npy", f"{stem}_labels.npy"))
        vector = sitk.GetImageFromArray(images, isVector=True)
        vector.CopyInformation(t1)
        label_image = sitk.GetImageFromArray(labels[..., 0])
        label_image.CopyInformation(t1)
        for fmt, compress in (("mha", False), ("mha.gz", True)):
            suffix = "mha"
            name = f"{stem}_{'gz_' if compress else ''}"
            sitk.WriteImage(vector, f"{name}images.{suffix}", useCompression=compress)
            sitk.WriteImage(label_image, f"{name}labels.{suffix}", useCompression=compress)
            files[fmt].append((f"{name}images.{suffix}", f"{name}labels.{suffix}"))
        nifti = []
        for name, image in (("T1", t1), ("T2", t2), ("GT", label_image)):
            sitk.WriteImage(image, f"{stem}_{name}.nii.gz")
            nifti.append(f"{stem}_{name}.nii.gz")
        files["nii.gz"].append(tuple(nifti))
        subject_files.append(
            SubjectFile(subject.name, images={"T1": nifti[0], "T2": nifti[1]}, labels={"GT": nifti[2]})
        )
    files["h5"] = [str(create_dataset(subject_files, folder / "dataset.h5", progress=False))]
    return files


class ImageArray:
    """A SimpleITK image indexed as a NumPy array without a copy.

    ``sitk.GetArrayViewFromImage`` does not keep the image alive: a view of an image that was
    freed reads freed memory (this benchmark segfaulted that way). The image lives as long as this.
    """

    def __init__(self, image: sitk.Image) -> None:
        self.image = image
        self.view = sitk.GetArrayViewFromImage(image)

    def __getitem__(self, expression: tuple) -> np.ndarray:
        return self.view[expression]


def progress(name: str) -> None:
    print(f"measured {name}", file=sys.stderr, flush=True)


# -- timing ---------------------------------------------------------------------------------------
def median_us(fn: Callable[[np.random.Generator], object], samples: int, seed: int = 0) -> float:
    rng = np.random.default_rng(seed)
    fn(rng)  # warm-up (opens files, fills caches)
    times = []
    for _ in range(samples):
        start = time.perf_counter()
        fn(rng)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e6


def _random_box(rng: np.random.Generator, shape: tuple[int, ...]) -> tuple[slice, ...]:
    starts = [int(rng.integers(0, s - PATCH + 1)) for s in shape]
    return tuple(slice(s, s + PATCH) for s in starts)


def array_readers(open_subject: Callable[[int], tuple], n: int, shape: tuple[int, ...]) -> dict[str, Callable]:
    """Pattern → sample function for array-like sources (h5py datasets, memory maps, whole-file loads)."""

    def sample(rng: np.random.Generator, region: Callable[[np.random.Generator], list[tuple]]) -> list:
        images, labels = open_subject(int(rng.integers(n)))
        out = []
        for expression in region(rng):
            out.append(np.array(images[expression]))
            out.append(np.array(labels[expression]))
        return out

    def volume(rng: np.random.Generator) -> list[tuple]:
        return [()]

    def patch(rng: np.random.Generator) -> list[tuple]:
        return [_random_box(rng, shape)]

    def axial(rng: np.random.Generator) -> list[tuple]:
        return [(int(rng.integers(shape[0])),)]

    def sagittal(rng: np.random.Generator) -> list[tuple]:
        return [(slice(None), slice(None), int(rng.integers(shape[2])))]

    def triplanar(rng: np.random.Generator) -> list[tuple]:
        z, y, x = (int(rng.integers(s)) for s in shape)
        return [(z,), (slice(None), y), (slice(None), slice(None), x)]

    regions = {"volume": volume, "patch64": patch, "axial": axial, "sagittal": sagittal, "2.5-D": triplanar}
    return {name: (lambda rng, r=region: sample(rng, r)) for name, region in regions.items()}


def pymia_readers(path: str) -> dict[str, Callable]:
    import pymia.data.extraction as extr

    extractor = extr.DataExtractor(("images", "labels"))
    strategies = {
        "volume": extr.EmptyIndexing(),
        "patch64": extr.UniformPatchSampling((PATCH,) * 3, samples_per_subject=1000),
        "axial": extr.SliceIndexing(0),
        "sagittal": extr.SliceIndexing(2),
        "2.5-D": extr.TriPlanarIndexing(),
    }
    readers = {}
    for name, strategy in strategies.items():
        datasource = extr.PymiaDatasource(path, strategy, extractor)
        readers[name] = lambda rng, ds=datasource: ds[int(rng.integers(len(ds)))]
    return readers


PYMIA034_DRIVER = textwrap.dedent(
    """
    import json, statistics, sys, time
    import numpy as np
    for alias, value in {"float": float, "int": int, "object": object, "bool": bool}.items():
        setattr(np, alias, value)  # removed in NumPy >= 1.24; pymia 0.3.4 still uses them
    import pymia.data.extraction as extr
    path, samples, patch = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    extractor = extr.DataExtractor(categories=("images", "labels"))
    strategies = {"volume": extr.EmptyIndexing(), "patch64": extr.PatchWiseIndexing((patch,) * 3),
                  "axial": extr.SliceIndexing(0), "sagittal": extr.SliceIndexing(2),
                  "2.5-D": extr.SliceIndexing((0, 1, 2))}
    result = {}
    for name, strategy in strategies.items():
        ds = extr.PymiaDatasource(path, strategy, extractor)
        rng = np.random.default_rng(0)
        ds[0]
        times = []
        for _ in range(samples if name != "volume" else max(5, samples // 10)):
            start = time.perf_counter()
            ds[int(rng.integers(len(ds)))]
            times.append(time.perf_counter() - start)
        # 0.3.4 has no tri-planar sample: one 2.5-D sample costs three of its plane samples
        result[name] = statistics.median(times) * 1e6 * (3 if name == "2.5-D" else 1)
    print(json.dumps(result))
    """
)

TORCHIO_DRIVER = textwrap.dedent(
    """
    import json, statistics, sys, time
    import torchio as tio
    files = json.loads(sys.argv[1]); samples = int(sys.argv[2]); patch = int(sys.argv[3])
    subjects = [tio.Subject(t1=tio.ScalarImage(a), t2=tio.ScalarImage(b), gt=tio.LabelMap(c)) for a, b, c in files]
    dataset = tio.SubjectsDataset(subjects)
    z, y, x = subjects[0].spatial_shape[::-1]
    sizes = {"volume": None, "patch64": (patch, patch, patch), "axial": (x, y, 1), "sagittal": (1, y, z)}
    result = {}
    for name, size in sizes.items():
        times = []
        for i in range(samples):
            start = time.perf_counter()
            subject = dataset[i % len(dataset)]  # loads the files, as SubjectsDataset does per sample
            if size is not None:
                next(iter(tio.UniformSampler(size)(subject, num_patches=1)))
            else:
                subject.load()
            times.append(time.perf_counter() - start)
        result[name] = statistics.median(times) * 1e6
    print(json.dumps(result))
    """
)


def monai_readers(files: list[tuple[str, str, str]], shape: tuple[int, ...]) -> dict[str, Callable]:
    import monai.transforms as mt
    from monai.data import Dataset

    data = [{"t1": a, "t2": b, "gt": c} for a, b, c in files]
    keys = ["t1", "t2", "gt"]
    load = [mt.LoadImaged(keys, image_only=True), mt.EnsureChannelFirstd(keys)]
    x, y, z = shape[::-1]  # nibabel order in MONAI arrays
    crops = {
        "volume": [],
        "patch64": [mt.RandSpatialCropd(keys, roi_size=(PATCH,) * 3, random_size=False)],
        "axial": [mt.RandSpatialCropd(keys, roi_size=(x, y, 1), random_size=False)],
        "sagittal": [mt.RandSpatialCropd(keys, roi_size=(1, y, z), random_size=False)],
    }
    readers = {}
    for name, crop in crops.items():
        dataset = Dataset(data, transform=mt.Compose(load + crop))
        readers[name] = lambda rng, ds=dataset: ds[int(rng.integers(len(ds)))]
    return readers


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subjects", type=int, default=4)
    parser.add_argument("--shape", type=int, nargs=3, default=(128, 128, 128), help="(z, y, x)")
    parser.add_argument("--samples", type=int, default=200, help="samples per cell (whole-file readers: fewer)")
    parser.add_argument("--out", default="benchmarks/results/loading.json")
    parser.add_argument("--no-peers", action="store_true", help="skip pymia 0.3.4, MONAI and TorchIO")
    args = parser.parse_args(argv)
    shape = tuple(args.shape)
    n = args.subjects
    slow_samples = max(5, args.samples // 20)
    results: dict[str, dict[str, float]] = {}
    notes: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = pathlib.Path(tmp)
        files = write_data(folder, n, shape)
        h5_path = files["h5"][0]
        print(f"data: {n} subjects {shape}, images 2 × float32 + labels uint8", file=sys.stderr)

        results["pymia"] = {k: median_us(f, args.samples) for k, f in pymia_readers(h5_path).items()}
        progress("pymia")
        handle = h5py.File(h5_path, "r")
        keys = [str(i).zfill(len(str(n))) for i in range(n)]
        h5_sets = [(handle[f"data/images/{k}"], handle[f"data/labels/{k}"]) for k in keys]
        results["h5py"] = {
            k: median_us(f, args.samples) for k, f in array_readers(lambda i: h5_sets[i], n, shape).items()
        }
        progress("h5py")
        maps = [(np.load(a, mmap_mode="r"), np.load(b, mmap_mode="r")) for a, b in files["npy"]]
        results["npy mmap"] = {
            k: median_us(f, args.samples) for k, f in array_readers(lambda i: maps[i], n, shape).items()
        }
        progress("npy mmap")
        for fmt in ("mha", "mha.gz"):

            def load(i: int, fmt: str = fmt) -> tuple[ImageArray, ImageArray]:
                a, b = files[fmt][i]
                return ImageArray(sitk.ReadImage(a)), ImageArray(sitk.ReadImage(b))

            results[fmt] = {k: median_us(f, slow_samples) for k, f in array_readers(load, n, shape).items()}
            progress(fmt)

        if not args.no_peers:
            peer = ensure_venv(
                PYMIA034_VENV, ["pymia==0.3.4"], "import pymia, sys; sys.exit(pymia.__version__ != '0.3.4')"
            )
            if peer is None:
                notes.append("pymia 0.3.4: could not be installed; skipped")
            else:
                run = subprocess.run(
                    [str(peer), "-c", PYMIA034_DRIVER, h5_path, str(args.samples), str(PATCH)],
                    capture_output=True,
                    text=True,
                    cwd=tmp,
                )
                if run.returncode == 0:
                    results["pymia 0.3.4"] = json.loads(run.stdout.strip().splitlines()[-1])
                    progress("pymia 0.3.4")
                else:
                    notes.append(f"pymia 0.3.4 failed: {run.stderr[-500:]}")
            try:
                results["MONAI (.nii.gz)"] = {
                    k: median_us(f, slow_samples) for k, f in monai_readers(files["nii.gz"], shape).items()
                }
                progress("MONAI")
            except ImportError as error:
                notes.append(f"MONAI not available: {error}")
            torchio = ensure_venv(
                TORCHIO_VENV,
                ["torchio==1.2.1", "deprecated", "einops", "humanize", "jaxtyping", "wadler-lindig", "wrapt"],
                "import torchio",
            )
            if torchio is None:
                notes.append("TorchIO: could not be installed into .benchmarks-venv-torchio; skipped")
            else:
                run = subprocess.run(
                    [str(torchio), "-c", TORCHIO_DRIVER, json.dumps(files["nii.gz"]), str(slow_samples), str(PATCH)],
                    capture_output=True,
                    text=True,
                    cwd=tmp,
                )
                if run.returncode == 0:
                    results["TorchIO (.nii.gz)"] = json.loads(run.stdout.strip().splitlines()[-1])
                else:
                    notes.append(f"TorchIO failed: {run.stderr[-500:]}")
        handle.close()

    ours = results["pymia"]
    print(f"median µs per sample (images + labels); in brackets: time relative to pymia (×)\n{'reader':<20}", end="")
    print("".join(f"{p:>20}" for p in PATTERNS))
    for name, row in results.items():
        cells = [f"{row[p]:>10.0f} ({row[p] / ours[p]:>6.1f}×)" if p in row else f"{'—':>20}" for p in PATTERNS]
        print(f"{name:<20}" + "".join(f"{c:>20}" for c in cells))
    for note in notes:
        print(note)
    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {"subjects": n, "shape": shape, "unit": "µs per sample (median)", "results": results, "notes": notes},
            indent=2,
        )
    )
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
