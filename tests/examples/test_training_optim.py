"""The cascade paper's optimiser in ``examples/training/optim_torch.py`` (Mlynarski et al. 2019, §2.3).

Expected values are computed by hand from the update rule: v ← μ·v + g/‖g‖, θ ← θ − lr·v; the schedule
halves lr when mean(last F/2) > 0.98·mean(previous F/2) and doubles F after two such periods in a row.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples" / "training"))
import optim_torch  # noqa: E402


def test_step_uses_summed_gradient_divided_by_its_norm() -> None:
    a = torch.nn.Parameter(torch.tensor([1.0, 2.0]))
    b = torch.nn.Parameter(torch.tensor([0.5]))
    optimizer = optim_torch.NormalizedGradientSGD([a, b], lr=0.25, momentum=0.5)
    for _ in range(2):  # two batches, gradients summed: dA = 2·(3, 4)·..., dB = 2·0
        (3 * a[0] + 4 * a[1] + 0 * b[0]).backward()
    optimizer.step()
    assert torch.allclose(a.detach(), torch.tensor([1.0 - 0.25 * 0.6, 2.0 - 0.25 * 0.8]))
    assert torch.allclose(b.detach(), torch.tensor([0.5]))
    optimizer.step()  # same gradient again: velocity 0.5·v + g/|g| = 1.5·(0.6, 0.8)
    assert torch.allclose(a.detach(), torch.tensor([1.0 - 0.25 * 0.6 * 2.5, 2.0 - 0.25 * 0.8 * 2.5]))


def test_zero_gradient_is_skipped() -> None:
    p = torch.nn.Parameter(torch.ones(3))
    optimizer = optim_torch.NormalizedGradientSGD([p])
    (0 * p.sum()).backward()
    optimizer.step()
    assert torch.equal(p.detach(), torch.ones(3))


def test_schedule_halves_on_plateau_and_doubles_the_period() -> None:
    p = torch.nn.Parameter(torch.ones(1))
    optimizer = optim_torch.NormalizedGradientSGD([p], lr=0.25)
    schedule = optim_torch.PlateauHalvingSchedule(optimizer, period=4, minimum_lr=0.1)
    for loss in (1.0, 1.0, 0.5, 0.5):  # clear decrease: keep lr
        schedule.step(loss)
    assert optimizer.param_groups[0]["lr"] == 0.25
    for loss in (1.0, 1.0, 0.99, 0.99):  # 0.99 > 0.98: halve
        schedule.step(loss)
    assert optimizer.param_groups[0]["lr"] == 0.125 and schedule.period == 4
    for loss in (1.0, 1.0, 1.0, 1.0):  # second in a row: halve (clamped at 0.1) and double F
        schedule.step(loss)
    assert optimizer.param_groups[0]["lr"] == 0.1 and schedule.period == 8
    restored = optim_torch.PlateauHalvingSchedule(optimizer, period=4)
    restored.load_state_dict(schedule.state_dict())
    assert restored.period == 8


def test_invalid_arguments() -> None:
    with pytest.raises(ValueError, match="momentum"):
        optim_torch.NormalizedGradientSGD([torch.nn.Parameter(torch.ones(1))], momentum=1.0)
    with pytest.raises(ValueError, match="even"):
        optim_torch.PlateauHalvingSchedule(None, period=3)  # type: ignore[arg-type]
