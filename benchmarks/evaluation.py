"""Benchmark: evaluation metrics of pymia against its peers, on the same masks, in one run.

Part A, distances: HD95 + average surface distance of one label of an ellipsoid phantom (spacing
1.2 × 1.0 × 1.0 mm, prediction = reference shifted by (1, −1, 2) voxels) at each ``--sizes`` cube:

* pymia, ``method='surfel'`` (DeepMind convention) and ``method='voxel'`` (MONAI/medpy convention),
  one shared surface computation for both metrics, as the evaluators use it;
* surface-distance (DeepMind), MONAI (``compute_hausdorff_distance`` + ``compute_average_surface_distance``),
  medpy (``hd95`` + ``assd``), all from this environment;
* seg-metrics (``computeQualityMeasures(metrics_names={'hd95', 'msd'})``), installed on first use with
  ``--no-deps`` into ``.benchmarks-venv-segmetrics`` (its import-time helper package ``medutils`` needs
  pingouin, which the metric code never uses, so the driver stubs that module);
* pymia 0.3.4 (``HausdorffDistance(95)`` + ``AverageDistance``) in ``.benchmarks-venv-pymia034`` (created
  on first use with ``pip install --no-deps pymia==0.3.4``, sharing numpy/SciPy/SimpleITK with this
  environment) with the NumPy aliases it needs restored (``np.float``, ``np.int``, ``np.object``,
  ``np.in1d``).

Each tool gets one warm-up call and then ``--repeats`` timed calls (a single call when the warm-up took
longer than 5 s); the median is reported with the ratio to pymia's time. Values are compared where the
conventions match: surfel HD95/ASSD with surface-distance (and 0.3.4's HD95), voxel HD95/ASSD with
MONAI and medpy's ASSD.

Part B, cohort: DICE + HD95 + AVGDIST + SURFDICE over 5 labels of brain-like 181×217×181 label maps
(``--subjects`` of them, prediction shifted by (1, −1, 2) voxels), read from .mha files: pymia's
``SegmentationEvaluator.evaluate_cohort`` with 1 process and with a 2-process pool, and pymia 0.3.4's
``SegmentationEvaluator``. Seconds per subject, including reading the files.

Part C, memory: the peak of Python-tracked allocations (tracemalloc, which sees numpy buffers) of
pymia's surface computation, for the 256³ phantom and for a small object in a 256³ image, relative to
the size of one boolean mask of the image.

    python benchmarks/evaluation.py [--sizes 128 256] [--repeats 3] [--subjects 4] [--no-peers]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import pathlib
import platform
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import textwrap
import time
import tracemalloc
import warnings

import numpy as np
import SimpleITK as sitk
from scipy import ndimage

REPO = pathlib.Path(__file__).resolve().parents[1]
PYMIA034_VENV = REPO / ".benchmarks-venv-pymia034"
SEGMETRICS_VENV = REPO / ".benchmarks-venv-segmetrics"
SPACING = (1.2, 1.0, 1.0)
SHIFT = (1, -1, 2)
LABELS = {1: "WHITEMATTER", 2: "GREYMATTER", 3: "HIPPOCAMPUS", 4: "AMYGDALA", 5: "THALAMUS"}
SLOW_SINGLE_RUN_S = 5.0

# Run by the pymia 0.3.4 environment's python; uses 0.3.4's documented API only.
PYMIA034_DRIVER = textwrap.dedent(
    """
    import json, sys, time, warnings
    import numpy as np
    import scipy.ndimage  # import before the aliases below
    for alias, value in {"float": float, "int": int, "object": object}.items():
        setattr(np, alias, value)  # removed from NumPy; pymia 0.3.4 still uses them
    np.in1d = lambda a, b, *args, **kwargs: np.isin(np.ravel(a), b, *args, **kwargs)
    import SimpleITK as sitk
    import pymia
    assert ".benchmarks-venv-pymia034" in pymia.__file__, f"imported the wrong pymia: {pymia.__file__}"
    from pymia.evaluation import evaluator, metric
    warnings.simplefilter("ignore")
    mode, repeats = sys.argv[1], int(sys.argv[3])
    if mode == "distances":
        data = np.load(sys.argv[2])
        spacing = tuple(float(s) for s in data["spacing"])
        # uint8 masks, as 0.3.4's evaluator builds them (its AverageDistance cannot take bool arrays)
        reference, prediction = data["reference"].astype(np.uint8), data["prediction"].astype(np.uint8)
        def run():
            metrics = [metric.HausdorffDistance(percentile=95, metric="HDRFDST95"), metric.AverageDistance()]
            distances = metric.Distances(prediction, reference, spacing)
            values = []
            metrics[0].distances = distances
            values.append(metrics[0].calculate())
            metrics[1].reference, metrics[1].prediction, metrics[1].spacing = reference, prediction, spacing
            values.append(metrics[1].calculate())
            return values
        start = time.perf_counter(); values = run(); times = [time.perf_counter() - start]
        if times[0] < float(sys.argv[4]):
            times = []
            for _ in range(repeats):
                start = time.perf_counter(); run(); times.append(time.perf_counter() - start)
        print(json.dumps({"times": times, "values": values}))
    else:
        subjects = json.loads(sys.argv[2])
        labels = {int(k): v for k, v in json.loads(sys.argv[4]).items()}
        metrics = [metric.DiceCoefficient(), metric.HausdorffDistance(percentile=95, metric="HDRFDST95"),
                   metric.AverageDistance(), metric.SurfaceDiceOverlap(tolerance=1)]
        seg_evaluator = evaluator.SegmentationEvaluator(metrics, labels)
        times, values = [], []
        for subject_id, prediction_path, reference_path in subjects:
            start = time.perf_counter()
            seg_evaluator.evaluate(sitk.ReadImage(prediction_path), sitk.ReadImage(reference_path), subject_id)
            times.append(time.perf_counter() - start)
        values = [[r.id_, r.label, r.metric, r.value] for r in seg_evaluator.results]
        print(json.dumps({"times": times, "values": values}))
    """
)

# Run by the seg-metrics environment's python.
SEGMETRICS_DRIVER = textwrap.dedent(
    """
    import json, sys, time, types, logging
    import numpy as np
    stub = types.ModuleType("medutils.medutils")  # only needed by seg-metrics' file helpers, not its metrics
    for name in ("load_itk", "get_gdth_pred_names", "one_hot_encode_3d"):
        setattr(stub, name, None)
    sys.modules["medutils"] = types.ModuleType("medutils"); sys.modules["medutils.medutils"] = stub
    logging.disable(logging.WARNING)
    from seg_metrics.seg_metrics import computeQualityMeasures
    data = np.load(sys.argv[1])
    reference = data["reference"].astype(np.uint8); prediction = data["prediction"].astype(np.uint8)
    spacing_xyz = np.array(data["spacing"][::-1], dtype=np.float64)
    def run():
        quality = computeQualityMeasures(prediction, reference, spacing_xyz, metrics_names={"hd95", "msd"})
        return [float(quality["hd95"]), float(quality["msd"])]
    start = time.perf_counter(); values = run(); times = [time.perf_counter() - start]
    if times[0] < float(sys.argv[3]):
        times = []
        for _ in range(int(sys.argv[2])):
            start = time.perf_counter(); run(); times.append(time.perf_counter() - start)
    print(json.dumps({"times": times, "values": values}))
    """
)


# --- environments -----------------------------------------------------------------------------------


def _peer_venv(folder: pathlib.Path, packages: list[str], check: str) -> pathlib.Path:
    """A venv sharing this environment's site-packages (via a .pth file) plus ``packages`` installed with
    --no-deps. Created once; ``check`` is Python code that exits 0 when the venv is ready."""
    python = folder / "bin" / "python"
    if python.exists() and subprocess.run([str(python), "-I", "-c", check], capture_output=True).returncode == 0:
        return python
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True)
    site = next((folder / "lib").glob("python*/site-packages"))
    (site / "_shared_from_main_venv.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site), *packages],
        check=True,
    )
    return python


def pymia034_python() -> pathlib.Path:
    return _peer_venv(
        PYMIA034_VENV,
        ["pymia==0.3.4"],
        "import importlib.metadata as m, sys; sys.exit(m.version('pymia') != '0.3.4')",
    )


def segmetrics_python() -> pathlib.Path:
    return _peer_venv(
        SEGMETRICS_VENV,
        ["seg-metrics==1.2.8"],
        "import importlib.metadata as m, sys; sys.exit(m.version('seg-metrics') != '1.2.8')",
    )


def _run_json(command: list[str]) -> dict:
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:3])} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


# --- data -------------------------------------------------------------------------------------------


def phantom_pair(size: int) -> tuple[np.ndarray, np.ndarray]:
    """One-label ellipsoid phantom (about 70 % of the image wide) and the same shifted by SHIFT voxels."""
    from pymia.testing import ellipsoid_mask

    reference = ellipsoid_mask((size,) * 3, (0.38 * size * 1.2, 0.35 * size, 0.40 * size), spacing=SPACING)
    return reference, np.roll(reference, SHIFT, axis=(0, 1, 2))


def brain_like_labels(shape: tuple[int, int, int], seed: int) -> np.ndarray:
    """Five labels like the HCP example data: grey matter around white matter, three small deep structures,
    with smooth random boundaries."""
    generator = np.random.default_rng(seed)
    coarse = ndimage.gaussian_filter(generator.standard_normal(tuple(s // 4 + 1 for s in shape)), 2.0)
    roughness = ndimage.zoom(coarse / np.abs(coarse).max(), 4, order=1)[: shape[0], : shape[1], : shape[2]]
    grid = np.ogrid[tuple(slice(0, s) for s in shape)]
    center = [s / 2 for s in shape]

    def inside(radii, offset=(0, 0, 0), wobble=0.12):
        distance = sum(((g - c - o) / r) ** 2 for g, c, o, r in zip(grid, center, offset, radii))
        return distance + wobble * roughness <= 1.0

    labels = np.zeros(shape, np.uint8)
    labels[inside((70, 85, 70))] = 2
    labels[inside((55, 70, 55))] = 1
    for side in (-1, 1):
        labels[inside((8, 14, 6), (-5, 10, side * 25), 0.3)] = 3
        labels[inside((6, 6, 6), (-8, 22, side * 24), 0.3)] = 4
        labels[inside((9, 11, 8), (5, -5, side * 10), 0.3)] = 5
    return labels


def write_cohort(folder: pathlib.Path, subjects: int) -> list[tuple[str, str, str]]:
    cases = []
    for index in range(subjects):
        reference = brain_like_labels((181, 217, 181), seed=index)
        prediction = np.roll(reference, SHIFT, axis=(0, 1, 2))
        paths = []
        for role, array in (("prediction", prediction), ("reference", reference)):
            image = sitk.GetImageFromArray(array)
            image.SetSpacing((1.0, 1.0, 1.0))
            path = folder / f"subject{index}_{role}.mha"
            sitk.WriteImage(image, str(path))
            paths.append(str(path))
        cases.append((f"subject{index}", *paths))
    return cases


# --- measuring --------------------------------------------------------------------------------------


def measure(function, repeats: int) -> tuple[float, object]:
    """Median seconds of ``repeats`` calls after a warm-up call (the warm-up alone when it was slow)."""
    start = time.perf_counter()
    values = function()
    first = time.perf_counter() - start
    if first > SLOW_SINGLE_RUN_S:
        return first, values
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), values


def pymia_distances(reference, prediction, method):
    from pymia.evaluation.metric import AverageDistance, HausdorffDistance, SegmentationInputs

    def run():
        inputs = SegmentationInputs(reference, prediction, spacing=SPACING)
        return [
            HausdorffDistance(95, method=method).calculate_from(inputs),
            AverageDistance(method=method).calculate_from(inputs),
        ]

    return run


def surface_distance_peer(reference, prediction):
    import surface_distance

    def run():
        distances = surface_distance.compute_surface_distances(reference, prediction, SPACING)
        hd95 = surface_distance.compute_robust_hausdorff(distances, 95)
        weighted = np.sum(distances["distances_gt_to_pred"] * distances["surfel_areas_gt"]) + np.sum(
            distances["distances_pred_to_gt"] * distances["surfel_areas_pred"]
        )
        area = np.sum(distances["surfel_areas_gt"]) + np.sum(distances["surfel_areas_pred"])
        return [float(hd95), float(weighted / area)]

    return run


def monai_peer(reference, prediction):
    import torch
    from monai.metrics import compute_average_surface_distance, compute_hausdorff_distance

    y, y_pred = torch.from_numpy(reference)[None, None], torch.from_numpy(prediction)[None, None]

    def run():
        hd95 = compute_hausdorff_distance(y_pred, y, include_background=True, percentile=95, spacing=SPACING)
        assd = compute_average_surface_distance(y_pred, y, include_background=True, symmetric=True, spacing=SPACING)
        return [float(hd95), float(assd)]

    return run


def medpy_peer(reference, prediction):
    from medpy.metric import binary

    def run():
        return [
            float(binary.hd95(prediction, reference, voxelspacing=SPACING)),
            float(binary.assd(prediction, reference, voxelspacing=SPACING)),
        ]

    return run


def same(a: float, b: float) -> bool:
    return bool(np.isclose(a, b, rtol=1e-6, atol=0.0))


def part_distances(sizes, repeats, peers, tmp: pathlib.Path) -> list[dict]:
    rows = []
    for size in sizes:
        reference, prediction = phantom_pair(size)
        masks = tmp / f"masks{size}.npz"
        np.savez(masks, reference=reference, prediction=prediction, spacing=np.array(SPACING))
        entries = {}
        for method in ("surfel", "voxel"):
            entries[f"pymia ({method})"] = measure(pymia_distances(reference, prediction, method), repeats)
        if peers:
            entries["surface-distance"] = measure(surface_distance_peer(reference, prediction), repeats)
            entries["MONAI"] = measure(monai_peer(reference, prediction), repeats)
            entries["medpy"] = measure(medpy_peer(reference, prediction), repeats)
            for name, command in (
                ("seg-metrics", [str(segmetrics_python()), "-I", "-c", SEGMETRICS_DRIVER, str(masks), str(repeats)]),
                (
                    "pymia 0.3.4",
                    [str(pymia034_python()), "-I", "-c", PYMIA034_DRIVER, "distances", str(masks), str(repeats)],
                ),
            ):
                result = _run_json([*command, str(SLOW_SINGLE_RUN_S)])
                entries[name] = (statistics.median(result["times"]), result["values"])
        surfel_time, surfel_values = entries["pymia (surfel)"]
        voxel_time, voxel_values = entries["pymia (voxel)"]
        conventions = {
            "pymia (surfel)": ("surfel", "surfel"),
            "pymia (voxel)": ("voxel", "voxel"),
            "surface-distance": ("surfel", "surfel"),
            "MONAI": ("voxel", "voxel"),
            "medpy": ("pooled percentile", "voxel"),
            "seg-metrics": ("pooled percentile", "distance map of the object"),
            "pymia 0.3.4": ("surfel", "all voxels (SimpleITK average HD)"),
        }
        fastest_peer = min(
            (seconds for name, (seconds, _) in entries.items() if not name.startswith("pymia (")), default=None
        )
        for name, (seconds, values) in entries.items():
            hd_convention, assd_convention = conventions[name]
            ours_hd = surfel_values[0] if hd_convention == "surfel" else voxel_values[0]
            ours_assd = surfel_values[1] if assd_convention == "surfel" else voxel_values[1]
            rows.append(
                {
                    "size": size,
                    "tool": name,
                    "seconds": seconds,
                    "ratio_to_pymia_surfel": seconds / surfel_time,
                    "ratio_to_pymia_voxel": seconds / voxel_time,
                    "hd95_mm": values[0],
                    "assd_mm": values[1],
                    "hd95_equal": same(values[0], ours_hd) if hd_convention in ("surfel", "voxel") else None,
                    "assd_equal": same(values[1], ours_assd) if assd_convention in ("surfel", "voxel") else None,
                    "fastest_peer_over_this": (fastest_peer / seconds) if fastest_peer else None,
                }
            )
    return rows


def _warm_up(_: int) -> None:
    import pymia.evaluation.evaluator  # noqa: F401 (imported for its side effect: a warm worker)

    time.sleep(0.5)  # long enough that the second task goes to the other worker


def part_cohort(subjects: int, peers: bool, tmp: pathlib.Path) -> dict:
    from pymia.evaluation.evaluator import SegmentationEvaluator
    from pymia.evaluation.metric import AverageDistance, DiceCoefficient, HausdorffDistance, SurfaceDiceOverlap

    cases = write_cohort(tmp, subjects)
    pairs = [(prediction, reference, subject) for subject, prediction, reference in cases]

    def evaluator():
        metrics = [DiceCoefficient(), HausdorffDistance(95), AverageDistance(), SurfaceDiceOverlap(1.0)]
        return SegmentationEvaluator(metrics, LABELS)

    results = {}
    ours = evaluator()
    start = time.perf_counter()
    ours.evaluate_cohort(pairs, progress=False)
    results["pymia, 1 process"] = (time.perf_counter() - start) / subjects
    values = {(r.id_, r.label, r.metric): r.value for r in ours.results}
    with concurrent.futures.ProcessPoolExecutor(2) as pool:
        list(pool.map(_warm_up, range(2)))  # start both workers and import pymia there before timing
        start = time.perf_counter()
        evaluator().evaluate_cohort(pairs, executor=pool, progress=False)
        results["pymia, 2 processes"] = (time.perf_counter() - start) / subjects
    equal = None
    if peers:
        command = [str(pymia034_python()), "-I", "-c", PYMIA034_DRIVER, "cohort", json.dumps(cases), "1"]
        peer = _run_json([*command, json.dumps(LABELS)])
        results["pymia 0.3.4"] = statistics.mean(peer["times"])
        ids = {"DICE": "DICE", "HDRFDST95": "HDRFDST95", "SURFDICE": "SURFDICE"}
        equal = all(
            same(value, values[(subject, label, ids[metric])])
            for subject, label, metric, value in peer["values"]
            if metric in ids
        )
    return {"seconds_per_subject": results, "dice_hd95_surfdice_equal_to_pymia034": equal}


def part_memory() -> dict:
    from pymia.evaluation.metric import compute_surface_distances

    reference, prediction = phantom_pair(256)
    small = np.zeros((256, 256, 256), bool)
    small[120:136, 110:140, 100:124] = True
    report = {}
    for name, (a, b) in {
        "phantom 256³": (reference, prediction),
        "small object in 256³": (small, np.roll(small, 2, 2)),
    }.items():
        tracemalloc.start()
        compute_surface_distances(a, b, spacing=SPACING, method="surfel")
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        report[name] = {"peak_mb": peak / 1e6, "peak_over_one_mask": peak / a.nbytes}
    return report


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[128, 256])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--subjects", type=int, default=4)
    parser.add_argument("--no-peers", action="store_true", help="only pymia (no surface-distance, MONAI, ...)")
    parser.add_argument("--no-cohort", action="store_true")
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "evaluation.json"))
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    peers = not args.no_peers

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = pathlib.Path(tmp_name)
        distances = part_distances(args.sizes, args.repeats, peers, tmp)
        print("\nA. HD95 + ASSD of one label (ratio = tool seconds / pymia surfel seconds)")
        print(f"{'size':>5} {'tool':18} {'seconds':>8} {'ratio':>7} {'HD95 mm':>9} {'ASSD mm':>9}  equal to pymia")
        for row in distances:
            equal = "/".join(
                "-" if e is None else ("yes" if e else "NO") for e in (row["hd95_equal"], row["assd_equal"])
            )
            print(
                f"{row['size']:>5} {row['tool']:18} {row['seconds']:8.3f} {row['ratio_to_pymia_surfel']:7.1f} "
                f"{row['hd95_mm']:9.4f} {row['assd_mm']:9.4f}  {equal}"
            )
        for size in args.sizes:
            rows = [row for row in distances if row["size"] == size]
            peer_rows = [row for row in rows if not row["tool"].startswith("pymia (")]
            if peer_rows:
                fastest = min(peer_rows, key=lambda row: row["seconds"])
                ours = {row["tool"]: row["seconds"] for row in rows if row["tool"].startswith("pymia (")}
                speedups = ", ".join(f"{tool} {fastest['seconds'] / seconds:.1f}×" for tool, seconds in ours.items())
                print(f"   {size}³: fastest peer {fastest['tool']} {fastest['seconds']:.3f} s; faster by {speedups}")
        cohort = None
        if not args.no_cohort:
            cohort = part_cohort(args.subjects, peers, tmp)
            print(f"\nB. cohort, DICE+HD95+AVGDIST+SURFDICE, 5 labels, 181×217×181, {args.subjects} subjects")
            base = cohort["seconds_per_subject"].get("pymia 0.3.4")
            for name, seconds in cohort["seconds_per_subject"].items():
                ratio = f"{base / seconds:6.1f}× faster than 0.3.4" if base else ""
                print(f"   {name:20} {seconds:7.3f} s/subject  {ratio}")
            print(f"   DICE, HD95, SURFDICE equal to 0.3.4: {cohort['dice_hd95_surfdice_equal_to_pymia034']}")
        memory = part_memory()
        print("\nC. peak allocation of pymia's surface computation (surfel)")
        for name, entry in memory.items():
            print(f"   {name:22} {entry['peak_mb']:7.1f} MB = {entry['peak_over_one_mask']:.2f} × one boolean mask")

    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "machine": {"python": platform.python_version(), "cpus": __import__("os").cpu_count()},
                "spacing": SPACING,
                "shift": SHIFT,
                "distances": distances,
                "cohort": cohort,
                "memory": memory,
            },
            indent=2,
        )
    )
    print(f"\nwrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
