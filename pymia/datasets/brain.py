"""Realistic example subjects simulated from a real brain template, generated on the user's machine.

Each subject is the MNI ICBM152 2009a template (shipped inside the nilearn wheel, see
:mod:`pymia.datasets.template`) under a random smooth deformation, with grey-matter loss that grows
with age, a T1-weighted and a T2-like image with their own bias fields and Rician noise, a label map
(0 background, 1 white matter, 2 grey matter, 3 CSF) and a brain mask. Nothing is downloaded, and the
same seed gives byte-identical files.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import SimpleITK as sitk
from tqdm import tqdm

import pymia
from pymia.datasets.deformation import DeformationSettings, random_displacement, warp
from pymia.datasets.demographics import Demographics, sample_demographics
from pymia.datasets.layout import (
    DEFAULT_FILE_SUFFIXES,
    IMAGE_KEYS,
    MANIFEST_FILE_NAME,
    SubjectRecord,
    check_target_folder,
    new_staging_folder,
    replace_folder,
    subject_file,
    subject_name,
    write_image,
    write_tables,
)
from pymia.datasets.template import (
    MCGILL_COPYRIGHT,
    TEMPLATE_FILE_NAMES,
    TissueTemplate,
    load_template,
    nilearn_version,
)
from pymia.errors import InvalidInputError

__all__ = [
    "LABELS",
    "README_FILE_NAME",
    "SimulatedSubject",
    "generate_brain_dataset",
    "is_example_folder",
    "simulate_subject",
]

LABELS: dict[int, str] = {0: "background", 1: "white matter", 2: "grey matter", 3: "CSF"}
"""Label values of the ``GT`` images."""

README_FILE_NAME = "README.txt"
_README_FIRST_LINE = "pymia example data: simulated brain MRI subjects"

# Tissue contrast of the T2-like image (relative intensities of WM, GM, CSF), reversed against T1.
_T2_WHITE_MATTER, _T2_GRAY_MATTER, _T2_CSF = 0.35, 0.55, 0.95
# Mean template T1 intensity of GM and CSF (measured on the template); grey matter lost to atrophy
# turns into CSF, so the T1 image darkens by this difference per unit of lost probability.
_T1_GRAY_MATTER, _T1_CSF = 0.65, 0.39
_ATROPHY_PER_YEAR = 0.003  # fraction of grey-matter probability lost per year above 20
_INTENSITY_SCALE = 1000.0  # arbitrary scanner-like units
_NOISE_FRACTION = 0.03  # Rician noise σ relative to the intensity scale
_BRAIN_THRESHOLD = 0.05  # template T1 above this is brain (the template is skull-stripped)


@dataclass(frozen=True)
class SimulatedSubject:
    """The images and values of one simulated subject, in numpy order (z, y, x).

    Attributes
    ----------
    t1, t2 : numpy.ndarray
        ``float32`` intensity images (arbitrary units, about 0–1300), zero outside the brain.
    labels : numpy.ndarray
        ``uint8`` label map, values of :data:`LABELS`.
    mask : numpy.ndarray
        ``uint8`` brain mask (1 inside), equal to ``labels > 0``.
    demographics : Demographics
        Age, sex and score.
    """

    t1: np.ndarray
    t2: np.ndarray
    labels: np.ndarray
    mask: np.ndarray
    demographics: Demographics


def _bias_field(shape: tuple[int, ...], rng: np.random.Generator, strength: float = 0.12) -> np.ndarray:
    """A smooth multiplicative field exp(linear + quadratic polynomial) of about ±``strength``."""
    axes = [np.linspace(-1.0, 1.0, n, dtype=np.float32) for n in shape]
    grids = np.meshgrid(*axes, indexing="ij", sparse=True)
    exponent = np.zeros(shape, dtype=np.float32)
    for grid in grids:
        exponent = exponent + np.float32(rng.normal(0.0, strength)) * grid
        exponent = exponent + np.float32(rng.normal(0.0, strength / 2)) * (grid * grid - np.float32(1 / 3))
    return np.exp(exponent)


def _rician(image: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Magnitude of the image plus complex Gaussian noise, as MRI magnitude images have."""
    real = image + rng.normal(0.0, sigma, size=image.shape).astype(np.float32)
    imaginary = rng.normal(0.0, sigma, size=image.shape).astype(np.float32)
    return np.sqrt(real * real + imaginary * imaginary)


def simulate_subject(template: TissueTemplate, rng: np.random.Generator) -> SimulatedSubject:
    """Simulate one subject from ``template``.

    Parameters
    ----------
    template : TissueTemplate
        From :func:`pymia.datasets.template.load_template`.
    rng : numpy.random.Generator
        All randomness comes from here: the same generator state gives the same subject.

    Returns
    -------
    SimulatedSubject
        Images on the template grid.
    """
    demographics = sample_demographics(rng)
    head_scale = 1.03 if demographics.sex == "M" else 0.97  # male heads are a few per cent larger on average
    displacement = random_displacement(template.reference, rng, DeformationSettings(scale=head_scale))
    t1, gray_matter, white_matter = warp([template.t1, template.gray_matter, template.white_matter], displacement)

    brain = t1 > _BRAIN_THRESHOLD
    lost_gray_matter = gray_matter * np.float32(_ATROPHY_PER_YEAR * max(demographics.age - 20, 0))
    gray_matter = (gray_matter - lost_gray_matter) * brain
    white_matter = white_matter * brain
    t1 = (t1 + lost_gray_matter * np.float32(_T1_CSF - _T1_GRAY_MATTER)) * brain
    csf = np.clip(1.0 - gray_matter - white_matter, 0.0, 1.0) * brain

    # Background has probability 1 outside the brain and 0 inside, so the brain gets a tissue label.
    probabilities = np.stack([(~brain).astype(np.float32), white_matter, gray_matter, csf])
    labels = np.argmax(probabilities, axis=0).astype(np.uint8)
    t2 = (_T2_WHITE_MATTER * white_matter + _T2_GRAY_MATTER * gray_matter + _T2_CSF * csf) * brain

    sigma = _NOISE_FRACTION * _INTENSITY_SCALE
    images = []
    for contrast in (t1, t2):  # separate acquisitions: each has its own bias field and noise
        clean = contrast * _bias_field(contrast.shape, rng) * np.float32(_INTENSITY_SCALE)
        images.append((_rician(clean, sigma, rng) * brain).astype(np.float32))
    return SimulatedSubject(
        t1=images[0], t2=images[1], labels=labels, mask=brain.astype(np.uint8), demographics=demographics
    )


def is_example_folder(folder: Path) -> bool:
    """Whether ``folder`` holds example data written by pymia (its README starts as ours does)."""
    readme = Path(folder) / README_FILE_NAME
    if not readme.is_file():
        return False
    with readme.open(encoding="utf-8", errors="replace") as stream:
        return stream.readline().strip() == _README_FIRST_LINE


def _readme_text(n_subjects: int, seed: int, resolution_mm: float, template: TissueTemplate) -> str:
    size = " × ".join(str(n) for n in template.shape)
    files = "\n".join(f"  - {name}" for name in TEMPLATE_FILE_NAMES.values())
    return f"""{_README_FIRST_LINE}

These {n_subjects} subjects are SIMULATED, not scans of real people. They were generated by
pymia {pymia.__version__} (pymia-example-data --subjects {n_subjects} --seed {seed} --resolution {resolution_mm:g})
from the MNI ICBM152 nonlinear symmetric 2009a template shipped inside the nilearn {nilearn_version()} wheel:
{files}
Running the same command with the same versions reproduces these files byte for byte.

Per subject: a random smooth deformation (similarity transform and cubic B-spline, SimpleITK),
grey-matter loss growing with age, a T1-weighted and a T2-like image with their own smooth bias
field and Rician noise, a label map and a brain mask on a {resolution_mm:g} mm grid of {size} voxels
(z, y, x). Age, sex and score are random; the score drops with age.

Files
  Subject_<i>/Subject_<i>_T1.mha       T1-weighted image, float32, MetaImage (compressed)
  Subject_<i>/Subject_<i>_T2.mha       T2-like image, float32, MetaImage (compressed)
  Subject_<i>/Subject_<i>_GT.nii.gz    labels (uint8): 0 background, 1 white matter, 2 grey matter, 3 CSF
  Subject_<i>/Subject_<i>_MASK.nii.gz  brain mask (uint8)
  demographics.csv                     subject,age,sex,score
  manifest.csv                         subject,T1,T2,GT,MASK,age,sex,score (paths relative to this folder)

Licence of the template (applies to these derived images)
{MCGILL_COPYRIGHT}.
Permission to use, copy, modify, and distribute this software and its documentation for any
purpose and without fee is hereby granted, provided that the above copyright notice appear in all
copies. The authors and McGill University make no representations about the suitability of this
software for any purpose. It is provided "as is" without express or implied warranty.

Please cite
  V. S. Fonov, A. C. Evans, K. Botteron, C. R. Almli, R. C. McKinstry, D. L. Collins and the Brain
  Development Cooperative Group. Unbiased average age-appropriate atlases for pediatric studies.
  NeuroImage 54(1):313-327, 2011.
  V. S. Fonov, A. C. Evans, R. C. McKinstry, C. R. Almli and D. L. Collins. Unbiased nonlinear
  average age-appropriate brain templates from birth to adulthood. NeuroImage 47(Suppl. 1):S102, 2009.
  D. L. Collins, A. P. Zijdenbos, W. F. C. Baaré and A. C. Evans. ANIMAL+INSECT: improved cortical
  structure segmentation. Information Processing in Medical Imaging (IPMI), LNCS 1613:210-223, 1999.
"""


def _write_subject(folder: Path, number: int, subject: SimulatedSubject, reference: sitk.Image) -> SubjectRecord:
    name = subject_name(number)
    values = subject.demographics
    record = SubjectRecord(name, age=values.age, sex=values.sex, score=values.score)
    arrays = {"T1": subject.t1, "T2": subject.t2, "GT": subject.labels, "MASK": subject.mask}
    for key in IMAGE_KEYS:
        image = sitk.GetImageFromArray(arrays[key])
        image.CopyInformation(reference)
        record.files[key] = write_image(image, subject_file(folder, name, key, DEFAULT_FILE_SUFFIXES[key]))
    return record


def generate_brain_dataset(
    output_dir: str | Path,
    *,
    n_subjects: int = 8,
    seed: int = 0,
    resolution_mm: float = 2.0,
    progress: bool = True,
    overwrite: bool = False,
) -> Path:
    """Simulate ``n_subjects`` brain MRI subjects and write them in the example-data layout.

    The folder is written next to ``output_dir`` first and renamed when complete, so an interrupted
    run never leaves a folder that looks finished. See :mod:`pymia.datasets.layout` for the files.

    Parameters
    ----------
    output_dir : str or pathlib.Path
        Folder to create. If it exists and is not empty, ``overwrite`` must be set, and it must
        hold example data written earlier (pymia never deletes other folders).
    n_subjects : int, default 8
        Number of subjects, ``Subject_1`` ... ``Subject_<n>``. Subject *i* depends only on
        ``seed`` and *i*, so more subjects extend the same cohort.
    seed : int, default 0
        Non-negative seed; the same seed and versions give byte-identical files.
    resolution_mm : float, default 2.0
        Isotropic voxel size in mm, from 1 (the template's resolution; about 10× slower) to 10.
    progress : bool, default True
        Show a progress bar (tqdm) on stderr.
    overwrite : bool, default False
        Replace an existing example folder.

    Returns
    -------
    pathlib.Path
        Path of ``manifest.csv`` in ``output_dir``.

    Raises
    ------
    MissingDependencyError
        nilearn (the ``examples`` extra) is not installed.
    OutputExistsError
        ``output_dir`` is not empty and ``overwrite`` is False, or it is not an example folder.

    Examples
    --------
    >>> manifest = generate_brain_dataset("example-data", n_subjects=2, progress=False)  # doctest: +SKIP
    >>> manifest.name  # doctest: +SKIP
    'manifest.csv'
    """
    if isinstance(n_subjects, bool) or int(n_subjects) != n_subjects or n_subjects < 1:
        raise InvalidInputError(f"n_subjects {n_subjects!r} must be a positive integer")
    if isinstance(seed, bool) or int(seed) != seed or seed < 0:
        raise InvalidInputError(f"seed {seed!r} must be a non-negative integer")
    output_dir = Path(output_dir)
    check_target_folder(output_dir, overwrite=overwrite, is_replaceable=is_example_folder)
    template = load_template(resolution_mm)

    staging = new_staging_folder(output_dir)
    try:
        records = []
        numbers = tqdm(range(1, int(n_subjects) + 1), desc="Simulating subjects", unit="subject", disable=not progress)
        for number in numbers:
            subject = simulate_subject(template, np.random.default_rng([int(seed), number]))
            records.append(_write_subject(staging, number, subject, template.reference))
        write_tables(staging, records)
        readme = _readme_text(int(n_subjects), int(seed), float(resolution_mm), template)
        (staging / README_FILE_NAME).write_text(readme, encoding="utf-8")
        replace_folder(staging, output_dir, overwrite=overwrite, is_replaceable=is_example_folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return output_dir / MANIFEST_FILE_NAME
