"""The edge-case policy: every cell of the two tables in docs/user/metrics.rst is checked here."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pytest

from pymia.errors import NotComputableMetricWarning
from pymia.evaluation.metric import METRIC_CLASSES, metric_from_id

DOCS = Path(__file__).resolve().parents[3] / "docs" / "user" / "metrics.rst"


def _policy_table(name: str) -> tuple[list[str], dict[str, list[str]]]:
    """Parse the csv-table with ``:name: <name>`` from the metrics page: (column names, id → cells)."""
    lines = DOCS.read_text(encoding="utf-8").splitlines()
    start = lines.index(f"   :name: {name}")
    header_line = next(line for line in lines[start:] if line.strip().startswith(":header:"))
    columns = [cell.strip().strip('"') for cell in header_line.split(":header:")[1].split(",")]
    rows: dict[str, list[str]] = {}
    index = start
    while lines[index].strip():
        index += 1
    for line in lines[index + 1 :]:
        if not line.strip():
            break
        cells = [cell.strip() for cell in line.split(",")]
        rows[cells[0]] = cells[1:]
    return columns[1:], rows


def _segmentation_cases() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    empty = np.zeros((6, 6, 6), bool)
    cube = empty.copy()
    cube[2:4, 2:4, 2:4] = True
    single = empty.copy()
    single[3, 3, 3] = True
    return {
        "both empty": (empty, empty),
        "reference empty": (empty, cube),
        "prediction empty": (cube, empty),
        "both full": (~empty, ~empty),
        "single voxel (both)": (single, single),
    }


def _continuous_cases() -> dict[str, dict]:
    generator = np.random.default_rng(0)
    image = generator.random((8, 8, 8))
    with_nan = image.copy()
    with_nan[1, 2, 3] = np.nan
    return {
        "identical images": {"reference": image, "prediction": image.copy()},
        "constant reference": {"reference": np.full((8, 8, 8), 5.0), "prediction": np.full((8, 8, 8), 6.0)},
        "NaN or inf": {"reference": with_nan, "prediction": image},
        "empty mask": {"reference": image, "prediction": image + 0.1, "mask": np.zeros((8, 8, 8), bool)},
    }


def _check_cell(expected: str, compute) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = compute()
    warned = [w for w in caught if issubclass(w.category, NotComputableMetricWarning)]
    if expected == "nan":
        assert math.isnan(value)
        assert len(warned) == 1, [str(w.message) for w in caught]
        return
    assert not warned, [str(w.message) for w in warned]
    if expected == "inf":
        assert value == math.inf
    else:
        # The docs round to four significant digits.
        assert value == pytest.approx(float(expected), rel=1e-3, abs=1e-12)


SEGMENTATION_COLUMNS, SEGMENTATION_ROWS = _policy_table("segmentation-edge-cases")
CONTINUOUS_COLUMNS, CONTINUOUS_ROWS = _policy_table("continuous-edge-cases")


def test_tables_cover_every_metric():
    """Every metric id appears in one of the two policy tables (HDRFDST95 as the percentile example)."""
    segmentation = {i for i, cls in METRIC_CLASSES.items() if cls.kind == "segmentation"} | {"HDRFDST95"}
    continuous = {i for i, cls in METRIC_CLASSES.items() if cls.kind == "continuous"}
    assert set(SEGMENTATION_ROWS) == segmentation
    assert set(CONTINUOUS_ROWS) == continuous
    assert list(_segmentation_cases()) == SEGMENTATION_COLUMNS
    assert list(_continuous_cases()) == CONTINUOUS_COLUMNS


@pytest.mark.parametrize("case", list(_segmentation_cases()))
@pytest.mark.parametrize("metric_id", sorted(SEGMENTATION_ROWS))
def test_segmentation_policy_row(metric_id, case):
    """Reference: the documented policy table (docs/user/metrics.rst, segmentation-edge-cases)."""
    reference, prediction = _segmentation_cases()[case]
    expected = SEGMENTATION_ROWS[metric_id][SEGMENTATION_COLUMNS.index(case)]
    metric = metric_from_id(metric_id)
    _check_cell(expected, lambda: metric(reference, prediction))


@pytest.mark.parametrize("case", list(_continuous_cases()))
@pytest.mark.parametrize("metric_id", sorted(CONTINUOUS_ROWS))
def test_continuous_policy_row(metric_id, case):
    """Reference: the documented policy table (docs/user/metrics.rst, continuous-edge-cases)."""
    arguments = dict(_continuous_cases()[case])
    expected = CONTINUOUS_ROWS[metric_id][CONTINUOUS_COLUMNS.index(case)]
    metric = metric_from_id(metric_id)
    _check_cell(expected, lambda: metric(arguments.pop("reference"), arguments.pop("prediction"), **arguments))


@pytest.mark.parametrize("metric_id", ["HDRFDST", "AVGDIST", "SURFDICE"])
def test_distance_policy_holds_for_the_voxel_method_and_2d(metric_id):
    """Reference: the policy table; the voxel method and 2-D masks follow the same rows."""
    empty = np.zeros((9, 9), bool)
    square = empty.copy()
    square[3:6, 3:6] = True
    metric = metric_from_id(metric_id, method="voxel")
    with pytest.warns(NotComputableMetricWarning, match="empty"):
        assert math.isnan(metric(empty, empty))
    assert metric(square, square) == (1.0 if metric_id == "SURFDICE" else 0.0)


def test_warning_names_the_metric_and_the_reason():
    with pytest.warns(NotComputableMetricWarning, match=r"HDRFDST95 is not defined because the reference is empty"):
        metric_from_id("HDRFDST95")(np.zeros((4, 4), bool), np.eye(4, dtype=bool))
    with pytest.warns(NotComputableMetricWarning, match=r"^dice is not defined because both"):
        from pymia.evaluation.metric import dice

        dice(np.zeros(3, bool), np.zeros(3, bool))


def test_infinite_values_are_not_computable():
    """Policy row 'NaN or inf' also covers ±inf."""
    reference = np.ones(5)
    prediction = np.array([1.0, 2.0, np.inf, 1.0, 1.0])
    with pytest.warns(NotComputableMetricWarning, match="NaN or infinite"):
        assert math.isnan(metric_from_id("MAE")(reference, prediction))
