"""pymia 0.3.4's ``get_tf_generator``: a plain generator of samples for ``tf.data.Dataset.from_generator``.

Kept for existing scripts. It reads one sample after the other in one Python thread; new code uses
:func:`~pymia.data.backends.tensorflow.create_tf_dataset`, which reads in parallel and infers the
output signature.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

__all__ = ["get_tf_generator"]


def get_tf_generator(datasource: Any) -> Callable[[], Iterator[dict]]:
    """Return a function that yields every sample of ``datasource`` in order.

    Parameters
    ----------
    datasource : PymiaDatasource
        Any object with ``__len__`` and ``__getitem__``.

    Returns
    -------
    callable
        ``generator()`` yielding sample dictionaries, for
        ``tf.data.Dataset.from_generator(generator, output_signature=...)``; the dictionaries must
        only hold entries the signature describes (extract what you need).
    """

    def generator() -> Iterator[dict]:
        for index in range(len(datasource)):
            yield datasource[index]

    return generator
