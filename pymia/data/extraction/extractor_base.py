"""The extractor interface: fill a sample dictionary from a reader, for one subject and region.

Extractors are small objects chained by :class:`ComposeExtractor`; each adds entries (images, labels,
names, geometry, ...) to the ``extracted`` dictionary. ``params`` holds ``subject_index`` and
``index_expr`` (where the sample sits), as in pymia 0.3.4.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from typing import Any

__all__ = ["ComposeExtractor", "Extractor"]


class Extractor(abc.ABC):
    """Base class of extractors."""

    @abc.abstractmethod
    def extract(self, reader: Any, params: dict[str, Any], extracted: dict[str, Any]) -> None:
        """Add this extractor's entries to ``extracted``.

        Parameters
        ----------
        reader : Hdf5Reader
            The dataset reader.
        params : dict
            ``subject_index`` (int) and ``index_expr`` (:class:`~pymia.data.indexexpression.IndexExpression`
            or ``None`` for the whole volume); padding extractors may add ``fill_value``/``pad_fn``.
        extracted : dict
            The sample dictionary being filled.
        """

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({fields})"


class ComposeExtractor(Extractor):
    """Run several extractors in order into the same sample dictionary.

    Parameters
    ----------
    extractors : sequence of Extractor
        The extractors; later ones may overwrite keys of earlier ones.
    """

    def __init__(self, extractors: Sequence[Extractor]) -> None:
        self.extractors = list(extractors)

    def extract(self, reader: Any, params: dict[str, Any], extracted: dict[str, Any]) -> None:
        for extractor in self.extractors:
            extractor.extract(reader, params, extracted)
