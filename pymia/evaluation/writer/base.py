"""The writer interface: something that takes a list of evaluation results and puts them somewhere."""

from __future__ import annotations

import abc
import os
import pathlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

from pymia.errors import InvalidInputError

if TYPE_CHECKING:
    from pymia.evaluation.evaluator import Result

__all__ = ["Writer", "prepare_output_path"]


class Writer(abc.ABC):
    """Base class of the writers: :meth:`write` takes the results of an evaluator.

    A writer can be called many times (e.g. once per epoch); file writers overwrite their file each
    time.
    """

    @abc.abstractmethod
    def write(self, results: Sequence[Result], **kwargs: object) -> None:
        """Write ``results`` (a list of :class:`~pymia.evaluation.evaluator.Result`)."""


def prepare_output_path(path: str | os.PathLike[str]) -> pathlib.Path:
    """Return ``path`` as given (no suffix is added) after creating its missing parent folders.

    Raises
    ------
    InvalidInputError
        If ``path`` is an existing folder.
    """
    output = pathlib.Path(path)
    if output.is_dir():
        raise InvalidInputError(f"output path {str(output)!r} is a folder; give a file name such as 'results.csv'")
    output.parent.mkdir(parents=True, exist_ok=True)
    return output
