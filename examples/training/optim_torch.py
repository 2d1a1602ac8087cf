"""Mlynarski et al.'s optimiser (2D-3D cascade paper) for the reference training scripts.

SGD with momentum on the gradient summed over several batches and divided by its L2 norm, with a
learning rate halved on plateaus from 0.25 down to 0.001. Example code, not part of :mod:`pymia`.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch


class NormalizedGradientSGD(torch.optim.Optimizer):
    """SGD with momentum on the gradient divided by its global L2 norm.

    Sum the gradients of N batches by calling ``backward`` N times before :meth:`step` (the paper
    uses N = 10 for the 2-D and N = 5 for the 2D-3D models); :meth:`step` divides the summed
    gradient of all parameters by its L2 norm, then applies ``v ← μ·v + g / ‖g‖``, ``θ ← θ − lr·v``.
    The paper does not state μ; 0.9 is our default.
    """

    def __init__(self, params: Iterable[torch.Tensor], lr: float = 0.25, momentum: float = 0.9) -> None:
        if lr <= 0 or not 0 <= momentum < 1:
            raise ValueError(f"need lr > 0 and 0 <= momentum < 1, got lr={lr}, momentum={momentum}")
        super().__init__(params, {"lr": lr, "momentum": momentum})

    @torch.no_grad()
    def step(self, closure=None):
        """Update the parameters with the normalised summed gradient; returns the closure's loss."""
        loss = closure() if closure is not None else None
        gradients = [p.grad for group in self.param_groups for p in group["params"] if p.grad is not None]
        if not gradients:
            return loss
        norm = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in gradients]))
        if norm == 0 or not torch.isfinite(norm):
            return loss  # nothing to learn from (or an overflow under autocast): skip the update
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                velocity = self.state[p].get("velocity")
                if velocity is None:
                    velocity = self.state[p]["velocity"] = torch.zeros_like(p)
                velocity.mul_(group["momentum"]).add_(p.grad / norm)
                p.sub_(group["lr"] * velocity)
        return loss


class PlateauHalvingSchedule:
    """The cascade paper's adaptive learning rate.

    Every ``period`` (F, initially 200) iterations, the mean loss of the last F/2 iterations is
    compared with the mean of the F/2 before; if it is above ``0.98 ×`` that, the learning rate is
    halved (never below ``minimum_lr``, 0.001). After two insufficient decreases in a row, F doubles.
    Call :meth:`step` once per optimiser step with that step's loss.
    """

    def __init__(self, optimizer: torch.optim.Optimizer, *, period: int = 200, minimum_lr: float = 1e-3,
                 required_ratio: float = 0.98) -> None:
        if period < 2 or period % 2:
            raise ValueError(f"period must be an even number >= 2, got {period}")
        self.optimizer = optimizer
        self.period = period
        self.minimum_lr = minimum_lr
        self.required_ratio = required_ratio
        self.losses: list[float] = []
        self.insufficient_in_a_row = 0

    def step(self, loss: float) -> None:
        """Record one iteration's loss and adapt the learning rate at the end of each period."""
        self.losses.append(float(loss))
        if len(self.losses) < self.period:
            return
        half = self.period // 2
        previous = sum(self.losses[:half]) / half
        current = sum(self.losses[half:]) / half
        self.losses = []
        if current > self.required_ratio * previous:
            for group in self.optimizer.param_groups:
                group["lr"] = max(group["lr"] / 2, self.minimum_lr)
            self.insufficient_in_a_row += 1
            if self.insufficient_in_a_row == 2:
                self.period *= 2
                self.insufficient_in_a_row = 0
        else:
            self.insufficient_in_a_row = 0

    def state_dict(self) -> dict:
        """Checkpointable state."""
        return {"period": self.period, "losses": list(self.losses), "insufficient_in_a_row": self.insufficient_in_a_row}

    def load_state_dict(self, state: dict) -> None:
        """Restore :meth:`state_dict`'s output."""
        self.period = state["period"]
        self.losses = list(state["losses"])
        self.insufficient_in_a_row = state["insufficient_in_a_row"]
