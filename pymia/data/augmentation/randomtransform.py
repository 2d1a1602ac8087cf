"""The base class of every seeded augmentation: a :class:`~pymia.data.transformation.Transform` owning a generator.

Each random transform draws from its own :class:`numpy.random.Generator`, so a seed makes it reproducible
and independent of NumPy's global state; :meth:`RandomTransform.reseed` gives it a new stream (per worker
or per sample, see :mod:`pymia.data.augmentation.seeding`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pymia.data.transformation.transform import Transform
from pymia.errors import InvalidInputError

__all__ = ["RandomTransform", "SeedLike"]

#: What a seed may be: an int, a sequence of ints (entropy, e.g. ``(seed, epoch, sample_index)``), a
#: :class:`numpy.random.SeedSequence`, or ``None`` for fresh entropy from the operating system.
SeedLike = int | Sequence[int] | np.random.SeedSequence | None


def make_generator(seed: SeedLike | np.random.Generator) -> np.random.Generator:
    """Return a new :class:`numpy.random.Generator` from ``seed`` (a generator is returned as is)."""
    if isinstance(seed, np.random.Generator):
        return seed
    try:
        return np.random.default_rng(seed)
    except (TypeError, ValueError) as error:
        raise InvalidInputError(
            f"cannot seed a random generator with {seed!r} ({error}); pass a non-negative int, a sequence of "
            "non-negative ints, a numpy.random.SeedSequence or None"
        ) from error


def check_probability(p: float, owner: str) -> float:
    """Return ``p`` as float if it lies in [0, 1]; raise :class:`~pymia.errors.InvalidInputError` otherwise."""
    if not isinstance(p, (int, float, np.floating, np.integer)) or not 0.0 <= float(p) <= 1.0:
        raise InvalidInputError(f"{owner} needs a probability p in [0, 1], got p={p!r}")
    return float(p)


class RandomTransform(Transform):
    """Base class of the random transforms: holds a seeded :class:`numpy.random.Generator`.

    Every random draw of a subclass comes from :attr:`rng`, never from NumPy's global state, so two
    transforms built with the same seed produce the same sequence of outputs.

    Parameters
    ----------
    seed : int, sequence of int, numpy.random.SeedSequence or None, optional
        Seed of the generator. ``None`` (default) takes fresh entropy from the operating system (not
        reproducible). Keyword-only in every subclass.
    rng : numpy.random.Generator, optional
        A generator to draw from instead (shared, not copied). Give ``seed`` or ``rng``, not both.

    Notes
    -----
    PyTorch's ``DataLoader`` copies the dataset, and with it this generator, into every worker process,
    so all workers would draw the same numbers. Give each worker its own stream with
    :func:`pymia.data.augmentation.make_worker_init_fn`, or call :meth:`reseed` yourself.
    """

    def __init__(self, *, seed: SeedLike = None, rng: np.random.Generator | None = None) -> None:
        if seed is not None and rng is not None:
            raise InvalidInputError(
                f"{type(self).__name__} got both seed={seed!r} and rng={rng!r}; pass only one of them"
            )
        if rng is not None and not isinstance(rng, np.random.Generator):
            raise InvalidInputError(
                f"{type(self).__name__} needs rng to be a numpy.random.Generator, got {type(rng).__name__}; "
                "create one with numpy.random.default_rng(seed)"
            )
        self.seed = seed
        self._rng = rng if rng is not None else make_generator(seed)
        self._owns_rng = rng is None  # a generator given by the caller is replaced, never changed in place

    @property
    def rng(self) -> np.random.Generator:
        """The generator every random draw of this transform comes from."""
        return self._rng

    def reseed(self, seed: SeedLike | np.random.Generator) -> None:
        """Replace the generator by a new one built from ``seed`` (a generator is used as is).

        Parameters
        ----------
        seed : int, sequence of int, numpy.random.SeedSequence, numpy.random.Generator or None
            The new seed; ``None`` takes fresh entropy from the operating system.
        """
        self._owns_rng = not isinstance(seed, np.random.Generator)
        self._rng = make_generator(seed)

    def _set_stream(self, words: Sequence[int]) -> None:
        """Restart the generator at the PCG64 stream given by four 64-bit words (fast per-sample reseeding).

        Used by :func:`~pymia.data.augmentation.reseed_transforms`: setting the state of the generator
        this transform owns is much cheaper than building a new one, which matters when reseeding
        before every sample.
        """
        if not (self._owns_rng and isinstance(self._rng.bit_generator, np.random.PCG64)):
            self._rng = np.random.Generator(np.random.PCG64(0))
            self._owns_rng = True
        high_state, low_state, high_increment, low_increment = words
        self._rng.bit_generator.state = {
            "bit_generator": "PCG64",
            # any 128-bit state with an odd increment is a full-period PCG64 stream
            "state": {"state": (high_state << 64) | low_state, "inc": (high_increment << 64) | low_increment | 1},
            "has_uint32": 0,
            "uinteger": 0,
        }

    def _applies(self, p: float) -> bool:
        """Draw whether the transform is applied this time: true with probability ``p``.

        One number is drawn for every call, also when ``p`` is 0 or 1, so the stream of draws does not
        depend on ``p``.
        """
        return bool(self._rng.random() < p)
