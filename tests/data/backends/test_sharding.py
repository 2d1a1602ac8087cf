"""The shard function shared by the torch and tf adapters: coverage, equal lengths, determinism."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pymia.data.backends.sharding import shard_indices
from pymia.errors import InvalidInputError


@settings(max_examples=25, deadline=None)
@given(n=st.integers(0, 60), world=st.integers(1, 7), seed=st.integers(0, 5), epoch=st.integers(0, 3))
def test_pad_and_drop_give_equal_lengths_and_cover_as_documented(n, world, seed, epoch):
    for shuffle in (False, True):
        padded = [shard_indices(n, r, world, shuffle=shuffle, seed=seed, epoch=epoch) for r in range(world)]
        dropped = [
            shard_indices(n, r, world, mode="drop", shuffle=shuffle, seed=seed, epoch=epoch) for r in range(world)
        ]
        assert len({len(s) for s in padded}) == 1 and len({len(s) for s in dropped}) == 1
        all_padded = np.concatenate(padded)
        assert set(all_padded.tolist()) == set(range(n))  # every sample at least once
        assert len(all_padded) == (-(-n // world) * world if n else 0)  # padded up to a multiple of world
        all_dropped = np.concatenate(dropped)
        assert len(all_dropped) == len(set(all_dropped.tolist())) == n - n % world  # no duplicates


@settings(max_examples=25, deadline=None)
@given(n=st.integers(0, 60), world=st.integers(1, 7), data=st.data())
def test_exact_covers_every_sample_once_in_contiguous_blocks(n, world, data):
    groups = np.sort(data.draw(st.lists(st.integers(0, 5), min_size=n, max_size=n))) if n else np.zeros(0, int)
    for group_argument in (None, groups):
        shards = [shard_indices(n, r, world, mode="exact", groups=group_argument) for r in range(world)]
        np.testing.assert_array_equal(np.concatenate(shards), np.arange(n))
        if group_argument is None:
            assert max(map(len, shards)) - min(map(len, shards)) <= 1
        else:
            for left, right in itertools.pairwise(shards):  # no group split across ranks
                if len(left) and len(right):
                    assert groups[left[-1]] != groups[right[0]]


def test_shuffle_depends_on_seed_and_epoch_only():
    first = shard_indices(100, 1, 3, shuffle=True, seed=4, epoch=2)
    np.testing.assert_array_equal(first, shard_indices(100, 1, 3, shuffle=True, seed=4, epoch=2))
    assert not np.array_equal(first, shard_indices(100, 1, 3, shuffle=True, seed=4, epoch=3))
    assert not np.array_equal(first, shard_indices(100, 1, 3, shuffle=True, seed=5, epoch=2))


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"rank": 2, "world_size": 2}, "0 <= rank < world_size, got rank=2"),
        ({"mode": "round"}, "mode must be one of"),
        ({"mode": "exact", "shuffle": True}, "cannot shuffle"),
        ({"groups": [0] * 10}, "only used with mode='exact'"),
        ({"mode": "exact", "groups": [0] * 3}, r"shape \(10,\), got shape \(3,\)"),
    ],
)
def test_invalid_arguments(arguments, message):
    kwargs = {"rank": 0, "world_size": 2, **arguments}
    with pytest.raises(InvalidInputError, match=message):
        shard_indices(10, kwargs.pop("rank"), kwargs.pop("world_size"), **kwargs)
