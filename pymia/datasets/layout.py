"""The on-disk layout of pymia's example data: one folder per subject plus two CSV tables.

Both the realistic brain generator (:mod:`pymia.datasets.brain`) and the test phantoms
(:func:`pymia.testing.phantoms.write_phantom_subjects`) write this layout, so that
``pymia-create-dataset`` reads either in folder mode or manifest mode::

    DIR/Subject_1/Subject_1_T1.mha      (MetaImage, compressed)
    DIR/Subject_1/Subject_1_T2.mha
    DIR/Subject_1/Subject_1_GT.nii.gz   (labels)
    DIR/Subject_1/Subject_1_MASK.nii.gz
    DIR/demographics.csv                subject,age,sex,score
    DIR/manifest.csv                    subject,T1,T2,GT,MASK,age,sex,score (paths relative to DIR)
"""

from __future__ import annotations

import csv
import shutil
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import SimpleITK as sitk

from pymia.errors import InvalidInputError, OutputExistsError

__all__ = [
    "DEFAULT_FILE_SUFFIXES",
    "DEMOGRAPHICS_COLUMNS",
    "DEMOGRAPHICS_FILE_NAME",
    "IMAGE_KEYS",
    "MANIFEST_FILE_NAME",
    "SUPPORTED_SUFFIXES",
    "SubjectRecord",
    "check_target_folder",
    "new_staging_folder",
    "replace_folder",
    "resolve_file_suffixes",
    "subject_file",
    "subject_name",
    "write_image",
    "write_tables",
]

IMAGE_KEYS: tuple[str, ...] = ("T1", "T2", "GT", "MASK")
"""The image entries of every example subject, in manifest column order."""

DEMOGRAPHICS_COLUMNS: tuple[str, ...] = ("age", "sex", "score")
"""The non-image columns: age in years (int), sex (``"F"`` or ``"M"``), a numeric score (float)."""

DEFAULT_FILE_SUFFIXES: dict[str, str] = {"T1": ".mha", "T2": ".mha", "GT": ".nii.gz", "MASK": ".nii.gz"}
"""File format of each entry: intensity images as MetaImage, label images as NIfTI."""

SUPPORTED_SUFFIXES: tuple[str, ...] = (".mha", ".mhd", ".nii.gz", ".nii", ".nrrd")

MANIFEST_FILE_NAME = "manifest.csv"
DEMOGRAPHICS_FILE_NAME = "demographics.csv"


@dataclass
class SubjectRecord:
    """One subject of an example folder: its image files and its non-image values.

    Attributes
    ----------
    subject : str
        Subject id, e.g. ``"Subject_1"``.
    files : dict of str to pathlib.Path
        Absolute path of each image entry (keys of :data:`IMAGE_KEYS`).
    age : int
        Age in years.
    sex : str
        ``"F"`` or ``"M"``.
    score : float
        A numeric clinical score (written with one decimal).
    """

    subject: str
    files: dict[str, Path] = field(default_factory=dict)
    age: int = 0
    sex: str = "F"
    score: float = 0.0


def subject_name(number: int) -> str:
    """Return the id of the ``number``-th subject (1-based), e.g. ``"Subject_1"``."""
    return f"Subject_{number}"


def subject_file(folder: Path, subject: str, key: str, suffix: str) -> Path:
    """Return the path ``folder/<subject>/<subject>_<key><suffix>`` of one entry of one subject."""
    return Path(folder) / subject / f"{subject}_{key}{suffix}"


def resolve_file_suffixes(formats: str | Mapping[str, str] | None) -> dict[str, str]:
    """Turn the ``formats`` argument of the writers into one file suffix per image entry.

    Parameters
    ----------
    formats : str or mapping or None
        ``None`` for :data:`DEFAULT_FILE_SUFFIXES`; one suffix (e.g. ``".nii.gz"``) for every
        entry; or a mapping from entry key to suffix, where missing keys keep their default.

    Returns
    -------
    dict of str to str
        A suffix for each key of :data:`IMAGE_KEYS`.
    """
    suffixes = dict(DEFAULT_FILE_SUFFIXES)
    if formats is None:
        return suffixes
    if isinstance(formats, str):
        requested = dict.fromkeys(IMAGE_KEYS, formats)
    else:
        requested = dict(formats)
    unknown_keys = sorted(set(requested) - set(IMAGE_KEYS))
    if unknown_keys:
        raise InvalidInputError(f"unknown image entries {unknown_keys} in formats; use a subset of {list(IMAGE_KEYS)}")
    for key, suffix in requested.items():
        normalized = suffix if suffix.startswith(".") else f".{suffix}"
        if normalized not in SUPPORTED_SUFFIXES:
            raise InvalidInputError(
                f"unsupported file format {suffix!r} for entry {key!r}; use one of {list(SUPPORTED_SUFFIXES)}"
            )
        suffixes[key] = normalized
    return suffixes


def write_image(image: sitk.Image, path: Path) -> Path:
    """Write ``image`` compressed to ``path``, creating the parent folder.

    The output is byte-identical for identical images: SimpleITK's gzip stream for ``.nii.gz``
    carries no time stamp and MetaImage headers hold no date.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sitk.WriteImage(image, str(path), useCompression=True)
    return path


def _relative(path: Path, folder: Path) -> str:
    return Path(path).resolve().relative_to(Path(folder).resolve()).as_posix()


def write_tables(folder: Path, records: Sequence[SubjectRecord]) -> tuple[Path, Path]:
    """Write ``demographics.csv`` and ``manifest.csv`` for ``records`` into ``folder``.

    Parameters
    ----------
    folder : pathlib.Path
        The example folder; manifest paths are written relative to it, with ``/`` separators.
    records : sequence of SubjectRecord
        The subjects, in the order of the rows.

    Returns
    -------
    tuple of pathlib.Path
        ``(manifest_path, demographics_path)``.
    """
    folder = Path(folder)
    manifest_path = folder / MANIFEST_FILE_NAME
    demographics_path = folder / DEMOGRAPHICS_FILE_NAME
    with demographics_path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(["subject", *DEMOGRAPHICS_COLUMNS])
        for record in records:
            writer.writerow([record.subject, record.age, record.sex, f"{record.score:.1f}"])
    with manifest_path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(["subject", *IMAGE_KEYS, *DEMOGRAPHICS_COLUMNS])
        for record in records:
            paths = [_relative(record.files[key], folder) for key in IMAGE_KEYS]
            writer.writerow([record.subject, *paths, record.age, record.sex, f"{record.score:.1f}"])
    return manifest_path, demographics_path


def new_staging_folder(target: Path) -> Path:
    """Create and return an empty hidden folder next to ``target`` to write into before renaming."""
    target = Path(target)
    staging = target.parent / f".{target.name}.partial-{uuid.uuid4().hex[:8]}"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging.mkdir()
    except OSError as error:
        raise InvalidInputError(
            f"cannot write the output folder {target}: {error.strerror or error}; choose a writable location"
        ) from error
    return staging


def replace_folder(
    staging: Path, target: Path, *, overwrite: bool, is_replaceable: Callable[[Path], bool] | None = None
) -> Path:
    """Move the finished ``staging`` folder to ``target``, replacing an old one only if allowed.

    Parameters
    ----------
    staging : pathlib.Path
        A complete output folder (from :func:`new_staging_folder`).
    target : pathlib.Path
        The final location.
    overwrite : bool
        Whether an existing non-empty ``target`` may be replaced.
    is_replaceable : callable, optional
        Tells whether an existing non-empty ``target`` was written by pymia and may therefore be
        deleted, so that ``overwrite`` never deletes a user's folder. Default: any folder may be.

    Returns
    -------
    pathlib.Path
        ``target``.
    """
    staging, target = Path(staging), Path(target)
    if target.exists():
        check_target_folder(target, overwrite=overwrite, is_replaceable=is_replaceable)
        if target.is_dir():
            shutil.rmtree(target)
    staging.rename(target)
    return target


def check_target_folder(target: Path, *, overwrite: bool, is_replaceable: Callable[[Path], bool] | None = None) -> None:
    """Raise if ``target`` exists and may not be replaced (see :func:`replace_folder`)."""
    target = Path(target)
    if not target.exists():
        return
    if not target.is_dir():
        raise OutputExistsError(f"output {target} exists and is not a folder; choose another output folder")
    if not any(target.iterdir()):
        return
    if not overwrite:
        raise OutputExistsError(
            f"output folder {target} exists and is not empty; pass --overwrite (overwrite=True) to replace it"
        )
    if is_replaceable is not None and not is_replaceable(target):
        raise OutputExistsError(
            f"output folder {target} is not empty and was not written by pymia; refusing to delete it even "
            "with overwrite, choose an empty or new folder"
        )
