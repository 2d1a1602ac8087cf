"""The datasource's sample index: sample number → (subject, sample within the subject), as arrays.

Only two int64 arrays of one entry per subject are kept (subject indices and cumulative sample
counts), so the index of 10,000 subjects costs kilobytes and is built in one vectorised call; the
:class:`~pymia.data.indexexpression.IndexExpression` of a sample is made when it is asked for.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["SampleIndex"]


class SampleIndex:
    """Maps global sample numbers to subjects.

    Parameters
    ----------
    subject_indices : numpy.ndarray
        int64 (m,): the dataset subject index of each indexed subject, in sample order.
    counts : numpy.ndarray
        int64 (m,): the number of samples of each of these subjects.
    """

    def __init__(self, subject_indices: np.ndarray, counts: np.ndarray) -> None:
        self.subject_indices = np.asarray(subject_indices, dtype=np.int64)
        self.counts = np.asarray(counts, dtype=np.int64)
        self.ends = np.cumsum(self.counts)
        self.starts = self.ends - self.counts
        self.length = int(self.ends[-1]) if len(self.ends) else 0

    def __len__(self) -> int:
        return self.length

    def locate(self, sample_index: int) -> tuple[int, int]:
        """Return ``(subject_index, local_index)`` of sample ``sample_index`` (0 ≤ index < len)."""
        position = int(np.searchsorted(self.ends, sample_index, side="right"))
        return int(self.subject_indices[position]), int(sample_index - self.starts[position])

    def locate_many(self, sample_indices: Sequence[int] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Vectorised :meth:`locate`: arrays of subject indices and local indices."""
        samples = np.asarray(sample_indices, dtype=np.int64)
        positions = np.searchsorted(self.ends, samples, side="right")
        return self.subject_indices[positions], samples - self.starts[positions]

    def samples_of(self, subject_index: int) -> range:
        """The sample numbers of a subject (empty if the subject is not indexed)."""
        hits = np.flatnonzero(self.subject_indices == subject_index)
        if not len(hits):
            return range(0)
        position = int(hits[0])
        return range(int(self.starts[position]), int(self.ends[position]))

    def count_of(self, subject_index: int) -> int:
        """Number of samples of a subject (0 if not indexed)."""
        return len(self.samples_of(subject_index))
