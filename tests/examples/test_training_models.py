"""Networks of ``examples/training/models_torch.py``: parameter counts, forward shapes, structure.

Reference counts from shared/research/training-recipes.md §1 (verified there by instantiating MONAI 1.6.1
``HighResNet`` and pymia 0.3.4's example U-Net): HighRes3DNet 808,784 + 82·C (821,904 for C = 160),
PReLU +720; pymia's torch U-Net 537,142 (2 in, 6 out, 16 base), 2,143,334 with 32 base channels.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples" / "training"))
import models_torch  # noqa: E402


@pytest.mark.parametrize(("classes", "expected"), [(2, 808_948), (4, 809_112), (6, 809_276), (160, 821_904)])
def test_highres3dnet_parameter_count(classes: int, expected: int) -> None:
    model = models_torch.HighRes3DNet(1, classes)
    assert models_torch.count_parameters(model) == expected
    assert models_torch.highres3dnet_parameter_count(1, classes) == expected


def test_highres3dnet_parameter_count_prelu_and_extra_input_channels() -> None:
    assert models_torch.count_parameters(models_torch.HighRes3DNet(1, 160, activation="prelu")) == 822_624
    assert models_torch.count_parameters(models_torch.HighRes3DNet(3, 4)) == 809_112 + 2 * 432


def test_highres3dnet_group_norm_variant_count() -> None:
    """Group norm has 2 parameters per channel like BN; the last layer swaps its norm (2·C) for a bias (C)."""
    assert models_torch.count_parameters(models_torch.HighRes3DNet(1, 4, normalization="group")) == 808_784 + 81 * 4
    layers = models_torch.HighRes3DNet(1, 4, normalization="group").modules()
    assert not any(isinstance(m, torch.nn.BatchNorm3d) for m in layers)


def test_highres3dnet_structure_matches_the_paper() -> None:
    model = models_torch.HighRes3DNet(1, 5)
    convolutions = [m for m in model.modules() if isinstance(m, torch.nn.Conv3d)]
    assert sum(c.kernel_size == (3, 3, 3) for c in convolutions) == 19
    assert sum(c.kernel_size == (1, 1, 1) for c in convolutions) == 2
    assert all(c.bias is None for c in convolutions)
    dilations = [c.dilation[0] for c in convolutions if c.kernel_size == (3, 3, 3)]
    assert dilations == [1] + [1] * 6 + [2] * 6 + [4] * 6


def test_highres3dnet_logits_can_be_negative_and_keep_the_size() -> None:
    """No activation after the last layer (NiftyNet; MONAI 1.6.1's ReLU there makes logits >= 0)."""
    torch.manual_seed(0)
    model = models_torch.HighRes3DNet(2, 3, normalization="group", dense_skip=True).eval()
    logits = model(torch.randn(1, 2, 7, 9, 10))
    assert logits.shape == (1, 3, 7, 9, 10)
    assert (logits < 0).any()


def test_highres3dnet_identity_is_zero_padded_in_channels() -> None:
    block = models_torch.PreActivationResidualBlock(16, 32, 2, normalization="batch", activation="relu")
    for p in block.layers.parameters():
        torch.nn.init.zeros_(p)
    x = torch.randn(1, 16, 4, 4, 4)
    out = block.eval()(x)
    assert torch.equal(out[:, 8:24], x) and not out[:, :8].any() and not out[:, 24:].any()


@pytest.mark.parametrize(("base", "expected"), [(16, 537_142), (32, 2_143_334)])
def test_unet2d_parameter_count_of_pymia_example(base: int, expected: int) -> None:
    assert models_torch.count_parameters(models_torch.UNet(2, 6, base_channels=base)) == expected


@pytest.mark.parametrize("shape", [(32, 32), (33, 27), (9, 14)])
def test_unet2d_output_keeps_odd_sizes(shape: tuple[int, int]) -> None:
    model = models_torch.UNet(2, 4, n_pooling=3).eval()
    assert model(torch.zeros(2, 2, *shape)).shape == (2, 4, *shape)


def test_unet_ct_options_use_instance_norm_and_leaky_relu() -> None:
    model = models_torch.UNet(1, 3, dimensions=3, n_pooling=2, normalization="instance", activation="leaky_relu")
    kinds = {type(m) for m in model.modules()}
    assert torch.nn.InstanceNorm3d in kinds and torch.nn.LeakyReLU in kinds and torch.nn.BatchNorm3d not in kinds
    assert next(m for m in model.modules() if isinstance(m, torch.nn.LeakyReLU)).negative_slope == 0.01
    assert model(torch.zeros(1, 1, 9, 10, 11)).shape == (1, 3, 9, 10, 11)


@pytest.mark.parametrize("subnetwork", ["unet", "conv"])
def test_modality_specific_model_has_one_subnetwork_per_modality_plus_one(subnetwork: str) -> None:
    model = models_torch.ModalitySpecificUNet2D(4, 4, subnetwork=subnetwork)
    main, subnetworks = model.forward_all(torch.zeros(2, 4, 15, 17))
    assert main.shape == (2, 4, 15, 17)
    assert len(subnetworks) == 5 and all(s.shape == (2, 4, 15, 17) for s in subnetworks)


def test_orthogonal_features_run_each_model_along_its_axis() -> None:
    """A model returning its input shows which axis was sliced: slice shapes differ per orientation."""
    seen = []

    class Recorder(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            seen.append(tuple(x.shape[2:]))
            return x[:, :1] * 2

    volume = torch.randn(1, 5, 6, 7)
    features = models_torch.orthogonal_features([Recorder(), Recorder(), Recorder()], volume, batch_size=100)
    assert features.shape == (3, 5, 6, 7)
    assert torch.allclose(features, volume.expand(3, -1, -1, -1) * 2)
    assert seen == [(6, 7), (5, 7), (5, 6)]


def test_feature_input_unet3d_scales_only_the_features() -> None:
    model = models_torch.FeatureInputUNet3D(2, 6, 4, feature_scale=0.0).eval()
    images = torch.randn(1, 2, 8, 8, 8)
    with_features = model(torch.cat([images, torch.randn(1, 6, 8, 8, 8)], dim=1))
    without = model(torch.cat([images, torch.zeros(1, 6, 8, 8, 8)], dim=1))
    assert with_features.shape == (1, 4, 8, 8, 8)
    assert torch.allclose(with_features, without)


def test_invalid_options_raise() -> None:
    with pytest.raises(ValueError, match="normalization"):
        models_torch.UNet(normalization="layer")
    with pytest.raises(ValueError, match="activation"):
        models_torch.HighRes3DNet(activation="gelu")
    with pytest.raises(ValueError, match="3 models"):
        models_torch.orthogonal_features([torch.nn.Identity()], torch.zeros(1, 2, 2, 2))
