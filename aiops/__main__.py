"""`python -m aiops` runs the command line."""

import sys

from aiops.cli import main

sys.exit(main())
