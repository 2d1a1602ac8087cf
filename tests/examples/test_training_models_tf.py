"""tf.keras U-Net of ``examples/training/models_tf.py``.

Reference count 116,982 from shared/research/training-recipes.md §1.2 (pymia 0.3.4's TensorFlow example,
computed layer by layer there and matched by a layer-for-layer torch equivalent).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples" / "training"))
import models_tf  # noqa: E402


def test_unet_tf_parameter_count_of_pymia_example() -> None:
    assert models_tf.build_unet(2, 6).count_params() == 116_982


@pytest.mark.parametrize("shape", [(16, 16), (17, 23)])
def test_unet_tf_keeps_any_size(shape: tuple[int, int]) -> None:
    model = models_tf.build_unet(2, 4, layer_depth=3, filters_root=4)
    logits = model(np.zeros((2, *shape, 2), dtype=np.float32))
    assert tuple(logits.shape) == (2, *shape, 4)
    assert not any(isinstance(layer, tf.keras.layers.BatchNormalization) for layer in model.layers)
