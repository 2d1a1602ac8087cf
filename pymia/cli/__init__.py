"""Command-line entry points: ``pymia-create-dataset``, ``pymia-evaluate``, ``pymia-example-data``."""
