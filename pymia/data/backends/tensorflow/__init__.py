"""TensorFlow adapter: pymia samples as a parallel ``tf.data.Dataset``.

Importing this package imports TensorFlow (and fails with :class:`~pymia.errors.MissingDependencyError`
naming the ``tf`` extra when it is missing); ``import pymia`` never does.

>>> from pymia.data.backends.tensorflow import create_tf_dataset          # doctest: +SKIP
>>> dataset = create_tf_dataset(datasource, batch_size=16, shuffle=True, seed=0)  # doctest: +SKIP
>>> for batch in dataset:                                                 # doctest: +SKIP
...     images = batch["images"]                                          # (16, Y, X, C) tf.float32
"""

try:
    import tensorflow  # noqa: F401 - fail early with a clear message
except ImportError as error:  # pragma: no cover - tensorflow is installed in the test environment
    from pymia.errors import MissingDependencyError

    raise MissingDependencyError(
        "pymia.data.backends.tensorflow needs TensorFlow; install it with `pip install pymia[tf]`"
    ) from error

from pymia.data.backends.tensorflow.dataset import create_tf_dataset, distributed_dataset_fn
from pymia.data.backends.tensorflow.generator import get_tf_generator
from pymia.data.backends.tensorflow.signature import SampleSignature, infer_signature

__all__ = [
    "SampleSignature",
    "create_tf_dataset",
    "distributed_dataset_fn",
    "get_tf_generator",
    "infer_signature",
]
