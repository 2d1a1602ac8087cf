"""Seeded data augmentation: random spatial and intensity transforms, and intensity normalization.

Every transform is a :class:`~pymia.data.transformation.Transform` (``sample = transform(sample)``) on
channel-last arrays: (y, x, c) slices or (z, y, x, c) volumes. Spatial transforms move all of their
``entries`` (images and labels) with the same random parameters; labels are resampled with nearest
neighbour so they keep their label set. Random transforms take ``seed=`` or ``rng=`` and never use
NumPy's global random state; :func:`make_worker_init_fn` and :func:`reseed_transforms` give each
PyTorch worker (or sample) its own stream. The first five names are those of pymia 0.3.4.
"""

from pymia.data.augmentation.crop import RandomCrop
from pymia.data.augmentation.elastic import RandomElasticDeformation
from pymia.data.augmentation.flip import RandomFlip, RandomMirror
from pymia.data.augmentation.gamma import RandomGamma
from pymia.data.augmentation.intensityshift import RandomIntensityShift
from pymia.data.augmentation.noise import RandomGaussianNoise
from pymia.data.augmentation.randomtransform import RandomTransform
from pymia.data.augmentation.resamplingtransform import ResamplingTransform
from pymia.data.augmentation.rotation import RandomRotation
from pymia.data.augmentation.rotation90 import RandomRotation90
from pymia.data.augmentation.scaling import RandomScaling
from pymia.data.augmentation.seeding import iter_random_transforms, make_worker_init_fn, reseed_transforms
from pymia.data.augmentation.shift import RandomShift
from pymia.data.augmentation.windowing import PercentileWindowing
from pymia.data.augmentation.zscore import ZScoreNormalization

__all__ = [
    "PercentileWindowing",
    "RandomCrop",
    "RandomElasticDeformation",
    "RandomFlip",
    "RandomGamma",
    "RandomGaussianNoise",
    "RandomIntensityShift",
    "RandomMirror",
    "RandomRotation",
    "RandomRotation90",
    "RandomScaling",
    "RandomShift",
    "RandomTransform",
    "ResamplingTransform",
    "ZScoreNormalization",
    "iter_random_transforms",
    "make_worker_init_fn",
    "reseed_transforms",
]
