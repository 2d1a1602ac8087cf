"""BoxPlotWriter: writes a readable image, leaves matplotlib's global state alone, clear errors."""

from __future__ import annotations

import builtins

import numpy as np
import pytest

from pymia.errors import InvalidInputError, MissingDependencyError
from pymia.evaluation.evaluator import Result
from pymia.evaluation.writer import BoxPlotWriter

matplotlib = pytest.importorskip("matplotlib", reason="needs the `examples` extra")


def _results(rng) -> list[Result]:
    return [
        Result(f"S{i}", label, metric, float(value))
        for i in range(6)
        for label in ("WM", "GM")
        for metric, value in (("DICE", rng.random()), ("HDRFDST95", rng.random() * 5 if i else np.nan))
    ]


def test_png_is_written_with_the_expected_size(tmp_path, rng):
    """4 panels at 3 per row → 2 rows of 4×3.5 inch panels at 50 dpi → 600×350 pixels."""
    import matplotlib.image

    path = tmp_path / "plots" / "box.png"
    backend = matplotlib.get_backend()
    BoxPlotWriter(path, title="cohort", dpi=50).write(_results(rng) + [Result("S0", "WM", m, 1.0) for m in ("A", "B")])
    image = matplotlib.image.imread(path)
    assert image.shape[:2] == (350, 600)
    assert image[..., :3].std() > 0  # something was drawn
    assert matplotlib.get_backend() == backend


def test_one_panel_per_metric_with_counts_of_defined_values(tmp_path, rng, monkeypatch):
    import matplotlib.figure

    saved = {}
    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", lambda self, *a, **k: saved.setdefault("figure", self))
    BoxPlotWriter(tmp_path / "box.png").write(_results(rng))
    axes = [axis for axis in saved["figure"].axes if axis.get_visible()]
    assert [axis.get_title() for axis in axes] == ["DICE", "HDRFDST95"]
    assert [t.get_text() for t in axes[1].get_xticklabels()] == ["WM (n=5)", "GM (n=5)"]


def test_no_numeric_results_is_an_error(tmp_path):
    with pytest.raises(InvalidInputError, match="no numeric results"):
        BoxPlotWriter(tmp_path / "box.png").write([])


def test_missing_matplotlib_is_a_missing_dependency_error(tmp_path, monkeypatch):
    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == "matplotlib" or name.startswith("matplotlib."):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(MissingDependencyError, match="examples"):
        BoxPlotWriter(tmp_path / "box.png").write([Result("S1", "WM", "DICE", 0.5)])
