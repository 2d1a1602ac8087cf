"""Random zoom in or out about the array centre (e.g. factors 0.9–1.1), keeping the array shape."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

import pymia.data.definition as defs
from pymia.data.augmentation._spatial import centred_offset
from pymia.data.augmentation.randomtransform import SeedLike
from pymia.data.augmentation.resamplingtransform import ResamplingTransform
from pymia.errors import InvalidInputError

__all__ = ["RandomScaling"]


class RandomScaling(ResamplingTransform):
    """Scale the sample about its centre by a random factor, the same for every entry.

    The factor is drawn uniformly from [``minimum``, ``maximum``]; a factor above 1 enlarges the content
    (zoom in; the borders are cut off), below 1 shrinks it (the border is filled according to ``mode``).
    The output keeps the input shape.

    Parameters
    ----------
    minimum, maximum : float, default 0.9 and 1.1
        The range of the scaling factor; both positive, ``minimum <= maximum``. 1 and 1 is the identity.
    isotropic : bool, default True
        One factor for all spatial axes; if ``False``, one factor per axis.
    p : float, default 1.0
        Probability that the sample is scaled.
    entries : sequence of str, default ('images', 'labels')
        The sample keys to scale; all must share their spatial shape.
    order, label_entries, mode, fill_value, seed, rng
        See :class:`~pymia.data.augmentation.ResamplingTransform` (images linear, labels nearest).
    """

    def __init__(
        self,
        minimum: float = 0.9,
        maximum: float = 1.1,
        p: float = 1.0,
        entries: Sequence[str] = (defs.KEY_IMAGES, defs.KEY_LABELS),
        *,
        isotropic: bool = True,
        order: int = 1,
        label_entries: Sequence[str] = (defs.KEY_LABELS,),
        mode: str = "constant",
        fill_value: float = 0.0,
        seed: SeedLike = None,
        rng: np.random.Generator | None = None,
    ) -> None:
        super().__init__(
            p=p,
            entries=entries,
            order=order,
            label_entries=label_entries,
            mode=mode,
            fill_value=fill_value,
            seed=seed,
            rng=rng,
        )
        if not (np.isfinite(minimum) and np.isfinite(maximum) and 0 < minimum <= maximum):
            raise InvalidInputError(
                f"RandomScaling needs 0 < minimum <= maximum, got minimum={minimum!r}, maximum={maximum!r}"
            )
        self.minimum = float(minimum)
        self.maximum = float(maximum)
        self.isotropic = bool(isotropic)

    def draw_mapping(self, spatial_shape: tuple[int, ...]) -> dict:
        ndim = len(spatial_shape)
        if self.isotropic:
            factors = np.full(ndim, self.rng.uniform(self.minimum, self.maximum))
        else:
            factors = self.rng.uniform(self.minimum, self.maximum, size=ndim)
        # output index o comes from input position (o - centre) / factor + centre; a diagonal matrix
        # passed as 1-D takes scipy's faster zoom-and-shift path
        diagonal = 1.0 / factors
        return {"matrix": diagonal, "offset": centred_offset(diagonal, spatial_shape)}
