"""pymia: data handling on HDF5 and evaluation for deep-learning medical image analysis.

The package has two halves: :mod:`pymia.data` (raw files → one HDF5 dataset → samples for a
deep-learning framework → assembled volumes) and :mod:`pymia.evaluation` (metrics, evaluators,
writers). Importing :mod:`pymia` is cheap and never imports torch or tensorflow.
"""

__version__ = "1.0.0.dev0"

from pymia.errors import PymiaError, PymiaWarning

__all__ = ["PymiaError", "PymiaWarning", "__version__"]
