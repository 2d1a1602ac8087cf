"""Split sample numbers across distributed ranks: the one shard function of the torch and tf adapters.

Training shards are equally long on every rank (padded by repeating samples, or trimmed), so
collective operations stay in step; evaluation shards cover every sample exactly once, in
contiguous blocks that keep a subject's samples on one rank where possible.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pymia.errors import InvalidInputError

__all__ = ["SHARD_MODES", "check_rank", "shard_indices"]

#: ``'pad'``: repeat samples from the start until every rank has the same count (PyTorch's
#: ``DistributedSampler(drop_last=False)``); ``'drop'``: leave out the tail instead;
#: ``'exact'``: every sample exactly once, shards may differ in length (for evaluation).
SHARD_MODES = ("pad", "drop", "exact")


def check_rank(rank: int, world_size: int) -> None:
    """Raise :class:`~pymia.errors.InvalidInputError` unless ``0 <= rank < world_size``."""
    if world_size < 1 or not 0 <= rank < world_size:
        raise InvalidInputError(f"rank must satisfy 0 <= rank < world_size, got rank={rank}, world_size={world_size}")


def _exact_blocks(n_samples: int, world_size: int, groups: np.ndarray | None) -> np.ndarray:
    """Return ``world_size + 1`` block boundaries splitting ``range(n_samples)`` into near-equal parts."""
    targets = (np.arange(world_size + 1, dtype=np.int64) * n_samples) // world_size
    if groups is None:
        return targets
    # Cut only where the group (subject) changes, at the change nearest to each equal-split target.
    changes = np.concatenate(([0], np.flatnonzero(groups[1:] != groups[:-1]) + 1, [n_samples]))
    nearest = np.abs(changes[np.newaxis, :] - targets[:, np.newaxis]).argmin(axis=1)
    return changes[nearest]


def shard_indices(
    n_samples: int,
    rank: int,
    world_size: int,
    *,
    mode: str = "pad",
    shuffle: bool = False,
    seed: int = 0,
    epoch: int = 0,
    groups: Sequence[int] | np.ndarray | None = None,
) -> np.ndarray:
    """Return the sample numbers that rank ``rank`` of ``world_size`` reads.

    Parameters
    ----------
    n_samples : int
        Number of samples of the dataset (the numbers are ``0 .. n_samples - 1``).
    rank, world_size : int
        This process's rank and the number of ranks (``0 <= rank < world_size``).
    mode : {'pad', 'drop', 'exact'}, optional
        How to handle ``n_samples`` not divisible by ``world_size`` (see :data:`SHARD_MODES`).
        ``'pad'`` (default) and ``'drop'`` deal samples round-robin from a (shuffled) order, as
        PyTorch's ``DistributedSampler``; ``'exact'`` gives contiguous blocks, never shuffled, so
        each sample is read once by one rank.
    shuffle : bool, optional
        Permute the samples (``'pad'``/``'drop'`` only) with a generator seeded by ``(seed, epoch)``,
        the same on every rank.
    seed, epoch : int, optional
        Seed of the permutation and the epoch mixed into it, so every epoch has another order.
    groups : sequence of int, optional
        ``'exact'`` only: a group (e.g. subject) number per sample, in sample order; blocks are cut
        only where the group changes, so a subject is not split across ranks (shards are then only
        roughly equal).

    Returns
    -------
    numpy.ndarray
        int64 sample numbers of this rank, in reading order.

    Examples
    --------
    >>> shard_indices(10, 1, 4).tolist()                  # padded with samples 0 and 1
    [1, 5, 9]
    >>> shard_indices(10, 3, 4, mode="drop").tolist()
    [3, 7]
    >>> shard_indices(10, 1, 4, mode="exact").tolist()     # blocks [0, 2), [2, 5), [5, 7), [7, 10)
    [2, 3, 4]
    """
    check_rank(rank, world_size)
    if mode not in SHARD_MODES:
        raise InvalidInputError(f"mode must be one of {SHARD_MODES}, got {mode!r}")
    if n_samples < 0:
        raise InvalidInputError(f"n_samples must be >= 0, got {n_samples}")
    if mode == "exact":
        if shuffle:
            raise InvalidInputError(
                "mode='exact' keeps samples in contiguous blocks and cannot shuffle; shuffle within the shard "
                "yourself, or use mode='pad' or 'drop' for training"
            )
        group_array = None
        if groups is not None:
            group_array = np.asarray(groups)
            if group_array.shape != (n_samples,):
                raise InvalidInputError(
                    f"groups must hold one entry per sample, shape ({n_samples},), got shape {group_array.shape}"
                )
        bounds = _exact_blocks(n_samples, world_size, group_array)
        return np.arange(bounds[rank], bounds[rank + 1], dtype=np.int64)
    if groups is not None:
        raise InvalidInputError(f"groups is only used with mode='exact', got mode={mode!r}")
    order = (
        np.random.default_rng([seed, epoch]).permutation(n_samples) if shuffle else np.arange(n_samples, dtype=np.int64)
    )
    if mode == "drop":
        order = order[: n_samples - n_samples % world_size]
    elif n_samples % world_size:
        padding = world_size - n_samples % world_size
        order = np.concatenate([order, np.resize(order, padding)]) if n_samples else order
    return order[rank::world_size].astype(np.int64, copy=False)
