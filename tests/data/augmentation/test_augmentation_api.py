"""The public API of pymia.data.augmentation: frozen names and pymia 0.3.4 call signatures."""

from __future__ import annotations

import numpy as np
import SimpleITK as sitk

import pymia.data.augmentation as aug
from pymia.data.transformation import ComposeTransform, Transform

DOCUMENTED = [
    # pymia 0.3.4
    "RandomCrop",
    "RandomElasticDeformation",
    "RandomMirror",
    "RandomRotation90",
    "RandomShift",
    # new
    "PercentileWindowing",
    "RandomFlip",
    "RandomGamma",
    "RandomGaussianNoise",
    "RandomIntensityShift",
    "RandomRotation",
    "RandomScaling",
    "RandomTransform",
    "ResamplingTransform",
    "ZScoreNormalization",
    "iter_random_transforms",
    "make_worker_init_fn",
    "reseed_transforms",
]


def test_all_equals_the_documented_names() -> None:
    assert sorted(aug.__all__) == sorted(DOCUMENTED)
    for name in DOCUMENTED:
        assert getattr(aug, name) is not None


def test_every_transform_is_a_pymia_transform_and_composes() -> None:
    classes = [getattr(aug, name) for name in DOCUMENTED if name[0].isupper()]
    assert all(issubclass(cls, Transform) for cls in classes)
    pipeline = ComposeTransform(
        [
            aug.PercentileWindowing(0.01, 0.99),
            aug.ZScoreNormalization(),
            aug.RandomCrop((24, 24), seed=0),
            aug.RandomFlip(seed=0),
            aug.RandomRotation(16, seed=0),
            aug.RandomScaling(seed=0),
            aug.RandomElasticDeformation(p=1.0, seed=0),
            aug.RandomGamma(seed=0),
            aug.RandomGaussianNoise(seed=0),
            aug.RandomIntensityShift(seed=0),
        ]
    )
    rng = np.random.default_rng(0)
    sample = {"images": rng.random((32, 30, 2), dtype=np.float32), "labels": rng.integers(0, 3, (32, 30, 1))}
    out = pipeline(sample)
    assert out["images"].shape == (24, 24, 2) and out["images"].dtype == np.float32
    assert out["labels"].shape == (24, 24, 1) and set(np.unique(out["labels"]).tolist()) <= {0, 1, 2}
    assert "RandomRotation(" in repr(pipeline.transforms[4]) and "max_degrees=16.0" in repr(pipeline.transforms[4])


def test_pymia_034_positional_signatures_still_work() -> None:
    """The argument order of pymia 0.3.4's five augmentation classes (read from its documentation)."""
    rng = np.random.default_rng(1)
    volume = {"images": rng.random((10, 12, 12, 1), dtype=np.float32), "labels": rng.integers(0, 4, (10, 12, 12, 1))}
    entries = ("images", "labels")
    transforms = [
        aug.RandomCrop((8, 8), (1, 2), 1.0, entries),
        aug.RandomElasticDeformation(4, 5.0, (sitk.sitkBSpline, sitk.sitkNearestNeighbor), 3, 0.0, 1.0, entries),
        aug.RandomMirror(-2, 1.0, entries),
        aug.RandomRotation90((-3, -2), 1.0, entries),
        aug.RandomShift((0.1, 0.2), (0, 1), 1.0, entries),
    ]
    for transform in transforms:
        transform.reseed(0)
        out = transform({key: value.copy() for key, value in volume.items()})
        assert out["images"].shape[:-1] == out["labels"].shape[:-1]
        assert out["labels"].dtype == volume["labels"].dtype
        assert set(np.unique(out["labels"]).tolist()) <= {0, 1, 2, 3}
    assert transforms[1]._interpolator_orders == (3, 0)


def test_importing_augmentation_does_not_import_torch_or_tensorflow() -> None:
    import subprocess
    import sys

    code = "import sys, pymia.data.augmentation; print('torch' in sys.modules, 'tensorflow' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["False", "False"]
