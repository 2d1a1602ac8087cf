"""``python -m pymia.datasets``: the same as the ``pymia-example-data`` command."""

import sys

from pymia.datasets.cli import main

sys.exit(main())
