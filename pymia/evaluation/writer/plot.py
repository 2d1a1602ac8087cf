"""A box-plot figure of results: one panel per metric, one box per label (needs matplotlib)."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence

import numpy as np

from pymia.errors import InvalidInputError, MissingDependencyError
from pymia.evaluation.evaluator import Result
from pymia.evaluation.writer.base import Writer, prepare_output_path

__all__ = ["BoxPlotWriter", "require_matplotlib"]


def require_matplotlib() -> None:
    """Raise :class:`~pymia.errors.MissingDependencyError` if matplotlib cannot be imported."""
    try:
        import matplotlib  # noqa: F401
    except ImportError as error:
        raise MissingDependencyError(
            "box plots need matplotlib, which is not installed; install the `examples` extra: "
            "pip install 'pymia[examples]' (or pip install matplotlib)"
        ) from error


class BoxPlotWriter(Writer):
    """Save a box plot of the results over subjects to an image file (PNG, SVG, PDF, ...).

    Parameters
    ----------
    path : str or os.PathLike
        The figure file; its suffix selects the format (matplotlib's ``savefig``). Parent folders are
        created.
    title : str, optional, keyword-only
        A title over the whole figure.
    columns : int, keyword-only
        Panels per row (one panel per metric).
    dpi : int, keyword-only
        Resolution of raster formats.

    Notes
    -----
    Undefined values (``nan``) are left out of the boxes; the x tick labels say how many values each box
    shows (``WM (n=9)``). The figure is drawn with matplotlib's object-oriented API on the Agg canvas, so
    it changes no global matplotlib state and needs no display.
    """

    def __init__(
        self, path: str | os.PathLike[str], *, title: str | None = None, columns: int = 3, dpi: int = 150
    ) -> None:
        if not isinstance(columns, int) or columns < 1:
            raise InvalidInputError(f"columns must be a positive int, got {columns!r}")
        self.path = path
        self.title = title
        self.columns = columns
        self.dpi = dpi

    def write(self, results: Sequence[Result], **kwargs: object) -> None:
        """Draw the box plot of ``results`` and save it to :attr:`path`."""
        require_matplotlib()
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        # metric -> label -> values, all in order of first appearance
        panels: dict[str, dict[str, list[float]]] = {}
        for result in results:
            try:
                value = float(result.value)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                continue
            panels.setdefault(result.metric, {}).setdefault(result.label, []).append(value)
        if not panels:
            raise InvalidInputError("no numeric results to plot; evaluate at least one subject before writing")

        n_columns = min(self.columns, len(panels))
        n_rows = math.ceil(len(panels) / n_columns)
        figure = Figure(figsize=(4.0 * n_columns, 3.5 * n_rows), layout="constrained")
        FigureCanvasAgg(figure)
        axes = figure.subplots(n_rows, n_columns, squeeze=False).ravel()
        for axis, (metric, by_label) in zip(axes, panels.items()):
            defined = [np.asarray(values)[~np.isnan(values)] for values in by_label.values()]
            axis.boxplot(defined)
            axis.set_xticks(
                range(1, len(defined) + 1), [f"{label} (n={len(v)})" for label, v in zip(by_label, defined)]
            )
            axis.tick_params(axis="x", labelrotation=30)
            axis.set_title(metric)
            axis.grid(axis="y", alpha=0.3)
        for axis in axes[len(panels) :]:
            axis.set_visible(False)
        if self.title:
            figure.suptitle(self.title)
        figure.savefig(prepare_output_path(self.path), dpi=self.dpi)
