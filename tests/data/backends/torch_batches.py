"""Helpers of the PyTorch loader tests: where shared-memory slots lie, and batch equality to the bit."""

from __future__ import annotations

import torch


def slot_ranges() -> list[tuple[int, int]]:
    """Address ranges of this process's slot mappings (Linux names memfd segments in /proc/self/maps)."""
    ranges = []
    with open("/proc/self/maps") as maps:
        for line in maps:
            if "memfd:pymia-batch" in line:
                start, end = line.split()[0].split("-")
                ranges.append((int(start, 16), int(end, 16)))
    return ranges


def in_slot(tensor: torch.Tensor) -> bool:
    """True for a tensor that lies in a shared-memory slot (received without a copy)."""
    pointer = tensor.data_ptr()
    return any(start <= pointer < end for start, end in slot_ranges())


def assert_same_batches(first: list[dict], second: list[dict]) -> None:
    """Same number of batches, same keys in the same order, tensors equal in dtype and value, the rest equal."""
    assert len(first) == len(second)
    for a, b in zip(first, second):
        assert list(a) == list(b)
        for key in a:
            if isinstance(a[key], torch.Tensor):
                assert a[key].dtype == b[key].dtype
                torch.testing.assert_close(a[key], b[key], rtol=0, atol=0)
            else:
                assert a[key] == b[key]
