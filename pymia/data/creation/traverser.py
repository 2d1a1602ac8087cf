"""The traverser walks the subjects: load each entry, check geometry, stack, transform, hand to callbacks.

Loading (the costly part) can run in parallel through any :class:`concurrent.futures.Executor`; the
results are handed to the callbacks (and so to the single writer) in subject order, in this process.
"""

from __future__ import annotations

import collections
import concurrent.futures
import hashlib
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from tqdm.auto import tqdm

import pymia.data.definition as defs
from pymia.data.creation.callback import (
    KEY_ANONYMIZED,
    KEY_HASHES,
    KEY_IMAGE_CATEGORIES,
    KEY_N_SUBJECTS,
    KEY_SUBJECT_HASH,
    KEY_SUBJECTS,
    KEY_TRANSFORM,
    Callback,
)
from pymia.data.creation.fileloader import Load, LoadDefault
from pymia.data.creation.geometry import DEFAULT_TOLERANCE, require_same_geometry, resample_onto
from pymia.data.creation.hashing import hash_entry, hash_subject
from pymia.data.subjectfile import SubjectFile
from pymia.errors import InvalidInputError

__all__ = ["Traverser", "default_concat", "pseudonym"]


def default_concat(data: list[np.ndarray]) -> np.ndarray:
    """Stack the entries of a category on a new last (channel) axis: (z, y, x) → (z, y, x, c)."""
    return np.stack(data, axis=-1)


def pseudonym(subject: str, salt: str = "") -> str:
    """Return the stable pseudonym of a subject id: ``'anon-'`` plus 12 hex digits of SHA-256(salt + id)."""
    return "anon-" + hashlib.sha256((salt + subject).encode()).hexdigest()[:12]


class Traverser:
    """Walk subjects and feed the loaded, stacked and transformed data to a callback.

    Parameters
    ----------
    categories : sequence of str, optional
        The categories to process (e.g. ``('images', 'labels')``); default all categories of the
        first subject.
    """

    def __init__(self, categories: Sequence[str] | None = None) -> None:
        if isinstance(categories, str):
            categories = (categories,)
        self.categories = tuple(categories) if categories is not None else None

    def traverse(
        self,
        subject_files: Sequence[SubjectFile],
        load: Load | Callable = LoadDefault(),  # noqa: B008 - stateless default loader, as in pymia 0.3.4
        callback: Callback | None = None,
        transform: Callable[[dict], dict] | None = None,
        concat_fn: Callable[[list[np.ndarray]], np.ndarray] = default_concat,
        *,
        executor: concurrent.futures.Executor | None = None,
        progress: bool = True,
        geometry_tolerance: float = DEFAULT_TOLERANCE,
        resample: bool = False,
        anonymize: bool = False,
        anonymize_salt: str = "",
        hashes: bool = True,
    ) -> None:
        """Load every subject and call ``callback.on_start``, ``on_subject`` (in order) and ``on_end``.

        Parameters
        ----------
        subject_files : sequence of SubjectFile
            The subjects; ids must be unique and all subjects must have the same categories and entries.
        load : Load
            Loads one entry; default :class:`~pymia.data.creation.fileloader.LoadDefault`.
        callback : Callback
            Receives the data, e.g. :func:`~pymia.data.creation.callback.get_default_callbacks`.
        transform : callable, optional
            Applied to each subject before the callbacks, as in pymia 0.3.4, with the dictionary
            ``{'subject_index': i, <category>: array, '<category>_properties': ImageProperties or None}``;
            the category arrays of the returned dictionary are written.
        concat_fn : callable
            Stacks the entry arrays of a category (default: on a new last axis). Vector images are
            concatenated on their component axis instead, one channel per component.
        executor : concurrent.futures.Executor, optional
            Load subjects in parallel (e.g. ``ProcessPoolExecutor`` or a ``dask.distributed`` client's
            ``get_executor()``). Default: load in this process, one subject after the other.
        progress : bool, default True
            Show a tqdm progress bar.
        geometry_tolerance : float
            Tolerance (mm) for the geometry comparison of a subject's images.
        resample : bool, default False
            Resample image entries whose grid differs onto the first image's grid (linear for the
            ``images`` category, nearest neighbour for the others) instead of raising.
        anonymize : bool, default False
            Replace subject ids by stable pseudonyms (see :func:`pseudonym`).
        anonymize_salt : str
            Secret mixed into the pseudonyms so that they cannot be recomputed from known ids.
        hashes : bool, default True
            Compute SHA-256 hashes of the raw files.
        """
        if callback is None:
            raise InvalidInputError("traverse needs a callback, e.g. get_default_callbacks(writer)")
        subject_files = list(subject_files)
        if not subject_files:
            raise InvalidInputError("no subjects to traverse; give at least one SubjectFile")
        categories = self._check_subjects(subject_files)
        ids = [sf.subject for sf in subject_files]
        if anonymize:
            ids = [pseudonym(subject, anonymize_salt) for subject in ids]
        task = _SubjectLoader(categories, load, transform, concat_fn, geometry_tolerance, resample, hashes)

        with tqdm(total=len(subject_files), desc="creating dataset", unit="subject", disable=not progress) as bar:
            for index, loaded in enumerate(_run_in_order(task, subject_files, executor)):
                if index == 0:
                    names = loaded["names"]
                    start = {
                        defs.KEY_SUBJECT_FILES: subject_files,
                        defs.KEY_CATEGORIES: categories,
                        KEY_SUBJECTS: ids,
                        KEY_N_SUBJECTS: len(ids),
                        KEY_TRANSFORM: "" if transform is None else repr(transform),
                        KEY_ANONYMIZED: anonymize,
                        KEY_IMAGE_CATEGORIES: [c for c in categories if loaded["properties"][c] is not None],
                    }
                    start.update({defs.KEY_PLACEHOLDER_NAMES.format(c): names[c] for c in categories})
                    callback.on_start(start)
                elif loaded["names"] != names:
                    raise InvalidInputError(
                        f"subject '{subject_files[index].subject}' has channels {loaded['names']} but subject "
                        f"'{subject_files[0].subject}' has {names}; all subjects need the same number of components"
                    )
                params = {
                    defs.KEY_SUBJECT_FILES: subject_files,
                    defs.KEY_SUBJECT_INDEX: index,
                    defs.KEY_SUBJECT: ids[index],
                    defs.KEY_CATEGORIES: categories,
                    KEY_N_SUBJECTS: len(ids),
                    KEY_ANONYMIZED: anonymize,
                    KEY_HASHES: loaded["hashes"],
                    KEY_SUBJECT_HASH: loaded["subject_hash"],
                }
                params.update({defs.KEY_PLACEHOLDER_NAMES.format(c): names[c] for c in categories})
                for category in categories:
                    params[category] = loaded["data"][category]
                    params[defs.KEY_PLACEHOLDER_PROPERTIES.format(category)] = loaded["properties"][category]
                callback.on_subject(params)
                bar.update(1)
        callback.on_end(start)

    def _check_subjects(self, subject_files: list[SubjectFile]) -> list[str]:
        for sf in subject_files:
            if not isinstance(sf, SubjectFile):
                raise InvalidInputError(f"traverse needs SubjectFile objects, got {type(sf).__name__}: {sf!r}")
        duplicates = [s for s, count in collections.Counter(sf.subject for sf in subject_files).items() if count > 1]
        if duplicates:
            raise InvalidInputError(f"duplicate subject ids {duplicates}; every subject needs its own id")
        first = subject_files[0]
        categories = list(self.categories if self.categories is not None else first.categories)
        for sf in subject_files:
            for category in categories:
                if category not in sf.categories:
                    raise InvalidInputError(
                        f"subject '{sf.subject}' has no category '{category}' (it has {list(sf.categories)}); "
                        "every subject needs the same categories"
                    )
                expected = list(first.categories[category].entries) if category in first.categories else []
                found = list(sf.categories[category].entries)
                if found != expected:
                    missing = [e for e in expected if e not in found]
                    detail = f"misses {missing}" if missing else f"has entries {found} instead of {expected}"
                    raise InvalidInputError(
                        f"subject '{sf.subject}', category '{category}' {detail} (subject '{first.subject}' has "
                        f"{expected}); give every subject the same entries in the same order"
                    )
        return categories


def _run_in_order(task: Callable, subject_files: list[SubjectFile], executor: Any):
    """Yield ``task(index, sf)`` for each subject in order, running a few subjects ahead in ``executor``."""
    if executor is None:
        for index, sf in enumerate(subject_files):
            yield task(index, sf)
        return
    ahead = collections.deque()
    pending = iter(enumerate(subject_files))
    window = 2 * max(1, getattr(executor, "_max_workers", 2))  # bounds the memory held by loaded subjects
    for index, sf in pending:
        ahead.append(executor.submit(task, index, sf))
        if len(ahead) >= window:
            break
    while ahead:
        result = ahead.popleft().result()
        following = next(pending, None)
        if following is not None:
            ahead.append(executor.submit(task, *following))
        yield result


class _SubjectLoader:
    """Load, check, stack and transform one subject (picklable, so it runs in worker processes)."""

    def __init__(self, categories, load, transform, concat_fn, tolerance, resample, hashes) -> None:
        self.categories = categories
        self.load = load
        self.transform = transform
        self.concat_fn = concat_fn
        self.tolerance = tolerance
        self.resample = resample
        self.hashes = hashes

    def __call__(self, index: int, sf: SubjectFile) -> dict:
        data, properties, names, hashes = {}, {}, {}, {}
        reference = None  # (entry, file, properties) of the subject's first image
        for category in self.categories:
            arrays, channel_names, vectors = [], [], []
            category_properties = None
            entries = sf.categories[category].entries
            for entry, file in entries.items():
                array, props = self.load(file, entry, category, sf.subject)
                array = np.asarray(array)
                if props is not None:
                    if reference is None:
                        reference = (entry, file, props)
                    elif self.resample and not props.is_same_geometry(reference[2], tolerance=self.tolerance):
                        array, props = resample_onto(array, props, reference[2], nearest=category != "images")
                    else:
                        require_same_geometry(sf.subject, reference, (entry, file, props), self.tolerance)
                    category_properties = category_properties or props
                is_vector = props is not None and props.components > 1
                vectors.append(is_vector)
                channel_names.extend([f"{entry}:{k}" for k in range(props.components)] if is_vector else [entry])
                arrays.append(array)
            if any(vectors):
                arrays = [a if v else a[..., np.newaxis] for a, v in zip(arrays, vectors)]
                data[category] = np.concatenate(arrays, axis=-1)
            else:
                data[category] = self.concat_fn(arrays)
            properties[category] = category_properties
            names[category] = channel_names
            hashes[category] = [hash_entry(file) for file in entries.values()] if self.hashes else []
        if self.transform is not None:
            # the transform sees what it saw in pymia 0.3.4: subject index, arrays and image properties
            sample = {defs.KEY_SUBJECT_INDEX: index, **data}
            sample.update({defs.KEY_PLACEHOLDER_PROPERTIES.format(c): p for c, p in properties.items()})
            sample = self.transform(sample)
            data = {category: sample[category] for category in self.categories}
        subject_hash = hash_subject(h for c in self.categories for h in hashes[c]) if self.hashes else ""
        return {
            "data": data,
            "properties": properties,
            "names": names,
            "hashes": hashes,
            "subject_hash": subject_hash,
        }
