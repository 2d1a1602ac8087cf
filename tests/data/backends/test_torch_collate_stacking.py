"""Stacking in the main process (NumPy, one thread) gives what torch.stack gives, for every dtype."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from pymia.data.backends.pytorch import collate_samples  # noqa: E402


@pytest.mark.parametrize(
    "dtype", [torch.float32, torch.float16, torch.float64, torch.uint8, torch.int64, torch.bool, torch.bfloat16]
)
def test_main_process_stacking_equals_torch_stack(dtype: torch.dtype) -> None:
    generator = torch.Generator().manual_seed(0)
    tensors = [(torch.rand((3, 4, 2), generator=generator) * 5).to(dtype) for _ in range(4)]
    samples = [{"images": tensor, "sample_index": index} for index, tensor in enumerate(tensors)]
    batch = collate_samples(samples)
    assert batch["images"].dtype == dtype and batch["images"].is_contiguous()
    assert torch.equal(batch["images"], torch.stack(tensors))
    batch["images"][0].zero_()  # a new tensor: the samples are untouched
    assert torch.equal(tensors[0], torch.stack(tensors)[0])


def test_numpy_samples_are_stacked_too() -> None:
    arrays = [np.full((2, 2, 1), i, np.float32) for i in range(3)]
    batch = collate_samples([{"images": a} for a in arrays])
    assert batch["images"].shape == (3, 2, 2, 1) and batch["images"][2].unique().item() == 2
