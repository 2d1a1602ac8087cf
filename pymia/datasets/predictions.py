"""Plausible "network predictions" of example subjects, for evaluation demos without training.

A prediction is the subject's label map with realistic errors: boundaries moved by a small smooth
deformation, blurred and jittered by smooth per-label noise. On the 2 mm brain example data this gives Dice values
of about 0.9 for white and grey matter and 0.6–0.7 for the thin CSF, as a decent segmentation network
would score.
"""

from __future__ import annotations

import csv
import shutil
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import SimpleITK as sitk
from scipy import ndimage
from tqdm import tqdm

from pymia.datasets.deformation import DeformationSettings, random_displacement, warp
from pymia.datasets.layout import MANIFEST_FILE_NAME, check_target_folder, new_staging_folder, replace_folder
from pymia.errors import InvalidInputError, MissingFileError

__all__ = ["PREDICTIONS_FILE_NAME", "generate_predictions", "perturb_labels", "write_references"]

PREDICTIONS_FILE_NAME = "predictions.csv"
"""Table of a prediction folder: ``subject,prediction,reference`` (paths relative to its folder)."""
PREDICTION_FOLDER = "predictions"
REFERENCE_FOLDER = "references"


def _image_suffix(path: Path) -> str:
    return ".nii.gz" if path.name.lower().endswith(".nii.gz") else path.suffix


_BOUNDARY_DEFORMATION = DeformationSettings(
    control_mesh=8, bspline_std_mm=1.0, rotation_std_degrees=0.0, scale_std=0.0, translation_std_mm=0.0
)


def perturb_labels(
    labels: np.ndarray,
    reference: sitk.Image,
    rng: np.random.Generator,
    *,
    noise_std: float = 0.12,
    noise_smoothness_voxels: float = 2.0,
) -> np.ndarray:
    """Return a corrupted copy of ``labels`` that looks like an imperfect automatic segmentation.

    Parameters
    ----------
    labels : numpy.ndarray
        Integer label map in numpy order (z, y, x) or (y, x); label 0 is background.
    reference : SimpleITK.Image
        An image on the grid of ``labels`` (for the deformation's physical geometry, mm).
    rng : numpy.random.Generator
        Source of randomness.
    noise_std : float, default 0.12
        Strength of the smooth noise added to each label's soft membership (0 to 1 scale).
    noise_smoothness_voxels : float, default 2.0
        Gaussian width of that noise in voxels: larger gives larger blobs of errors.

    Returns
    -------
    numpy.ndarray
        Label map of the same shape and dtype, with only the values present in ``labels``.
    """
    values = np.unique(labels)
    displacement = random_displacement(reference, rng, _BOUNDARY_DEFORMATION)
    memberships = [ndimage.gaussian_filter((labels == value).astype(np.float32), 1.0) for value in values]
    memberships = warp(memberships, displacement, order=1)
    for membership in memberships:
        noise = ndimage.gaussian_filter(
            rng.normal(0.0, 1.0, size=labels.shape).astype(np.float32), noise_smoothness_voxels
        )
        noise *= np.float32(noise_std / max(float(noise.std()), 1e-12))
        membership += noise
    return values[np.argmax(np.stack(memberships), axis=0)].astype(labels.dtype)


def _is_prediction_folder(folder: Path) -> bool:
    return (Path(folder) / PREDICTIONS_FILE_NAME).is_file()


def _read_manifest(example_dir: Path) -> list[dict[str, str]]:
    manifest = example_dir / MANIFEST_FILE_NAME
    if not manifest.is_file():
        raise MissingFileError(
            f"{manifest} does not exist; point to a folder written by pymia-example-data (generate_brain_dataset)"
        )
    with manifest.open(newline="", encoding="utf-8") as stream:
        rows = list(csv.DictReader(stream))
    if not rows or "GT" not in rows[0] or "subject" not in rows[0]:
        raise InvalidInputError(f"{manifest} has no rows or lacks the columns 'subject' and 'GT'")
    return rows


def _copy_reference(example_dir: Path, row: dict[str, str], target_folder: Path) -> Path:
    """Copy a manifest row's ``GT`` file to ``target_folder/<subject><suffix>`` and return the copy."""
    reference_path = example_dir / row["GT"]
    if not reference_path.is_file():
        raise MissingFileError(f"label file {reference_path} of subject {row['subject']} does not exist")
    target = target_folder / f"{row['subject']}{_image_suffix(reference_path)}"
    shutil.copyfile(reference_path, target)
    return target


def write_references(
    example_dir: str | Path, output_dir: str | Path, *, subjects: Iterable[str] | None = None
) -> list[Path]:
    """Copy each subject's ``GT`` labels to ``output_dir/<subject>.nii.gz`` (flat, as ``pymia-evaluate`` pairs them).

    Parameters
    ----------
    example_dir : str or pathlib.Path
        A folder written by :func:`pymia.datasets.brain.generate_brain_dataset`.
    output_dir : str or pathlib.Path
        Folder for the copies (created if missing; existing copies are replaced).
    subjects : iterable of str, optional
        Only these subjects (e.g. those a network predicted); default all of the manifest.

    Returns
    -------
    list of pathlib.Path
        The written files, in manifest order.
    """
    example_dir, output_dir = Path(example_dir), Path(output_dir)
    rows = _read_manifest(example_dir)
    if subjects is not None:
        wanted = set(subjects)
        unknown = wanted - {row["subject"] for row in rows}
        if unknown:
            raise InvalidInputError(f"subjects {sorted(unknown)} are not in {example_dir / MANIFEST_FILE_NAME}")
        rows = [row for row in rows if row["subject"] in wanted]
    output_dir.mkdir(parents=True, exist_ok=True)
    return [_copy_reference(example_dir, row, output_dir) for row in rows]


def generate_predictions(
    example_dir: str | Path,
    output_dir: str | Path,
    *,
    seed: int = 0,
    progress: bool = True,
    overwrite: bool = False,
) -> Path:
    """Write a perturbed copy of every subject's ``GT`` labels, as if predicted by a network.

    Layout, flat as ``pymia-evaluate --reference REF_DIR --prediction PRED_DIR`` expects (files
    pair by name)::

        output_dir/predictions/<subject>.nii.gz   perturbed labels, same geometry as the GT
        output_dir/references/<subject>.nii.gz    a byte copy of the subject's GT
        output_dir/predictions.csv                subject,prediction,reference (relative paths)

    Parameters
    ----------
    example_dir : str or pathlib.Path
        A folder written by :func:`pymia.datasets.brain.generate_brain_dataset` (or
        :func:`pymia.testing.phantoms.write_phantom_subjects`).
    output_dir : str or pathlib.Path
        Folder to create; keep it outside ``example_dir`` so folder-mode dataset creation does not
        mistake it for a subject.
    seed : int, default 0
        Same seed, same files (byte-identical).
    progress : bool, default True
        Show a progress bar.
    overwrite : bool, default False
        Replace an existing prediction folder (one holding ``predictions.csv``).

    Returns
    -------
    pathlib.Path
        Path of ``predictions.csv``.
    """
    example_dir, output_dir = Path(example_dir), Path(output_dir)
    rows = _read_manifest(example_dir)
    check_target_folder(output_dir, overwrite=overwrite, is_replaceable=_is_prediction_folder)
    staging = new_staging_folder(output_dir)
    try:
        (staging / PREDICTION_FOLDER).mkdir()
        (staging / REFERENCE_FOLDER).mkdir()
        table = []
        for number, row in enumerate(tqdm(rows, desc="Predicting", unit="subject", disable=not progress), start=1):
            subject = row["subject"]
            reference_copy = _copy_reference(example_dir, row, staging / REFERENCE_FOLDER)
            reference = sitk.ReadImage(str(reference_copy))
            labels = sitk.GetArrayFromImage(reference)
            predicted = perturb_labels(labels, reference, np.random.default_rng([int(seed), number]))
            image = sitk.GetImageFromArray(predicted)
            image.CopyInformation(reference)
            suffix = _image_suffix(reference_copy)
            prediction_relative = f"{PREDICTION_FOLDER}/{subject}{suffix}"
            reference_relative = f"{REFERENCE_FOLDER}/{reference_copy.name}"
            sitk.WriteImage(image, str(staging / prediction_relative), useCompression=True)
            table.append([subject, prediction_relative, reference_relative])
        with (staging / PREDICTIONS_FILE_NAME).open("w", newline="", encoding="utf-8") as stream:
            writer = csv.writer(stream, lineterminator="\n")
            writer.writerow(["subject", "prediction", "reference"])
            writer.writerows(table)
        replace_folder(staging, output_dir, overwrite=overwrite, is_replaceable=_is_prediction_folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return output_dir / PREDICTIONS_FILE_NAME
