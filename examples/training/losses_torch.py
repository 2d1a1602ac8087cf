"""Segmentation losses of the reference training scripts (PyTorch): Dice, generalised Dice, focal,
Tanimoto, cross-entropy with batch-adaptive class weights, and their combinations.

Example code, not part of :mod:`pymia`. Every loss takes ``logits`` ``(B, C, *spatial)`` and integer
class labels ``target`` ``(B, *spatial)`` (a singleton channel ``(B, 1, *spatial)`` is accepted too),
computes in float32 (safe under autocast) and returns a scalar. The tests compare them with MONAI's
``DiceLoss``, ``GeneralizedDiceLoss`` and ``FocalLoss`` on random tensors.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn
from torch.nn import functional

LossFunction = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def _class_indices(target: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    if target.dim() == logits.dim() and target.shape[1] == 1:
        target = target[:, 0]
    if target.shape != logits.shape[:1] + logits.shape[2:]:
        raise ValueError(f"target shape {tuple(target.shape)} does not match logits {tuple(logits.shape)}: expected "
                         "(B, *spatial) or (B, 1, *spatial) class indices")
    return target.long()


def one_hot(target: torch.Tensor, n_classes: int) -> torch.Tensor:
    """Class indices ``(B, *spatial)`` → float one-hot ``(B, n_classes, *spatial)``."""
    return functional.one_hot(target, n_classes).movedim(-1, 1).float()


def _overlap_terms(
    logits: torch.Tensor, target: torch.Tensor, *, squared: bool, batch: bool
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Softmax probabilities vs one-hot labels: intersection, Σp (or Σp²), Σl (or Σl²) per class."""
    logits = logits.float()
    labels = one_hot(_class_indices(target, logits), logits.shape[1])
    probabilities = torch.softmax(logits, dim=1)
    axes = [0, *range(2, logits.dim())] if batch else list(range(2, logits.dim()))
    intersection = (probabilities * labels).sum(axes)
    if squared:
        return intersection, (probabilities**2).sum(axes), (labels**2).sum(axes)
    return intersection, probabilities.sum(axes), labels.sum(axes)


def _drop_background(*terms: torch.Tensor, include_background: bool) -> tuple[torch.Tensor, ...]:
    return terms if include_background else tuple(t[..., 1:] for t in terms)


def soft_dice_loss(
    logits: torch.Tensor,
    target: torch.Tensor,
    *,
    include_background: bool = True,
    batch: bool = False,
    smooth_numerator: float = 1e-5,
    smooth_denominator: float = 1e-5,
) -> torch.Tensor:
    """Mean over samples and classes of 1 − (2·Σpl + s_nr) / (Σp + Σl + s_dr), p = softmax(logits).

    ``batch=True`` sums over the batch before dividing (one Dice per class, as nnU-Net's batch Dice).
    """
    intersection, prediction_sum, label_sum = _drop_background(
        *_overlap_terms(logits, target, squared=False, batch=batch), include_background=include_background)
    dice = (2 * intersection + smooth_numerator) / (prediction_sum + label_sum + smooth_denominator)
    return (1 - dice).mean()


def tanimoto_loss(
    logits: torch.Tensor, target: torch.Tensor, *, include_background: bool = True, batch: bool = False,
    smooth: float = 1e-5,
) -> torch.Tensor:
    """Tanimoto (soft Jaccard with squares) loss: 1 − (Σpl + s) / (Σp² + Σl² − Σpl + s), mean over classes.

    Equals MONAI's ``DiceLoss(squared_pred=True, jaccard=True, smooth_nr=2s, smooth_dr=2s)``.
    """
    intersection, prediction_sum, label_sum = _drop_background(
        *_overlap_terms(logits, target, squared=True, batch=batch), include_background=include_background)
    tanimoto = (intersection + smooth) / (prediction_sum + label_sum - intersection + smooth)
    return (1 - tanimoto).mean()


def generalized_dice_loss(
    logits: torch.Tensor,
    target: torch.Tensor,
    *,
    include_background: bool = True,
    batch: bool = False,
    smooth_numerator: float = 1e-5,
    smooth_denominator: float = 1e-5,
) -> torch.Tensor:
    """Generalised Dice loss (Sudre et al. 2017) with class weights w_c = 1 / (Σl_c)².

    1 − 2·Σ_c w_c Σpl / Σ_c w_c (Σp + Σl), per sample (or over the batch with ``batch=True``).
    A class absent from the labels has an infinite weight; it gets the largest finite weight of
    its sample instead (MONAI's convention), so absent classes still penalise false positives.
    """
    intersection, prediction_sum, label_sum = _drop_background(
        *_overlap_terms(logits, target, squared=False, batch=batch), include_background=include_background)
    weights = 1.0 / label_sum**2
    infinite = torch.isinf(weights)
    weights = torch.where(infinite, torch.zeros_like(weights), weights)
    largest = weights.max(dim=-1, keepdim=True).values
    weights = torch.where(infinite, largest.expand_as(weights), weights)
    numerator = 2 * (weights * intersection).sum(-1) + smooth_numerator
    denominator = (weights * (prediction_sum + label_sum)).sum(-1) + smooth_denominator
    return (1 - numerator / denominator).mean()


def focal_loss(
    logits: torch.Tensor, target: torch.Tensor, *, alpha: float | None = 0.75, gamma: float = 2.0
) -> torch.Tensor:
    """Sigmoid focal loss (Lin et al. 2017) per class channel against one-hot labels, mean over all.

    −α_t (1 − p_t)^γ log p_t with p = σ(logit), α_t = α for the positives and 1 − α for negatives
    (``alpha=None``: no α weighting). The lung-tumour recipe uses α = 0.75, γ = 2.
    """
    logits = logits.float()
    labels = one_hot(_class_indices(target, logits), logits.shape[1])
    log_p = functional.logsigmoid(logits)
    log_not_p = functional.logsigmoid(-logits)
    log_p_t = labels * log_p + (1 - labels) * log_not_p
    loss = -((1 - log_p_t.exp()) ** gamma) * log_p_t
    if alpha is not None:
        loss = loss * (labels * alpha + (1 - labels) * (1 - alpha))
    return loss.mean()


def cross_entropy_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Unweighted softmax cross-entropy, mean over voxels (pymia's U-Net examples)."""
    return functional.cross_entropy(logits.float(), _class_indices(target, logits))


def batch_adaptive_cross_entropy(
    logits: torch.Tensor, target: torch.Tensor, class_targets: Sequence[float]
) -> torch.Tensor:
    """Cross-entropy with Mlynarski et al.'s batch-adaptive class weights.

    Each voxel of class c weighs t_c / N_c, where N_c is the number of voxels of class c in the
    batch and Σ t_c = 1 (2-D: (0.7, 0.1, 0.1, 0.1); 3-D: (0.4, 0.2, 0.2, 0.2)). The paper assumes
    every class occurs in every batch; here the targets of absent classes are dropped and the rest
    renormalised to sum 1, so the loss stays a weighted mean of −log p.
    """
    target = _class_indices(target, logits)
    n_classes = logits.shape[1]
    if len(class_targets) != n_classes:
        raise ValueError(f"{len(class_targets)} class targets given for {n_classes} classes")
    counts = torch.bincount(target.reshape(-1), minlength=n_classes).float()
    targets = torch.as_tensor(class_targets, dtype=torch.float32, device=logits.device) * (counts > 0)
    targets = targets / targets.sum()
    weights_per_class = torch.where(counts > 0, targets / counts.clamp(min=1), torch.zeros_like(targets))
    negative_log_p = functional.cross_entropy(logits.float(), target, reduction="none")
    return (weights_per_class[target] * negative_log_p).sum()


class CombinedLoss(nn.Module):
    """Weighted combination of losses: ``sum`` Σ w_i·L_i, or ``product`` Π L_i^w_i.

    The CT recipe's Tanimoto^0.6 · CE^0.4 is ``CombinedLoss([tanimoto_loss, cross_entropy_loss],
    [0.6, 0.4], mode='product')`` (a weighted geometric mean; each term is clamped at 1e-8 so the
    gradient stays finite); nnU-Net's Dice + CE is ``mode='sum'`` with weights 1, 1.
    """

    def __init__(self, losses: Sequence[LossFunction], weights: Sequence[float], *, mode: str = "sum") -> None:
        super().__init__()
        if len(losses) != len(weights):
            raise ValueError(f"{len(losses)} losses but {len(weights)} weights")
        if mode not in ("sum", "product"):
            raise ValueError(f"mode must be 'sum' or 'product', got {mode!r}")
        self.losses = list(losses)
        self.weights = [float(w) for w in weights]
        self.mode = mode

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Combined scalar loss."""
        values = [loss(logits, target) for loss in self.losses]
        if self.mode == "sum":
            return sum(w * v for w, v in zip(self.weights, values))  # type: ignore[return-value]
        result = torch.ones((), device=logits.device)
        for w, v in zip(self.weights, values):
            result = result * v.clamp(min=1e-8) ** w
        return result


def make_loss(name: str) -> LossFunction:
    """Loss by name: ``ce``, ``dice``, ``generalized_dice``, ``focal``, ``tanimoto``, ``dice_ce``,
    ``tanimoto_ce`` (Tanimoto^0.6·CE^0.4) or ``tanimoto_ce_sum`` (0.6·Tanimoto + 0.4·CE)."""
    losses: dict[str, LossFunction] = {
        "ce": cross_entropy_loss,
        "dice": soft_dice_loss,
        "generalized_dice": generalized_dice_loss,
        "focal": focal_loss,
        "tanimoto": tanimoto_loss,
        "dice_ce": CombinedLoss([soft_dice_loss, cross_entropy_loss], [1.0, 1.0]),
        "tanimoto_ce": CombinedLoss([tanimoto_loss, cross_entropy_loss], [0.6, 0.4], mode="product"),
        "tanimoto_ce_sum": CombinedLoss([tanimoto_loss, cross_entropy_loss], [0.6, 0.4]),
    }
    if name not in losses:
        raise ValueError(f"unknown loss {name!r}; choose one of {sorted(losses)}")
    return losses[name]


LOSS_NAMES = ("ce", "dice", "generalized_dice", "focal", "tanimoto", "dice_ce", "tanimoto_ce", "tanimoto_ce_sum")
