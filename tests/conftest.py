"""Shared pytest fixtures and skip markers for the whole suite."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


requires_torch = pytest.mark.skipif(not _installed("torch"), reason="needs the `torch` extra")
requires_tf = pytest.mark.skipif(not _installed("tensorflow"), reason="needs tensorflow(-cpu)")
requires_nilearn = pytest.mark.skipif(not _installed("nilearn"), reason="needs the `examples` extra")


@pytest.fixture
def rng() -> np.random.Generator:
    """A seeded random generator, fresh for each test."""
    return np.random.default_rng(20261203)
