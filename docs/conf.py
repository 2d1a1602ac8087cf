"""Sphinx configuration of the pymia documentation (built with warnings as errors by the test command)."""

import pymia

project = "pymia"
author = "pymia developers"
copyright = "2026, the pymia developers"
release = pymia.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.viewcode",
    "sphinx.ext.mathjax",
    "numpydoc",
]

# numpydoc: class members are listed by autodoc, not numpydoc (avoids duplicate-object warnings).
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
autodoc_default_options = {"members": True, "show-inheritance": True}
autodoc_typehints = "none"  # types are written in the numpydoc "Parameters" sections
# Optional frameworks are imported lazily by pymia; mock them so the API pages build without them.
autodoc_mock_imports = ["torch", "tensorflow", "tensorboard", "tensorboardX"]

exclude_patterns = ["_build"]
html_theme = "furo"
html_title = f"pymia {release}"
html_static_path = ["_static"]
# The build runs offline, so no intersphinx inventories are fetched.
intersphinx_mapping: dict = {}
nitpicky = False
