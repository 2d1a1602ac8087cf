"""Results as a JSON list of records, readable by any JSON parser and by ``pandas.read_json``."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence

from pymia.evaluation.evaluator import Result
from pymia.evaluation.writer.base import Writer, prepare_output_path

__all__ = ["JSONWriter"]


def _json_value(value: object) -> object:
    """A value as strict JSON allows it: non-finite numbers (no JSON literal exists) become ``null``."""
    if isinstance(value, str) or value is None:
        return value
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(value)
    return number if math.isfinite(number) else None


class JSONWriter(Writer):
    """Write results to a JSON file as a list of ``{"SUBJECT", "LABEL", "METRIC", "VALUE"}`` records.

    The keys are the columns of the tidy :func:`~pymia.evaluation.writer.to_dataframe`, so
    ``pandas.DataFrame(json.load(file))`` gives the same table.

    Parameters
    ----------
    path : str or os.PathLike
        The file to write, used exactly as given; parent folders are created.
    indent : int or None, keyword-only
        Indentation of the file (``None`` for one line).

    Notes
    -----
    Strict JSON has no ``NaN`` or ``Infinity``, so an undefined value (``nan``), and any infinite one,
    is written as ``null``; full float precision is kept otherwise.
    """

    def __init__(self, path: str | os.PathLike[str], *, indent: int | None = 2) -> None:
        self.path = path
        self.indent = indent

    def write(self, results: Sequence[Result], **kwargs: object) -> None:
        """Write ``results`` to :attr:`path`."""
        records = [
            {"SUBJECT": r.id_, "LABEL": r.label, "METRIC": r.metric, "VALUE": _json_value(r.value)} for r in results
        ]
        text = json.dumps(records, indent=self.indent, allow_nan=False)
        prepare_output_path(self.path).write_text(text + "\n", encoding="utf-8")
