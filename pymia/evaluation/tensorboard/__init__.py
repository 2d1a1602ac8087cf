"""Log evaluation results and segmentation overlays to TensorBoard (PyTorch, TensorFlow or neither).

>>> from pymia.evaluation.tensorboard import TensorBoardLogger   # doctest: +SKIP
>>> logger = TensorBoardLogger("runs/unet")                       # doctest: +SKIP
>>> logger.log_results(evaluator.results, step=epoch, prefix="validation")  # doctest: +SKIP
"""

from pymia.evaluation.tensorboard.backends import (
    EventFileBackend,
    SummaryBackend,
    SummaryWriterBackend,
    TensorFlowBackend,
    create_backend,
)
from pymia.evaluation.tensorboard.logger import TensorBoardLogger, sanitize_tag
from pymia.evaluation.tensorboard.overlay import LABEL_COLORS, overlay_slices, select_slice
from pymia.evaluation.tensorboard.png import encode_png

__all__ = [
    "LABEL_COLORS",
    "EventFileBackend",
    "SummaryBackend",
    "SummaryWriterBackend",
    "TensorBoardLogger",
    "TensorFlowBackend",
    "create_backend",
    "encode_png",
    "overlay_slices",
    "sanitize_tag",
    "select_slice",
]
