"""PyTorch networks of the reference training scripts: 2-D U-Net, HighRes3DNet, 2D-3D cascade pieces.

Example code, not part of :mod:`pymia`: the scripts next to this file import it. Tensors are
channel-first as PyTorch expects, ``(B, C, Y, X)`` for 2-D and ``(B, C, Z, Y, X)`` for 3-D; the
pymia samples are channel-last and the scripts permute them.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional

NORMALIZATIONS = ("batch", "instance", "group", "none")
ACTIVATIONS = ("relu", "leaky_relu", "prelu")


def make_normalization(kind: str, channels: int, dimensions: int, *, groups: int = 8) -> nn.Module:
    """Return a normalisation layer: ``batch``, ``instance`` (affine, as nnU-Net), ``group`` or ``none``."""
    if kind == "batch":
        return nn.BatchNorm2d(channels) if dimensions == 2 else nn.BatchNorm3d(channels)
    if kind == "instance":
        return nn.InstanceNorm2d(channels, affine=True) if dimensions == 2 else nn.InstanceNorm3d(channels, affine=True)
    if kind == "group":
        # The largest group count not above `groups` that divides the channels (16, 32, 64, 80 → 8).
        n_groups = max(g for g in range(1, min(groups, channels) + 1) if channels % g == 0)
        return nn.GroupNorm(n_groups, channels)
    if kind == "none":
        return nn.Identity()
    raise ValueError(f"normalization {kind!r} is not one of {NORMALIZATIONS}")


def make_activation(kind: str, channels: int) -> nn.Module:
    """Return ``relu``, ``leaky_relu`` (slope 0.01, the nnU-Net/CT recipe) or ``prelu`` (one slope per channel)."""
    if kind == "relu":
        return nn.ReLU(inplace=True)
    if kind == "leaky_relu":
        return nn.LeakyReLU(0.01, inplace=True)
    if kind == "prelu":
        return nn.PReLU(channels)
    raise ValueError(f"activation {kind!r} is not one of {ACTIVATIONS}")


def _convolution(dimensions: int) -> type[nn.Conv2d] | type[nn.Conv3d]:
    return nn.Conv2d if dimensions == 2 else nn.Conv3d


def count_parameters(module: nn.Module) -> int:
    """Number of trainable parameters (normalisation running statistics are buffers, not counted)."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def pad_to(tensor: torch.Tensor, spatial_shape: Sequence[int]) -> torch.Tensor:
    """Zero-pad the trailing spatial axes of ``tensor`` at their end up to ``spatial_shape``."""
    padding: list[int] = []
    for size, target in zip(reversed(tensor.shape[2:]), reversed(tuple(spatial_shape))):
        padding += [0, int(target) - int(size)]
    return functional.pad(tensor, padding) if any(padding) else tensor


# ---------------------------------------------------------------------------------------------------
# U-Nets (2-D as in pymia's torch example, and a 3-D U-Net-like net for the cascade)


class ConvolutionUnit(nn.Sequential):
    """3×3(×3) convolution with bias → dropout → normalisation → activation (pymia's example order)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        *,
        dimensions: int = 2,
        dropout: float = 0.2,
        normalization: str = "batch",
        activation: str = "relu",
    ) -> None:
        dropout_layer: nn.Module
        if dropout > 0:
            dropout_layer = nn.Dropout2d(dropout) if dimensions == 2 else nn.Dropout3d(dropout)
        else:
            dropout_layer = nn.Identity()
        super().__init__(
            _convolution(dimensions)(in_channels, out_channels, kernel_size=3, padding=1),
            dropout_layer,
            make_normalization(normalization, out_channels, dimensions),
            make_activation(activation, out_channels),
        )


class UNet(nn.Module):
    """U-Net with nearest-neighbour upsampling, for 2-D slices or 3-D patches.

    With the defaults it is the network of pymia's PyTorch example: per level two units (3×3 conv
    with bias, Dropout2d 0.2, BatchNorm, ReLU), 2×2 max pooling, channels 16/32/64 and a 128-channel
    bottleneck (``n_pooling=3``); the decoder upsamples ×2 (nearest), halves the channels with a
    3×3 convolution, zero-pads to the skip's size (so odd sizes work), concatenates ``[up, skip]``
    and applies two units; a 1×1 convolution gives the logits. 537,142 parameters for 2 input
    channels, 6 classes and 16 base channels.

    Parameters
    ----------
    in_channels, out_channels : int
        Image channels (modalities) and classes.
    base_channels : int
        Channels of the first level; doubled at each pooling.
    n_pooling : int
        Number of 2× poolings.
    dimensions : int
        2 for ``(B, C, Y, X)`` input, 3 for ``(B, C, Z, Y, X)``.
    dropout : float
        Channel dropout probability in each unit.
    normalization, activation : str
        See :func:`make_normalization` and :func:`make_activation`; the CT recipe uses ``instance``
        and ``leaky_relu``.
    """

    def __init__(
        self,
        in_channels: int = 2,
        out_channels: int = 6,
        *,
        base_channels: int = 16,
        n_pooling: int = 3,
        dimensions: int = 2,
        dropout: float = 0.2,
        normalization: str = "batch",
        activation: str = "relu",
    ) -> None:
        super().__init__()
        if dimensions not in (2, 3):
            raise ValueError(f"dimensions must be 2 or 3, got {dimensions}")
        self.dimensions = dimensions
        options = {"dimensions": dimensions, "dropout": dropout, "normalization": normalization,
                   "activation": activation}
        channels = [base_channels * 2**level for level in range(n_pooling + 1)]
        self.encoder = nn.ModuleList()
        previous = in_channels
        for level_channels in channels:
            self.encoder.append(nn.Sequential(ConvolutionUnit(previous, level_channels, **options),
                                              ConvolutionUnit(level_channels, level_channels, **options)))
            previous = level_channels
        self.pool = nn.MaxPool2d(2) if dimensions == 2 else nn.MaxPool3d(2)
        self.up_convolutions = nn.ModuleList()
        self.decoder = nn.ModuleList()
        for level_channels in reversed(channels[:-1]):
            self.up_convolutions.append(_convolution(dimensions)(previous, level_channels, kernel_size=3, padding=1))
            self.decoder.append(nn.Sequential(ConvolutionUnit(2 * level_channels, level_channels, **options),
                                              ConvolutionUnit(level_channels, level_channels, **options)))
            previous = level_channels
        self.features_channels = previous
        self.classifier = _convolution(dimensions)(previous, out_channels, kernel_size=1)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Feature maps before the 1×1 classifier, ``(B, base_channels, *spatial)``."""
        skips = []
        for level, block in enumerate(self.encoder):
            if level > 0:
                x = self.pool(x)
            x = block(x)
            skips.append(x)
        for up_convolution, block, skip in zip(self.up_convolutions, self.decoder, reversed(skips[:-1])):
            x = functional.interpolate(x, scale_factor=2, mode="nearest")
            x = pad_to(up_convolution(x), skip.shape[2:])  # pooling floors odd sizes: pad back
            x = block(torch.cat([x, skip], dim=1))
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(B, out_channels, *spatial)`` of the same spatial size as ``x``."""
        return self.classifier(self.features(x))


# ---------------------------------------------------------------------------------------------------
# HighRes3DNet (Li et al., IPMI 2017) and the group-norm / dense-skip variant


class PreActivationResidualBlock(nn.Module):
    """(norm → activation → 3×3×3 dilated conv) × 2, plus the identity zero-padded in channels."""

    def __init__(
        self, in_channels: int, out_channels: int, dilation: int, *, normalization: str, activation: str
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for block_in in (in_channels, out_channels):
            layers += [
                make_normalization(normalization, block_in, 3),
                make_activation(activation, block_in),
                nn.Conv3d(block_in, out_channels, kernel_size=3, padding=dilation, dilation=dilation, bias=False),
            ]
        self.layers = nn.Sequential(*layers)
        self.missing_channels = out_channels - in_channels
        if self.missing_channels < 0:
            raise ValueError("a residual block may not reduce the channels")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Residual sum; the identity is zero-padded half before, half after in the channel axis."""
        identity = x
        if self.missing_channels:
            before = self.missing_channels // 2
            identity = functional.pad(x, (0, 0, 0, 0, 0, 0, before, self.missing_channels - before))
        return self.layers(x) + identity


class HighRes3DNet(nn.Module):
    """HighRes3DNet with the structure of Li et al. (IPMI 2017) and NiftyNet's configuration.

    conv 3×3×3 → 16 (norm, activation); three residual blocks per stage at 16, 32 and 64 channels with
    dilations 1, 2 and 4 (pre-activation, two 3×3×3 convolutions each, identity zero-padded when the
    channels grow); 1×1×1 conv → 80 (norm, activation); 1×1×1 conv → classes with normalisation and
    **no activation** (logits may be negative; MONAI 1.6.1 adds a ReLU there, NiftyNet does not).
    Convolutions have no bias. With batch norm and ReLU the network has 808,784 + 82·C parameters for
    one input channel (821,904 for C = 160), 432 more per extra input channel; receptive field 87 voxels.

    Parameters
    ----------
    in_channels, out_channels : int
        Image channels and classes.
    normalization : str
        ``batch`` (paper) or ``group`` (the lung-tumour variant; 8 groups). With ``group`` the last
        layer has a bias instead of a normalisation (normalising the class logits of one sample
        would force them to mean zero): 808,784 + 81·C parameters.
    activation : str
        ``relu`` (NiftyNet config, default) or ``prelu`` (NiftyNet class default, +720 parameters).
    dense_skip : bool
        DenseHighRes3DNet-style: concatenate the outputs of the first convolution and of each
        dilation stage (16 + 16 + 32 + 64 = 128 channels) before the 1×1×1 convolution to 80.
        This is our reading of "dense" (the lung paper's layer table was not available).
    """

    def __init__(
        self,
        in_channels: int = 1,
        out_channels: int = 160,
        *,
        normalization: str = "batch",
        activation: str = "relu",
        dense_skip: bool = False,
    ) -> None:
        super().__init__()
        self.dense_skip = dense_skip
        self.initial = nn.Sequential(
            nn.Conv3d(in_channels, 16, kernel_size=3, padding=1, bias=False),
            make_normalization(normalization, 16, 3),
            make_activation(activation, 16),
        )
        self.stages = nn.ModuleList()
        previous = 16
        for channels, dilation in ((16, 1), (32, 2), (64, 4)):
            blocks = []
            for _ in range(3):
                blocks.append(PreActivationResidualBlock(previous, channels, dilation, normalization=normalization,
                                                         activation=activation))
                previous = channels
            self.stages.append(nn.Sequential(*blocks))
        head_in = 16 + 16 + 32 + 64 if dense_skip else 64
        self.head = nn.Sequential(
            nn.Conv3d(head_in, 80, kernel_size=1, bias=False),
            make_normalization(normalization, 80, 3),
            make_activation(activation, 80),
        )
        if normalization == "group":
            self.classifier = nn.Sequential(nn.Conv3d(80, out_channels, kernel_size=1, bias=True))
        else:
            self.classifier = nn.Sequential(nn.Conv3d(80, out_channels, kernel_size=1, bias=False),
                                            make_normalization(normalization, out_channels, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(B, C, Z, Y, X)`` for input ``(B, in_channels, Z, Y, X)``; any size (no pooling)."""
        x = self.initial(x)
        outputs = [x]
        for stage in self.stages:
            x = stage(x)
            outputs.append(x)
        if self.dense_skip:
            x = torch.cat(outputs, dim=1)
        return self.classifier(self.head(x))


def highres3dnet_parameter_count(in_channels: int, out_channels: int) -> int:
    """Closed form 808,784 + 82·C + 432·(in_channels − 1) of the batch-norm/ReLU HighRes3DNet."""
    return 808_784 + 82 * out_channels + 432 * (in_channels - 1)


# ---------------------------------------------------------------------------------------------------
# 2D-3D cascade (Mlynarski et al., CMIG 2019)


class ThreeConvolutionSubnetwork(nn.Module):
    """"2D model 2" subnetwork: three 3×3 conv–BN–ReLU layers (``features_channels`` outputs)."""

    def __init__(self, in_channels: int, features_channels: int, **options: object) -> None:
        super().__init__()
        self.layers = nn.Sequential(
            ConvolutionUnit(in_channels, features_channels, dropout=0.0, **options),  # type: ignore[arg-type]
            ConvolutionUnit(features_channels, features_channels, dropout=0.0, **options),  # type: ignore[arg-type]
            ConvolutionUnit(features_channels, features_channels, dropout=0.0, **options),  # type: ignore[arg-type]
        )
        self.features_channels = features_channels

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Output feature maps, same spatial size as ``x``."""
        return self.layers(x)


class ModalitySpecificUNet2D(nn.Module):
    """2-D model with modality-specific subnetworks (Mlynarski et al.'s "2D model 1/2").

    One subnetwork per input channel (modality) and one on all channels; each has its own 1×1
    classification layer. The main U-Net receives the concatenated subnetwork features. The forward
    pass returns the main logits and the list of subnetwork logits, for the convex loss
    ``0.75 · main + 0.25 · mean(subnetworks)`` (0.05 each with the paper's 5 subnetworks).

    Parameters
    ----------
    in_channels, out_channels : int
        Modalities and classes.
    subnetwork : str
        ``unet`` (reduced U-Net, one pooling; "2D model 1") or ``conv`` (three conv layers; "2D model 2").
    subnetwork_channels : int
        Feature channels of each subnetwork.
    base_channels, n_pooling : int
        Of the main U-Net.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        *,
        subnetwork: str = "unet",
        subnetwork_channels: int = 8,
        base_channels: int = 16,
        n_pooling: int = 2,
        normalization: str = "batch",
        activation: str = "relu",
    ) -> None:
        super().__init__()
        options = {"normalization": normalization, "activation": activation}

        def build(subnetwork_in: int) -> nn.Module:
            if subnetwork == "unet":
                return UNet(subnetwork_in, out_channels, base_channels=subnetwork_channels, n_pooling=1,
                            dropout=0.0, **options)  # type: ignore[arg-type]
            if subnetwork == "conv":
                return ThreeConvolutionSubnetwork(subnetwork_in, subnetwork_channels, **options)
            raise ValueError(f"subnetwork must be 'unet' or 'conv', got {subnetwork!r}")

        self.subnetworks = nn.ModuleList([build(1) for _ in range(in_channels)] + [build(in_channels)])
        self.subnetwork_classifiers = nn.ModuleList(
            nn.Conv2d(subnetwork_channels, out_channels, kernel_size=1) for _ in self.subnetworks)
        self.main = UNet(subnetwork_channels * len(self.subnetworks), out_channels, base_channels=base_channels,
                         n_pooling=n_pooling, dropout=0.0, **options)  # type: ignore[arg-type]
        self.in_channels = in_channels

    def forward_all(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Main logits and subnetwork logits, each ``(B, out_channels, Y, X)``."""
        inputs = [x[:, i : i + 1] for i in range(self.in_channels)] + [x]
        features = [net.features(part) for net, part in zip(self.subnetworks, inputs)]
        subnetwork_logits = [classifier(f) for classifier, f in zip(self.subnetwork_classifiers, features)]
        return self.main(torch.cat(features, dim=1)), subnetwork_logits

    def forward(
        self, x: torch.Tensor, return_subnetworks: bool = False
    ) -> torch.Tensor | tuple[torch.Tensor, list[torch.Tensor]]:
        """Main logits (what the 3-D model receives as features), or with ``return_subnetworks`` also the
        subnetwork logits (for training through a DDP wrapper, which must see the forward call)."""
        return self.forward_all(x) if return_subnetworks else self.forward_all(x)[0]


ORIENTATIONS = {"axial": 0, "coronal": 1, "sagittal": 2}


def slice_logits(model: nn.Module, volume: torch.Tensor, axis: int, *, batch_size: int = 32) -> torch.Tensor:
    """Run a 2-D model on every slice of ``volume`` ``(C, Z, Y, X)`` along ``axis`` (0 z, 1 y, 2 x).

    Returns the unnormalised outputs of the final layer restacked to ``(classes, Z, Y, X)``.
    """
    moved = volume.movedim(axis + 1, 0)  # (S, C, a, b)
    outputs = [model(moved[start : start + batch_size]) for start in range(0, moved.shape[0], batch_size)]
    return torch.cat(outputs, dim=0).movedim(0, axis + 1)


def orthogonal_features(models: Sequence[nn.Module], volume: torch.Tensor, *, batch_size: int = 32) -> torch.Tensor:
    """Stack the logits of the axial, coronal and sagittal 2-D models: ``(3·classes, Z, Y, X)``.

    ``models`` are in the order axial (slices along z), coronal (along y), sagittal (along x).
    """
    if len(models) != 3:
        raise ValueError(f"expected 3 models (axial, coronal, sagittal), got {len(models)}")
    return torch.cat([slice_logits(m, volume, axis, batch_size=batch_size) for axis, m in enumerate(models)], dim=0)


class FeatureInputUNet3D(UNet):
    """3-D U-Net-like model "A" of the cascade: image channels + 2-D features at the input.

    ``feature_scale`` multiplies the feature channels (the paper rescales inputs so images and
    features have similar ranges; no normalisation layers by default, as in the paper).
    """

    def __init__(
        self,
        image_channels: int,
        feature_channels: int,
        out_channels: int,
        *,
        base_channels: int = 16,
        n_pooling: int = 2,
        normalization: str = "none",
        activation: str = "relu",
        feature_scale: float = 1.0,
    ) -> None:
        super().__init__(image_channels + feature_channels, out_channels, base_channels=base_channels,
                         n_pooling=n_pooling, dimensions=3, dropout=0.0, normalization=normalization,
                         activation=activation)
        self.image_channels = image_channels
        self.feature_scale = feature_scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits for ``x = concat(images, features)`` along channels, ``(B, C_img + C_feat, Z, Y, X)``."""
        if self.feature_scale != 1.0:
            x = torch.cat([x[:, : self.image_channels], x[:, self.image_channels :] * self.feature_scale], dim=1)
        return super().forward(x)
