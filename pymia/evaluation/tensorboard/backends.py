"""Summary writers behind one small interface, so pymia logs to TensorBoard from any framework.

Three backends cover the ways event files get written: the ``tensorboard`` package alone
(:class:`EventFileBackend`, no deep-learning framework imported), a PyTorch or tensorboardX
``SummaryWriter`` (:class:`SummaryWriterBackend`) and TensorFlow's ``tf.summary``
(:class:`TensorFlowBackend`). :func:`create_backend` picks one from a directory or wraps a writer object.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import time
from typing import Any, Protocol, runtime_checkable

import numpy as np

from pymia.errors import InvalidInputError, MissingDependencyError
from pymia.evaluation.tensorboard.png import encode_png

__all__ = [
    "EventFileBackend",
    "SummaryBackend",
    "SummaryWriterBackend",
    "TensorFlowBackend",
    "create_backend",
]


@runtime_checkable
class SummaryBackend(Protocol):
    """What the logger needs from a summary writer.

    ``image`` is always a ``uint8`` array of shape (H, W, 3).
    """

    def add_scalar(self, tag: str, value: float, step: int) -> None: ...

    def add_image(self, tag: str, image: np.ndarray, step: int) -> None: ...

    def flush(self) -> None: ...

    def close(self) -> None: ...


class EventFileBackend:
    """Write event files with the ``tensorboard`` package only (no PyTorch, no TensorFlow).

    Scalars are stored as classic ``simple_value`` summaries and images as PNG, the formats the
    scalar and image dashboards read. The records are written synchronously into a local file
    ``events.out.tfevents.<time>.<host>.<pid>.pymia`` (TensorBoard's own writer would import
    TensorFlow whenever it is installed, which costs seconds).

    Parameters
    ----------
    log_dir : str or os.PathLike
        Local directory of the run; created if missing.
    """

    def __init__(self, log_dir: str | os.PathLike) -> None:
        try:
            from tensorboard.compat.proto import event_pb2, summary_pb2
            from tensorboard.summary.writer.record_writer import RecordWriter
        except ImportError as error:
            raise MissingDependencyError(
                "writing TensorBoard event files without PyTorch or TensorFlow needs the `tensorboard` "
                "package; install it with `pip install pymia[tensorboard]`"
            ) from error
        self._event_pb2 = event_pb2
        self._summary_pb2 = summary_pb2
        os.makedirs(log_dir, exist_ok=True)
        self.log_dir = os.fspath(log_dir)
        name = f"events.out.tfevents.{time.time():.6f}.{socket.gethostname()}.{os.getpid()}.pymia"
        self.path = os.path.join(self.log_dir, name)
        self._records = RecordWriter(open(self.path, "wb"))  # noqa: SIM115 - closed in close()
        self._write(self._event_pb2.Event(wall_time=time.time(), file_version="brain.Event:2"))
        self._records.flush()

    def _write(self, event: Any) -> None:
        self._records.write(event.SerializeToString())

    def _emit(self, value: Any, step: int) -> None:
        summary = self._summary_pb2.Summary(value=[value])
        self._write(self._event_pb2.Event(wall_time=time.time(), step=int(step), summary=summary))

    def add_scalar(self, tag: str, value: float, step: int) -> None:
        """Write one scalar ``value`` under ``tag`` at ``step``."""
        self._emit(self._summary_pb2.Summary.Value(tag=tag, simple_value=float(value)), step)

    def add_image(self, tag: str, image: np.ndarray, step: int) -> None:
        """Write one RGB ``uint8`` image of shape (H, W, 3) under ``tag`` at ``step``."""
        height, width = image.shape[:2]
        encoded = self._summary_pb2.Summary.Image(
            height=height, width=width, colorspace=3, encoded_image_string=encode_png(image)
        )
        self._emit(self._summary_pb2.Summary.Value(tag=tag, image=encoded), step)

    def flush(self) -> None:
        """Write buffered events to disk."""
        self._records.flush()

    def close(self) -> None:
        """Flush and close the event file (a second call does nothing)."""
        if not self._records.closed:
            self._records.close()


class _WrappedWriter:
    """Flushing and closing shared by the backends that wrap a framework's writer."""

    writer: Any
    owns_writer: bool

    def flush(self) -> None:
        """Write buffered events to disk."""
        self.writer.flush()

    def close(self) -> None:
        """Flush, and close the wrapped writer if this backend owns it."""
        if self.owns_writer:
            self.writer.close()
        else:
            self.writer.flush()


class SummaryWriterBackend(_WrappedWriter):
    """Wrap a ``torch.utils.tensorboard.SummaryWriter`` or a ``tensorboardX.SummaryWriter``.

    Parameters
    ----------
    writer : SummaryWriter
        Any object with ``add_scalar(tag, value, step)`` and
        ``add_image(tag, image, step, dataformats='HWC')``; it stays owned by the caller, so
        :meth:`close` only flushes it unless ``owns_writer`` is true.
    owns_writer : bool, optional
        Close ``writer`` in :meth:`close` (default ``False``).
    """

    def __init__(self, writer: Any, *, owns_writer: bool = False) -> None:
        self.writer = writer
        self.owns_writer = owns_writer

    def add_scalar(self, tag: str, value: float, step: int) -> None:
        """Write one scalar ``value`` under ``tag`` at ``step``."""
        self.writer.add_scalar(tag, float(value), int(step))

    def add_image(self, tag: str, image: np.ndarray, step: int) -> None:
        """Write one RGB ``uint8`` image of shape (H, W, 3) under ``tag`` at ``step``."""
        self.writer.add_image(tag, image, int(step), dataformats="HWC")


class TensorFlowBackend(_WrappedWriter):
    """Write through ``tf.summary`` into a TensorFlow summary file writer.

    Parameters
    ----------
    writer : tf.summary.SummaryWriter
        A writer from ``tf.summary.create_file_writer(log_dir)``.
    owns_writer : bool, optional
        Close ``writer`` in :meth:`close` (default ``False``).
    """

    def __init__(self, writer: Any, *, owns_writer: bool = False) -> None:
        import tensorflow as tf  # the writer exists, so TensorFlow is installed

        self._tf = tf
        self.writer = writer
        self.owns_writer = owns_writer

    def add_scalar(self, tag: str, value: float, step: int) -> None:
        """Write one scalar ``value`` under ``tag`` at ``step``."""
        with self.writer.as_default():
            self._tf.summary.scalar(tag, float(value), step=int(step))

    def add_image(self, tag: str, image: np.ndarray, step: int) -> None:
        """Write one RGB ``uint8`` image of shape (H, W, 3) under ``tag`` at ``step``."""
        with self.writer.as_default():
            self._tf.summary.image(tag, image[np.newaxis], step=int(step))


_FRAMEWORKS = ("auto", "tensorboard", "torch", "tensorboardX", "tensorflow")


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def _from_log_dir(log_dir: str | os.PathLike, framework: str) -> SummaryBackend:
    if framework == "auto":
        # Prefer writers that import no deep-learning framework: logging must stay cheap.
        for candidate in ("tensorboard", "tensorboardX", "tensorflow"):
            if _installed(candidate):
                return _from_log_dir(log_dir, candidate)
        raise MissingDependencyError(
            "no TensorBoard writer is installed (looked for tensorboard, tensorboardX, tensorflow); "
            "install one with `pip install pymia[tensorboard]`"
        )
    if framework == "tensorboard":
        return EventFileBackend(log_dir)
    if framework == "torch":
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError as error:
            raise MissingDependencyError(
                "framework='torch' needs PyTorch and the `tensorboard` package; install them with "
                "`pip install pymia[torch,tensorboard]`"
            ) from error
        return SummaryWriterBackend(SummaryWriter(log_dir=os.fspath(log_dir)), owns_writer=True)
    if framework == "tensorboardX":
        try:
            import tensorboardX
        except ImportError as error:
            raise MissingDependencyError("framework='tensorboardX' needs `pip install tensorboardX`") from error
        return SummaryWriterBackend(tensorboardX.SummaryWriter(logdir=os.fspath(log_dir)), owns_writer=True)
    try:
        import tensorflow as tf
    except ImportError as error:
        raise MissingDependencyError(
            "framework='tensorflow' needs TensorFlow; install it with `pip install pymia[tf]`"
        ) from error
    return TensorFlowBackend(tf.summary.create_file_writer(os.fspath(log_dir)), owns_writer=True)


def create_backend(target: Any, *, framework: str = "auto") -> SummaryBackend:
    """Return a summary backend for a run directory or for a writer object.

    Parameters
    ----------
    target : str, os.PathLike or writer
        A run directory (a new writer is created there), a ``SummaryWriter`` of PyTorch or
        tensorboardX, a ``tf.summary`` file writer, or an object that already implements
        :class:`SummaryBackend`.
    framework : {'auto', 'tensorboard', 'torch', 'tensorboardX', 'tensorflow'}, optional
        Which writer to create for a directory. ``'auto'`` (default) takes the first installed of
        ``tensorboard`` (no framework imported), ``tensorboardX`` and ``tensorflow``.
        Ignored when ``target`` is a writer object.

    Returns
    -------
    SummaryBackend
        Backends created here for a directory own their writer; wrapped writer objects stay open on
        :meth:`~SummaryBackend.close` (they are only flushed).
    """
    if framework not in _FRAMEWORKS:
        raise InvalidInputError(f"framework must be one of {_FRAMEWORKS}, got {framework!r}")
    if isinstance(target, (str, os.PathLike)):
        return _from_log_dir(target, framework)
    module = type(target).__module__
    if module.startswith(("torch.", "tensorboardX")):
        return SummaryWriterBackend(target)
    if module.startswith("tensorflow"):
        return TensorFlowBackend(target)
    if isinstance(target, SummaryBackend):
        return target
    raise InvalidInputError(
        f"cannot log to {type(target).__name__!r}: pass a run directory, a torch/tensorboardX "
        "SummaryWriter, a tf.summary file writer or an object with add_scalar, add_image, flush and close"
    )
