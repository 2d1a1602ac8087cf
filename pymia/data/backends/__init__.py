"""Adapters that feed pymia samples to deep-learning frameworks.

:mod:`pymia.data.backends.pytorch` (a map-style ``Dataset``, collate, samplers, worker seeding) and
:mod:`pymia.data.backends.tensorflow` (a parallel ``tf.data`` pipeline) import their framework when
they are imported, never before; :mod:`~pymia.data.backends.sharding` and
:mod:`~pymia.data.backends.batching` are framework-free and shared by both.
"""
