"""``python -m adapters``: same as ``padit-adapters``."""

import sys

from adapters.cli import main

sys.exit(main())
