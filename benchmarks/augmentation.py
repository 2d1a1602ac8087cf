"""Benchmark: ms per sample of pymia's augmentations next to MONAI, TorchIO and pymia 0.3.4.

One 64³ sample (one float32 image channel + one uint8 label map; images linear unless "cubic",
labels nearest) and one 192² slice. The implementations are timed **interleaved**: in each round
every implementation runs every transform once, so load from other jobs on a shared machine hits
all of them alike; the tables show the best of ``--repeats`` rounds, as wall-clock ms and as CPU ms
of the whole process (all threads: what a sample costs when data-loading workers keep every core
busy). Ratios are the peer's time divided by pymia's (> 1: pymia is faster).

MONAI runs in this interpreter. pymia 0.3.4 and TorchIO run in their own virtual environments
(``.benchmarks-venv-pymia034``, ``.benchmarks-venv-torchio`` at the repository root) as worker
processes that time one call per request; a missing one is skipped with a message, and
``--install-peers`` creates them first (needs the package index).

    python benchmarks/augmentation.py [--repeats 9] [--out benchmarks/results/augmentation.json]
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import subprocess
import sys
import time
from collections.abc import Callable

import numpy as np

import pymia.data.augmentation as aug

ROOT = pathlib.Path(__file__).resolve().parents[1]
PYMIA034_VENV = ROOT / ".benchmarks-venv-pymia034"
TORCHIO_VENV = ROOT / ".benchmarks-venv-torchio"

# The sample, as source code, so that the peer processes build exactly the same arrays.
SAMPLE_CODE = """
import numpy as np
def make_arrays(shape):
    rng = np.random.default_rng(0)
    grids = np.meshgrid(*[np.linspace(-1, 1, s, dtype=np.float32) for s in shape], indexing="ij")
    radius = np.sqrt(sum(g**2 for g in grids))
    image = (100 + 40 * np.cos(3 * radius) + rng.normal(0, 5, shape)).astype(np.float32)
    labels = np.digitize(radius, (0.3, 0.6, 0.9)).astype(np.uint8)
    return image, labels
"""

# Each peer process defines TRANSFORMS (name -> callable doing one sample), then answers requests:
# a line with a name runs it once and prints {"wall": s, "cpu": s}.
SERVE_CODE = """
import json, sys, time
print(json.dumps(sorted(TRANSFORMS)), flush=True)
for line in sys.stdin:
    function = TRANSFORMS[line.strip()]
    start_wall, start_cpu = time.perf_counter(), time.process_time()
    function()
    print(json.dumps({"wall": time.perf_counter() - start_wall, "cpu": time.process_time() - start_cpu}), flush=True)
"""

# NumPy 2 removed these aliases; pymia 0.3.4 uses them, so its process gets them back before importing it.
NUMPY_ALIAS_SHIM = """
import numpy as np
for _name, _type in (("float", float), ("int", int), ("bool", bool)):
    if not hasattr(np, _name):
        setattr(np, _name, _type)
"""

PYMIA034_CODE = """
import pymia
if "site-packages" not in pymia.__file__:
    raise RuntimeError(f"expected pymia 0.3.4 from the venv, got {pymia.__file__}")
import pymia.data.augmentation as aug034
image, labels = make_arrays(SHAPE)
np.random.seed(0)
fresh = lambda: {"images": image[..., None].copy(), "labels": labels[..., None].copy()}
elastic = aug034.RandomElasticDeformation(4, 5.0, spatial_rank=len(SHAPE), p=1.0)  # cubic B-spline images
mirror = aug034.RandomMirror()
TRANSFORMS = {"elastic (cubic)": lambda: elastic(fresh()), "mirror": lambda: mirror(fresh())}
"""

TORCHIO_CODE = """
import torch
import torchio as tio
torch.set_num_threads(2)
torch.manual_seed(0)
image, labels = make_arrays(SHAPE)
subject = tio.Subject(
    images=tio.ScalarImage(tensor=torch.from_numpy(image[None])),
    labels=tio.LabelMap(tensor=torch.from_numpy(labels[None])),
)
transforms = {
    "elastic (linear)": tio.RandomElasticDeformation(num_control_points=7, max_displacement=7.5,
                                                     image_interpolation="linear"),
    "elastic (cubic)": tio.RandomElasticDeformation(num_control_points=7, max_displacement=7.5,
                                                    image_interpolation="bspline"),
    "rotation ≤16°": tio.RandomAffine(scales=0, degrees=16),
    "scaling 0.9–1.1": tio.RandomAffine(scales=0.1, degrees=0),
    "flip": tio.RandomFlip(axes=(0, 1, 2), flip_probability=0.5),
    "gaussian noise": tio.RandomNoise(std=0.1),
    "gamma": tio.RandomGamma(),
    "z-score per channel": tio.ZNormalization(),
}
TRANSFORMS = {name: (lambda t=t: t(subject)) for name, t in transforms.items()}
"""


class PeerProcess:
    """A peer implementation in its own venv, timing one call per request (see ``SERVE_CODE``)."""

    def __init__(self, venv: pathlib.Path, setup_code: str, shape: tuple[int, ...]) -> None:
        python = venv / "bin" / "python"
        if not python.exists():
            raise RuntimeError(f"{python} does not exist (run with --install-peers to create it)")
        code = SAMPLE_CODE + f"\nSHAPE = {shape!r}\n" + setup_code + SERVE_CODE
        # isolated (-I) and outside the repository: otherwise ``-c`` puts the working directory first on
        # sys.path, and ``import pymia`` would find this checkout instead of the venv's pymia 0.3.4
        self.process = subprocess.Popen(
            [str(python), "-I", "-c", code],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=venv,
        )
        first = self.process.stdout.readline()
        if not first:
            error = self.process.stderr.read().strip().splitlines()
            raise RuntimeError(error[-1] if error else "the peer process exited")
        self.names = json.loads(first)

    def run(self, name: str) -> tuple[float, float]:
        self.process.stdin.write(name + "\n")
        self.process.stdin.flush()
        answer = json.loads(self.process.stdout.readline())
        return answer["wall"], answer["cpu"]

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=30)


class InProcess:
    """An implementation in this interpreter: a dict of name -> callable doing one sample."""

    def __init__(self, transforms: dict[str, Callable[[], object]]) -> None:
        self.transforms = transforms
        self.names = list(transforms)

    def run(self, name: str) -> tuple[float, float]:
        start_wall, start_cpu = time.perf_counter(), time.process_time()
        self.transforms[name]()
        return time.perf_counter() - start_wall, time.process_time() - start_cpu

    def close(self) -> None:
        pass


def make_sample(shape: tuple[int, ...]) -> dict:
    namespace: dict = {}
    exec(SAMPLE_CODE, namespace)  # the same arrays as the peers build
    image, labels = namespace["make_arrays"](shape)
    return {"images": image[..., None], "labels": labels[..., None]}


def pymia_runner(sample: dict) -> InProcess:
    transforms = {
        "elastic (linear)": aug.RandomElasticDeformation(4, 5.0, p=1.0, seed=0),
        "elastic (cubic)": aug.RandomElasticDeformation(4, 5.0, p=1.0, order=3, seed=0),
        "rotation ≤16°": aug.RandomRotation(16, seed=0),
        "scaling 0.9–1.1": aug.RandomScaling(0.9, 1.1, seed=0),
        "flip": aug.RandomFlip(seed=0),
        "mirror": aug.RandomMirror(seed=0),
        "gaussian noise": aug.RandomGaussianNoise(0.1, seed=0),
        "gamma": aug.RandomGamma(seed=0),
        "z-score per channel": aug.ZScoreNormalization(),
        "z-score from 10 % sample": aug.ZScoreNormalization(sample_fraction=0.1, seed=0),
        "percentile window 0.6/0.99": aug.PercentileWindowing(0.6, 0.99),
    }
    return InProcess({name: (lambda t=t: t(dict(sample))) for name, t in transforms.items()})


def monai_runner(sample: dict) -> InProcess:
    import monai.transforms as mt
    import torch

    torch.set_num_threads(int(os.environ.get("BENCH_THREADS", "2")))
    ndim = sample["images"].ndim - 1
    # MONAI works channel-first on tensors; convert once, outside the timing
    data = {key: torch.from_numpy(np.ascontiguousarray(np.moveaxis(value, -1, 0))) for key, value in sample.items()}
    data["labels"] = data["labels"].float()
    keys, modes = ("images", "labels"), ("bilinear", "nearest")
    if ndim == 3:
        elastic = mt.Rand3DElasticd(keys, sigma_range=(5, 7), magnitude_range=(50, 150), prob=1.0, mode=modes)
    else:
        elastic = mt.Rand2DElasticd(keys, spacing=(30, 30), magnitude_range=(1, 2), prob=1.0, mode=modes)
    rotate = (np.radians(16),) * (3 if ndim == 3 else 1)
    transforms = {
        "elastic (linear)": elastic,
        "rotation ≤16°": mt.RandAffined(keys, prob=1.0, rotate_range=rotate, mode=modes),
        "scaling 0.9–1.1": mt.RandAffined(keys, prob=1.0, scale_range=(0.1,) * ndim, mode=modes),
        "flip": mt.RandAxisFlipd(keys, prob=1.0),
        "gaussian noise": mt.RandGaussianNoised(("images",), prob=1.0, std=0.1),
        "gamma": mt.RandAdjustContrastd(("images",), prob=1.0, gamma=(0.7, 1.5)),
        "z-score per channel": mt.NormalizeIntensityd(("images",), channel_wise=True),
        "percentile window 0.6/0.99": mt.ClipIntensityPercentilesd(("images",), lower=60, upper=99, channel_wise=True),
    }
    for transform in transforms.values():
        if hasattr(transform, "set_random_state"):
            transform.set_random_state(0)
    return InProcess({name: (lambda t=t: t(dict(data))) for name, t in transforms.items()})


def start_runners(sample: dict, shape: tuple[int, ...]) -> dict:
    starters = {
        "pymia": lambda: pymia_runner(sample),
        "MONAI": lambda: monai_runner(sample),
        "pymia 0.3.4": lambda: PeerProcess(PYMIA034_VENV, NUMPY_ALIAS_SHIM + PYMIA034_CODE, shape),
        "TorchIO": lambda: PeerProcess(TORCHIO_VENV, TORCHIO_CODE, shape) if len(shape) == 3 else None,
    }
    runners = {}
    for name, start in starters.items():
        try:
            runner = start()
        except (ImportError, RuntimeError, OSError) as error:
            print(f"{name} skipped: {error}")
            continue
        if runner is not None:
            runners[name] = runner
    return runners


def measure(runners: dict, repeats: int) -> dict[str, dict[str, dict[str, float]]]:
    """Interleaved timing: two warm-up calls each, then ``repeats`` rounds over all implementations."""
    best: dict[str, dict[str, dict[str, float]]] = {impl: {} for impl in runners}
    names = runners["pymia"].names
    for name in names:
        users = [impl for impl, runner in runners.items() if name in runner.names]
        for impl in users:
            for _ in range(2):
                runners[impl].run(name)
        for _ in range(repeats):
            for impl in users:
                wall, cpu = runners[impl].run(name)
                entry = best[impl].setdefault(name, {"wall": float("inf"), "cpu": float("inf")})
                entry["wall"] = min(entry["wall"], 1000 * wall)
                entry["cpu"] = min(entry["cpu"], 1000 * cpu)
    return best


def print_tables(label: str, results: dict[str, dict[str, dict[str, float]]]) -> None:
    peers = [name for name in results if name != "pymia" and results[name]]
    for clock, title in (("wall", "best wall-clock ms"), ("cpu", "best CPU ms, all threads")):
        print(f"\n{label}: {title} per sample (image + labels); ratio = peer / pymia")
        print(f"{'transform':<30} {'pymia':>8}" + "".join(f" {peer:>12} {'ratio':>6}" for peer in peers))
        for name, ours in results["pymia"].items():
            row = f"{name:<30} {ours[clock]:8.2f}"
            for peer in peers:
                theirs = results[peer].get(name)
                if theirs is None:
                    row += f" {'–':>12} {'':>6}"
                else:
                    row += f" {theirs[clock]:12.2f} {theirs[clock] / max(ours[clock], 1e-3):6.1f}"
            print(row)


def install_peers() -> None:
    """Create the peer venvs idempotently, reusing this environment's numpy/scipy/SimpleITK/torch."""
    for venv, packages in ((PYMIA034_VENV, ["pymia==0.3.4"]), (TORCHIO_VENV, ["torchio"])):
        python = venv / "bin" / "python"
        if not python.exists():
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
            site = next((venv / "lib").glob("python*/site-packages"))
            own_site = next(path for path in sys.path if path.endswith("site-packages"))
            (site / "pymia-benchmark-parent.pth").write_text(own_site + "\n")
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--no-deps", *packages], check=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--size3d", type=int, default=64)
    parser.add_argument("--size2d", type=int, default=192)
    parser.add_argument("--install-peers", action="store_true")
    parser.add_argument("--out", type=pathlib.Path, default=ROOT / "benchmarks" / "results" / "augmentation.json")
    args = parser.parse_args(argv)
    if args.install_peers:
        install_peers()

    report: dict = {"repeats": args.repeats, "unit": "ms (best of the rounds)", "cases": {}}
    for label, shape in ((f"3-D {args.size3d}³", (args.size3d,) * 3), (f"2-D {args.size2d}²", (args.size2d,) * 2)):
        runners = start_runners(make_sample(shape), shape)
        try:
            results = measure(runners, args.repeats)
        finally:
            for runner in runners.values():
                runner.close()
        report["cases"][label] = results
        print_tables(label, results)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False))
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
