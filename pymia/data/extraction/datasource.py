"""The datasource: a sequence of samples (dicts of numpy arrays) cut from a pymia HDF5 dataset.

:class:`PymiaDatasource` combines a reader, an indexing strategy (how volumes are cut into samples),
an extractor (what goes into a sample) and an optional transform. It is framework-free; the PyTorch
and TensorFlow adapters wrap it. It is picklable and opens the file lazily in each process.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

import pymia.data.definition as defs
from pymia.data.extraction.data_extractor import DataExtractor, read_category
from pymia.data.extraction.extractor_base import Extractor
from pymia.data.extraction.indexing import EmptyIndexing, IndexingStrategy, SliceIndexing
from pymia.data.extraction.sample_index import SampleIndex
from pymia.data.indexexpression import IndexExpression
from pymia.data.storage.hdf5_reader import Hdf5Reader, get_reader
from pymia.errors import InvalidInputError

__all__ = ["PymiaDatasource"]

Transform = Callable[[dict[str, Any]], dict[str, Any]]


class _SampleLocations(Sequence):
    """Read-only view of all ``(subject_index, IndexExpression)`` pairs (pymia 0.3.4's ``indices``)."""

    def __init__(self, datasource: PymiaDatasource) -> None:
        self._datasource = datasource

    def __len__(self) -> int:
        return len(self._datasource)

    def __getitem__(self, item: int) -> tuple[int, IndexExpression]:  # type: ignore[override]
        return self._datasource.sample_location(item)


class PymiaDatasource:
    """Samples of a pymia HDF5 dataset.

    Parameters
    ----------
    dataset_path : str or os.PathLike
        The ``.h5`` dataset.
    indexing_strategy : IndexingStrategy, optional
        How each subject is cut into samples. Default: :class:`EmptyIndexing` (whole volumes).
    extractor : Extractor, optional
        What a sample holds. Default: ``DataExtractor(('images',))``.
    transform : callable, optional
        ``transform(sample) -> sample``, applied after extraction.
    subject_subset : sequence of int, optional
        Indices of the subjects to use (e.g. a training split); default all, in dataset order.
    init_reader_once : bool, default True
        Keep the file open between samples. ``False`` opens and closes it for every sample (slow;
        for files that change between reads).

    Examples
    --------
    >>> ds = PymiaDatasource(path, SliceIndexing(), DataExtractor(('images', 'labels')))  # doctest: +SKIP
    >>> sample = ds[0]                                             # doctest: +SKIP
    >>> sample['images'].shape, sample['sample_index']             # doctest: +SKIP
    ((Y, X, C), 0)

    Notes
    -----
    The sample index is two int64 arrays with one entry per subject (built once, vectorised): a
    sample's subject is found by binary search and its region computed on demand, so start-up time
    and memory do not grow with the number of samples.
    """

    def __init__(
        self,
        dataset_path: str | os.PathLike[str],
        indexing_strategy: IndexingStrategy | None = None,
        extractor: Extractor | None = None,
        transform: Transform | None = None,
        subject_subset: Sequence[int] | None = None,
        init_reader_once: bool = True,
    ) -> None:
        self.dataset_path = os.fspath(dataset_path)
        self.reader: Hdf5Reader = get_reader(self.dataset_path)  # type: ignore[assignment]
        self.indexing_strategy: IndexingStrategy = indexing_strategy or EmptyIndexing()
        self.extractor: Extractor = extractor if extractor is not None else DataExtractor()
        self.transform = transform
        self.subject_subset = None if subject_subset is None else [int(s) for s in subject_subset]
        self.init_reader_once = init_reader_once
        self._index: SampleIndex | None = None
        self._spatial_shapes: np.ndarray | None = None

    # -- index ------------------------------------------------------------------------------------
    @property
    def spatial_shapes(self) -> np.ndarray:
        """Spatial shape (numpy order) of every subject's images, int64 (n_subjects, n_axes)."""
        if self._spatial_shapes is None:
            self._spatial_shapes = self.reader.shapes(self.reader.category)[:, :-1]
        return self._spatial_shapes

    def spatial_shape(self, subject_index: int) -> tuple[int, ...]:
        """Spatial shape (z, y, x) — or (y, x) — of a subject's images in voxels."""
        return tuple(self.spatial_shapes[subject_index].tolist())

    @property
    def sample_index(self) -> SampleIndex:
        """The :class:`SampleIndex` (built on first use)."""
        if self._index is None:
            shapes = self.spatial_shapes
            n = len(shapes)
            if self.subject_subset is None:
                subjects = np.arange(n, dtype=np.int64)
            else:
                subjects = np.asarray(self.subject_subset, dtype=np.int64)
                bad = subjects[(subjects < 0) | (subjects >= n)]
                if len(bad):
                    raise InvalidInputError(
                        f"subject_subset holds indices {bad.tolist()} outside the {n} subjects of the dataset"
                    )
            self._index = SampleIndex(subjects, self.indexing_strategy.count(shapes[subjects]))
        return self._index

    @property
    def indices(self) -> Sequence[tuple[int, IndexExpression]]:
        """All ``(subject_index, IndexExpression)`` pairs, computed on access (pymia 0.3.4 attribute)."""
        return _SampleLocations(self)

    def _check_index(self, item: int) -> int:
        n = (self._index or self.sample_index).length
        index = int(item)
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError(f"sample index {item} is out of range for a datasource of {n} samples")
        return index

    def sample_location(self, item: int) -> tuple[int, IndexExpression]:
        """Where sample ``item`` sits: ``(subject_index, IndexExpression)``."""
        return self._location(self._check_index(item))

    def _location(self, index: int) -> tuple[int, IndexExpression]:
        subject_index, local_index = self.sample_index.locate(index)
        shape = self.spatial_shape(subject_index)
        return subject_index, self.indexing_strategy.locate(self.reader, subject_index, shape, local_index)

    def samples_of_subject(self, subject_index: int) -> range:
        """Sample numbers of a subject (empty when the subject is not in the datasource)."""
        return self.sample_index.samples_of(subject_index)

    def set_epoch(self, epoch: int) -> None:
        """Forward the epoch to the indexing strategy (random samplers draw new positions)."""
        self.indexing_strategy.set_epoch(epoch)

    # -- extraction -------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.sample_index)

    def __getitem__(self, item: int) -> dict[str, Any]:
        index = self._check_index(item)
        subject_index, index_expr = self._location(index)
        sample = self.direct_extract(self.extractor, subject_index, index_expr, self.transform)
        sample[defs.KEY_SAMPLE_INDEX] = index
        return sample

    def __getitems__(self, items: Sequence[int]) -> list[dict[str, Any]]:
        """Extract several samples (PyTorch ≥ 2 calls this with a batch's indices).

        Samples are read grouped by subject and in region order (sequential access), and
        returned in the order asked for.
        """
        indices = [self._check_index(i) for i in items]
        if not indices:
            return []
        subjects, _ = self.sample_index.locate_many(indices)
        order = np.lexsort((np.asarray(indices), subjects)).tolist()
        samples: list[dict[str, Any] | None] = [None] * len(indices)
        for position, sample in self._coalesced_slices(indices, order).items():
            samples[position] = sample
        for position in order:
            if samples[position] is None:
                samples[position] = self[indices[position]]
        return samples  # type: ignore[return-value]

    def _coalesced_slices(self, indices: list[int], order: list[int]) -> dict[int, dict[str, Any]]:
        """Neighbouring slices of one subject read as one block from chunked (h5py) storage.

        One hyperslab read instead of one per slice: chunks are found and decompressed once. Only
        for plain ``DataExtractor`` samples of a single-axis ``SliceIndexing``; memory-mapped data
        gains nothing from it and is read per sample.
        """
        extractor = self.extractor
        strategy = self.indexing_strategy
        if (
            type(extractor) is not DataExtractor
            or extractor.ignore_indexing
            or type(strategy) is not SliceIndexing
            or len(strategy.slice_axis) != 1
        ):
            return {}
        axis = strategy.slice_axis[0]
        first_subject = int(self.sample_index.locate(indices[order[0]])[0])
        if not any(self._is_chunked(category, first_subject) for category in extractor.categories):
            return {}  # memory-mapped (the default layout): per-sample reads are already copies of the slice
        runs: list[tuple[int, list[tuple[int, int]]]] = []  # (subject, [(position, slice number), ...])
        for position in order:
            subject_index, index_expr = self._location(indices[position])
            number = int(index_expr.expression[axis])  # type: ignore[arg-type]
            if runs and runs[-1][0] == subject_index and runs[-1][1][-1][1] + 1 == number:
                runs[-1][1].append((position, number))
            else:
                runs.append((subject_index, [(position, number)]))
        results: dict[int, dict[str, Any]] = {}
        for subject_index, run in runs:
            if len(run) < 2:
                continue
            first, last = run[0][1], run[-1][1]
            block_expr = IndexExpression.__new__(IndexExpression)
            block_expr.expression = (slice(None),) * axis + (slice(first, last + 1),)
            blocks = {}
            for category in extractor.categories:
                if self._is_chunked(category, subject_index):
                    blocks[category] = self.reader.read_box(category, subject_index, block_expr)
            if not blocks:
                continue
            for position, number in run:
                sample: dict[str, Any] = {}
                for category in extractor.categories:
                    if category in blocks:
                        where = (slice(None),) * axis + (number - first,)
                        sample[category] = np.ascontiguousarray(blocks[category][where])
                    else:
                        _, index_expr = self._location(indices[position])
                        params = {defs.KEY_SUBJECT_INDEX: subject_index, defs.KEY_INDEX_EXPR: index_expr}
                        sample[category] = read_category(self.reader, category, params, False)
                if self.transform is not None:
                    sample = self.transform(sample)
                sample[defs.KEY_SAMPLE_INDEX] = indices[position]
                results[position] = sample
        if not self.init_reader_once:
            self.reader.close()
        return results

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for i in range(len(self)):
            yield self[i]

    def _is_chunked(self, category: str, subject_index: int) -> bool:
        """Whether a subject's image category is read through h5py (chunked or compressed storage)."""
        if not self.reader.is_image_category(category):
            return False
        return not isinstance(self.reader.data(category, subject_index), np.ndarray)

    def direct_extract(
        self,
        extractor: Extractor,
        subject_index: int,
        index_expr: IndexExpression | None = None,
        transform: Transform | None = None,
    ) -> dict[str, Any]:
        """Extract with any extractor, outside the indexing (e.g. a subject's shape or whole labels).

        Parameters
        ----------
        extractor : Extractor
            What to extract.
        subject_index : int
            The subject.
        index_expr : IndexExpression, optional
            The region; default the whole volume.
        transform : callable, optional
            Applied to the extracted dictionary.
        """
        params = {defs.KEY_SUBJECT_INDEX: subject_index, defs.KEY_INDEX_EXPR: index_expr}
        extracted: dict[str, Any] = {}
        try:
            extractor.extract(self.reader, params, extracted)
        finally:
            if not self.init_reader_once:
                self.reader.close()
        if transform is not None:
            extracted = transform(extracted)
        return extracted

    # -- configuration ----------------------------------------------------------------------------
    def set_extractor(self, extractor: Extractor) -> None:
        """Replace the extractor."""
        self.extractor = extractor

    def set_indexing_strategy(
        self, indexing_strategy: IndexingStrategy, subject_subset: Sequence[int] | None = None
    ) -> None:
        """Replace the indexing strategy (and optionally the subject subset); the index is rebuilt lazily."""
        self.indexing_strategy = indexing_strategy
        if subject_subset is not None:
            self.subject_subset = [int(s) for s in subject_subset]
        self._index = None

    def set_transform(self, transform: Transform | None) -> None:
        """Replace the transform."""
        self.transform = transform

    def get_subjects(self) -> list[str]:
        """Identifiers of all subjects of the dataset (not only the subset), in dataset order."""
        return self.reader.get_subjects()

    def close_reader(self) -> None:
        """Close the file in this process (it reopens on the next access)."""
        self.reader.close()

    def __repr__(self) -> str:
        return (
            f"PymiaDatasource('{self.dataset_path}', {self.indexing_strategy!r}, {self.extractor!r}, "
            f"transform={self.transform!r})"
        )
