"""Losses of ``examples/training/losses_torch.py`` against MONAI 1.6.1 on random tensors.

MONAI is the independent oracle (a test-only dependency): ``DiceLoss(softmax=True, to_onehot_y=True)``,
``GeneralizedDiceLoss``, ``FocalLoss(alpha=0.75, gamma=2)`` and ``DiceLoss(squared_pred=True,
jaccard=True)`` = Tanimoto (verified equivalence in shared/research/training-recipes.md §2).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
monai_losses = pytest.importorskip("monai.losses")

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples" / "training"))
import losses_torch  # noqa: E402


@pytest.fixture(params=[(2, 3, 9, 11), (2, 4, 5, 6, 7)], ids=["2d", "3d"])
def logits_and_target(request: pytest.FixtureRequest) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(7)
    shape = request.param
    logits = torch.randn(shape, generator=generator) * 3
    target = torch.randint(0, shape[1], (shape[0], *shape[2:]), generator=generator)
    return logits, target


@pytest.mark.parametrize("include_background", [True, False])
@pytest.mark.parametrize("batch", [False, True])
def test_soft_dice_equals_monai(logits_and_target, include_background: bool, batch: bool) -> None:
    logits, target = logits_and_target
    ours = losses_torch.soft_dice_loss(logits, target, include_background=include_background, batch=batch)
    reference = monai_losses.DiceLoss(softmax=True, to_onehot_y=True, include_background=include_background,
                                      batch=batch)(logits, target[:, None])
    assert ours.item() == pytest.approx(reference.item(), abs=1e-6)


@pytest.mark.parametrize("batch", [False, True])
def test_tanimoto_equals_monai_squared_jaccard_dice(logits_and_target, batch: bool) -> None:
    """MONAI's smoothing s enters as 2I + s over 2(P + L − I) + s, i.e. our Tanimoto with s/2."""
    logits, target = logits_and_target
    ours = losses_torch.tanimoto_loss(logits, target, smooth=0.5, batch=batch)
    reference = monai_losses.DiceLoss(softmax=True, to_onehot_y=True, squared_pred=True, jaccard=True,
                                      smooth_nr=1.0, smooth_dr=1.0, batch=batch)(logits, target[:, None])
    assert ours.item() == pytest.approx(reference.item(), abs=1e-6)


@pytest.mark.parametrize("batch", [False, True])
def test_generalized_dice_equals_monai(logits_and_target, batch: bool) -> None:
    logits, target = logits_and_target
    target = target.clone()
    target[target == 1] = 0  # one absent class exercises the infinite-weight rule
    ours = losses_torch.generalized_dice_loss(logits, target, batch=batch)
    reference = monai_losses.GeneralizedDiceLoss(softmax=True, to_onehot_y=True, batch=batch)(logits, target[:, None])
    assert ours.item() == pytest.approx(reference.item(), abs=1e-6)


@pytest.mark.parametrize(("alpha", "gamma"), [(0.75, 2.0), (None, 2.0), (0.25, 0.0)])
def test_focal_equals_monai(logits_and_target, alpha: float | None, gamma: float) -> None:
    logits, target = logits_and_target
    ours = losses_torch.focal_loss(logits, target, alpha=alpha, gamma=gamma)
    reference = monai_losses.FocalLoss(to_onehot_y=True, alpha=alpha, gamma=gamma)(logits, target[:, None])
    assert ours.item() == pytest.approx(reference.item(), rel=1e-5, abs=1e-7)


def test_cross_entropy_accepts_singleton_channel(logits_and_target) -> None:
    logits, target = logits_and_target
    assert losses_torch.cross_entropy_loss(logits, target[:, None]).item() == pytest.approx(
        torch.nn.functional.cross_entropy(logits, target).item())


def test_mismatched_target_shape_is_rejected() -> None:
    with pytest.raises(ValueError, match="does not match logits"):
        losses_torch.soft_dice_loss(torch.zeros(2, 3, 4, 4), torch.zeros(2, 5, 4, dtype=torch.long))


def test_batch_adaptive_cross_entropy_by_hand() -> None:
    """Hand computation: voxels of class c weigh t_c / N_c (Mlynarski et al. 2019, eq. in §2.2)."""
    logits = torch.tensor([[[0.0, 2.0, 0.0], [1.0, 0.0, 0.0]]]).reshape(1, 2, 3)  # (B=1, C=2, 3 voxels)
    target = torch.tensor([[0, 0, 1]])
    negative_log_p = torch.nn.functional.cross_entropy(logits, target, reduction="none")[0].numpy()
    expected = 0.7 / 2 * (negative_log_p[0] + negative_log_p[1]) + 0.3 / 1 * negative_log_p[2]
    ours = losses_torch.batch_adaptive_cross_entropy(logits, target, (0.7, 0.3)).item()
    assert ours == pytest.approx(float(expected), rel=1e-6)


def test_batch_adaptive_cross_entropy_renormalises_absent_classes() -> None:
    logits = torch.randn(1, 3, 4)
    target = torch.tensor([[0, 0, 2, 2]])
    negative_log_p = torch.nn.functional.cross_entropy(logits, target, reduction="none")[0].numpy()
    expected = (0.4 / 0.6) / 2 * negative_log_p[:2].sum() + (0.2 / 0.6) / 2 * negative_log_p[2:].sum()
    ours = losses_torch.batch_adaptive_cross_entropy(logits, target, (0.4, 0.4, 0.2)).item()
    assert ours == pytest.approx(float(expected), rel=1e-6)


def test_product_combination_is_weighted_geometric_mean(logits_and_target) -> None:
    logits, target = logits_and_target
    tanimoto = losses_torch.tanimoto_loss(logits, target).item()
    cross_entropy = losses_torch.cross_entropy_loss(logits, target).item()
    combined = losses_torch.make_loss("tanimoto_ce")(logits, target).item()
    assert combined == pytest.approx(tanimoto**0.6 * cross_entropy**0.4, rel=1e-6)
    summed = losses_torch.make_loss("tanimoto_ce_sum")(logits, target).item()
    assert summed == pytest.approx(0.6 * tanimoto + 0.4 * cross_entropy, rel=1e-6)


@pytest.mark.parametrize("name", losses_torch.LOSS_NAMES)
def test_every_loss_is_differentiable_and_lower_for_the_right_answer(name: str) -> None:
    target = torch.from_numpy(np.random.default_rng(3).integers(0, 3, (2, 8, 8)))
    perfect = torch.nn.functional.one_hot(target, 3).movedim(-1, 1).float() * 20 - 10
    wrong = torch.roll(perfect, 1, dims=1).requires_grad_(True)
    loss = losses_torch.make_loss(name)
    wrong_value = loss(wrong, target)
    wrong_value.backward()
    assert wrong.grad is not None and torch.isfinite(wrong.grad).all()
    assert loss(perfect, target).item() < wrong_value.item()


def test_unknown_loss_name_lists_choices() -> None:
    with pytest.raises(ValueError, match="choose one of"):
        losses_torch.make_loss("hinge")
