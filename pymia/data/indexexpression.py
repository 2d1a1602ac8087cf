"""Where a sample sits in a subject's volume: the one description shared by indexing and assembly.

An :class:`IndexExpression` is a box (a ``start``/``stop`` pair per spatial axis, in voxels, numpy
order) plus the axes that are squeezed away (a 2-D slice of a 3-D volume squeezes its slice axis).
The box may reach outside the volume (padded patches, grids with border padding): :meth:`clip`
splits it into the part inside the volume and where that part lands in the sample buffer.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["IndexExpression"]

Box = tuple[tuple[int, int], ...]


class IndexExpression:
    """A rectangular region of a volume, optionally with squeezed (integer-indexed) axes.

    Parameters
    ----------
    indexing : int, tuple, list of them, or None
        pymia 0.3.4 form: one entry per indexed axis, each an ``int`` (single index, the axis is
        squeezed) or a ``(start, stop)`` pair. ``None`` selects everything (the whole volume).
    axis : int or tuple of int, optional
        The axes that ``indexing`` refers to. Default: the first ``len(indexing)`` axes.

    Examples
    --------
    >>> IndexExpression(5).expression                      # axial slice 5 of a (z, y, x) volume
    (5, slice(None, None, None))
    >>> IndexExpression([(0, 32), (16, 48)], axis=(1, 2)).expression
    (slice(None, None, None), slice(0, 32, None), slice(16, 48, None))
    """

    def __init__(
        self,
        indexing: int | tuple[int, int] | Sequence[int | tuple[int, int]] | None = None,
        axis: int | Sequence[int] | None = None,
    ) -> None:
        self.expression: tuple[slice | int, ...] = ()
        self.set_indexing(indexing, axis)

    def set_indexing(
        self,
        indexing: int | tuple[int, int] | Sequence[int | tuple[int, int]] | None,
        axis: int | Sequence[int] | None = None,
    ) -> None:
        """Set the expression from the 0.3.4 ``(indexing, axis)`` form (see the class docstring)."""
        if indexing is None:
            self.expression = (slice(None),)
            return
        if isinstance(indexing, int) or (
            isinstance(indexing, tuple) and len(indexing) == 2 and all(isinstance(v, int) for v in indexing)
        ):
            indexing = [indexing]  # type: ignore[list-item]
        indexing = list(indexing)  # type: ignore[arg-type]
        if axis is None:
            axis = tuple(range(len(indexing)))
        elif isinstance(axis, int):
            axis = (axis,)
        axis = tuple(axis)
        expression: list[slice | int] = [slice(None)] * (max(axis) + 1)
        for a, index in zip(axis, indexing):
            if isinstance(index, int):
                expression[a] = index
            else:
                start, stop = index
                expression[a] = slice(start, stop)
        self.expression = tuple(expression)

    @classmethod
    def from_box(cls, box: Sequence[tuple[int, int]], squeeze_axes: Sequence[int] = ()) -> IndexExpression:
        """Build an expression from ``(start, stop)`` per axis; axes in ``squeeze_axes`` become ints.

        A squeezed axis must have ``stop == start + 1``.
        """
        expression: list[slice | int] = []
        for a, (start, stop) in enumerate(box):
            if a in squeeze_axes:
                if stop != start + 1:
                    raise ValueError(f"squeezed axis {a} must have extent 1, got ({start}, {stop})")
                expression.append(int(start))
            else:
                expression.append(slice(int(start), int(stop)))
        obj = cls.__new__(cls)
        obj.expression = tuple(expression)
        return obj

    def get_indexing(self) -> list[int | tuple[int, int] | None]:
        """Return the 0.3.4 form: per axis an int, a ``(start, stop)`` pair, or ``None`` (everything)."""
        indexing: list[int | tuple[int, int] | None] = []
        for e in self.expression:
            if isinstance(e, int):
                indexing.append(e)
            elif e.start is None and e.stop is None:
                indexing.append(None)
            else:
                indexing.append((e.start, e.stop))
        return indexing

    def box(self, shape: Sequence[int]) -> Box:
        """Return ``(start, stop)`` per axis of a volume of ``shape`` (open ends filled from ``shape``)."""
        box = []
        for a, size in enumerate(shape):
            e = self.expression[a] if a < len(self.expression) else slice(None)
            if isinstance(e, int):
                box.append((e, e + 1))
            else:
                start = 0 if e.start is None else e.start
                stop = size if e.stop is None else e.stop
                box.append((start, stop))
        return tuple(box)

    @property
    def squeeze_axes(self) -> tuple[int, ...]:
        """Axes indexed by an integer: they are absent from the extracted sample."""
        return tuple(a for a, e in enumerate(self.expression) if isinstance(e, int))

    def clip(self, shape: Sequence[int]) -> tuple[tuple[slice, ...], tuple[slice, ...]]:
        """Split the box into its part inside a volume of ``shape`` and that part's place in the sample.

        Returns
        -------
        source : tuple of slice
            Slices of the volume (all inside ``shape``), one per axis of ``shape``.
        target : tuple of slice
            Slices of a sample buffer of the full (unclipped) box size where ``source`` belongs.
        """
        source, target = [], []
        for (start, stop), size in zip(self.box(shape), shape):
            lo, hi = max(start, 0), min(stop, size)
            hi = max(hi, lo)
            source.append(slice(lo, hi))
            target.append(slice(lo - start, hi - start))
        return tuple(source), tuple(target)

    def is_inside(self, shape: Sequence[int]) -> bool:
        """Whether the whole box lies inside a volume of ``shape``."""
        return all(start >= 0 and stop <= size for (start, stop), size in zip(self.box(shape), shape))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, IndexExpression):
            return NotImplemented
        return self.expression == other.expression

    def __hash__(self) -> int:
        return hash(tuple((e.start, e.stop) if isinstance(e, slice) else e for e in self.expression))

    def __repr__(self) -> str:
        return f"IndexExpression({self.get_indexing()})"
