"""One call from subject files to a finished pymia HDF5 dataset: :func:`create_dataset`."""

from __future__ import annotations

import concurrent.futures
import os
import pathlib
from collections.abc import Callable, Sequence

from pymia.data.creation.callback import get_default_callbacks
from pymia.data.creation.fileloader import Load, LoadDefault
from pymia.data.creation.geometry import DEFAULT_TOLERANCE
from pymia.data.creation.traverser import Traverser
from pymia.data.creation.writer import Hdf5Writer
from pymia.data.storage.hdf5_writer import Hdf5Layout
from pymia.data.subjectfile import SubjectFile
from pymia.errors import InvalidInputError

__all__ = ["create_dataset"]


def create_dataset(
    subject_files: Sequence[SubjectFile],
    output: str | os.PathLike,
    *,
    transform: Callable[[dict], dict] | None = None,
    load: Load | None = None,
    meta_only: bool = False,
    anonymize: bool = False,
    anonymize_salt: str = "",
    layout: Hdf5Layout | None = None,
    executor: concurrent.futures.Executor | None = None,
    workers: int | None = None,
    progress: bool = True,
    overwrite: bool = False,
    resample: bool = False,
    geometry_tolerance: float = DEFAULT_TOLERANCE,
    hashes: bool = True,
) -> pathlib.Path:
    """Write subjects into a pymia HDF5 dataset, atomically, and return its path.

    Parameters
    ----------
    subject_files : sequence of SubjectFile
        The subjects, e.g. from :func:`~pymia.data.creation.discovery.subjects_from_folder`.
    output : path-like
        The ``.h5`` file to create.
    transform : callable, optional
        Applied to each subject's ``{category: array, ...}`` dictionary before writing (e.g.
        ``IntensityNormalization(loop_axis=-1)`` for a per-channel z-score); its repr is stored.
    load : Load, optional
        Entry loader; default :class:`~pymia.data.creation.fileloader.LoadDefault`.
    meta_only : bool, default False
        Store no voxels of image categories, only metadata and file paths.
    anonymize : bool, default False
        Store pseudonyms instead of subject ids, and no file paths or names.
    anonymize_salt : str
        Secret mixed into the pseudonyms.
    layout : Hdf5Layout, optional
        Chunking/compression of the voxel datasets (default contiguous, uncompressed).
    executor : concurrent.futures.Executor, optional
        Load subjects in parallel with this executor (the caller owns and shuts it down).
    workers : int, optional
        If given (> 1) and no ``executor``, load with a process pool of this many workers.
    progress : bool, default True
        Show a progress bar.
    overwrite : bool, default False
        Replace an existing ``output``.
    resample : bool, default False
        Resample images whose grid differs from the subject's first image instead of raising.
    geometry_tolerance : float
        Tolerance (mm) of the geometry comparison.
    hashes : bool, default True
        Store SHA-256 hashes of the raw files.

    Returns
    -------
    pathlib.Path
        ``output``.
    """
    if meta_only and anonymize:
        raise InvalidInputError(
            "meta_only with anonymize would store neither voxels nor file paths; drop one of the two options"
        )
    if workers is not None and workers < 1:
        raise InvalidInputError(f"workers must be at least 1, got {workers}")
    output = pathlib.Path(output)
    own_executor = None
    if executor is None and workers is not None and workers > 1:
        executor = own_executor = concurrent.futures.ProcessPoolExecutor(max_workers=workers)
    try:
        with Hdf5Writer(output, overwrite=overwrite, layout=layout) as writer:
            Traverser().traverse(
                subject_files,
                load=load if load is not None else LoadDefault(),
                callback=get_default_callbacks(writer, meta_only=meta_only),
                transform=transform,
                executor=executor,
                progress=progress,
                geometry_tolerance=geometry_tolerance,
                resample=resample,
                anonymize=anonymize,
                anonymize_salt=anonymize_salt,
                hashes=hashes,
            )
    finally:
        if own_executor is not None:
            own_executor.shutdown(cancel_futures=True)
    return output
