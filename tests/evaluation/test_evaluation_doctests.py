"""Run the ``>>>`` examples in the docstrings of the evaluator, the writers and the CLI module."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "pymia.evaluation.evaluator",
    "pymia.evaluation.writer.csv_writer",
    "pymia.evaluation.writer.dataframe",
    "pymia.evaluation.writer.statistics",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    failures, attempted = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert attempted > 0, f"{name} has no examples"
    assert failures == 0
